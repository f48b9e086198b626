//! The network map: who talks to whom, from the inventory's peer facts
//! (`identify::FactKind::Peer`), as a graph of devices (and remote hosts
//! that are not devices) grouped by subnet (/24, /64) — and, for the page,
//! a bounded server-side SVG layout (the busiest nodes, with what was left
//! out counted). No script draws it; every label reaches the page through
//! askama's escaping.

use app::ScoredDevice;
use model::addr::{is_host, is_local};
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};
use std::net::IpAddr;
use utoipa::ToSchema;

/// Nodes shown by default.
pub const DEFAULT_NODES: usize = 60;
/// Most nodes a caller may ask for.
pub const MAX_NODES: usize = 500;
/// Peers listed per device on its page.
pub const PEERS_PER_DEVICE: usize = 50;

/// A device or remote host on the map.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct MapNode {
    /// Device key, or `ip:ADDRESS` for a host that is not in the inventory.
    pub id: String,
    /// Name shown (the device's best name, `web::names::best_name`, else its
    /// address or key); network input, shown as text.
    pub label: String,
    /// Category label (`remote host` for addresses outside the inventory).
    pub category: String,
    /// Subnet group (`10.20.0.0/24`, `fd00::/64`, `outside`, `no address`).
    pub group: String,
    /// Risk score 0-100 (0 for remote hosts).
    pub score: u8,
    /// Distinct peers.
    pub degree: usize,
    /// True when it is a device of the inventory (it has a detail page).
    pub device: bool,
}

/// Two nodes that talked.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct MapEdge {
    /// One end (node id).
    pub a: String,
    /// Other end (node id).
    pub b: String,
    /// Connections counted between them.
    pub flows: u64,
}

/// A bounded view of the graph.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct NetworkMap {
    /// Nodes shown (busiest first).
    pub nodes: Vec<MapNode>,
    /// Edges between shown nodes.
    pub edges: Vec<MapEdge>,
    /// Nodes in the whole graph.
    pub total_nodes: usize,
    /// Edges in the whole graph.
    pub total_edges: usize,
}

/// The whole graph, built once per snapshot.
#[derive(Debug, Default)]
pub struct Graph {
    nodes: Vec<MapNode>,
    /// (a, b, flows) with a < b (node indexes).
    edges: Vec<(u32, u32, u64)>,
    /// Per node, its edges' indexes.
    adjacency: Vec<Vec<u32>>,
    /// Node index by id.
    index: HashMap<String, u32>,
}

/// The subnet group of an address: its /24 or /64, or `outside` for public
/// addresses.
pub fn subnet(ip: &IpAddr) -> String {
    if !is_local(ip) {
        return "outside".into();
    }
    match ip {
        IpAddr::V4(v4) => {
            let o = v4.octets();
            format!("{}.{}.{}.0/24", o[0], o[1], o[2])
        }
        IpAddr::V6(v6) => {
            let s = v6.segments();
            format!(
                "{}/64",
                std::net::Ipv6Addr::new(s[0], s[1], s[2], s[3], 0, 0, 0, 0)
            )
        }
    }
}

fn short(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        s.to_string()
    } else {
        let mut t: String = s.chars().take(n.saturating_sub(1)).collect();
        t.push('…');
        t
    }
}

impl Graph {
    /// Builds the graph from scored devices and peer facts, each with its
    /// site (`""` on a single box): a fact is matched to the devices of its
    /// own site only (sites may reuse addresses), and a host outside the
    /// inventory is a node per site (`SITE/ip:ADDRESS`).
    pub fn build(rows: &[ScoredDevice], peers: &[(String, identify::Fact)]) -> Graph {
        let mut g = Graph::default();
        let by_key: HashMap<&str, usize> = rows
            .iter()
            .enumerate()
            .map(|(i, d)| (d.assessment.key.as_str(), i))
            .collect();
        let mut by_ip: HashMap<(&str, &str), usize> = HashMap::new();
        for (i, d) in rows.iter().enumerate() {
            let site = crate::view::site_of(&d.assessment.key).unwrap_or("");
            for ip in &d.ips {
                by_ip.entry((site, ip.as_str())).or_insert(i);
            }
        }
        let mut edges: BTreeMap<(u32, u32), u64> = BTreeMap::new();
        for (site, f) in peers {
            let site = site.as_str();
            let key = |k: String| store::site_key(site, &k);
            let ep = &f.endpoint;
            let ip_text = ep.ip.map(|i| i.to_string());
            let row = ip_text
                .as_ref()
                .and_then(|ip| by_key.get(key(format!("ip:{ip}")).as_str()).copied())
                .or_else(|| {
                    ep.mac
                        .and_then(|m| by_key.get(key(format!("mac:{m}")).as_str()).copied())
                })
                .or_else(|| {
                    ip_text
                        .as_ref()
                        .and_then(|ip| by_ip.get(&(site, ip.as_str())).copied())
                });
            let Some(row) = row else { continue };
            let a = g.device_node(&rows[row]);
            let Ok(peer_ip) = f.value.parse::<IpAddr>() else {
                continue;
            };
            // Broadcast and multicast destinations are not hosts.
            if !is_host(&peer_ip) {
                continue;
            }
            let b = match by_key
                .get(key(format!("ip:{peer_ip}")).as_str())
                .or_else(|| by_ip.get(&(site, f.value.as_str())))
            {
                Some(r) => g.device_node(&rows[*r]),
                None => g.remote_node(site, &peer_ip),
            };
            if a != b {
                *edges.entry((a.min(b), a.max(b))).or_default() += f.count.max(1);
            }
        }
        g.adjacency = vec![Vec::new(); g.nodes.len()];
        for (i, ((a, b), n)) in edges.into_iter().enumerate() {
            g.edges.push((a, b, n));
            g.adjacency[a as usize].push(i as u32);
            g.adjacency[b as usize].push(i as u32);
        }
        for (i, n) in g.nodes.iter_mut().enumerate() {
            n.degree = g.adjacency[i].len();
        }
        g
    }

    fn device_node(&mut self, d: &ScoredDevice) -> u32 {
        if let Some(i) = self.index.get(&d.assessment.key) {
            return *i;
        }
        let group = d
            .ips
            .iter()
            .find_map(|ip| ip.parse::<IpAddr>().ok())
            .map(|ip| subnet(&ip))
            .unwrap_or_else(|| "no address".into());
        self.push(MapNode {
            id: d.assessment.key.clone(),
            label: crate::names::best_name(d).unwrap_or_else(|| {
                d.ips
                    .first()
                    .cloned()
                    .unwrap_or_else(|| d.assessment.key.clone())
            }),
            category: d.category.to_string(),
            group,
            score: d.assessment.score,
            degree: 0,
            device: true,
        })
    }

    fn remote_node(&mut self, site: &str, ip: &IpAddr) -> u32 {
        let id = store::site_key(site, &format!("ip:{ip}"));
        if let Some(i) = self.index.get(&id) {
            return *i;
        }
        self.push(MapNode {
            id,
            label: ip.to_string(),
            category: "remote host".into(),
            group: subnet(ip),
            score: 0,
            degree: 0,
            device: false,
        })
    }

    fn push(&mut self, n: MapNode) -> u32 {
        let i = self.nodes.len() as u32;
        self.index.insert(n.id.clone(), i);
        self.nodes.push(n);
        i
    }

    /// The `limit` busiest nodes (most peers, then highest risk) and the
    /// edges between them; of one site's nodes when `site` is given
    /// (`total_*` count that site's graph).
    pub fn view(&self, limit: usize, site: Option<&str>) -> NetworkMap {
        let limit = limit.clamp(1, MAX_NODES);
        let of_site =
            |i: usize| site.is_none_or(|s| crate::view::site_of(&self.nodes[i].id) == Some(s));
        let mut order: Vec<usize> = (0..self.nodes.len()).filter(|i| of_site(*i)).collect();
        let total_nodes = order.len();
        let total_edges = self
            .edges
            .iter()
            .filter(|(a, _, _)| of_site(*a as usize))
            .count();
        order.sort_by(|a, b| {
            let (x, y) = (&self.nodes[*a], &self.nodes[*b]);
            y.degree
                .cmp(&x.degree)
                .then_with(|| y.score.cmp(&x.score))
                .then_with(|| x.id.cmp(&y.id))
        });
        order.truncate(limit);
        let mut shown = vec![false; self.nodes.len()];
        for i in &order {
            shown[*i] = true;
        }
        let edges = self
            .edges
            .iter()
            .filter(|(a, b, _)| shown[*a as usize] && shown[*b as usize])
            .map(|(a, b, n)| MapEdge {
                a: self.nodes[*a as usize].id.clone(),
                b: self.nodes[*b as usize].id.clone(),
                flows: *n,
            })
            .collect();
        NetworkMap {
            nodes: order.iter().map(|i| self.nodes[*i].clone()).collect(),
            edges,
            total_nodes,
            total_edges,
        }
    }

    /// A device's peers, busiest link first: (node, connections), at most
    /// `limit`, and how many there are in all.
    pub fn peers_of(&self, key: &str, limit: usize) -> (Vec<(MapNode, u64)>, usize) {
        let Some(i) = self.index.get(key).map(|i| *i as usize) else {
            return (Vec::new(), 0);
        };
        let mut out: Vec<(MapNode, u64)> = self.adjacency[i]
            .iter()
            .map(|e| {
                let (a, b, n) = self.edges[*e as usize];
                let other = if a as usize == i { b } else { a };
                (self.nodes[other as usize].clone(), n)
            })
            .collect();
        let total = out.len();
        out.sort_by(|x, y| y.1.cmp(&x.1).then_with(|| x.0.id.cmp(&y.0.id)));
        out.truncate(limit);
        (out, total)
    }
}

/// A node placed on the SVG.
pub struct PlacedNode {
    /// The node.
    pub node: MapNode,
    /// Centre.
    pub x: u32,
    /// Centre.
    pub y: u32,
    /// Radius.
    pub r: u32,
    /// Label shown under it (shortened).
    pub short: String,
    /// CSS class of its fill (risk band, or `remote`).
    pub class: &'static str,
    /// Detail link (devices only; URL-encoded key).
    pub href: String,
}

/// A subnet box on the SVG.
pub struct PlacedGroup {
    /// Subnet label.
    pub label: String,
    /// Nodes in it (shown).
    pub count: usize,
    /// Box.
    pub x: u32,
    /// Box.
    pub y: u32,
    /// Box.
    pub w: u32,
    /// Box.
    pub h: u32,
}

/// An edge placed on the SVG.
pub struct PlacedEdge {
    /// From.
    pub x1: u32,
    /// From.
    pub y1: u32,
    /// To.
    pub x2: u32,
    /// To.
    pub y2: u32,
    /// Stroke width.
    pub w: u32,
    /// Tooltip.
    pub title: String,
}

/// The laid-out map.
pub struct Layout {
    /// Subnet boxes.
    pub groups: Vec<PlacedGroup>,
    /// Nodes.
    pub nodes: Vec<PlacedNode>,
    /// Edges.
    pub edges: Vec<PlacedEdge>,
    /// Canvas width.
    pub width: u32,
    /// Canvas height.
    pub height: u32,
}

const CELL_W: u32 = 112;
const CELL_H: u32 = 74;
const PAD: u32 = 14;
const HEAD: u32 = 30;

/// Lays a map out: subnet boxes packed in rows (largest first), nodes in a
/// grid inside their box, edges as straight lines between centres.
pub fn layout(map: &NetworkMap, width: u32) -> Layout {
    let mut groups: BTreeMap<&str, Vec<&MapNode>> = BTreeMap::new();
    for n in &map.nodes {
        groups.entry(n.group.as_str()).or_default().push(n);
    }
    let mut groups: Vec<(&str, Vec<&MapNode>)> = groups.into_iter().collect();
    groups.sort_by(|a, b| b.1.len().cmp(&a.1.len()).then_with(|| a.0.cmp(b.0)));
    let max_cols = ((width - 2 * PAD) / CELL_W).max(1) as usize;
    let (mut x, mut y, mut row_h) = (PAD, PAD, 0u32);
    let mut placed_groups = Vec::new();
    let mut placed = Vec::new();
    let mut pos: HashMap<&str, (u32, u32)> = HashMap::new();
    for (label, members) in &groups {
        let cols = members.len().clamp(
            1,
            max_cols.min(((members.len() as f64).sqrt().ceil() as usize + 1).max(1)),
        );
        let rows = members.len().div_ceil(cols);
        let w = cols as u32 * CELL_W + PAD;
        let h = HEAD + rows as u32 * CELL_H;
        if x + w > width - PAD && x > PAD {
            x = PAD;
            y += row_h + PAD;
            row_h = 0;
        }
        placed_groups.push(PlacedGroup {
            label: label.to_string(),
            count: members.len(),
            x,
            y,
            w,
            h,
        });
        for (i, n) in members.iter().enumerate() {
            let cx = x + PAD / 2 + (i % cols) as u32 * CELL_W + CELL_W / 2;
            let cy = y + HEAD + (i / cols) as u32 * CELL_H + 22;
            let r = 7 + (usize::BITS - n.degree.leading_zeros()).min(9);
            pos.insert(n.id.as_str(), (cx, cy));
            placed.push(PlacedNode {
                short: short(&n.label, 16),
                class: if n.device {
                    crate::view::score_class(n.score)
                } else {
                    "remote"
                },
                href: if n.device {
                    format!(
                        "/device?key={}",
                        serde_urlencoded::to_string([("k", &n.id)])
                            .unwrap_or_default()
                            .trim_start_matches("k=")
                    )
                } else {
                    String::new()
                },
                node: (*n).clone(),
                x: cx,
                y: cy,
                r,
            });
        }
        x += w + PAD;
        row_h = row_h.max(h);
    }
    let max_flows = map.edges.iter().map(|e| e.flows).max().unwrap_or(1).max(1);
    let edges = map
        .edges
        .iter()
        .filter_map(|e| {
            let (a, b) = (pos.get(e.a.as_str())?, pos.get(e.b.as_str())?);
            let w =
                1 + (3 * (64 - e.flows.leading_zeros()) / (64 - max_flows.leading_zeros()).max(1));
            Some(PlacedEdge {
                x1: a.0,
                y1: a.1,
                x2: b.0,
                y2: b.1,
                w,
                title: format!("{} ↔ {}: {} connections", e.a, e.b, e.flows),
            })
        })
        .collect();
    Layout {
        groups: placed_groups,
        nodes: placed,
        edges,
        width,
        height: y + row_h + PAD,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use identify::{EndpointKey, Fact, FactKind};

    fn row(key: &str, name: &str, ip: &str) -> ScoredDevice {
        let d = identify::Device {
            key: key.into(),
            mac: None,
            vendor: None,
            ips: vec![ip.parse().unwrap()],
            hostnames: vec![name.into()],
            category: identify::Category::InfusionPump,
            confidence: 0.5,
            reasons: Vec::new(),
            services_offered: Vec::new(),
            services_used: Vec::new(),
            roles: Vec::new(),
            software: Vec::new(),
            applications: Vec::new(),
            models: Vec::new(),
            peer_count: 0,
            first_seen: model::Timestamp(0),
            last_seen: model::Timestamp(0),
            identity: Default::default(),
            facts: Vec::new(),
        };
        ScoredDevice {
            kind: app::DeviceKind::Observed,
            category: "infusion pump",
            medical: true,
            vendor: None,
            model: None,
            firmware: None,
            names: vec![name.into()],
            ips: vec![ip.into()],
            assessment: risk::assess(&d, &[]),
            advisories: Vec::new(),
        }
    }

    fn peer(mac: Option<&str>, ip: &str, to: &str, count: u64) -> Fact {
        Fact {
            endpoint: EndpointKey {
                mac: mac.and_then(model::MacAddr::parse),
                ip: ip.parse().ok(),
            },
            kind: FactKind::Peer,
            value: to.into(),
            source: "conn".into(),
            first_seen: model::Timestamp(1),
            last_seen: model::Timestamp(1),
            count,
            evidence: String::new(),
        }
    }

    #[test]
    fn graph_groups_bounds_and_lays_out() {
        let rows = vec![
            row(
                "mac:00:09:fb:00:00:01",
                "<script>alert(1)</script>",
                "10.20.0.5",
            ),
            row("ip:10.20.0.9", "hl7-engine", "10.20.0.9"),
            row("ip:10.30.1.2", "pacs", "10.30.1.2"),
        ];
        let peers = vec![
            peer(Some("00:09:fb:00:00:01"), "10.20.0.5", "10.20.0.9", 3),
            peer(None, "10.20.0.9", "10.20.0.5", 3),
            peer(Some("00:09:fb:00:00:01"), "10.20.0.5", "10.30.1.2", 1),
            peer(Some("00:09:fb:00:00:01"), "10.20.0.5", "203.0.113.7", 2),
            peer(None, "10.99.0.1", "10.20.0.5", 1), // not a device: skipped
            peer(Some("00:09:fb:00:00:01"), "10.20.0.5", "255.255.255.255", 1), // not a host: skipped
            peer(Some("00:09:fb:00:00:01"), "10.20.0.5", "224.0.0.251", 1),
        ];
        let peers: Vec<(String, identify::Fact)> =
            peers.into_iter().map(|f| (String::new(), f)).collect();
        let g = Graph::build(&rows, &peers);
        let all = g.view(MAX_NODES, None);
        assert_eq!((all.total_nodes, all.total_edges), (4, 3));
        assert_eq!(all.nodes[0].id, "mac:00:09:fb:00:00:01");
        assert_eq!(all.nodes[0].degree, 3);
        let e = all
            .edges
            .iter()
            .find(|e| e.a.contains("10.20.0.9") || e.b.contains("10.20.0.9"))
            .unwrap();
        assert_eq!(e.flows, 6, "both directions add up");
        let remote = all.nodes.iter().find(|n| !n.device).unwrap();
        assert_eq!(
            (remote.id.as_str(), remote.group.as_str()),
            ("ip:203.0.113.7", "outside")
        );
        assert_eq!(
            all.nodes
                .iter()
                .find(|n| n.id == "ip:10.30.1.2")
                .unwrap()
                .group,
            "10.30.1.0/24"
        );
        // Bounded: the busiest two, and only the edge between them.
        let two = g.view(2, None);
        assert_eq!(two.nodes.len(), 2);
        assert_eq!(two.edges.len(), 1);
        let (p, total) = g.peers_of("mac:00:09:fb:00:00:01", 2);
        assert_eq!((p.len(), total), (2, 3));
        assert_eq!(p[0].1, 6);
        let l = layout(&all, 900);
        assert_eq!(l.nodes.len(), 4);
        assert_eq!(l.edges.len(), 3);
        assert!(l.nodes.iter().all(|n| n.x < 900 && n.y < l.height));
        assert!(l.groups.iter().all(|gr| gr.x + gr.w <= 900));
        assert!(l
            .nodes
            .iter()
            .find(|n| n.node.device)
            .unwrap()
            .href
            .starts_with("/device?key="));
        assert_eq!(subnet(&"fd00::1".parse().unwrap()), "fd00::/64");
    }

    #[test]
    fn sites_that_reuse_addresses_keep_their_own_graphs() {
        let rows = vec![
            row("A/ip:10.0.0.1", "pump-a", "10.0.0.1"),
            row("A/ip:10.0.0.2", "pacs-a", "10.0.0.2"),
            row("B/ip:10.0.0.1", "pump-b", "10.0.0.1"),
        ];
        let peers = vec![
            ("A".to_string(), peer(None, "10.0.0.1", "10.0.0.2", 2)),
            ("B".to_string(), peer(None, "10.0.0.1", "10.0.0.2", 1)),
        ];
        let g = Graph::build(&rows, &peers);
        let all = g.view(MAX_NODES, None);
        assert_eq!((all.total_nodes, all.total_edges), (4, 2));
        let a = g.view(MAX_NODES, Some("A"));
        let ids: Vec<&str> = a.nodes.iter().map(|n| n.id.as_str()).collect();
        assert_eq!(ids, ["A/ip:10.0.0.1", "A/ip:10.0.0.2"]);
        assert_eq!((a.total_nodes, a.edges.len()), (2, 1));
        // Site B's peer is not site A's device of the same address.
        let b = g.view(MAX_NODES, Some("B"));
        let remote = b.nodes.iter().find(|n| !n.device).unwrap();
        assert_eq!(remote.id, "B/ip:10.0.0.2");
        assert_eq!(b.edges[0].flows, 1);
    }
}
