//! `ward compliance report`: a framework's controls judged on the store's
//! evidence, with the ePHI flow map — `compliance.html` (printable,
//! self-contained) and `compliance.json` — and `ward program`: the
//! programme records Ward cannot observe (security officer, training,
//! policy and incident-response documents, risk analyses), each change
//! audited. The work is `app::compliance`'s; this parses and prints.

use anyhow::Result;
use clap::{Args, Subcommand};
use std::path::PathBuf;

/// `ward compliance` subcommands.
#[derive(Subcommand)]
pub enum ComplianceCommand {
    /// Write compliance.html and compliance.json: every control of the framework with its status (met, partial, not met, not assessable), evidence, gaps and remediation, and the ePHI flow map.
    Report(ReportArgs),
}

/// Arguments of `ward compliance report`.
#[derive(Args)]
pub struct ReportArgs {
    /// Framework: hipaa, fda, iec80001 or nist-csf.
    #[arg(long)]
    framework: String,
    /// Database file.
    #[arg(long, default_value = "ward.db")]
    db: PathBuf,
    /// Folder to write into (created if missing; the two files in it are replaced).
    #[arg(long, default_value = "ward-compliance")]
    out: PathBuf,
}

/// Runs `ward compliance ...`.
pub fn run(cmd: ComplianceCommand) -> Result<()> {
    match cmd {
        ComplianceCommand::Report(a) => {
            // An unknown framework is refused before the store is opened.
            app::compliance::framework(&a.framework)?;
            let store = crate::analyze::open_existing(&a.db)?;
            let r = app::compliance::report(&store, &a.db, &a.framework)?;
            for p in app::compliance::write(&a.out, &r)? {
                println!("wrote {}", p.display());
            }
            let s = &r.summary;
            println!(
                "{}: {} controls: {} met, {} partial, {} not met, {} not assessable; {} ePHI flows ({} cleartext)",
                r.framework,
                r.controls.len(),
                s.met,
                s.partial,
                s.not_met,
                s.not_assessable,
                r.ephi_flows.len(),
                r.ephi_flows.iter().filter(|f| !f.encrypted).count()
            );
            Ok(())
        }
    }
}

/// `ward program` subcommands.
#[derive(Subcommand)]
pub enum ProgramCommand {
    /// The designated security officer (a web account): set or clear.
    #[command(subcommand)]
    Officer(OfficerCommand),
    /// Training completed by a person.
    #[command(subcommand)]
    Training(TrainingCommand),
    /// Policy and incident-response documents.
    #[command(subcommand)]
    Document(DocumentCommand),
    /// Risk analyses (each `ward report` run is recorded too).
    #[command(name = "risk-analysis", subcommand)]
    RiskAnalysis(RiskAnalysisCommand),
    /// List every programme record.
    List {
        /// Database file.
        #[arg(long, default_value = "ward.db")]
        db: PathBuf,
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
    },
}

/// Options every change takes.
#[derive(Args)]
pub struct Common {
    /// Database file.
    #[arg(long, default_value = "ward.db")]
    db: PathBuf,
    /// Who makes the change, for the audit log (default: cli:$USER).
    #[arg(long)]
    by: Option<String>,
}

/// `ward program officer`.
#[derive(Subcommand)]
pub enum OfficerCommand {
    /// Make the web account USER the designated security officer (the only one).
    Set {
        /// Account name.
        user: String,
        #[command(flatten)]
        common: Common,
    },
    /// Nobody is the security officer.
    Clear {
        #[command(flatten)]
        common: Common,
    },
}

/// `ward program training`.
#[derive(Subcommand)]
pub enum TrainingCommand {
    /// Record that USER completed a course on a date.
    Add {
        /// Person (account name).
        user: String,
        /// Course.
        #[arg(long)]
        course: String,
        /// Day completed (YYYY-MM-DD).
        #[arg(long)]
        date: String,
        #[command(flatten)]
        common: Common,
    },
}

/// `ward program document`.
#[derive(Subcommand)]
pub enum DocumentCommand {
    /// Record a document version with its review date.
    Add {
        /// policy or incident-response.
        #[arg(long, value_parser = ["policy", "incident-response"])]
        kind: String,
        /// Title.
        #[arg(long)]
        title: String,
        /// Version.
        #[arg(long)]
        version: String,
        /// Review by (YYYY-MM-DD); past it the document is overdue.
        #[arg(long)]
        review_by: String,
        /// Link or file name.
        #[arg(long)]
        link: Option<String>,
        /// Owner.
        #[arg(long)]
        owner: Option<String>,
        #[command(flatten)]
        common: Common,
    },
}

/// `ward program risk-analysis`.
#[derive(Subcommand)]
pub enum RiskAnalysisCommand {
    /// Record the organisation's risk analysis.
    Add {
        /// Day (YYYY-MM-DD; default today).
        #[arg(long)]
        date: Option<String>,
        /// What it was.
        #[arg(long, default_value = "risk analysis")]
        what: String,
        /// Owner.
        #[arg(long)]
        owner: Option<String>,
        #[command(flatten)]
        common: Common,
    },
}

fn open(c: &Common) -> Result<(store::Store, String)> {
    let who = crate::alerts::actor(c.by.as_deref())?;
    Ok((crate::analyze::open_existing(&c.db)?, who))
}

/// Runs `ward program ...`.
pub fn program(cmd: ProgramCommand) -> Result<()> {
    match cmd {
        ProgramCommand::Officer(OfficerCommand::Set { user, common }) => {
            let (s, who) = open(&common)?;
            app::compliance::set_officer(&s, &user, &who)?;
            println!("{user} is the designated security officer");
        }
        ProgramCommand::Officer(OfficerCommand::Clear { common }) => {
            let (s, who) = open(&common)?;
            app::compliance::clear_officer(&s, &who)?;
            println!("no security officer designated");
        }
        ProgramCommand::Training(TrainingCommand::Add {
            user,
            course,
            date,
            common,
        }) => {
            let (s, who) = open(&common)?;
            app::compliance::add_training(&s, &user, &course, &date, &who)?;
            println!("recorded training of {user}: {course} on {date}");
        }
        ProgramCommand::Document(DocumentCommand::Add {
            kind,
            title,
            version,
            review_by,
            link,
            owner,
            common,
        }) => {
            let (s, who) = open(&common)?;
            let d = app::compliance::NewDocument {
                kind,
                title,
                version,
                review_by,
                link,
                owner,
            };
            app::compliance::add_document(&s, &d, &who)?;
            println!(
                "recorded {} document {} version {} (review by {})",
                d.kind, d.title, d.version, d.review_by
            );
        }
        ProgramCommand::RiskAnalysis(RiskAnalysisCommand::Add {
            date,
            what,
            owner,
            common,
        }) => {
            let (s, who) = open(&common)?;
            app::compliance::add_risk_analysis(&s, date.as_deref(), &what, owner.as_deref(), &who)?;
            println!("recorded risk analysis: {what}");
        }
        ProgramCommand::List { db, json } => {
            let s = crate::analyze::open_existing(&db)?;
            let p = app::compliance::program(&s)?;
            let mut w = crate::render::stdout();
            if json {
                printer::json(&mut w, &p)?;
            } else {
                print_records(&mut w, &p)?;
            }
        }
    }
    Ok(())
}

fn print_records(w: &mut impl std::io::Write, p: &store::program::ProgramRecords) -> Result<()> {
    let c = |s: &str| model::text::clean(s).into_owned();
    match &p.officer {
        Some(o) => writeln!(
            w,
            "security officer\t{}{}\tsince {}",
            c(&o.user),
            if o.disabled { " (disabled)" } else { "" },
            compliance_day(o.since)
        )?,
        None => writeln!(w, "security officer\tnone")?,
    }
    for t in &p.training {
        writeln!(
            w,
            "training\t{}\t{}\t{}",
            c(&t.user),
            c(&t.course),
            c(&t.completed)
        )?;
    }
    for d in &p.documents {
        writeln!(
            w,
            "document\t{}\t{}\tversion {}\treview by {}\t{}\t{}",
            c(&d.kind),
            c(&d.title),
            c(&d.version),
            c(&d.review_by),
            c(&d.owner),
            c(&d.link)
        )?;
    }
    for r in &p.risk_analyses {
        writeln!(
            w,
            "risk analysis\t{}\t{}\t{}",
            c(&r.day),
            c(&r.what),
            c(&r.owner)
        )?;
    }
    Ok(())
}

fn compliance_day(unix: i64) -> String {
    let (y, m, d, ..) = model::time::civil(unix);
    format!("{y:04}-{m:02}-{d:02}")
}
