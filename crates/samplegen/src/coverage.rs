//! The backup-coverage scenario (issue 16, acceptance item 4): a small
//! imaging and lab network on 10.30.0.0/24 where every clinical-data
//! producer's data leaves it except one ultrasound's.
//!
//! - CT `CT_SCANNER_1` stores a study to PACS `PACS_MAIN` (DICOM C-STORE);
//! - the PACS copies to the backup server over Commvault (TCP 8400);
//! - a Sysmex analyzer sends an ORU^R01 result to the interface engine
//!   `MIRTH^LAB`, which forwards it to the EHR `EPIC^HOSP`;
//! - the EHR is backed up to the same server (Commvault, TCP 8400);
//! - ultrasound `US_ROOM_2` proposes Ultrasound Image Storage to the PACS,
//!   which rejects the association (called AE title not recognized): its
//!   studies never leave it. Ward must flag exactly this device.
//!
//! Patient fields carry the hospital scenario's canaries. Deterministic;
//! `ward-samplegen coverage OUT.pcap` writes it.

use std::io::{self, Write};
use std::net::Ipv4Addr;

use crate::conv::{Frame, TcpConversation};
use crate::hospital::{Device, CANARY_DOB, CANARY_MRN, CANARY_NAME};
use crate::payload::{dicom, hl7};
use crate::pcap::{PcapWriter, LINKTYPE_ETHERNET};

/// 2026-02-02 08:00:00 UTC in microseconds since the Unix epoch.
pub const START_MICROS: u64 = 1_770_019_200_000_000;

const fn dev(role: &'static str, vendor: &'static str, mac: [u8; 6], last: u8) -> Device {
    Device {
        role,
        vendor,
        mac,
        ip: Ipv4Addr::new(10, 30, 0, last),
        ttl: 64,
    }
}

// OUI 00:08:74 = Dell Inc.
/// PACS `PACS_MAIN`.
pub const PACS: Device = dev("PACS", "Dell", [0x00, 0x08, 0x74, 0x30, 0x00, 0x0a], 10);
// OUI 00:12:F0 = Intel Corporate
/// Interface engine `MIRTH^LAB`.
pub const ENGINE: Device = dev(
    "HL7 interface engine",
    "Intel",
    [0x00, 0x12, 0xf0, 0x30, 0x00, 0x0b],
    11,
);
// OUI 00:0B:DB = Dell Inc.
/// EHR `EPIC^HOSP`.
pub const EHR: Device = dev("EHR", "Dell", [0x00, 0x0b, 0xdb, 0x30, 0x00, 0x0c], 12);
// OUI 00:0E:8C = Siemens AG
/// CT `CT_SCANNER_1`.
pub const CT: Device = dev(
    "CT scanner",
    "Siemens",
    [0x00, 0x0e, 0x8c, 0x30, 0x00, 0x32],
    50,
);
// OUI 44:4B:5D = GE Healthcare
/// Ultrasound `US_ROOM_2`: never gets a study out.
pub const ULTRASOUND: Device = dev(
    "ultrasound",
    "GE Healthcare",
    [0x44, 0x4b, 0x5d, 0x30, 0x00, 0x34],
    52,
);
// OUI 00:06:6B = Sysmex Corporation
/// Hematology analyzer sending results.
pub const ANALYZER: Device = dev(
    "lab analyzer",
    "Sysmex",
    [0x00, 0x06, 0x6b, 0x30, 0x00, 0x3c],
    60,
);
// OUI 00:25:90 = Super Micro Computer, Inc.
/// Backup server (Commvault MediaAgent).
pub const BACKUP: Device = dev(
    "backup server",
    "Supermicro",
    [0x00, 0x25, 0x90, 0x30, 0x00, 0x5a],
    90,
);

const fn at(secs: u64) -> u64 {
    START_MICROS + secs * 1_000_000
}

fn hl7_time(ts_micros: u64) -> String {
    let (y, m, d, hh, mm, ss) = model::time::civil((ts_micros / 1_000_000) as i64);
    format!("{y:04}{m:02}{d:02}{hh:02}{mm:02}{ss:02}")
}

fn association<'a>(calling: &'a str, version: &'a str) -> dicom::Association<'a> {
    dicom::Association {
        calling_ae: calling,
        called_ae: "PACS_MAIN",
        max_pdu: 16_384,
        implementation_class_uid: "1.2.3.4.5.6.7.8",
        implementation_version: version,
    }
}

fn ct_store(out: &mut Vec<Frame>) {
    let sop_instance = "1.2.3.4.5.6.7.8.1.20260202.1";
    let rq = association("CT_SCANNER_1", "SIEMENS_CT_VA40");
    let ac = dicom::Association {
        implementation_version: "PACS_STORE_22",
        ..rq
    };
    let image = dicom::CtImage {
        sop_instance,
        study_instance: "1.2.3.4.5.6.7.8.2.20260202",
        series_instance: "1.2.3.4.5.6.7.8.3.20260202",
        patient_name: CANARY_NAME,
        patient_id: CANARY_MRN,
        birth_date: CANARY_DOB,
    };
    let command = dicom::c_store_rq(1, dicom::CT_IMAGE_STORAGE, sop_instance);
    let dataset = dicom::ct_dataset(&image);
    let rsp = dicom::c_store_rsp(1, dicom::CT_IMAGE_STORAGE, sop_instance);
    let mut c = TcpConversation::new(CT.at(50_104), PACS.at(104), at(10));
    c.handshake()
        .client_send(&dicom::associate_rq(
            &rq,
            1,
            dicom::CT_IMAGE_STORAGE,
            &[dicom::EXPLICIT_VR_LE],
        ))
        .server_send(&dicom::associate_ac(&ac, 1, dicom::EXPLICIT_VR_LE))
        .client_send(&dicom::p_data(&[
            (1, dicom::PDV_COMMAND | dicom::PDV_LAST, &command),
            (1, dicom::PDV_LAST, &dataset),
        ]))
        .server_send(&dicom::p_data(&[(
            1,
            dicom::PDV_COMMAND | dicom::PDV_LAST,
            &rsp,
        )]))
        .client_send(&dicom::release_rq())
        .server_send(&dicom::release_rp())
        .close();
    out.extend(c.into_frames());
}

fn ultrasound_rejected(out: &mut Vec<Frame>) {
    let rq = association("US_ROOM_2", "GE_LOGIQ_R3");
    let mut c = TcpConversation::new(ULTRASOUND.at(51_300), PACS.at(104), at(20));
    c.handshake()
        .client_send(&dicom::associate_rq(
            &rq,
            1,
            dicom::US_IMAGE_STORAGE,
            &[dicom::EXPLICIT_VR_LE],
        ))
        // Permanent, by the service user: called AE title not recognized.
        .server_send(&dicom::associate_rj(1, 1, 7))
        .close();
    out.extend(c.into_frames());
}

fn hl7_hop(
    out: &mut Vec<Frame>,
    from: &Device,
    sport: u16,
    to: &Device,
    route: hl7::Route<'_>,
    start: u64,
    id: &str,
) {
    let patient = hl7::Patient {
        mrn: CANARY_MRN,
        name: CANARY_NAME,
        dob: CANARY_DOB,
    };
    let mut c = TcpConversation::new(from.at(sport), to.at(2575), start);
    let oru = hl7::oru_r01(&route, &hl7_time(start), id, &patient);
    c.handshake().client_send(&hl7::mllp(&oru)).wait(5_000);
    let ack = hl7::ack(&route.reversed(), &hl7_time(c.now()), "R01", "ACK0001", id);
    c.server_send(&hl7::mllp(&ack)).close();
    out.extend(c.into_frames());
}

/// A backup agent's session: opaque bytes from the client (the data) and a
/// short answer. Nothing in it is read but its size.
fn commvault(out: &mut Vec<Frame>, from: &Device, sport: u16, start: u64) {
    let data: Vec<u8> = (0..4096u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 24) as u8)
        .collect();
    let mut c = TcpConversation::new(from.at(sport), BACKUP.at(8400), start);
    c.handshake()
        .client_send(&data)
        .server_send(b"\x00\x00\x00\x08ACK-DATA")
        .close();
    out.extend(c.into_frames());
}

/// All frames of the scenario, in timestamp order.
pub fn frames() -> Vec<Frame> {
    let mut out = Vec::new();
    ct_store(&mut out);
    ultrasound_rejected(&mut out);
    hl7_hop(
        &mut out,
        &ANALYZER,
        49_600,
        &ENGINE,
        hl7::Route {
            sending_app: "XN",
            sending_facility: "LAB",
            receiving_app: "MIRTH",
            receiving_facility: "LAB",
        },
        at(30),
        "XN0001",
    );
    hl7_hop(
        &mut out,
        &ENGINE,
        49_700,
        &EHR,
        hl7::Route {
            sending_app: "MIRTH",
            sending_facility: "LAB",
            receiving_app: "EPIC",
            receiving_facility: "HOSP",
        },
        at(31),
        "MIRTH0001",
    );
    commvault(&mut out, &PACS, 50_840, at(40));
    commvault(&mut out, &EHR, 50_841, at(50));
    out.sort_by_key(|f| f.ts_micros); // stable: frames of one conversation keep their order
    out
}

/// Writes the scenario as a pcap (Ethernet link type) to `out`.
pub fn write<W: Write>(out: W) -> io::Result<W> {
    let mut w = PcapWriter::new(out, LINKTYPE_ETHERNET)?;
    w.write_frames(&frames())?;
    w.into_inner()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deterministic_small_and_starts_on_time() {
        let a = write(Vec::new()).unwrap();
        assert_eq!(a, write(Vec::new()).unwrap());
        assert!(a.len() < 32 * 1024, "{} bytes", a.len());
        assert_eq!(hl7_time(START_MICROS), "20260202080000");
        assert_eq!(frames()[0].ts_micros, at(10));
    }
}
