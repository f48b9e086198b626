//! Pure, zero-copy parsing of DICOM upper-layer PDUs (DICOM PS3.8).
//!
//! References (PS3.8 "Network Communication Support for Message Exchange"):
//! - 9.3.1 PDU header: type (1), reserved (1), length (4, big-endian) of the
//!   rest of the PDU;
//! - 9.3.2 A-ASSOCIATE-RQ / 9.3.3 A-ASSOCIATE-AC fixed fields: protocol version
//!   (2), reserved (2), called AE (16), calling AE (16), reserved (32), then
//!   variable items: 9.3.2.1 application context (0x10), 9.3.2.2 presentation
//!   context RQ (0x20) / 9.3.3.2 AC (0x21) with 9.3.2.2.1 abstract syntax
//!   (0x30) and 9.3.2.2.2 transfer syntax (0x40) sub-items, 9.3.2.3 user
//!   information (0x50);
//! - annex D.1 maximum length (0x51), D.3.3.2 implementation class UID (0x52),
//!   D.3.3.2 implementation version name (0x55), D.3.3.7 user identity (0x58);
//! - 9.3.4 A-ASSOCIATE-RJ (result, source, reason), 9.3.6/9.3.7 A-RELEASE-RQ/RP,
//!   9.3.8 A-ABORT (source, reason); 9.3.5 P-DATA-TF (never parsed here).
//!
//! Items and sub-items share one layout: type (1), reserved (1), length (2,
//! big-endian), value. Everything here borrows from its input.

/// Bytes in a PDU header.
pub const HEADER_LEN: usize = 6;
/// Bytes of the fixed part of an A-ASSOCIATE-RQ/AC body (after the header).
pub const ASSOCIATE_FIXED_LEN: usize = 68;

/// PDU types (PS3.8 table 9-1 .. 9-26).
pub mod pdu_type {
    /// A-ASSOCIATE-RQ.
    pub const ASSOCIATE_RQ: u8 = 0x01;
    /// A-ASSOCIATE-AC.
    pub const ASSOCIATE_AC: u8 = 0x02;
    /// A-ASSOCIATE-RJ.
    pub const ASSOCIATE_RJ: u8 = 0x03;
    /// P-DATA-TF.
    pub const P_DATA_TF: u8 = 0x04;
    /// A-RELEASE-RQ.
    pub const RELEASE_RQ: u8 = 0x05;
    /// A-RELEASE-RP.
    pub const RELEASE_RP: u8 = 0x06;
    /// A-ABORT.
    pub const ABORT: u8 = 0x07;
}

/// Item and sub-item types.
pub mod item_type {
    /// Application context name.
    pub const APPLICATION_CONTEXT: u8 = 0x10;
    /// Presentation context (in an RQ).
    pub const PRESENTATION_CONTEXT_RQ: u8 = 0x20;
    /// Presentation context (in an AC).
    pub const PRESENTATION_CONTEXT_AC: u8 = 0x21;
    /// Abstract syntax sub-item.
    pub const ABSTRACT_SYNTAX: u8 = 0x30;
    /// Transfer syntax sub-item.
    pub const TRANSFER_SYNTAX: u8 = 0x40;
    /// User information.
    pub const USER_INFO: u8 = 0x50;
    /// Maximum length sub-item.
    pub const MAX_LENGTH: u8 = 0x51;
    /// Implementation class UID sub-item.
    pub const IMPLEMENTATION_CLASS_UID: u8 = 0x52;
    /// Implementation version name sub-item.
    pub const IMPLEMENTATION_VERSION: u8 = 0x55;
    /// User identity negotiation sub-item (RQ).
    pub const USER_IDENTITY: u8 = 0x58;
}

/// A PDU header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Header {
    /// PDU type.
    pub ty: u8,
    /// Reserved byte (should be 0; not tested by receivers).
    pub reserved: u8,
    /// Length of the PDU after the header.
    pub len: u32,
}

/// Reads a PDU header from the first 6 bytes of `data`.
pub fn header(data: &[u8]) -> Option<Header> {
    let h: &[u8; HEADER_LEN] = data.get(..HEADER_LEN)?.try_into().ok()?;
    Some(Header {
        ty: h[0],
        reserved: h[1],
        len: u32::from_be_bytes([h[2], h[3], h[4], h[5]]),
    })
}

/// Fixed fields of an A-ASSOCIATE-RQ or -AC body (the bytes after the header).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Associate<'a> {
    /// Protocol version bit field (bit 0 = version 1).
    pub version: u16,
    /// Called AE title, 16 bytes, space-padded.
    pub called_ae: &'a [u8],
    /// Calling AE title, 16 bytes, space-padded.
    pub calling_ae: &'a [u8],
    /// Variable items.
    pub items: &'a [u8],
}

/// Parses the fixed part of an A-ASSOCIATE-RQ/AC body.
pub fn associate(body: &[u8]) -> Option<Associate<'_>> {
    Some(Associate {
        version: u16::from_be_bytes([*body.first()?, *body.get(1)?]),
        called_ae: body.get(4..20)?,
        calling_ae: body.get(20..36)?,
        items: body.get(ASSOCIATE_FIXED_LEN..)?,
    })
}

/// One item or sub-item.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Item<'a> {
    /// Item type.
    pub ty: u8,
    /// Item value (after the 4-byte item header).
    pub value: &'a [u8],
}

/// Iterator over items or sub-items. Stops at the first item whose length
/// runs past the end and sets [`Items::malformed`].
#[derive(Debug, Clone)]
pub struct Items<'a> {
    rest: &'a [u8],
    /// An item header or length was inconsistent with the bytes available.
    pub malformed: bool,
}

impl<'a> Items<'a> {
    /// Iterates the items in `data`.
    pub fn new(data: &'a [u8]) -> Self {
        Items {
            rest: data,
            malformed: false,
        }
    }
}

impl<'a> Iterator for Items<'a> {
    type Item = Item<'a>;

    fn next(&mut self) -> Option<Item<'a>> {
        if self.rest.is_empty() {
            return None;
        }
        let parsed = self.rest.get(..4).and_then(|h| {
            let len = usize::from(u16::from_be_bytes([h[2], h[3]]));
            let value = self.rest.get(4..4 + len)?;
            Some((Item { ty: h[0], value }, 4 + len))
        });
        match parsed {
            Some((item, used)) => {
                self.rest = &self.rest[used..];
                Some(item)
            }
            None => {
                self.malformed = true;
                self.rest = &[];
                None
            }
        }
    }
}

/// A presentation context item (RQ 0x20 or AC 0x21).
#[derive(Debug, Clone)]
pub struct PresentationContext<'a> {
    /// Presentation context id (odd, 1..=255).
    pub id: u8,
    /// AC: result/reason (0 = acceptance); RQ: reserved.
    pub result: u8,
    /// Abstract syntax and transfer syntax sub-items.
    pub sub_items: Items<'a>,
}

/// Parses a presentation context item value.
pub fn presentation_context(value: &[u8]) -> Option<PresentationContext<'_>> {
    Some(PresentationContext {
        id: *value.first()?,
        result: *value.get(2)?,
        sub_items: Items::new(value.get(4..)?),
    })
}

/// A-ASSOCIATE-RJ result, source and reason (9.3.4), or A-ABORT source and
/// reason (9.3.8, result is 0).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Reasons {
    /// RJ: 1 rejected-permanent, 2 rejected-transient.
    pub result: u8,
    /// RJ: 1 service-user, 2 service-provider (ACSE), 3 service-provider
    /// (presentation). ABORT: 0 service-user, 2 service-provider.
    pub source: u8,
    /// Reason/diagnostic code.
    pub reason: u8,
}

/// Parses an A-ASSOCIATE-RJ body (reserved, result, source, reason).
pub fn reject(body: &[u8]) -> Option<Reasons> {
    Some(Reasons {
        result: *body.get(1)?,
        source: *body.get(2)?,
        reason: *body.get(3)?,
    })
}

/// Parses an A-ABORT body (reserved, reserved, source, reason).
pub fn abort(body: &[u8]) -> Option<Reasons> {
    Some(Reasons {
        result: 0,
        source: *body.get(2)?,
        reason: *body.get(3)?,
    })
}

/// Name of a user identity type (PS3.7 D.3.3.7.1, PS3.8 table D.3-14).
pub fn user_identity_name(ty: u8) -> std::borrow::Cow<'static, str> {
    match ty {
        1 => "username".into(),
        2 => "username_passcode".into(),
        3 => "kerberos".into(),
        4 => "saml".into(),
        5 => "jwt".into(),
        n => format!("type_{n}").into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_is_big_endian() {
        assert_eq!(
            header(&[0x04, 0x00, 0x00, 0x01, 0x00, 0x02]),
            Some(Header {
                ty: 4,
                reserved: 0,
                len: 65538
            })
        );
        assert_eq!(header(&[0x04, 0x00, 0x00]), None);
    }

    #[test]
    fn items_stop_on_bad_length() {
        // Item 0x10 len 3 "abc", item 0x40 len 1 "x", item 0x50 claiming 9 bytes with 2 present.
        let data = [
            0x10, 0, 0, 3, b'a', b'b', b'c', 0x40, 0, 0, 1, b'x', 0x50, 0, 0, 9, 1, 2,
        ];
        let mut it = Items::new(&data);
        let got: Vec<_> = it.by_ref().collect();
        assert_eq!(
            got,
            [
                Item {
                    ty: 0x10,
                    value: b"abc"
                },
                Item {
                    ty: 0x40,
                    value: b"x"
                }
            ]
        );
        assert!(it.malformed);
        let mut short = Items::new(&[0x10, 0]);
        assert_eq!(short.next(), None);
        assert!(short.malformed);
        let mut empty = Items::new(&[]);
        assert_eq!(empty.next(), None);
        assert!(!empty.malformed);
    }

    #[test]
    fn fixed_pdus() {
        assert_eq!(
            reject(&[0, 1, 1, 3]),
            Some(Reasons {
                result: 1,
                source: 1,
                reason: 3
            })
        );
        assert_eq!(
            abort(&[0, 0, 2, 6]),
            Some(Reasons {
                result: 0,
                source: 2,
                reason: 6
            })
        );
        assert_eq!(reject(&[0, 1]), None);
    }

    #[test]
    fn associate_needs_fixed_part() {
        let mut body = vec![0u8; ASSOCIATE_FIXED_LEN];
        body[1] = 1;
        body[4..20].copy_from_slice(b"CALLED          ");
        body[20..36].copy_from_slice(b"CALLING         ");
        let a = associate(&body).unwrap();
        assert_eq!(
            (a.version, a.called_ae, a.calling_ae, a.items),
            (
                1,
                &b"CALLED          "[..],
                &b"CALLING         "[..],
                &[][..]
            )
        );
        assert_eq!(associate(&body[..67]), None);
    }
}
