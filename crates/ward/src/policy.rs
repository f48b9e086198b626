//! `ward policy generate|simulate` and `ward mud import`: allow-lists from a
//! baseline as nftables rulesets and MUD files, a capture replayed against a
//! proposed policy, and vendor MUD files imported for violation alerts.

use anyhow::{bail, Context, Result};
use clap::{Args, Subcommand, ValueEnum};
use policy::Policy;
use std::io::Write;
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

/// Output formats of `ward policy generate`.
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
    let p = Policy::from_baseline(&base);
    let all = args.format.is_empty();
    let want = |f: Format| all || args.format.contains(&f);
    std::fs::create_dir_all(&args.out)
        .with_context(|| format!("cannot create {}", args.out.display()))?;
    let write = |name: &str, bytes: &[u8]| -> Result<()> {
        let path = args.out.join(name);
        std::fs::write(&path, bytes).with_context(|| format!("cannot write {}", path.display()))?;
        println!("wrote {}", path.display());
        Ok(())
    };
    if want(Format::Policy) {
        write("policy.json", &serde_json::to_vec_pretty(&p)?)?;
    }
    if want(Format::Nft) {
        write("ward.nft", policy::nft::text(&p).as_bytes())?;
    }
    if want(Format::NftJson) {
        write(
            "ward.nft.json",
            &serde_json::to_vec_pretty(&policy::nft::json(&p))?,
        )?;
    }
    if want(Format::Mud) {
        // Per device model as the inventory identifies it; the grouped devices that state no model get their group's file.
        let inventory = match &store {
            Some(s) => s.devices_with_facts()?,
            None if crate::location::exists(&args.db) => {
                crate::location::open(&args.db)?.devices_with_facts()?
            }
            None => Vec::new(),
        };
        std::fs::create_dir_all(args.out.join("mud"))?;
        let files = policy::mud::plan(&base, &inventory, &args.mud_base_url);
        for f in &files {
            write(
                &format!("mud/{}", f.file_name),
                &serde_json::to_vec_pretty(&f.doc)?,
            )?;
            let what = match &f.subject {
                policy::mud::Subject::Model {
                    manufacturer,
                    model,
                } => format!(
                    "model {:?} of {:?}",
                    model,
                    manufacturer.as_deref().unwrap_or("unknown manufacturer")
                ),
                policy::mud::Subject::Group(g) => format!("group {g:?}"),
            };
            let (n, r) = (f.devices.len(), f.policy.allow.len());
            println!(
                "  {what} ({}): {n} device{}, {r} rule{}",
                f.identified_by,
                if n == 1 { "" } else { "s" },
                if r == 1 { "" } else { "s" }
            );
        }
        let models = files
            .iter()
            .filter(|f| matches!(f.subject, policy::mud::Subject::Model { .. }))
            .count();
        println!(
            "{} MUD files: {models} per device model, {} per group (devices that state no model)",
            files.len(),
            files.len() - models
        );
    }
    println!(
        "{} groups, {} rules",
        p.groups.len(),
        p.groups.values().map(|g| g.allow.len()).sum::<usize>()
    );
    Ok(())
}

/// Runs `ward policy simulate`.
pub fn simulate(args: SimulateArgs) -> Result<()> {
    let p = app::policy::read_policy(&args.policy)?;
    let sim = app::policy::simulate(&p, &args.files, args.workers)?;
    let (blocked, flows, report) = (sim.blocked, sim.flows, sim.report);
    let mut o = crate::render::stdout();
    if args.json {
        serde_json::to_writer_pretty(
            &mut o,
            &serde_json::json!({"flows": flows, "blocked": blocked}),
        )?;
        writeln!(o)?;
    } else {
        writeln!(
            o,
            "{:<27} {:<4} {:<42} {:<42} {:<8} REASON",
            "START", "L4", "CLIENT", "SERVER", "SERVICE"
        )?;
        for b in &blocked {
            writeln!(
                o,
                "{:<27} {:<4} {:<42} {:<42} {:<8} {}",
                b.start, b.transport, b.client, b.server, b.service, b.reason
            )?;
        }
        writeln!(
            o,
            "{} of {flows} flows would be blocked ({} packets replayed)",
            blocked.len(),
            report.packets
        )?;
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
    for (m, _) in &parsed {
        println!("imported {} ({} ACEs)", m.url, m.aces.len());
    }
    if let (Some(key), Some((m, _))) = (key, parsed.first()) {
        println!("assigned {} to {key}", m.url);
    }
    Ok(())
}
