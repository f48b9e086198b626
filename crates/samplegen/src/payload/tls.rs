//! TLS ClientHello / ServerHello records (RFC 2246 section 7.4.1 for TLS 1.0,
//! server_name extension from RFC 6066 section 3, renegotiation_info from
//! RFC 5746).

/// TLS_RSA_WITH_RC4_128_SHA.
pub const TLS_RSA_WITH_RC4_128_SHA: u16 = 0x0005;

fn record(content_type: u8, version: u16, body: &[u8]) -> Vec<u8> {
    let mut r = vec![content_type];
    r.extend_from_slice(&version.to_be_bytes());
    r.extend_from_slice(&(body.len() as u16).to_be_bytes());
    r.extend_from_slice(body);
    r
}

fn handshake(msg_type: u8, body: &[u8]) -> Vec<u8> {
    let mut h = vec![msg_type];
    h.extend_from_slice(&(body.len() as u32).to_be_bytes()[1..]);
    h.extend_from_slice(body);
    h
}

fn extension(ext_type: u16, data: &[u8]) -> Vec<u8> {
    let mut e = ext_type.to_be_bytes().to_vec();
    e.extend_from_slice(&(data.len() as u16).to_be_bytes());
    e.extend_from_slice(data);
    e
}

/// A ClientHello record offering `ciphers`, with an SNI extension for `sni`.
pub fn client_hello(version: u16, random: &[u8; 32], ciphers: &[u16], sni: &str) -> Vec<u8> {
    let mut b = version.to_be_bytes().to_vec();
    b.extend_from_slice(random);
    b.push(0); // empty session id
    b.extend_from_slice(&((ciphers.len() * 2) as u16).to_be_bytes());
    for c in ciphers {
        b.extend_from_slice(&c.to_be_bytes());
    }
    b.extend_from_slice(&[1, 0]); // compression: null
    let mut names = vec![0]; // host_name
    names.extend_from_slice(&(sni.len() as u16).to_be_bytes());
    names.extend_from_slice(sni.as_bytes());
    let mut list = (names.len() as u16).to_be_bytes().to_vec();
    list.extend(names);
    let mut exts = extension(0x0000, &list);
    exts.extend(extension(0xff01, &[0])); // renegotiation_info, empty
    b.extend_from_slice(&(exts.len() as u16).to_be_bytes());
    b.extend(exts);
    record(22, version, &handshake(1, &b))
}

/// A ServerHello record choosing `cipher`, with a 32-byte session id.
pub fn server_hello(
    version: u16,
    random: &[u8; 32],
    session_id: &[u8; 32],
    cipher: u16,
) -> Vec<u8> {
    let mut b = version.to_be_bytes().to_vec();
    b.extend_from_slice(random);
    b.push(32);
    b.extend_from_slice(session_id);
    b.extend_from_slice(&cipher.to_be_bytes());
    b.push(0); // compression: null
    let exts = extension(0xff01, &[0]);
    b.extend_from_slice(&(exts.len() as u16).to_be_bytes());
    b.extend(exts);
    record(22, version, &handshake(2, &b))
}
