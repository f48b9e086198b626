//! `ward remediation`: every vulnerability and finding of every device as a
//! tracked item (`list`, `show`, `set` a status, `assign` an owner or due
//! date, `sla`, `metrics`, `sync`), and `ward firmware`: firmware changes
//! per device, devices not updated in N days, devices on a version a vendor
//! fix replaced.

use anyhow::{bail, Context, Result};
use clap::{Args, Subcommand, ValueEnum};
use remediation::{Action, Severity, Status};
use std::io::Write;
use std::path::{Path, PathBuf};
use store::remediation::ItemFilter;

/// `ward remediation` subcommands.
#[derive(Subcommand)]
pub enum RemediationCommand {
    /// List items (default: everything not verified), most urgent first.
    List(ListArgs),
    /// One item with its evidence and history.
    Show {
        /// Item id.
        id: i64,
        /// Print JSON.
        #[arg(long)]
        json: bool,
        /// Database file.
        #[arg(long, default_value = "ward.db")]
        db: PathBuf,
    },
    /// Change the status of items (audited): in-progress, mitigated, patched, risk-accepted (needs --until), verified, open.
    Set(SetArgs),
    /// Set the owner and/or due date of items, or add a comment (audited).
    Assign(AssignArgs),
    /// Show or set the days to remediate per severity (a KEV due date overrides them).
    Sla(SlaArgs),
    /// Mean and 90th-percentile time to remediate per severity, open and overdue items, open over time.
    Metrics {
        /// Days of open-over-time.
        #[arg(long, default_value_t = 90, value_parser = clap::value_parser!(u32).range(1..=3650))]
        days: u32,
        /// Print JSON.
        #[arg(long)]
        json: bool,
        /// Database file.
        #[arg(long, default_value = "ward.db")]
        db: PathBuf,
    },
    /// Bring the items in line with the stored evidence now (ward analyze and feeds import do this too).
    Sync {
        /// Database file.
        #[arg(long, default_value = "ward.db")]
        db: PathBuf,
    },
}

/// Arguments of `ward remediation list`.
#[derive(Args)]
pub struct ListArgs {
    /// Only this status (open, in-progress, mitigated, patched, risk-accepted, verified), `active` (open or in progress) or `all`; default: all but verified.
    #[arg(long)]
    status: Option<String>,
    /// Only this device key.
    #[arg(long)]
    device: Option<String>,
    /// Only items past their due date.
    #[arg(long)]
    overdue: bool,
    /// Print JSON.
    #[arg(long)]
    json: bool,
    /// Database file.
    #[arg(long, default_value = "ward.db")]
    db: PathBuf,
}

/// Status targets of `ward remediation set --to`.
#[derive(Clone, Copy, ValueEnum)]
pub enum Target {
    /// Someone works on it.
    InProgress,
    /// A compensating control is in place.
    Mitigated,
    /// The vendor's fix is applied.
    Patched,
    /// Left on purpose until --until.
    RiskAccepted,
    /// Checked: the problem is gone (only from mitigated or patched).
    Verified,
    /// Back to open.
    Open,
}

impl From<Target> for Action {
    fn from(t: Target) -> Action {
        match t {
            Target::InProgress => Action::Start,
            Target::Mitigated => Action::Mitigate,
            Target::Patched => Action::Patch,
            Target::RiskAccepted => Action::Accept,
            Target::Verified => Action::Verify,
            Target::Open => Action::Reopen,
        }
    }
}

/// Arguments of `ward remediation set`.
#[derive(Args)]
pub struct SetArgs {
    /// Item ids (the ID column of `ward remediation list`).
    #[arg(required = true, value_name = "ID")]
    ids: Vec<i64>,
    /// The new status.
    #[arg(long, value_enum)]
    to: Target,
    /// Until when a risk is accepted (YYYY-MM-DD; required with --to risk-accepted).
    #[arg(long, value_name = "DATE")]
    until: Option<String>,
    /// Why (at most 500 characters; in the history and the audit log).
    #[arg(long)]
    comment: Option<String>,
    /// Who does it (default: cli:$USER).
    #[arg(long, value_name = "NAME")]
    by: Option<String>,
    /// Database file.
    #[arg(long, default_value = "ward.db")]
    db: PathBuf,
}

/// Arguments of `ward remediation assign`.
#[derive(Args)]
pub struct AssignArgs {
    /// Item ids.
    #[arg(required = true, value_name = "ID")]
    ids: Vec<i64>,
    /// Owner (a person or team).
    #[arg(long)]
    owner: Option<String>,
    /// Due date (YYYY-MM-DD).
    #[arg(long, value_name = "DATE")]
    due: Option<String>,
    /// A comment.
    #[arg(long)]
    comment: Option<String>,
    /// Who does it (default: cli:$USER).
    #[arg(long, value_name = "NAME")]
    by: Option<String>,
    /// Database file.
    #[arg(long, default_value = "ward.db")]
    db: PathBuf,
}

/// Arguments of `ward remediation sla`.
#[derive(Args)]
pub struct SlaArgs {
    /// Days for critical items.
    #[arg(long)]
    critical: Option<u32>,
    /// Days for high items.
    #[arg(long)]
    high: Option<u32>,
    /// Days for medium items.
    #[arg(long)]
    medium: Option<u32>,
    /// Days for low items.
    #[arg(long)]
    low: Option<u32>,
    /// Who does it (default: cli:$USER).
    #[arg(long, value_name = "NAME")]
    by: Option<String>,
    /// Database file.
    #[arg(long, default_value = "ward.db")]
    db: PathBuf,
}

/// `ward firmware` subcommands.
#[derive(Subcommand)]
pub enum FirmwareCommand {
    /// Every change of a device's observed firmware (when, from what to what, where seen).
    Changes {
        /// Only this device key.
        #[arg(long)]
        device: Option<String>,
        /// Print JSON.
        #[arg(long)]
        json: bool,
        /// Database file.
        #[arg(long, default_value = "ward.db")]
        db: PathBuf,
    },
    /// Devices whose firmware has not changed in N days.
    Stale {
        /// Days.
        #[arg(long, default_value_t = 365)]
        days: u32,
        /// Print JSON.
        #[arg(long)]
        json: bool,
        /// Database file.
        #[arg(long, default_value = "ward.db")]
        db: PathBuf,
    },
    /// Devices still on a version an advisory's vendor fix replaced.
    Behind {
        /// Print JSON.
        #[arg(long)]
        json: bool,
        /// Database file.
        #[arg(long, default_value = "ward.db")]
        db: PathBuf,
    },
}

fn open(db: &Path) -> Result<store::Store> {
    crate::analyze::open_existing(db)
}

fn date(flag: &str, s: &str) -> Result<i64> {
    model::time::parse_date(s.trim()).with_context(|| {
        format!(
            "{flag} wants a date YYYY-MM-DD, not {:?}",
            model::text::bounded(s.as_bytes(), 40)
        )
    })
}

/// Runs `ward remediation`.
pub fn run(cmd: RemediationCommand) -> Result<()> {
    let now = web::auth::now();
    let mut out = std::io::BufWriter::new(crate::render::stdout());
    match cmd {
        RemediationCommand::List(a) => {
            let statuses = match a.status.as_deref() {
                None => Status::ALL.into_iter().filter(|s| *s != Status::Verified).collect(),
                Some("all") => Vec::new(),
                Some("active") => vec![Status::Open, Status::InProgress],
                Some(s) => vec![Status::parse(s).with_context(|| {
                    format!(
                        "unknown status {:?} (open, in-progress, mitigated, patched, risk-accepted, verified, active, all)",
                        model::text::bounded(s.as_bytes(), 40)
                    )
                })?],
            };
            let store = open(&a.db)?;
            let mut items = store.remediation_items(&ItemFilter {
                statuses,
                device: a.device,
            })?;
            if a.overdue {
                items.retain(|i| i.overdue(now));
            }
            if a.json {
                printer::json(&mut out, &items)?;
            } else {
                printer::remediation::table(&mut out, &items, now)?;
            }
        }
        RemediationCommand::Show { id, json, db } => {
            let store = open(&db)?;
            let Some(item) = store.remediation_item(id)? else {
                bail!("no remediation item #{id} (see `ward remediation list --status all`)");
            };
            let history = store.remediation_history(id)?;
            if json {
                printer::json(
                    &mut out,
                    &serde_json::json!({ "item": item, "history": history }),
                )?;
            } else {
                printer::remediation::item(&mut out, &item, &history, now)?;
            }
        }
        RemediationCommand::Set(a) => {
            let who = crate::alerts::actor(a.by.as_deref())?;
            store::lifecycle::check_comment(a.comment.as_deref())?;
            let until = a.until.as_deref().map(|u| date("--until", u)).transpose()?;
            let action = Action::from(a.to);
            if action == Action::Accept && until.is_none() {
                bail!("--to risk-accepted needs --until YYYY-MM-DD (when the acceptance ends)");
            }
            let mut store = open(&a.db)?;
            let done = store.set_remediation_status(
                &a.ids,
                action,
                &who,
                a.comment.as_deref(),
                until,
                now,
                "local",
            )?;
            printer::remediation::changed(&mut out, &done)?;
        }
        RemediationCommand::Assign(a) => {
            let who = crate::alerts::actor(a.by.as_deref())?;
            if a.owner.is_none() && a.due.is_none() && a.comment.is_none() {
                bail!("nothing to change: give --owner, --due or --comment");
            }
            let due = a.due.as_deref().map(|d| date("--due", d)).transpose()?;
            let mut store = open(&a.db)?;
            let done = store.update_remediation(
                &a.ids,
                a.owner.as_deref(),
                due,
                a.comment.as_deref(),
                &who,
                now,
                "local",
            )?;
            printer::remediation::changed(&mut out, &done)?;
        }
        RemediationCommand::Sla(a) => {
            let mut store = open(&a.db)?;
            let mut sla = store.remediation_sla()?;
            let set = [
                (Severity::Critical, a.critical),
                (Severity::High, a.high),
                (Severity::Medium, a.medium),
                (Severity::Low, a.low),
            ];
            if set.iter().any(|(_, d)| d.is_some()) {
                let who = crate::alerts::actor(a.by.as_deref())?;
                for (s, d) in set {
                    if let Some(d) = d {
                        if !(1..=3650).contains(&d) {
                            bail!("--{} wants 1 to 3650 days", s.as_str());
                        }
                        sla.set(s, d);
                    }
                }
                store.set_remediation_sla(&sla, &who, now, "local")?;
            }
            writeln!(
                out,
                "days to remediate: critical {}, high {}, medium {}, low {} (a KEV due date overrides them)",
                sla.critical, sla.high, sla.medium, sla.low
            )?;
        }
        RemediationCommand::Metrics { days, json, db } => {
            let store = open(&db)?;
            let m = app::remediation::metrics(&store, now, days)?;
            if json {
                printer::json(&mut out, &m)?;
            } else {
                printer::remediation::metrics(&mut out, &m)?;
            }
        }
        RemediationCommand::Sync { db } => {
            let mut store = open(&db)?;
            let s = app::remediation::sync(&mut store, now)?;
            printer::remediation::synced(&mut out, &s)?;
        }
    }
    out.flush()?;
    Ok(())
}

/// Runs `ward firmware`.
pub fn firmware(cmd: FirmwareCommand) -> Result<()> {
    let now = web::auth::now();
    let mut out = std::io::BufWriter::new(crate::render::stdout());
    match cmd {
        FirmwareCommand::Changes { device, json, db } => {
            let c = open(&db)?.firmware_changes(device.as_deref())?;
            if json {
                printer::json(&mut out, &c)?;
            } else {
                printer::remediation::firmware_changes(&mut out, &c)?;
            }
        }
        FirmwareCommand::Stale { days, json, db } => {
            let rows = app::remediation::not_updated(&open(&db)?, days, now)?;
            if json {
                let rows: Vec<_> = rows
                    .iter()
                    .map(|(d, v, at)| serde_json::json!({"device": d, "firmware": v, "since": at}))
                    .collect();
                printer::json(&mut out, &rows)?;
            } else {
                printer::remediation::stale(&mut out, &rows, days)?;
            }
        }
        FirmwareCommand::Behind { json, db } => {
            let rows = app::remediation::behind_fixes(&open(&db)?)?;
            if json {
                printer::json(&mut out, &rows)?;
            } else {
                printer::remediation::behind(&mut out, &rows)?;
            }
        }
    }
    out.flush()?;
    Ok(())
}

/// After an analysis or a feed import: brings the items in line and, unless
/// `quiet`, says what changed on stderr when anything did (stdout stays the
/// command's own). The command's own work is stored already: a failure here
/// is one warning line, and the next sync catches up.
pub fn sync_after(store: &mut store::Store, quiet: bool) {
    synced_after(app::remediation::sync(store, web::auth::now()), quiet)
}

/// [`sync_after`] for a `ward analyze` run: only the devices it saw
/// (`app::remediation::sync_seen`).
pub fn sync_after_run(store: &mut store::Store, seen: &[identify::Device], quiet: bool) {
    synced_after(
        app::remediation::sync_seen(store, seen, web::auth::now()),
        quiet,
    )
}

fn synced_after(result: app::Result<app::remediation::Synced>, quiet: bool) {
    let mut e = crate::render::stderr();
    match result {
        Ok(s) => {
            if s.changed() && !quiet {
                let _ = printer::remediation::synced(&mut e, &s);
            }
        }
        Err(err) => {
            let _ = writeln!(
                e,
                "warning: remediation items not updated ({}); `ward remediation sync` retries",
                app::chain(&err)
            );
        }
    }
}
