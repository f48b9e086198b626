//! Oracle: the decoder against tshark's nordic_ble/btle/btcommon dissectors
//! on the real nRF sniffer captures in
//! `../shared/testdata/medical_pcaps/iotsec-lab-medical/*/bluetooth/`.
//!
//! Per frame with a good CRC on the advertising access address, these
//! fields are compared: PDU type, advertiser address and its TxAdd kind,
//! local name, company identifiers, 16-bit service UUIDs (lists and service
//! data), vendor 128-bit UUIDs, appearance, TX power. Frames with a bad CRC
//! must be weirds; data-channel frames `Data` records. Skipped with a
//! message when tshark or the data is absent. At least 95% of the compared
//! fields must agree (today: all).

use model::records::{BlePdu, BleRecord, BleUuid};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

fn pcaps(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return;
    };
    let mut entries: Vec<PathBuf> = rd.filter_map(|e| Some(e.ok()?.path())).collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            pcaps(&p, out);
        } else if p.extension().is_some_and(|e| e == "pcap") {
            out.push(p);
        }
    }
}

const FIELDS: &[&str] = &[
    "nordic_ble.crcok",
    "btle.access_address",
    "btle.advertising_header.pdu_type",
    "btle.advertising_address",
    "btle.advertising_header.randomized_tx",
    "btcommon.eir_ad.entry.device_name",
    "btcommon.eir_ad.entry.company_id",
    "btcommon.eir_ad.entry.uuid_16",
    "btcommon.eir_ad.entry.custom_uuid_128",
    "btcommon.eir_ad.entry.appearance",
    "btcommon.eir_ad.entry.power_level",
];

fn tshark(path: &Path) -> Option<Vec<Vec<String>>> {
    let mut cmd = Command::new("tshark");
    cmd.arg("-r")
        .arg(path)
        .args(["-T", "fields", "-E", "occurrence=a", "-E", "aggregator=|"]);
    for f in FIELDS {
        cmd.args(["-e", f]);
    }
    let out = cmd.output().ok()?;
    let text = String::from_utf8_lossy(&out.stdout);
    Some(
        text.lines()
            .map(|l| l.split('\t').map(str::to_string).collect())
            .collect(),
    )
}

fn set(s: &str) -> BTreeSet<String> {
    s.split('|')
        .filter(|x| !x.is_empty())
        .map(|x| x.to_ascii_lowercase())
        .collect()
}

fn hex16(v: impl IntoIterator<Item = u16>) -> BTreeSet<String> {
    v.into_iter().map(|x| format!("0x{x:04x}")).collect()
}

fn pdu_code(p: BlePdu) -> &'static str {
    match p {
        BlePdu::AdvInd => "0x00",
        BlePdu::AdvDirectInd => "0x01",
        BlePdu::AdvNonconnInd => "0x02",
        BlePdu::ScanReq => "0x03",
        BlePdu::ScanRsp => "0x04",
        BlePdu::ConnectInd => "0x05",
        BlePdu::AdvScanInd => "0x06",
        BlePdu::AdvExtInd | BlePdu::AuxAdvInd => "0x07",
        BlePdu::AuxConnectRsp => "0x08",
        BlePdu::Data => "",
    }
}

#[test]
fn agrees_with_tshark_on_the_sniffer_captures() {
    let Some(root) = testkit::testdata("medical_pcaps/iotsec-lab-medical") else {
        return;
    };
    if !testkit::tshark::available() {
        return;
    }
    let mut files = Vec::new();
    for d in std::fs::read_dir(&root).unwrap().flatten() {
        pcaps(&d.path().join("bluetooth"), &mut files);
    }
    assert!(
        !files.is_empty(),
        "no bluetooth captures under {}",
        root.display()
    );
    let (mut compared, mut agreed, mut frames_adv, mut frames_data, mut crc) =
        (0u64, 0u64, 0, 0, 0);
    let mut disagreements: Vec<String> = Vec::new();
    for f in &files {
        // The capture crate's reader (through testkit): it takes these files' 24-byte record
        // headers behind the standard magic; tshark reads them on its own, and the frame
        // counts must agree.
        let frames = testkit::pcap::frames(f);
        let rows = tshark(f).expect("tshark runs");
        assert_eq!(frames.len(), rows.len(), "{}", f.display());
        for (i, (frame, row)) in frames.iter().zip(&rows).enumerate() {
            let get = |k: usize| row.get(k).map(String::as_str).unwrap_or("");
            let ours = proto_ble::decode(proto_ble::LINKTYPE_NORDIC_BLE, frame);
            if get(0) != "1" {
                crc += 1;
                assert_eq!(
                    ours,
                    Err(proto_ble::Skip::CrcError),
                    "{} #{}",
                    f.display(),
                    i + 1
                );
                continue;
            }
            let r: BleRecord = match ours {
                Ok(r) => r,
                Err(e) => {
                    compared += 1;
                    disagreements.push(format!("{} #{}: {e:?}", f.display(), i + 1));
                    continue;
                }
            };
            if get(1) != "0x8e89bed6" {
                frames_data += 1;
                compared += 1;
                if r.pdu == BlePdu::Data {
                    agreed += 1;
                } else {
                    disagreements.push(format!("{} #{}: not data", f.display(), i + 1));
                }
                continue;
            }
            frames_adv += 1;
            let adv = r
                .advertiser
                .map(|a| a.addr.text().to_string())
                .unwrap_or_default();
            let random = r
                .advertiser
                .map(|a| a.kind != model::records::BleAddrKind::Public);
            // tshark shows TxAdd only where the advertiser is the transmitter.
            let tx = match (get(4), r.pdu) {
                ("", _) | (_, BlePdu::ScanReq | BlePdu::ConnectInd) => None,
                (v, _) => Some(v == "1"),
            };
            let mut uuids16: Vec<u16> = r.services.iter().filter_map(|u| u.short()).collect();
            uuids16.extend(r.service_data.iter().filter_map(|u| u.short()));
            let custom: BTreeSet<String> = r
                .services
                .iter()
                .chain(&r.service_data)
                .filter(|u| matches!(u, BleUuid::U128(_)))
                .map(|u| u.to_string().replace('-', ""))
                .collect();
            let checks: [(&str, bool); 10] = [
                ("pdu_type", pdu_code(r.pdu) == get(2)),
                ("advertiser", adv == get(3).to_ascii_lowercase()),
                ("tx_add", tx.is_none() || tx == random),
                ("name", r.name.as_deref().unwrap_or("") == get(5)),
                ("company", hex16(r.companies.iter().copied()) == set(get(6))),
                ("uuid_16", hex16(uuids16) == set(get(7))),
                ("uuid_128", custom == set(get(8))),
                (
                    "appearance",
                    r.appearance
                        .map(|a| format!("0x{a:04x}"))
                        .unwrap_or_default()
                        == get(9),
                ),
                (
                    "tx_power",
                    r.tx_power.map(|p| p.to_string()).unwrap_or_default() == get(10),
                ),
                ("channel", r.channel.is_some()),
            ];
            for (name, ok) in checks {
                compared += 1;
                if ok {
                    agreed += 1;
                } else if disagreements.len() < 20 {
                    disagreements.push(format!(
                        "{} #{}: {name}: ours {r:?} tshark {row:?}",
                        f.display(),
                        i + 1
                    ));
                }
            }
        }
    }
    let share = agreed as f64 / compared.max(1) as f64;
    println!(
        "ble oracle: {} files, {frames_adv} advertising frames, {frames_data} data frames, {crc} bad CRC; {agreed}/{compared} fields agree ({:.2}%)",
        files.len(),
        share * 100.0
    );
    for d in &disagreements {
        println!("  {d}");
    }
    assert!(frames_adv > 1000, "too few advertising frames compared");
    assert!(share >= 0.95, "agreement {share:.4} below 95%");
}
