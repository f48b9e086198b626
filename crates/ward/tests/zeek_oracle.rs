//! Zeek-baseline agreement test: the fields Ward extracts agree with the logs
//! Zeek wrote for the same traces (Zeek btest baselines, zeek/zeek @ a13de64f,
//! stored in `../shared/testdata/zeek`, see its INDEX.md).
//!
//! Run with `cargo test -p ward --test zeek_oracle -- --nocapture` to see the
//! per-protocol table and the top mismatching fields with examples; set
//! `ZEEK_ORACLE_VERBOSE=1` to list every mismatch.
//!
//! # Which Zeek tests are used
//! From `zeek/zeek_test_map.json`, tests under
//! `testing/btest/scripts/{base,policy}/protocols/{dhcp,dns,http,ssl,ssh,smb,snmp,ftp}/`
//! whose baseline directory holds a log Ward has an equivalent for
//! (`dhcp.log`, `dns.log`, `http.log`, `ssl.log` + `x509.log`, `ssh.log`,
//! `smb_mapping.log` / `smb_files.log`, `snmp.log`, `ftp.log`, and `zeek-cut -m`
//! extracts `*.log.cut` of those), and whose trace exists, subject to:
//! * exactly one `zeek -r $TRACES/...` run (logs of earlier runs are
//!   overwritten, so a multi-run baseline cannot be attributed to one trace);
//!   exception: the SNMP tests that print every SNMP event with Zeek's stock
//!   `$SCRIPTS/snmp-test.zeek` into one `outN` file per trace, which are read
//!   as per-message ground truth (event name, community, number of bindings);
//! * no `-e` (inline script code), no `-f` (BPF filter), no `Name=value`
//!   script options and no test-local script files on the command line
//!   (stock Zeek scripts such as `base/protocols/dns` or
//!   `protocols/dhcp/sub-opts` only add columns and are allowed);
//! * not in [`EXCLUDED`], the tests whose own `%INPUT` script changes the
//!   compared columns (each listed with the reason, found by reading the
//!   btest script in zeek/zeek);
//! * the same (trace, log, content) is compared once, however many tests
//!   produced it.
//!
//! `*.log.cut` files without the connection 4-tuple are joined to it through
//! the test's `conn.log`/`conn.log.cut` by `uid`, and skipped when there is none.
//! `.pcap.gz` traces are decompressed with `gzip -dc` into a scratch directory.
//!
//! # Matching
//! Ward runs on each trace with a fresh database and `--events`. Records are
//! matched to Zeek rows by connection 4-tuple in either orientation (Zeek's
//! orig/resp can differ from Ward's client/server in mid-stream captures),
//! then per protocol:
//! * dns: Ward's query and response messages are paired per flow the way
//!   Zeek's `dns/main.zeek` pairs them (FIFO per transaction id, replies
//!   without a query stand alone, messages to multicast groups are never
//!   paired); rows are matched on trans_id + query, then trans_id alone;
//! * dhcp: Ward's per-message records are aggregated per xid the way Zeek's
//!   `dhcp/main.zeek` does (last value wins, client fields from client
//!   messages, server fields from server messages, mac from a client-id of
//!   hardware type 1 else chaddr); Zeek rows carry no 4-tuple or xid, so a row
//!   matches the unused transaction with the same mac sharing most message types;
//! * http, ssl, ssh: in order within the connection (http prefers the next
//!   record with the same method and URI);
//! * smb: each distinct share path Zeek mapped on a connection must be among
//!   the connection's `tree_paths`;
//! * snmp: Zeek's per-connection aggregate (`snmp.log`) is rebuilt from Ward's
//!   per-message records; `outN` event prints are matched message by message;
//! * ftp: USER/PASS rows (when the test logs them) are login attempts matched
//!   in order to Ward's `login` records; otherwise the connection's set of
//!   user names is compared.
//!
//! A *comparable field* is one where Zeek has a value (not `-`) in a row.
//! Agreement means equal after normalisation: Zeek's TSV escapes (`\xNN`,
//! `\\`) are decoded and the result goes through Ward's own
//! `model::text::bounded` (control characters dropped, trimmed) because Ward
//! never stores control characters; host and DNS names compare
//! case-insensitively; numbers and intervals numerically; vectors and sets as
//! multisets. Unmatched Zeek rows count every comparable field as a
//! disagreement. Fields whose Zeek value is a script default rather than
//! packet content are not comparable (documented at each comparator).

use serde_json::Value;
use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

/// Zeek protocol test directories considered.
const DIRS: [&str; 8] = ["dhcp", "dns", "http", "ssl", "ssh", "smb", "snmp", "ftp"];
/// Report labels, one per protocol.
const LABELS: [&str; 8] = ["dhcp", "dns", "http", "tls", "ssh", "smb", "snmp", "ftp"];
/// Required agreement, overall and for every protocol.
const THRESHOLD: f64 = 95.0;

/// Tests whose own `%INPUT` script changes the compared columns, with why.
const EXCLUDED: &[(&str, &str)] = &[
    (
        "base/protocols/ftp/ftp-max-user-length.zeek",
        "redefs FTP::max_user_length = 4: the logged user is truncated",
    ),
    (
        "base/protocols/dhcp/dhcp-max-tracked-transactions.zeek",
        "redefs DHCP::max_tracked_transactions = 5: transactions are logged early",
    ),
    (
        "policy/protocols/ssl/decryption.zeek",
        "http.log comes from TLS decrypted with secrets the script supplies",
    ),
];

// ---------------------------------------------------------------- Zeek logs

/// One parsed Zeek TSV log (or `zeek-cut -m` extract).
#[derive(Debug, Default)]
struct ZLog {
    fields: Vec<String>,
    rows: Vec<Vec<String>>,
    set_sep: String,
}

impl ZLog {
    fn parse(text: &str) -> ZLog {
        let mut log = ZLog {
            set_sep: ",".into(),
            ..Default::default()
        };
        for line in text.lines() {
            if line.starts_with("###") || line.is_empty() {
                continue;
            }
            if let Some(rest) = line.strip_prefix('#') {
                let mut parts = rest.split('\t');
                match parts.next() {
                    Some("fields") => log.fields = parts.map(str::to_string).collect(),
                    Some("set_separator") => log.set_sep = parts.next().unwrap_or(",").to_string(),
                    _ => {}
                }
                continue;
            }
            let cols: Vec<String> = line.split('\t').map(str::to_string).collect();
            if log.fields.is_empty() {
                // `zeek-cut -m`: the first line names the columns.
                log.fields = cols;
            } else {
                log.rows.push(cols);
            }
        }
        log
    }

    fn col(&self, name: &str) -> Option<usize> {
        self.fields.iter().position(|f| f == name)
    }

    fn rows(&self) -> impl Iterator<Item = ZRow<'_>> {
        self.rows.iter().map(move |r| ZRow { log: self, vals: r })
    }
}

#[derive(Clone, Copy)]
struct ZRow<'a> {
    log: &'a ZLog,
    vals: &'a [String],
}

impl<'a> ZRow<'a> {
    /// Raw (escaped) value, None when unset (`-`) or the column is absent.
    fn get(&self, name: &str) -> Option<&'a str> {
        let v = self.vals.get(self.log.col(name)?)?.as_str();
        (v != "-").then_some(v)
    }
}

/// Decodes Zeek's ASCII-writer escapes (`\xNN`, `\\`).
fn unescape(s: &str) -> Vec<u8> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'\\' {
            if b.get(i + 1) == Some(&b'\\') {
                out.push(b'\\');
                i += 2;
                continue;
            }
            if b.get(i + 1) == Some(&b'x') {
                if let Some(v) = s
                    .get(i + 2..i + 4)
                    .and_then(|h| u8::from_str_radix(h, 16).ok())
                {
                    out.push(v);
                    i += 4;
                    continue;
                }
            }
        }
        out.push(b[i]);
        i += 1;
    }
    out
}

/// Ward's string normalisation (`model::text`): control characters dropped,
/// tabs to spaces, trimmed, Latin-1 fallback. Applied to both sides.
fn clean(bytes: &[u8]) -> String {
    model::text::bounded(bytes, usize::MAX)
}

/// A Zeek string value; `(empty)` is how Zeek writes an empty string.
fn zstr(raw: &str) -> String {
    if raw == "(empty)" {
        String::new()
    } else {
        clean(&unescape(raw))
    }
}

fn zset(raw: &str, sep: &str) -> Vec<String> {
    if raw == "(empty)" {
        Vec::new()
    } else {
        raw.split(sep).map(zstr).collect()
    }
}

// ---------------------------------------------------------------- connections

type Ep = (IpAddr, u16);

/// A connection 4-tuple without orientation.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Debug)]
struct Key(Ep, Ep);

impl Key {
    fn new(a: Ep, b: Ep) -> Key {
        if a <= b {
            Key(a, b)
        } else {
            Key(b, a)
        }
    }
}

fn show_key(k: &Option<Key>) -> String {
    match k {
        Some(Key(a, b)) => format!("{}:{}<->{}:{}", a.0, a.1, b.0, b.1),
        None => "?".into(),
    }
}

fn port(s: &str) -> Option<u16> {
    s.split('/').next()?.trim().parse().ok()
}

/// Connection 4-tuples by uid from a conn log (for extracts lacking `id.*`).
type UidMap = HashMap<String, Key>;

/// Prefers, among a connection's records, one that agrees on a matching key.
type SameFn<'f> = &'f dyn Fn(&ZRow<'_>, &Ev) -> bool;

/// One Ward run's outcome, by job index.
type RunResult = (usize, Result<Vec<Ev>, String>);

fn zkey(row: &ZRow<'_>, uids: &UidMap) -> Option<Key> {
    let direct = (|| {
        let oh: IpAddr = row.get("id.orig_h")?.parse().ok()?;
        let rh: IpAddr = row.get("id.resp_h")?.parse().ok()?;
        Some(Key::new(
            (oh, port(row.get("id.orig_p")?)?),
            (rh, port(row.get("id.resp_p")?)?),
        ))
    })();
    direct.or_else(|| uids.get(row.get("uid")?).copied())
}

// ---------------------------------------------------------------- Ward events

/// One Ward record from `--events`.
struct Ev {
    ts: f64,
    key: Option<Key>,
    v: Value,
}

impl Ev {
    fn typ(&self) -> &str {
        self.v["type"].as_str().unwrap_or("")
    }
    fn s(&self, k: &str) -> Option<String> {
        jstr(&self.v[k])
    }
}

fn jstr(v: &Value) -> Option<String> {
    match v {
        Value::Null => None,
        Value::String(s) => Some(s.clone()),
        Value::Bool(b) => Some(if *b { "T" } else { "F" }.into()),
        Value::Number(n) => Some(n.to_string()),
        other => Some(other.to_string()),
    }
}

fn parse_event(line: &str) -> Option<Ev> {
    let v: Value = serde_json::from_str(line).ok()?;
    let ep = |side: &str| -> Option<Ep> {
        let e = &v["flow"][side];
        Some((
            e["ip"].as_str()?.parse().ok()?,
            u16::try_from(e["port"].as_u64()?).ok()?,
        ))
    };
    let key = match (ep("client"), ep("server")) {
        (Some(a), Some(b)) => Some(Key::new(a, b)),
        _ => None,
    };
    Some(Ev {
        ts: v["ts"].as_f64().unwrap_or(0.0) / 1e6,
        key,
        v,
    })
}

/// Ward records of one type grouped by connection, each list in time order.
fn by_key<'a>(evs: &'a [Ev], typ: &str) -> HashMap<Key, Vec<&'a Ev>> {
    let mut m: HashMap<Key, Vec<&Ev>> = HashMap::new();
    for e in evs.iter().filter(|e| e.typ() == typ) {
        if let Some(k) = e.key {
            m.entry(k).or_default().push(e);
        }
    }
    for v in m.values_mut() {
        v.sort_by(|a, b| a.ts.total_cmp(&b.ts));
    }
    m
}

// ---------------------------------------------------------------- comparison

/// How a field is compared.
#[derive(Clone, Copy)]
enum K {
    /// String after [`clean`].
    Str,
    /// Case-insensitive string (host and DNS names).
    Ci,
    /// Number or interval.
    Num,
    /// `T`/`F`.
    Bool,
    /// Multiset of strings.
    Set,
    /// Multiset of numbers.
    NumSet,
    /// Case-insensitive multiset that Ward caps at [`SAN_CAP`] entries.
    CappedCiSet,
    /// SSH host key fingerprint: Zeek logs `SHA256:` and only the first 32
    /// base64 characters of the digest (every ssh.log baseline has exactly 39
    /// characters), Ward the full unpadded base64 as `ssh-keygen -l` prints it;
    /// Ward's value is compared cut to Zeek's length.
    Sha256Prefix,
}

/// Ward keeps at most this many subjectAltName DNS entries (`cert_san_dns`);
/// longer Zeek lists agree when Ward holds exactly their first 16.
const SAN_CAP: usize = 16;

/// Ward's side of a comparison.
#[derive(Clone, Debug)]
enum W {
    Missing,
    S(String),
    L(Vec<String>),
}

impl W {
    fn of(v: &Value) -> W {
        match v {
            Value::Null => W::Missing,
            Value::Array(a) => W::L(a.iter().filter_map(jstr).collect()),
            other => jstr(other).map_or(W::Missing, W::S),
        }
    }
    fn opt(v: Option<String>) -> W {
        v.map_or(W::Missing, W::S)
    }
    fn show(&self) -> String {
        match self {
            W::Missing => "<unset>".into(),
            W::S(s) => format!("{s:?}"),
            W::L(l) => format!("{l:?}"),
        }
    }
}

fn num(s: &str) -> Option<f64> {
    s.trim().parse().ok()
}

fn num_eq(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-6 * a.abs().max(1.0)
}

/// Compares Zeek's raw value with Ward's; returns (agree, Zeek value shown).
fn agree(kind: K, raw: &str, sep: &str, w: &W) -> (bool, String) {
    let ws = |w: &W| -> Option<String> {
        match w {
            W::S(s) => Some(clean(s.as_bytes())),
            W::L(l) if l.len() == 1 => Some(clean(l[0].as_bytes())),
            _ => None,
        }
    };
    let wl = |w: &W| -> Option<Vec<String>> {
        match w {
            W::L(l) => Some(l.iter().map(|s| clean(s.as_bytes())).collect()),
            W::S(s) => Some(vec![clean(s.as_bytes())]),
            W::Missing => None,
        }
    };
    match kind {
        K::Str | K::Ci => {
            let mut z = zstr(raw);
            let Some(mut w) = ws(w) else {
                return (false, format!("{z:?}"));
            };
            if matches!(kind, K::Ci) {
                z = z.to_lowercase();
                w = w.to_lowercase();
            }
            // Ward caps strings at model::text::MAX_FIELD bytes by design.
            let capped = w.len() + 4 > model::text::MAX_FIELD && z.starts_with(&w);
            (z == w || capped, format!("{:?}", zstr(raw)))
        }
        K::Num => {
            let z = zstr(raw);
            let ok = match (num(&z), ws(w).as_deref().and_then(num)) {
                (Some(a), Some(b)) => num_eq(a, b),
                _ => false,
            };
            (ok, z)
        }
        K::Bool => (ws(w).as_deref() == Some(raw), raw.to_string()),
        K::Sha256Prefix => {
            let z = zstr(raw);
            let ok = ws(w)
                .is_some_and(|w| z.len() == "SHA256:".len() + 32 && w.starts_with(&z) || w == z);
            (ok, format!("{z:?}"))
        }
        K::CappedCiSet => {
            let z: Vec<String> = zset(raw, sep)
                .into_iter()
                .map(|s| s.to_lowercase())
                .collect();
            let shown = format!("{z:?}");
            let Some(w) = wl(w) else {
                return (z.is_empty(), shown);
            };
            let w: Vec<String> = w.into_iter().map(|s| s.to_lowercase()).collect();
            let ok = if z.len() > SAN_CAP && w.len() == SAN_CAP {
                z[..SAN_CAP] == w[..]
            } else {
                let (mut a, mut b) = (z, w);
                a.sort();
                b.sort();
                a == b
            };
            (ok, shown)
        }
        K::Set | K::NumSet => {
            let z = zset(raw, sep);
            let shown = format!("{z:?}");
            let Some(w) = wl(w) else {
                return (z.is_empty(), shown);
            };
            if z.len() != w.len() {
                return (false, shown);
            }
            let ok = match kind {
                K::NumSet => {
                    let mut a: Vec<f64> = z.iter().filter_map(|s| num(s)).collect();
                    let mut b: Vec<f64> = w.iter().filter_map(|s| num(s)).collect();
                    a.sort_by(f64::total_cmp);
                    b.sort_by(f64::total_cmp);
                    a.len() == z.len()
                        && b.len() == w.len()
                        && a.iter().zip(&b).all(|(x, y)| num_eq(*x, *y))
                }
                _ => {
                    let norm = |v: Vec<String>| {
                        let mut v = v;
                        v.sort();
                        v
                    };
                    norm(z) == norm(w)
                }
            };
            (ok, shown)
        }
    }
}

/// One compared field.
#[derive(Clone, Debug)]
struct Outcome {
    field: String,
    test: String,
    conn: String,
    zeek: String,
    ward: String,
    agree: bool,
}

/// Per-protocol tallies.
#[derive(Default)]
struct Acc {
    tests: HashSet<String>,
    rows: usize,
    matched: usize,
    out: Vec<Outcome>,
}

/// Collects comparisons for one protocol and one baseline file.
struct Cmp<'a> {
    acc: &'a mut Acc,
    test: String,
    sep: String,
}

impl Cmp<'_> {
    /// A Zeek row (or logical unit) seen; `matched` if Ward has a counterpart.
    fn row(&mut self, matched: bool) {
        self.acc.rows += 1;
        if matched {
            self.acc.matched += 1;
        }
        self.acc.tests.insert(self.test.clone());
    }

    /// Compares one field when Zeek has a value; `w` None = no matching record.
    fn field(&mut self, conn: &Option<Key>, name: &str, kind: K, zeek: Option<&str>, w: Option<W>) {
        let Some(raw) = zeek else { return };
        let (ok, zshow, wshow) = match &w {
            Some(w) => {
                let (ok, z) = agree(kind, raw, &self.sep, w);
                (ok, z, w.show())
            }
            None => (false, zstr(raw), "<no matching Ward record>".into()),
        };
        self.acc.out.push(Outcome {
            field: name.into(),
            test: self.test.clone(),
            conn: show_key(conn),
            zeek: zshow,
            ward: wshow,
            agree: ok,
        });
    }
}

// ---------------------------------------------------------------- dns

/// A Zeek-style DNS row built from Ward's messages: (query msg, reply msg).
struct DnsRow<'a> {
    q: Option<&'a Ev>,
    r: Option<&'a Ev>,
    used: bool,
}

/// Pairs Ward's DNS messages like Zeek's `DNS::set_session`: per 4-tuple, a
/// query waits in a FIFO per transaction id for its reply; a reply without a
/// waiting query starts a row of its own (and may be joined by a later query).
fn dns_rows(evs: &[Ev]) -> HashMap<Key, Vec<DnsRow<'_>>> {
    // Zeek's connection is the 4-tuple (VLAN ids are not part of it by
    // default), while Ward keeps VLANs apart: pair per 4-tuple.
    let mut flows: BTreeMap<Key, Vec<&Ev>> = BTreeMap::new();
    for e in evs.iter().filter(|e| e.typ() == "dns") {
        if let Some(k) = e.key {
            flows.entry(k).or_default().push(e);
        }
    }
    let mut out: HashMap<Key, Vec<DnsRow<'_>>> = HashMap::new();
    for (key, mut msgs) in flows {
        msgs.sort_by(|a, b| a.ts.total_cmp(&b.ts));
        // Messages sent to a multicast group (mDNS) are not correlated by
        // transaction id: each gets a row of its own (Zeek's mdns-no-assoc).
        let multicast = key.0 .0.is_multicast() || key.1 .0.is_multicast();
        if multicast {
            out.entry(key).or_default().extend(msgs.iter().map(|m| {
                let resp = m.v["is_response"].as_bool().unwrap_or(false);
                DnsRow {
                    q: (!resp).then_some(*m),
                    r: resp.then_some(*m),
                    used: false,
                }
            }));
            continue;
        }
        let mut rows: Vec<DnsRow<'_>> = Vec::new();
        let mut pending_q: HashMap<u64, VecDeque<usize>> = HashMap::new();
        let mut pending_r: HashMap<u64, VecDeque<usize>> = HashMap::new();
        for m in msgs {
            let tid = m.v["trans_id"].as_u64().unwrap_or(0);
            let is_resp = m.v["is_response"].as_bool().unwrap_or(false);
            let (mine, theirs) = if is_resp {
                (&mut pending_r, &mut pending_q)
            } else {
                (&mut pending_q, &mut pending_r)
            };
            if let Some(i) = theirs.get_mut(&tid).and_then(VecDeque::pop_front) {
                if is_resp {
                    rows[i].r = Some(m)
                } else {
                    rows[i].q = Some(m)
                }
            } else {
                rows.push(if is_resp {
                    DnsRow {
                        q: None,
                        r: Some(m),
                        used: false,
                    }
                } else {
                    DnsRow {
                        q: Some(m),
                        r: None,
                        used: false,
                    }
                });
                mine.entry(tid).or_default().push_back(rows.len() - 1);
            }
        }
        out.entry(key).or_default().extend(rows);
    }
    out
}

fn dns(log: &ZLog, uids: &UidMap, evs: &[Ev], c: &mut Cmp<'_>) {
    let mut rows = dns_rows(evs);
    for z in log.rows() {
        let key = zkey(&z, uids);
        let tid = z.get("trans_id").and_then(num);
        let zq = z.get("query").map(|q| zstr(q).to_lowercase());
        let cands = key.and_then(|k| rows.get_mut(&k));
        let found = cands.and_then(|rs| {
            let tid_ok = |r: &DnsRow<'_>| {
                tid.is_none_or(|t| r.q.or(r.r).and_then(|e| e.v["trans_id"].as_f64()) == Some(t))
            };
            let query_of = |r: &DnsRow<'_>| {
                r.q.and_then(|e| e.s("query"))
                    .or_else(|| r.r.and_then(|e| e.s("query")))
                    .map(|s| s.to_lowercase())
            };
            let i = rs
                .iter()
                .position(|r| !r.used && tid_ok(r) && query_of(r) == zq)
                .or_else(|| rs.iter().position(|r| !r.used && tid_ok(r)))?;
            rs[i].used = true;
            Some((rs[i].q, rs[i].r))
        });
        c.row(found.is_some());
        let (q, r) = found.unwrap_or((None, None));
        let have = found.is_some();
        let qv = |k: &str| have.then(|| q.map_or(W::Missing, |e| W::of(&e.v[k])));
        let rv = |k: &str| have.then(|| r.map_or(W::Missing, |e| W::of(&e.v[k])));
        let query = have.then(|| {
            W::opt(
                q.and_then(|e| e.s("query"))
                    .or_else(|| r.and_then(|e| e.s("query"))),
            )
        });
        c.field(&key, "query", K::Ci, z.get("query"), query);
        c.field(&key, "qclass", K::Num, z.get("qclass"), qv("qclass"));
        c.field(
            &key,
            "qclass_name",
            K::Str,
            z.get("qclass_name"),
            qv("qclass_name"),
        );
        c.field(&key, "qtype", K::Num, z.get("qtype"), qv("qtype"));
        c.field(
            &key,
            "qtype_name",
            K::Str,
            z.get("qtype_name"),
            qv("qtype_name"),
        );
        c.field(&key, "rcode", K::Num, z.get("rcode"), rv("rcode"));
        c.field(
            &key,
            "rcode_name",
            K::Str,
            z.get("rcode_name"),
            rv("rcode_name"),
        );
        let opcode = |k: &str| have.then(|| q.or(r).map_or(W::Missing, |e| W::of(&e.v[k])));
        c.field(&key, "opcode", K::Num, z.get("opcode"), opcode("opcode"));
        c.field(
            &key,
            "opcode_name",
            K::Str,
            z.get("opcode_name"),
            opcode("opcode_name"),
        );
        // RD, TC and Z are set from the query (`dns_request`); without one
        // (qtype unset) Zeek logs its defaults F/F/0, which are not packet data.
        if z.get("qtype").is_some() {
            c.field(&key, "RD", K::Bool, z.get("RD"), qv("rd"));
            c.field(&key, "TC", K::Bool, z.get("TC"), qv("tc"));
            c.field(&key, "Z", K::Num, z.get("Z"), qv("z"));
        }
        // AA and RA are only copied from a reply that has answers
        // (`DNS::do_reply`); otherwise Zeek logs its default F.
        if z.get("answers").is_some() {
            c.field(&key, "AA", K::Bool, z.get("AA"), rv("aa"));
            c.field(&key, "RA", K::Bool, z.get("RA"), rv("ra"));
        }
        let answers = |f: &dyn Fn(&Value) -> Option<String>| {
            have.then(|| {
                r.map_or(W::Missing, |e| {
                    W::L(
                        e.v["answers"]
                            .as_array()
                            .map(|a| a.iter().filter_map(f).collect())
                            .unwrap_or_default(),
                    )
                })
            })
        };
        c.field(
            &key,
            "answers",
            K::Set,
            z.get("answers"),
            answers(&|a| jstr(&a["data"])),
        );
        c.field(
            &key,
            "TTLs",
            K::NumSet,
            z.get("TTLs"),
            answers(&|a| jstr(&a["ttl"])),
        );
    }
}

// ---------------------------------------------------------------- dhcp

/// DHCP message types sent by clients (the rest come from servers). Zeek
/// decides by ports and orientation; Ward's records carry the message type.
const DHCP_CLIENT_TYPES: [&str; 9] = [
    "DISCOVER",
    "REQUEST",
    "DECLINE",
    "RELEASE",
    "INFORM",
    "LEASEQUERY",
    "BULKLEASEQUERY",
    "ACTIVELEASEQUERY",
    "STARTTLS",
];

/// One Zeek-style DHCP transaction aggregated from Ward's messages.
#[derive(Default, Debug)]
struct DhcpTx {
    mac: Option<String>,
    client_chaddr: Option<String>,
    host_name: Option<String>,
    client_fqdn: Option<String>,
    domain: Option<String>,
    requested_addr: Option<String>,
    assigned_addr: Option<String>,
    lease_time: Option<String>,
    client_message: Option<String>,
    server_message: Option<String>,
    msg_types: Vec<String>,
    first: f64,
    last: f64,
    used: bool,
}

/// Client-identifier (option 61) of hardware type 1 as a MAC, like Zeek.
fn client_id_mac(hex: &str) -> Option<String> {
    let h = hex.replace(':', "").to_ascii_lowercase();
    if h.len() != 14 || !h.starts_with("01") {
        return None;
    }
    let b = h.get(2..)?;
    Some(
        (0..6)
            .map(|i| b.get(i * 2..i * 2 + 2).unwrap_or(""))
            .collect::<Vec<_>>()
            .join(":"),
    )
}

/// Aggregates like `dhcp/main.zeek`: one transaction per xid, closed after 5 s
/// without messages (checked 10 s after it started) or 30 s in total.
fn dhcp_txs(evs: &[Ev]) -> Vec<DhcpTx> {
    let mut msgs: Vec<&Ev> = evs.iter().filter(|e| e.typ() == "dhcp").collect();
    msgs.sort_by(|a, b| a.ts.total_cmp(&b.ts));
    let mut txs: Vec<DhcpTx> = Vec::new();
    let mut open: HashMap<u64, usize> = HashMap::new();
    for m in msgs {
        let xid = m.v["xid"].as_u64().unwrap_or(0);
        let i = match open.get(&xid) {
            Some(&i)
                if !((m.ts - txs[i].last > 5.0 && m.ts - txs[i].first > 10.0)
                    || m.ts - txs[i].first > 30.0) =>
            {
                i
            }
            _ => {
                txs.push(DhcpTx {
                    first: m.ts,
                    last: m.ts,
                    ..Default::default()
                });
                open.insert(xid, txs.len() - 1);
                txs.len() - 1
            }
        };
        let t = &mut txs[i];
        t.last = m.ts;
        let mt = m.s("msg_type").unwrap_or_default();
        let client = DHCP_CLIENT_TYPES.contains(&mt.as_str());
        t.msg_types.push(mt);
        let msg = m.s("message");
        if client {
            if msg.is_some() {
                t.client_message = msg;
            }
            if let Some(v) = m.s("hostname") {
                t.host_name = Some(v);
            }
            if let Some(v) = m.s("client_fqdn") {
                t.client_fqdn = Some(v);
            }
            match m.s("client_id").as_deref().and_then(client_id_mac) {
                Some(mac) => t.mac = Some(mac),
                None => t.client_chaddr = m.s("client_mac"),
            }
            if let Some(v) = m.s("requested_addr") {
                t.requested_addr = Some(v);
            }
        } else {
            if msg.is_some() {
                t.server_message = msg;
            }
            if t.mac.is_none() {
                t.mac = m.s("client_mac");
            }
            if let Some(v) = m.s("assigned_addr") {
                t.assigned_addr = Some(v);
            }
            if let Some(v) = m.s("domain") {
                t.domain = Some(v);
            }
            if let Some(v) = m.s("lease_time") {
                t.lease_time = Some(v);
            }
        }
    }
    for t in &mut txs {
        if t.mac.is_none() {
            t.mac = t.client_chaddr.clone();
        }
    }
    txs
}

fn dhcp(log: &ZLog, evs: &[Ev], c: &mut Cmp<'_>) {
    let mut txs = dhcp_txs(evs);
    for z in log.rows() {
        let zmac = z.get("mac").map(|m| zstr(m).to_lowercase());
        let ztypes = z
            .get("msg_types")
            .map(|t| zset(t, &log.set_sep))
            .unwrap_or_default();
        let common = |t: &DhcpTx| {
            let mut left = t.msg_types.clone();
            ztypes
                .iter()
                .filter(|m| {
                    left.iter()
                        .position(|x| x == *m)
                        .map(|i| left.remove(i))
                        .is_some()
                })
                .count()
        };
        let best = txs
            .iter()
            .enumerate()
            .filter(|(_, t)| {
                !t.used
                    && zmac
                        .as_ref()
                        .is_none_or(|m| t.mac.as_deref().map(str::to_lowercase).as_ref() == Some(m))
            })
            .map(|(i, t)| (common(t), i))
            .filter(|(n, _)| *n > 0)
            .max_by_key(|(n, i)| (*n, std::cmp::Reverse(*i)))
            .map(|(_, i)| i);
        c.row(best.is_some());
        let t = best.map(|i| {
            txs[i].used = true;
            &txs[i]
        });
        let w = |f: fn(&DhcpTx) -> Option<String>| t.map(|t| W::opt(f(t)));
        c.field(&None, "mac", K::Ci, z.get("mac"), w(|t| t.mac.clone()));
        c.field(
            &None,
            "host_name",
            K::Str,
            z.get("host_name"),
            w(|t| t.host_name.clone()),
        );
        c.field(
            &None,
            "client_fqdn",
            K::Str,
            z.get("client_fqdn"),
            w(|t| t.client_fqdn.clone()),
        );
        c.field(
            &None,
            "domain",
            K::Str,
            z.get("domain"),
            w(|t| t.domain.clone()),
        );
        c.field(
            &None,
            "requested_addr",
            K::Str,
            z.get("requested_addr"),
            w(|t| t.requested_addr.clone()),
        );
        c.field(
            &None,
            "assigned_addr",
            K::Str,
            z.get("assigned_addr"),
            w(|t| t.assigned_addr.clone()),
        );
        c.field(
            &None,
            "lease_time",
            K::Num,
            z.get("lease_time"),
            w(|t| t.lease_time.clone()),
        );
        c.field(
            &None,
            "client_message",
            K::Str,
            z.get("client_message"),
            w(|t| t.client_message.clone()),
        );
        c.field(
            &None,
            "server_message",
            K::Str,
            z.get("server_message"),
            w(|t| t.server_message.clone()),
        );
        c.field(
            &None,
            "msg_types",
            K::Set,
            z.get("msg_types"),
            t.map(|t| W::L(t.msg_types.clone())),
        );
        // client_addr/server_addr are not compared: Zeek takes them from IP
        // headers and its connection orientation, not from DHCP fields.
    }
}

// ---------------------------------------------------------------- per-connection, in order

/// Matches Zeek rows to Ward records of `typ` on the same connection, in
/// order; `same` prefers a record that agrees on a matching key (http).
fn in_order<'a>(
    log: &'a ZLog,
    uids: &UidMap,
    evs: &'a [Ev],
    typ: &str,
    same: Option<SameFn<'_>>,
) -> Vec<(ZRow<'a>, Option<Key>, Option<&'a Ev>)> {
    let by = by_key(evs, typ);
    let mut used: HashSet<*const Ev> = HashSet::new();
    let mut zrows: Vec<(usize, ZRow<'a>)> = log.rows().enumerate().collect();
    // Zeek writes http rows when transactions finish; trans_depth gives request order.
    zrows.sort_by_key(|(i, r)| {
        (
            r.get("uid").map(str::to_string),
            r.get("trans_depth").and_then(num).map(|d| d as u64),
            *i,
        )
    });
    let mut res: Vec<(usize, ZRow<'a>, Option<Key>, Option<&'a Ev>)> = Vec::new();
    for (i, z) in zrows {
        let key = zkey(&z, uids);
        let cands: &[&Ev] = key.and_then(|k| by.get(&k)).map_or(&[], Vec::as_slice);
        let free = |e: &&&Ev| !used.contains(&(**e as *const Ev));
        let pick = same
            .and_then(|f| cands.iter().filter(free).find(|e| f(&z, e)))
            .or_else(|| cands.iter().find(free))
            .copied();
        if let Some(e) = pick {
            used.insert(e as *const Ev);
        }
        res.push((i, z, key, pick));
    }
    res.sort_by_key(|r| r.0);
    res.into_iter().map(|(_, z, k, e)| (z, k, e)).collect()
}

fn wf(e: Option<&Ev>, k: &str) -> Option<W> {
    e.map(|e| W::of(&e.v[k]))
}

fn http(log: &ZLog, uids: &UidMap, evs: &[Ev], c: &mut Cmp<'_>) {
    // Ward redacts query values by design (no patient identifiers at rest,
    // `model::text::redact_query`): Zeek's URI is compared after the same redaction.
    let zuri = |raw: &str| model::text::redact_query(&zstr(raw)).into_owned();
    let same = |z: &ZRow<'_>, e: &Ev| {
        z.get("method").map(zstr) == e.s("method")
            && z.get("uri").map(zuri) == e.s("uri").map(|u| clean(u.as_bytes()))
    };
    for (z, key, e) in in_order(log, uids, evs, "http", Some(&same)) {
        c.row(e.is_some());
        c.field(&key, "method", K::Str, z.get("method"), wf(e, "method"));
        // Ward keeps Host's port apart (`host_port`); Zeek logs `name:port`.
        let host = e.map(|e| match (&e.v["host"], e.v["host_port"].as_u64()) {
            (serde_json::Value::String(h), Some(p)) => W::of(&format!("{h}:{p}").into()),
            (h, _) => W::of(h),
        });
        c.field(&key, "host", K::Ci, z.get("host"), host);
        let redacted = z
            .get("uri")
            .map(|raw| model::text::redact_query(raw).into_owned());
        c.field(&key, "uri", K::Str, redacted.as_deref(), wf(e, "uri"));
        c.field(&key, "version", K::Str, z.get("version"), wf(e, "version"));
        c.field(
            &key,
            "user_agent",
            K::Str,
            z.get("user_agent"),
            wf(e, "user_agent"),
        );
        c.field(
            &key,
            "status_code",
            K::Num,
            z.get("status_code"),
            wf(e, "status_code"),
        );
        c.field(
            &key,
            "status_msg",
            K::Str,
            z.get("status_msg"),
            wf(e, "status_msg"),
        );
        c.field(
            &key,
            "request_body_len",
            K::Num,
            z.get("request_body_len"),
            wf(e, "request_body_len"),
        );
        c.field(
            &key,
            "response_body_len",
            K::Num,
            z.get("response_body_len"),
            wf(e, "response_body_len"),
        );
        c.field(
            &key,
            "username",
            K::Str,
            z.get("username"),
            wf(e, "basic_auth_user"),
        );
    }
}

fn ssl(log: &ZLog, x509: Option<&ZLog>, uids: &UidMap, evs: &[Ev], c: &mut Cmp<'_>) {
    let certs: HashMap<String, ZRow<'_>> = x509
        .map(|l| {
            l.rows()
                .filter_map(|r| Some((r.get("fingerprint")?.to_string(), r)))
                .collect()
        })
        .unwrap_or_default();
    for (z, key, e) in in_order(log, uids, evs, "tls", None) {
        c.row(e.is_some());
        c.field(&key, "version", K::Str, z.get("version"), wf(e, "version"));
        c.field(&key, "cipher", K::Str, z.get("cipher"), wf(e, "cipher"));
        c.field(&key, "curve", K::Str, z.get("curve"), wf(e, "curve"));
        c.field(
            &key,
            "server_name",
            K::Ci,
            z.get("server_name"),
            wf(e, "server_name"),
        );
        c.field(&key, "resumed", K::Bool, z.get("resumed"), wf(e, "resumed"));
        c.field(
            &key,
            "established",
            K::Bool,
            z.get("established"),
            wf(e, "established"),
        );
        c.field(
            &key,
            "last_alert",
            K::Str,
            z.get("last_alert"),
            wf(e, "last_alert"),
        );
        c.field(
            &key,
            "next_protocol",
            K::Str,
            z.get("next_protocol"),
            wf(e, "alpn"),
        );
        c.field(
            &key,
            "ssl_history",
            K::Str,
            z.get("ssl_history"),
            wf(e, "history"),
        );
        // Older ssl.log layouts carry the leaf subject/issuer directly.
        c.field(
            &key,
            "subject",
            K::Str,
            z.get("subject"),
            wf(e, "cert_subject"),
        );
        c.field(
            &key,
            "issuer",
            K::Str,
            z.get("issuer"),
            wf(e, "cert_issuer"),
        );
        // The leaf certificate is the first of cert_chain_fps, joined to x509.log.
        let leaf = z
            .get("cert_chain_fps")
            .and_then(|f| zset(f, &log.set_sep).into_iter().next())
            .and_then(|fp| certs.get(&fp));
        if let Some(x) = leaf {
            let xf = |name: &str| x.get(name);
            c.field(
                &key,
                "x509.fingerprint",
                K::Ci,
                xf("fingerprint"),
                wf(e, "cert_fingerprint"),
            );
            c.field(
                &key,
                "x509.serial",
                K::Ci,
                xf("certificate.serial"),
                wf(e, "cert_serial"),
            );
            c.field(
                &key,
                "x509.subject",
                K::Str,
                xf("certificate.subject"),
                wf(e, "cert_subject"),
            );
            c.field(
                &key,
                "x509.issuer",
                K::Str,
                xf("certificate.issuer"),
                wf(e, "cert_issuer"),
            );
            c.field(
                &key,
                "x509.not_valid_before",
                K::Num,
                xf("certificate.not_valid_before"),
                wf(e, "cert_not_before"),
            );
            c.field(
                &key,
                "x509.not_valid_after",
                K::Num,
                xf("certificate.not_valid_after"),
                wf(e, "cert_not_after"),
            );
            c.field(
                &key,
                "x509.sig_alg",
                K::Str,
                xf("certificate.sig_alg"),
                wf(e, "cert_sig_alg"),
            );
            c.field(
                &key,
                "x509.key_type",
                K::Str,
                xf("certificate.key_type"),
                wf(e, "cert_key_type"),
            );
            c.field(
                &key,
                "x509.key_length",
                K::Num,
                xf("certificate.key_length"),
                wf(e, "cert_key_bits"),
            );
            c.field(
                &key,
                "x509.san.dns",
                K::CappedCiSet,
                xf("san.dns"),
                wf(e, "cert_san_dns"),
            );
        }
    }
}

fn ssh(log: &ZLog, uids: &UidMap, evs: &[Ev], c: &mut Cmp<'_>) {
    for (z, key, e) in in_order(log, uids, evs, "ssh", None) {
        c.row(e.is_some());
        for (zf, wfield) in [
            ("version", "version"),
            ("client", "client"),
            ("server", "server"),
            ("cipher_alg", "cipher_alg"),
            ("mac_alg", "mac_alg"),
            ("compression_alg", "compression_alg"),
            ("kex_alg", "kex_alg"),
            ("host_key_alg", "host_key_alg"),
            ("host_key_fingerprint", "host_key_fingerprint"),
        ] {
            let kind = match zf {
                "version" => K::Num,
                "host_key_fingerprint" => K::Sha256Prefix,
                _ => K::Str,
            };
            c.field(&key, zf, kind, z.get(zf), wf(e, wfield));
        }
    }
}

// ---------------------------------------------------------------- smb

/// Share paths Zeek saw mapped, one unit per (connection, path).
fn smb(logs: &[&ZLog], uids: &UidMap, evs: &[Ev], c: &mut Cmp<'_>) {
    let by = by_key(evs, "smb");
    let mut seen: HashSet<(Option<Key>, String)> = HashSet::new();
    for log in logs {
        for z in log.rows() {
            let Some(path) = z.get("path") else { continue };
            let key = zkey(&z, uids);
            if !seen.insert((key, zstr(path))) {
                continue;
            }
            let recs = key.and_then(|k| by.get(&k));
            c.row(recs.is_some());
            let w = recs.map(|rs| {
                let all: Vec<String> = rs
                    .iter()
                    .flat_map(|e| e.v["tree_paths"].as_array().cloned().unwrap_or_default())
                    .filter_map(|p| jstr(&p))
                    .collect();
                let zp = zstr(path);
                // Membership: the unit is "Ward saw this mapping".
                if all.iter().any(|p| clean(p.as_bytes()) == zp) {
                    W::S(zp)
                } else {
                    W::L(all)
                }
            });
            c.field(&key, "path", K::Str, Some(path), w);
        }
    }
}

// ---------------------------------------------------------------- snmp

fn snmp(log: &ZLog, uids: &UidMap, evs: &[Ev], c: &mut Cmp<'_>) {
    let by = by_key(evs, "snmp");
    for z in log.rows() {
        let key = zkey(&z, uids);
        let recs = key.and_then(|k| by.get(&k));
        c.row(recs.is_some());
        let agg = |f: &dyn Fn(&[&Ev]) -> W| recs.map(|rs| f(rs));
        let sum = |pdus: &'static [&'static str]| {
            move |rs: &[&Ev]| {
                W::S(
                    rs.iter()
                        .filter(|e| e.s("pdu").is_some_and(|p| pdus.contains(&p.as_str())))
                        .map(|e| e.v["varbinds"].as_u64().unwrap_or(0))
                        .sum::<u64>()
                        .to_string(),
                )
            }
        };
        c.field(
            &key,
            "version",
            K::Str,
            z.get("version"),
            agg(&|rs| W::opt(rs.first().and_then(|e| e.s("version")))),
        );
        // Zeek keeps the first message's community; for SNMPv3 (no
        // community) newer Zeek logs the USM user name in this column, which
        // Ward keeps as `v3_user`.
        let v3 = z.get("version") == Some("3");
        c.field(
            &key,
            "community",
            K::Str,
            z.get("community"),
            agg(&|rs| {
                W::opt(
                    rs.iter()
                        .find_map(|e| e.s(if v3 { "v3_user" } else { "community" })),
                )
            }),
        );
        c.field(
            &key,
            "get_requests",
            K::Num,
            z.get("get_requests"),
            agg(&sum(&["get", "getnext"])),
        );
        c.field(
            &key,
            "get_bulk_requests",
            K::Num,
            z.get("get_bulk_requests"),
            agg(&sum(&["getbulk"])),
        );
        c.field(
            &key,
            "get_responses",
            K::Num,
            z.get("get_responses"),
            agg(&sum(&["response"])),
        );
        c.field(
            &key,
            "set_requests",
            K::Num,
            z.get("set_requests"),
            agg(&sum(&["set"])),
        );
        c.field(
            &key,
            "display_string",
            K::Str,
            z.get("display_string"),
            agg(&|rs| W::opt(rs.iter().rev().find_map(|e| e.s("sys_descr")))),
        );
    }
}

/// One SNMP message printed by `$SCRIPTS/snmp-test.zeek`.
struct SnmpMsg {
    key: Option<Key>,
    pdus: &'static [&'static str],
    community: Option<String>,
    bindings: u64,
}

fn parse_snmp_out(text: &str) -> Vec<SnmpMsg> {
    let mut out: Vec<SnmpMsg> = Vec::new();
    for line in text.lines() {
        if line.starts_with("###") || line.trim().is_empty() {
            continue;
        }
        if !line.starts_with(' ') {
            // The test script prints snmp_get_next_request as "snmp_get_request".
            let pdus: &'static [&'static str] = match line.trim() {
                "snmp_get_request" => &["get", "getnext"],
                "snmp_response" => &["response"],
                "snmp_set_request" => &["set"],
                "snmp_trap" => &["trap"],
                "snmp_get_bulk_request" => &["getbulk"],
                "snmp_inform_request" => &["inform"],
                "snmp_trapv2" => &["trapv2"],
                "snmp_report" => &["report"],
                _ => &[],
            };
            out.push(SnmpMsg {
                key: None,
                pdus,
                community: None,
                bindings: 0,
            });
            continue;
        }
        let Some(m) = out.last_mut() else { continue };
        let t = line.trim();
        if let Some(inner) = t.strip_prefix("[orig_h=") {
            let full = format!("orig_h={inner}");
            let kv: HashMap<&str, &str> =
                full.split(", ").filter_map(|p| p.split_once('=')).collect();
            let ep = |h: &str, p: &str| -> Option<Ep> {
                Some((kv.get(h)?.parse().ok()?, port(kv.get(p)?)?))
            };
            m.key = ep("orig_h", "orig_p")
                .zip(ep("resp_h", "resp_p"))
                .map(|(a, b)| Key::new(a, b));
        } else if let Some(cm) = t.strip_prefix("[community=") {
            m.community = Some(cm.strip_suffix(']').unwrap_or(cm).to_string());
        } else if t.starts_with("oid:") {
            m.bindings += 1;
        }
    }
    out.retain(|m| !m.pdus.is_empty());
    out
}

fn snmp_out(text: &str, version: &str, evs: &[Ev], c: &mut Cmp<'_>) {
    let by = by_key(evs, "snmp");
    let mut next: HashMap<Key, usize> = HashMap::new();
    for m in parse_snmp_out(text) {
        let rec = m.key.and_then(|k| {
            let rs = by.get(&k)?;
            let i = next.entry(k).or_insert(0);
            let r = rs.get(*i)?;
            *i += 1;
            Some(*r)
        });
        c.row(rec.is_some());
        let pdu = rec.map(|e| {
            let p = e.s("pdu").unwrap_or_default();
            // Either of the PDU names the event stands for is right.
            W::S(if m.pdus.contains(&p.as_str()) {
                m.pdus[0].to_string()
            } else {
                p
            })
        });
        c.field(&m.key, "pdu", K::Str, Some(m.pdus[0]), pdu);
        c.field(&m.key, "version", K::Str, Some(version), wf(rec, "version"));
        c.field(
            &m.key,
            "community",
            K::Str,
            m.community.as_deref(),
            wf(rec, "community"),
        );
        c.field(
            &m.key,
            "varbinds",
            K::Num,
            Some(&m.bindings.to_string()),
            wf(rec, "varbinds"),
        );
    }
}

// ---------------------------------------------------------------- ftp

fn ftp(log: &ZLog, uids: &UidMap, evs: &[Ev], c: &mut Cmp<'_>) {
    let by = by_key(evs, "login");
    let by: HashMap<Key, Vec<&Ev>> = by
        .into_iter()
        .map(|(k, v)| {
            (
                k,
                v.into_iter()
                    .filter(|e| e.s("protocol").as_deref() == Some("ftp"))
                    .collect(),
            )
        })
        .collect();
    // Zeek rows per connection, in log order.
    let mut conns: Vec<(Option<Key>, Vec<ZRow<'_>>)> = Vec::new();
    for z in log.rows() {
        let key = zkey(&z, uids);
        match conns.iter_mut().find(|(k, _)| *k == key) {
            Some((_, rows)) => rows.push(z),
            None => conns.push((key, vec![z])),
        }
    }
    for (key, rows) in conns {
        let recs: &[&Ev] = key.and_then(|k| by.get(&k)).map_or(&[], Vec::as_slice);
        // Login attempts Zeek logged: PASS rows, and USER rows answered
        // without asking for a password (not 3xx).
        let attempts: Vec<&ZRow<'_>> = rows
            .iter()
            .filter(|z| match z.get("command") {
                Some("PASS") => true,
                Some("USER") => z
                    .get("reply_code")
                    .and_then(num)
                    .is_some_and(|c| !(300.0..400.0).contains(&c)),
                _ => false,
            })
            .collect();
        if attempts.is_empty() {
            // Default logging: USER/PASS are not logged; the `user` column
            // carries the session's user name (`<unknown>` before USER).
            let users: Vec<String> = {
                let mut u: Vec<String> = rows
                    .iter()
                    .filter_map(|z| z.get("user"))
                    .filter(|u| *u != "<unknown>")
                    .map(zstr)
                    .collect();
                u.sort();
                u.dedup();
                u
            };
            if users.is_empty() {
                continue;
            }
            c.row(!recs.is_empty());
            let mut wu: Vec<String> = recs.iter().filter_map(|e| e.s("user")).collect();
            wu.sort();
            wu.dedup();
            let raw = users.join(",");
            c.field(
                &key,
                "user",
                K::Set,
                Some(&raw),
                (!recs.is_empty()).then_some(W::L(wu)),
            );
            continue;
        }
        for (i, z) in attempts.iter().enumerate() {
            let e = recs.get(i).copied();
            c.row(e.is_some());
            c.field(
                &key,
                "user",
                K::Str,
                z.get("user").filter(|u| *u != "<unknown>"),
                wf(e, "user"),
            );
            c.field(
                &key,
                "reply_code",
                K::Num,
                z.get("reply_code"),
                wf(e, "reply_code"),
            );
        }
    }
}

// ---------------------------------------------------------------- test selection

/// One Ward run and the baseline files it is compared with.
struct Job {
    test: String,
    trace: PathBuf,
    dir: PathBuf,
    files: Vec<String>,
    /// For `snmp-test.zeek` prints: (out file, SNMP version of the test).
    snmp_out: Option<(String, String)>,
}

/// Logs (and `zeek-cut` extracts) a comparator exists for.
fn relevant(name: &str) -> bool {
    let base = name.strip_suffix(".cut").unwrap_or(name);
    matches!(
        base,
        "dhcp.log"
            | "dns.log"
            | "http.log"
            | "ssl.log"
            | "ssh.log"
            | "smb_mapping.log"
            | "smb_files.log"
            | "snmp.log"
            | "ftp.log"
    )
}

/// Checks a `zeek` command line; returns the trace or why it is skipped.
fn check_run(line: &str) -> Result<String, String> {
    let tokens: Vec<&str> = line.split_whitespace().collect();
    let trace = tokens
        .iter()
        .find_map(|t| {
            t.trim_matches(|c| c == '"' || c == '\'')
                .strip_prefix("$TRACES/")
        })
        .ok_or("no trace")?
        .to_string();
    let z = tokens
        .iter()
        .position(|t| *t == "zeek")
        .ok_or("no zeek command")?;
    let mut it = tokens[z + 1..].iter();
    while let Some(t) = it.next() {
        let t = *t;
        if t.starts_with('>') || t.starts_with("2>") || t == "|" || t.starts_with('<') {
            break;
        }
        match t {
            "-e" => return Err("inline script code (-e)".into()),
            "-f" => return Err("BPF filter (-f)".into()),
            "-B" => {
                it.next();
                continue;
            }
            "%INPUT" | "-" => continue,
            _ => {}
        }
        if t.starts_with('-') || t.contains("$TRACES/") {
            continue;
        }
        if t.contains('=') {
            return Err(format!("script option on the command line ({t})"));
        }
        let stock = ["base/", "policy/", "protocols/", "frameworks/", "tuning/"]
            .iter()
            .any(|p| t.starts_with(p));
        let shared = matches!(
            t,
            "$SCRIPTS/snmp-test.zeek" | "$SCRIPTS/external-ca-list.zeek"
        );
        if !stock && !shared {
            return Err(format!("test-local script {t}"));
        }
    }
    Ok(trace)
}

fn select(zeek: &Path, skipped: &mut Vec<(String, String)>) -> Vec<Job> {
    let map: Value = serde_json::from_str(
        &std::fs::read_to_string(zeek.join("zeek_test_map.json")).expect("zeek_test_map.json"),
    )
    .expect("map JSON");
    let mut jobs = Vec::new();
    let mut seen: HashSet<(String, String, u64)> = HashSet::new();
    for t in map.as_array().into_iter().flatten() {
        let test = t["test"]
            .as_str()
            .unwrap_or("")
            .trim_start_matches("testing/btest/scripts/")
            .to_string();
        let parts: Vec<&str> = test.split('/').collect();
        if parts.len() < 4
            || !matches!(parts[0], "base" | "policy")
            || parts[1] != "protocols"
            || !DIRS.contains(&parts[2])
        {
            continue;
        }
        let dir = zeek.join("Baseline").join(
            t["baseline_dir"]
                .as_str()
                .unwrap_or("")
                .trim_start_matches("testing/btest/Baseline/"),
        );
        let Ok(listing) = std::fs::read_dir(&dir) else {
            continue;
        };
        let mut files: Vec<String> = listing
            .filter_map(|e| e.ok()?.file_name().into_string().ok())
            .collect();
        files.sort();
        let logs: Vec<String> = files.iter().filter(|f| relevant(f)).cloned().collect();
        let runs: Vec<&str> = t["exec"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .filter(|l| l.split_whitespace().any(|w| w == "zeek") && l.contains("$TRACES/"))
            .collect();
        let snmp_prints = !runs.is_empty()
            && runs
                .iter()
                .all(|r| r.contains("$SCRIPTS/snmp-test.zeek") && r.contains(">out"));
        if logs.is_empty() && !snmp_prints {
            continue;
        }
        if let Some((_, why)) = EXCLUDED.iter().find(|(n, _)| *n == test) {
            skipped.push((test, why.to_string()));
            continue;
        }
        if snmp_prints {
            // One `outN` per run; snmp.log (if any) belongs to the last run.
            let version = if test.contains("/v1.") {
                "1"
            } else if test.contains("/v2.") {
                "2c"
            } else {
                "3"
            };
            for (i, r) in runs.iter().enumerate() {
                let trace = match check_run(r) {
                    Ok(tr) => tr,
                    Err(why) => {
                        skipped.push((test.clone(), why));
                        continue;
                    }
                };
                let out = r
                    .split_whitespace()
                    .find_map(|w| w.strip_prefix(">"))
                    .unwrap_or("")
                    .to_string();
                let last = i + 1 == runs.len();
                let job_files = if last { logs.clone() } else { Vec::new() };
                if files.contains(&out) {
                    jobs.push(Job {
                        test: test.clone(),
                        trace: zeek.join("Traces").join(&trace),
                        dir: dir.clone(),
                        files: job_files,
                        snmp_out: Some((out, version.into())),
                    });
                }
            }
            continue;
        }
        if runs.len() != 1 {
            skipped.push((test, format!("{} zeek runs", runs.len())));
            continue;
        }
        let trace = match check_run(runs[0]) {
            Ok(tr) => tr,
            Err(why) => {
                skipped.push((test, why));
                continue;
            }
        };
        let path = zeek.join("Traces").join(&trace);
        if !path.is_file() {
            skipped.push((test, format!("trace {trace} missing")));
            continue;
        }
        let mut keep = Vec::new();
        for f in logs {
            let content = std::fs::read(dir.join(&f)).unwrap_or_default();
            let h = content.iter().fold(0xcbf29ce484222325u64, |h, b| {
                (h ^ u64::from(*b)).wrapping_mul(0x100000001b3)
            });
            if seen.insert((trace.clone(), f.clone(), h)) {
                keep.push(f);
            }
        }
        if keep.is_empty() {
            skipped.push((test, "same trace and baseline as an earlier test".into()));
            continue;
        }
        jobs.push(Job {
            test,
            trace: path,
            dir,
            files: keep,
            snmp_out: None,
        });
    }
    jobs
}

// ---------------------------------------------------------------- running Ward

fn scratch(n: usize) -> PathBuf {
    let d = std::env::temp_dir().join(format!("ward-zeek-oracle-{}-{n}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).expect("scratch dir");
    d
}

fn run_ward(trace: &Path, dir: &Path) -> Result<Vec<Ev>, String> {
    let mut input = trace.to_path_buf();
    if trace.extension().is_some_and(|e| e == "gz") {
        let out = Command::new("gzip")
            .arg("-dc")
            .arg(trace)
            .output()
            .map_err(|e| format!("gzip: {e}"))?;
        if !out.status.success() {
            return Err("gzip -dc failed".into());
        }
        input = dir.join("trace.pcap");
        std::fs::write(&input, out.stdout).map_err(|e| e.to_string())?;
    }
    let db = dir.join("ward.db");
    let events = dir.join("events.jsonl");
    let out = Command::new(env!("CARGO_BIN_EXE_ward"))
        .args(["analyze", "--quiet", "--workers", "1", "--db"])
        .arg(&db)
        .arg("--events")
        .arg(&events)
        .arg(&input)
        .output()
        .map_err(|e| format!("run ward: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "ward failed: {}",
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    let text = std::fs::read_to_string(&events).unwrap_or_default();
    Ok(text.lines().filter_map(parse_event).collect())
}

fn read_log(dir: &Path, name: &str) -> Option<ZLog> {
    Some(ZLog::parse(&String::from_utf8_lossy(
        &std::fs::read(dir.join(name)).ok()?,
    )))
}

/// uid → 4-tuple from the test's conn log, if any.
fn uid_map(dir: &Path) -> UidMap {
    let mut m = UidMap::new();
    for name in ["conn.log", "conn.log.cut"] {
        if let Some(log) = read_log(dir, name) {
            for r in log.rows() {
                if let (Some(uid), Some(k)) = (r.get("uid"), zkey(&r, &UidMap::new())) {
                    m.insert(uid.to_string(), k);
                }
            }
        }
    }
    m
}

/// Some tests log only `uid` (custom column lists) and no conn log with the
/// 4-tuple: when the log has a single uid and Ward saw a single connection of
/// that protocol, they are the same connection.
fn single_conn_uid(log: &ZLog, base: &str, evs: &[Ev], uids: &mut UidMap) {
    if log.col("id.orig_h").is_some() || log.col("uid").is_none() {
        return;
    }
    let typ = match base {
        "dns.log" => "dns",
        "http.log" => "http",
        "ssl.log" => "tls",
        "ssh.log" => "ssh",
        "snmp.log" => "snmp",
        "ftp.log" => "login",
        "smb_mapping.log" | "smb_files.log" => "smb",
        _ => return,
    };
    let zuids: HashSet<&str> = log.rows().filter_map(|r| r.get("uid")).collect();
    let keys: HashSet<Key> = evs
        .iter()
        .filter(|e| e.typ() == typ)
        .filter_map(|e| e.key)
        .collect();
    if let (1, 1) = (zuids.len(), keys.len()) {
        if let (Some(u), Some(k)) = (zuids.into_iter().next(), keys.into_iter().next()) {
            uids.entry(u.to_string()).or_insert(k);
        }
    }
}

/// Compares one job's baselines; results go to `accs` by protocol index.
fn compare(job: &Job, evs: &[Ev], accs: &mut [Acc; 8]) {
    let uids = uid_map(&job.dir);
    let cmp = |accs: &mut [Acc; 8], i: usize, sep: &str, f: &mut dyn FnMut(&mut Cmp<'_>)| {
        let mut c = Cmp {
            acc: &mut accs[i],
            test: format!(
                "{} ({})",
                job.test,
                job.trace.file_name().unwrap_or_default().to_string_lossy()
            ),
            sep: sep.to_string(),
        };
        f(&mut c);
    };
    let mut smb_logs: Vec<ZLog> = Vec::new();
    for f in &job.files {
        let Some(log) = read_log(&job.dir, f) else {
            continue;
        };
        let base = f.strip_suffix(".cut").unwrap_or(f);
        let mut uids = uids.clone();
        single_conn_uid(&log, base, evs, &mut uids);
        let uids = &uids;
        let has_conn = log.col("id.orig_h").is_some()
            || (log.col("uid").is_some()
                && log
                    .rows()
                    .all(|r| r.get("uid").is_some_and(|u| uids.contains_key(u))));
        if !has_conn && base != "dhcp.log" {
            eprintln!("  skip {}/{f}: no connection 4-tuple to join on", job.test);
            continue;
        }
        let sep = log.set_sep.clone();
        match base {
            "dhcp.log" => cmp(accs, 0, &sep, &mut |c| dhcp(&log, evs, c)),
            "dns.log" => cmp(accs, 1, &sep, &mut |c| dns(&log, uids, evs, c)),
            "http.log" => cmp(accs, 2, &sep, &mut |c| http(&log, uids, evs, c)),
            "ssl.log" => {
                let x509 = read_log(&job.dir, "x509.log");
                cmp(accs, 3, &sep, &mut |c| {
                    ssl(&log, x509.as_ref(), uids, evs, c)
                });
            }
            "ssh.log" => cmp(accs, 4, &sep, &mut |c| ssh(&log, uids, evs, c)),
            "smb_mapping.log" | "smb_files.log" => smb_logs.push(log),
            "snmp.log" => cmp(accs, 6, &sep, &mut |c| snmp(&log, uids, evs, c)),
            "ftp.log" => cmp(accs, 7, &sep, &mut |c| ftp(&log, uids, evs, c)),
            _ => {}
        }
    }
    if !smb_logs.is_empty() {
        let refs: Vec<&ZLog> = smb_logs.iter().collect();
        cmp(accs, 5, ",", &mut |c| smb(&refs, &uids, evs, c));
    }
    if let Some((out, version)) = &job.snmp_out {
        if let Ok(text) = std::fs::read_to_string(job.dir.join(out)) {
            cmp(accs, 6, ",", &mut |c| snmp_out(&text, version, evs, c));
        }
    }
}

// ---------------------------------------------------------------- report

fn pct(a: usize, n: usize) -> f64 {
    if n == 0 {
        0.0
    } else {
        100.0 * a as f64 / n as f64
    }
}

fn report(accs: &[Acc; 8], skipped: &[(String, String)], failures: &[String]) -> String {
    use std::fmt::Write as _;
    let mut s = String::new();
    let _ = writeln!(
        s,
        "\nZeek-baseline agreement (comparable field = Zeek has a value in a row)"
    );
    let _ = writeln!(
        s,
        "{:<6} {:>6} {:>10} {:>9} {:>11} {:>9} {:>8}",
        "proto", "tests", "zeek rows", "matched", "comparable", "agreeing", "%"
    );
    let (mut n, mut a) = (0, 0);
    for (i, acc) in accs.iter().enumerate() {
        let ok = acc.out.iter().filter(|o| o.agree).count();
        n += acc.out.len();
        a += ok;
        let _ = writeln!(
            s,
            "{:<6} {:>6} {:>10} {:>9} {:>11} {:>9} {:>7.1}%",
            LABELS[i],
            acc.tests.len(),
            acc.rows,
            acc.matched,
            acc.out.len(),
            ok,
            pct(ok, acc.out.len())
        );
    }
    let _ = writeln!(
        s,
        "{:<6} {:>6} {:>10} {:>9} {:>11} {:>9} {:>7.1}%",
        "total",
        "",
        "",
        "",
        n,
        a,
        pct(a, n)
    );
    for (i, acc) in accs.iter().enumerate() {
        let mut by_field: BTreeMap<&str, (usize, Vec<&Outcome>)> = BTreeMap::new();
        for o in &acc.out {
            let e = by_field.entry(o.field.as_str()).or_default();
            e.0 += 1;
            if !o.agree {
                e.1.push(o);
            }
        }
        let mut bad: Vec<(&str, usize, Vec<&Outcome>)> = by_field
            .into_iter()
            .filter(|(_, (_, b))| !b.is_empty())
            .map(|(f, (n, b))| (f, n, b))
            .collect();
        if bad.is_empty() {
            continue;
        }
        bad.sort_by_key(|(f, _, b)| (std::cmp::Reverse(b.len()), *f));
        let _ = writeln!(s, "\n{} mismatches:", LABELS[i]);
        for (f, total, b) in bad.iter().take(12) {
            let _ = writeln!(s, "  {f}: {} of {total} disagree", b.len());
            let mut shown: HashSet<&str> = HashSet::new();
            for o in b.iter().filter(|o| shown.insert(o.test.as_str())).take(3) {
                let _ = writeln!(
                    s,
                    "    {} {}: ward={} zeek={}",
                    o.test,
                    o.conn,
                    trunc(&o.ward),
                    trunc(&o.zeek)
                );
            }
        }
    }
    if std::env::var_os("ZEEK_ORACLE_VERBOSE").is_some() {
        let _ = writeln!(s, "\nAll mismatches (ZEEK_ORACLE_VERBOSE):");
        for (i, acc) in accs.iter().enumerate() {
            for o in acc.out.iter().filter(|o| !o.agree) {
                let _ = writeln!(
                    s,
                    "  {} {} | {} {} | ward={} zeek={}",
                    LABELS[i],
                    o.field,
                    o.test,
                    o.conn,
                    trunc(&o.ward),
                    trunc(&o.zeek)
                );
            }
        }
    }
    if !failures.is_empty() {
        let _ = writeln!(s, "\nWard runs that failed:");
        for f in failures {
            let _ = writeln!(s, "  {f}");
        }
    }
    let _ = writeln!(s, "\nSkipped Zeek tests ({}):", skipped.len());
    for (t, why) in skipped {
        let _ = writeln!(s, "  {t}: {why}");
    }
    s
}

fn trunc(s: &str) -> String {
    if s.chars().count() > 160 {
        format!("{}…", s.chars().take(160).collect::<String>())
    } else {
        s.to_string()
    }
}

#[test]
fn ward_agrees_with_zeek_baselines() {
    let zeek = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/testdata/zeek");
    if !zeek.join("zeek_test_map.json").is_file() {
        eprintln!("skipping: ../shared/testdata not found");
        return;
    }
    let mut skipped = Vec::new();
    let jobs = select(&zeek, &mut skipped);
    assert!(!jobs.is_empty(), "no Zeek tests selected");

    let next = AtomicUsize::new(0);
    let results: Mutex<Vec<RunResult>> = Mutex::new(Vec::new());
    let workers = std::thread::available_parallelism()
        .map_or(2, |n| n.get())
        .min(4);
    std::thread::scope(|s| {
        for _ in 0..workers {
            s.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(job) = jobs.get(i) else { break };
                let dir = scratch(i);
                let r = run_ward(&job.trace, &dir);
                let _ = std::fs::remove_dir_all(&dir);
                results.lock().unwrap().push((i, r));
            });
        }
    });
    let mut results = results.into_inner().unwrap();
    results.sort_by_key(|r| r.0);

    let mut accs: [Acc; 8] = Default::default();
    let mut failures = Vec::new();
    for (i, r) in results {
        let job = &jobs[i];
        match r {
            Ok(evs) => compare(job, &evs, &mut accs),
            Err(e) => {
                failures.push(format!("{} ({}): {e}", job.test, job.trace.display()));
                compare(job, &[], &mut accs);
            }
        }
    }
    println!("{}", report(&accs, &skipped, &failures));

    let n: usize = accs.iter().map(|a| a.out.len()).sum();
    let a: usize = accs
        .iter()
        .map(|a| a.out.iter().filter(|o| o.agree).count())
        .sum();
    let empty: Vec<&str> = accs
        .iter()
        .zip(LABELS)
        .filter(|(a, _)| a.out.is_empty())
        .map(|(_, l)| l)
        .collect();
    assert!(
        empty.is_empty(),
        "protocols without comparable fields: {empty:?}"
    );
    let low: Vec<String> = accs
        .iter()
        .zip(LABELS)
        .map(|(acc, l)| (l, acc.out.iter().filter(|o| o.agree).count(), acc.out.len()))
        .filter(|(_, ok, all)| pct(*ok, *all) < THRESHOLD)
        .map(|(l, ok, all)| format!("{l} {:.1}% ({ok} of {all})", pct(ok, all)))
        .collect();
    assert!(
        low.is_empty(),
        "protocols below {THRESHOLD}% agreement: {}",
        low.join(", ")
    );
    assert!(
        pct(a, n) >= THRESHOLD,
        "overall agreement {:.1}% < {THRESHOLD}% ({a} of {n} fields)",
        pct(a, n)
    );
}
