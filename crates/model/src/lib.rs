//! Plain data shared by every Ward crate.
//!
//! This crate holds types only: timestamps taken from packets, link and network
//! addresses, the description of a flow, the typed records that protocol
//! analyzers emit ([`Record`]), and a few helpers for turning attacker-controlled
//! bytes into bounded, printable strings ([`text`]).
//!
//! **Invariant:** no record type has a field that can hold patient data. HL7
//! records keep MSH header fields only; DICOM records keep association metadata
//! only; credentials are reduced to a user name and a classification.

pub mod addr;
pub mod event;
pub mod json;
pub mod link;
pub mod records;
pub mod text;
pub mod time;

pub use addr::{Endpoint, MacAddr, Transport};
pub use event::{Direction, Event, FlowInfo};
pub use link::{LinkFrame, LinkType};
pub use records::Record;
pub use time::Timestamp;
