//! A [`Policy`] as an nftables ruleset: table `inet ward`, per group a set of
//! member addresses and sets of allowed `addr . l4proto . port` out of and
//! into the group, and a `forward` chain (priority filter, policy accept)
//! that lets established traffic through, then checks new connections:
//! from a member they must match the group's out-set, to a member its in-set,
//! else they are counted and dropped. [`text`] is for `nft -f`, [`json`] for
//! `nft -j -f` (libnftables-json(5)); both describe the same rules.

use crate::{ident, Dir, Policy, Rule};
use serde_json::{json, Value};
use std::fmt::Write as _;
use std::net::IpAddr;

/// Name of the generated table (family `inet`).
pub const TABLE: &str = "ward";

struct Sets {
    name: String,
    v4: bool,
    members: Vec<IpAddr>,
    out: Vec<Rule>,
    inn: Vec<Rule>,
}

/// Per group and address family: the sets to declare (in group order).
fn sets(p: &Policy) -> Vec<Sets> {
    let mut v = Vec::new();
    for (i, (name, g)) in p.groups.iter().enumerate() {
        for v4 in [true, false] {
            let fam = |ip: &IpAddr| ip.is_ipv4() == v4;
            let members: Vec<IpAddr> = g.members.iter().filter(|m| fam(m)).copied().collect();
            if members.is_empty() {
                continue;
            }
            let out = g
                .allow
                .iter()
                .filter(|r| r.dir == Dir::Out && fam(&r.peer))
                .copied()
                .collect();
            let inn = g
                .allow
                .iter()
                .filter(|r| r.dir == Dir::In && fam(&r.peer))
                .copied()
                .collect();
            let base = format!("g{i}_{}_{}", ident(name), if v4 { "4" } else { "6" });
            v.push(Sets {
                name: base,
                v4,
                members,
                out,
                inn,
            });
        }
    }
    v
}

fn addr_type(v4: bool) -> &'static str {
    if v4 {
        "ipv4_addr"
    } else {
        "ipv6_addr"
    }
}

fn ip_proto(v4: bool) -> &'static str {
    if v4 {
        "ip"
    } else {
        "ip6"
    }
}

/// The ruleset as `nft -f` text. Loading it replaces any earlier `inet ward` table.
pub fn text(p: &Policy) -> String {
    let mut o = String::new();
    let _ = writeln!(o, "#!/usr/sbin/nft -f\n# Ward segmentation policy: per-group allow-lists learnt from a baseline.");
    for (i, (name, g)) in p.groups.iter().enumerate() {
        let clean: String = name
            .chars()
            .map(|c| if c.is_control() { ' ' } else { c })
            .collect();
        let _ = writeln!(
            o,
            "# g{i}: {clean} ({} members, {} rules)",
            g.members.len(),
            g.allow.len()
        );
    }
    let _ = writeln!(
        o,
        "table inet {TABLE}\ndelete table inet {TABLE}\ntable inet {TABLE} {{"
    );
    let all = sets(p);
    for s in &all {
        let t = addr_type(s.v4);
        let _ = writeln!(o, "\tset {}_m {{\n\t\ttype {t}", s.name);
        let elems: Vec<String> = s.members.iter().map(|m| m.to_string()).collect();
        let _ = writeln!(o, "\t\telements = {{ {} }}\n\t}}", elems.join(", "));
        for (suffix, rules) in [("out", &s.out), ("in", &s.inn)] {
            let _ = writeln!(
                o,
                "\tset {}_{suffix} {{\n\t\ttype {t} . inet_proto . inet_service",
                s.name
            );
            if !rules.is_empty() {
                let elems: Vec<String> = rules
                    .iter()
                    .map(|r| format!("{} . {} . {}", r.peer, r.transport.as_str(), r.port))
                    .collect();
                let _ = writeln!(o, "\t\telements = {{ {} }}", elems.join(", "));
            }
            let _ = writeln!(o, "\t}}");
        }
    }
    let _ = writeln!(o, "\tchain ward_out {{");
    for s in &all {
        let ip = ip_proto(s.v4);
        let _ = writeln!(
            o,
            "\t\t{ip} saddr @{n}_m {ip} daddr . meta l4proto . th dport @{n}_out return",
            n = s.name
        );
        let _ = writeln!(o, "\t\t{ip} saddr @{n}_m counter drop", n = s.name);
    }
    let _ = writeln!(o, "\t}}\n\tchain ward_in {{");
    for s in &all {
        let ip = ip_proto(s.v4);
        let _ = writeln!(
            o,
            "\t\t{ip} daddr @{n}_m {ip} saddr . meta l4proto . th dport @{n}_in return",
            n = s.name
        );
        let _ = writeln!(o, "\t\t{ip} daddr @{n}_m counter drop", n = s.name);
    }
    let _ = writeln!(
        o,
        "\t}}\n\tchain forward {{\n\t\ttype filter hook forward priority filter; policy accept;"
    );
    let _ = writeln!(
        o,
        "\t\tct state established,related accept\n\t\tjump ward_out\n\t\tjump ward_in\n\t}}\n}}"
    );
    o
}

fn payload(proto: &str, field: &str) -> Value {
    json!({"payload": {"protocol": proto, "field": field}})
}

fn rule(chain: &str, expr: Vec<Value>) -> Value {
    json!({"rule": {"family": "inet", "table": TABLE, "chain": chain, "expr": expr}})
}

/// The same ruleset as libnftables JSON, for `nft -j -f`.
pub fn json(p: &Policy) -> Value {
    let table = json!({"family": "inet", "name": TABLE});
    let mut cmds = vec![
        json!({"metainfo": {"json_schema_version": 1}}),
        json!({"add": {"table": table.clone()}}),
        json!({"delete": {"table": table.clone()}}),
        json!({"add": {"table": table}}),
    ];
    let all = sets(p);
    for s in &all {
        let t = addr_type(s.v4);
        let members: Vec<Value> = s.members.iter().map(|m| json!(m.to_string())).collect();
        cmds.push(json!({"add": {"set": {"family": "inet", "table": TABLE, "name": format!("{}_m", s.name), "type": t, "elem": members}}}));
        for (suffix, rules) in [("out", &s.out), ("in", &s.inn)] {
            let mut set = json!({"family": "inet", "table": TABLE, "name": format!("{}_{suffix}", s.name), "type": [t, "inet_proto", "inet_service"]});
            if !rules.is_empty() {
                let elems: Vec<Value> = rules
                    .iter()
                    .map(|r| json!({"concat": [r.peer.to_string(), r.transport.as_str(), r.port]}))
                    .collect();
                set["elem"] = Value::Array(elems);
            }
            cmds.push(json!({"add": {"set": set}}));
        }
    }
    for chain in ["ward_out", "ward_in"] {
        cmds.push(json!({"add": {"chain": {"family": "inet", "table": TABLE, "name": chain}}}));
    }
    cmds.push(json!({"add": {"chain": {"family": "inet", "table": TABLE, "name": "forward", "type": "filter", "hook": "forward", "prio": 0, "policy": "accept"}}}));
    let mut rules = Vec::new();
    for (chain, me, other, suffix) in [
        ("ward_out", "saddr", "daddr", "out"),
        ("ward_in", "daddr", "saddr", "in"),
    ] {
        for s in &all {
            let ip = ip_proto(s.v4);
            let member = json!({"match": {"op": "==", "left": payload(ip, me), "right": format!("@{}_m", s.name)}});
            let allowed = json!({"match": {"op": "==", "left": {"concat": [payload(ip, other), {"meta": {"key": "l4proto"}}, payload("th", "dport")]}, "right": format!("@{}_{suffix}", s.name)}});
            rules.push(rule(
                chain,
                vec![member.clone(), allowed, json!({"return": null})],
            ));
            rules.push(rule(
                chain,
                vec![member, json!({"counter": null}), json!({"drop": null})],
            ));
        }
    }
    rules.push(rule("forward", vec![json!({"match": {"op": "in", "left": {"ct": {"key": "state"}}, "right": ["established", "related"]}}), json!({"accept": null})]));
    rules.push(rule(
        "forward",
        vec![json!({"jump": {"target": "ward_out"}})],
    ));
    rules.push(rule(
        "forward",
        vec![json!({"jump": {"target": "ward_in"}})],
    ));
    cmds.extend(rules.into_iter().map(|r| json!({"add": r})));
    json!({"nftables": cmds})
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tests::baseline;
    use crate::Policy;

    #[test]
    fn text_and_json_name_the_same_sets() {
        let p = Policy::from_baseline(&baseline());
        let t = text(&p);
        assert!(t.contains("set g0_ct_scanner_4_out {"), "{t}");
        assert!(t.contains("10.0.0.1 . tcp . 104"), "{t}");
        assert!(t.contains("set g0_ct_scanner_6_m {"), "{t}");
        assert!(t.contains("10.0.0.53 . udp . 53"), "{t}");
        let j = json(&p).to_string();
        for name in [
            "g0_ct_scanner_4_out",
            "g1_pacs_4_in",
            "g2_patient_monitor_4_m",
            "g0_ct_scanner_6_out",
        ] {
            assert!(
                t.contains(&format!("@{name}")) || t.contains(&format!("set {name} ")),
                "{name}"
            );
            assert!(j.contains(&format!("\"{name}\"")), "{name} in {j}");
        }
    }
}
