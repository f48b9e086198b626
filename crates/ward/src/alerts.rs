//! `ward alerts`: stored alerts as a table or JSON, their lifecycle
//! (`ack`, `close`, `reopen`: audited, with an optional comment), and their
//! export through crate `export`: JSON lines, CEF, RFC 5424 syslog (CEF
//! payload; UDP datagrams or TCP with octet-counting framing, RFC 6587) and
//! webhooks (generic JSON, Splunk HEC, Elasticsearch `_bulk`).

use anyhow::{bail, Context, Result};
use clap::{Args, Subcommand, ValueEnum};
use export::format::{cef::cef, json, syslog::syslog_line};
use export::{RetryPolicy, Webhook};
use monitor::{AlertKind, Severity};
use std::io::Write;
use std::path::PathBuf;
use store::{AlertStatus, StatusAction};

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

/// Webhook body formats (`--webhook-format`).
#[derive(Clone, Copy, Debug, ValueEnum, PartialEq, Eq)]
pub enum WebhookFormat {
    /// `{"source":"ward","alerts":[...]}`.
    Generic,
    /// Splunk HTTP Event Collector events (`/services/collector/event`).
    SplunkHec,
    /// Elasticsearch `_bulk` NDJSON with ECS fields.
    ElasticBulk,
}

impl From<WebhookFormat> for export::WebhookFormat {
    fn from(f: WebhookFormat) -> export::WebhookFormat {
        match f {
            WebhookFormat::Generic => export::WebhookFormat::Generic,
            WebhookFormat::SplunkHec => export::WebhookFormat::SplunkHec,
            WebhookFormat::ElasticBulk => export::WebhookFormat::ElasticBulk,
        }
    }
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
            format: self.webhook_format.into(),
            token: export::secret::read_token(
                self.webhook_token_file.as_deref(),
                &self.webhook_token_env,
            )?,
            index: self.webhook_index.clone(),
            batch: self.webhook_batch as usize,
            retry: RetryPolicy {
                attempts: self.webhook_attempts,
                ..RetryPolicy::default()
            },
            timeout: std::time::Duration::from_secs(30),
            host: export::hostname(),
        }))
    }
}

/// The acting user of a command-line change: `--by`, else `cli:$SUDO_USER`/`cli:$USER`, else `cli`.
pub(crate) fn actor(by: Option<&str>) -> Result<String> {
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
    printer::alerts::status_changed(&mut crate::render::stdout(), &done)?;
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
        Some(p) => Box::new(model::text::CleanWriter::new(std::io::BufWriter::new(
            std::fs::File::create(p).with_context(|| format!("cannot write {}", p.display()))?,
        ))),
        None => Box::new(crate::render::stdout()),
    };
    let host = export::hostname();
    match format {
        Format::Table => printer::alerts::stored_table(&mut buf, &alerts)?,
        Format::Json => json::array(&alerts, &mut buf)?,
        Format::Jsonl => json::lines(&alerts, &mut buf)?,
        Format::Cef => {
            for a in &alerts {
                writeln!(buf, "{}", cef(a, &host))?;
            }
        }
        Format::Syslog => {
            for a in &alerts {
                writeln!(buf, "{}", syslog_line(a, &host, std::process::id()))?;
            }
        }
    }
    buf.flush()?;
    drop(buf);
    if let Some(u) = &args.syslog {
        export::send_syslog(u, &alerts)?;
        eprintln!("sent {} alerts to {u}", alerts.len());
    }
    if let Some(hook) = hook {
        let requests = hook.deliver(&alerts)?;
        eprintln!(
            "posted {} alerts to {} in {requests} requests",
            alerts.len(),
            export::secret::redact(&hook.url)
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

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
