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
    /// Back Ward's own state up (as `ward backup create`) when the server starts and then every
    /// DURATION (e.g. 24h, 90m); the status is on the overview and at /api/v1/backup.
    #[arg(long, value_name = "DURATION", requires = "backup_repo")]
    backup_every: Option<String>,
    /// The repository of --backup-every: a directory or s3:http(s)://HOST[:PORT]/BUCKET[/PREFIX]
    /// (S3 credentials from AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY).
    #[arg(long, value_name = "REPO", requires = "backup_every")]
    backup_repo: Option<String>,
    /// File holding that repository's password (else WARD_BACKUP_PASSWORD; never on the command line).
    #[arg(long, value_name = "FILE", requires = "backup_every")]
    backup_password_file: Option<PathBuf>,
}

/// Starts the scheduled backups of `--backup-every`, after checking the
/// options (a bad duration, a missing password or a PostgreSQL store stop
/// `ward serve` before it listens): one at once, then one every interval,
/// each logged in one line and recorded in the store.
fn schedule_backups(args: &ServeArgs) -> Result<()> {
    let (Some(every), Some(repo)) = (&args.backup_every, &args.backup_repo) else {
        return Ok(());
    };
    let secs = app::monitor::parse_duration(every)?;
    if args.db.to_str().is_some_and(store::is_postgres_url) {
        bail!("--backup-every backs up SQLite stores; back a PostgreSQL store up with pg_dump");
    }
    let target = app::backup::Target::new(repo, args.backup_password_file.as_deref())?;
    let (db, state_dir) = (args.db.clone(), args.state_dir.clone());
    std::thread::Builder::new()
        .name("ward-backup".into())
        .spawn(move || loop {
            eprintln!("ward: {}", app::backup::scheduled(&target, &db, &state_dir));
            std::thread::sleep(std::time::Duration::from_secs(secs as u64));
        })?;
    Ok(())
}

/// Runs `ward serve`.
pub fn run(args: ServeArgs) -> Result<()> {
    let store = crate::location::open(&args.db)?;
    schedule_backups(&args)?;
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
