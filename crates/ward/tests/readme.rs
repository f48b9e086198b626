//! The user guide runs (issue 15): every command in the ```` ```sh ```` blocks
//! of `README.md` and `docs/*.md` is extracted and run with the built `ward`
//! binary against the bundled sample, in a scratch directory holding a copy
//! of `samples/`, each file's commands in order against one store. A command
//! must exit 0 (and, where listed in [`EXPECT`], print what it should).
//!
//! Commands that cannot run here are not skipped silently: [`how`] maps
//! each to a way to run it or to a listed exception with its reason, and
//! every exception is printed on every run. The README may have only one
//! exception, `scripts/test`. A command the test does not know how to run
//! (another program, shell syntax such as pipes, globs or variables, a
//! synopsis with `[placeholders]`) fails the test: synopses belong in
//! ```` ```text ```` blocks, which are not run. The sample is in the
//! repository, so nothing here skips.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// A command from a Markdown file: where it is and its words.
#[derive(Debug)]
struct Cmd {
    file: String,
    line: usize,
    text: String,
    words: Result<Vec<String>, String>,
}

impl Cmd {
    fn at(&self) -> String {
        format!("{}:{}: {}", self.file, self.line, self.text)
    }
}

/// The commands of the ```` ```sh ```` blocks of `md`: one per line, a
/// trailing `\` joining the next line, blank lines and comments dropped.
fn sh_commands(file: &str, md: &str) -> Vec<Cmd> {
    let mut out = Vec::new();
    let mut in_sh = false;
    let mut in_other = false;
    let mut pending: Option<(usize, String)> = None;
    for (i, line) in md.lines().enumerate() {
        let fence = line.trim_start();
        if fence.starts_with("```") {
            if in_sh || in_other {
                assert!(
                    pending.is_none(),
                    "{file}:{}: `\\` before the block ends",
                    i + 1
                );
                in_sh = false;
                in_other = false;
            } else if fence.trim_start_matches('`').trim() == "sh" {
                in_sh = true;
            } else {
                in_other = true;
            }
            continue;
        }
        if !in_sh {
            continue;
        }
        let (start, mut text) = pending.take().unwrap_or((i + 1, String::new()));
        text.push_str(line.trim());
        if let Some(joined) = text.strip_suffix('\\') {
            pending = Some((start, format!("{} ", joined.trim_end())));
            continue;
        }
        let text = text.trim().to_string();
        if text.is_empty() || text.starts_with('#') {
            continue;
        }
        out.push(Cmd {
            file: file.to_string(),
            line: start,
            words: split_words(&text),
            text,
        });
    }
    assert!(!in_sh, "{file}: a ```sh block is not closed");
    out
}

/// Shell words without a shell: quotes and backslashes as `sh` reads them,
/// `#` starts a comment; anything a shell would expand or redirect is
/// refused, since the test runs the program directly.
fn split_words(s: &str) -> Result<Vec<String>, String> {
    let mut words = Vec::new();
    let mut word: Option<String> = None;
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        match c {
            ' ' | '\t' => {
                if let Some(w) = word.take() {
                    words.push(w);
                }
            }
            '#' if word.is_none() => break,
            '\'' => {
                let w = word.get_or_insert_with(String::new);
                loop {
                    match chars.next() {
                        Some('\'') => break,
                        Some(c) => w.push(c),
                        None => return Err("unclosed '".into()),
                    }
                }
            }
            '"' => {
                let w = word.get_or_insert_with(String::new);
                loop {
                    match chars.next() {
                        Some('"') => break,
                        Some('$' | '`') => return Err("expansion inside \"...\"".into()),
                        Some('\\') => w.push(chars.next().ok_or("trailing \\")?),
                        Some(c) => w.push(c),
                        None => return Err("unclosed \"".into()),
                    }
                }
            }
            '\\' => word
                .get_or_insert_with(String::new)
                .push(chars.next().ok_or("trailing \\")?),
            '|' | '&' | ';' | '<' | '>' | '$' | '`' | '*' | '?' | '[' | ']' | '(' | ')' | '{'
            | '}' => {
                return Err(format!(
                    "shell syntax `{c}` (a synopsis belongs in a ```text block)"
                ))
            }
            '~' if word.is_none() => return Err("shell syntax `~`".into()),
            c => word.get_or_insert_with(String::new).push(c),
        }
    }
    words.extend(word);
    Ok(words)
}

/// How the test runs a command.
#[derive(Debug, PartialEq)]
enum How {
    /// `ward ARGS` with the built binary, which must exit 0.
    Ward(Vec<String>),
    /// `ward serve ARGS`: started on a free loopback port, probed over
    /// HTTPS, stopped.
    Serve(Vec<String>),
    /// Not run, for the reason given (printed on every run).
    NotRun(&'static str),
}

const RECURSES: &str =
    "the project's test command, which runs this test (it would recurse); CI runs it";

/// `ward` subcommands and options that need what a test run does not have.
const WARD_NOT_RUN: &[(&[&str], &str)] = &[
    (
        &["sensor", "status"],
        "reads a running sensor's buffer directory (crates/ward/tests/multisite.rs runs it)",
    ),
    (
        &["sensor"],
        "needs a NATS JetStream server (crates/ward/tests/multisite.rs runs it)",
    ),
    (
        &["server"],
        "needs PostgreSQL and NATS (crates/ward/tests/multisite.rs runs it)",
    ),
    (
        &["feeds", "sync"],
        "fetches from the internet (crates/ward/tests/feeds_sync.rs runs it against a local server)",
    ),
    (
        &["mud", "fetch"],
        "fetches from the manufacturer's server (crates/ward/tests/mud_fetch.rs runs it against a local one)",
    ),
    (
        &["capture"],
        "live capture: the `live` feature, libpcap and capture rights (crates/ward/tests/monitor_live.rs)",
    ),
];

/// Other programs the docs name, never run by this test.
const OTHER_NOT_RUN: &[(&[&str], &str)] = &[
    (&["scripts/test"], RECURSES),
    (
        &["scripts/bench"],
        "a benchmark: minutes of work on ../shared/testdata",
    ),
    (&["scripts/bench-web"], "a benchmark: needs wrk, minutes"),
    (
        &["scripts/bench-ingest"],
        "a benchmark: needs PostgreSQL and nats-server, minutes",
    ),
    (
        &["scripts/bench-pg-runs"],
        "a benchmark: needs PostgreSQL, minutes (fills a store of 500,000 devices)",
    ),
    (
        &["scripts/bench-monitor"],
        "a benchmark: minutes on ../shared/testdata",
    ),
    (
        &["scripts/bench-verify"],
        "a benchmark check: minutes on ../shared/testdata",
    ),
    (
        &["cargo", "bench"],
        "a benchmark: minutes, on ../shared/testdata",
    ),
    (
        &["cargo", "run", "--release", "-p", "sensor"],
        "a benchmark tool (pipeline throughput and floor) on a large capture",
    ),
    (
        &["scripts/fuzz"],
        "fuzzing: minutes per target, needs cargo-fuzz and a nightly-enabled toolchain",
    ),
    (
        &["cargo", "fuzz"],
        "fuzzing: needs cargo-fuzz, runs for minutes",
    ),
    (&["cargo", "install"], "installs a tool from crates.io"),
];

fn starts_with(words: &[String], prefix: &[&str]) -> bool {
    words.len() >= prefix.len() && words.iter().zip(prefix).all(|(w, p)| w == p)
}

/// Maps a command's words (after `NAME=VALUE` assignments) to how it runs,
/// or says why the test cannot run it.
fn how(words: &[String]) -> Result<How, String> {
    let words: Vec<String> = words
        .iter()
        .skip_while(|w| w.contains('=') && !w.starts_with('-'))
        .cloned()
        .collect();
    // `cargo run [--release] -p ward -- ARGS` is `ward ARGS` (the test's
    // build: a second, release build would take minutes).
    let ward_args = if let Some(i) = words.iter().position(|w| w == "--") {
        let before: Vec<&str> = words[..i].iter().map(String::as_str).collect();
        matches!(
            before.as_slice(),
            ["cargo", "run", "--release", "-p", "ward"] | ["cargo", "run", "-p", "ward"]
        )
        .then(|| words[i + 1..].to_vec())
    } else {
        None
    };
    let ward_args = ward_args.or_else(|| {
        (words.first().map(String::as_str) == Some("ward")).then(|| words[1..].to_vec())
    });
    if let Some(args) = ward_args {
        for (prefix, why) in WARD_NOT_RUN {
            if starts_with(&args, prefix) {
                return Ok(How::NotRun(why));
            }
        }
        if args.iter().any(|a| a == "--interface" || a == "-i") {
            return Ok(How::NotRun(
                "live capture: the `live` feature, libpcap and capture rights (crates/ward/tests/monitor_live.rs)",
            ));
        }
        if args
            .iter()
            .any(|a| a.starts_with("/var/") || a.starts_with("/etc/"))
        {
            return Ok(How::NotRun(
                "a deployment's paths (/var/lib/ward, /etc/ward) that a test run does not have",
            ));
        }
        if args.iter().any(|a| a.starts_with("postgres://")) {
            return Ok(How::NotRun(
                "needs PostgreSQL (crates/ward/tests/multisite.rs runs the PostgreSQL store)",
            ));
        }
        return Ok(if args.first().map(String::as_str) == Some("serve") {
            How::Serve(args[1..].to_vec())
        } else {
            How::Ward(args)
        });
    }
    for (prefix, why) in OTHER_NOT_RUN {
        if starts_with(&words, prefix) {
            return Ok(How::NotRun(why));
        }
    }
    Err("the test does not know how to run this command: run it with `ward`, or list it in OTHER_NOT_RUN with a reason".into())
}

/// What some commands must print (stdout), by their `ward` subcommand: the
/// first entry whose words start the arguments applies. A command with
/// `--json` must print one JSON document instead.
const EXPECT: &[(&[&str], &str)] = &[
    (&["analyze"], "infusion pump"),
    (&["inventory", "import"], "declared devices: "),
    (&["inventory"], "infusion pump"),
    (&["feeds", "import"], "stored: "),
    (&["advisories"], "CVE-0000-0001"),
    (&["risk"], "/100"),
    (&["coverage"], "Data protection as of"),
    (&["report"], "report.html"),
    (&["user", "add"], "otpauth://totp/Ward:"),
    (&["user", "token"], "ward_"),
    (&["baseline", "learn"], "flows learnt"),
    (&["monitor"], "cleartext_credential"),
    (&["alerts", "ack"], "acknowledged"),
    (&["alerts", "close"], "closed"),
    (&["alerts", "reopen"], "open"),
    (&["alerts"], "cleartext"),
    (&["intake", "list"], "unapproved"),
    (&["intake", "approve"], "approved"),
    (&["policy", "generate"], "policy.json"),
    (&["policy", "simulate"], "flows would be blocked"),
    (&["mud", "import"], "imported"),
    (&["assess"], "verdict: "),
    (&["backup", "init"], "created backup repository"),
    (&["backup", "create"], "snapshot "),
    (&["backup", "list"], "restore drills"),
    (&["backup", "check"], "no errors"),
    (&["backup", "forget"], "kept "),
    (&["backup", "verify-restore"], " passed in "),
    (&["backup", "restore"], "restored snapshot "),
];

/// What is wrong with a command's standard output, if anything.
fn check_output(args: &[String], stdout: &str) -> Option<String> {
    if args.iter().any(|a| a == "--json") {
        return serde_json::from_str::<serde_json::Value>(stdout)
            .err()
            .map(|e| format!("--json output is not JSON: {e}"));
    }
    let (_, want) = EXPECT
        .iter()
        .find(|(prefix, _)| starts_with(args, prefix))?;
    (!stdout.contains(want)).then(|| {
        let head: String = stdout.chars().take(1500).collect();
        format!("stdout lacks {want:?}:\n{head}")
    })
}

fn ward() -> Command {
    Command::new(env!("CARGO_BIN_EXE_ward"))
}

fn scratch(tag: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("ward-readme-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("samples")).unwrap();
    for e in std::fs::read_dir(root().join("samples")).unwrap() {
        let e = e.unwrap();
        std::fs::copy(e.path(), dir.join("samples").join(e.file_name())).unwrap();
    }
    dir
}

fn env_of(words: &[String]) -> Vec<(String, String)> {
    words
        .iter()
        .take_while(|w| w.contains('=') && !w.starts_with('-'))
        .map(|w| {
            let (k, v) = w.split_once('=').unwrap();
            (k.to_string(), v.to_string())
        })
        .collect()
}

/// Runs `ward serve ARGS` on a free loopback port, checks the login page
/// and the OpenAPI document answer over HTTPS (the certificate it generated
/// verified), then stops it.
fn serve(dir: &Path, args: &[String]) -> Result<String, String> {
    let mut args = args.to_vec();
    match args.iter().position(|a| a == "--listen") {
        Some(i) if i + 1 < args.len() => args[i + 1] = "127.0.0.1:0".into(),
        _ => args.extend(["--listen".into(), "127.0.0.1:0".into()]),
    }
    let state = match args.iter().position(|a| a == "--state-dir") {
        Some(i) => dir.join(&args[i + 1]),
        None => dir.join("ward-state"),
    };
    let mut child = ward()
        .arg("serve")
        .args(&args)
        .current_dir(dir)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| e.to_string())?;
    let result = (|| {
        let mut out = BufReader::new(child.stdout.take().unwrap());
        let mut line = String::new();
        out.read_line(&mut line).map_err(|e| e.to_string())?;
        let base = line
            .trim()
            .strip_prefix("ward: serving ")
            .ok_or_else(|| format!("unexpected first line {line:?}"))?
            .trim_end_matches('/')
            .to_string();
        std::thread::spawn(move || for _ in out.lines() {});
        let pem = std::fs::read(state.join("cert.pem")).map_err(|e| format!("cert.pem: {e}"))?;
        let cert = ureq::tls::Certificate::from_pem(&pem)
            .map_err(|e| e.to_string())?
            .to_owned();
        let agent = ureq::Agent::new_with_config(
            ureq::Agent::config_builder()
                .http_status_as_error(false)
                .max_redirects(0)
                .timeout_global(Some(std::time::Duration::from_secs(60)))
                .tls_config(
                    ureq::tls::TlsConfig::builder()
                        .root_certs(ureq::tls::RootCerts::Specific(Arc::new(vec![cert])))
                        .build(),
                )
                .build(),
        );
        let login = agent
            .get(format!("{base}/login"))
            .call()
            .map_err(|e| e.to_string())?;
        if login.status() != 200 {
            return Err(format!("GET /login: {}", login.status()));
        }
        let mut api = agent
            .get(format!("{base}/api/v1/openapi.json"))
            .call()
            .map_err(|e| e.to_string())?;
        let doc = api.body_mut().read_to_string().map_err(|e| e.to_string())?;
        if !doc.contains("\"openapi\"") {
            return Err(format!("GET /api/v1/openapi.json: {}", api.status()));
        }
        Ok(format!("serving {base}: /login 200, /api/v1/openapi.json"))
    })();
    let _ = child.kill();
    let _ = child.wait();
    result.map_err(|e| {
        let mut err = String::new();
        if let Some(mut s) = child.stderr.take() {
            let _ = std::io::Read::read_to_string(&mut s, &mut err);
        }
        format!("{e}\n{err}")
    })
}

/// Runs the commands of `files` (each in its own scratch directory) and
/// returns the failures; prints every command with what happened to it.
fn run_files(tag: &str, files: &[PathBuf], readme: bool) -> Vec<String> {
    let mut failures = Vec::new();
    for path in files {
        let rel = path
            .strip_prefix(root())
            .unwrap_or(path)
            .to_string_lossy()
            .into_owned();
        let md = std::fs::read_to_string(path).unwrap();
        let cmds = sh_commands(&rel, &md);
        let dir = scratch(&format!("{tag}-{}", rel.replace(['/', '.'], "-")));
        for cmd in &cmds {
            let words = match &cmd.words {
                Ok(w) => w,
                Err(e) => {
                    failures.push(format!("{}\n  cannot run: {e}", cmd.at()));
                    continue;
                }
            };
            let how = match how(words) {
                Ok(h) => h,
                Err(e) => {
                    failures.push(format!("{}\n  {e}", cmd.at()));
                    continue;
                }
            };
            match how {
                How::NotRun(why) => {
                    println!("NOT RUN {}\n  because: {why}", cmd.at());
                    if readme && why != RECURSES {
                        failures.push(format!(
                            "{}\n  the README's commands must all run (its only exception is scripts/test)",
                            cmd.at()
                        ));
                    }
                }
                How::Serve(args) => match serve(&dir, &args) {
                    Ok(what) => println!("ran {}\n  {what}", cmd.at()),
                    Err(e) => failures.push(format!("{}\n  ward serve: {e}", cmd.at())),
                },
                How::Ward(args) => {
                    let out = ward()
                        .args(&args)
                        .envs(env_of(words))
                        .current_dir(&dir)
                        .stdin(Stdio::null())
                        .output()
                        .unwrap();
                    let stdout = String::from_utf8_lossy(&out.stdout);
                    if !out.status.success() {
                        failures.push(format!(
                            "{}\n  exit {:?}\n  stderr: {}",
                            cmd.at(),
                            out.status.code(),
                            String::from_utf8_lossy(&out.stderr).trim()
                        ));
                        continue;
                    }
                    if let Some(wrong) = check_output(&args, &stdout) {
                        failures.push(format!("{}\n  {wrong}", cmd.at()));
                        continue;
                    }
                    println!("ran {}", cmd.at());
                }
            }
        }
        let _ = std::fs::remove_dir_all(&dir);
    }
    failures
}

/// Issue 15: the README is a short user guide — under 1,200 words (as
/// `wc -w` counts them), opening with what Ward does and the dashboard
/// screenshot, and linking every page of `docs/`.
#[test]
fn readme_is_short_starts_with_what_ward_does_and_links_every_docs_page() {
    let readme = std::fs::read_to_string(root().join("README.md")).unwrap();
    let words = readme.split_whitespace().count();
    assert!(words < 1200, "README.md has {words} words (at most 1,199)");
    let intro = &readme[..readme.find("\n## ").expect("a second-level heading")];
    assert!(intro.starts_with("# Ward\n\n"), "{intro}");
    assert!(intro.contains("medical devices"), "{intro}");
    let shot = "](docs/img/dashboard.png)";
    assert!(intro.contains("![") && intro.contains(shot), "{intro}");
    assert!(root().join("docs/img/dashboard.png").is_file());
    for e in std::fs::read_dir(root().join("docs")).unwrap() {
        let name = e.unwrap().file_name().into_string().unwrap();
        if name.ends_with(".md") {
            assert!(
                readme.contains(&format!("](docs/{name})")),
                "README.md does not link docs/{name}"
            );
        }
    }
}

#[test]
fn every_readme_command_runs_against_the_sample() {
    let readme = root().join("README.md");
    let cmds = sh_commands("README.md", &std::fs::read_to_string(&readme).unwrap());
    // The project's rule: exactly two set-up commands, and they come first.
    let texts: Vec<&str> = cmds.iter().map(|c| c.text.as_str()).collect();
    assert_eq!(
        texts[..2],
        [
            "cargo run --release -p ward -- analyze samples/hospital-room.pcap",
            "scripts/test"
        ],
        "the README starts with its two set-up commands"
    );
    assert!(cmds.len() > 10, "the README's tour shows the main commands");
    let failures = run_files("readme", &[readme], true);
    assert!(
        failures.is_empty(),
        "README commands failed:\n{}",
        failures.join("\n")
    );
}

#[test]
fn every_docs_command_runs_or_is_a_listed_exception() {
    let mut files: Vec<PathBuf> = std::fs::read_dir(root().join("docs"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "md"))
        .collect();
    files.sort();
    assert!(!files.is_empty());
    let failures = run_files("docs", &files, false);
    assert!(
        failures.is_empty(),
        "docs commands failed:\n{}",
        failures.join("\n")
    );
}

/// The classifier refuses what it cannot run, so a new kind of command in
/// the docs fails the tests above instead of being skipped.
#[test]
fn unknown_commands_and_shell_syntax_are_refused() {
    let w = |s: &str| split_words(s);
    assert!(how(&w("curl https://example.org").unwrap()).is_err());
    assert!(how(&w("cargo run --release -p samplegen -- x").unwrap()).is_err());
    assert!(w("ward analyze CAPTURE.pcap [--db ward.db]").is_err());
    assert!(w("ward alerts --db ward.db | jq .").is_err());
    assert!(w("ward analyze $CAPTURE").is_err());
    assert!(w("ward analyze captures/*.pcap").is_err());
    assert_eq!(
        how(&w("cargo run --release -p ward -- analyze samples/hospital-room.pcap").unwrap()),
        Ok(How::Ward(vec![
            "analyze".into(),
            "samples/hospital-room.pcap".into()
        ]))
    );
    assert_eq!(
        w(r#"ward intake approve K --group "infusion pump" # a comment"#).unwrap(),
        ["ward", "intake", "approve", "K", "--group", "infusion pump"]
    );
    assert_eq!(how(&w("scripts/test").unwrap()), Ok(How::NotRun(RECURSES)));
    assert!(matches!(
        how(&w("ward serve --db ward.db").unwrap()),
        Ok(How::Serve(_))
    ));
}
