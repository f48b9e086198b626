//! The `ward` binary: command-line entry points over the sensor, identification
//! and store crates. The only crate that knows argv, terminals and `anyhow`.

mod advisories;
mod alerts;
mod analyze;
mod assess;
mod backup;
mod compliance;
mod coverage;
mod declared;
mod feeds;
mod intake;
mod monitoring;
mod mud_fetch;
mod nats_args;
mod policy;
mod remediate;
mod render;
mod report;
mod risk;
mod serve;
mod server;
mod site_sensor;
mod user;

use anyhow::Result;
use app::{location, site_knowledge};
use clap::{Parser, Subcommand};
use std::path::PathBuf;

// A fast allocator: analyzers allocate per record and per flow, never per packet,
// but flow churn on large captures makes the allocator visible in profiles.
// Built without transparent huge pages (feature `no_thp` in Cargo.toml): with
// them every fresh arena page faulted in a zeroed 2 MB page, which cost up to
// a sixth of a benchmark run in the kernel and 50% more resident memory.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Ward: passive security for connected medical devices.
#[derive(Parser)]
#[command(name = "ward", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Analyze capture files (pcap/pcapng) and add what they show to the inventory.
    Analyze(analyze::AnalyzeArgs),
    /// Show the stored device inventory.
    Inventory {
        /// Database file.
        #[arg(long, default_value = "ward.db")]
        db: PathBuf,
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
        /// Print every table cell in full, however wide (default: fit the terminal).
        #[arg(long)]
        wide: bool,
        /// Site knowledge file (extra or corrected knowledge entries, see `crates/knowledge`); devices are rebuilt with it.
        #[arg(long, value_name = "FILE")]
        knowledge: Option<PathBuf>,
        /// Print every piece of evidence behind one device (its KEY as listed) and the knowledge entries used.
        #[arg(long, value_name = "KEY")]
        explain: Option<String>,
        #[command(subcommand)]
        action: Option<InventoryCommand>,
    },
    /// Vulnerability feeds (CSAF advisories, CISA KEV, NVD CVE records).
    #[command(subcommand)]
    Feeds(FeedsCommand),
    /// List devices (declared and observed) with the advisories that match them, and why.
    Advisories {
        /// Database file.
        #[arg(long, default_value = "ward.db")]
        db: PathBuf,
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Score every device 0-100 (likelihood x clinical impact), with each factor's evidence and remediation.
    Risk {
        /// Database file.
        #[arg(long, default_value = "ward.db")]
        db: PathBuf,
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
        /// Show only the N highest-risk devices.
        #[arg(long, value_name = "N")]
        top: Option<usize>,
    },
    /// Data protection from traffic: where each clinical-data producer's data goes and when it last went there, declared backup plans beside it, and the devices without a recent copy.
    Coverage(coverage::CoverageArgs),
    /// Write the risk report (HTML with charts, JSON, CSV) into a folder.
    Report(report::ReportArgs),
    /// Compliance evidence: `report --framework hipaa|fda|iec80001|nist-csf` judges each control on Ward's evidence, with the ePHI flow map.
    #[command(subcommand)]
    Compliance(compliance::ComplianceCommand),
    /// Programme records Ward cannot observe (security officer, training, policy and incident-response documents, risk analyses): add and list.
    #[command(subcommand)]
    Program(compliance::ProgramCommand),
    /// Assess a vendor's SBOMs (CycloneDX/SPDX JSON) and MDS2 forms (xlsx) before purchase: PASS / PASS WITH FINDINGS / FAIL, with reasons.
    Assess(assess::AssessArgs),
    /// Serve the web dashboard and REST API (HTTPS; a self-signed certificate is generated unless --cert/--key).
    Serve(serve::ServeArgs),
    /// Multi-site sensor: analyze a watch folder (or interface) and publish to NATS JetStream, buffering on disk while NATS is away.
    Sensor(site_sensor::SensorArgs),
    /// Multi-site server: consume the sensors' observations from NATS JetStream into the store and serve the dashboard for all sites.
    Server(server::ServerArgs),
    /// Web accounts: add (prints the TOTP provisioning URI), token, list.
    #[command(subcommand)]
    User(user::UserCommand),
    /// Backups of Ward's own state (store, key, state directory) into an encrypted restic-format repository: init, create, list, check, restore, forget, verify-restore.
    #[command(subcommand)]
    Backup(backup::BackupCommand),
    /// Communication baselines: `learn` from captures how each device and group normally talks.
    #[command(subcommand)]
    Baseline(monitoring::BaselineCommand),
    /// Analyze captures (adds to the inventory) and raise alerts against the baseline; alerts are stored.
    Monitor(monitoring::MonitorArgs),
    /// Show, export (table, JSON, JSON lines, CEF, syslog; syslog, webhook, Splunk HEC, Elastic bulk delivery) or acknowledge/close/reopen stored alerts.
    Alerts(alerts::AlertsArgs),
    /// Remediation of every vulnerability and finding: list, show, set a status (in-progress, mitigated, patched, risk-accepted, verified, open), assign, sla, metrics, sync.
    #[command(subcommand)]
    Remediation(remediate::RemediationCommand),
    /// Firmware per device: changes, devices not updated in N days, devices behind a vendor fix.
    #[command(subcommand)]
    Firmware(remediate::FirmwareCommand),
    /// Device intake: list, approve (owner, location, group).
    #[command(subcommand)]
    Intake(intake::IntakeCommand),
    /// Policies from baselines: generate nftables rules and MUD files, simulate them on captures.
    #[command(subcommand)]
    Policy(policy::PolicyCommand),
    /// RFC 8520 MUD files: import files, fetch the URLs devices announced.
    #[command(subcommand)]
    Mud(policy::MudCommand),
    /// Capture from a network interface (needs the `live` feature and capture rights).
    #[cfg(feature = "live")]
    Capture(analyze::CaptureArgs),
    /// Capture from a network interface: this build has no `live` feature.
    #[cfg(not(feature = "live"))]
    #[command(hide = true)]
    Capture {
        /// Whatever was given; only the missing feature is reported.
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        args: Vec<String>,
    },
}

#[derive(Subcommand)]
enum InventoryCommand {
    /// Import devices declared in a CMMS export (CSV: vendor, model, firmware, serial, location).
    Import(declared::ImportArgs),
}

#[derive(Subcommand)]
enum FeedsCommand {
    /// Import feed files or directories (format detected by content); one transaction.
    Import(feeds::ImportArgs),
    /// Fetch the CISA KEV catalog, CISA CSAF medical advisories and NVD CVE records and import them; one transaction.
    Sync(feeds::SyncArgs),
}

fn main() {
    let cli = Cli::parse();
    let result: Result<()> = match cli.command {
        Command::Analyze(args) => analyze::run(args),
        Command::Inventory {
            action: Some(InventoryCommand::Import(args)),
            ..
        } => declared::import(args),
        Command::Inventory {
            db,
            json,
            wide,
            knowledge,
            explain,
            action: None,
        } => site_knowledge::install(knowledge.as_deref())
            .map_err(anyhow::Error::from)
            .and_then(|()| match explain {
                Some(key) => analyze::explain_device(&db, &key),
                None => analyze::show_inventory(&db, json, wide, knowledge.is_some()),
            }),
        Command::Feeds(FeedsCommand::Import(args)) => feeds::import(args),
        Command::Feeds(FeedsCommand::Sync(args)) => feeds::sync(args),
        Command::Advisories { db, json } => advisories::run(&db, json),
        Command::Risk { db, json, top } => risk::run(&db, json, top),
        Command::Coverage(args) => coverage::run(args),
        Command::Report(args) => report::run(args),
        Command::Compliance(cmd) => compliance::run(cmd),
        Command::Program(cmd) => compliance::program(cmd),
        Command::Assess(args) => assess::run(args),
        Command::Serve(args) => serve::run(args),
        Command::User(cmd) => user::run(cmd),
        Command::Backup(cmd) => backup::run(cmd),
        Command::Baseline(monitoring::BaselineCommand::Learn(args)) => monitoring::learn(args),
        Command::Baseline(monitoring::BaselineCommand::Show { db, name }) => {
            monitoring::show(&db, &name)
        }
        Command::Monitor(args) => monitoring::monitor(args),
        Command::Alerts(args) => alerts::run(args),
        Command::Intake(cmd) => intake::run(cmd),
        Command::Remediation(cmd) => remediate::run(cmd),
        Command::Firmware(cmd) => remediate::firmware(cmd),
        Command::Policy(policy::PolicyCommand::Generate(args)) => policy::generate(args),
        Command::Policy(policy::PolicyCommand::Simulate(args)) => policy::simulate(args),
        Command::Mud(policy::MudCommand::Import { files, db, device }) => {
            policy::import(files, db, device)
        }
        Command::Mud(policy::MudCommand::Fetch(args)) => mud_fetch::fetch(args),
        Command::Sensor(args) => site_sensor::run(args),
        Command::Server(args) => server::run(args),
        #[cfg(feature = "live")]
        Command::Capture(args) => analyze::capture(args),
        #[cfg(not(feature = "live"))]
        Command::Capture { .. } => Err(app::monitor::built_without_live().into()),
    };
    if let Err(e) = result {
        // A closed pipe (`ward risk | head`) is the reader's choice, not an error.
        if e.chain().any(|c| {
            c.downcast_ref::<std::io::Error>()
                .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
        }) {
            std::process::exit(0);
        }
        // One line, no backtrace: the user gets what went wrong and where.
        // Errors quote file names and file contents: cleaned like any output.
        eprintln!("ward: error: {}", model::text::clean(&format!("{e:#}")));
        std::process::exit(2);
    }
}
