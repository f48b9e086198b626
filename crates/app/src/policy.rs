//! Policies from baselines: the allow-list a baseline implies, a capture
//! replayed against a proposed policy (the flows it would block), and vendor
//! MUD files (RFC 8520) read, imported and assigned to devices.

use crate::monitor::run_pipeline;
use crate::{invalid, Context, Error, Result};
use model::{Event, Record};
use policy::{Policy, Verdict};
use std::path::{Path, PathBuf};

/// A flow the policy would block.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Blocked {
    /// Flow start (ISO 8601).
    pub start: String,
    /// `tcp` or `udp`.
    pub transport: &'static str,
    /// Client address and port.
    pub client: String,
    /// Server address and port.
    pub server: String,
    /// Services the flow carried.
    pub service: String,
    /// The group whose rules refused it.
    pub group: String,
    /// The device concerned.
    pub device: String,
    /// Why.
    pub reason: String,
    /// Bytes the flow carried (both ways).
    pub bytes: u64,
    /// The other end: the address that is not the device's.
    #[serde(skip)]
    pub peer: std::net::IpAddr,
}

/// What a simulation would block in one group: the summary printed before
/// the flows.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct GroupBlocked {
    /// The group whose rules refuse.
    pub group: String,
    /// Flows blocked.
    pub flows: u64,
    /// Bytes they carried.
    pub bytes: u64,
    /// Distinct members of the group concerned.
    pub devices: u64,
    /// Distinct addresses on the other end.
    pub peers: u64,
}

/// What a simulation found.
#[derive(Debug)]
pub struct Simulation {
    /// Flows replayed.
    pub flows: u64,
    /// The ones the policy would block, by start, client and server.
    pub blocked: Vec<Blocked>,
    /// The sensor's report.
    pub report: sensor::Report,
}

impl Simulation {
    /// The blocked flows per group, most flows first (then by group name).
    pub fn by_group(&self) -> Vec<GroupBlocked> {
        use std::collections::{BTreeMap, BTreeSet};
        type Sets<'a> = (u64, u64, BTreeSet<&'a str>, BTreeSet<std::net::IpAddr>);
        let mut groups: BTreeMap<&str, Sets<'_>> = BTreeMap::new();
        for b in &self.blocked {
            let g = groups.entry(b.group.as_str()).or_default();
            g.0 += 1;
            g.1 = g.1.saturating_add(b.bytes);
            g.2.insert(b.device.as_str());
            g.3.insert(b.peer);
        }
        let mut out: Vec<GroupBlocked> = groups
            .into_iter()
            .map(|(group, (flows, bytes, devices, peers))| GroupBlocked {
                group: group.to_string(),
                flows,
                bytes,
                devices: devices.len() as u64,
                peers: peers.len() as u64,
            })
            .collect();
        out.sort_by(|a, b| b.flows.cmp(&a.flows).then_with(|| a.group.cmp(&b.group)));
        out
    }
}

/// Reads a policy file (`ward policy generate`'s policy.json).
pub fn read_policy(path: &Path) -> Result<Policy> {
    let bytes = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    Policy::from_json(&bytes).with_context(|| path.display())
}

/// Replays `files` against `p`.
pub fn simulate(p: &Policy, files: &[PathBuf], workers: Option<usize>) -> Result<Simulation> {
    let state: (Vec<Blocked>, u64) = (Vec::new(), 0);
    let (_, report, (mut blocked, flows)) =
        run_pipeline(files, workers, state, |(blocked, flows), ev: &Event| {
            let (Record::Conn(c), Some(f)) = (&ev.record, ev.flow.as_ref()) else {
                return;
            };
            *flows += 1;
            if let Verdict::Block {
                group,
                device,
                reason,
            } = p.evaluate(f)
            {
                let peer = if f.client.ip == device {
                    f.server.ip
                } else {
                    f.client.ip
                };
                blocked.push(Blocked {
                    bytes: c.orig_bytes.saturating_add(c.resp_bytes),
                    peer,
                    start: c.start.iso(),
                    transport: f.transport.as_str(),
                    client: format!("{}:{}", f.client.ip, f.client.port),
                    server: format!("{}:{}", f.server.ip, f.server.port),
                    service: c.service.join(","),
                    group,
                    device: device.to_string(),
                    reason,
                });
            }
        })?;
    blocked.sort_by(|a, b| (&a.start, &a.client, &a.server).cmp(&(&b.start, &b.client, &b.server)));
    Ok(Simulation {
        flows,
        blocked,
        report,
    })
}

/// A file `ward policy generate` can write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PolicyFile {
    /// policy.json (for `simulate` and `monitor --policy`).
    Policy,
    /// ward.nft (for `nft -f`).
    Nft,
    /// ward.nft.json (for `nft -j -f`).
    NftJson,
    /// mud/*.json (RFC 8520): one per device model, else per group.
    Mud,
}

/// What [`generate`] wrote.
#[derive(Debug)]
pub struct Generated {
    /// The policy the baseline implies.
    pub policy: Policy,
    /// The files written other than MUD files, in order.
    pub written: Vec<PathBuf>,
    /// The MUD files written (path and plan), when asked for.
    pub mud: Option<Vec<(PathBuf, policy::mud::MudFile)>>,
}

/// Writes the allow-lists baseline `base` implies into folder `out`: the
/// files of `want` (all when empty). MUD files are per device model as
/// `inventory` identifies it, else per group; `mud_base_url` is where they
/// will be published.
pub fn generate(
    base: &monitor::Baseline,
    inventory: &[identify::Device],
    out: &Path,
    want: &[PolicyFile],
    mud_base_url: &str,
) -> Result<Generated> {
    let p = Policy::from_baseline(base);
    let want = |f: PolicyFile| want.is_empty() || want.contains(&f);
    std::fs::create_dir_all(out).with_context(|| format!("cannot create {}", out.display()))?;
    let write = |name: &str, bytes: &[u8]| -> Result<PathBuf> {
        let path = out.join(name);
        std::fs::write(&path, bytes).with_context(|| format!("cannot write {}", path.display()))?;
        Ok(path)
    };
    let mut written = Vec::new();
    if want(PolicyFile::Policy) {
        written.push(write("policy.json", &serde_json::to_vec_pretty(&p)?)?);
    }
    if want(PolicyFile::Nft) {
        written.push(write("ward.nft", policy::nft::text(&p).as_bytes())?);
    }
    if want(PolicyFile::NftJson) {
        let json = serde_json::to_vec_pretty(&policy::nft::json(&p))?;
        written.push(write("ward.nft.json", &json)?);
    }
    let mud = if want(PolicyFile::Mud) {
        std::fs::create_dir_all(out.join("mud"))
            .with_context(|| format!("cannot create {}", out.join("mud").display()))?;
        let mut files = Vec::new();
        for f in policy::mud::plan(base, inventory, mud_base_url) {
            let path = write(
                &format!("mud/{}", f.file_name),
                &serde_json::to_vec_pretty(&f.doc)?,
            )?;
            files.push((path, f));
        }
        Some(files)
    } else {
        None
    };
    Ok(Generated {
        policy: p,
        written,
        mud,
    })
}

/// Reads a MUD file (a file of `ward mud import` or a response of `ward mud
/// fetch`): the parsed policy and the document as stored. Errors name `name`.
pub fn read_mud(name: &str, bytes: &[u8]) -> Result<(policy::mud::MudPolicy, String)> {
    // One line: the parser's message already holds the JSON error (no `: cause` repeated).
    let m =
        policy::mud::MudPolicy::parse(bytes).map_err(|e| Error::Invalid(format!("{name}: {e}")))?;
    let doc = String::from_utf8(bytes.to_vec())
        .map_err(|e| Error::Invalid(format!("{name}: not UTF-8: {e}")))?;
    Ok((m, doc))
}

/// Reads MUD files (all of them, before any is imported).
pub fn read_mud_files(files: &[PathBuf]) -> Result<Vec<(policy::mud::MudPolicy, String)>> {
    let mut parsed = Vec::new();
    for f in files {
        let bytes = std::fs::read(f).with_context(|| format!("cannot read {}", f.display()))?;
        parsed.push(read_mud(&f.display().to_string(), &bytes)?);
    }
    Ok(parsed)
}

/// Imports parsed MUD files ([`read_mud_files`]); with `device` (a key or
/// an address; exactly one file), assigns it to that device and returns
/// the device's key.
pub fn import_mud(
    store: &mut store::Store,
    parsed: &[(policy::mud::MudPolicy, String)],
    device: Option<&str>,
) -> Result<Option<String>> {
    if device.is_some() && parsed.len() != 1 {
        invalid!("--device assigns one MUD file: give exactly one");
    }
    for (m, doc) in parsed {
        store.import_mud(&m.url, m.model.as_deref(), doc)?;
    }
    match device {
        Some(d) => {
            let key = crate::intake::device_key(store, d)?;
            store.intake_assign_mud(&key, &parsed[0].0.url, crate::now())?;
            Ok(Some(key))
        }
        None => Ok(None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_mud_files_are_one_line_naming_the_file() {
        let e = read_mud("vendor.json", b"{not json").unwrap_err();
        let s = e.to_string();
        assert!(s.starts_with("vendor.json: "), "{s}");
        assert!(!s.contains('\n'));
    }

    #[test]
    fn blocked_flows_are_summed_per_group() {
        let b = |group: &str, device: &str, peer: &str, bytes: u64| Blocked {
            start: String::new(),
            transport: "tcp",
            client: String::new(),
            server: String::new(),
            service: String::new(),
            group: group.into(),
            device: device.into(),
            reason: String::new(),
            bytes,
            peer: peer.parse().unwrap(),
        };
        let sim = Simulation {
            flows: 10,
            blocked: vec![
                b("pumps", "10.0.0.1", "10.0.0.9", 100),
                b("imaging", "10.0.0.5", "10.0.0.9", 7),
                b("pumps", "10.0.0.2", "10.0.0.9", 50),
                b("pumps", "10.0.0.1", "10.0.0.8", u64::MAX),
            ],
            report: sensor::Report::default(),
        };
        let g = sim.by_group();
        assert_eq!(
            g,
            vec![
                GroupBlocked {
                    group: "pumps".into(),
                    flows: 3,
                    bytes: u64::MAX,
                    devices: 2,
                    peers: 2
                },
                GroupBlocked {
                    group: "imaging".into(),
                    flows: 1,
                    bytes: 7,
                    devices: 1,
                    peers: 1
                },
            ]
        );
    }
}
