//! Policies from baselines, and flows judged against them.
//!
//! - [`Policy`]: per group (device model or category), its member addresses
//!   and the allowed conversations — `(peer, transport, port, direction)` —
//!   learnt in a [`monitor::Baseline`]. Everything else to or from a member is
//!   refused; traffic between hosts of no group is not governed.
//! - [`nft`]: the policy as an nftables ruleset (text for `nft -f`, JSON for
//!   `nft -j -f`), one set of allowed `addr . proto . port` per group and direction.
//! - [`mud`]: RFC 8520 MUD files per device model (per group for devices
//!   that state no model; from-device and to-device ACLs, RFC 8519), and the
//!   import of vendor MUD files as a [`mud::MudPolicy`].
//! - [`Policy::evaluate`] decides one flow; `ward policy simulate` and the
//!   policy-violation alerts use it (both implement [`monitor::FlowPolicy`]).
//!
//! Pure: no I/O, no clock. Imported files are hostile input: sizes and
//! counts are bounded and every error is one line.

pub mod mud;
pub mod nft;

use model::{FlowInfo, Transport};
use monitor::{Baseline, Role};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;

/// Errors reading policy or MUD files.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Not JSON, or not the expected structure.
    #[error("{0}")]
    Json(#[from] serde_json::Error),
    /// Structurally wrong (the message names the JSON path).
    #[error("{0}")]
    Invalid(String),
    /// Over a size or count limit.
    #[error("too large: {0}")]
    TooLarge(String),
}

/// Which way a conversation was opened, seen from the group's members.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Dir {
    /// A member opens it to `peer:port`.
    Out,
    /// `peer` opens it to a member's `port`.
    In,
}

/// One allowed conversation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Rule {
    /// Direction.
    pub dir: Dir,
    /// The other side.
    pub peer: IpAddr,
    /// TCP or UDP.
    pub transport: Transport,
    /// The server's port (the peer's for `out`, the member's for `in`).
    pub port: u16,
}

/// One group's allow-list.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct GroupPolicy {
    /// Member addresses.
    pub members: BTreeSet<IpAddr>,
    /// Allowed conversations.
    pub allow: BTreeSet<Rule>,
}

/// A proposed segmentation policy (serialized as the `--policy` file).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct Policy {
    /// Format version (1).
    pub version: u32,
    /// Per group.
    pub groups: BTreeMap<String, GroupPolicy>,
}

/// What the policy says about one flow.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "verdict", rename_all = "lowercase")]
pub enum Verdict {
    /// Allowed (or not governed).
    Allow,
    /// Refused by `group`'s allow-list, for `reason`.
    Block {
        /// The refusing group.
        group: String,
        /// The member it protects.
        device: IpAddr,
        /// Why (which rule is missing).
        reason: String,
    },
}

/// Largest policy file read.
pub const MAX_POLICY_BYTES: usize = 64 << 20;

impl Policy {
    /// The allow-lists of every group of `base` (see [`Baseline::group`]);
    /// devices of no group are left ungoverned.
    pub fn from_baseline(base: &Baseline) -> Policy {
        let mut groups = BTreeMap::new();
        for (name, g) in &base.groups {
            let mut gp = GroupPolicy {
                members: g.members.clone(),
                allow: BTreeSet::new(),
            };
            for t in &g.talks {
                let dir = match t.service.role {
                    Role::Client => Dir::Out,
                    Role::Server => Dir::In,
                };
                gp.allow.insert(Rule {
                    dir,
                    peer: t.peer,
                    transport: t.service.transport,
                    port: t.service.port,
                });
            }
            groups.insert(name.clone(), gp);
        }
        Policy { version: 1, groups }
    }

    /// Reads a policy file's content.
    pub fn from_json(bytes: &[u8]) -> Result<Policy, Error> {
        if bytes.len() > MAX_POLICY_BYTES {
            return Err(Error::TooLarge(format!(
                "policy of {} bytes (limit {MAX_POLICY_BYTES})",
                bytes.len()
            )));
        }
        let p: Policy = serde_json::from_slice(bytes)?;
        if p.version != 1 {
            return Err(Error::Invalid(format!(
                "version: unsupported policy version {}",
                p.version
            )));
        }
        let mut seen = BTreeMap::new();
        for (g, gp) in &p.groups {
            for m in &gp.members {
                if let Some(other) = seen.insert(*m, g) {
                    return Err(Error::Invalid(format!(
                        "groups.{g}.members: {m} is also a member of {other}"
                    )));
                }
            }
        }
        Ok(p)
    }

    fn group_of(&self, ip: &IpAddr) -> Option<(&String, &GroupPolicy)> {
        self.groups.iter().find(|(_, g)| g.members.contains(ip))
    }

    /// Decides one flow: the client's group must allow it out, and the
    /// server's group must allow it in.
    pub fn evaluate(&self, flow: &FlowInfo) -> Verdict {
        let (c, s, port, tr) = (
            flow.client.ip,
            flow.server.ip,
            flow.server.port,
            flow.transport,
        );
        if let Some((name, g)) = self.group_of(&c) {
            if !g.allow.contains(&Rule {
                dir: Dir::Out,
                peer: s,
                transport: tr,
                port,
            }) {
                return Verdict::Block {
                    group: name.clone(),
                    device: c,
                    reason: format!(
                        "no rule lets {c} ({name}) open {}/{port} on {s}",
                        tr.as_str()
                    ),
                };
            }
        }
        if let Some((name, g)) = self.group_of(&s) {
            if !g.allow.contains(&Rule {
                dir: Dir::In,
                peer: c,
                transport: tr,
                port,
            }) {
                return Verdict::Block {
                    group: name.clone(),
                    device: s,
                    reason: format!(
                        "no rule lets {c} open {}/{port} on {s} ({name})",
                        tr.as_str()
                    ),
                };
            }
        }
        Verdict::Allow
    }
}

impl monitor::FlowPolicy for Policy {
    fn violation(&self, f: &monitor::FlowSummary<'_>) -> Option<(IpAddr, String, String)> {
        match self.evaluate(f.flow) {
            Verdict::Allow => None,
            Verdict::Block {
                group,
                device,
                reason,
            } => {
                let key = format!(
                    "{group}: {} {}:{}",
                    f.flow.transport.as_str(),
                    f.flow.client.ip,
                    f.flow.server.port
                );
                Some((device, key, format!("policy would block: {reason}")))
            }
        }
    }
}

/// A name safe for nftables identifiers and file names: ASCII letters,
/// digits and `_`, at most 40 characters.
pub fn ident(name: &str) -> String {
    let mut s: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '_'
            }
        })
        .take(40)
        .collect();
    if s.is_empty() || !s.as_bytes()[0].is_ascii_alphabetic() {
        s.insert(0, 'g');
    }
    s
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use model::Endpoint;
    use monitor::{Learner, Window};

    pub fn flow(c: &str, s: &str, port: u16, tr: Transport) -> FlowInfo {
        FlowInfo {
            id: 1,
            transport: tr,
            client: Endpoint {
                ip: c.parse().unwrap(),
                port: 40000,
                mac: None,
            },
            server: Endpoint {
                ip: s.parse().unwrap(),
                port,
                mac: None,
            },
            vlan: None,
        }
    }

    pub fn baseline() -> Baseline {
        let mut l = Learner::new(Window::default());
        for (c, s, p, tr) in [
            ("10.0.0.2", "10.0.0.1", 104, Transport::Tcp),
            ("10.0.0.3", "10.0.0.4", 2575, Transport::Tcp),
            ("10.0.0.3", "10.0.0.53", 53, Transport::Udp),
            ("fd00::2", "fd00::1", 104, Transport::Tcp),
        ] {
            l.learn(&model::Event {
                ts: model::Timestamp(1),
                flow: Some(flow(c, s, p, tr)),
                record: model::Record::Conn(model::records::ConnRecord {
                    start: model::Timestamp(1),
                    established: true,
                    orig_bytes: 1,
                    ..Default::default()
                }),
            });
        }
        let mut b = l.finish();
        b.group(&|ip| match ip.to_string().as_str() {
            "10.0.0.2" | "fd00::2" => Some("CT scanner".into()),
            "10.0.0.1" | "fd00::1" => Some("PACS".into()),
            "10.0.0.3" => Some("patient monitor".into()),
            _ => None,
        });
        b
    }

    #[test]
    fn baseline_policy_allows_the_baseline_and_nothing_else() {
        let p = Policy::from_baseline(&baseline());
        assert_eq!(p.groups.len(), 3);
        assert_eq!(
            p.evaluate(&flow("10.0.0.2", "10.0.0.1", 104, Transport::Tcp)),
            Verdict::Allow
        );
        assert_eq!(
            p.evaluate(&flow("fd00::2", "fd00::1", 104, Transport::Tcp)),
            Verdict::Allow
        );
        assert_eq!(
            p.evaluate(&flow("10.0.0.3", "10.0.0.53", 53, Transport::Udp)),
            Verdict::Allow
        );
        // Ungoverned hosts.
        assert_eq!(
            p.evaluate(&flow("10.9.9.9", "10.9.9.8", 22, Transport::Tcp)),
            Verdict::Allow
        );
        // Wrong port, wrong direction, unknown client.
        for (c, s, port) in [
            ("10.0.0.2", "10.0.0.1", 23),
            ("10.0.0.1", "10.0.0.2", 104),
            ("10.0.0.66", "10.0.0.1", 104),
        ] {
            assert!(
                matches!(
                    p.evaluate(&flow(c, s, port, Transport::Tcp)),
                    Verdict::Block { .. }
                ),
                "{c} {s} {port}"
            );
        }
        let j = serde_json::to_vec(&p).unwrap();
        assert_eq!(Policy::from_json(&j).unwrap(), p);
        assert!(Policy::from_json(b"{\"version\":2,\"groups\":{}}").is_err());
        assert!(Policy::from_json(b"[").is_err());
    }

    #[test]
    fn idents() {
        assert_eq!(ident("CT scanner"), "ct_scanner");
        assert_eq!(ident("3d"), "g3d");
        assert_eq!(ident(""), "g");
    }
}
