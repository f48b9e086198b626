//! Data leaving a device: the `transfer` facts and the table of backup and
//! file-copy services that marks a connection as one.
//!
//! A transfer fact sits on the endpoint whose data left (the *source*) and
//! names the channel, the destination address and its port:
//! `dicom-store 10.20.0.10 104/tcp`. The fact's first/last time and count say
//! when the copies were seen; its evidence is the first one's flow. Three
//! kinds of traffic make one:
//! - a DICOM association that accepted a storage SOP class and then carried
//!   P-DATA (C-STORE; the SCU is the source),
//! - an HL7 message other than an acknowledgement (`hl7-oru`, `hl7-adt`...;
//!   the sender is the source),
//! - a connection whose service or server port is a row of [`CHANNELS`] and
//!   whose source side sent bytes (SMB, NFS, rsync, NDMP, backup agents).
//!
//! Only addresses, ports and channel names are kept: never file names,
//! study identifiers or message contents.

use model::Transport;
use std::net::IpAddr;

/// Which end of a connection holds the data being copied.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    /// The client connects and sends its data (an agent pushing to a repository).
    Client,
    /// The server's data is read by the client (NDMP: the backup application
    /// connects to the filer, which sends its data).
    Server,
}

/// One backup or file-copy service, as data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Channel {
    /// Channel name in the fact (`smb`, `rsync`, `veeam`...).
    pub name: &'static str,
    /// What people call it.
    pub label: &'static str,
    /// Service name the flow analyzers give it (`smb`), matched before ports.
    pub service: Option<&'static str>,
    /// Transport.
    pub transport: Transport,
    /// First server port.
    pub port_lo: u16,
    /// Last server port (same as `port_lo` for one port).
    pub port_hi: u16,
    /// Which end's data is copied.
    pub source_side: Side,
    /// Bytes the source side must send in one flow for it to be a copy: 1 for
    /// dedicated backup services, more for general file protocols (an SMB or
    /// NFS session that only negotiates, browses or reads copies nothing).
    pub min_bytes: u64,
    /// True when the service sends data unencrypted unless configured
    /// otherwise (and nothing on the wire says it was).
    pub cleartext: bool,
    /// Where the port and direction come from.
    pub reference: &'static str,
}

/// Backup and file-copy services Ward recognises in traffic. Rows whose
/// service an analyzer names (`smb`) match on that name; the others match on
/// the server port of a flow no analyzer recognised. Control-only ports
/// (Veeam 9392, Bacula director 9101 and file daemon 9102, Commvault 8401)
/// are left out: data does not travel on them.
pub const CHANNELS: &[Channel] = &[
    Channel {
        name: "smb",
        label: "SMB file share",
        service: Some("smb"),
        transport: Transport::Tcp,
        port_lo: 445,
        port_hi: 445,
        source_side: Side::Client,
        min_bytes: 65_536,
        cleartext: false,
        reference: "MS-SMB2 2.1 (direct TCP transport, port 445); SMBv1 is flagged from the negotiate",
    },
    Channel {
        name: "nfs",
        label: "NFS",
        service: None,
        transport: Transport::Tcp,
        port_lo: 2049,
        port_hi: 2049,
        source_side: Side::Client,
        min_bytes: 65_536,
        cleartext: true,
        reference: "RFC 7530 section 3.1 (NFSv4 on TCP 2049); data is cleartext unless RPCSEC_GSS krb5p",
    },
    Channel {
        name: "rsync",
        label: "rsync daemon",
        service: None,
        transport: Transport::Tcp,
        port_lo: 873,
        port_hi: 873,
        source_side: Side::Client,
        min_bytes: 1,
        cleartext: true,
        reference: "IANA service name rsync, 873/tcp; rsyncd(5): the daemon protocol has no encryption",
    },
    Channel {
        name: "ndmp",
        label: "NDMP",
        service: None,
        transport: Transport::Tcp,
        port_lo: 10000,
        port_hi: 10000,
        source_side: Side::Server,
        min_bytes: 1,
        cleartext: true,
        reference: "IANA service name ndmp, 10000/tcp; NDMP v4: the backup application connects to the filer",
    },
    Channel {
        name: "commvault",
        label: "Commvault",
        service: None,
        transport: Transport::Tcp,
        port_lo: 8400,
        port_hi: 8400,
        source_side: Side::Client,
        min_bytes: 1,
        cleartext: false,
        reference: "Commvault documentation, TCP Ports Used for Services: clients to MediaAgent/CommServe 8400 (CVD)",
    },
    Channel {
        name: "commvault",
        label: "Commvault (tunnel)",
        service: None,
        transport: Transport::Tcp,
        port_lo: 8403,
        port_hi: 8403,
        source_side: Side::Client,
        min_bytes: 1,
        cleartext: false,
        reference: "Commvault documentation, TCP Ports Used for Services: firewall tunnel port 8403 (CVD + 3)",
    },
    Channel {
        name: "bacula",
        label: "Bacula/Bareos storage daemon",
        service: None,
        transport: Transport::Tcp,
        port_lo: 9103,
        port_hi: 9103,
        source_side: Side::Client,
        min_bytes: 1,
        cleartext: false,
        reference: "Bacula manual and packaged firewall rules (bacula-sd.fw): the file daemon sends data to the storage daemon on 9103",
    },
    Channel {
        name: "veeam",
        label: "Veeam data mover",
        service: None,
        transport: Transport::Tcp,
        port_lo: 6162,
        port_hi: 6162,
        source_side: Side::Client,
        min_bytes: 1,
        cleartext: false,
        reference: "Veeam Backup & Replication help center, Ports: 6162 Veeam Data Mover on the repository or gateway",
    },
    Channel {
        name: "veeam",
        label: "Veeam data channel",
        service: None,
        transport: Transport::Tcp,
        port_lo: 2500,
        port_hi: 3300,
        source_side: Side::Client,
        min_bytes: 1,
        cleartext: false,
        reference: "Veeam Backup & Replication help center, Ports: 2500-3300 to the backup repository, transmission channels for jobs (port range only: other services in it are possible)",
    },
];

/// The row for a flow: by the analyzers' service name when there is one,
/// else by server port.
pub fn channel_for(service: &str, transport: Transport, port: u16) -> Option<&'static Channel> {
    if !service.is_empty() {
        return CHANNELS
            .iter()
            .find(|c| c.service == Some(service) && c.transport == transport);
    }
    CHANNELS.iter().find(|c| {
        c.service.is_none() && c.transport == transport && (c.port_lo..=c.port_hi).contains(&port)
    })
}

/// The channel row named `name` (its first row).
pub fn channel_named(name: &str) -> Option<&'static Channel> {
    CHANNELS.iter().find(|c| c.name == name)
}

/// Channel name of a DICOM storage association.
pub const DICOM_STORE: &str = "dicom-store";

/// Prefix of DICOM storage SOP class UIDs (PS3.4 Annex B, `1.2.840.10008.5.1.4.1.1.*`).
pub const STORAGE_SOP_PREFIX: &str = "1.2.840.10008.5.1.4.1.1.";

/// True for a DICOM storage SOP class UID.
pub fn is_storage_sop(uid: &str) -> bool {
    uid.starts_with(STORAGE_SOP_PREFIX)
}

/// The channel of an HL7 message type: `hl7-` and its first three letters,
/// lower case (`ORU^R01` → `hl7-oru`); `None` for acknowledgements and types
/// that do not start with three letters.
pub fn hl7_channel(message_type: &str) -> Option<String> {
    let head = message_type.get(..3)?;
    if !head.bytes().all(|b| b.is_ascii_alphabetic()) || head.eq_ignore_ascii_case("ACK") {
        return None;
    }
    Some(format!("hl7-{}", head.to_ascii_lowercase()))
}

/// One transfer fact's value, read back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transfer {
    /// Channel (`dicom-store`, `hl7-oru`, `smb`...).
    pub channel: String,
    /// Where the data went.
    pub dest: IpAddr,
    /// The destination's port.
    pub port: u16,
    /// `tcp` or `udp`.
    pub transport: String,
}

/// Writes a transfer value into `out` (cleared first): `CHANNEL IP PORT/TRANSPORT`.
pub fn write_value(
    out: &mut String,
    channel: &str,
    dest: &IpAddr,
    port: u16,
    transport: Transport,
) {
    out.clear();
    out.push_str(channel);
    out.push(' ');
    model::addr::push_ip(out, dest);
    out.push(' ');
    out.push_str(itoa::Buffer::new().format(port));
    out.push('/');
    out.push_str(transport.as_str());
}

impl Transfer {
    /// Reads a transfer fact's value; `None` when it is not one (stored
    /// values are checked, never trusted).
    pub fn parse(value: &str) -> Option<Transfer> {
        let mut parts = value.split(' ');
        let channel = parts.next()?;
        let dest = parts.next()?.parse().ok()?;
        let (port, transport) = parts.next()?.split_once('/')?;
        if parts.next().is_some()
            || channel.is_empty()
            || !channel
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
            || !matches!(transport, "tcp" | "udp")
        {
            return None;
        }
        Some(Transfer {
            channel: channel.to_string(),
            dest,
            port: port.parse().ok()?,
            transport: transport.to_string(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_round_trip() {
        let mut s = String::new();
        let ip: IpAddr = "10.20.0.10".parse().unwrap();
        write_value(&mut s, DICOM_STORE, &ip, 104, Transport::Tcp);
        assert_eq!(s, "dicom-store 10.20.0.10 104/tcp");
        let t = Transfer::parse(&s).unwrap();
        assert_eq!((t.channel.as_str(), t.dest, t.port), (DICOM_STORE, ip, 104));
        let v6: IpAddr = "fe80::1".parse().unwrap();
        write_value(&mut s, "rsync", &v6, 873, Transport::Tcp);
        assert_eq!(Transfer::parse(&s).unwrap().dest, v6);
        for bad in [
            "",
            "smb",
            "smb 10.0.0.1",
            "smb 10.0.0.1 445",
            "smb 10.0.0.1 445/sctp",
            "smb 10.0.0.1 99999/tcp",
            "<b> 10.0.0.1 445/tcp",
            "smb 10.0.0.1 445/tcp extra",
        ] {
            assert_eq!(Transfer::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn channels_match_by_service_then_port() {
        assert_eq!(channel_for("smb", Transport::Tcp, 445).unwrap().name, "smb");
        // A recognised protocol on a range port is not a backup channel.
        assert!(channel_for("hl7", Transport::Tcp, 2575).is_none());
        assert_eq!(channel_for("", Transport::Tcp, 2575).unwrap().name, "veeam");
        assert_eq!(channel_for("", Transport::Tcp, 873).unwrap().name, "rsync");
        assert_eq!(
            channel_for("", Transport::Tcp, 10000).unwrap().source_side,
            Side::Server
        );
        assert!(channel_for("", Transport::Udp, 873).is_none());
        assert!(channel_for("", Transport::Tcp, 80).is_none());
        // Every row is well formed and cites its source.
        for c in CHANNELS {
            assert!(c.port_lo <= c.port_hi && !c.reference.is_empty(), "{c:?}");
            assert!(c.name.bytes().all(|b| b.is_ascii_lowercase()), "{c:?}");
        }
    }

    #[test]
    fn hl7_channels_skip_acks_and_junk() {
        assert_eq!(hl7_channel("ORU^R01").as_deref(), Some("hl7-oru"));
        assert_eq!(hl7_channel("adt^A01").as_deref(), Some("hl7-adt"));
        assert_eq!(hl7_channel("ACK^R01"), None);
        assert_eq!(hl7_channel("O<"), None);
        assert_eq!(hl7_channel("<sc"), None);
        assert_eq!(hl7_channel("é€"), None);
    }
}
