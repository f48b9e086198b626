//! LLDP and CDP link-layer announcements.

use crate::MacAddr;
use serde::{Deserialize, Serialize};

/// Which discovery protocol.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum NeighborProtocol {
    /// IEEE 802.1AB LLDP.
    Lldp,
    /// Cisco Discovery Protocol.
    Cdp,
}

/// One LLDP or CDP announcement.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NeighborRecord {
    /// LLDP or CDP.
    pub protocol: NeighborProtocol,
    /// Source MAC of the frame (the announcing device's port).
    pub src_mac: MacAddr,
    /// LLDP chassis id / CDP device id.
    pub chassis_id: Option<String>,
    /// Port id.
    pub port_id: Option<String>,
    /// LLDP port description.
    #[serde(default)]
    pub port_description: Option<String>,
    /// System name.
    pub system_name: Option<String>,
    /// System description / CDP software version.
    pub system_description: Option<String>,
    /// CDP platform or LLDP-MED model name.
    pub platform: Option<String>,
    /// Management addresses announced.
    pub mgmt_addrs: Vec<String>,
    /// Enabled capabilities. LLDP: other, repeater, bridge, wlan_ap, router,
    /// telephone, docsis, station, c_vlan, s_vlan, tpmr. CDP: router, bridge,
    /// source_route_bridge, switch, host, igmp, repeater, telephone,
    /// remote_managed, cvta, mac_relay.
    pub capabilities: Vec<String>,
    /// LLDP-MED inventory: manufacturer.
    pub manufacturer: Option<String>,
    /// LLDP-MED inventory: hardware revision.
    #[serde(default)]
    pub hardware: Option<String>,
    /// LLDP-MED inventory: firmware revision.
    pub firmware: Option<String>,
    /// LLDP-MED inventory: software revision.
    pub software: Option<String>,
    /// LLDP-MED inventory: serial number.
    pub serial: Option<String>,
    /// MUD URL (RFC 8520 LLDP extension).
    pub mud_url: Option<String>,
}
