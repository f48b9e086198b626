//! The `ward` binary: command-line entry points over the sensor, identification
//! and store crates. The only crate that knows argv, terminals and `anyhow`.

mod advisories;
mod analyze;
mod declared;
mod feeds;
mod render;

use anyhow::Result;
use clap::{Parser, Subcommand};
use std::path::PathBuf;

// A fast allocator: analyzers allocate per record and per flow, never per packet,
// but flow churn on large captures makes the allocator visible in profiles.
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
    /// Capture from a network interface (needs the `live` feature and capture rights).
    #[cfg(feature = "live")]
    Capture(analyze::CaptureArgs),
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
}

fn main() {
    let cli = Cli::parse();
    let result: Result<()> = match cli.command {
        Command::Analyze(args) => analyze::run(args),
        Command::Inventory { action: Some(InventoryCommand::Import(args)), .. } => declared::import(args),
        Command::Inventory { db, json, action: None } => analyze::show_inventory(&db, json),
        Command::Feeds(FeedsCommand::Import(args)) => feeds::import(args),
        Command::Advisories { db, json } => advisories::run(&db, json),
        #[cfg(feature = "live")]
        Command::Capture(args) => analyze::capture(args),
    };
    if let Err(e) = result {
        // One line, no backtrace: the user gets what went wrong and where.
        eprintln!("ward: error: {e:#}");
        std::process::exit(2);
    }
}
