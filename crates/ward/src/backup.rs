//! `ward backup`: Ward's own state (store, key file, state directory) into an
//! encrypted, deduplicated restic-format repository (`--repo PATH` or
//! `--repo s3:http://HOST:PORT/BUCKET`), and back. The password comes from
//! `--password-file` or `WARD_BACKUP_PASSWORD`, never the command line.
//! Parsing and printing only: the use cases are `app::backup`.

use anyhow::{bail, Result};
use app::backup::{self as use_case, Target};
use clap::{Args, Subcommand};
use model::text::clean;
use std::path::PathBuf;

/// `ward backup` subcommands.
#[derive(Subcommand)]
pub enum BackupCommand {
    /// Create an empty repository (restic format; `restic` can read it with the same password).
    Init {
        #[command(flatten)]
        repo: RepoArgs,
    },
    /// Snapshot the store (a consistent copy, taken while others write), its key file and the state directory into the repository.
    Create {
        #[command(flatten)]
        repo: RepoArgs,
        /// Database file.
        #[arg(long, default_value = "ward.db")]
        db: PathBuf,
        /// State directory (certificates and key of `ward serve`); left out when absent.
        #[arg(long, default_value = "ward-state", value_name = "DIR")]
        state_dir: PathBuf,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// List the repository's snapshots and the restore drills recorded in the store.
    List {
        #[command(flatten)]
        repo: RepoArgs,
        /// Database file (for the recorded drills).
        #[arg(long, default_value = "ward.db")]
        db: PathBuf,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Check the repository: its structure and every pack's data. Exits non-zero on damage.
    Check {
        #[command(flatten)]
        repo: RepoArgs,
        /// Check the structure only (do not read the packs).
        #[arg(long)]
        structure_only: bool,
    },
    /// Restore a snapshot's files (ward.db, ward.db.key, state/, manifest.json) into a new directory.
    Restore {
        #[command(flatten)]
        repo: RepoArgs,
        /// Snapshot: `latest` or an id (prefix).
        #[arg(long, default_value = "latest")]
        snapshot: String,
        /// Directory to create (it must not exist, or be empty).
        #[arg(long, value_name = "DIR")]
        to: PathBuf,
    },
    /// Remove snapshots beyond the retention and prune the data only they used.
    Forget {
        #[command(flatten)]
        repo: RepoArgs,
        /// Keep the newest snapshot of each of the last N days.
        #[arg(long, value_name = "N", default_value_t = 0)]
        keep_daily: u32,
        /// Keep the newest snapshot of each of the last N weeks.
        #[arg(long, value_name = "N", default_value_t = 0)]
        keep_weekly: u32,
    },
    /// Restore drill: restore a snapshot into a scratch directory, open it, check integrity, compare with its manifest, and record the result in the store.
    VerifyRestore {
        #[command(flatten)]
        repo: RepoArgs,
        /// Snapshot: `latest` or an id (prefix).
        #[arg(long, default_value = "latest")]
        snapshot: String,
        /// Database file (where the drill is recorded).
        #[arg(long, default_value = "ward.db")]
        db: PathBuf,
    },
}

/// The repository and where its password comes from.
#[derive(Args)]
pub struct RepoArgs {
    /// Repository: a directory, or s3:http://HOST:PORT/BUCKET (AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY).
    #[arg(long, value_name = "REPO")]
    repo: String,
    /// File holding the repository password (else WARD_BACKUP_PASSWORD).
    #[arg(long, value_name = "FILE")]
    password_file: Option<PathBuf>,
}

impl RepoArgs {
    fn target(&self) -> Result<Target> {
        Ok(Target::new(&self.repo, self.password_file.as_deref())?)
    }
}

fn short(id: &str) -> &str {
    id.get(..8).unwrap_or(id)
}

fn mib(b: u64) -> String {
    format!("{:.1} MiB", b as f64 / 1048576.0)
}

fn when(unix: i64) -> String {
    model::Timestamp(unix.saturating_mul(1_000_000)).iso()
}

/// Runs `ward backup ...`.
pub fn run(cmd: BackupCommand) -> Result<()> {
    match cmd {
        BackupCommand::Init { repo } => {
            let t = repo.target()?;
            use_case::init(&t)?;
            println!("created backup repository {}", t.location.display());
        }
        BackupCommand::Create {
            repo,
            db,
            state_dir,
            json,
        } => {
            let t = repo.target()?;
            let c = use_case::create(&t, &db, &state_dir)?;
            if json {
                println!("{}", serde_json::to_string_pretty(&c)?);
            } else {
                let n = &c.manifest.counts;
                println!(
                    "snapshot {} saved to {}: {} devices, {} alerts, {} audit entries, {} state files{}",
                    short(&c.snapshot),
                    t.location.display(),
                    n.devices,
                    n.alerts,
                    n.audit,
                    c.manifest.state_files,
                    if c.manifest.key_file { ", key file" } else { "" }
                );
                println!(
                    "processed {}, added {} ({} bytes, {} bytes stored) in {:.1} s",
                    mib(c.bytes_processed),
                    mib(c.bytes_added),
                    c.bytes_added,
                    c.bytes_added_packed,
                    c.seconds
                );
            }
        }
        BackupCommand::List { repo, db, json } => {
            let t = repo.target()?;
            let (snaps, drills) = use_case::list(&t, &db)?;
            if json {
                let v = serde_json::json!({ "snapshots": snaps, "drills": drills });
                println!("{}", serde_json::to_string_pretty(&v)?);
                return Ok(());
            }
            if snaps.is_empty() {
                println!("no snapshots in {}", t.location.display());
            }
            for s in &snaps {
                let what = match &s.manifest {
                    Some(m) => format!(
                        "Ward {}, schema {}, {} devices, {} alerts, {} audit entries",
                        clean(&m.ward_version),
                        m.counts.schema_version,
                        m.counts.devices,
                        m.counts.alerts,
                        m.counts.audit
                    ),
                    None => "not a Ward snapshot".into(),
                };
                println!(
                    "{}  {}  {}  {}  {}",
                    short(&s.id),
                    clean(&s.time),
                    clean(&s.host),
                    mib(s.bytes),
                    what
                );
            }
            print_drills(&drills);
        }
        BackupCommand::Check {
            repo,
            structure_only,
        } => {
            let t = repo.target()?;
            let r = use_case::check(&t, structure_only)?;
            for w in &r.warnings {
                println!("warning: {}", clean(w));
            }
            for e in &r.errors {
                println!("damaged: {}", clean(e));
            }
            if !r.errors.is_empty() {
                bail!(
                    "check found {} problem(s) in {}",
                    r.errors.len(),
                    t.location.display()
                );
            }
            println!(
                "no errors in {} ({} snapshots{})",
                t.location.display(),
                r.snapshots,
                if structure_only {
                    ", structure only"
                } else {
                    ", all data read"
                }
            );
        }
        BackupCommand::Restore { repo, snapshot, to } => {
            let t = repo.target()?;
            let r = use_case::restore(&t, &snapshot, &to)?;
            println!(
                "restored snapshot {} ({} files, {}) into {}: ward.db ({} devices, {} alerts, {} audit entries); open it with --db {}",
                short(&r.snapshot),
                r.files,
                mib(r.bytes),
                clean(&r.dir.display().to_string()),
                r.manifest.counts.devices,
                r.manifest.counts.alerts,
                r.manifest.counts.audit,
                clean(&r.dir.join("ward.db").display().to_string())
            );
        }
        BackupCommand::Forget {
            repo,
            keep_daily,
            keep_weekly,
        } => {
            let t = repo.target()?;
            let f = use_case::forget(&t, keep_daily, keep_weekly)?;
            for id in &f.removed {
                println!("removed {}", short(id));
            }
            println!(
                "kept {} snapshot(s), removed {}",
                f.kept.len(),
                f.removed.len()
            );
        }
        BackupCommand::VerifyRestore { repo, snapshot, db } => {
            let t = repo.target()?;
            let d = use_case::verify_restore(&t, &snapshot, &db)?;
            println!(
                "restore drill of snapshot {} {} in {} ms: {}",
                short(&d.snapshot),
                if d.passed { "passed" } else { "FAILED" },
                d.duration_ms,
                clean(&d.detail)
            );
            if !d.passed {
                bail!("restore drill failed (recorded in {})", db.display());
            }
        }
    }
    Ok(())
}

fn print_drills(drills: &[store::backup::Drill]) {
    if drills.is_empty() {
        println!("restore drills: none recorded (run `ward backup verify-restore`)");
        return;
    }
    println!("restore drills (newest first):");
    for d in drills {
        println!(
            "  {}  {}  snapshot {}  {} ms  {}",
            when(d.at),
            if d.passed { "passed" } else { "FAILED" },
            short(&d.snapshot),
            d.duration_ms,
            clean(&d.detail)
        );
    }
}
