//! SSH analyzer: identification strings, KEXINIT algorithms, HASSH, host key.
//!
//! Follows one SSH connection up to the end of the first key exchange and
//! stops before anything encrypted (RFC 4253):
//! - both identification lines (`SSH-2.0-OpenSSH_9.6`; a server may send up to
//!   [`MAX_PRE_BANNER`] other lines first, RFC 4253 §4.2);
//! - each side's SSH_MSG_KEXINIT (RFC 4253 §7.1): the negotiated key exchange,
//!   host key, cipher, MAC and compression algorithms (first client choice
//!   the server also lists), and the HASSH / HASSH-server fingerprints
//!   (Salesforce HASSH: MD5 of `kex;ciphers;macs;compression` as sent);
//! - the server's key-exchange reply (RFC 4253 §8, RFC 5656 §4, RFC 4419 §3),
//!   whose first field is the host key blob: its SHA-256 becomes
//!   `host_key_fingerprint` the way OpenSSH prints it.
//!
//! Field values follow Zeek's ssh.log: `client`/`server` are the whole
//! identification lines, `version` is 1 or 2 once both lines are seen.
//! SSH-1 connections (RFC-less `1.x` other than `1.99`) stop after the banners.
//!
//! Bounded: lines are at most 255 bytes, packets at most [`MAX_PACKET`]
//! bytes (left in the engine's buffer until complete), and only
//! [`MAX_KEPT_LIST`] bytes of each client name-list are kept for negotiation.

pub mod wire;

use analyzer_api::{Analyzer, ByteSet, Out, Probe, Progress, Protocol};
use md5::{Digest, Md5};
use model::records::SshRecord;
use model::{text, Direction, Transport};
use sha2::Sha256;
use wire::{Line, Packet, ProtoVersion};

/// Non-identification lines a side may send before its identification line.
pub const MAX_PRE_BANNER: u8 = 64;
/// Largest unencrypted packet followed (RFC 4253 §6.1 asks for 35000; KEXINITs
/// with long algorithm lists get some slack).
pub const MAX_PACKET: usize = 64 * 1024;
/// Bytes of each name-list kept for negotiation (cut at a comma).
pub const MAX_KEPT_LIST: usize = 2048;
/// Names of a list looked at when negotiating.
const MAX_NAMES: usize = 128;
/// Unencrypted packets read per side before giving up on the key exchange.
const MAX_PACKETS: u8 = 16;

/// The SSH protocol.
pub struct Ssh;

impl Protocol for Ssh {
    fn name(&self) -> &'static str {
        "ssh"
    }

    fn transports(&self) -> &'static [Transport] {
        &[Transport::Tcp]
    }

    fn ports(&self) -> &'static [u16] {
        &[22, 2222]
    }

    fn probe(&self, dir: Direction, data: &[u8], port_hint: bool) -> Probe {
        if data.is_empty() {
            return Probe::NeedMore;
        }
        match wire::starts_like_ident(data) {
            Some(true) => return Probe::Match,
            None => return Probe::NeedMore,
            Some(false) => {}
        }
        // A server on an SSH port may print other text lines first.
        if dir == Direction::ToClient && port_hint {
            return probe_pre_banner(data);
        }
        Probe::NoMatch
    }

    /// `SSH-` (other lines first only on SSH ports).
    fn first_bytes(&self) -> ByteSet {
        ByteSet::of(b"S")
    }

    fn start(&self) -> Box<dyn Analyzer> {
        Box::new(SshAnalyzer::default())
    }
}

/// Looks for an identification line after at most [`MAX_PRE_BANNER`] printable
/// text lines.
fn probe_pre_banner(mut data: &[u8]) -> Probe {
    for _ in 0..=MAX_PRE_BANNER {
        match wire::starts_like_ident(data) {
            Some(true) => return Probe::Match,
            None => return Probe::NeedMore,
            Some(false) => {}
        }
        match wire::line(data) {
            Line::Complete(l, used) => {
                if !l.iter().all(|&b| b == b'\t' || (b' '..=b'~').contains(&b)) {
                    return Probe::NoMatch;
                }
                data = &data[used..];
            }
            Line::Partial
                if data
                    .iter()
                    .all(|&b| b == b'\t' || b == b'\r' || (b' '..=b'~').contains(&b)) =>
            {
                return Probe::NeedMore
            }
            _ => return Probe::NoMatch,
        }
    }
    Probe::NoMatch
}

/// Where one direction of the connection is.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// Reading lines until the identification line.
    #[default]
    Banner,
    /// Reading unencrypted binary packets.
    Packets,
    /// Nothing more to learn: encrypted, SSH-1, or malformed. Bytes are dropped.
    Ignore,
}

/// One direction of the connection.
#[derive(Default)]
struct Side {
    phase: Phase,
    /// Lines seen before the identification line.
    pre_banner: u8,
    /// Unencrypted packets seen.
    packets: u8,
    /// The identification line (cleaned, capped).
    ident: Option<String>,
    proto: Option<ProtoVersion>,
    /// The KEXINIT, reduced to what negotiation and HASSH need.
    kex: Option<KexLists>,
}

/// A side's KEXINIT name-lists (each cut to [`MAX_KEPT_LIST`] bytes) and its
/// HASSH, computed from the complete lists.
struct KexLists {
    kex: Vec<u8>,
    host_key: Vec<u8>,
    enc: [Vec<u8>; 2],
    mac: [Vec<u8>; 2],
    comp: [Vec<u8>; 2],
    /// HASSH (client) or HASSH-server.
    hassh: String,
}

impl KexLists {
    fn new(k: &wire::KexInit<'_>, client: bool, out: &mut Out<'_>) -> Self {
        // HASSH uses the client-to-server lists; HASSH-server the server-to-client ones.
        let (enc, mac, comp) = if client {
            (k.enc_c2s, k.mac_c2s, k.comp_c2s)
        } else {
            (k.enc_s2c, k.mac_s2c, k.comp_s2c)
        };
        let mut h = Md5::new();
        h.update(k.kex);
        h.update(b";");
        h.update(enc);
        h.update(b";");
        h.update(mac);
        h.update(b";");
        h.update(comp);
        let hassh = wire::hex(&h.finalize());
        let mut cut = false;
        let mut keep = |l: &[u8]| {
            if l.len() <= MAX_KEPT_LIST {
                return l.to_vec();
            }
            cut = true;
            let end = l[..MAX_KEPT_LIST]
                .iter()
                .rposition(|&b| b == b',')
                .unwrap_or(0);
            l[..end].to_vec()
        };
        let lists = KexLists {
            kex: keep(k.kex),
            host_key: keep(k.host_key),
            enc: [keep(k.enc_c2s), keep(k.enc_s2c)],
            mac: [keep(k.mac_c2s), keep(k.mac_s2c)],
            comp: [keep(k.comp_c2s), keep(k.comp_s2c)],
            hassh,
        };
        if cut {
            out.weird("ssh_kexinit_list_too_long");
        }
        lists
    }
}

/// Per-connection state.
#[derive(Default)]
struct SshAnalyzer {
    /// `[to server (client's bytes), to client (server's bytes)]`.
    sides: [Side; 2],
    /// Server host key fingerprint from the key-exchange reply.
    host_key_fingerprint: Option<String>,
    /// The record was emitted.
    emitted: bool,
}

fn idx(dir: Direction) -> usize {
    (dir == Direction::ToClient) as usize
}

impl Analyzer for SshAnalyzer {
    fn feed(&mut self, dir: Direction, data: &[u8], out: &mut Out<'_>) -> Progress {
        let i = idx(dir);
        let used = match self.sides[i].phase {
            Phase::Banner => self.banner(i, data, out),
            Phase::Packets => self.packet(i, data, out),
            Phase::Ignore => data.len(),
        };
        if self.complete() {
            return Progress::Done;
        }
        Progress::Consumed(used)
    }

    fn gap(&mut self, dir: Direction, _len: u64, out: &mut Out<'_>) -> Progress {
        out.weird("content_gap");
        self.sides[idx(dir)].phase = Phase::Ignore;
        if self.sides.iter().all(|s| s.phase == Phase::Ignore) {
            Progress::Done
        } else {
            Progress::Consumed(0)
        }
    }

    fn finish(&mut self, out: &mut Out<'_>) {
        if self.emitted {
            return;
        }
        self.emitted = true;
        let [c, s] = &self.sides;
        if c.ident.is_none() && s.ident.is_none() {
            return;
        }
        let mut r = SshRecord {
            version: self.version(),
            client: c.ident.clone(),
            server: s.ident.clone(),
            hassh: c.kex.as_ref().map(|k| k.hassh.clone()),
            hassh_server: s.kex.as_ref().map(|k| k.hassh.clone()),
            host_key_fingerprint: self.host_key_fingerprint.clone(),
            ..SshRecord::default()
        };
        if let (Some(ck), Some(sk)) = (&c.kex, &s.kex) {
            let one = |c: &[u8], s: &[u8]| wire::negotiate(c, s, MAX_NAMES).map(text::field);
            let both =
                |c: &[Vec<u8>; 2], s: &[Vec<u8>; 2]| match (one(&c[0], &s[0]), one(&c[1], &s[1])) {
                    (Some(a), Some(b)) if a == b => Some(a),
                    (a, b) => Some(format!(
                        "To server: {}, to client: {}",
                        a.as_deref().unwrap_or("-"),
                        b.as_deref().unwrap_or("-")
                    )),
                };
            r.kex_alg = one(&ck.kex, &sk.kex);
            r.host_key_alg = one(&ck.host_key, &sk.host_key);
            r.cipher_alg = both(&ck.enc, &sk.enc);
            r.mac_alg = both(&ck.mac, &sk.mac);
            r.compression_alg = both(&ck.comp, &sk.comp);
            if r.kex_alg.is_none() || r.host_key_alg.is_none() {
                out.weird("ssh_algorithm_negotiation_failed");
            }
        }
        out.emit(r);
    }
}

impl SshAnalyzer {
    /// Protocol version once both identification lines are known (Zeek: a
    /// 1.x side other than 1.99 makes it SSH-1).
    fn version(&self) -> Option<u8> {
        let (Some(c), Some(s)) = (self.sides[0].proto, self.sides[1].proto) else {
            return None;
        };
        match (c, s) {
            (ProtoVersion::V1, _) | (_, ProtoVersion::V1) => Some(1),
            (ProtoVersion::Unknown, _) | (_, ProtoVersion::Unknown) => None,
            _ => Some(2),
        }
    }

    /// Nothing more to learn from either side.
    fn complete(&self) -> bool {
        let [c, s] = &self.sides;
        let ignored = c.phase == Phase::Ignore && s.phase == Phase::Ignore;
        let learned = c.kex.is_some()
            && s.kex.is_some()
            && (self.host_key_fingerprint.is_some() || s.phase == Phase::Ignore);
        ignored || learned || self.version() == Some(1)
    }

    /// Reads one line of side `i`.
    fn banner(&mut self, i: usize, data: &[u8], out: &mut Out<'_>) -> usize {
        let side = &mut self.sides[i];
        match wire::line(data) {
            Line::Partial => 0,
            Line::TooLong => {
                out.weird("ssh_banner_too_long");
                side.phase = Phase::Ignore;
                data.len()
            }
            Line::Complete(l, used) => {
                match wire::ident(l) {
                    Some(id) => {
                        let proto = ProtoVersion::parse(id.proto);
                        if proto == ProtoVersion::Unknown {
                            out.weird("ssh_unknown_protocol_version");
                        }
                        side.ident = Some(text::field(id.line));
                        side.proto = Some(proto);
                        side.phase = if proto == ProtoVersion::V1 {
                            Phase::Ignore
                        } else {
                            Phase::Packets
                        };
                    }
                    None => {
                        side.pre_banner += 1;
                        if i == 0 && side.pre_banner == 1 {
                            out.weird("ssh_client_pre_banner_data");
                        }
                        if side.pre_banner > MAX_PRE_BANNER {
                            out.weird("ssh_no_banner");
                            side.phase = Phase::Ignore;
                            return data.len();
                        }
                    }
                }
                used
            }
        }
    }

    /// Reads one unencrypted binary packet of side `i`.
    fn packet(&mut self, i: usize, data: &[u8], out: &mut Out<'_>) -> usize {
        // A 1.99 side speaks SSH-1 if the peer turns out to be SSH-1: wait
        // for the peer's identification before reading binary packets.
        if self.sides[i].proto == Some(ProtoVersion::V199) && self.sides[1 - i].proto.is_none() {
            return 0;
        }
        if self.version() == Some(1) {
            self.sides[i].phase = Phase::Ignore;
            return data.len();
        }
        let (payload, used) = match wire::packet(data, MAX_PACKET) {
            Packet::Partial => return 0,
            Packet::Bad => {
                out.weird("ssh_bad_packet_length");
                self.sides[i].phase = Phase::Ignore;
                return data.len();
            }
            Packet::Complete(p, used) => (p, used),
        };
        let side = &mut self.sides[i];
        side.packets = side.packets.saturating_add(1);
        match payload.first().copied() {
            Some(wire::MSG_KEXINIT) if side.kex.is_none() => match wire::kexinit(payload) {
                Some(k) => side.kex = Some(KexLists::new(&k, i == 0, out)),
                None => out.weird("ssh_bad_kexinit"),
            },
            Some(wire::MSG_NEWKEYS) | Some(wire::MSG_DISCONNECT) => side.phase = Phase::Ignore,
            Some(t @ (wire::MSG_KEX_REPLY | wire::MSG_KEX_GEX_REPLY))
                if i == 1 && self.host_key_fingerprint.is_none() =>
            {
                // In group exchange (RFC 4419) 31 is the group, 33 the reply.
                let gex = self.sides[0]
                    .kex
                    .as_ref()
                    .zip(self.sides[1].kex.as_ref())
                    .and_then(|(c, s)| wire::negotiate(&c.kex, &s.kex, MAX_NAMES))
                    .is_some_and(|k| k.starts_with(b"diffie-hellman-group-exchange"));
                if (t == wire::MSG_KEX_GEX_REPLY) == gex {
                    match payload.get(1..).and_then(wire::string) {
                        Some((key, _)) if !key.is_empty() => {
                            let digest = Sha256::digest(key);
                            self.host_key_fingerprint =
                                Some(format!("SHA256:{}", wire::base64_unpadded(&digest)));
                        }
                        _ => out.weird("ssh_bad_kex_reply"),
                    }
                }
            }
            _ => {}
        }
        let side = &mut self.sides[i];
        if side.packets >= MAX_PACKETS && side.phase == Phase::Packets {
            side.phase = Phase::Ignore;
        }
        used
    }
}

#[cfg(test)]
mod tests;
