//! `ward alerts`: stored alerts as a table or JSON, their lifecycle
//! (`ack`, `close`, `reopen`: audited, with an optional comment), and their
//! export as JSON lines, CEF, RFC 5424 syslog (CEF payload; UDP datagrams or
//! TCP with octet-counting framing, RFC 6587) and webhooks (`siem`: generic
//! JSON, Splunk HEC, Elasticsearch `_bulk`).
//!
//! CEF follows the ArcSight CEF specification: `|` and `\` escaped in the
//! header, `=` and `\` in extension values, line breaks as `\n`/`\r`, each
//! extension key once. The keys map onto Microsoft Sentinel's
//! `CommonSecurityLog` (AMA/CEF connector): deviceVendor/Product/Version,
//! signatureId (`DeviceEventClassID`: the alert kind), name (`Activity`),
//! severity 0-10 (`LogSeverity`), `src`/`spt`/`dst`/`dpt`/`proto`, `rt`/`start`/`end`
//! (ms since the epoch), `cnt` (`EventCount`), `externalId` (`ExternalID`:
//! the alert id), `dvchost` (`DeviceName`: this host), `cat`, `act`
//! (`DeviceAction`: the status), `msg` (`Message`) and `cs1`-`cs4` with labels.

use crate::siem::{Webhook, WebhookFormat};
use anyhow::{bail, Context, Result};
use clap::{Args, Subcommand, ValueEnum};
use monitor::{Alert, AlertKind, Severity};
use std::io::Write;
use std::path::PathBuf;
use store::{AlertStatus, StatusAction, StoredAlert};

/// Output formats of `ward alerts`.
#[derive(Clone, Copy, ValueEnum, PartialEq, Eq)]
pub enum Format {
    /// A table for people.
    Table,
    /// One JSON array.
    Json,
    /// One JSON object per line.
    Jsonl,
    /// ArcSight Common Event Format, one event per line.
    Cef,
    /// RFC 5424 syslog lines with a CEF message.
    Syslog,
}

/// Arguments of `ward alerts`: a listing/export, or a lifecycle subcommand.
#[derive(Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct AlertsArgs {
    #[command(subcommand)]
    action: Option<AlertsCommand>,
    #[command(flatten)]
    list: ListArgs,
}

/// Lifecycle subcommands.
#[derive(Subcommand)]
pub enum AlertsCommand {
    /// Acknowledge alerts (open → acknowledged): someone is on it; repeats keep folding into them.
    Ack(StatusArgs),
    /// Close alerts (open or acknowledged → closed); a newer occurrence reopens them.
    Close(StatusArgs),
    /// Reopen alerts (acknowledged or closed → open).
    Reopen(StatusArgs),
}

/// Arguments of `ward alerts ack|close|reopen`.
#[derive(Args)]
pub struct StatusArgs {
    /// Alert ids (the ID column of `ward alerts`).
    #[arg(required = true, value_name = "ID")]
    ids: Vec<i64>,
    /// Why (at most 500 characters; stored with the alert and in the audit log).
    #[arg(long)]
    comment: Option<String>,
    /// Who does it (default: cli:$USER).
    #[arg(long, value_name = "NAME")]
    by: Option<String>,
    /// Database file or postgres:// URL.
    #[arg(long, default_value = "ward.db")]
    db: PathBuf,
}

/// Arguments of the listing/export.
#[derive(Args)]
pub struct ListArgs {
    /// Database file.
    #[arg(long, default_value = "ward.db")]
    db: PathBuf,
    /// Output format (on stdout, or into --out).
    #[arg(long, value_enum, default_value = "table")]
    format: Format,
    /// Shorthand for --format json.
    #[arg(long)]
    json: bool,
    /// Write to this file instead of stdout.
    #[arg(long, value_name = "FILE")]
    out: Option<PathBuf>,
    /// Only this kind (e.g. port_scan, dicom_unknown_ae).
    #[arg(long)]
    kind: Option<String>,
    /// Only this severity or worse (low, medium, high, critical).
    #[arg(long)]
    min_severity: Option<String>,
    /// Only this device key.
    #[arg(long)]
    device: Option<String>,
    /// Only alerts in this status: open, acknowledged, closed, active (open or acknowledged), all.
    #[arg(long, default_value = "active")]
    status: String,
    /// Also send each alert to a syslog collector: udp://HOST:PORT or tcp://HOST:PORT.
    #[arg(long, value_name = "URL")]
    syslog: Option<String>,
    #[command(flatten)]
    hook: WebhookArgs,
}

/// Webhook delivery options, shared by `ward alerts` and `ward monitor`.
#[derive(Args)]
pub struct WebhookArgs {
    /// Also POST the alerts to this URL (Splunk: https://HOST:8088/services/collector/event; Elastic: https://HOST:9200/_bulk).
    #[arg(long, value_name = "URL")]
    webhook: Option<String>,
    /// Webhook body: generic ({"source":"ward","alerts":[...]}), splunk-hec, elastic-bulk.
    #[arg(long, value_enum, default_value = "generic")]
    webhook_format: WebhookFormat,
    /// Read the webhook secret (HEC token, Elastic API key, bearer token) from this file.
    #[arg(long, value_name = "FILE")]
    webhook_token_file: Option<PathBuf>,
    /// Else read it from this environment variable.
    #[arg(long, value_name = "VAR", default_value = "WARD_WEBHOOK_TOKEN")]
    webhook_token_env: String,
    /// Splunk index (optional) or Elasticsearch index (default ward-alerts).
    #[arg(long, value_name = "NAME")]
    webhook_index: Option<String>,
    /// Alerts per webhook request.
    #[arg(long, default_value_t = 100, value_parser = clap::value_parser!(u32).range(1..=10_000))]
    webhook_batch: u32,
    /// Tries per webhook request (connection errors, HTTP 429 and 5xx are retried with doubling back-off from 1 s).
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u32).range(1..=10))]
    webhook_attempts: u32,
}

impl WebhookArgs {
    /// The configured webhook (URL checked, secret read), or `None` without `--webhook`.
    pub fn webhook(&self) -> Result<Option<Webhook>> {
        let Some(u) = &self.webhook else {
            return Ok(None);
        };
        if !(u.starts_with("http://") || u.starts_with("https://")) {
            bail!("--webhook wants an http:// or https:// URL");
        }
        Ok(Some(Webhook {
            url: u.clone(),
            format: self.webhook_format,
            token: crate::siem::read_token(
                self.webhook_token_file.as_deref(),
                &self.webhook_token_env,
            )?,
            index: self.webhook_index.clone(),
            batch: self.webhook_batch as usize,
            attempts: self.webhook_attempts,
            backoff: std::time::Duration::from_secs(1),
            timeout: std::time::Duration::from_secs(30),
            host: hostname(),
        }))
    }
}

/// Prints alerts as a table (`ward monitor`).
pub fn table(o: &mut dyn Write, alerts: &[Alert]) -> Result<()> {
    writeln!(
        o,
        "{:<9} {:<31} {:<26} {:>6}  {:<27} SUMMARY",
        "SEVERITY", "KIND", "DEVICE", "COUNT", "FIRST SEEN"
    )?;
    for a in alerts {
        writeln!(
            o,
            "{:<9} {:<31} {:<26} {:>6}  {:<27} {}",
            a.severity.as_str(),
            a.kind.as_str(),
            a.device,
            a.count,
            a.first_seen.iso(),
            a.summary
        )?;
    }
    Ok(())
}

/// Prints stored alerts as a table with ids and status (`ward alerts`).
pub fn stored_table(o: &mut dyn Write, alerts: &[StoredAlert]) -> Result<()> {
    writeln!(
        o,
        "{:>6} {:<12} {:<9} {:<31} {:<26} {:>6}  {:<27} SUMMARY",
        "ID", "STATUS", "SEVERITY", "KIND", "DEVICE", "COUNT", "FIRST SEEN"
    )?;
    for s in alerts {
        let a = &s.alert;
        write!(
            o,
            "{:>6} {:<12} {:<9} {:<31} {:<26} {:>6}  {:<27} {}",
            s.id,
            s.status.as_str(),
            a.severity.as_str(),
            a.kind.as_str(),
            a.device,
            a.count,
            a.first_seen.iso(),
            a.summary
        )?;
        if let Some(by) = &s.status_by {
            write!(
                o,
                " [{} by {by}{}]",
                s.status.as_str(),
                s.comment
                    .as_deref()
                    .map(|c| format!(": {c}"))
                    .unwrap_or_default()
            )?;
        }
        writeln!(o)?;
    }
    Ok(())
}

/// CEF header field: `\` and `|` escaped, no line breaks or other control characters.
fn cef_header(s: &str) -> String {
    s.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect::<String>()
        .replace('\\', "\\\\")
        .replace('|', "\\|")
}

/// CEF extension value: `\` and `=` escaped, line breaks as `\n`/`\r`, other control characters as spaces.
fn cef_value(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\\' => o.push_str("\\\\"),
            '=' => o.push_str("\\="),
            '\n' => o.push_str("\\n"),
            '\r' => o.push_str("\\r"),
            c if c.is_control() => o.push(' '),
            c => o.push(c),
        }
    }
    o
}

/// One alert as a CEF line (no trailing newline). `host` is this host
/// (`dvchost`). With a flow, `src`/`dst` are its ends; without one, `src` is
/// the alerted device's address.
pub fn cef(s: &StoredAlert, host: &str) -> String {
    let a = &s.alert;
    let ms = |t: model::Timestamp| t.0.div_euclid(1000);
    let mut ext = vec![
        format!("rt={}", ms(a.last_seen)),
        format!("start={}", ms(a.first_seen)),
        format!("end={}", ms(a.last_seen)),
        format!("cnt={}", a.count),
        format!("externalId={}", s.id),
        format!("dvchost={}", cef_value(host)),
        "cat=ward:alert".to_string(),
        format!("act={}", s.status.as_str()),
    ];
    match &a.evidence.flow {
        Some(f) => ext.push(format!(
            "proto={} src={} spt={} dst={} dpt={}",
            f.transport.as_str().to_ascii_uppercase(),
            f.client,
            f.client_port,
            f.server,
            f.server_port
        )),
        None => ext.push(format!("src={}", a.ip)),
    }
    ext.push(format!("cs1Label=key cs1={}", cef_value(&a.key)));
    ext.push(format!("cs2Label=device cs2={}", cef_value(&a.device)));
    ext.push(format!("cs3Label=deviceAddress cs3={}", a.ip));
    if let Some(site) = site_of(&a.device) {
        ext.push(format!("cs5Label=site cs5={}", cef_value(site)));
    }
    if !a.evidence.counts.is_empty() {
        let counts: Vec<String> = a
            .evidence
            .counts
            .iter()
            .map(|(k, v)| format!("{k} {v}"))
            .collect();
        ext.push(format!(
            "cs4Label=counts cs4={}",
            cef_value(&counts.join(", "))
        ));
    }
    ext.push(format!("msg={}", cef_value(&a.summary)));
    format!(
        "CEF:0|Ward|Ward|{}|{}|{}|{}|{}",
        env!("CARGO_PKG_VERSION"),
        a.kind.as_str(),
        cef_header(&a.summary),
        a.severity.cef(),
        ext.join(" ")
    )
}

/// The site of an alert raised by a site sensor (device `SITE/KEY`).
pub fn site_of(device: &str) -> Option<&str> {
    device
        .split_once('/')
        .map(|(s, _)| s)
        .filter(|s| store::valid_site(s))
}

pub(crate) fn hostname() -> String {
    let h = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap_or_default();
    let h: String = h
        .trim()
        .chars()
        .filter(|c| c.is_ascii_graphic())
        .take(255)
        .collect();
    if h.is_empty() {
        "-".into()
    } else {
        h
    }
}

/// One alert as an RFC 5424 syslog message (facility local4), CEF as MSG.
pub fn syslog_line(s: &StoredAlert, host: &str) -> String {
    let a = &s.alert;
    let pri = 20 * 8 + a.severity.syslog() as u32;
    let iso = a.last_seen.iso();
    let sd_val = |s: &str| {
        s.replace('\\', "\\\\")
            .replace('"', "\\\"")
            .replace(']', "\\]")
    };
    // MSGID: at most 32 printable characters.
    let msgid: String = a.kind.as_str().chars().take(32).collect();
    let site = site_of(&a.device)
        .map(|x| format!(" site=\"{}\"", sd_val(x)))
        .unwrap_or_default();
    format!(
        "<{pri}>1 {iso} {host} ward {} {msgid} [ward@32473 id=\"{}\" status=\"{}\" device=\"{}\" key=\"{}\" count=\"{}\"{site}] {}",
        std::process::id(),
        s.id,
        s.status.as_str(),
        sd_val(&a.device),
        sd_val(&a.key),
        a.count,
        cef(s, host)
    )
}

pub(crate) fn send_syslog(url: &str, alerts: &[StoredAlert]) -> Result<()> {
    let host = hostname();
    let timeout = std::time::Duration::from_secs(10);
    if let Some(addr) = url.strip_prefix("udp://") {
        let sock = std::net::UdpSocket::bind(if addr.starts_with('[') {
            "[::]:0"
        } else {
            "0.0.0.0:0"
        })?;
        sock.connect(addr)
            .with_context(|| format!("syslog {url}"))?;
        for a in alerts {
            sock.send(syslog_line(a, &host).as_bytes())
                .with_context(|| format!("syslog {url}"))?;
        }
    } else if let Some(addr) = url.strip_prefix("tcp://") {
        let sa = std::net::ToSocketAddrs::to_socket_addrs(addr)?
            .next()
            .with_context(|| format!("syslog {url}: no address"))?;
        let mut s = std::net::TcpStream::connect_timeout(&sa, timeout)
            .with_context(|| format!("syslog {url}"))?;
        s.set_write_timeout(Some(timeout))?;
        let mut w = std::io::BufWriter::new(&mut s);
        for a in alerts {
            let line = syslog_line(a, &host);
            write!(w, "{} {line}", line.len())?;
        }
        w.flush().with_context(|| format!("syslog {url}"))?;
    } else {
        bail!("--syslog wants udp://HOST:PORT or tcp://HOST:PORT, not {url:?}");
    }
    Ok(())
}

/// The acting user of a command-line change: `--by`, else `cli:$SUDO_USER`/`cli:$USER`, else `cli`.
fn actor(by: Option<&str>) -> Result<String> {
    if let Some(b) = by {
        let b = b.trim();
        if b.is_empty() || b.chars().count() > 64 || b.chars().any(char::is_control) {
            bail!("--by wants a name of 1-64 printable characters");
        }
        return Ok(b.to_string());
    }
    let user = ["SUDO_USER", "USER"]
        .iter()
        .filter_map(|v| std::env::var(v).ok())
        .find(|u| !u.is_empty())
        .unwrap_or_default();
    let user: String = user
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || "._-".contains(*c))
        .take(64)
        .collect();
    Ok(if user.is_empty() {
        "cli".into()
    } else {
        format!("cli:{user}")
    })
}

/// Runs `ward alerts ack|close|reopen`.
fn set_status(action: StatusAction, args: StatusArgs) -> Result<()> {
    let who = actor(args.by.as_deref())?;
    // Checked before the database is opened: bad input changes nothing.
    store::lifecycle::check_comment(args.comment.as_deref())?;
    if !crate::location::exists(&args.db) {
        bail!(
            "no database at {} (run `ward monitor CAPTURE` first)",
            args.db.display()
        );
    }
    let mut store = crate::location::open(&args.db)?;
    let done = store.set_alert_status(
        &args.ids,
        action,
        &who,
        args.comment.as_deref(),
        web::auth::now(),
        "local",
    )?;
    let mut o = std::io::stdout().lock();
    for a in &done {
        writeln!(
            o,
            "alert #{} {} ({} {})",
            a.id,
            a.status.as_str(),
            a.alert.kind.as_str(),
            a.alert.device
        )?;
    }
    Ok(())
}

/// Runs `ward alerts`.
pub fn run(args: AlertsArgs) -> Result<()> {
    match args.action {
        Some(AlertsCommand::Ack(a)) => return set_status(StatusAction::Ack, a),
        Some(AlertsCommand::Close(a)) => return set_status(StatusAction::Close, a),
        Some(AlertsCommand::Reopen(a)) => return set_status(StatusAction::Reopen, a),
        None => {}
    }
    let args = args.list;
    let statuses = AlertStatus::filter(&args.status).with_context(|| {
        format!(
            "unknown status {:?} (open, acknowledged, closed, active, all)",
            args.status
        )
    })?;
    let kind = args
        .kind
        .as_deref()
        .map(|k| AlertKind::parse(k).with_context(|| format!("unknown alert kind {k:?}")))
        .transpose()?;
    let min_severity = args
        .min_severity
        .as_deref()
        .map(|s| Severity::parse(s).with_context(|| format!("unknown severity {s:?}")))
        .transpose()?;
    let hook = args.hook.webhook()?;
    if !crate::location::exists(&args.db) {
        bail!(
            "no database at {} (run `ward monitor CAPTURE` first)",
            args.db.display()
        );
    }
    let store = crate::location::open(&args.db)?;
    let filter = store::AlertFilter {
        kind,
        min_severity,
        device: args.device.clone(),
        statuses,
        ..Default::default()
    };
    let alerts = store.stored_alerts(&filter)?;
    let format = if args.json { Format::Json } else { args.format };
    let mut buf: Box<dyn Write> = match &args.out {
        Some(p) => Box::new(std::io::BufWriter::new(
            std::fs::File::create(p).with_context(|| format!("cannot write {}", p.display()))?,
        )),
        None => Box::new(std::io::stdout().lock()),
    };
    let host = hostname();
    match format {
        Format::Table => stored_table(&mut buf, &alerts)?,
        Format::Json => {
            serde_json::to_writer_pretty(&mut buf, &alerts)?;
            writeln!(buf)?;
        }
        Format::Jsonl => {
            for a in &alerts {
                serde_json::to_writer(&mut buf, a)?;
                writeln!(buf)?;
            }
        }
        Format::Cef => {
            for a in &alerts {
                writeln!(buf, "{}", cef(a, &host))?;
            }
        }
        Format::Syslog => {
            for a in &alerts {
                writeln!(buf, "{}", syslog_line(a, &host))?;
            }
        }
    }
    buf.flush()?;
    drop(buf);
    if let Some(u) = &args.syslog {
        send_syslog(u, &alerts)?;
        eprintln!("sent {} alerts to {u}", alerts.len());
    }
    if let Some(hook) = hook {
        let requests = hook.deliver(&alerts)?;
        eprintln!(
            "posted {} alerts to {} in {requests} requests",
            alerts.len(),
            crate::siem::redact(&hook.url)
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use model::Timestamp;

    fn alert(flow: bool) -> StoredAlert {
        StoredAlert {
            id: 7,
            alert: Alert {
                kind: AlertKind::CleartextCredential,
                severity: Severity::High,
                device: "mac:00:11:22:33:44:55".into(),
                ip: "10.0.0.1".parse().unwrap(),
                key: "telnet from 10.0.0.9".into(),
                summary: "a|b=c\\d\nx\ry".into(),
                evidence: monitor::Evidence {
                    flow: flow.then(|| monitor::FlowTuple {
                        transport: model::Transport::Tcp,
                        client: "10.0.0.9".parse().unwrap(),
                        client_port: 51000,
                        server: "10.0.0.1".parse().unwrap(),
                        server_port: 23,
                    }),
                    counts: [("ports".to_string(), 3), ("hosts".to_string(), 2)]
                        .into_iter()
                        .collect(),
                    ..Default::default()
                },
                count: 3,
                first_seen: Timestamp(1_767_600_050_002_400),
                last_seen: Timestamp(1_767_600_060_000_000),
            },
            status: AlertStatus::Acknowledged,
            status_by: Some("ana".into()),
            status_at: Some(1),
            comment: None,
            reopened: 0,
        }
    }

    /// Splits a CEF line as a CEF parser does: 7 header fields (`\|` is not a
    /// separator), then `key=value` pairs (a key is a word before an unescaped `=`).
    fn parse_cef(line: &str) -> (Vec<String>, Vec<(String, String)>) {
        let mut header = Vec::new();
        let mut cur = String::new();
        let mut chars = line.chars();
        while header.len() < 7 {
            match chars.next().expect("7 header fields") {
                '\\' => {
                    let c = chars.next().unwrap();
                    assert!(c == '\\' || c == '|', "bad header escape \\{c}");
                    cur.push(c);
                }
                '|' => header.push(std::mem::take(&mut cur)),
                c => cur.push(c),
            }
        }
        let ext: String = chars.collect();
        // Unescaped '=' positions mark keys: the word before each.
        let b: Vec<char> = ext.chars().collect();
        let mut eqs = Vec::new();
        let mut i = 0;
        while i < b.len() {
            if b[i] == '\\' {
                i += 2;
                continue;
            }
            if b[i] == '=' {
                eqs.push(i);
            }
            i += 1;
        }
        let mut pairs = Vec::new();
        for (n, &e) in eqs.iter().enumerate() {
            let key_start = b[..e]
                .iter()
                .rposition(|c| *c == ' ')
                .map(|p| p + 1)
                .unwrap_or(0);
            let key: String = b[key_start..e].iter().collect();
            let end = eqs
                .get(n + 1)
                .map(|&ne| b[..ne].iter().rposition(|c| *c == ' ').unwrap())
                .unwrap_or(b.len());
            let raw: String = b[e + 1..end].iter().collect();
            let val = raw
                .replace("\\=", "=")
                .replace("\\n", "\n")
                .replace("\\r", "\r")
                .replace("\\\\", "\\");
            pairs.push((key, val));
        }
        (header, pairs)
    }

    #[test]
    fn cef_follows_the_spec_and_syslog_frames() {
        let c = cef(&alert(true), "wardhost");
        assert!(!c.contains('\n') && !c.contains('\r'));
        let (h, ext) = parse_cef(&c);
        assert_eq!(h[..3], ["CEF:0", "Ward", "Ward"]);
        assert_eq!(
            (h[4].as_str(), h[5].as_str(), h[6].as_str()),
            ("cleartext_credential", "a|b=c\\d x y", "8")
        );
        let get = |k: &str| {
            ext.iter()
                .filter(|(key, _)| key == k)
                .map(|(_, v)| v.as_str())
                .collect::<Vec<_>>()
        };
        let keys: Vec<&str> = ext.iter().map(|(k, _)| k.as_str()).collect();
        let mut unique = keys.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(unique.len(), keys.len(), "each key once: {keys:?}");
        assert_eq!(
            get("msg"),
            ["a|b=c\\d\nx\ry"],
            "the summary survives the round trip"
        );
        assert_eq!(
            (get("src"), get("spt"), get("dst"), get("dpt"), get("proto")),
            (
                vec!["10.0.0.9"],
                vec!["51000"],
                vec!["10.0.0.1"],
                vec!["23"],
                vec!["TCP"]
            )
        );
        assert_eq!(
            (get("rt"), get("start"), get("cnt"), get("externalId")),
            (
                vec!["1767600060000"],
                vec!["1767600050002"],
                vec!["3"],
                vec!["7"]
            )
        );
        assert_eq!(
            (get("dvchost"), get("act"), get("cs1"), get("cs1Label")),
            (
                vec!["wardhost"],
                vec!["acknowledged"],
                vec!["telnet from 10.0.0.9"],
                vec!["key"]
            )
        );
        assert_eq!(get("cs4"), ["hosts 2, ports 3"]);
        // Without a flow the device is the source.
        let (_, ext) = parse_cef(&cef(&alert(false), "h"));
        assert!(
            ext.iter().any(|(k, v)| k == "src" && v == "10.0.0.1")
                && !ext.iter().any(|(k, _)| k == "dst")
        );
        let s = syslog_line(&alert(true), "h");
        assert!(
            s.starts_with("<163>1 2026-01-05T08:01:00.000000Z h ward "),
            "{s}"
        );
        assert!(s.contains(" cleartext_credential [ward@32473 id=\"7\" status=\"acknowledged\" device=\"mac:00:11:22:33:44:55\" key=\"telnet from 10.0.0.9\" count=\"3\"] CEF:0|"), "{s}");
    }

    #[test]
    fn cli_actor_is_checked() {
        assert_eq!(actor(Some(" ana ")).unwrap(), "ana");
        assert!(
            actor(Some("")).is_err()
                && actor(Some("a\nb")).is_err()
                && actor(Some(&"x".repeat(65))).is_err()
        );
        assert!(actor(None).unwrap().starts_with("cli"));
    }
}
