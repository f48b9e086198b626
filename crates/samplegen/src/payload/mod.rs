//! Application-layer payload builders for the synthetic scenarios. Each
//! submodule encodes one protocol from its specification; none of them
//! parses anything.

pub mod ber;
pub mod dhcp;
pub mod dicom;
pub mod dns;
pub mod hl7;
pub mod lldp;
pub mod smb;
pub mod snmp;
pub mod tls;
