//! `ward serve`: the web dashboard and REST API (crate `web`) over a
//! database, HTTPS by default.

use anyhow::{bail, Context, Result};
use clap::Args;
use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;

/// Arguments of `ward serve`.
#[derive(Args)]
pub struct ServeArgs {
    /// Database: a SQLite file (created if missing) or a postgres:// URL.
    #[arg(long, default_value = "ward.db")]
    pub(crate) db: PathBuf,
    /// Address to listen on (port 0 picks a free port; the chosen address is printed).
    #[arg(long, default_value = "127.0.0.1:8443")]
    listen: SocketAddr,
    /// TLS certificate chain (PEM). Without --cert/--key a self-signed certificate is generated in --state-dir.
    #[arg(long, requires = "key", value_name = "PEM")]
    cert: Option<PathBuf>,
    /// TLS private key (PEM).
    #[arg(long, requires = "cert", value_name = "PEM")]
    key: Option<PathBuf>,
    /// Directory for server state (the generated certificate and key).
    #[arg(long, default_value = "ward-state", value_name = "DIR")]
    state_dir: PathBuf,
    /// Minutes without activity after which a dashboard session ends.
    #[arg(long, default_value_t = 30, value_parser = clap::value_parser!(u32).range(1..=1440))]
    session_idle_minutes: u32,
    /// Hours after sign-in after which a dashboard session ends, used or not.
    #[arg(long, default_value_t = 8, value_parser = clap::value_parser!(u32).range(1..=168))]
    session_hours: u32,
    /// Serve plain HTTP. For automated tests only; refused unless --listen is a loopback address.
    #[arg(long, conflicts_with_all = ["cert", "key"])]
    insecure_http: bool,
}

/// Runs `ward serve`.
pub fn run(args: ServeArgs) -> Result<()> {
    let store = crate::location::open(&args.db)?;
    let users = store.user_count()?;
    let transport = match (args.insecure_http, args.cert, args.key) {
        (true, _, _) => web::Transport::InsecureHttp,
        (false, Some(cert), Some(key)) => web::Transport::Tls { cert, key },
        (false, None, None) => web::Transport::SelfSigned {
            state_dir: args.state_dir,
        },
        _ => bail!("--cert and --key go together"),
    };
    let https = !matches!(transport, web::Transport::InsecureHttp);
    // A second connection scores the inventory, so a rebuild after
    // `ward analyze` never holds up sign-ins and session checks.
    let reader = crate::location::open(&args.db)?;
    let sessions = web::SessionPolicy {
        idle_secs: i64::from(args.session_idle_minutes) * 60,
        absolute_secs: i64::from(args.session_hours) * 3600,
    };
    let state = web::AppState::with_options(
        store,
        Some(reader),
        web::Inventory::Scored,
        https,
        &crate::location::label(&args.db),
        sessions,
    );
    let config = web::Config {
        listen: args.listen,
        transport,
        limits: web::conn::ConnLimits::default(),
    };
    let setup_token = state.setup_token().to_string();
    web::serve_blocking(config, state, |b| {
        let mut out = crate::render::stdout();
        let _ = writeln!(out, "ward: serving {}://{}/", b.scheme, b.addr);
        if let Some(c) = &b.cert_path {
            let _ = writeln!(out, "ward: self-signed certificate {}", c.display());
        }
        if users == 0 {
            let _ = writeln!(out, "ward: no account yet: open /setup to create the administrator, or run `ward user add NAME --role admin`");
            // Only someone who sees this console can create the first account.
            let _ = writeln!(out, "ward: setup token {setup_token}");
        }
        let _ = out.flush();
    })
    .context("server failed")?;
    println!("ward: stopped");
    Ok(())
}
