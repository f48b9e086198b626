//! Who a device is: brand, model, firmware, OS, device type and (for phones
//! and computers) the apps it runs, each conclusion with the fact behind it
//! (packet time and flow) and the knowledge entry that read it.
//!
//! The knowledge (crate `knowledge`) maps what devices say and whom they
//! talk to onto names: registered domains of vendors' services, DHCP
//! fingerprints and vendor classes, User-Agent platforms, JA4 client
//! families, IEEE organisations (medical makers, brands, network makers,
//! chip makers) and model codes. This module also adds the category reasons
//! these entries support, so the category and the identity agree.

use crate::classify::{Category, Reason};
use crate::facts::{Fact, FactKind};
use crate::product::cut;
use knowledge::{Knowledge, Row};
use model::Timestamp;
use serde::{Deserialize, Serialize};

/// Firmware versions last seen this long (microseconds: one hour) before the
/// device's latest firmware sighting are no longer what it runs.
const FIRMWARE_CURRENT: i64 = 3_600_000_000;

/// One conclusion about a device's identity.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Conclusion {
    /// What it names: `vendor`, `model`, `firmware`, `os`, `device_type`, `app`.
    pub field: String,
    /// The value concluded.
    pub value: String,
    /// Why, in words.
    pub why: String,
    /// Packet time of the fact behind it.
    pub seen: Timestamp,
    /// The fact's evidence (flow or frame).
    pub evidence: String,
    /// The knowledge entry that read the fact (`domain/withings.net`), if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub knowledge: Option<String>,
}

/// An app a phone or computer runs, known by the vendor service it uses.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AppUse {
    /// The app's vendor.
    pub vendor: String,
    /// The app (product) name.
    pub app: String,
    /// A medical or health app (mobile medical apps are medical devices).
    pub medical: bool,
    /// The knowledge entry.
    pub knowledge: String,
    /// The name it contacted and the fact's evidence.
    pub evidence: String,
}

/// A device's identity beyond its category.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Identity {
    /// The IEEE registry's organisation for the MAC prefix (may be a chip maker).
    #[serde(default)]
    pub oui_organisation: Option<String>,
    /// Model.
    #[serde(default)]
    pub model: Option<String>,
    /// Firmware or software version the device states.
    #[serde(default)]
    pub firmware: Option<String>,
    /// Operating system.
    #[serde(default)]
    pub os: Option<String>,
    /// What kind of device, finer than the category (`blood pressure monitor`).
    #[serde(default)]
    pub device_type: Option<String>,
    /// Apps it runs (phones and computers).
    #[serde(default)]
    pub apps: Vec<AppUse>,
    /// Every conclusion above (and the vendor), with evidence.
    #[serde(default)]
    pub conclusions: Vec<Conclusion>,
}

/// Category names as the knowledge tables write them.
pub(crate) fn category_of(name: &str) -> Option<Category> {
    Some(match name {
        "imaging_modality" => Category::ImagingModality,
        "pacs" => Category::Pacs,
        "imaging_workstation" => Category::ImagingWorkstation,
        "hl7_interface_engine" => Category::Hl7InterfaceEngine,
        "clinical_information_system" => Category::ClinicalInformationSystem,
        "patient_monitor" => Category::PatientMonitor,
        "infusion_pump" => Category::InfusionPump,
        "lab_analyzer" => Category::LabAnalyzer,
        "medical_device" => Category::MedicalDevice,
        "workstation" => Category::Workstation,
        "server" => Category::Server,
        "printer" => Category::Printer,
        "network_gear" => Category::NetworkGear,
        "voip_phone" => Category::VoipPhone,
        "mobile_device" => Category::MobileDevice,
        "iot_device" => Category::IotDevice,
        _ => return None,
    })
}

/// A version word: dotted digits (`9.33`, `v2.1`, `15.0(2)SE11`).
fn is_version(w: &str) -> bool {
    let w = w.strip_prefix(['v', 'V']).unwrap_or(w);
    w.starts_with(|c: char| c.is_ascii_digit()) && w.contains('.')
}

/// A DHCP vendor class naming a product, split into (manufacturer words
/// it starts with, model, version): `CareFusion Alaris PC 8015` →
/// model `Alaris PC 8015` when CareFusion is the known maker;
/// `BD Alaris PCU 9.33` → model `BD Alaris PCU`, version `9.33`.
fn product_of_vendor_class(
    vc: &str,
    k: &Knowledge,
) -> Option<(Option<String>, String, Option<String>)> {
    let words: Vec<&str> = vc
        .split([' ', '/', '_', ';', ','])
        .filter(|w| !w.is_empty())
        .collect();
    let cut_at = words.iter().position(|w| is_version(w));
    let version = cut_at.and_then(|i| words.get(i)).map(|v| cut(v));
    let words = &words[..cut_at.unwrap_or(words.len()).min(8)];
    // Leading words naming a known maker are its brand, not the model.
    let mut maker = None;
    for n in (1..words.len()).rev() {
        let head = words[..n].join(" ");
        if let Some(r) = k.vendor(&head) {
            if r.get("kind") != Some("chip") && r.key().len() >= head.len().saturating_sub(1) {
                maker = Some((n, r.get("brand").unwrap_or(&head).to_string()));
                break;
            }
        }
    }
    let (skip, brand) = match maker {
        Some((n, b)) => (n, Some(b)),
        None => (0, None),
    };
    let model = cut(&words[skip..].join(" "));
    (!model.is_empty() && model.chars().any(char::is_alphanumeric))
        .then_some((brand, model, version))
}

/// What the knowledge says, gathered over a device's facts.
struct Evidence<'f, 'k> {
    /// (row, fact) for names it contacted that a vendor's domain entry names.
    domains: Vec<(&'k Row, &'f Fact)>,
    /// (os, row, fact) from DHCP, User-Agents, JA4, OS-only domains, API
    /// host words, capture-tool addresses and app SDK services (the last
    /// name no OS, only that the client is general-purpose).
    os: Vec<(Option<String>, &'k Row, &'f Fact)>,
    /// (row, fact) for model codes.
    tokens: Vec<(&'k Row, &'f Fact)>,
}

/// Identifies a device from its facts: the extra category reasons the
/// knowledge supports, and the identity. `oui` is the registry's
/// organisation for its MAC.
pub(crate) fn identify(
    facts: &[&Fact],
    oui: Option<&str>,
    k: &Knowledge,
) -> (Vec<Reason>, Identity, Option<String>) {
    let mut reasons: Vec<Reason> = Vec::new();
    // Registry names may hold line breaks ("Becton, Dickinson\nand Company").
    let oui_clean = oui.map(cut);
    let oui = oui_clean.as_deref();
    let mut id = Identity {
        oui_organisation: oui.map(str::to_string),
        ..Identity::default()
    };
    let add = |reasons: &mut Vec<Reason>,
               cat: Category,
               w: f32,
               why: String,
               f: Option<&Fact>,
               row: &Row| {
        reasons.push(Reason {
            category: cat,
            weight: w,
            why,
            evidence: f.map_or_else(|| "IEEE OUI registry".to_string(), |f| f.evidence.clone()),
            knowledge: Some(row.id()),
        });
    };
    let mut ev = Evidence {
        domains: Vec::new(),
        os: Vec::new(),
        tokens: Vec::new(),
    };
    let oui_row = oui.and_then(|o| k.vendor(o));

    for f in facts {
        match f.kind {
            FactKind::DnsQuery | FactKind::TlsServerName | FactKind::HttpHost => {
                if let Some(r) = k.domain(&f.value) {
                    ev.domains.push((r, f));
                }
                if let Some(r) = k.domain_in("os_domain", &f.value) {
                    // Rows without an OS (mobile-app SDK hosts) still name the category.
                    ev.os.push((r.get("os").map(str::to_string), r, f));
                }
                if let Some(r) = k.domain_in("app_sdk", &f.value) {
                    ev.os.push((None, r, f));
                }
                for r in k.host_words(&f.value) {
                    ev.os.push((r.get("os").map(str::to_string), r, f));
                }
            }
            FactKind::DhcpVendorClass => {
                if let Some(r) = k.dhcp_vendor_class(&f.value) {
                    if let Some(os) = r.get("os") {
                        let os = if r.key().eq_ignore_ascii_case("android-dhcp-") {
                            // `android-dhcp-13`: the version follows.
                            let v = f.value.get(r.key().len()..).unwrap_or("").trim();
                            if !v.is_empty()
                                && v.len() < 8
                                && v.chars().all(|c| c.is_ascii_digit() || c == '.')
                            {
                                format!("Android {v}")
                            } else {
                                os.to_string()
                            }
                        } else {
                            os.to_string()
                        };
                        ev.os.push((Some(os), r, f));
                    }
                }
            }
            FactKind::DhcpFingerprint => {
                if let Some(r) = k.dhcp_fingerprint(&f.value) {
                    if let Some(os) = r.get("os") {
                        ev.os.push((Some(os.to_string()), r, f));
                    }
                }
            }
            FactKind::TlsFingerprint => {
                let ja4 = f
                    .value
                    .split_whitespace()
                    .find_map(|w| w.strip_prefix("ja4="));
                if let Some(r) = ja4.and_then(|j| k.ja4(j)) {
                    if let Some(os) = r.get("os") {
                        ev.os.push((Some(os.to_string()), r, f));
                    }
                    id.conclusions.push(Conclusion {
                        field: "client".into(),
                        value: r.get("client").unwrap_or("").to_string(),
                        why: "JA4 TLS client fingerprint".into(),
                        seen: f.first_seen,
                        evidence: f.evidence.clone(),
                        knowledge: Some(r.id()),
                    });
                }
            }
            FactKind::Software if f.source == "http" => {
                for r in k.user_agent(&f.value) {
                    if let Some(os) = r.get("os") {
                        ev.os.push((Some(os.to_string()), r, f));
                    }
                }
            }
            _ => {}
        }
        if matches!(
            f.kind,
            FactKind::Hostname
                | FactKind::Model
                | FactKind::DhcpVendorClass
                | FactKind::DnsQuery
                | FactKind::TlsServerName
                | FactKind::HttpHost
        ) {
            for r in k.model_tokens(&f.value) {
                ev.tokens.push((r, f));
            }
        }
    }

    // A capture tool's own virtual address (seen without a MAC: a tunnel
    // capture) is the device the tool runs on.
    if let Some((r, f)) = facts.iter().find_map(|f| {
        let ip = f.endpoint.ip.filter(|_| f.endpoint.mac.is_none())?;
        let r = k.capture_address(&ip)?;
        (r.get("role") == Some("capturing-device")).then_some((r, *f))
    }) {
        ev.os.push((r.get("os").map(str::to_string), r, f));
    }

    // Operating system: most specific (longest) name among the strongest sources.
    let mut os_cats: Vec<(Category, &Row, &Fact)> = Vec::new();
    if let Some((os, r, f)) = ev
        .os
        .iter()
        .filter_map(|(os, r, f)| Some((os.as_deref()?, *r, *f)))
        .filter(|(os, r, _)| r.table() != "ja4" && !os.is_empty())
        .max_by(|a, b| {
            os_rank(a.1)
                .cmp(&os_rank(b.1))
                .then(a.0.len().cmp(&b.0.len()))
                .then(b.0.cmp(a.0))
        })
    {
        id.os = Some(cut(os));
        id.conclusions.push(Conclusion {
            field: "os".into(),
            value: cut(os),
            why: format!("{} names its platform", what(r)),
            seen: f.first_seen,
            evidence: f.evidence.clone(),
            knowledge: Some(r.id()),
        });
    }
    for (_, r, f) in &ev.os {
        if let Some(c) = r.get("category").and_then(category_of) {
            if !os_cats
                .iter()
                .any(|(cc, rr, _)| *cc == c && rr.id() == r.id())
            {
                os_cats.push((c, r, f));
            }
        }
    }
    for (c, r, f) in &os_cats {
        let w = match (c, r.table()) {
            (
                Category::MobileDevice,
                "dhcp_fingerprint" | "dhcp_vendor_class" | "capture_address",
            ) => 0.6,
            (Category::MobileDevice, "app_sdk") if r.get("platform") != Some("mobile") => 0.3,
            (Category::MobileDevice, _) => 0.5,
            (_, "dhcp_fingerprint") => 0.35,
            _ => 0.25,
        };
        let why = match r.table() {
            "capture_address" => format!(
                "its address {} is the one {} gives the {} device it runs on (seen without a MAC: a tunnel capture)",
                r.key(),
                r.get("tool").unwrap_or("a capture tool"),
                r.get("os").unwrap_or("-")
            ),
            "app_sdk" => format!(
                "uses the {} app SDK service \"{}\": it runs apps",
                r.get("sdk").unwrap_or("-"),
                short(&f.value)
            ),
            "host_word" => format!(
                "contacts \"{}\", a vendor's API host for {} clients",
                short(&f.value),
                r.get("os").unwrap_or("-")
            ),
            _ => format!(
                "{} \"{}\" is {}",
                what(r),
                short(&f.value),
                r.get("os").unwrap_or("a mobile app SDK host")
            ),
        };
        add(&mut reasons, *c, w, why, Some(f), r);
    }
    // App SDK services without a category of their own still make it general-purpose.
    let general_purpose = !os_cats.is_empty()
        || ev.os.iter().any(|(os, r, _)| {
            if r.table() == "app_sdk" {
                return true;
            }
            let o = os.as_deref().unwrap_or("").to_ascii_lowercase();
            o.contains("android")
                || o.contains("ios")
                || o.contains("windows")
                || o.contains("macos")
        });

    // Brand: the maker the device states, else a model code's, else a
    // (non chip-maker) OUI, else the vendor whose service it uses.
    let stated = facts
        .iter()
        .filter(|f| f.kind == FactKind::Manufacturer && !f.value.trim().is_empty())
        .max_by(|a, b| a.count.cmp(&b.count).then(b.value.cmp(&a.value)));
    let oui_brand = oui_row.filter(|r| r.get("kind") != Some("chip")).map(|r| {
        r.get("brand")
            .map_or_else(|| oui.unwrap_or("").to_string(), str::to_string)
    });
    // Vendors of the domains it contacts, most facts first.
    let mut domain_vendors: Vec<(&str, usize, &Row, &Fact)> = Vec::new();
    for (r, f) in &ev.domains {
        let Some(v) = r.get("vendor") else { continue };
        match domain_vendors.iter_mut().find(|d| d.0 == v) {
            Some(d) => d.1 += 1,
            None => domain_vendors.push((v, 1, r, f)),
        }
    }
    domain_vendors.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
    let same_vendor = |a: &str, b: &str| {
        let (a, b) = (a.to_lowercase(), b.to_lowercase());
        let first = |s: &str| {
            s.split(|c: char| !c.is_alphanumeric())
                .next()
                .unwrap_or("")
                .to_string()
        };
        !a.is_empty() && first(&a) == first(&b)
    };
    // A model code counts when its vendor is the device's (OUI, stated, or a service it uses).
    let token = ev.tokens.iter().find(|(r, _)| {
        let v = r.get("vendor").unwrap_or("");
        oui_brand.as_deref().is_some_and(|b| same_vendor(b, v))
            || stated.is_some_and(|s| same_vendor(&s.value, v))
            || domain_vendors.iter().any(|d| same_vendor(d.0, v))
    });

    let mut brand: Option<String> = None;
    if let Some(f) = stated.filter(|f| {
        k.vendor(&f.value)
            .is_none_or(|r| r.get("kind") != Some("chip"))
    }) {
        brand = Some(cut(&f.value));
        id.conclusions.push(Conclusion {
            field: "vendor".into(),
            value: cut(&f.value),
            why: format!("the device states its manufacturer ({})", f.source),
            seen: f.first_seen,
            evidence: f.evidence.clone(),
            knowledge: None,
        });
    } else if let Some((r, f)) = token {
        let v = r.get("vendor").unwrap_or("").to_string();
        brand = Some(v.clone());
        id.conclusions.push(Conclusion {
            field: "vendor".into(),
            value: v,
            why: format!(
                "model code in {} \"{}\"",
                f.kind.as_str().replace('_', " "),
                short(&f.value)
            ),
            seen: f.first_seen,
            evidence: f.evidence.clone(),
            knowledge: Some(r.id()),
        });
    } else if let (Some(b), Some(r)) = (&oui_brand, oui_row) {
        brand = Some(b.clone());
        id.conclusions.push(Conclusion {
            field: "vendor".into(),
            value: b.clone(),
            why: format!(
                "MAC prefix registered to \"{}\" (IEEE OUI)",
                oui.unwrap_or("")
            ),
            seen: Timestamp::default(),
            evidence: "IEEE OUI registry".into(),
            knowledge: Some(r.id()),
        });
    } else if let (false, Some((v, _, r, f))) = (general_purpose, domain_vendors.first()) {
        brand = Some(v.to_string());
        id.conclusions.push(Conclusion {
            field: "vendor".into(),
            value: v.to_string(),
            why: format!("uses {v}'s service \"{}\"", short(&f.value)),
            seen: f.first_seen,
            evidence: f.evidence.clone(),
            knowledge: Some(r.id()),
        });
    } else if let Some(o) = oui {
        // Only the registry's name (a chip or module maker, or unknown to the knowledge).
        brand = Some(cut(o));
        id.conclusions.push(Conclusion {
            field: "vendor".into(),
            value: cut(o),
            why: if oui_row.is_some_and(|r| r.get("kind") == Some("chip")) {
                "MAC prefix of a chip or module maker (IEEE OUI); the device names no brand".into()
            } else {
                "MAC prefix (IEEE OUI)".into()
            },
            seen: Timestamp::default(),
            evidence: "IEEE OUI registry".into(),
            knowledge: oui_row.map(Row::id),
        });
    }

    // Category from the OUI's maker.
    if let (Some(r), Some(o)) = (oui_row, oui) {
        if let Some(c) = r.get("category").and_then(category_of) {
            let w = match r.get("kind") {
                Some("medical") => 0.5,
                Some("network") => 0.35,
                _ => 0.3,
            };
            add(
                &mut reasons,
                c,
                w,
                format!("MAC vendor \"{o}\" makes {} (IEEE OUI)", c.label()),
                None,
                r,
            );
        }
    }

    // Category from the maker the device states (BLE company identifier or
    // member UUID, LLDP-MED, mDNS), when it is another maker than the OUI's.
    if let Some((f, r)) = stated.and_then(|f| Some((f, k.vendor(&f.value)?))) {
        let c = r.get("category").and_then(category_of);
        if let (Some(c), false, true) = (
            c,
            r.get("kind") == Some("chip"),
            oui_row.is_none_or(|o| o.id() != r.id()),
        ) {
            add(
                &mut reasons,
                c,
                if r.get("kind") == Some("medical") {
                    0.5
                } else {
                    0.35
                },
                format!(
                    "states its maker \"{}\" ({}), which makes {}",
                    short(&f.value),
                    f.source,
                    c.label()
                ),
                Some(f),
                r,
            );
        }
    }

    // Model: stated, else a model code of its vendor, else a product DHCP vendor class.
    let stated_model = facts
        .iter()
        .filter(|f| {
            f.kind == FactKind::Model
                && !f.value.starts_with("sysObjectID")
                && !f.value.trim().is_empty()
        })
        .max_by(|a, b| a.count.cmp(&b.count).then(b.value.cmp(&a.value)));
    let mut firmware_from_class = None;
    if let Some(f) = stated_model {
        id.model = Some(cut(&f.value));
        id.conclusions.push(Conclusion {
            field: "model".into(),
            value: cut(&f.value),
            why: format!("the device states its model ({})", f.source),
            seen: f.first_seen,
            evidence: f.evidence.clone(),
            knowledge: None,
        });
    } else if let Some((r, f)) = token {
        let m = r.get("model").unwrap_or(r.key()).to_string();
        id.model = Some(m.clone());
        id.conclusions.push(Conclusion {
            field: "model".into(),
            value: m,
            why: format!(
                "model code in {} \"{}\"",
                f.kind.as_str().replace('_', " "),
                short(&f.value)
            ),
            seen: f.first_seen,
            evidence: f.evidence.clone(),
            knowledge: Some(r.id()),
        });
    } else if let Some((f, (maker, model, version))) = facts
        .iter()
        .filter(|f| f.kind == FactKind::DhcpVendorClass)
        .filter(|f| {
            !k.dhcp_vendor_class(&f.value)
                .is_some_and(|r| r.flag("generic"))
        })
        .find_map(|f| product_of_vendor_class(&f.value, k).map(|p| (f, p)))
    {
        id.model = Some(model.clone());
        firmware_from_class = version.map(|v| (v, *f));
        id.conclusions.push(Conclusion {
            field: "model".into(),
            value: model,
            why: format!("DHCP vendor class \"{}\" names a product", short(&f.value)),
            seen: f.first_seen,
            evidence: f.evidence.clone(),
            knowledge: None,
        });
        if brand.is_none() || oui_row.is_none_or(|r| r.get("kind") == Some("chip")) {
            if let Some(m) = maker {
                brand = Some(m);
            }
        }
    }
    if let Some((r, f)) = token {
        if let Some(c) = r.get("category").and_then(category_of) {
            add(
                &mut reasons,
                c,
                0.75,
                format!(
                    "model code {} ({}) in \"{}\"",
                    r.get("model").unwrap_or(r.key()),
                    r.get("device_type").unwrap_or("-"),
                    short(&f.value)
                ),
                Some(f),
                r,
            );
        }
    }

    // Firmware: stated, else the version in its product vendor class. A
    // device states what it runs *now*: of the versions seen within
    // FIRMWARE_CURRENT of the latest sighting, the most frequent; an older
    // version (before an update, or after a downgrade) does not outvote it.
    let stated = || {
        facts
            .iter()
            .filter(|f| f.kind == FactKind::Firmware && !f.value.trim().is_empty())
    };
    let latest = stated().map(|f| f.last_seen).max();
    if let Some(f) = stated()
        .filter(|f| latest.is_some_and(|l| l.micros_since(f.last_seen) <= FIRMWARE_CURRENT))
        .max_by(|a, b| a.count.cmp(&b.count).then(b.value.cmp(&a.value)))
    {
        id.firmware = Some(cut(&f.value));
        id.conclusions.push(Conclusion {
            field: "firmware".into(),
            value: cut(&f.value),
            why: format!("the device states its firmware ({})", f.source),
            seen: f.first_seen,
            evidence: f.evidence.clone(),
            knowledge: None,
        });
    } else if let Some((v, f)) = firmware_from_class {
        id.firmware = Some(v.clone());
        id.conclusions.push(Conclusion {
            field: "firmware".into(),
            value: v,
            why: format!("version in DHCP vendor class \"{}\"", short(&f.value)),
            seen: f.first_seen,
            evidence: f.evidence.clone(),
            knowledge: None,
        });
    }

    // Vendor services: apps of a general-purpose device, else the vendor's device.
    let mut seen_apps: Vec<(String, String)> = Vec::new();
    for (r, f) in &ev.domains {
        let (Some(v), Some(app)) = (r.get("vendor"), r.get("app")) else {
            continue;
        };
        if general_purpose {
            if seen_apps.iter().any(|(a, b)| a == v && b == app) {
                continue;
            }
            seen_apps.push((v.to_string(), app.to_string()));
            id.apps.push(AppUse {
                vendor: v.to_string(),
                app: app.to_string(),
                medical: r.flag("medical"),
                knowledge: r.id(),
                evidence: format!(
                    "{} \"{}\" ({})",
                    f.kind.as_str().replace('_', " "),
                    short(&f.value),
                    f.evidence
                ),
            });
            id.conclusions.push(Conclusion {
                field: "app".into(),
                value: format!("{v} {app}"),
                why: format!(
                    "contacts {v}'s service \"{}\"{}",
                    short(&f.value),
                    if r.flag("medical") {
                        " (medical app)"
                    } else {
                        ""
                    }
                ),
                seen: f.first_seen,
                evidence: f.evidence.clone(),
                knowledge: Some(r.id()),
            });
        }
    }
    if !general_purpose {
        if let Some((v, _, r, f)) = domain_vendors.first() {
            if let Some(c) = r.get("category").and_then(category_of) {
                let ours = brand.as_deref().is_some_and(|b| same_vendor(b, v));
                add(
                    &mut reasons,
                    c,
                    if ours { 0.6 } else { 0.4 },
                    format!("uses {v}'s device service \"{}\"", short(&f.value)),
                    Some(f),
                    r,
                );
            }
        }
    }

    // Keywords in what it says about itself.
    for f in facts {
        if matches!(
            f.kind,
            FactKind::Hostname
                | FactKind::Hl7Application
                | FactKind::AeTitle
                | FactKind::Model
                | FactKind::Manufacturer
                | FactKind::Software
                | FactKind::DhcpVendorClass
                | FactKind::Os
        ) {
            for r in k.keywords(&f.value) {
                let (Some(c), Some(w)) =
                    (r.get("category").and_then(category_of), r.weight("weight"))
                else {
                    continue;
                };
                add(
                    &mut reasons,
                    c,
                    w,
                    format!(
                        "{} \"{}\" mentions \"{}\"",
                        f.kind.as_str().replace('_', " "),
                        short(&f.value),
                        r.key()
                    ),
                    Some(f),
                    r,
                );
            }
        }
    }
    (reasons, id, brand)
}

/// Which OS evidence is strongest: DHCP (the OS's own stack) over
/// User-Agents and service domains.
fn os_rank(r: &Row) -> u8 {
    match r.table() {
        "dhcp_fingerprint" => 5,
        "capture_address" => 4,
        "dhcp_vendor_class" => 3,
        "user_agent" => 2,
        _ => 1,
    }
}

fn what(r: &Row) -> &'static str {
    match r.table() {
        "dhcp_fingerprint" => "DHCP parameter request list",
        "dhcp_vendor_class" => "DHCP vendor class",
        "user_agent" => "User-Agent",
        "ja4" => "JA4 TLS fingerprint",
        "os_domain" => "OS service name",
        "host_word" => "API host name",
        "capture_address" => "capture tool address",
        "app_sdk" => "app SDK service",
        _ => "knowledge entry",
    }
}

/// A value shortened for a sentence.
fn short(s: &str) -> String {
    let mut out: String = s.chars().take(80).collect();
    if s.chars().count() > 80 {
        out.push('…');
    }
    out
}

/// The device type: the model code's, else the winning category's strongest
/// reason that names one, else the category's own word for phones and gateways.
pub(crate) fn device_type(
    id: &Identity,
    category: Category,
    reasons: &[Reason],
    k: &Knowledge,
) -> Option<(String, Option<String>)> {
    for r in reasons.iter().filter(|r| r.category == category) {
        let Some(row) = r.knowledge.as_deref().and_then(|e| k.entry(e)) else {
            continue;
        };
        if let Some(t) = row.get("device_type") {
            return Some((t.to_string(), Some(row.id())));
        }
    }
    let _ = id;
    match category {
        Category::MobileDevice => Some(("phone or tablet".into(), None)),
        Category::NetworkGear
            if reasons
                .iter()
                .any(|r| r.why.contains("gateway") || r.why.starts_with("forwards")) =>
        {
            Some(("gateway".into(), None))
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vendor_classes_name_products_not_stacks() {
        let k = Knowledge::embedded();
        let (maker, model, version) =
            product_of_vendor_class("CareFusion Alaris PC 8015", &k).unwrap();
        assert_eq!(
            (maker.as_deref(), model.as_str(), version),
            (Some("CareFusion (BD)"), "Alaris PC 8015", None)
        );
        let (maker, model, version) = product_of_vendor_class("BD Alaris PCU 9.33", &k).unwrap();
        assert_eq!(
            (maker, model.as_str(), version.as_deref()),
            (None, "BD Alaris PCU", Some("9.33"))
        );
        let (maker, model, _) = product_of_vendor_class("Philips IntelliVue MX800", &k).unwrap();
        assert_eq!(
            (maker.as_deref(), model.as_str()),
            (Some("Philips"), "IntelliVue MX800")
        );
        assert!(product_of_vendor_class("1.2", &k).is_none());
    }

    #[test]
    fn every_knowledge_category_is_a_category() {
        let k = Knowledge::embedded();
        for t in knowledge::TABLES {
            for r in k.rows(t.name) {
                if let Some(c) = r.get("category") {
                    assert!(category_of(c).is_some(), "{}: {c}", r.id());
                }
            }
        }
    }
}
