//! Facts: one thing known about one endpoint, with its evidence.

use model::{MacAddr, Timestamp};
use serde::{Deserialize, Serialize};
use std::net::IpAddr;

/// An endpoint as seen on the wire: a MAC, an IP, or both.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, PartialOrd, Ord)]
pub struct EndpointKey {
    /// Link-layer address (absent on raw-IP links and for remote hosts).
    pub mac: Option<MacAddr>,
    /// Network address.
    pub ip: Option<IpAddr>,
}

/// Hashes the key as two integers (the derived impl hashes each field and
/// `Option`/enum tag separately: several hasher rounds per lookup on the
/// per-record path). Equal keys give equal words, so this agrees with `Eq`.
impl std::hash::Hash for EndpointKey {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        // Low 48 bits: the MAC; bit 48: MAC present; bits 56..58: IP tag.
        let mut head = match self.mac {
            Some(MacAddr(m)) => {
                u64::from_be_bytes([0, 0, m[0], m[1], m[2], m[3], m[4], m[5]]) | 1 << 48
            }
            None => 0,
        };
        let ip = match self.ip {
            None => 0,
            Some(IpAddr::V4(v4)) => {
                head |= 1 << 56;
                u128::from(v4.to_bits())
            }
            Some(IpAddr::V6(v6)) => {
                head |= 2 << 56;
                v6.to_bits()
            }
        };
        state.write_u64(head);
        state.write_u128(ip);
    }
}

/// What a fact says.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, PartialOrd, Ord)]
#[serde(rename_all = "snake_case")]
pub enum FactKind {
    /// The endpoint used this IP address (DHCP assignment, mDNS A record).
    Ip,
    /// A host name (DHCP, mDNS, LLDP/CDP, SNMP sysName, NetBIOS).
    Hostname,
    /// A service it offers: `name/transport/port` (e.g. `hl7/tcp/2575`).
    ServiceOffered,
    /// A service it uses on another host: `name/transport/port`.
    ServiceUsed,
    /// A protocol role (`dicom-scu`, `hl7-sender`, `dhcp-client`, `http-server`).
    Role,
    /// Software or firmware string (User-Agent, Server, SSH banner, sysDescr...).
    Software,
    /// An application endpoint with identity (`dicom AE=PACS impl=OFFIS_DCMTK_367`).
    Application,
    /// HL7 application^facility it sends as or receives for.
    Hl7Application,
    /// HL7 message type it sent.
    Hl7MessageType,
    /// DICOM AE title.
    AeTitle,
    /// DICOM SOP class UID proposed or accepted.
    SopClass,
    /// A peer IP it talked to.
    Peer,
    /// Model or platform name (LLDP-MED, CDP platform, mDNS TXT, sysObjectID).
    Model,
    /// Manufacturer stated by the device itself (LLDP-MED, mDNS TXT).
    Manufacturer,
    /// Firmware revision stated by the device.
    Firmware,
    /// Serial number stated by the device.
    Serial,
    /// Operating system (SMB, NTLM version, DHCP vendor class hints).
    Os,
    /// DHCP vendor class identifier (option 60).
    DhcpVendorClass,
    /// DHCP parameter request list fingerprint (option 55).
    DhcpFingerprint,
    /// RFC 8520 MUD URL (DHCP option 161, LLDP).
    MudUrl,
    /// LLDP/CDP capability (`bridge`, `router`, `telephone`).
    Capability,
    /// mDNS/DNS-SD service type advertised (`_ipp._tcp`).
    MdnsService,
    /// DNS name it queried.
    DnsQuery,
    /// TLS: server name it asked for (client) or was asked for (server).
    TlsServerName,
    /// TLS client fingerprint (`ja3=... ja4=...`).
    TlsFingerprint,
    /// TLS parameters it negotiated as a server (`TLSv10 TLS_RSA_WITH_RC4_128_SHA`).
    TlsServerParams,
    /// TLS certificate it presented (`subject | issuer | notAfter`).
    TlsCertificate,
    /// Cleartext credentials crossed the network (`ftp user=admin password=default`).
    CleartextCredential,
    /// Patient data crossed the network in cleartext (`hl7`, `dicom`): the fact only.
    CleartextPhi,
    /// SMBv1 in use.
    Smb1,
    /// HTTP `Host` it requested (client).
    HttpHost,
    /// Its data left for another host: `CHANNEL IP PORT/TRANSPORT`
    /// (`dicom-store 10.20.0.10 104/tcp`; see [`crate::transfer`]).
    Transfer,
}

impl FactKind {
    /// Every kind, for tests and parsing.
    pub const ALL: &'static [FactKind] = &[
        FactKind::Ip,
        FactKind::Hostname,
        FactKind::ServiceOffered,
        FactKind::ServiceUsed,
        FactKind::Role,
        FactKind::Software,
        FactKind::Application,
        FactKind::Hl7Application,
        FactKind::Hl7MessageType,
        FactKind::AeTitle,
        FactKind::SopClass,
        FactKind::Peer,
        FactKind::Model,
        FactKind::Manufacturer,
        FactKind::Firmware,
        FactKind::Serial,
        FactKind::Os,
        FactKind::DhcpVendorClass,
        FactKind::DhcpFingerprint,
        FactKind::MudUrl,
        FactKind::Capability,
        FactKind::MdnsService,
        FactKind::DnsQuery,
        FactKind::TlsServerName,
        FactKind::TlsFingerprint,
        FactKind::TlsServerParams,
        FactKind::TlsCertificate,
        FactKind::CleartextCredential,
        FactKind::CleartextPhi,
        FactKind::Smb1,
        FactKind::HttpHost,
        FactKind::Transfer,
    ];

    /// snake_case name (as stored).
    pub fn as_str(self) -> &'static str {
        match self {
            FactKind::Ip => "ip",
            FactKind::Hostname => "hostname",
            FactKind::ServiceOffered => "service_offered",
            FactKind::ServiceUsed => "service_used",
            FactKind::Role => "role",
            FactKind::Software => "software",
            FactKind::Application => "application",
            FactKind::Hl7Application => "hl7_application",
            FactKind::Hl7MessageType => "hl7_message_type",
            FactKind::AeTitle => "ae_title",
            FactKind::SopClass => "sop_class",
            FactKind::Peer => "peer",
            FactKind::Model => "model",
            FactKind::Manufacturer => "manufacturer",
            FactKind::Firmware => "firmware",
            FactKind::Serial => "serial",
            FactKind::Os => "os",
            FactKind::DhcpVendorClass => "dhcp_vendor_class",
            FactKind::DhcpFingerprint => "dhcp_fingerprint",
            FactKind::MudUrl => "mud_url",
            FactKind::Capability => "capability",
            FactKind::MdnsService => "mdns_service",
            FactKind::DnsQuery => "dns_query",
            FactKind::TlsServerName => "tls_server_name",
            FactKind::TlsFingerprint => "tls_fingerprint",
            FactKind::TlsServerParams => "tls_server_params",
            FactKind::TlsCertificate => "tls_certificate",
            FactKind::CleartextCredential => "cleartext_credential",
            FactKind::CleartextPhi => "cleartext_phi",
            FactKind::Smb1 => "smb1",
            FactKind::HttpHost => "http_host",
            FactKind::Transfer => "transfer",
        }
    }

    /// Parses [`FactKind::as_str`].
    pub fn parse(s: &str) -> Option<FactKind> {
        FactKind::ALL.iter().copied().find(|k| k.as_str() == s)
    }
}

/// One thing known about one endpoint.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Fact {
    /// Who it is about.
    pub endpoint: EndpointKey,
    /// What it says.
    pub kind: FactKind,
    /// The value (bounded, printable).
    pub value: String,
    /// Which analyzer saw it (`dhcp`, `hl7`, `conn`...).
    pub source: String,
    /// First sighting (packet time).
    pub first_seen: Timestamp,
    /// Last sighting.
    pub last_seen: Timestamp,
    /// Sightings.
    pub count: u64,
    /// Evidence of the first sighting: the flow (`10.0.0.1:40000 -> 10.0.0.2:2575/tcp`) or frame.
    pub evidence: String,
}

#[cfg(test)]
mod key_hash_tests {
    use super::*;
    use std::hash::BuildHasher;

    #[test]
    fn distinct_shapes_hash_apart_and_equal_keys_alike() {
        let s = foldhash::fast::FixedState::with_seed(7);
        let keys = [
            EndpointKey {
                mac: None,
                ip: None,
            },
            EndpointKey {
                mac: Some(MacAddr([0; 6])),
                ip: None,
            },
            EndpointKey {
                mac: None,
                ip: Some("0.0.0.0".parse().unwrap()),
            },
            EndpointKey {
                mac: None,
                ip: Some("::".parse().unwrap()),
            },
            EndpointKey {
                mac: Some(MacAddr([0, 9, 0xfb, 1, 2, 3])),
                ip: Some("10.0.0.1".parse().unwrap()),
            },
        ];
        let hashes: Vec<u64> = keys.iter().map(|k| s.hash_one(k)).collect();
        for (i, a) in hashes.iter().enumerate() {
            assert_eq!(*a, s.hash_one(keys[i]));
            for b in &hashes[i + 1..] {
                assert_ne!(a, b);
            }
        }
    }
}
