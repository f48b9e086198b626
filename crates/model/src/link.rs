//! Link layers: the pcap link type of a captured frame ([`LinkType`]) and the
//! link-layer frame handed to link-layer analyzers ([`LinkFrame`]).
//!
//! Both live here, below `capture` (which reads link types from files and
//! interfaces), `wire` (which decodes by link type and produces link frames) and
//! `analyzer-api` (whose `LinkProtocol`s consume them), so none of those depends
//! on another for them.
//!
//! Adding a link type: one variant and one row in [`LinkType::NAMED`].
//! Reference: <https://www.tcpdump.org/linktypes.html>.

use crate::MacAddr;

/// The link-layer header type of a frame (pcap `LINKTYPE_*` / `DLT_*`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LinkType {
    /// IEEE 802.3 Ethernet (1).
    Ethernet,
    /// Raw IPv4 or IPv6, chosen by the version nibble (101; DLT 12, or 14 on OpenBSD).
    Raw,
    /// BSD loopback: 4-byte protocol family in the capturing host's byte order (0).
    Null,
    /// OpenBSD loopback: 4-byte protocol family in network byte order (108).
    Loop,
    /// Linux "cooked" capture v1, 16-byte header (113).
    LinuxSll,
    /// Linux "cooked" capture v2, 20-byte header (276).
    LinuxSll2,
    /// Raw IPv4 (228).
    Ipv4,
    /// Raw IPv6 (229).
    Ipv6,
    /// Bluetooth LE link-layer packets (251, `LINKTYPE_BLUETOOTH_LE_LL`).
    BluetoothLeLl,
    /// Bluetooth LE link layer with a PHY pseudo-header (256).
    BluetoothLeLlWithPhdr,
    /// Nordic nRF Sniffer for Bluetooth LE (272, `LINKTYPE_NORDIC_BLE`).
    NordicBle,
    /// Any other link type, by its number.
    Other(u32),
}

impl LinkType {
    /// Every named link type: the variant, its pcap `LINKTYPE_*` value and its
    /// short stable name (for logs and metrics). One row per variant but `Other`.
    pub const NAMED: &'static [(LinkType, u32, &'static str)] = &[
        (LinkType::Ethernet, 1, "ethernet"),
        (LinkType::Raw, 101, "raw"),
        (LinkType::Null, 0, "null"),
        (LinkType::Loop, 108, "loop"),
        (LinkType::LinuxSll, 113, "linux_sll"),
        (LinkType::LinuxSll2, 276, "linux_sll2"),
        (LinkType::Ipv4, 228, "ipv4"),
        (LinkType::Ipv6, 229, "ipv6"),
        (LinkType::BluetoothLeLl, 251, "bluetooth_le_ll"),
        (LinkType::BluetoothLeLlWithPhdr, 256, "bluetooth_le_ll_phdr"),
        (LinkType::NordicBle, 272, "nordic_ble"),
    ];

    /// Platform `DLT_*` values that differ from the `LINKTYPE_*` value of the same
    /// link type (raw IP is DLT 12, or 14 on OpenBSD).
    pub const DLT_ALIASES: &'static [(u32, LinkType)] = &[(12, LinkType::Raw), (14, LinkType::Raw)];

    /// Maps a pcap `LINKTYPE_*` value (or a platform `DLT_*` value) to a link type.
    pub fn from_dlt(dlt: u32) -> LinkType {
        Self::NAMED
            .iter()
            .find(|(_, n, _)| *n == dlt)
            .map(|(t, _, _)| *t)
            .or_else(|| {
                Self::DLT_ALIASES
                    .iter()
                    .find(|(n, _)| *n == dlt)
                    .map(|(_, t)| *t)
            })
            .unwrap_or(LinkType::Other(dlt))
    }

    fn row(self) -> Option<&'static (LinkType, u32, &'static str)> {
        Self::NAMED.iter().find(|(t, _, _)| *t == self)
    }

    /// The pcap `LINKTYPE_*` value.
    pub fn to_linktype(self) -> u32 {
        match self {
            LinkType::Other(n) => n,
            t => t.row().map_or(u32::MAX, |r| r.1),
        }
    }

    /// Short stable name (`ethernet`, `raw`, `linux_sll`, `other`) for logs and metrics.
    pub fn name(self) -> &'static str {
        self.row().map_or("other", |r| r.2)
    }
}

/// A link-layer frame handed to link-layer analyzers (`analyzer_api::LinkProtocol`).
#[derive(Debug, Clone, Copy)]
pub struct LinkFrame<'a> {
    /// Destination MAC.
    pub dst: MacAddr,
    /// Source MAC.
    pub src: MacAddr,
    /// EtherType for Ethernet II frames.
    pub ethertype: Option<u16>,
    /// (OUI, protocol id) for 802.2 LLC/SNAP frames.
    pub snap: Option<([u8; 3], u16)>,
    /// The pcap `LINKTYPE_*` of a frame handed over whole, its link header
    /// not decoded by `wire` (Bluetooth LE: 251, 256, 272): `payload` is
    /// then the entire captured frame and the MACs are zero. `None` for
    /// frames whose link header was decoded (Ethernet, Linux cooked, ...).
    pub raw_link: Option<u32>,
    /// Bytes after the EtherType or SNAP header (or the whole frame, see `raw_link`).
    pub payload: &'a [u8],
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dlt_mapping() {
        assert_eq!(LinkType::from_dlt(1), LinkType::Ethernet);
        for raw in [101, 12, 14] {
            assert_eq!(LinkType::from_dlt(raw), LinkType::Raw);
        }
        assert_eq!(LinkType::from_dlt(0), LinkType::Null);
        assert_eq!(LinkType::from_dlt(108), LinkType::Loop);
        assert_eq!(LinkType::from_dlt(113), LinkType::LinuxSll);
        assert_eq!(LinkType::from_dlt(276), LinkType::LinuxSll2);
        assert_eq!(LinkType::from_dlt(228), LinkType::Ipv4);
        assert_eq!(LinkType::from_dlt(229), LinkType::Ipv6);
        assert_eq!(LinkType::from_dlt(127), LinkType::Other(127));
        assert_eq!(LinkType::Other(127).name(), "other");
        assert_eq!(LinkType::from_dlt(272), LinkType::NordicBle);
        for lt in [0, 1, 101, 108, 113, 276, 228, 229, 9, 251, 256, 272] {
            assert_eq!(LinkType::from_dlt(lt).to_linktype(), lt);
        }
    }

    #[test]
    fn table_is_consistent() {
        for (i, (t, n, name)) in LinkType::NAMED.iter().enumerate() {
            assert!(!matches!(t, LinkType::Other(_)), "{name}: Other has no row");
            assert_eq!(LinkType::from_dlt(*n), *t, "{name}");
            assert_eq!(t.to_linktype(), *n, "{name}");
            assert_eq!(t.name(), *name);
            for (u, m, other) in &LinkType::NAMED[i + 1..] {
                assert!(
                    t != u && n != m && name != other,
                    "duplicate row {name} / {other}"
                );
            }
        }
        for (n, t) in LinkType::DLT_ALIASES {
            assert!(
                LinkType::NAMED.iter().all(|r| r.1 != *n),
                "alias {n} shadows a LINKTYPE"
            );
            assert_eq!(LinkType::from_dlt(*n), *t);
        }
    }
}
