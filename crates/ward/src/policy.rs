//! `ward policy generate|simulate` and `ward mud import`: allow-lists from a
//! baseline as nftables rulesets and MUD files, a capture replayed against a
//! proposed policy, and vendor MUD files imported for violation alerts.

use anyhow::{bail, Result};
use app::policy::PolicyFile;
use clap::{Args, Subcommand, ValueEnum};
use std::path::PathBuf;

/// `ward policy ...`
#[derive(Subcommand)]
pub enum PolicyCommand {
    /// Write allow-lists from a baseline: policy.json, ward.nft, ward.nft.json (per group), mud/*.json (per device model, else per group).
    Generate(GenerateArgs),
    /// Replay captures against a policy and list exactly the flows it would block.
    Simulate(SimulateArgs),
}

/// `ward mud ...`
#[derive(Subcommand)]
pub enum MudCommand {
    /// Import vendor MUD files (RFC 8520); devices announcing their URL (DHCP option 161, LLDP) or assigned one get violation alerts in `ward monitor`.
    Import {
        /// MUD files.
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// Database file.
        #[arg(long, default_value = "ward.db")]
        db: PathBuf,
        /// Assign the (single) imported file to this device (key or IP address).
        #[arg(long)]
        device: Option<String>,
    },
    /// Fetch the MUD files devices announced (DHCP option 161, LLDP) from the manufacturers' servers (https, SSRF-guarded) and store them for violation alerts.
    Fetch(crate::mud_fetch::FetchArgs),
}

/// Output formats of `ward policy generate` (`app::policy::PolicyFile`).
#[derive(Clone, Copy, ValueEnum, PartialEq, Eq)]
pub enum Format {
    /// policy.json (for `simulate` and `monitor --policy`).
    Policy,
    /// ward.nft (for `nft -f`).
    Nft,
    /// ward.nft.json (for `nft -j -f`).
    NftJson,
    /// mud/model-*.json and mud/group-*.json (RFC 8520): one per device model, else per group.
    Mud,
}

impl Format {
    /// The file this format is.
    fn file(self) -> PolicyFile {
        match self {
            Format::Policy => PolicyFile::Policy,
            Format::Nft => PolicyFile::Nft,
            Format::NftJson => PolicyFile::NftJson,
            Format::Mud => PolicyFile::Mud,
        }
    }
}

/// Arguments of `ward policy generate`.
#[derive(Args)]
pub struct GenerateArgs {
    /// Output folder.
    #[arg(long)]
    out: PathBuf,
    /// Database file.
    #[arg(long, default_value = "ward.db")]
    db: PathBuf,
    /// Stored baseline.
    #[arg(long, default_value = "default")]
    baseline: String,
    /// Or a baseline JSON file.
    #[arg(long, value_name = "FILE")]
    baseline_file: Option<PathBuf>,
    /// What to write (default: all).
    #[arg(long, value_enum, value_delimiter = ',')]
    format: Vec<Format>,
    /// Where the MUD files will be published (their mud-url is BASE/FILE).
    #[arg(long, default_value = "https://mud.hospital.invalid/ward")]
    mud_base_url: String,
}

/// Arguments of `ward policy simulate`.
#[derive(Args)]
pub struct SimulateArgs {
    /// The proposed policy (policy.json from `ward policy generate`).
    #[arg(long)]
    policy: PathBuf,
    /// Capture files to replay.
    #[arg(required = true)]
    files: Vec<PathBuf>,
    /// Print JSON.
    #[arg(long)]
    json: bool,
    /// Worker threads (default: all cores).
    #[arg(long)]
    workers: Option<usize>,
}

/// Runs `ward policy generate`.
pub fn generate(args: GenerateArgs) -> Result<()> {
    let store = if args.baseline_file.is_none() {
        if !crate::location::exists(&args.db) {
            bail!(
                "no database at {} (run `ward baseline learn CAPTURE` first)",
                args.db.display()
            );
        }
        Some(crate::location::open(&args.db)?)
    } else {
        None
    };
    let base = match &store {
        Some(s) => app::monitor::load_baseline(s, &args.baseline, None)?,
        None => app::monitor::read_baseline(
            args.baseline_file
                .as_deref()
                .unwrap_or(std::path::Path::new("")),
        )?,
    };
    let want: Vec<PolicyFile> = args.format.iter().map(|f| f.file()).collect();
    // Per device model as the inventory identifies it; the grouped devices that state no model get their group's file.
    let inventory = match &store {
        _ if !(want.is_empty() || want.contains(&PolicyFile::Mud)) => Vec::new(),
        Some(s) => s.devices_with_facts()?,
        None if crate::location::exists(&args.db) => {
            crate::location::open(&args.db)?.devices_with_facts()?
        }
        None => Vec::new(),
    };
    let g = app::policy::generate(&base, &inventory, &args.out, &want, &args.mud_base_url)?;
    printer::policy::generated(&mut crate::render::stdout(), &g)?;
    Ok(())
}

/// Runs `ward policy simulate`.
pub fn simulate(args: SimulateArgs) -> Result<()> {
    let p = app::policy::read_policy(&args.policy)?;
    let sim = app::policy::simulate(&p, &args.files, args.workers)?;
    let mut o = crate::render::stdout();
    if args.json {
        printer::json(
            &mut o,
            &serde_json::json!({"flows": sim.flows, "groups": sim.by_group(), "blocked": sim.blocked}),
        )?;
    } else {
        printer::policy::simulation(&mut o, &sim)?;
    }
    Ok(())
}

/// Runs `ward mud import`.
pub fn import(files: Vec<PathBuf>, db: PathBuf, device: Option<String>) -> Result<()> {
    if device.is_some() && files.len() != 1 {
        bail!("--device assigns one MUD file: give exactly one");
    }
    // Parse everything before touching the database.
    let parsed = app::policy::read_mud_files(&files)?;
    let mut store = crate::location::open(&db)?;
    let key = app::policy::import_mud(&mut store, &parsed, device.as_deref())?;
    printer::policy::mud_imported(&mut crate::render::stdout(), &parsed, key.as_deref())?;
    Ok(())
}
