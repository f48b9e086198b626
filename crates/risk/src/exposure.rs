//! Exposure findings from a device's observed facts (no advisories needed).
//!
//! Each rule reads fact kinds the observer produces (see `identify::FactKind`)
//! and their documented value formats; a rule that fires cites the facts it
//! used as evidence (flow and packet times).

use crate::finding::{Evidence, Finding, FindingKind, Severity, MAX_EVIDENCE};
use identify::{Category, Device, Fact, FactKind};
use model::addr::is_public;
use std::collections::BTreeMap;
use std::net::IpAddr;

/// Registered ports of the clinical protocols (HL7 MLLP: 2575; DICOM: 104,
/// 11112, and 2761/2762 for DICOM over TLS).
const HL7_PORTS: &[u16] = &[2575];
const DICOM_PORTS: &[u16] = &[104, 11112, 2761, 2762];

/// Operating systems out of vendor support (as of 2026), matched
/// case-insensitively in OS facts and software strings. Windows 10 is left
/// out: its LTSC/IoT editions, common on medical devices, are still supported.
const UNSUPPORTED_OS: &[(&str, &str)] = &[
    ("windows xp", "Windows XP"),
    ("windows 2000", "Windows 2000"),
    ("windows server 2003", "Windows Server 2003"),
    ("windows vista", "Windows Vista"),
    ("windows 7", "Windows 7"),
    ("windows server 2008", "Windows Server 2008"),
    ("windows 8", "Windows 8/8.1"),
    ("windows nt 5.", "Windows 2000/XP/2003 (NT 5.x)"),
    ("windows nt 6.0", "Windows Vista/2008 (NT 6.0)"),
    ("windows nt 6.1", "Windows 7/2008 R2 (NT 6.1)"),
    ("windows nt 6.2", "Windows 8/2012 (NT 6.2)"),
    ("windows nt 6.3", "Windows 8.1/2012 R2 (NT 6.3)"),
    ("windows 6.1", "Windows 7/2008 R2 (NT 6.1)"),
    ("windows ce", "Windows CE"),
    ("windows embedded", "Windows Embedded (pre-10)"),
];

/// Remote-support tools by the role suffix the observer gives them
/// (`remote-support-teamviewer`), and their vendors' spelling.
const REMOTE_SUPPORT_NAMES: &[(&str, &str)] =
    &[("teamviewer", "TeamViewer"), ("anydesk", "AnyDesk")];

/// Weak cipher markers in IANA/OpenSSL cipher names.
const WEAK_CIPHERS: &[&str] = &[
    "RC4", "_DES_", "DES40", "3DES", "DES_CBC", "NULL", "EXPORT", "anon", "MD5",
];

fn evidence<'a>(facts: impl Iterator<Item = &'a Fact>) -> Vec<Evidence> {
    let mut v: Vec<&Fact> = facts.collect();
    // Most-seen first, then earliest: the strongest and the original evidence.
    v.sort_by(|a, b| {
        b.count
            .cmp(&a.count)
            .then(a.first_seen.cmp(&b.first_seen))
            .then(a.value.cmp(&b.value))
    });
    v.into_iter()
        .take(MAX_EVIDENCE)
        .map(Evidence::of_fact)
        .collect()
}

fn of_kind(d: &Device, kind: FactKind) -> impl Iterator<Item = &Fact> {
    d.facts.iter().filter(move |f| f.kind == kind)
}

/// `name/transport/port` service strings offered, parsed.
fn services(d: &Device) -> impl Iterator<Item = (&str, &str, u16, &Fact)> {
    of_kind(d, FactKind::ServiceOffered).filter_map(|f| {
        let mut it = f.value.split('/');
        let (name, transport, port) = (it.next()?, it.next()?, it.next()?.parse().ok()?);
        Some((name, transport, port, f))
    })
}

/// Every exposure finding for one device, most severe first.
pub fn exposures(d: &Device) -> Vec<Finding> {
    let mut out = Vec::new();
    let medical = d.category.is_medical();

    // Cleartext patient data.
    for (proto, fix) in [
        ("hl7", "Carry HL7 over TLS (MLLP over TLS) or an IPsec tunnel, and allow the HL7 port only from the interface engine's address."),
        ("dicom", "Enable DICOM TLS (port 2762) between modality, PACS and workstations, or confine imaging traffic to an isolated imaging VLAN."),
        ("astm", "Carry ASTM (E1381/LIS1-A) between analyzer and LIS through TLS or an IPsec tunnel, or confine it to an isolated laboratory VLAN."),
        ("poct1a", "Carry POCT1-A2 between point-of-care devices and the data manager through TLS (or the docking station's VPN), or confine it to an isolated point-of-care VLAN."),
    ] {
        let facts: Vec<&Fact> = of_kind(d, FactKind::CleartextPhi).filter(|f| f.value == proto).collect();
        if !facts.is_empty() {
            out.push(Finding {
                kind: FindingKind::CleartextPhi,
                severity: Severity::High,
                title: format!("Patient data ({}) crosses the network unencrypted", proto.to_uppercase()),
                remediation: fix.into(),
                evidence: evidence(facts.into_iter()),
            });
        }
    }

    // Credentials, grouped by protocol (`ftp user=.. password=..`, `snmp-v2c community=public`, `http-basic ...`).
    let mut by_proto: BTreeMap<(String, bool), Vec<&Fact>> = BTreeMap::new();
    for f in of_kind(d, FactKind::CleartextCredential) {
        let proto = f.value.split([' ', '-']).next().unwrap_or("").to_string();
        let default = f.value.contains("password=default")
            || f.value.contains("community=public")
            || f.value.contains("community=private");
        by_proto.entry((proto, default)).or_default().push(f);
    }
    for ((proto, default), facts) in by_proto {
        let upper = proto.to_uppercase();
        // The fact sits on both ends of the login; the account lives on the
        // side that offers the service (for SNMP the fact is only the agent's).
        let service = if proto == "http" {
            "http"
        } else {
            proto.as_str()
        };
        let serves = proto == "snmp" || services(d).any(|(n, _, _, _)| n == service);
        let (kind, severity, title, remediation) = if !serves {
            (
                FindingKind::CleartextCredential,
                if default { Severity::High } else { Severity::Medium },
                format!("Logs in over {upper} in cleartext{}", if default { " with a default password" } else { "" }),
                format!("Use an encrypted protocol instead of {upper} from this device, and change the account's password (it crossed the network)."),
            )
        } else if default {
            (
                FindingKind::DefaultCredential,
                if proto == "snmp" {
                    Severity::High
                } else {
                    Severity::Critical
                },
                if proto == "snmp" {
                    "SNMP uses a default community string (public/private)".to_string()
                } else {
                    format!("A default or well-known password was used for {upper}")
                },
                if proto == "snmp" {
                    "Change the community strings, restrict SNMP to the management network, and move to SNMPv3 with authentication and privacy.".to_string()
                } else {
                    format!("Change the default password on this device now (ask the manufacturer if it is hard-coded), and replace {upper} with an encrypted protocol (SSH/SFTP/HTTPS).")
                },
            )
        } else {
            (
                FindingKind::CleartextCredential,
                Severity::High,
                format!("{upper} credentials cross the network in cleartext"),
                format!("Replace {upper} with an encrypted protocol (SSH, SFTP, HTTPS) or tunnel it; rotate the passwords that were exposed."),
            )
        };
        out.push(Finding {
            kind,
            severity,
            title,
            remediation,
            evidence: evidence(facts.into_iter()),
        });
    }

    // Insecure services offered.
    let mut insecure: BTreeMap<&'static str, Vec<&Fact>> = BTreeMap::new();
    for (name, _, _, f) in services(d) {
        let key = match name {
            "telnet" => "telnet",
            "ftp" => "ftp",
            "http"
                if medical || matches!(d.category, Category::NetworkGear | Category::Printer) =>
            {
                "http"
            }
            _ => continue,
        };
        insecure.entry(key).or_default().push(f);
    }
    for (svc, facts) in insecure {
        let (title, fix, sev) = match svc {
            "telnet" => ("Offers Telnet (cleartext remote login)", "Disable Telnet; use SSH, or block port 23 at the device's VLAN boundary.", Severity::High),
            "ftp" => ("Offers FTP (cleartext file transfer)", "Disable FTP or replace it with SFTP/FTPS; allow it only from the systems that need it.", Severity::Medium),
            _ => ("Web management interface over cleartext HTTP", "Enable HTTPS on the management interface (or disable it) and allow it only from the management network.", Severity::Medium),
        };
        out.push(Finding {
            kind: FindingKind::InsecureService,
            severity: sev,
            title: title.into(),
            remediation: fix.into(),
            evidence: evidence(facts.into_iter()),
        });
    }
    // Remote control without authentication (VNC security type None).
    let open_vnc: Vec<&Fact> = of_kind(d, FactKind::Role)
        .filter(|f| f.value == "vnc-no-auth")
        .collect();
    if !open_vnc.is_empty() {
        out.push(Finding {
            kind: FindingKind::InsecureService,
            severity: Severity::Critical,
            title: "Offers VNC remote control without authentication (security type None)".into(),
            remediation: "Require authentication on the VNC server (VeNCrypt with TLS, or at least a VNC password), allow it only from the support jump host, or disable it.".into(),
            evidence: evidence(open_vnc.into_iter()),
        });
    }
    // A vendor remote-support tool (TeamViewer, AnyDesk) runs here: remote
    // control from outside the site's access path (MDS2 remote service).
    let remote_tools: Vec<&Fact> = of_kind(d, FactKind::Role)
        .filter(|f| f.value.starts_with("remote-support-"))
        .collect();
    if !remote_tools.is_empty() {
        let mut names: Vec<&str> = remote_tools
            .iter()
            .map(|f| {
                let tool = f.value.trim_start_matches("remote-support-");
                REMOTE_SUPPORT_NAMES
                    .iter()
                    .find(|(id, _)| *id == tool)
                    .map_or(tool, |(_, name)| name)
            })
            .collect();
        names.sort_unstable();
        names.dedup();
        out.push(Finding {
            kind: FindingKind::InsecureService,
            severity: if medical { Severity::High } else { Severity::Medium },
            title: format!("Vendor remote-support tool in use ({})", names.join(", ")),
            remediation: "Confirm the remote-support tool is sanctioned (MDS2 remote service section, service contract); route vendor access through the site's jump host or VPN with per-session approval, or block the product's ports and relays.".into(),
            evidence: evidence(remote_tools.into_iter()),
        });
    }
    // Remote desktop over standard RDP security (no TLS).
    let weak_rdp: Vec<&Fact> = of_kind(d, FactKind::Role)
        .filter(|f| f.value == "rdp-standard-security")
        .collect();
    if !weak_rdp.is_empty() {
        out.push(Finding {
            kind: FindingKind::InsecureService,
            severity: Severity::Medium,
            title: "Accepts remote desktop with standard RDP security (no TLS: RC4, no server authentication)".into(),
            remediation: "Set the RDP security layer to TLS (or require Network Level Authentication) on this device, and allow RDP only from the support jump host.".into(),
            evidence: evidence(weak_rdp.into_iter()),
        });
    }
    let smb1: Vec<&Fact> = of_kind(d, FactKind::Smb1).collect();
    if !smb1.is_empty() {
        let serves = services(d).any(|(n, _, _, _)| n == "smb");
        out.push(Finding {
            kind: FindingKind::InsecureService,
            severity: Severity::High,
            title: if serves { "Offers SMBv1 (exploited by WannaCry/NotPetya)".into() } else { "Uses SMBv1 (exploited by WannaCry/NotPetya)".into() },
            remediation: "Disable SMBv1 (ask the manufacturer for a validated patch if the device needs it) and block SMB between clinical VLANs.".into(),
            evidence: evidence(smb1.into_iter()),
        });
    }
    let snmp_old: Vec<&Fact> = of_kind(d, FactKind::CleartextCredential)
        .filter(|f| f.value.starts_with("snmp-v1 ") || f.value.starts_with("snmp-v2c "))
        .collect();
    if !snmp_old.is_empty() {
        out.push(Finding {
            kind: FindingKind::InsecureService,
            severity: Severity::Medium,
            title: "Uses SNMPv1/v2c (community strings in cleartext, no authentication)".into(),
            remediation:
                "Move to SNMPv3 (authPriv) or disable SNMP; restrict it to the management station."
                    .into(),
            evidence: evidence(snmp_old.into_iter()),
        });
    }

    // Weak TLS (`TLSv10 TLS_RSA_WITH_RC4_128_SHA port=443`).
    let mut old_version = Vec::new();
    let mut weak_cipher = Vec::new();
    for f in of_kind(d, FactKind::TlsServerParams) {
        let mut it = f.value.split(' ');
        let (version, cipher) = (it.next().unwrap_or(""), it.next().unwrap_or(""));
        if matches!(version, "SSLv2" | "SSLv3" | "TLSv10" | "TLSv11" | "DTLSv10") {
            old_version.push(f);
        }
        if WEAK_CIPHERS.iter().any(|w| cipher.contains(w)) {
            weak_cipher.push(f);
        }
    }
    if !old_version.is_empty() {
        out.push(Finding {
            kind: FindingKind::WeakTls,
            severity: Severity::Medium,
            title: "Negotiates an obsolete TLS/SSL version (SSLv3, TLS 1.0 or 1.1)".into(),
            remediation: "Enable TLS 1.2 or later and disable older versions (firmware update or configuration; ask the manufacturer).".into(),
            evidence: evidence(old_version.into_iter()),
        });
    }
    if !weak_cipher.is_empty() {
        out.push(Finding {
            kind: FindingKind::WeakTls,
            severity: Severity::High,
            title: "Negotiates a weak cipher (RC4, DES/3DES, NULL, EXPORT or anonymous)".into(),
            remediation:
                "Disable weak cipher suites; allow only AEAD suites (AES-GCM, ChaCha20-Poly1305)."
                    .into(),
            evidence: evidence(weak_cipher.into_iter()),
        });
    }

    // Certificates (`subject=.. | issuer=.. | not_after=SECS[ | self-signed]`).
    let mut expired = Vec::new();
    let mut self_signed = Vec::new();
    for f in of_kind(d, FactKind::TlsCertificate) {
        let not_after = f
            .value
            .split(" | ")
            .find_map(|p| p.strip_prefix("not_after="))
            .and_then(|s| s.parse::<i64>().ok());
        if not_after.is_some_and(|na| na.saturating_mul(1_000_000) < f.last_seen.0) {
            expired.push(f);
        }
        if f.value.ends_with(" | self-signed") {
            self_signed.push(f);
        }
    }
    if !expired.is_empty() {
        out.push(Finding {
            kind: FindingKind::ExpiredCertificate,
            severity: Severity::Medium,
            title: "Presented a certificate that had already expired".into(),
            remediation: "Renew the certificate (from the hospital's CA) and make sure clients validate certificates.".into(),
            evidence: evidence(expired.into_iter()),
        });
    }
    if !self_signed.is_empty() {
        out.push(Finding {
            kind: FindingKind::SelfSignedCertificate,
            severity: Severity::Low,
            title: "Presents a self-signed certificate (clients cannot tell it from an impostor)"
                .into(),
            remediation: "Install a certificate issued by the hospital's CA.".into(),
            evidence: evidence(self_signed.into_iter()),
        });
    }

    // Outdated operating systems.
    let mut os_names: Vec<&str> = Vec::new();
    let mut os_facts = Vec::new();
    for f in d
        .facts
        .iter()
        .filter(|f| matches!(f.kind, FactKind::Os | FactKind::Software))
    {
        let low = f.value.to_ascii_lowercase();
        if let Some((_, name)) = UNSUPPORTED_OS.iter().find(|(k, _)| low.contains(k)) {
            if !os_names.contains(name) {
                os_names.push(name);
            }
            os_facts.push(f);
        }
    }
    if !os_facts.is_empty() {
        out.push(Finding {
            kind: FindingKind::OutdatedOs,
            severity: Severity::High,
            title: format!("Runs an operating system out of vendor support ({})", os_names.join(", ")),
            remediation: "Ask the manufacturer for a supported platform or an extended-support plan; until then isolate the device on its own VLAN with an allow-list firewall.".into(),
            evidence: evidence(os_facts.into_iter()),
        });
    }

    // Internet communication (only for devices on local addresses).
    if d.ips.iter().any(|ip| !is_public(ip)) {
        let public: Vec<&Fact> = of_kind(d, FactKind::Peer)
            .filter(|f| f.value.parse::<IpAddr>().is_ok_and(|ip| is_public(&ip)))
            .collect();
        if !public.is_empty() {
            let n = public.len();
            out.push(Finding {
                kind: FindingKind::InternetCommunication,
                severity: if medical { Severity::High } else { Severity::Low },
                title: format!("Talks to {n} internet address{}", if n == 1 { "" } else { "es" }),
                remediation: if medical {
                    "Block internet access for this device at the firewall except the manufacturer's documented update/remote-service endpoints (through a monitored proxy).".into()
                } else {
                    "Check the destinations are expected; route the device through the proxy.".into()
                },
                evidence: evidence(public.into_iter()),
            });
        }
    }

    // Clinical protocols on unregistered ports.
    let odd: Vec<&Fact> = services(d)
        .filter(|(name, _, port, _)| {
            (*name == "hl7" && !HL7_PORTS.contains(port))
                || (*name == "dicom" && !DICOM_PORTS.contains(port))
        })
        .map(|(_, _, _, f)| f)
        .collect();
    if !odd.is_empty() {
        out.push(Finding {
            kind: FindingKind::NonStandardPort,
            severity: Severity::Low,
            title: "Serves HL7 or DICOM on an unregistered port (harder to firewall and monitor)".into(),
            remediation: "Document the port in the device's firewall policy, or move the service to its registered port (HL7 2575, DICOM 104/11112, DICOM-TLS 2762).".into(),
            evidence: evidence(odd.into_iter()),
        });
    }

    out.sort_by(|a, b| b.severity.cmp(&a.severity).then(a.kind.cmp(&b.kind)));
    out
}
