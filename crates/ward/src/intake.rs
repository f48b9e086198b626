//! `ward intake`: new devices start unapproved; an operator approves them
//! and records owner, location and group (used for group baselines and
//! policies). Approved devices raise no new-device alert.

use anyhow::Result;
use clap::Subcommand;
use std::path::{Path, PathBuf};

/// `ward intake ...`
#[derive(Subcommand)]
pub enum IntakeCommand {
    /// List devices with their intake state.
    List {
        /// Database file.
        #[arg(long, default_value = "ward.db")]
        db: PathBuf,
        /// Only devices waiting for approval.
        #[arg(long)]
        unapproved: bool,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Approve a device (key such as mac:00:11:.. or ip:10.1.2.3, or an IP address).
    Approve {
        /// Device key or address.
        device: String,
        /// Database file.
        #[arg(long, default_value = "ward.db")]
        db: PathBuf,
        /// Responsible person or team.
        #[arg(long)]
        owner: Option<String>,
        /// Where it is (ward, room).
        #[arg(long)]
        location: Option<String>,
        /// Its group (model or category) for baselines and policies.
        #[arg(long)]
        group: Option<String>,
        /// The MUD URL that applies to it.
        #[arg(long)]
        mud_url: Option<String>,
    },
}

fn open(db: &Path) -> Result<store::Store> {
    Ok(app::analyze::open_existing(
        db,
        "ward analyze` or `ward monitor",
    )?)
}

/// Runs `ward intake`.
pub fn run(cmd: IntakeCommand) -> Result<()> {
    match cmd {
        IntakeCommand::List {
            db,
            unapproved,
            json,
        } => {
            let store = open(&db)?;
            let rows: Vec<_> = store
                .intake()?
                .into_iter()
                .filter(|i| !unapproved || !i.approved)
                .collect();
            let mut o = crate::render::stdout();
            if json {
                printer::json(&mut o, &rows)?;
            } else {
                printer::intake::table(&mut o, &rows)?;
            }
        }
        IntakeCommand::Approve {
            device,
            db,
            owner,
            location,
            group,
            mud_url,
        } => {
            let mut store = open(&db)?;
            let approval = store::Approval {
                owner,
                location,
                group,
                mud_url,
            };
            let key = app::intake::approve(&mut store, &device, &approval)?;
            println!("approved {key}");
        }
    }
    Ok(())
}
