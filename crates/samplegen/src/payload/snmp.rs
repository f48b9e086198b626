//! SNMPv2c messages (RFC 3416 PDUs inside the RFC 1901 community-based
//! message), BER-encoded.

use super::ber;

/// GetRequest-PDU tag.
pub const GET_REQUEST: u8 = 0xa0;
/// Response-PDU tag.
pub const RESPONSE: u8 = 0xa2;

/// A variable binding value.
#[derive(Debug, Clone)]
pub enum Value<'a> {
    /// NULL (used in requests).
    Null,
    /// OCTET STRING.
    Octets(&'a [u8]),
    /// OBJECT IDENTIFIER.
    Oid(&'a [u32]),
}

/// An SNMPv2c message (version 1 = v2c) with one PDU.
pub fn message(
    community: &str,
    pdu_tag: u8,
    request_id: i32,
    varbinds: &[(&[u32], Value<'_>)],
) -> Vec<u8> {
    let vbs: Vec<Vec<u8>> = varbinds
        .iter()
        .map(|(name, value)| {
            let v = match value {
                Value::Null => ber::null(),
                Value::Octets(s) => ber::octet_string(s),
                Value::Oid(o) => ber::oid(o),
            };
            ber::sequence(&[ber::oid(name), v])
        })
        .collect();
    let pdu = ber::constructed(
        pdu_tag,
        &[
            ber::integer(i64::from(request_id)),
            ber::integer(0),
            ber::integer(0),
            ber::sequence(&vbs),
        ],
    );
    ber::sequence(&[
        ber::integer(1),
        ber::octet_string(community.as_bytes()),
        pdu,
    ])
}
