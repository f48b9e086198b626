//! SMB negotiation messages over direct TCP (RFC 1002 session message
//! header): SMB2/3 NEGOTIATE request and response ([MS-SMB2] 2.2.3, 2.2.4)
//! and SMB1 NEGOTIATE request and NT LM 0.12 response ([MS-CIFS] 2.2.4.52).

use super::ber;

/// Wraps an SMB message in a NetBIOS session service message header.
pub fn netbios(message: &[u8]) -> Vec<u8> {
    let mut out = vec![0x00];
    out.extend_from_slice(&(message.len() as u32).to_be_bytes()[1..]);
    out.extend_from_slice(message);
    out
}

/// Converts Unix seconds to a Windows FILETIME (100 ns since 1601).
pub fn filetime(unix_secs: u64) -> u64 {
    (unix_secs + 11_644_473_600) * 10_000_000
}

fn smb2_header(command: u16, flags: u32, credits: u16, message_id: u64) -> Vec<u8> {
    let mut h = Vec::with_capacity(64);
    h.extend_from_slice(b"\xfeSMB");
    h.extend_from_slice(&64u16.to_le_bytes()); // structure size
    h.extend_from_slice(&0u16.to_le_bytes()); // credit charge
    h.extend_from_slice(&0u32.to_le_bytes()); // status
    h.extend_from_slice(&command.to_le_bytes());
    h.extend_from_slice(&credits.to_le_bytes());
    h.extend_from_slice(&flags.to_le_bytes());
    h.extend_from_slice(&0u32.to_le_bytes()); // next command
    h.extend_from_slice(&message_id.to_le_bytes());
    h.extend_from_slice(&0xfeffu32.to_le_bytes()); // reserved / process id
    h.extend_from_slice(&0u32.to_le_bytes()); // tree id
    h.extend_from_slice(&0u64.to_le_bytes()); // session id
    h.extend_from_slice(&[0; 16]); // signature
    h
}

fn pad8(v: &mut Vec<u8>) {
    while v.len() & 7 != 0 {
        v.push(0);
    }
}

/// SMB2 NEGOTIATE request offering `dialects`; when 0x0311 is offered,
/// preauth-integrity (SHA-512) and encryption (AES-128-GCM/CCM) negotiate
/// contexts are appended.
pub fn smb2_negotiate_request(
    dialects: &[u16],
    client_guid: &[u8; 16],
    salt: &[u8; 32],
) -> Vec<u8> {
    let smb311 = dialects.contains(&0x0311);
    let mut m = smb2_header(0x0000, 0, 1, 0);
    m.extend_from_slice(&36u16.to_le_bytes()); // structure size
    m.extend_from_slice(&(dialects.len() as u16).to_le_bytes());
    m.extend_from_slice(&1u16.to_le_bytes()); // security mode: signing enabled
    m.extend_from_slice(&0u16.to_le_bytes()); // reserved
    m.extend_from_slice(&0x7fu32.to_le_bytes()); // capabilities
    m.extend_from_slice(client_guid);
    let ctx_field = m.len();
    m.extend_from_slice(&[0; 8]); // negotiate context offset/count/reserved, or ClientStartTime
    for d in dialects {
        m.extend_from_slice(&d.to_le_bytes());
    }
    if smb311 {
        pad8(&mut m);
        let offset = m.len() as u32;
        // SMB2_PREAUTH_INTEGRITY_CAPABILITIES
        let mut preauth = Vec::new();
        preauth.extend_from_slice(&1u16.to_le_bytes()); // hash algorithm count
        preauth.extend_from_slice(&32u16.to_le_bytes()); // salt length
        preauth.extend_from_slice(&1u16.to_le_bytes()); // SHA-512
        preauth.extend_from_slice(salt);
        // SMB2_ENCRYPTION_CAPABILITIES
        let mut enc = Vec::new();
        enc.extend_from_slice(&2u16.to_le_bytes());
        enc.extend_from_slice(&2u16.to_le_bytes()); // AES-128-GCM
        enc.extend_from_slice(&1u16.to_le_bytes()); // AES-128-CCM
        for (i, (ctype, data)) in [(1u16, preauth), (2u16, enc)].into_iter().enumerate() {
            if i > 0 {
                pad8(&mut m);
            }
            m.extend_from_slice(&ctype.to_le_bytes());
            m.extend_from_slice(&(data.len() as u16).to_le_bytes());
            m.extend_from_slice(&[0; 4]);
            m.extend_from_slice(&data);
        }
        m[ctx_field..ctx_field + 4].copy_from_slice(&offset.to_le_bytes());
        m[ctx_field + 4..ctx_field + 6].copy_from_slice(&2u16.to_le_bytes());
    }
    netbios(&m)
}

/// A SPNEGO negTokenInit (RFC 4178) advertising NTLMSSP only.
pub fn spnego_neg_token_init() -> Vec<u8> {
    let mech_types = ber::sequence(&[ber::oid(&[1, 3, 6, 1, 4, 1, 311, 2, 2, 10])]);
    let neg_token_init = ber::sequence(&[ber::constructed(0xa0, &[mech_types])]);
    ber::constructed(
        0x60,
        &[
            ber::oid(&[1, 3, 6, 1, 5, 5, 2]),
            ber::constructed(0xa0, &[neg_token_init]),
        ],
    )
}

/// SMB2 NEGOTIATE response choosing `dialect` (must not be 0x0311: no
/// negotiate contexts are written).
pub fn smb2_negotiate_response(
    dialect: u16,
    server_guid: &[u8; 16],
    now_unix: u64,
    boot_unix: u64,
) -> Vec<u8> {
    let blob = spnego_neg_token_init();
    let mut m = smb2_header(0x0000, 0x0000_0001, 1, 0);
    m.extend_from_slice(&65u16.to_le_bytes()); // structure size
    m.extend_from_slice(&1u16.to_le_bytes()); // security mode: signing enabled
    m.extend_from_slice(&dialect.to_le_bytes());
    m.extend_from_slice(&0u16.to_le_bytes()); // negotiate context count
    m.extend_from_slice(server_guid);
    m.extend_from_slice(&0x07u32.to_le_bytes()); // DFS | LEASING | LARGE_MTU
    for _ in 0..3 {
        m.extend_from_slice(&8_388_608u32.to_le_bytes()); // max transact/read/write
    }
    m.extend_from_slice(&filetime(now_unix).to_le_bytes());
    m.extend_from_slice(&filetime(boot_unix).to_le_bytes());
    m.extend_from_slice(&128u16.to_le_bytes()); // security buffer offset
    m.extend_from_slice(&(blob.len() as u16).to_le_bytes());
    m.extend_from_slice(&0u32.to_le_bytes()); // negotiate context offset
    m.extend_from_slice(&blob);
    netbios(&m)
}

fn smb1_header(flags: u8, flags2: u16) -> Vec<u8> {
    let mut h = Vec::with_capacity(32);
    h.extend_from_slice(b"\xffSMB");
    h.push(0x72); // SMB_COM_NEGOTIATE
    h.extend_from_slice(&0u32.to_le_bytes()); // status
    h.push(flags);
    h.extend_from_slice(&flags2.to_le_bytes());
    h.extend_from_slice(&0u16.to_le_bytes()); // PID high
    h.extend_from_slice(&[0; 8]); // security features
    h.extend_from_slice(&0u16.to_le_bytes()); // reserved
    h.extend_from_slice(&0u16.to_le_bytes()); // TID
    h.extend_from_slice(&0xfeffu16.to_le_bytes()); // PID low
    h.extend_from_slice(&0u16.to_le_bytes()); // UID
    h.extend_from_slice(&0u16.to_le_bytes()); // MID
    h
}

/// SMB1 NEGOTIATE request listing `dialects` (e.g. "NT LM 0.12").
pub fn smb1_negotiate_request(dialects: &[&str]) -> Vec<u8> {
    // Flags: case-insensitive, canonicalized paths. Flags2: Unicode, NT
    // status, extended security, long names, EAs.
    let mut m = smb1_header(0x18, 0xc853);
    let mut bytes = Vec::new();
    for d in dialects {
        bytes.push(0x02);
        bytes.extend_from_slice(d.as_bytes());
        bytes.push(0);
    }
    m.push(0); // word count
    m.extend_from_slice(&(bytes.len() as u16).to_le_bytes());
    m.extend(bytes);
    netbios(&m)
}

/// SMB1 NEGOTIATE response selecting dialect `index` (NT LM 0.12) without
/// extended security: 8-byte challenge, then domain and server names in
/// UTF-16LE (Flags2 Unicode and CAP_UNICODE are set, no alignment pad).
pub fn smb1_negotiate_response(
    index: u16,
    challenge: &[u8; 8],
    domain: &str,
    server: &str,
    now_unix: u64,
) -> Vec<u8> {
    let mut m = smb1_header(0x98, 0xc001); // reply; Unicode, NT status, long names
    let mut w = Vec::with_capacity(34);
    w.extend_from_slice(&index.to_le_bytes());
    w.push(0x03); // security mode: user level, challenge/response
    w.extend_from_slice(&50u16.to_le_bytes()); // max mpx count
    w.extend_from_slice(&1u16.to_le_bytes()); // max number VCs
    w.extend_from_slice(&16_644u32.to_le_bytes()); // max buffer size
    w.extend_from_slice(&65_536u32.to_le_bytes()); // max raw size
    w.extend_from_slice(&0u32.to_le_bytes()); // session key
    w.extend_from_slice(&0x0000_f3fdu32.to_le_bytes()); // capabilities, no extended security
    w.extend_from_slice(&filetime(now_unix).to_le_bytes());
    w.extend_from_slice(&0u16.to_le_bytes()); // server time zone (UTC)
    w.push(8); // challenge length
    m.push(17); // word count
    m.extend(w);
    let mut bytes = challenge.to_vec();
    for name in [domain, server] {
        bytes.extend(name.encode_utf16().chain([0]).flat_map(u16::to_le_bytes));
    }
    m.extend_from_slice(&(bytes.len() as u16).to_le_bytes());
    m.extend(bytes);
    netbios(&m)
}
