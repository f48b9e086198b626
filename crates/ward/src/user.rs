//! `ward user`: web accounts from the command line (`add` prints the TOTP
//! provisioning URI and recovery codes; `token` issues an API token,
//! optionally expiring; `reset` sets a one-time password; `list`).

use anyhow::{bail, Context, Result};
use clap::{Args, Subcommand};
use std::io::BufRead;
use std::path::PathBuf;

/// `ward user` subcommands.
#[derive(Subcommand)]
pub enum UserCommand {
    /// Create an account. Prints its TOTP provisioning URI (and the password, when generated).
    Add(AddArgs),
    /// Issue an API token for an account (printed once; only its hash is stored).
    Token(TokenArgs),
    /// Reset an account's password to a printed one-time password that must be changed at the next sign-in (ends its sessions).
    Reset {
        /// User name.
        name: String,
        /// Database file.
        #[arg(long, default_value = "ward.db")]
        db: PathBuf,
    },
    /// List accounts.
    List {
        /// Database file.
        #[arg(long, default_value = "ward.db")]
        db: PathBuf,
    },
}

/// Arguments of `ward user add`.
#[derive(Args)]
pub struct AddArgs {
    /// User name.
    name: String,
    /// Role: admin, analyst or viewer.
    #[arg(long, value_parser = ["admin", "analyst", "viewer"])]
    role: String,
    /// Read the password from the first line of standard input (otherwise a random one is generated and printed).
    #[arg(long)]
    password_stdin: bool,
    /// Database file.
    #[arg(long, default_value = "ward.db")]
    db: PathBuf,
}

/// Arguments of `ward user token`.
#[derive(Args)]
pub struct TokenArgs {
    /// User name.
    name: String,
    /// Label shown in the token list.
    #[arg(long, default_value = "cli")]
    label: String,
    /// Days until the token stops working (default: never).
    #[arg(long, value_name = "DAYS", value_parser = clap::value_parser!(u32).range(1..=3650))]
    expires: Option<u32>,
    /// Database file.
    #[arg(long, default_value = "ward.db")]
    db: PathBuf,
}

/// Runs `ward user ...`.
pub fn run(cmd: UserCommand) -> Result<()> {
    match cmd {
        UserCommand::Add(a) => add(a),
        UserCommand::Token(t) => token(t),
        UserCommand::Reset { name, db } => {
            let store = store::Store::open(&db)?;
            let Some(user) = store.user_by_name(&name)? else {
                bail!("no user {name}")
            };
            let otp = web::auth::one_time_password()?;
            store.set_password(user.id, &web::auth::hash_password(&otp)?, true, None)?;
            store.audit(
                web::auth::now(),
                "cli",
                "password_reset",
                &format!("{name} (must change it at the next sign-in)"),
                "local",
            )?;
            println!("one-time password for {name}: {otp}");
            Ok(())
        }
        UserCommand::List { db } => {
            let store = crate::location::open(&db)?;
            for u in store.users()? {
                println!(
                    "{}\t{}{}",
                    u.name,
                    u.role,
                    if u.disabled { "\tdisabled" } else { "" }
                );
            }
            Ok(())
        }
    }
}

fn add(a: AddArgs) -> Result<()> {
    let role = web::Role::parse(&a.role).context("unknown role")?;
    let (password, generated) = if a.password_stdin {
        let mut line = String::new();
        std::io::stdin()
            .lock()
            .read_line(&mut line)
            .context("cannot read the password from stdin")?;
        (line.trim_end_matches(['\r', '\n']).to_string(), false)
    } else {
        (web::auth::random_token()?[..24].to_string(), true)
    };
    let store = crate::location::open(&a.db)?;
    let Some(acc) = web::auth::create_account(&store, &a.name, role, &password, false)? else {
        bail!("user {} exists already", a.name);
    };
    store.audit(
        web::auth::now(),
        "cli",
        "user_created",
        &format!("{} role {}", a.name, role.as_str()),
        "local",
    )?;
    println!("created {} ({})", a.name, role.as_str());
    if generated {
        println!("password: {password}");
    }
    println!("totp secret: {}", acc.totp_secret);
    println!("totp uri: {}", acc.provisioning_uri);
    // On a terminal, the URI as a QR code to scan (not in pipes and logs).
    if std::io::IsTerminal::is_terminal(&std::io::stdout()) {
        if let Some(qr) = web::qr::text(&acc.provisioning_uri) {
            println!("scan with the authenticator app:\n{qr}");
        }
    }
    println!("recovery codes (each works once in place of a TOTP code):");
    for c in &acc.recovery_codes {
        println!("  {c}");
    }
    Ok(())
}

fn token(t: TokenArgs) -> Result<()> {
    let store = crate::location::open(&t.db)?;
    let Some(user) = store.user_by_name(&t.name)? else {
        bail!("no user {}", t.name)
    };
    let token = web::auth::issue_token_expiring(&store, user.id, &t.label, t.expires)?;
    let expiry = t
        .expires
        .map(|d| format!(" (expires in {d} days)"))
        .unwrap_or_default();
    store.audit(
        web::auth::now(),
        "cli",
        "token_created",
        &format!("{} label {}{expiry}", t.name, t.label),
        "local",
    )?;
    println!("{token}");
    Ok(())
}
