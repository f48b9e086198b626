//! Names for TLS code points, spelled as Zeek logs them.
//!
//! Sources: IANA "Transport Layer Security (TLS) Parameters" registry
//! (cipher suites through tls-parser's table built from it, supported groups,
//! alert descriptions), RFC 8446 §4.2.1 (versions), draft-ietf-tls-tls13
//! (`0x7fNN` draft versions), and Zeek's `base/protocols/ssl/consts.zeek`
//! spelling (`TLSv12`, `secp256r1`, `unknown-N`).

/// Zeek's version string: `SSLv3`, `TLSv10` ... `TLSv13`, `TLSv13-draftNN`,
/// `DTLSv12`, or `unknown-N`. Facebook's TLS 1.3 drafts (Fizz, `0xfbNN` for
/// draft NN, as Suricata names them) are `TLSv13-draftNN-fb`.
pub fn version(v: u16) -> String {
    match v {
        0x0002 => "SSLv2".into(),
        0x0300 => "SSLv3".into(),
        0x0301 => "TLSv10".into(),
        0x0302 => "TLSv11".into(),
        0x0303 => "TLSv12".into(),
        0x0304 => "TLSv13".into(),
        0xfeff => "DTLSv10".into(),
        0xfefd => "DTLSv12".into(),
        0xfefc => "DTLSv13".into(),
        0x7f00..=0x7fff => format!("TLSv13-draft{}", v & 0xff),
        0xfb00..=0xfbff => format!("TLSv13-draft{}-fb", v & 0xff),
        _ => format!("unknown-{v}"),
    }
}

/// IANA cipher suite name, or `unknown-N`.
pub fn cipher(id: u16) -> String {
    match tls_parser::TlsCipherSuiteID(id).get_ciphersuite() {
        Some(c) => c.name.to_string(),
        None => format!("unknown-{id}"),
    }
}

/// SSL 2.0 cipher kind name (Zeek's spelling), or `unknown-N`.
pub fn sslv2_cipher(kind: u32) -> String {
    let name = match kind {
        0x010080 => "SSLv20_CK_RC4_128_WITH_MD5",
        0x020080 => "SSLv20_CK_RC4_128_EXPORT40_WITH_MD5",
        0x030080 => "SSLv20_CK_RC2_128_CBC_WITH_MD5",
        0x040080 => "SSLv20_CK_RC2_128_CBC_EXPORT40_WITH_MD5",
        0x050080 => "SSLv20_CK_IDEA_128_CBC_WITH_MD5",
        0x060040 => "SSLv20_CK_DES_64_CBC_WITH_MD5",
        0x0700c0 => "SSLv20_CK_DES_192_EDE3_CBC_WITH_MD5",
        _ => return format!("unknown-{kind}"),
    };
    name.to_string()
}

/// True for cipher suites whose ServerKeyExchange carries ECDH parameters.
pub fn cipher_is_ecdhe(id: u16) -> bool {
    tls_parser::TlsCipherSuiteID(id)
        .get_ciphersuite()
        .is_some_and(|c| {
            matches!(
                c.kx,
                tls_parser::TlsCipherKx::Ecdhe
                    | tls_parser::TlsCipherKx::Ecdh
                    | tls_parser::TlsCipherKx::Aecdh
            )
        })
}

/// Supported group (named curve) name, or `unknown-N`.
pub fn group(g: u16) -> String {
    const SECT: [&str; 28] = [
        "sect163k1",
        "sect163r1",
        "sect163r2",
        "sect193r1",
        "sect193r2",
        "sect233k1",
        "sect233r1",
        "sect239k1",
        "sect283k1",
        "sect283r1",
        "sect409k1",
        "sect409r1",
        "sect571k1",
        "sect571r1",
        "secp160k1",
        "secp160r1",
        "secp160r2",
        "secp192k1",
        "secp192r1",
        "secp224k1",
        "secp224r1",
        "secp256k1",
        "secp256r1",
        "secp384r1",
        "secp521r1",
        "brainpoolP256r1",
        "brainpoolP384r1",
        "brainpoolP512r1",
    ];
    let name = match g {
        1..=28 => SECT[(g - 1) as usize],
        29 => "x25519",
        30 => "x448",
        31 => "brainpoolP256r1tls13",
        32 => "brainpoolP384r1tls13",
        33 => "brainpoolP512r1tls13",
        34 => "GC256A",
        35 => "GC256B",
        36 => "GC256C",
        37 => "GC256D",
        38 => "GC512A",
        39 => "GC512B",
        40 => "GC512C",
        41 => "curveSM2",
        256 => "ffdhe2048",
        257 => "ffdhe3072",
        258 => "ffdhe4096",
        259 => "ffdhe6144",
        260 => "ffdhe8192",
        0x0200 => "MLKEM512",
        0x0201 => "MLKEM768",
        0x0202 => "MLKEM1024",
        0x11eb => "SecP256r1MLKEM768",
        0x11ec => "X25519MLKEM768",
        0x11ed => "SecP384r1MLKEM1024",
        0x6399 => "X25519Kyber768Draft00",
        0x639a => "SecP256r1Kyber768Draft00",
        0xff01 => "arbitrary_explicit_prime_curves",
        0xff02 => "arbitrary_explicit_char2_curves",
        _ => return format!("unknown-{g}"),
    };
    name.to_string()
}

/// Alert description name, or `unknown-N`.
pub fn alert(d: u8) -> String {
    let name = match d {
        0 => "close_notify",
        10 => "unexpected_message",
        20 => "bad_record_mac",
        21 => "decryption_failed",
        22 => "record_overflow",
        30 => "decompression_failure",
        40 => "handshake_failure",
        41 => "no_certificate",
        42 => "bad_certificate",
        43 => "unsupported_certificate",
        44 => "certificate_revoked",
        45 => "certificate_expired",
        46 => "certificate_unknown",
        47 => "illegal_parameter",
        48 => "unknown_ca",
        49 => "access_denied",
        50 => "decode_error",
        51 => "decrypt_error",
        60 => "export_restriction",
        70 => "protocol_version",
        71 => "insufficient_security",
        80 => "internal_error",
        86 => "inappropriate_fallback",
        90 => "user_canceled",
        100 => "no_renegotiation",
        109 => "missing_extension",
        110 => "unsupported_extension",
        111 => "certificate_unobtainable",
        112 => "unrecognized_name",
        113 => "bad_certificate_status_response",
        114 => "bad_certificate_hash_value",
        115 => "unknown_psk_identity",
        116 => "certificate_required",
        120 => "no_application_protocol",
        121 => "ech_required",
        _ => return format!("unknown-{d}"),
    };
    name.to_string()
}

/// OpenSSL long name of a signature or key algorithm OID (as Zeek's x509.log
/// prints `sig_alg` and `key_alg`), or the dotted OID.
pub fn algorithm(oid: &str) -> String {
    let name = match oid {
        "1.2.840.113549.1.1.1" => "rsaEncryption",
        "1.2.840.113549.1.1.2" => "md2WithRSAEncryption",
        "1.2.840.113549.1.1.4" => "md5WithRSAEncryption",
        "1.2.840.113549.1.1.5" => "sha1WithRSAEncryption",
        "1.2.840.113549.1.1.10" => "rsassaPss",
        "1.2.840.113549.1.1.11" => "sha256WithRSAEncryption",
        "1.2.840.113549.1.1.12" => "sha384WithRSAEncryption",
        "1.2.840.113549.1.1.13" => "sha512WithRSAEncryption",
        "1.2.840.113549.1.1.14" => "sha224WithRSAEncryption",
        "1.3.14.3.2.29" => "sha1WithRSA",
        "1.2.840.10045.2.1" => "id-ecPublicKey",
        "1.2.840.10045.4.1" => "ecdsa-with-SHA1",
        "1.2.840.10045.4.3.1" => "ecdsa-with-SHA224",
        "1.2.840.10045.4.3.2" => "ecdsa-with-SHA256",
        "1.2.840.10045.4.3.3" => "ecdsa-with-SHA384",
        "1.2.840.10045.4.3.4" => "ecdsa-with-SHA512",
        "1.2.840.10040.4.1" => "dsaEncryption",
        "1.2.840.10040.4.3" => "dsaWithSHA1",
        "2.16.840.1.101.3.4.3.1" => "dsa_with_SHA224",
        "2.16.840.1.101.3.4.3.2" => "dsa_with_SHA256",
        "2.16.840.1.101.3.4.3.17" => "ML-DSA-44",
        "2.16.840.1.101.3.4.3.18" => "ML-DSA-65",
        "2.16.840.1.101.3.4.3.19" => "ML-DSA-87",
        "1.3.101.112" => "ED25519",
        "1.3.101.113" => "ED448",
        "1.2.156.10197.1.501" => "SM2-with-SM3",
        _ => oid,
    };
    name.to_string()
}

/// Zeek's `key_type` for a public key algorithm OID.
pub fn key_type(oid: &str) -> String {
    match oid {
        "1.2.840.113549.1.1.1" | "1.2.840.113549.1.1.10" => "rsa".to_string(),
        "1.2.840.10040.4.1" => "dsa".to_string(),
        "1.2.840.10045.2.1" => "ecdsa".to_string(),
        "1.3.101.112" => "ed25519".to_string(),
        "1.3.101.113" => "ed448".to_string(),
        _ => algorithm(oid),
    }
}

/// Size in bits of a named elliptic curve given by its OID.
pub fn curve_bits(oid: &str) -> Option<u32> {
    Some(match oid {
        "1.2.840.10045.3.1.1" => 192,
        "1.3.132.0.33" => 224,
        "1.2.840.10045.3.1.7" | "1.3.132.0.10" | "1.3.36.3.3.2.8.1.1.7" => 256,
        "1.3.132.0.34" | "1.3.36.3.3.2.8.1.1.11" => 384,
        "1.3.36.3.3.2.8.1.1.13" => 512,
        "1.3.132.0.35" => 521,
        _ => return None,
    })
}

/// OpenSSL short name of an X.500 attribute type (RFC 4514 §3 plus the
/// names OpenSSL prints), or `None` (then the dotted OID is used).
pub fn attribute(oid: &str) -> Option<&'static str> {
    Some(match oid {
        "2.5.4.3" => "CN",
        "2.5.4.4" => "SN",
        "2.5.4.5" => "serialNumber",
        "2.5.4.6" => "C",
        "2.5.4.7" => "L",
        "2.5.4.8" => "ST",
        "2.5.4.9" => "street",
        "2.5.4.10" => "O",
        "2.5.4.11" => "OU",
        "2.5.4.12" => "title",
        "2.5.4.13" => "description",
        "2.5.4.15" => "businessCategory",
        "2.5.4.17" => "postalCode",
        "2.5.4.41" => "name",
        "2.5.4.42" => "GN",
        "2.5.4.43" => "initials",
        "2.5.4.44" => "generationQualifier",
        "2.5.4.46" => "dnQualifier",
        "2.5.4.65" => "pseudonym",
        "2.5.4.97" => "organizationIdentifier",
        "0.9.2342.19200300.100.1.1" => "UID",
        "0.9.2342.19200300.100.1.25" => "DC",
        "1.2.840.113549.1.9.1" => "emailAddress",
        "1.2.840.113549.1.9.2" => "unstructuredName",
        "1.3.6.1.4.1.311.60.2.1.1" => "jurisdictionL",
        "1.3.6.1.4.1.311.60.2.1.2" => "jurisdictionST",
        "1.3.6.1.4.1.311.60.2.1.3" => "jurisdictionC",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spelled_like_zeek() {
        assert_eq!(version(0x0303), "TLSv12");
        assert_eq!(version(0x7f10), "TLSv13-draft16");
        assert_eq!(version(0xfb1a), "TLSv13-draft26-fb");
        assert_eq!(version(0xfa1a), "unknown-64026");
        assert_eq!(version(0x7e01), "unknown-32257");
        assert_eq!(cipher(0xc02f), "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256");
        assert_eq!(cipher(0x1301), "TLS_AES_128_GCM_SHA256");
        assert_eq!(cipher(0x0a0a), "unknown-2570");
        assert!(cipher_is_ecdhe(0xc011));
        assert!(!cipher_is_ecdhe(0x0039));
        assert_eq!(group(23), "secp256r1");
        assert_eq!(group(29), "x25519");
        assert_eq!(group(0x6399), "X25519Kyber768Draft00");
        assert_eq!(alert(70), "protocol_version");
        assert_eq!(algorithm("1.2.840.113549.1.1.5"), "sha1WithRSAEncryption");
        assert_eq!(algorithm("1.2.3"), "1.2.3");
    }
}
