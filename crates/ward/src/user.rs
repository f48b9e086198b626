//! `ward user`: web accounts from the command line (`add` prints the TOTP
//! provisioning URI; `token` issues an API token; `list`).

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
    /// Database file.
    #[arg(long, default_value = "ward.db")]
    db: PathBuf,
}

/// Runs `ward user ...`.
pub fn run(cmd: UserCommand) -> Result<()> {
    match cmd {
        UserCommand::Add(a) => add(a),
        UserCommand::Token(t) => token(t),
        UserCommand::List { db } => {
            let store = crate::location::open(&db)?;
            for u in store.users()? {
                println!("{}\t{}{}", u.name, u.role, if u.disabled { "\tdisabled" } else { "" });
            }
            Ok(())
        }
    }
}

fn add(a: AddArgs) -> Result<()> {
    let role = web::Role::parse(&a.role).context("unknown role")?;
    let (password, generated) = if a.password_stdin {
        let mut line = String::new();
        std::io::stdin().lock().read_line(&mut line).context("cannot read the password from stdin")?;
        (line.trim_end_matches(['\r', '\n']).to_string(), false)
    } else {
        (web::auth::random_token()?[..24].to_string(), true)
    };
    let store = crate::location::open(&a.db)?;
    let Some(acc) = web::auth::create_account(&store, &a.name, role, &password, false)? else {
        bail!("user {} exists already", a.name);
    };
    store.audit(web::auth::now(), "cli", "user_created", &format!("{} role {}", a.name, role.as_str()), "local")?;
    println!("created {} ({})", a.name, role.as_str());
    if generated {
        println!("password: {password}");
    }
    println!("totp secret: {}", acc.totp_secret);
    println!("totp uri: {}", acc.provisioning_uri);
    Ok(())
}

fn token(t: TokenArgs) -> Result<()> {
    let store = crate::location::open(&t.db)?;
    let Some(user) = store.user_by_name(&t.name)? else { bail!("no user {}", t.name) };
    let token = web::auth::issue_token(&store, user.id, &t.label)?;
    store.audit(web::auth::now(), "cli", "token_created", &format!("{} label {}", t.name, t.label), "local")?;
    println!("{token}");
    Ok(())
}
