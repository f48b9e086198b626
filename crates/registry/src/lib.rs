//! The list of every protocol analyzer Ward runs.
//!
//! Adding a protocol: create `protocols/<name>/` (a crate implementing
//! `analyzer_api::Protocol` or `LinkProtocol`), add its dependency line to this
//! crate's `Cargo.toml`, and one line to [`FLOW`] or [`LINK`]. The conformance
//! tests below then run it on garbage, truncations and split points.

use analyzer_api::{LinkProtocol, Protocol};

/// Flow-based protocols, in probe order for flows whose port gives no hint.
/// Cheap, distinctive probes come first.
pub const FLOW: &[&dyn Protocol] = &[
    &proto_hl7::Hl7,
    &proto_astm::Astm,
    &proto_poct1a::Poct1a,
    &proto_dicom::Dicom,
    &proto_dhcp::Dhcp,
    &proto_dns::Dns,
    &proto_tls::Tls,
    &proto_tls::Dtls,
    &proto_ssh::Ssh,
    &proto_http::Http,
    &proto_smb::Smb,
    &proto_snmp::Snmp,
    &proto_ftp::Ftp,
    &proto_ftp::Telnet,
    &proto_mqtt::Mqtt,
    &proto_mail::Smtp,
    &proto_mail::Imap,
    &proto_mail::Pop3,
    &proto_modbus::Modbus,
    &proto_bacnet::Bacnet,
    &proto_vnc::Vnc,
    &proto_rdp::Rdp,
    &proto_remote_support::TeamViewer,
    &proto_remote_support::AnyDesk,
    &proto_sip::Sip,
    &proto_ssdp::Ssdp,
    &proto_netbios::Netbios,
    &proto_coap::Coap,
    &proto_wsd::Wsd,
];

/// Link-layer protocols (no flows), and protocols of whole link types (Bluetooth LE).
pub const LINK: &[&dyn LinkProtocol] = &[
    &proto_lldp::Lldp,
    &proto_lldp::Cdp,
    &proto_arp::Arp,
    &proto_ble::Ble,
];

/// Looks a flow protocol up by name.
pub fn by_name(name: &str) -> Option<&'static dyn Protocol> {
    FLOW.iter().copied().find(|p| p.name() == name)
}

#[cfg(test)]
mod conformance;
