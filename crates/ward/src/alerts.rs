//! `ward alerts`: stored alerts as a table or JSON, and their export as JSON
//! lines, CEF, RFC 5424 syslog (CEF payload; UDP datagrams or TCP with
//! octet-counting framing, RFC 6587) and webhooks (HTTP POST of JSON).

use anyhow::{bail, Context, Result};
use clap::{Args, ValueEnum};
use monitor::{Alert, AlertKind, Severity};
use std::io::Write;
use std::path::PathBuf;

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

/// Arguments of `ward alerts`.
#[derive(Args)]
pub struct AlertsArgs {
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
    /// Also send each alert to a syslog collector: udp://HOST:PORT or tcp://HOST:PORT.
    #[arg(long, value_name = "URL")]
    syslog: Option<String>,
    /// Also POST the alerts as JSON to this URL (batches of 100: {"source":"ward","alerts":[...]}).
    #[arg(long, value_name = "URL")]
    webhook: Option<String>,
}

/// Prints alerts as a table.
pub fn table(o: &mut dyn Write, alerts: &[Alert]) -> Result<()> {
    writeln!(o, "{:<9} {:<31} {:<26} {:>6}  {:<27} SUMMARY", "SEVERITY", "KIND", "DEVICE", "COUNT", "FIRST SEEN")?;
    for a in alerts {
        writeln!(o, "{:<9} {:<31} {:<26} {:>6}  {:<27} {}", a.severity.as_str(), a.kind.as_str(), a.device, a.count, a.first_seen.iso(), a.summary)?;
    }
    Ok(())
}

fn cef_header(s: &str) -> String {
    s.replace('\\', "\\\\").replace('|', "\\|").replace(['\r', '\n'], " ")
}

fn cef_value(s: &str) -> String {
    s.replace('\\', "\\\\").replace('=', "\\=").replace('\r', "").replace('\n', "\\n")
}

/// One alert as a CEF line (no trailing newline).
pub fn cef(a: &Alert) -> String {
    let mut ext = vec![
        format!("rt={}", a.last_seen.0 / 1000),
        format!("start={}", a.first_seen.0 / 1000),
        format!("end={}", a.last_seen.0 / 1000),
        format!("cnt={}", a.count),
        format!("dvchost={}", cef_value(&a.device)),
        format!("cs1Label=key cs1={}", cef_value(&a.key)),
        format!("cs2Label=deviceAddress cs2={}", a.ip),
    ];
    if let Some(f) = &a.evidence.flow {
        ext.push(format!("proto={} src={} spt={} dst={} dpt={}", f.transport.as_str().to_ascii_uppercase(), f.client, f.client_port, f.server, f.server_port));
    }
    for (k, v) in &a.evidence.counts {
        ext.push(format!("cs3Label=count_{} cs3={v}", cef_value(k)));
    }
    ext.push(format!("msg={}", cef_value(&a.summary)));
    format!("CEF:0|Ward|Ward|{}|{}|{}|{}|{}", env!("CARGO_PKG_VERSION"), a.kind.as_str(), cef_header(&a.summary), a.severity.cef(), ext.join(" "))
}

fn hostname() -> String {
    let h = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap_or_default();
    let h: String = h.trim().chars().filter(|c| c.is_ascii_graphic()).take(255).collect();
    if h.is_empty() {
        "-".into()
    } else {
        h
    }
}

/// One alert as an RFC 5424 syslog message (facility local4), CEF as MSG.
pub fn syslog_line(a: &Alert, host: &str) -> String {
    let pri = 20 * 8 + a.severity.syslog() as u32;
    let iso = a.last_seen.iso();
    let sd_val = |s: &str| s.replace('\\', "\\\\").replace('"', "\\\"").replace(']', "\\]");
    format!(
        "<{pri}>1 {iso} {host} ward {} {} [ward@32473 device=\"{}\" key=\"{}\" count=\"{}\"] {}",
        std::process::id(),
        a.kind.as_str(),
        sd_val(&a.device),
        sd_val(&a.key),
        a.count,
        cef(a)
    )
}

pub(crate) fn send_syslog(url: &str, alerts: &[Alert]) -> Result<()> {
    let host = hostname();
    let timeout = std::time::Duration::from_secs(10);
    if let Some(addr) = url.strip_prefix("udp://") {
        let sock = std::net::UdpSocket::bind(if addr.starts_with('[') { "[::]:0" } else { "0.0.0.0:0" })?;
        sock.connect(addr).with_context(|| format!("syslog {url}"))?;
        for a in alerts {
            sock.send(syslog_line(a, &host).as_bytes()).with_context(|| format!("syslog {url}"))?;
        }
    } else if let Some(addr) = url.strip_prefix("tcp://") {
        let sa = std::net::ToSocketAddrs::to_socket_addrs(addr)?.next().with_context(|| format!("syslog {url}: no address"))?;
        let mut s = std::net::TcpStream::connect_timeout(&sa, timeout).with_context(|| format!("syslog {url}"))?;
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

pub(crate) fn send_webhook(url: &str, alerts: &[Alert]) -> Result<()> {
    if !(url.starts_with("http://") || url.starts_with("https://")) {
        bail!("--webhook wants an http:// or https:// URL");
    }
    let agent = ureq::Agent::new_with_config(ureq::Agent::config_builder().timeout_global(Some(std::time::Duration::from_secs(30))).build());
    for chunk in alerts.chunks(100) {
        let body = serde_json::json!({"source": "ward", "alerts": chunk});
        agent.post(url).header("Content-Type", "application/json").send(serde_json::to_vec(&body)?.as_slice()).with_context(|| format!("webhook {url}"))?;
    }
    Ok(())
}

/// Runs `ward alerts`.
pub fn run(args: AlertsArgs) -> Result<()> {
    if !crate::location::exists(&args.db) {
        bail!("no database at {} (run `ward monitor CAPTURE` first)", args.db.display());
    }
    let store = crate::location::open(&args.db)?;
    let filter = store::AlertFilter {
        kind: args.kind.as_deref().map(|k| AlertKind::parse(k).with_context(|| format!("unknown alert kind {k:?}"))).transpose()?,
        min_severity: args.min_severity.as_deref().map(|s| Severity::parse(s).with_context(|| format!("unknown severity {s:?}"))).transpose()?,
        device: args.device.clone(),
        ..Default::default()
    };
    let alerts = store.alerts(&filter)?;
    let format = if args.json { Format::Json } else { args.format };
    let mut buf: Box<dyn Write> = match &args.out {
        Some(p) => Box::new(std::io::BufWriter::new(std::fs::File::create(p).with_context(|| format!("cannot write {}", p.display()))?)),
        None => Box::new(std::io::stdout().lock()),
    };
    let host = hostname();
    match format {
        Format::Table => table(&mut buf, &alerts)?,
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
                writeln!(buf, "{}", cef(a))?;
            }
        }
        Format::Syslog => {
            for a in &alerts {
                writeln!(buf, "{}", syslog_line(a, &host))?;
            }
        }
    }
    buf.flush()?;
    if let Some(u) = &args.syslog {
        send_syslog(u, &alerts)?;
        eprintln!("sent {} alerts to {u}", alerts.len());
    }
    if let Some(u) = &args.webhook {
        send_webhook(u, &alerts)?;
        eprintln!("posted {} alerts to {u}", alerts.len());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use model::Timestamp;

    fn alert() -> Alert {
        Alert {
            kind: AlertKind::CleartextCredential,
            severity: Severity::High,
            device: "mac:00:11:22:33:44:55".into(),
            ip: "10.0.0.1".parse().unwrap(),
            key: "telnet from 10.0.0.9".into(),
            summary: "a|b=c\\d\nx".into(),
            evidence: Default::default(),
            count: 3,
            first_seen: Timestamp(1_767_600_050_002_400),
            last_seen: Timestamp(1_767_600_060_000_000),
        }
    }

    #[test]
    fn cef_escapes_and_syslog_frames() {
        let c = cef(&alert());
        assert!(c.starts_with("CEF:0|Ward|Ward|"), "{c}");
        assert!(c.contains("|cleartext_credential|a\\|b=c\\\\d x|8|"), "{c}");
        assert!(c.contains("msg=a|b\\=c\\\\d\\nx"), "{c}");
        assert!(!c.contains('\n'));
        let s = syslog_line(&alert(), "h");
        assert!(s.starts_with("<163>1 2026-01-05T08:01:00.000000Z h ward "), "{s}");
        assert!(s.contains(" cleartext_credential [ward@32473 device=\"mac:00:11:22:33:44:55\" key=\"telnet from 10.0.0.9\" count=\"3\"] CEF:0|"), "{s}");
    }
}
