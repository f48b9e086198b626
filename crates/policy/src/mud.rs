//! RFC 8520 Manufacturer Usage Description files.
//!
//! [`generate`] writes one MUD file per [`Subject`] — a device model as the
//! inventory identifies it, or, for devices that state no model, their group
//! (intake group or category), which the file's `systeminfo` says; members
//! and rules come from [`policies_by`]: a from-device and a to-device ACL per address
//! family (RFC 8519 `ipv4-acl-type`/`ipv6-acl-type`), one ACE pair per allowed
//! conversation — the initiating direction on the server's port, and the
//! answers — with `ietf-mud:direction-initiated` on TCP.
//! The structure is checked in tests against `schema/mud.schema.json`, a JSON
//! Schema derived from the YANG modules.
//!
//! [`MudPolicy::parse`] reads a vendor's MUD file (hostile input: bounded size
//! and counts, one-line errors with the JSON path) into ACEs, and
//! [`MudPolicy::allows`] decides whether a device under that MUD may have a
//! flow. ACEs naming a DNS name or a MUD abstraction (`controller`,
//! `manufacturer`...) cannot be resolved passively: they match on protocol and
//! port only (`local-networks` matches any local address).

use crate::{Dir, Error, GroupPolicy, Rule};
use model::{FlowInfo, Timestamp, Transport};
use serde_json::{json, Map, Value};
use std::net::IpAddr;

/// Largest MUD file read (RFC 8520 files are a few KiB).
pub const MAX_MUD_BYTES: usize = 1 << 20;
/// Most ACEs read from one file.
pub const MAX_ACES: usize = 4096;

fn proto_num(t: Transport) -> u8 {
    match t {
        Transport::Tcp => 6,
        Transport::Udp => 17,
    }
}

fn port_eq(p: u16) -> Value {
    json!({"operator": "eq", "port": p})
}

/// One ACE pair for `r`: (from-device ACE, to-device ACE).
fn aces(r: &Rule, n: usize) -> (Value, Value) {
    let (net_key_dst, net_key_src, fam) = if r.peer.is_ipv4() {
        ("destination-ipv4-network", "source-ipv4-network", "ipv4")
    } else {
        ("destination-ipv6-network", "source-ipv6-network", "ipv6")
    };
    let prefix = if r.peer.is_ipv4() { 32 } else { 128 };
    let net = format!("{}/{prefix}", r.peer);
    let l4 = r.transport.as_str();
    let initiated = match r.dir {
        Dir::Out => "from-device",
        Dir::In => "to-device",
    };
    // Out: the device opens peer:port; In: the peer opens the device's port.
    let (fr_port, to_port) = match r.dir {
        Dir::Out => (
            json!({"destination-port": port_eq(r.port)}),
            json!({"source-port": port_eq(r.port)}),
        ),
        Dir::In => (
            json!({"source-port": port_eq(r.port)}),
            json!({"destination-port": port_eq(r.port)}),
        ),
    };
    let with_dir = |mut v: Value| {
        if r.transport == Transport::Tcp {
            v["ietf-mud:direction-initiated"] = json!(initiated);
        }
        v
    };
    let mut fr = Map::new();
    fr.insert(
        fam.into(),
        json!({"protocol": proto_num(r.transport), net_key_dst: net}),
    );
    fr.insert(l4.into(), with_dir(fr_port));
    let mut to = Map::new();
    to.insert(
        fam.into(),
        json!({"protocol": proto_num(r.transport), net_key_src: net}),
    );
    to.insert(l4.into(), with_dir(to_port));
    (
        json!({"name": format!("fr{n}"), "matches": fr, "actions": {"forwarding": "accept"}}),
        json!({"name": format!("to{n}"), "matches": to, "actions": {"forwarding": "accept"}}),
    )
}

/// Who a generated MUD file describes.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Subject {
    /// A device model, as the inventory identifies it.
    Model {
        /// Manufacturer, when known (`mfg-name`).
        manufacturer: Option<String>,
        /// Model name (`model-name`).
        model: String,
    },
    /// A group (intake group, else category) of devices that state no model.
    Group(String),
}

fn clean(s: &str) -> String {
    let s: String = s.chars().filter(|c| !c.is_control()).collect();
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

impl Subject {
    /// The file's `systeminfo` (1-60 characters): the model, or the group
    /// and that no model was identified.
    pub fn systeminfo(&self) -> String {
        let s = match self {
            Subject::Model {
                manufacturer: Some(m),
                model,
            } if !clean(m).is_empty() => format!("{} {}", clean(m), clean(model)),
            Subject::Model { model, .. } => clean(model),
            Subject::Group(g) => format!("no device model identified; group {}", clean(g)),
        };
        let s: String = s.chars().take(60).collect::<String>().trim().to_string();
        if s.is_empty() {
            "Ward baseline".into()
        } else {
            s
        }
    }

    /// A file name for the subject: `model-SLUG-HASH.json` or
    /// `group-SLUG-HASH.json`, where SLUG keeps ASCII letters and digits of
    /// the name (at most 48, `-` between words) and HASH (FNV-1a, 32 bits,
    /// of the full name) keeps names apart that fold to the same slug. Safe
    /// whatever the name holds (no `/`, `..`, controls; at most 72 bytes).
    pub fn file_name(&self) -> String {
        let (kind, name) = self.name();
        let mut slug = String::new();
        for c in name.chars() {
            if c.is_ascii_alphanumeric() {
                slug.push(c.to_ascii_lowercase());
            } else if !slug.is_empty() && !slug.ends_with('-') {
                slug.push('-');
            }
            if slug.len() >= 48 {
                break;
            }
        }
        let slug = slug.trim_matches('-');
        let slug = if slug.is_empty() { "unnamed" } else { slug };
        format!("{kind}-{slug}-{}.json", self.hash())
    }

    fn name(&self) -> (&'static str, String) {
        match self {
            Subject::Model {
                manufacturer,
                model,
            } => (
                "model",
                format!("{}\u{0}{model}", manufacturer.as_deref().unwrap_or("")),
            ),
            Subject::Group(g) => ("group", g.clone()),
        }
    }

    /// FNV-1a (32 bits) of the kind and full name, as 8 hex digits.
    fn hash(&self) -> String {
        let (kind, name) = self.name();
        let mut h: u32 = 0x811c_9dc5;
        for b in kind.bytes().chain([0]).chain(name.bytes()) {
            h = (h ^ u32::from(b)).wrapping_mul(0x0100_0193);
        }
        format!("{h:08x}")
    }
}

/// Per-subject allow-lists: each address `subject_of` names goes to that
/// subject, whose rules are the union of its members' own conversations in
/// `base` (not their group's), so every device is described by exactly one file.
pub fn policies_by<K: Ord>(
    base: &monitor::Baseline,
    subject_of: impl Fn(&IpAddr) -> Option<K>,
) -> std::collections::BTreeMap<K, GroupPolicy> {
    let mut out: std::collections::BTreeMap<K, GroupPolicy> = std::collections::BTreeMap::new();
    for (ip, d) in &base.devices {
        let Some(k) = subject_of(ip) else { continue };
        let g = out.entry(k).or_default();
        g.members.insert(*ip);
        for t in &d.talks {
            let dir = match t.service.role {
                monitor::Role::Client => Dir::Out,
                monitor::Role::Server => Dir::In,
            };
            g.allow.insert(Rule {
                dir,
                peer: t.peer,
                transport: t.service.transport,
                port: t.service.port,
            });
        }
    }
    out
}

/// One MUD file of a plan.
#[derive(Debug, Clone)]
pub struct MudFile {
    /// Who it describes.
    pub subject: Subject,
    /// Its file name ([`Subject::file_name`]).
    pub file_name: String,
    /// Its `mud-url`.
    pub url: String,
    /// How the subject was identified (`model from lldp model, manufacturer from lldp`,
    /// or why it is a group).
    pub identified_by: String,
    /// The devices it covers (inventory keys; `ip:ADDR` for addresses not in the inventory).
    pub devices: Vec<String>,
    /// Its members and rules.
    pub policy: GroupPolicy,
    /// The document.
    pub doc: Value,
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum Key {
    Model(String, String),
    Group(String),
}

/// The MUD files for a baseline: one per device model that `inventory`
/// identifies ([`identify::product::product`]), and one per group for the
/// grouped devices that state no model. Devices outside every group of the
/// baseline are left out, as in the nftables allow-lists. `base_url` is
/// where the files will be published (`mud-url` = `BASE/FILE`).
pub fn plan(
    base: &monitor::Baseline,
    inventory: &[identify::Device],
    base_url: &str,
) -> Vec<MudFile> {
    let by_ip: std::collections::BTreeMap<IpAddr, &identify::Device> = inventory
        .iter()
        .flat_map(|d| d.ips.iter().map(move |ip| (*ip, d)))
        .collect();
    let mut subjects: std::collections::BTreeMap<
        Key,
        (Subject, String, std::collections::BTreeSet<String>),
    > = std::collections::BTreeMap::new();
    let mut key_of: std::collections::BTreeMap<IpAddr, Key> = std::collections::BTreeMap::new();
    for ip in base.devices.keys() {
        let Some((group, _)) = base.group_of(ip) else {
            continue;
        };
        let dev = by_ip.get(ip);
        let (key, subject, how) = match dev.and_then(|d| identify::product::product(d)) {
            Some(p) => {
                let (mk, mm) = p.key();
                let how = match &p.manufacturer_source {
                    Some(ms) => format!("model from {}, manufacturer from {ms}", p.model_source),
                    None => format!("model from {}, manufacturer unknown", p.model_source),
                };
                (
                    Key::Model(mk, mm),
                    Subject::Model {
                        manufacturer: p.manufacturer,
                        model: p.model,
                    },
                    how,
                )
            }
            None => {
                let why = if dev.is_some() {
                    "no device model identified"
                } else {
                    "not in the inventory"
                };
                (
                    Key::Group(group.to_string()),
                    Subject::Group(group.to_string()),
                    why.to_string(),
                )
            }
        };
        let e = subjects
            .entry(key.clone())
            .or_insert_with(|| (subject, how, Default::default()));
        e.2.insert(
            dev.map(|d| d.key.clone())
                .unwrap_or_else(|| format!("ip:{ip}")),
        );
        key_of.insert(*ip, key);
    }
    let policies = policies_by(base, |ip| key_of.get(ip).cloned());
    let last = base.end.unwrap_or_default();
    let base_url = base_url.trim_end_matches('/');
    policies
        .into_iter()
        .filter_map(|(k, g)| {
            let (subject, identified_by, devices) = subjects.remove(&k)?;
            let file_name = subject.file_name();
            let url = format!("{base_url}/{file_name}");
            let doc = generate(&subject, &g, &url, last);
            Some(MudFile {
                subject,
                file_name,
                url,
                identified_by,
                devices: devices.into_iter().collect(),
                policy: g,
                doc,
            })
        })
        .collect()
}

/// The MUD file of one subject (a device model, or a group when no model is
/// known). `url` is where it will be published; `last_update` the
/// baseline's end (files are reproducible).
pub fn generate(subject: &Subject, g: &GroupPolicy, url: &str, last_update: Timestamp) -> Value {
    // ACL names unique across the files (a MUD manager may load them all).
    let id = subject.hash();
    let mut acls = Vec::new();
    let mut from_names = Vec::new();
    let mut to_names = Vec::new();
    for v4 in [true, false] {
        if !g.members.iter().any(|m| m.is_ipv4() == v4) {
            continue;
        }
        let fam = if v4 { "v4" } else { "v6" };
        let (mut fr, mut to) = (Vec::new(), Vec::new());
        for (n, r) in g
            .allow
            .iter()
            .filter(|r| r.peer.is_ipv4() == v4)
            .enumerate()
        {
            let (a, b) = aces(r, n);
            fr.push(a);
            to.push(b);
        }
        let ty = if v4 { "ipv4-acl-type" } else { "ipv6-acl-type" };
        let (fname, tname) = (format!("mud-{id}-{fam}fr"), format!("mud-{id}-{fam}to"));
        acls.push(json!({"name": fname, "type": ty, "aces": {"ace": fr}}));
        acls.push(json!({"name": tname, "type": ty, "aces": {"ace": to}}));
        from_names.push(json!({"name": fname}));
        to_names.push(json!({"name": tname}));
    }
    let iso = last_update.iso();
    // yang:date-and-time without fractional seconds.
    let last = format!("{}Z", &iso[..19]);
    let mut mud = json!({
        "mud-version": 1,
        "mud-url": url,
        "last-update": last,
        "cache-validity": 48,
        "is-supported": true,
        "systeminfo": subject.systeminfo(),
    });
    if let Subject::Model {
        manufacturer,
        model,
    } = subject
    {
        if let Some(m) = manufacturer.as_deref().map(clean).filter(|m| !m.is_empty()) {
            mud["mfg-name"] = json!(m);
        }
        let model = clean(model);
        mud["model-name"] = json!(if model.is_empty() {
            "unknown".to_string()
        } else {
            model
        });
    }
    mud["from-device-policy"] = json!({"access-lists": {"access-list": from_names}});
    mud["to-device-policy"] = json!({"access-lists": {"access-list": to_names}});
    json!({
        "ietf-mud:mud": mud,
        "ietf-access-control-list:acls": {"acl": acls}
    })
}

/// A port condition.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PortMatch {
    lo: u16,
    hi: u16,
    neq: bool,
}

impl PortMatch {
    fn matches(&self, p: u16) -> bool {
        (self.lo..=self.hi).contains(&p) != self.neq
    }
}

/// Where the other side must be.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Peer {
    /// Any address.
    Any,
    /// An address prefix.
    Net(IpAddr, u8),
    /// Any local address (`local-networks`).
    Local,
    /// A DNS name or MUD abstraction, not resolvable passively: any address.
    Unresolved(String),
}

/// One accepting ACE, as Ward evaluates it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ace {
    /// ACE name.
    pub name: String,
    /// True for from-device ACLs, false for to-device.
    pub from_device: bool,
    /// IP protocol number, when given.
    pub protocol: Option<u8>,
    /// The other side.
    pub peer: Peer,
    /// Source port condition.
    pub src_port: Option<PortMatch>,
    /// Destination port condition.
    pub dst_port: Option<PortMatch>,
    /// `direction-initiated`: Some(true) from-device, Some(false) to-device.
    pub initiated_from_device: Option<bool>,
    /// `accept` (others are kept to honour their order).
    pub accept: bool,
}

/// A parsed MUD file.
#[derive(Debug, Clone, PartialEq)]
pub struct MudPolicy {
    /// `mud-url`.
    pub url: String,
    /// `model-name`, when given.
    pub model: Option<String>,
    /// `mfg-name`, when given.
    pub manufacturer: Option<String>,
    /// `mud-signature` (RFC 8520 §13): where the file's CMS signature is, when given.
    pub signature: Option<String>,
    /// `cache-validity` in hours (1-168, RFC 8520 default 48).
    pub cache_validity: u8,
    /// ACEs of the from-device and to-device policies, in order.
    pub aces: Vec<Ace>,
}

fn bad(path: &str, what: &str) -> Error {
    Error::Invalid(format!("{path}: {what}"))
}

fn obj<'a>(v: &'a Value, path: &str) -> Result<&'a Map<String, Value>, Error> {
    v.as_object().ok_or_else(|| bad(path, "expected an object"))
}

fn port_match(v: &Value, path: &str) -> Result<PortMatch, Error> {
    let o = obj(v, path)?;
    let num = |k: &str| -> Result<u16, Error> {
        o.get(k)
            .and_then(Value::as_u64)
            .and_then(|n| u16::try_from(n).ok())
            .ok_or_else(|| bad(&format!("{path}.{k}"), "expected a port number"))
    };
    if o.contains_key("lower-port") {
        let (lo, hi) = (num("lower-port")?, num("upper-port")?);
        return Ok(PortMatch { lo, hi, neq: false });
    }
    let p = num("port")?;
    Ok(
        match o.get("operator").and_then(Value::as_str).unwrap_or("eq") {
            "eq" => PortMatch {
                lo: p,
                hi: p,
                neq: false,
            },
            "lte" => PortMatch {
                lo: 0,
                hi: p,
                neq: false,
            },
            "gte" => PortMatch {
                lo: p,
                hi: u16::MAX,
                neq: false,
            },
            "neq" => PortMatch {
                lo: p,
                hi: p,
                neq: true,
            },
            other => {
                return Err(bad(
                    &format!("{path}.operator"),
                    &format!(
                        "unknown operator {:?}",
                        model::text::bounded(other.as_bytes(), 16)
                    ),
                ))
            }
        },
    )
}

fn prefix(s: &str, path: &str) -> Result<(IpAddr, u8), Error> {
    let (a, l) = s
        .split_once('/')
        .ok_or_else(|| bad(path, "expected ADDRESS/LENGTH"))?;
    let ip: IpAddr = a.parse().map_err(|_| bad(path, "bad address"))?;
    let len: u8 = l.parse().map_err(|_| bad(path, "bad prefix length"))?;
    if len > if ip.is_ipv4() { 32 } else { 128 } {
        return Err(bad(path, "prefix length too long"));
    }
    Ok((ip, len))
}

fn in_prefix(ip: &IpAddr, net: &IpAddr, len: u8) -> bool {
    match (ip, net) {
        (IpAddr::V4(a), IpAddr::V4(n)) => {
            let m = if len == 0 {
                0
            } else {
                u32::MAX << (32 - len as u32)
            };
            u32::from(*a) & m == u32::from(*n) & m
        }
        (IpAddr::V6(a), IpAddr::V6(n)) => {
            let m = if len == 0 {
                0
            } else {
                u128::MAX << (128 - len as u32)
            };
            u128::from(*a) & m == u128::from(*n) & m
        }
        _ => false,
    }
}

impl MudPolicy {
    /// Reads a MUD file (RFC 8520 JSON).
    pub fn parse(bytes: &[u8]) -> Result<MudPolicy, Error> {
        if bytes.len() > MAX_MUD_BYTES {
            return Err(Error::TooLarge(format!(
                "MUD file of {} bytes (limit {MAX_MUD_BYTES})",
                bytes.len()
            )));
        }
        let v: Value = serde_json::from_slice(bytes)?;
        let root = obj(&v, "$")?;
        let mud = obj(
            root.get("ietf-mud:mud")
                .ok_or_else(|| bad("$", "no ietf-mud:mud container"))?,
            "ietf-mud:mud",
        )?;
        let s = |k: &str| {
            mud.get(k)
                .and_then(Value::as_str)
                .map(|x| model::text::bounded(x.as_bytes(), 512))
        };
        let url = s("mud-url").ok_or_else(|| bad("ietf-mud:mud.mud-url", "missing"))?;
        if mud.get("mud-version").and_then(Value::as_u64) != Some(1) {
            return Err(bad("ietf-mud:mud.mud-version", "must be 1"));
        }
        let names = |k: &str| -> Result<Vec<String>, Error> {
            let path = format!("ietf-mud:mud.{k}.access-lists.access-list");
            let Some(list) = mud
                .get(k)
                .and_then(|p| p.get("access-lists"))
                .and_then(|a| a.get("access-list"))
            else {
                return Ok(Vec::new());
            };
            let arr = list
                .as_array()
                .ok_or_else(|| bad(&path, "expected an array"))?;
            arr.iter()
                .enumerate()
                .map(|(i, e)| {
                    e.get("name")
                        .and_then(Value::as_str)
                        .map(str::to_string)
                        .ok_or_else(|| bad(&format!("{path}[{i}].name"), "missing"))
                })
                .collect()
        };
        let (from, to) = (names("from-device-policy")?, names("to-device-policy")?);
        let acls = root
            .get("ietf-access-control-list:acls")
            .and_then(|a| a.get("acl"))
            .and_then(Value::as_array)
            .ok_or_else(|| {
                bad(
                    "ietf-access-control-list:acls.acl",
                    "missing or not an array",
                )
            })?;
        let mut aces = Vec::new();
        for (direction, list) in [(true, &from), (false, &to)] {
            for name in list {
                let (ai, acl) = acls
                    .iter()
                    .enumerate()
                    .find(|(_, a)| a.get("name").and_then(Value::as_str) == Some(name.as_str()))
                    .ok_or_else(|| {
                        bad(
                            "ietf-access-control-list:acls.acl",
                            &format!(
                                "no ACL named {:?}",
                                model::text::bounded(name.as_bytes(), 64)
                            ),
                        )
                    })?;
                let path = format!("ietf-access-control-list:acls.acl[{ai}].aces.ace");
                let list = acl
                    .get("aces")
                    .and_then(|a| a.get("ace"))
                    .and_then(Value::as_array)
                    .ok_or_else(|| bad(&path, "missing or not an array"))?;
                for (i, ace) in list.iter().enumerate() {
                    if aces.len() >= MAX_ACES {
                        return Err(Error::TooLarge(format!("more than {MAX_ACES} ACEs")));
                    }
                    aces.push(Self::ace(ace, direction, &format!("{path}[{i}]"))?);
                }
            }
        }
        let cache_validity = match mud.get("cache-validity") {
            None => 48,
            Some(v) => v
                .as_u64()
                .and_then(|h| u8::try_from(h).ok())
                .filter(|h| (1..=168).contains(h))
                .ok_or_else(|| bad("ietf-mud:mud.cache-validity", "expected 1-168 hours"))?,
        };
        Ok(MudPolicy {
            url,
            model: s("model-name"),
            manufacturer: s("mfg-name"),
            signature: s("mud-signature"),
            cache_validity,
            aces,
        })
    }

    fn ace(v: &Value, from_device: bool, path: &str) -> Result<Ace, Error> {
        let o = obj(v, path)?;
        let name = o
            .get("name")
            .and_then(Value::as_str)
            .map(|n| model::text::bounded(n.as_bytes(), 64))
            .unwrap_or_default();
        let m = obj(
            o.get("matches").ok_or_else(|| bad(path, "no matches"))?,
            &format!("{path}.matches"),
        )?;
        let fwd = o
            .get("actions")
            .and_then(|a| a.get("forwarding"))
            .and_then(Value::as_str)
            .ok_or_else(|| bad(&format!("{path}.actions.forwarding"), "missing"))?;
        let accept = fwd.trim_start_matches("ietf-access-control-list:") == "accept";
        let mut ace = Ace {
            name,
            from_device,
            protocol: None,
            peer: Peer::Any,
            src_port: None,
            dst_port: None,
            initiated_from_device: None,
            accept,
        };
        // The other side: destination for from-device ACLs, source for to-device.
        let (side, dns) = if from_device {
            ("destination", "ietf-acldns:dst-dnsname")
        } else {
            ("source", "ietf-acldns:src-dnsname")
        };
        for fam in ["ipv4", "ipv6"] {
            let Some(ip) = m.get(fam) else { continue };
            let ipath = format!("{path}.matches.{fam}");
            let ip = obj(ip, &ipath)?;
            if let Some(p) = ip.get("protocol") {
                ace.protocol = Some(
                    p.as_u64()
                        .and_then(|n| u8::try_from(n).ok())
                        .ok_or_else(|| bad(&format!("{ipath}.protocol"), "expected 0-255"))?,
                );
            }
            let key = format!("{side}-{fam}-network");
            if let Some(n) = ip.get(&key) {
                let s = n
                    .as_str()
                    .ok_or_else(|| bad(&format!("{ipath}.{key}"), "expected a prefix"))?;
                let (a, l) = prefix(s, &format!("{ipath}.{key}"))?;
                ace.peer = Peer::Net(a, l);
            } else if let Some(n) = ip.get(dns).and_then(Value::as_str) {
                ace.peer = Peer::Unresolved(model::text::bounded(n.as_bytes(), 253));
            }
        }
        for l4 in ["tcp", "udp"] {
            let Some(t) = m.get(l4) else { continue };
            let tpath = format!("{path}.matches.{l4}");
            let t = obj(t, &tpath)?;
            if ace.protocol.is_none() {
                ace.protocol = Some(if l4 == "tcp" { 6 } else { 17 });
            }
            if let Some(p) = t.get("source-port") {
                ace.src_port = Some(port_match(p, &format!("{tpath}.source-port"))?);
            }
            if let Some(p) = t.get("destination-port") {
                ace.dst_port = Some(port_match(p, &format!("{tpath}.destination-port"))?);
            }
            match t
                .get("ietf-mud:direction-initiated")
                .and_then(Value::as_str)
            {
                Some("from-device") => ace.initiated_from_device = Some(true),
                Some("to-device") => ace.initiated_from_device = Some(false),
                Some(_) => {
                    return Err(bad(
                        &format!("{tpath}.ietf-mud:direction-initiated"),
                        "expected from-device or to-device",
                    ))
                }
                None => {}
            }
        }
        if let Some(mm) = m.get("ietf-mud:mud").and_then(Value::as_object) {
            if mm.contains_key("local-networks") {
                ace.peer = Peer::Local;
            } else if let Some((k, _)) = mm.iter().next() {
                ace.peer = Peer::Unresolved(model::text::bounded(k.as_bytes(), 64));
            }
        }
        Ok(ace)
    }

    /// Whether `device` (one side of `flow`) may have this flow: its first
    /// ACE that matches the opening packet decides (accept or not); no
    /// match refuses. Returns the deciding ACE name or why not.
    pub fn allows(&self, device: IpAddr, flow: &FlowInfo) -> Result<String, String> {
        let from_device = flow.client.ip == device;
        let (peer, sport, dport) = (
            if from_device {
                flow.server.ip
            } else {
                flow.client.ip
            },
            flow.client.port,
            flow.server.port,
        );
        let proto = proto_num(flow.transport);
        for a in self.aces.iter().filter(|a| a.from_device == from_device) {
            if a.protocol.is_some_and(|p| p != proto) {
                continue;
            }
            let peer_ok = match &a.peer {
                Peer::Any | Peer::Unresolved(_) => true,
                Peer::Net(n, l) => in_prefix(&peer, n, *l),
                Peer::Local => monitor::is_local(&peer),
            };
            let ports_ok = a.src_port.is_none_or(|m| m.matches(sport))
                && a.dst_port.is_none_or(|m| m.matches(dport));
            let init_ok = a.initiated_from_device.is_none_or(|f| f == from_device);
            if peer_ok && ports_ok && init_ok {
                return if a.accept {
                    Ok(a.name.clone())
                } else {
                    Err(format!("ACE {} refuses it", a.name))
                };
            }
        }
        let side = if from_device {
            "from-device"
        } else {
            "to-device"
        };
        Err(format!(
            "no {side} ACE of {} allows {} {peer} port {dport}",
            self.url,
            flow.transport.as_str()
        ))
    }
}

/// MUD policies assigned to devices (by address), as a [`monitor::FlowPolicy`].
#[derive(Debug, Default)]
pub struct MudAssignments {
    /// Device address → its MUD policy.
    pub by_ip: std::collections::BTreeMap<IpAddr, std::sync::Arc<MudPolicy>>,
}

impl monitor::FlowPolicy for MudAssignments {
    fn violation(&self, f: &monitor::FlowSummary<'_>) -> Option<(IpAddr, String, String)> {
        for dev in [f.flow.client.ip, f.flow.server.ip] {
            let Some(m) = self.by_ip.get(&dev) else {
                continue;
            };
            if let Err(why) = m.allows(dev, f.flow) {
                let key = format!(
                    "mud {} {}:{}",
                    f.flow.transport.as_str(),
                    if dev == f.flow.client.ip {
                        f.flow.server.ip
                    } else {
                        f.flow.client.ip
                    },
                    f.flow.server.port
                );
                return Some((
                    dev,
                    key,
                    format!("traffic of {dev} violates its MUD file: {why}"),
                ));
            }
        }
        None
    }
}

/// Turns rules back into what a group may do (for tests and reports).
pub fn rules_of(g: &GroupPolicy) -> impl Iterator<Item = &Rule> {
    g.allow.iter()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tests::{baseline, flow};
    use crate::Policy;

    fn schema() -> Value {
        serde_json::from_str(include_str!("../schema/mud.schema.json")).unwrap()
    }

    fn errors(v: &Value) -> Vec<String> {
        let s = schema();
        let validator = jsonschema::validator_for(&s).unwrap();
        validator
            .iter_errors(v)
            .map(|e| format!("{} at {}", e, e.instance_path()))
            .collect()
    }

    #[test]
    fn generated_files_validate_and_round_trip() {
        let p = Policy::from_baseline(&baseline());
        for (name, g) in &p.groups {
            let doc = generate(
                &Subject::Group(name.clone()),
                g,
                &format!("https://mud.hospital.test/{}.json", crate::ident(name)),
                Timestamp(1_767_600_050_002_400),
            );
            let errs = errors(&doc);
            assert!(errs.is_empty(), "{name}: {errs:?}\n{doc:#}");
            // Import what we generate: it allows exactly the group's rules.
            let m = MudPolicy::parse(doc.to_string().as_bytes()).unwrap();
            for member in &g.members {
                for r in &g.allow {
                    if r.peer.is_ipv4() != member.is_ipv4() {
                        continue;
                    }
                    let f = match r.dir {
                        Dir::Out => flow(
                            &member.to_string(),
                            &r.peer.to_string(),
                            r.port,
                            r.transport,
                        ),
                        Dir::In => flow(
                            &r.peer.to_string(),
                            &member.to_string(),
                            r.port,
                            r.transport,
                        ),
                    };
                    assert!(m.allows(*member, &f).is_ok(), "{name} {r:?}");
                    let mut other = f;
                    other.server.port = r.port.wrapping_add(1);
                    assert!(m.allows(*member, &other).is_err(), "{name} {r:?} +1");
                }
            }
        }
    }

    fn fact(
        mac: u8,
        ip: &str,
        kind: identify::FactKind,
        value: &str,
        source: &str,
    ) -> identify::Fact {
        identify::Fact {
            endpoint: identify::EndpointKey {
                mac: Some(model::MacAddr([0x00, 0x1b, 0x21, 0, 0, mac])),
                ip: Some(ip.parse().unwrap()),
            },
            kind,
            value: value.into(),
            source: source.into(),
            first_seen: Timestamp(1_767_600_000_000_000),
            last_seen: Timestamp(1_767_600_050_000_000),
            count: 1,
            evidence: format!("{source} frame"),
        }
    }

    /// Four infusion pumps of one intake group: two of one model (spelt two
    /// ways, stated over LLDP and mDNS), one of another model (DHCP vendor
    /// class, manufacturer from the OUI registry), one that states no model.
    fn pumps() -> (monitor::Baseline, Vec<identify::Device>) {
        use identify::FactKind::*;
        let facts = vec![
            fact(1, "10.0.0.11", Model, "Alaris 8015", "lldp"),
            fact(1, "10.0.0.11", Manufacturer, "BD", "lldp"),
            fact(2, "10.0.0.12", Model, "alaris  8015", "mdns"),
            fact(2, "10.0.0.12", Manufacturer, "bd", "mdns"),
            fact(
                3,
                "10.0.0.13",
                DhcpVendorClass,
                "Sigma Spectrum 8.01.01",
                "dhcp",
            ),
            fact(4, "10.0.0.14", Hostname, "pump-4", "dhcp"),
        ];
        let inventory = identify::build_inventory(&facts);
        let mut l = monitor::Learner::new(monitor::Window::default());
        for (c, s, p, tr) in [
            ("10.0.0.11", "10.0.0.50", 443, Transport::Tcp),
            ("10.0.0.12", "10.0.0.50", 443, Transport::Tcp),
            ("10.0.0.12", "10.0.0.53", 53, Transport::Udp),
            ("10.0.0.13", "10.0.0.51", 8443, Transport::Tcp),
            ("10.0.0.60", "10.0.0.13", 5000, Transport::Tcp),
            ("10.0.0.14", "10.0.0.52", 80, Transport::Tcp),
        ] {
            l.learn(&model::Event {
                ts: Timestamp(1_767_600_050_000_000),
                flow: Some(flow(c, s, p, tr)),
                record: model::Record::Conn(model::records::ConnRecord {
                    start: Timestamp(1_767_600_050_000_000),
                    established: true,
                    orig_bytes: 1,
                    ..Default::default()
                }),
            });
        }
        let mut b = l.finish();
        b.group(&|ip| {
            ip.to_string()
                .starts_with("10.0.0.1")
                .then(|| "infusion pump".to_string())
        });
        (b, inventory)
    }

    #[test]
    fn per_model_files_golden() {
        let (b, inv) = pumps();
        let files = plan(&b, &inv, "https://mud.hospital.test/ward/");
        assert_eq!(files.len(), 3, "{files:#?}");
        for f in &files {
            let errs = errors(&f.doc);
            assert!(errs.is_empty(), "{}: {errs:?}\n{:#}", f.file_name, f.doc);
            // What we generate imports, and allows each member exactly its model's rules.
            let m = MudPolicy::parse(f.doc.to_string().as_bytes()).unwrap();
            assert_eq!(m.url, f.url);
            for member in &f.policy.members {
                for r in &f.policy.allow {
                    let fl = match r.dir {
                        Dir::Out => flow(
                            &member.to_string(),
                            &r.peer.to_string(),
                            r.port,
                            r.transport,
                        ),
                        Dir::In => flow(
                            &r.peer.to_string(),
                            &member.to_string(),
                            r.port,
                            r.transport,
                        ),
                    };
                    assert!(m.allows(*member, &fl).is_ok(), "{} {r:?}", f.file_name);
                }
            }
        }
        // The other model's server is refused by the Alaris file.
        let alaris = MudPolicy::parse(files[0].doc.to_string().as_bytes()).unwrap();
        assert!(alaris
            .allows(
                "10.0.0.11".parse().unwrap(),
                &flow("10.0.0.11", "10.0.0.51", 8443, Transport::Tcp)
            )
            .is_err());
        let summary: Vec<Value> = files
            .iter()
            .map(|f| json!({"file": f.file_name, "identified_by": f.identified_by, "devices": f.devices, "doc": f.doc}))
            .collect();
        insta::assert_json_snapshot!("per_model_files", summary);
    }

    #[test]
    fn hostile_model_names_make_safe_files() {
        let p = Policy::from_baseline(&baseline());
        let g = p.groups.values().next().unwrap();
        let long = "\u{202e}x".repeat(400);
        for (mfg, model) in [
            (Some("../../etc"), "passwd\u{0}.json"),
            (Some("\u{1b}[2J\u{7}"), "../.."),
            (None, long.as_str()),
            (Some(""), "/"),
            (Some("Ünïcødé GmbH"), "Modèle ☃ 3000"),
            (Some("   "), "\r\n\t"),
        ] {
            let s = Subject::Model {
                manufacturer: mfg.map(str::to_string),
                model: model.to_string(),
            };
            let name = s.file_name();
            assert!(
                name.len() <= 72 && name.ends_with(".json") && name.starts_with("model-"),
                "{name}"
            );
            assert!(
                name.bytes().all(|b| b.is_ascii_lowercase()
                    || b.is_ascii_digit()
                    || b == b'-'
                    || b == b'.'),
                "{name}"
            );
            assert!(!name.contains(".."), "{name}");
            let doc = generate(
                &s,
                g,
                &format!("https://mud.hospital.test/{name}"),
                Timestamp(0),
            );
            let errs = errors(&doc);
            assert!(errs.is_empty(), "{mfg:?} {model:?}: {errs:?}");
            let info = doc["ietf-mud:mud"]["systeminfo"].as_str().unwrap();
            assert!(!info.chars().any(char::is_control) && info.chars().count() <= 60);
        }
        // Names that fold to the same slug still get different files.
        let a = Subject::Model {
            manufacturer: Some("BD".into()),
            model: "Alaris 8015".into(),
        };
        let b = Subject::Model {
            manufacturer: Some("BD".into()),
            model: "Alaris-8015".into(),
        };
        assert_ne!(a.file_name(), b.file_name());
        assert_ne!(
            Subject::Group("x".into()).file_name(),
            Subject::Model {
                manufacturer: None,
                model: "x".into()
            }
            .file_name()
        );
        let grp = generate(
            &Subject::Group("infusion pump".into()),
            g,
            "https://m/x.json",
            Timestamp(0),
        );
        assert_eq!(
            grp["ietf-mud:mud"]["systeminfo"],
            "no device model identified; group infusion pump"
        );
        assert!(grp["ietf-mud:mud"].get("model-name").is_none());
    }

    #[test]
    fn schema_has_teeth() {
        let p = Policy::from_baseline(&baseline());
        let (name, g) = p.groups.iter().next().unwrap();
        let good = generate(
            &Subject::Group(name.clone()),
            g,
            "https://mud.hospital.test/x.json",
            Timestamp(0),
        );
        for (ptr, val) in [
            ("/ietf-mud:mud/mud-version", json!(2)),
            ("/ietf-mud:mud/cache-validity", json!(500)),
            ("/ietf-mud:mud/last-update", json!("yesterday")),
            (
                "/ietf-access-control-list:acls/acl/0/type",
                json!("ipv5-acl-type"),
            ),
            (
                "/ietf-access-control-list:acls/acl/0/aces/ace/0/matches/ipv4/protocol",
                json!(300),
            ),
            (
                "/ietf-access-control-list:acls/acl/0/aces/ace/0/actions/forwarding",
                json!("maybe"),
            ),
        ] {
            let mut bad = good.clone();
            *bad.pointer_mut(ptr).unwrap_or_else(|| panic!("{ptr}")) = val;
            assert!(!errors(&bad).is_empty(), "{ptr} accepted");
        }
        let mut extra = good.clone();
        extra["ietf-mud:mud"]["mud-urll"] = json!("x");
        assert!(!errors(&extra).is_empty());
    }

    /// RFC 8520 appendix A's example (abridged), as a vendor would publish it.
    const RFC_EXAMPLE: &str = r#"{
      "ietf-mud:mud": {
        "mud-version": 1, "mud-url": "https://lighting.example.com/lightbulb2000",
        "last-update": "2019-01-28T11:20:51+01:00", "cache-validity": 48, "is-supported": true,
        "systeminfo": "The BMS Example Light Bulb", "mfg-name": "Example", "model-name": "lightbulb2000",
        "from-device-policy": {"access-lists": {"access-list": [{"name": "mud-76100-v6fr"}]}},
        "to-device-policy": {"access-lists": {"access-list": [{"name": "mud-76100-v6to"}]}}
      },
      "ietf-access-control-list:acls": {"acl": [
        {"name": "mud-76100-v6to", "type": "ipv6-acl-type", "aces": {"ace": [
          {"name": "cl0-todev", "matches": {"ipv6": {"ietf-acldns:src-dnsname": "test.example.com", "protocol": 6},
            "tcp": {"ietf-mud:direction-initiated": "from-device", "source-port": {"operator": "eq", "port": 443}}},
           "actions": {"forwarding": "accept"}}]}},
        {"name": "mud-76100-v6fr", "type": "ipv6-acl-type", "aces": {"ace": [
          {"name": "cl0-frdev", "matches": {"ipv6": {"ietf-acldns:dst-dnsname": "test.example.com", "protocol": 6},
            "tcp": {"ietf-mud:direction-initiated": "from-device", "destination-port": {"operator": "eq", "port": 443}}},
           "actions": {"forwarding": "accept"}}]}}
      ]}
    }"#;

    #[test]
    fn imports_the_rfc_example() {
        let v: Value = serde_json::from_str(RFC_EXAMPLE).unwrap();
        assert!(errors(&v).is_empty(), "{:?}", errors(&v));
        let m = MudPolicy::parse(RFC_EXAMPLE.as_bytes()).unwrap();
        assert_eq!(m.model.as_deref(), Some("lightbulb2000"));
        assert_eq!(m.aces.len(), 2);
        let bulb = "fd00::5";
        assert!(m
            .allows(
                bulb.parse().unwrap(),
                &flow(bulb, "2001:db8::1", 443, Transport::Tcp)
            )
            .is_ok());
        assert!(m
            .allows(
                bulb.parse().unwrap(),
                &flow(bulb, "2001:db8::1", 23, Transport::Tcp)
            )
            .is_err());
        assert!(
            m.allows(
                bulb.parse().unwrap(),
                &flow("fd00::9", bulb, 443, Transport::Tcp)
            )
            .is_err(),
            "nobody may open a session to the bulb"
        );
    }

    #[test]
    fn assigned_mud_flags_violations_in_the_detector() {
        use monitor::{Detector, DetectorConfig};
        let m = std::sync::Arc::new(MudPolicy::parse(RFC_EXAMPLE.as_bytes()).unwrap());
        let bulb: IpAddr = "fd00::5".parse().unwrap();
        let mut a = MudAssignments::default();
        a.by_ip.insert(bulb, m);
        let mut d = Detector::new(
            monitor::Baseline::default(),
            DetectorConfig {
                approved: [bulb, "fd00::9".parse().unwrap()].into(),
                ..Default::default()
            },
        )
        .with_policy(Box::new(a));
        for (c, s, p) in [
            ("fd00::5", "2001:db8::1", 443),
            ("fd00::5", "2001:db8::1", 80),
            ("fd00::9", "fd00::5", 23),
        ] {
            d.observe(&model::Event {
                ts: Timestamp(1),
                flow: Some(flow(c, s, p, Transport::Tcp)),
                record: model::Record::Conn(model::records::ConnRecord {
                    start: Timestamp(1),
                    established: true,
                    orig_bytes: 1,
                    ..Default::default()
                }),
            });
        }
        let (alerts, _) = d.finish();
        let keys: Vec<&str> = alerts
            .iter()
            .filter(|a| a.kind == monitor::AlertKind::PolicyViolation)
            .map(|a| a.key.as_str())
            .collect();
        assert_eq!(keys.len(), 2, "{alerts:#?}");
        assert!(
            keys.contains(&"mud tcp 2001:db8::1:80") && keys.contains(&"mud tcp fd00::9:23"),
            "{keys:?}"
        );
    }

    #[test]
    fn hostile_files_are_one_line_errors() {
        for (doc, want) in [
            ("[]", "$: expected an object"),
            ("{}", "no ietf-mud:mud"),
            (
                r#"{"ietf-mud:mud": {"mud-version": 1}}"#,
                "mud-url: missing",
            ),
            (
                r#"{"ietf-mud:mud": {"mud-version": 1, "mud-url": "u", "from-device-policy": {"access-lists": {"access-list": [{"name": "a"}]}}}, "ietf-access-control-list:acls": {"acl": []}}"#,
                "no ACL named",
            ),
        ] {
            let e = MudPolicy::parse(doc.as_bytes()).unwrap_err().to_string();
            assert!(e.contains(want), "{doc}: {e}");
            assert!(!e.contains('\n'));
        }
        assert!(MudPolicy::parse(&vec![b' '; MAX_MUD_BYTES + 1]).is_err());
    }
}
