//! Typed records emitted by the analyzers, one module per protocol.
//!
//! Adding a protocol adds one module here and one [`Record`] variant; the
//! compiler then lists every `match` (identification, storage) that needs a
//! decision about it.

mod arp;
mod astm;
mod bacnet;
mod ble;
mod coap;
mod conn;
mod description;
mod dhcp;
mod dicom;
mod dns;
mod ftp;
mod hl7;
mod http;
mod mail;
mod modbus;
mod mqtt;
mod neighbor;
mod netbios;
mod poct;
mod rdp;
mod remote;
mod sip;
mod smb;
mod snmp;
mod ssdp;
mod ssh;
mod tls;
mod vnc;
mod weird;
mod wsd;

pub use arp::ArpRecord;
pub use astm::{AstmCounts, AstmRecord};
pub use bacnet::{BacnetDeviceProperties, BacnetIAm, BacnetRecord};
pub use ble::{BleAddrKind, BleAddress, BlePdu, BleRecord, BleUuid};
pub use coap::CoapRecord;
pub use conn::ConnRecord;
pub use description::{DescriptionKind, DescriptionRecord};
pub use dhcp::DhcpRecord;
pub use dicom::{DicomPdu, DicomRecord};
pub use dns::{DnsAnswer, DnsRecord};
pub use ftp::{CleartextLogin, LoginProtocol, PasswordClass};
pub use hl7::{Hl7Record, Observation};
pub use http::HttpRecord;
pub use mail::{MailProtocol, MailRecord};
pub use modbus::{ModbusDeviceId, ModbusException, ModbusFunctionCount, ModbusRecord};
pub use mqtt::MqttRecord;
pub use neighbor::{NeighborProtocol, NeighborRecord};
pub use netbios::NetbiosRecord;
pub use poct::{PoctCounts, PoctDevice, PoctRecord};
pub use rdp::RdpRecord;
pub use remote::{RemoteSupportProduct, RemoteSupportRecord};
pub use sip::SipRecord;
pub use smb::SmbRecord;
pub use snmp::SnmpRecord;
pub use ssdp::SsdpRecord;
pub use ssh::SshRecord;
pub use tls::TlsRecord;
pub use vnc::VncRecord;
pub use weird::Weird;
pub use wsd::{WsdRecord, WsdType};

use serde::{Deserialize, Serialize};

/// What an analyzer learned. Serialized with a `type` tag (`"type": "hl7"`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Record {
    /// Summary of a finished or expired flow (Zeek's conn.log).
    Conn(ConnRecord),
    /// One HL7 v2 message header seen over MLLP.
    Hl7(Hl7Record),
    /// One ASTM E1394 / LIS2-A2 laboratory message (header and counts only).
    Astm(AstmRecord),
    /// One CLSI POCT1-A2 point-of-care message (type, device identity, counts only).
    Poct1a(PoctRecord),
    /// One DICOM upper-layer association PDU.
    Dicom(DicomRecord),
    /// One DHCP message.
    Dhcp(DhcpRecord),
    /// One DNS, mDNS or LLMNR message.
    Dns(DnsRecord),
    /// An LLDP or CDP announcement.
    Neighbor(NeighborRecord),
    /// An ARP request or reply (a MAC's IPv4 binding).
    Arp(ArpRecord),
    /// One HTTP request/response pair.
    Http(HttpRecord),
    /// A TLS handshake.
    Tls(TlsRecord),
    /// An SSH connection's banners and algorithms.
    Ssh(SshRecord),
    /// SMB negotiation and session facts.
    Smb(SmbRecord),
    /// One SNMP message.
    Snmp(SnmpRecord),
    /// One MQTT connection (CONNECT, CONNACK, topic names).
    Mqtt(MqttRecord),
    /// One SIP request or response (method, hosts, product strings).
    Sip(SipRecord),
    /// One SSDP (UPnP discovery) datagram.
    Ssdp(SsdpRecord),
    /// One NetBIOS datagram (browser announcements).
    Netbios(NetbiosRecord),
    /// One CoAP message (header, Uri-Host/Path, Content-Format, discovered links).
    Coap(CoapRecord),
    /// One WS-Discovery datagram (DPWS / IEEE 11073 SDC discovery).
    Wsd(WsdRecord),
    /// A device description read from XML over HTTP (DPWS metadata, UPnP), identity only.
    Description(DescriptionRecord),
    /// One Modbus/TCP connection (function codes, exceptions, device identification).
    Modbus(ModbusRecord),
    /// One BACnet/IP datagram (BVLC, NPDU, APDU service, I-Am, device identity).
    Bacnet(BacnetRecord),
    /// One RFB (VNC) connection opening (versions, security, desktop).
    Vnc(VncRecord),
    /// One RDP connection opening (X.224 negotiation; the cookie's presence only).
    Rdp(RdpRecord),
    /// One flow of a vendor remote-support tool (TeamViewer, AnyDesk).
    RemoteSupport(RemoteSupportRecord),
    /// One SMTP, IMAP or POP3 connection (greeting, STARTTLS).
    Mail(MailRecord),
    /// A cleartext login attempt (FTP, Telnet, MQTT, SMTP, IMAP, POP3).
    Login(CleartextLogin),
    /// One Bluetooth LE link-layer PDU (advertising metadata).
    Ble(BleRecord),
    /// Something malformed or unexpected (Zeek's weird.log).
    Weird(Weird),
}

impl Record {
    /// Stable lowercase name of the record kind.
    pub fn kind(&self) -> &'static str {
        match self {
            Record::Conn(_) => "conn",
            Record::Hl7(_) => "hl7",
            Record::Astm(_) => "astm",
            Record::Poct1a(_) => "poct1a",
            Record::Dicom(_) => "dicom",
            Record::Dhcp(_) => "dhcp",
            Record::Dns(_) => "dns",
            Record::Neighbor(_) => "neighbor",
            Record::Arp(_) => "arp",
            Record::Http(_) => "http",
            Record::Tls(_) => "tls",
            Record::Ssh(_) => "ssh",
            Record::Smb(_) => "smb",
            Record::Snmp(_) => "snmp",
            Record::Mqtt(_) => "mqtt",
            Record::Mail(_) => "mail",
            Record::Modbus(_) => "modbus",
            Record::Bacnet(_) => "bacnet",
            Record::Vnc(_) => "vnc",
            Record::Rdp(_) => "rdp",
            Record::RemoteSupport(_) => "remote_support",
            Record::Sip(_) => "sip",
            Record::Ssdp(_) => "ssdp",
            Record::Netbios(_) => "netbios",
            Record::Coap(_) => "coap",
            Record::Wsd(_) => "wsd",
            Record::Description(_) => "description",
            Record::Login(_) => "login",
            Record::Ble(_) => "ble",
            Record::Weird(_) => "weird",
        }
    }
}

macro_rules! into_record {
    ($($ty:ident => $var:ident),* $(,)?) => {
        $(impl From<$ty> for Record {
            fn from(r: $ty) -> Record { Record::$var(r) }
        })*
    };
}

into_record!(
    ConnRecord => Conn, Hl7Record => Hl7, DicomRecord => Dicom, DhcpRecord => Dhcp,
    DnsRecord => Dns, NeighborRecord => Neighbor, HttpRecord => Http, TlsRecord => Tls,
    SshRecord => Ssh, SmbRecord => Smb, SnmpRecord => Snmp, CleartextLogin => Login,
    BleRecord => Ble,
    ArpRecord => Arp,
    AstmRecord => Astm,
    PoctRecord => Poct1a,
    MqttRecord => Mqtt,
    MailRecord => Mail,
    ModbusRecord => Modbus,
    BacnetRecord => Bacnet,
    VncRecord => Vnc,
    RdpRecord => Rdp,
    RemoteSupportRecord => RemoteSupport,
    SipRecord => Sip,
    SsdpRecord => Ssdp,
    NetbiosRecord => Netbios,
    CoapRecord => Coap,
    WsdRecord => Wsd,
    DescriptionRecord => Description,
);
