//! Firmware scenario: an infusion pump (`Example Medical` `Example Infusion
//! Pump`, the sample advisory's product) announcing its firmware in LLDP-MED
//! inventory TLVs, four times a minute apart from a start time the caller
//! picks. Successive captures with other versions and later start times show
//! a device being updated (or rolled back): the remediation tests' input.

use std::io::{self, Write};
use std::net::Ipv4Addr;

use crate::conv::Frame;
use crate::packet::{ethernet, Mac};
use crate::payload::lldp;
use crate::pcap::{PcapWriter, LINKTYPE_ETHERNET};

/// The pump's MAC (a locally administered address: no vendor's OUI).
pub const PUMP_MAC: Mac = [0x02, 0x00, 0x5e, 0x10, 0x00, 0x21];

/// Its address.
pub const PUMP_IP: Ipv4Addr = Ipv4Addr::new(10, 20, 0, 21);

/// The frames: four LLDP-MED adverts of `version`, from `start_secs` (Unix).
pub fn frames(version: &str, start_secs: u64) -> Vec<Frame> {
    let advert = lldp::Advert {
        chassis_mac: PUMP_MAC,
        port_id: "eth0",
        port_description: "pump network port",
        system_name: "PUMP-ICU-07",
        system_description: "Example Medical Example Infusion Pump",
        capabilities: 0,
        enabled: 0,
        management: (PUMP_IP, 1),
        ttl: 120,
    };
    let inv = lldp::Inventory {
        firmware: version,
        manufacturer: "Example Medical",
        model: "Example Infusion Pump",
    };
    let data = ethernet(
        lldp::LLDP_MULTICAST,
        PUMP_MAC,
        0x88cc,
        &lldp::lldpdu_with_inventory(&advert, &inv),
    );
    (0..4)
        .map(|k| Frame {
            ts_micros: (start_secs + 60 * k) * 1_000_000,
            data: data.clone(),
        })
        .collect()
}

/// Writes the scenario as a pcap (Ethernet link type) to `out`.
pub fn write<W: Write>(out: W, version: &str, start_secs: u64) -> io::Result<W> {
    let mut w = PcapWriter::new(out, LINKTYPE_ETHERNET)?;
    w.write_frames(&frames(version, start_secs))?;
    w.into_inner()
}
