//! SMB analyzer: dialect negotiation, NTLM identities and share paths.
//!
//! Handles SMB over TCP 445 (direct, RFC 1002 §4.3.1 session message framing
//! with a 24-bit length) and over NetBIOS session service on 139 (session
//! request/response messages 0x81..0x85 are skipped). Inside each session
//! message:
//! - SMB1 (`\xffSMB`, [MS-CIFS]/[MS-SMB]): NEGOTIATE dialect strings and the
//!   chosen index, SESSION_SETUP_ANDX native OS/LanMan strings and security
//!   blobs, TREE_CONNECT_ANDX paths (AndX chains followed);
//! - SMB2/3 (`\xfeSMB`, [MS-SMB2]): NEGOTIATE dialects and signing mode,
//!   SESSION_SETUP security blobs, TREE_CONNECT paths (compounds followed);
//! - NTLMSSP ([MS-NLMP]) in security blobs: server names and OS version from
//!   the CHALLENGE, user/domain/workstation from the AUTHENTICATE;
//! - an SMB3 TRANSFORM header (`\xfdSMB`) carries an encrypted message: it sets
//!   `encrypted` and is skipped. Analysis continues, because SMB3 encryption
//!   can be per share: a client may map IPC$ in clear after using an
//!   encrypted share on the same connection (Zeek's smb3.pcap does).
//!
//! Only frames whose first command is one of those above (or small SMB2
//! compounds) are buffered, up to [`MAX_MESSAGE`]; everything else (READ and
//! WRITE payloads in particular) is skipped by length as it streams, never
//! buffered.
//!
//! **Emission:** one [`SmbRecord`] per connection, in `finish()`, or earlier
//! when the analyzer gives up (unrecoverable framing, content gap), and only
//! if at least one SMB message was parsed.

mod bytes;
mod ntlm;
mod smb1;
mod smb2;

use analyzer_api::{Analyzer, ByteSet, Out, Probe, Progress, Protocol};
use bytes::{str_field, utf16_field};
use model::records::SmbRecord;
use model::{Direction, Transport};

/// Largest NetBIOS session message buffered for parsing; larger ones are skipped.
pub const MAX_MESSAGE: usize = 128 * 1024;
/// Largest SMB2 compound frame buffered when its first command is uninteresting.
const MAX_COMPOUND_BUFFERED: usize = 16 * 1024;
/// Bytes of an SMB header needed to decide whether to buffer a frame.
const PEEK: usize = 24;
/// Cap on offered dialects and tree paths kept.
const MAX_LIST: usize = 32;

/// The SMB protocol (`smb`, TCP 445 and 139).
pub struct Smb;

impl Protocol for Smb {
    fn name(&self) -> &'static str {
        "smb"
    }

    fn transports(&self) -> &'static [Transport] {
        &[Transport::Tcp]
    }

    fn ports(&self) -> &'static [u16] {
        &[445, 139]
    }

    fn probe(&self, _dir: Direction, data: &[u8], port_hint: bool) -> Probe {
        probe(data, port_hint)
    }

    /// A NetBIOS session message (a session request only on SMB ports).
    fn first_bytes(&self) -> ByteSet {
        ByteSet::of(&[0x00])
    }

    fn start(&self) -> Box<dyn Analyzer> {
        Box::new(SmbAnalyzer::default())
    }
}

/// Probe: a NetBIOS session message holding an SMB1/SMB2/SMB3 header, or (on
/// the SMB ports) a NetBIOS session request carrying encoded names.
fn probe(data: &[u8], port_hint: bool) -> Probe {
    let Some(&ty) = data.first() else {
        return Probe::NeedMore;
    };
    match ty {
        0x00 => {
            if data.len() < 8 {
                return Probe::NeedMore;
            }
            let len = u24(data);
            let magic = &data[4..8];
            if magic == smb1::MAGIC {
                // Header (32) + WordCount + ByteCount at least.
                return if len >= smb1::HEADER_LEN + 3 {
                    Probe::Match
                } else {
                    Probe::NoMatch
                };
            }
            if magic == smb2::MAGIC {
                if data.len() < 10 {
                    return Probe::NeedMore;
                }
                // StructureSize of the SMB2 header is always 64.
                return if len >= smb2::HEADER_LEN && data[8] == 64 && data[9] == 0 {
                    Probe::Match
                } else {
                    Probe::NoMatch
                };
            }
            if magic == smb2::TRANSFORM || magic == smb2::COMPRESSED {
                return if port_hint && len >= 52 {
                    Probe::Match
                } else {
                    Probe::NoMatch
                };
            }
            Probe::NoMatch
        }
        0x81 if port_hint => {
            // Session request: two level-2 encoded NetBIOS names (length 32, 'A'..'P').
            if data.len() < 6 {
                return Probe::NeedMore;
            }
            let len = u24(data);
            if (68..=600).contains(&len) && data[4] == 0x20 && (b'A'..=b'P').contains(&data[5]) {
                Probe::Match
            } else {
                Probe::NoMatch
            }
        }
        _ => Probe::NoMatch,
    }
}

/// The 24-bit length of a NetBIOS session header (caller checked 4 bytes).
fn u24(h: &[u8]) -> usize {
    match h {
        [_, a, b, c, ..] => (*a as usize) << 16 | (*b as usize) << 8 | *c as usize,
        _ => 0,
    }
}

fn dir_index(dir: Direction) -> usize {
    match dir {
        Direction::ToServer => 0,
        Direction::ToClient => 1,
    }
}

/// What to do with a NetBIOS session message after peeking at its header.
enum Frame {
    /// Buffer it fully and parse.
    Parse,
    /// Skip it by length.
    Skip,
    /// SMB3 transform header: an encrypted message, skipped.
    Encrypted,
    /// Not SMB.
    Unknown,
}

/// Per-connection SMB state.
#[derive(Default)]
pub struct SmbAnalyzer {
    rec: SmbRecord,
    /// Bytes still to skip per direction (0 = at a frame boundary).
    skip: [u64; 2],
    /// SMB1 dialect strings of the last NEGOTIATE request, for the response index.
    smb1_dialects: Vec<String>,
    /// The client offered at least one SMB1 NEGOTIATE.
    smb1_negotiate_seen: bool,
    /// The client's SMB1 NEGOTIATE offered an SMB2 dialect (`SMB 2.xxx`).
    smb1_offered_smb2: bool,
    /// Any SMB2 message was seen.
    smb2_seen: bool,
    /// At least one SMB message was parsed (there is something to emit).
    seen: bool,
    /// The record was emitted.
    emitted: bool,
}

impl SmbAnalyzer {
    fn classify(head: &[u8], len: usize) -> Frame {
        if head.starts_with(smb1::MAGIC) {
            return match head.get(4) {
                Some(&(smb1::NEGOTIATE | smb1::SESSION_SETUP_ANDX | smb1::TREE_CONNECT_ANDX)) => {
                    Frame::Parse
                }
                _ => Frame::Skip,
            };
        }
        if head.starts_with(smb2::TRANSFORM) {
            return Frame::Encrypted;
        }
        if head.starts_with(smb2::COMPRESSED) {
            return Frame::Skip;
        }
        match smb2::peek(head) {
            Some((smb2::NEGOTIATE | smb2::SESSION_SETUP | smb2::TREE_CONNECT, _)) => Frame::Parse,
            Some((_, next)) if next != 0 && len <= MAX_COMPOUND_BUFFERED => Frame::Parse,
            Some(_) => Frame::Skip,
            None if head.starts_with(smb2::MAGIC) => Frame::Skip,
            None => Frame::Unknown,
        }
    }

    fn flush(&mut self, out: &mut Out<'_>) {
        if self.seen && !self.emitted {
            self.emitted = true;
            if self.smb1_negotiate_seen && !self.smb1_offered_smb2 && !self.smb2_seen {
                self.rec.smb1 = true;
            }
            out.emit(std::mem::take(&mut self.rec));
        }
    }

    fn stop(&mut self, out: &mut Out<'_>) -> Progress {
        self.flush(out);
        Progress::Done
    }

    /// Handles one complete session message (`msg` starts at the SMB header).
    fn message(&mut self, msg: &[u8], out: &mut Out<'_>) {
        if msg.starts_with(smb1::MAGIC) {
            self.smb1_message(msg, out);
        } else {
            self.smb2_frame(msg, out);
        }
    }

    fn smb1_message(&mut self, msg: &[u8], out: &mut Out<'_>) {
        let Some(h) = smb1::header(msg) else {
            out.weird("smb1_truncated_header");
            return;
        };
        self.seen = true;
        if h.is_reply() || h.command != smb1::NEGOTIATE {
            self.rec.smb1 = true;
        }
        let unicode = h.unicode();
        let ok = h.status == 0 || h.status == smb2::STATUS_MORE_PROCESSING;
        let (blocks, problem) = smb1::blocks(msg, h.command);
        for b in blocks {
            match (b.command, h.is_reply()) {
                (smb1::NEGOTIATE, false) => {
                    self.smb1_negotiate_seen = true;
                    self.smb1_dialects.clear();
                    for d in smb1::negotiate_dialects(b.bytes) {
                        let name = model::text::field(d);
                        if name.starts_with("SMB 2.") {
                            self.smb1_offered_smb2 = true;
                        }
                        self.smb1_dialects.push(name.clone());
                        push_unique(&mut self.rec.offered_dialects, name);
                    }
                }
                (smb1::NEGOTIATE, true) if h.status == 0 => match smb1::negotiate_response(&b) {
                    Some((index, mode)) => {
                        if let Some(d) = self.smb1_dialects.get(index as usize) {
                            self.rec.dialect = Some(d.clone());
                        } else if index != 0xffff {
                            out.weird("smb1_bad_dialect_index");
                        }
                        if let Some(mode) = mode {
                            self.rec.signing_required = Some(mode & 0x08 != 0);
                        }
                        // Without extended security the server names itself here
                        // (there is no NTLM challenge to read it from).
                        if let Some((domain, server)) = smb1::negotiate_names(&h, &b) {
                            if self.rec.server_nb_name.is_none() {
                                self.rec.server_nb_name = str_field(server, unicode);
                            }
                            if self.rec.server_nb_domain.is_none() {
                                self.rec.server_nb_domain = str_field(domain, unicode);
                            }
                        }
                    }
                    None => out.weird("smb1_bad_negotiate_response"),
                },
                (smb1::SESSION_SETUP_ANDX, reply) if ok => {
                    match smb1::session_setup(msg, &b, reply, unicode) {
                        Some(s) => {
                            let (os, lanman) = (
                                str_field(s.native_os, unicode),
                                str_field(s.native_lanman, unicode),
                            );
                            if reply {
                                self.rec.native_os = self.rec.native_os.take().or(os);
                                self.rec.native_lanman = self.rec.native_lanman.take().or(lanman);
                            } else {
                                self.rec.client_native_os = self.rec.client_native_os.take().or(os);
                                self.rec.client_native_lanman =
                                    self.rec.client_native_lanman.take().or(lanman);
                                if self.rec.ntlm_user.is_none() {
                                    if let Some(user) = str_field(s.account, unicode) {
                                        self.rec.ntlm_user = Some(user);
                                        self.rec.ntlm_domain = str_field(s.domain, unicode);
                                    }
                                }
                            }
                            self.blob(s.blob, out);
                        }
                        None => out.weird("smb1_bad_session_setup"),
                    }
                }
                (smb1::TREE_CONNECT_ANDX, false) => {
                    if let Some(p) = smb1::tree_connect_path(msg, &b, unicode) {
                        if let Some(p) = str_field(p, unicode) {
                            push_unique(&mut self.rec.tree_paths, p);
                        }
                    }
                }
                _ => {}
            }
        }
        if !problem.is_empty() {
            out.weird(problem);
        }
    }

    fn smb2_frame(&mut self, frame: &[u8], out: &mut Out<'_>) {
        let (messages, bad) = smb2::messages(frame);
        for m in messages {
            self.seen = true;
            self.smb2_seen = true;
            match (m.command, m.is_response()) {
                (smb2::NEGOTIATE, false) => {
                    for d in smb2::negotiate_request_dialects(&m) {
                        push_unique(&mut self.rec.offered_dialects, smb2::dialect_name(d));
                    }
                }
                (smb2::NEGOTIATE, true) if m.status == smb2::STATUS_SUCCESS => {
                    match smb2::negotiate_response(&m) {
                        Some((dialect, signing)) => {
                            self.rec.dialect = Some(smb2::dialect_name(dialect));
                            self.rec.signing_required = Some(signing);
                        }
                        None => out.weird("smb2_bad_negotiate_response"),
                    }
                }
                (smb2::SESSION_SETUP, resp)
                    if !resp
                        || m.status == smb2::STATUS_SUCCESS
                        || m.status == smb2::STATUS_MORE_PROCESSING =>
                {
                    match smb2::session_setup_blob(&m) {
                        Some(blob) => self.blob(blob, out),
                        None => out.weird("smb2_bad_session_setup"),
                    }
                }
                (smb2::TREE_CONNECT, false) => match smb2::tree_connect_path(&m) {
                    Some(p) => {
                        if let Some(p) = utf16_field(p) {
                            push_unique(&mut self.rec.tree_paths, p);
                        }
                    }
                    None => out.weird("smb2_bad_tree_connect"),
                },
                _ => {}
            }
        }
        if bad {
            out.weird("smb2_bad_header");
        }
    }

    /// Looks for NTLMSSP in a security blob.
    fn blob(&mut self, blob: &[u8], out: &mut Out<'_>) {
        let Some(msg) = ntlm::find(blob) else { return };
        match ntlm::parse(msg) {
            Some(ntlm::Ntlm::Challenge(c)) => {
                for (id, value) in ntlm::av_pairs(c.target_info) {
                    let slot = match id {
                        ntlm::av::NB_COMPUTER => &mut self.rec.server_nb_name,
                        ntlm::av::NB_DOMAIN => &mut self.rec.server_nb_domain,
                        ntlm::av::DNS_COMPUTER => &mut self.rec.server_dns_name,
                        ntlm::av::DNS_DOMAIN => &mut self.rec.server_dns_domain,
                        ntlm::av::DNS_TREE => &mut self.rec.server_tree_name,
                        _ => continue,
                    };
                    if slot.is_none() {
                        *slot = utf16_field(value);
                    }
                }
                if let Some((major, minor, build)) = c.version {
                    self.rec
                        .server_os_version
                        .get_or_insert_with(|| format!("{major}.{minor}.{build}"));
                }
            }
            Some(ntlm::Ntlm::Authenticate(a)) => {
                // Keep the first authentication with a user name; until one is
                // seen, anonymous attempts still tell us the domain and host.
                if self.rec.ntlm_user.is_none() {
                    let (domain, host) = (
                        str_field(a.domain, a.unicode),
                        str_field(a.workstation, a.unicode),
                    );
                    match str_field(a.user, a.unicode) {
                        Some(user) => {
                            self.rec.ntlm_user = Some(user);
                            self.rec.ntlm_domain = domain;
                            self.rec.ntlm_host = host;
                        }
                        None => {
                            self.rec.ntlm_domain = self.rec.ntlm_domain.take().or(domain);
                            self.rec.ntlm_host = self.rec.ntlm_host.take().or(host);
                        }
                    }
                }
            }
            None => {
                // NEGOTIATE (type 1) messages are expected; flag truncated others.
                if !matches!(bytes::u32_le(msg, 8), Some(1)) {
                    out.weird("ntlm_bad_message");
                }
            }
        }
    }
}

fn push_unique(list: &mut Vec<String>, item: String) {
    if list.len() < MAX_LIST && !list.contains(&item) {
        list.push(item);
    }
}

impl Analyzer for SmbAnalyzer {
    fn feed(&mut self, dir: Direction, data: &[u8], out: &mut Out<'_>) -> Progress {
        let d = dir_index(dir);
        let mut pos = 0usize;
        loop {
            if self.skip[d] > 0 {
                let avail = data.len().saturating_sub(pos);
                let n = usize::try_from(self.skip[d])
                    .unwrap_or(usize::MAX)
                    .min(avail);
                pos += n;
                self.skip[d] -= n as u64;
                if self.skip[d] > 0 {
                    return Progress::Consumed(pos);
                }
            }
            let rest = data.get(pos..).unwrap_or(&[]);
            if rest.len() < 4 {
                return Progress::Consumed(pos);
            }
            let len = u24(rest);
            match rest[0] {
                0x00 => {}
                // Session request / positive / negative / retarget / keep-alive.
                0x81..=0x85 => {
                    pos += 4;
                    self.skip[d] = len as u64;
                    continue;
                }
                _ => {
                    out.weird("smb_bad_netbios_type");
                    return self.stop(out);
                }
            }
            if len < 4 {
                out.weird("smb_short_message");
                pos += 4;
                self.skip[d] = len as u64;
                continue;
            }
            let need = 4 + len.min(PEEK);
            if rest.len() < need {
                return Progress::Consumed(pos);
            }
            let head = &rest[4..need];
            match Self::classify(head, len) {
                Frame::Parse if len <= MAX_MESSAGE => {
                    let Some(msg) = rest.get(4..4 + len) else {
                        return Progress::Consumed(pos);
                    };
                    self.message(msg, out);
                    pos += 4 + len;
                }
                Frame::Parse => {
                    out.weird("smb_message_too_large");
                    pos += 4;
                    self.skip[d] = len as u64;
                }
                Frame::Skip => {
                    // Uninteresting commands still say which SMB version is in use
                    // (captures often start mid-connection).
                    self.seen = true;
                    if head.starts_with(smb1::MAGIC) {
                        self.rec.smb1 = true;
                    } else {
                        self.smb2_seen = true;
                    }
                    pos += 4;
                    self.skip[d] = len as u64;
                }
                Frame::Encrypted => {
                    self.seen = true;
                    self.rec.encrypted = true;
                    pos += 4;
                    self.skip[d] = len as u64;
                }
                Frame::Unknown => {
                    out.weird("smb_unknown_protocol");
                    return self.stop(out);
                }
            }
        }
    }

    fn gap(&mut self, _dir: Direction, _len: u64, out: &mut Out<'_>) -> Progress {
        out.weird("content_gap");
        self.stop(out)
    }

    fn finish(&mut self, out: &mut Out<'_>) {
        self.flush(out);
    }
}

#[cfg(test)]
mod tests;
