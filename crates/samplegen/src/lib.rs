//! `samplegen`: synthetic captures the Ward team makes itself.
//!
//! - [`pcap::PcapWriter`]: a classic libpcap writer.
//! - [`packet`]: Ethernet/ARP/IPv4/TCP/UDP frame builders with correct
//!   checksums.
//! - [`conv::TcpConversation`] and [`conv::udp_exchange`]: whole
//!   conversations with consistent sequence numbers.
//! - [`payload`]: application payload encoders (DHCP, DNS/mDNS, HL7/MLLP,
//!   DICOM UL, LLDP, SNMP, TLS, SMB).
//! - [`attack`]: a port scan and a Telnet login on the hospital network.
//! - [`hospital`], [`flows`] and [`fleet`]: the scenarios behind the `ward-samplegen`
//!   binary and `samples/hospital-room.pcap`.

pub mod attack;
pub mod conv;
pub mod coverage;
pub mod firmware;
pub mod fleet;
pub mod flows;
pub mod hospital;
pub mod packet;
pub mod payload;
pub mod pcap;

pub use conv::{udp_exchange, Frame, TcpConversation};
pub use packet::{Endpoint, Mac};
pub use pcap::{PcapWriter, LINKTYPE_ETHERNET};
