//! `ward backup` end to end (issue 16): a store built from the sample
//! capture (analyze, baseline, monitor, an account, alerts acknowledged so the
//! audit log has rows) is backed up; the stock `restic` binary lists and
//! restores the snapshot with the same password and the restored store reads
//! the same through Ward; a backup taken while `ward analyze` writes in
//! another process restores to a consistent store; a wrong password, a
//! damaged pack and a missing repository each give one error line, a non-zero
//! exit and change nothing, and `ward backup check` names the damage.
//!
//! The same against a real S3-compatible server started here on 127.0.0.1
//! (`s3s-fs`, crates.io, not a mock). The restic and S3 tests skip with a
//! message when `restic` or `s3s-fs` is not installed, unless
//! `WARD_REQUIRE_SERVICES=1` (CI, which installs both).

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

const PASSWORD: &str = "correct horse battery staple 16";

fn ward_in(dir: &Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_ward"));
    c.current_dir(dir)
        .env_remove("WARD_BACKUP_PASSWORD")
        .env_remove("WARD_KEY_FILE");
    c
}

fn run(dir: &Path, args: &[&str]) -> Output {
    ward_in(dir).args(args).output().unwrap()
}

fn ok(what: &str, out: Output) -> String {
    assert!(
        out.status.success(),
        "{what}: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// The single error line of a failed run (exit 2), asserted to be one line.
fn one_error_line(what: &str, out: &Output) -> String {
    assert!(!out.status.success(), "{what} succeeded");
    assert_eq!(out.status.code(), Some(2), "{what}");
    let err = String::from_utf8_lossy(&out.stderr).to_string();
    assert_eq!(err.lines().count(), 1, "{what}: not one line: {err}");
    assert!(err.starts_with("ward: error: "), "{what}: {err}");
    err
}

fn tempdir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("ward-backup-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn sample() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../samples/hospital-room.pcap")
}

fn restic() -> bool {
    let found = Command::new("restic")
        .arg("version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !found {
        assert!(
            !store::testing::services_required(),
            "restic missing and WARD_REQUIRE_SERVICES=1 (apt-get install restic)"
        );
        eprintln!("skipping: restic not installed (apt-get install restic)");
    }
    found
}

fn s3s_fs() -> bool {
    let found = Command::new("s3s-fs")
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !found {
        assert!(
            !store::testing::services_required(),
            "s3s-fs missing and WARD_REQUIRE_SERVICES=1 (cargo install --locked s3s-fs@0.14.1 --features binary)"
        );
        eprintln!("skipping: s3s-fs not installed (cargo install --locked s3s-fs@0.14.1 --features binary)");
    }
    found
}

/// A child process killed when dropped.
struct Proc(std::process::Child);

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A store with devices, a baseline, a monitor run, an account and alerts
/// whose acknowledgement is in the audit log; a state directory with a
/// certificate-like file. Returns the database path (`dir/ward.db`).
fn build_store(dir: &Path) -> PathBuf {
    let s = sample();
    let s = s.to_str().unwrap();
    ok("analyze", run(dir, &["analyze", s, "--db", "ward.db"]));
    ok(
        "baseline",
        run(dir, &["baseline", "learn", s, "--db", "ward.db"]),
    );
    ok("monitor", run(dir, &["monitor", s, "--db", "ward.db"]));
    let mut child = ward_in(dir)
        .args([
            "user",
            "add",
            "ana",
            "--role",
            "admin",
            "--password-stdin",
            "--db",
            "ward.db",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    {
        use std::io::Write;
        writeln!(child.stdin.take().unwrap(), "a long enough passphrase 42").unwrap();
    }
    assert!(child.wait().unwrap().success(), "ward user add");
    let db = dir.join("ward.db");
    {
        let t = 1_767_600_000_000_000;
        let mut st = store::Store::open(&db).unwrap();
        let alert = |i: u8, kind: monitor::AlertKind| monitor::Alert {
            kind,
            severity: kind.severity(),
            device: format!("ip:10.0.0.{i}"),
            ip: std::net::IpAddr::from([10, 0, 0, i]),
            key: format!("k{i}"),
            summary: format!("test alert {i}"),
            evidence: Default::default(),
            count: 1,
            first_seen: model::Timestamp(t),
            last_seen: model::Timestamp(t),
        };
        st.store_alerts(&[
            alert(1, monitor::AlertKind::PortScan),
            alert(2, monitor::AlertKind::NewPeer),
        ])
        .unwrap();
    }
    ok(
        "ack",
        run(
            dir,
            &[
                "alerts",
                "ack",
                "1",
                "--comment",
                "drill",
                "--db",
                "ward.db",
            ],
        ),
    );
    std::fs::create_dir_all(dir.join("ward-state")).unwrap();
    std::fs::write(
        dir.join("ward-state/cert.pem"),
        "-----BEGIN CERTIFICATE-----\n",
    )
    .unwrap();
    std::fs::write(dir.join("pw"), format!("{PASSWORD}\n")).unwrap();
    db
}

/// What Ward shows of a store: inventory, alerts (all statuses), audit log.
fn views(dir: &Path, db: &Path) -> (String, String, Vec<String>) {
    let d = db.to_str().unwrap();
    let inv = ok("inventory", run(dir, &["inventory", "--json", "--db", d]));
    let alerts = ok(
        "alerts",
        run(
            dir,
            &["alerts", "--format", "jsonl", "--status", "all", "--db", d],
        ),
    );
    let audit = store::Store::open(db)
        .unwrap()
        .audit_log(10_000)
        .unwrap()
        .iter()
        .map(|e| format!("{e:?}"))
        .collect();
    (inv, alerts, audit)
}

fn restic_cmd(repo: &Path, pwfile: &Path) -> Command {
    let mut c = Command::new("restic");
    c.arg("-r")
        .arg(repo)
        .env("RESTIC_PASSWORD_FILE", pwfile)
        .env_remove("RESTIC_PASSWORD")
        .env_remove("RESTIC_REPOSITORY")
        .env("RESTIC_CACHE_DIR", repo.with_extension("restic-cache"));
    c
}

#[test]
fn restic_lists_and_restores_what_ward_backs_up() {
    if !restic() {
        return;
    }
    let dir = tempdir("restic");
    let db = build_store(&dir);
    let before = views(&dir, &db);
    assert!(!before.2.is_empty(), "the audit log has rows");
    let repo = dir.join("repo");
    let r = repo.to_str().unwrap();
    ok(
        "init",
        run(
            &dir,
            &["backup", "init", "--repo", r, "--password-file", "pw"],
        ),
    );
    let created = ok(
        "create",
        run(
            &dir,
            &["backup", "create", "--repo", r, "--password-file", "pw"],
        ),
    );
    println!("{created}");
    assert!(created.starts_with("snapshot "), "{created}");
    assert!(created.contains(", key file"), "{created}");

    // The stock restic lists it...
    let out = restic_cmd(&repo, &dir.join("pw"))
        .args(["snapshots", "--json"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "restic snapshots: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let snaps: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let snaps = snaps.as_array().unwrap();
    assert_eq!(snaps.len(), 1, "{snaps:?}");
    assert_eq!(snaps[0]["paths"], serde_json::json!(["/ward"]));
    assert_eq!(snaps[0]["tags"], serde_json::json!(["ward"]));
    println!("restic snapshots: {}", snaps[0]);
    let id = snaps[0]["short_id"].as_str().unwrap();
    assert!(created.contains(id), "{created} names {id}");

    // ...and restores it with the same password.
    let target = dir.join("by-restic");
    let out = restic_cmd(&repo, &dir.join("pw"))
        .args(["restore", "latest", "--target"])
        .arg(&target)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "restic restore: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let restored = target.join("ward/ward.db");
    // Its bytes before anything opens it (opening switches it to WAL).
    let restic_bytes = std::fs::read(&restored).unwrap();
    assert!(target.join("ward/ward.db.key").is_file());
    assert_eq!(
        std::fs::read(target.join("ward/state/cert.pem")).unwrap(),
        b"-----BEGIN CERTIFICATE-----\n"
    );
    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(target.join("ward/manifest.json")).unwrap()).unwrap();
    assert_eq!(manifest["ward_version"], env!("CARGO_PKG_VERSION"));

    // The restored store reads the same through Ward.
    let after = views(&target.join("ward"), &restored);
    assert_eq!(before.0, after.0, "inventory");
    assert_eq!(before.1, after.1, "alerts");
    assert_eq!(before.2, after.2, "audit log");
    assert_eq!(
        manifest["counts"]["audit"].as_u64().unwrap() as usize,
        before.2.len()
    );
    let st = store::Store::open(&restored).unwrap();
    assert_eq!(st.integrity_check().unwrap(), Ok(()));
    // The account (its TOTP secret is sealed with the restored key) opens.
    assert_eq!(st.user_count().unwrap(), 1);

    // Ward's own restore gives the same files; a drill passes and is listed.
    ok(
        "restore",
        run(
            &dir,
            &[
                "backup",
                "restore",
                "--repo",
                r,
                "--password-file",
                "pw",
                "--to",
                "by-ward",
            ],
        ),
    );
    assert!(
        std::fs::read(dir.join("by-ward/ward.db")).unwrap() == restic_bytes,
        "ward backup restore and restic restore give different ward.db"
    );
    let drill = ok(
        "verify-restore",
        run(
            &dir,
            &[
                "backup",
                "verify-restore",
                "--repo",
                r,
                "--password-file",
                "pw",
            ],
        ),
    );
    println!("{drill}");
    assert!(drill.contains(" passed in "), "{drill}");
    let list = ok(
        "list",
        run(
            &dir,
            &["backup", "list", "--repo", r, "--password-file", "pw"],
        ),
    );
    println!("{list}");
    assert!(list.contains(id), "{list}");
    assert!(list.contains("restore drills (newest first):"), "{list}");
    assert!(list.contains("  passed  snapshot "), "{list}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_backup_during_analyze_restores_a_consistent_store() {
    let dir = tempdir("concurrent");
    let db = build_store(&dir);
    let repo = dir.join("repo");
    let r = repo.to_str().unwrap();
    ok(
        "init",
        run(
            &dir,
            &["backup", "init", "--repo", r, "--password-file", "pw"],
        ),
    );
    // A writer in another process: analyze again and again until stopped.
    let stop = dir.join("stop");
    let writer = {
        let ward = env!("CARGO_BIN_EXE_ward");
        let script = format!(
            "n=0; while [ ! -e '{}' ]; do '{ward}' analyze '{}' --db ward.db >/dev/null || exit 1; n=$((n+1)); done; echo $n",
            stop.display(),
            sample().display()
        );
        Command::new("sh")
            .arg("-c")
            .arg(script)
            .current_dir(&dir)
            .stdout(Stdio::piped())
            .spawn()
            .unwrap()
    };
    let counts = |p: &Path| store::Store::open(p).unwrap().backup_counts().unwrap();
    let runs = |p: &Path| counts(p).runs;
    // Analysing the same capture again changes only the run count: facts
    // merge, the inventory is rebuilt to the same devices. So every committed
    // state has these counts, with runs between the first and the last.
    let committed = counts(&db);
    let start_runs = committed.runs;
    // Wait until the writer has committed at least once, then back up while it goes on.
    let t0 = std::time::Instant::now();
    while runs(&db) == start_runs && t0.elapsed().as_secs() < 60 {
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    // A connection held open meanwhile, as `ward serve` holds one: the
    // writers' commits then stay in the write-ahead log (no checkpoint when a
    // process closes), so a snapshot must read the log, not just the file.
    let _held = store::Store::open(&db).unwrap();
    // Runs committed before each backup started: a snapshot holds at least
    // those (a copy of the live file without its write-ahead log would not).
    let mut floors = Vec::new();
    for _ in 0..3 {
        floors.push(runs(&db));
        ok(
            "create during analyze",
            run(
                &dir,
                &["backup", "create", "--repo", r, "--password-file", "pw"],
            ),
        );
    }
    let snapshots = floors.len();
    std::fs::write(&stop, "").unwrap();
    let out = writer.wait_with_output().unwrap();
    assert!(out.status.success(), "the analyze loop failed");
    let analyses: u64 = String::from_utf8_lossy(&out.stdout).trim().parse().unwrap();
    println!("{analyses} analyze runs committed meanwhile, {snapshots} snapshots");
    assert!(analyses >= 1);
    let end_runs = runs(&db);
    let end = counts(&db);
    assert_eq!(
        (end.devices, end.facts, end.alerts, end.audit),
        (
            committed.devices,
            committed.facts,
            committed.alerts,
            committed.audit
        ),
        "the writer changes only the run count"
    );
    for k in 0..snapshots {
        let which = format!("latest~{k}");
        let to = format!("restored-{k}");
        ok(
            "restore",
            run(
                &dir,
                &[
                    "backup",
                    "restore",
                    "--repo",
                    r,
                    "--password-file",
                    "pw",
                    "--snapshot",
                    &which,
                    "--to",
                    &to,
                ],
            ),
        );
        let restored = dir.join(&to).join("ward.db");
        let manifest: serde_json::Value =
            serde_json::from_slice(&std::fs::read(dir.join(&to).join("manifest.json")).unwrap())
                .unwrap();
        let st = store::Store::open(&restored).unwrap();
        assert_eq!(st.integrity_check().unwrap(), Ok(()), "snapshot {k}");
        let c = st.backup_counts().unwrap();
        // The restored store is the manifest's (counts read from the snapshot
        // file when it was taken) and a committed state: each analyze commits
        // facts, run and rebuilt inventory in one transaction, so a torn copy
        // would show a run without its devices, or facts half merged.
        assert_eq!(
            serde_json::to_value(c).unwrap(),
            manifest["counts"],
            "snapshot {k}"
        );
        assert_eq!(
            (c.devices, c.facts, c.alerts, c.audit),
            (
                committed.devices,
                committed.facts,
                committed.alerts,
                committed.audit
            ),
            "snapshot {k}"
        );
        let floor = floors[snapshots - 1 - k];
        assert!(
            (floor..=end_runs).contains(&c.runs),
            "snapshot {k}: {} runs, not between {floor} (committed when it started) and {end_runs}",
            c.runs
        );
        println!(
            "snapshot {k}: {} runs, {} devices, integrity ok",
            c.runs, c.devices
        );
        let inv = ok(
            "inventory",
            run(
                &dir,
                &["inventory", "--json", "--db", restored.to_str().unwrap()],
            ),
        );
        let devices: serde_json::Value = serde_json::from_str(&inv).unwrap();
        let listed = devices
            .as_array()
            .or_else(|| devices["devices"].as_array())
            .map(|a| a.len() as u64);
        assert_eq!(listed, Some(c.devices), "snapshot {k}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// Every file under `dir` with its bytes (to show nothing changed).
fn tree(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.push((p.clone(), std::fs::read(&p).unwrap()));
            }
        }
    }
    out.sort();
    out
}

#[test]
fn wrong_password_damaged_pack_and_missing_repository_are_one_line_and_change_nothing() {
    let dir = tempdir("errors");
    let db = build_store(&dir);
    let repo = dir.join("repo");
    let r = repo.to_str().unwrap();
    ok(
        "init",
        run(
            &dir,
            &["backup", "init", "--repo", r, "--password-file", "pw"],
        ),
    );
    ok(
        "create",
        run(
            &dir,
            &["backup", "create", "--repo", r, "--password-file", "pw"],
        ),
    );
    std::fs::write(dir.join("bad-pw"), "not the password\n").unwrap();
    let views_before = views(&dir, &db);

    // Wrong password: every subcommand refuses, the repository is unchanged,
    // and the password is in no output.
    let repo_before = tree(&repo);
    for args in [
        vec!["backup", "create"],
        vec!["backup", "list"],
        vec!["backup", "check"],
        vec!["backup", "restore", "--to", "wrong-pw"],
        vec!["backup", "forget", "--keep-daily", "1"],
        vec!["backup", "verify-restore"],
    ] {
        let mut a = args.clone();
        a.extend(["--repo", r, "--password-file", "bad-pw"]);
        let out = run(&dir, &a);
        let err = one_error_line(&args.join(" "), &out);
        assert!(err.contains("wrong password"), "{err}");
        assert!(!err.contains("not the password"), "{err}");
        println!("{}: {}", args.join(" "), err.trim());
    }
    assert!(!dir.join("wrong-pw").exists());
    assert_eq!(
        tree(&repo),
        repo_before,
        "wrong password changed the repository"
    );
    // The password from the environment works like the file.
    let out = ward_in(&dir)
        .args(["backup", "list", "--repo", r])
        .env("WARD_BACKUP_PASSWORD", PASSWORD)
        .output()
        .unwrap();
    ok("list with WARD_BACKUP_PASSWORD", out);

    // Missing repository.
    let gone = dir.join("no-such-repo");
    for args in [
        vec!["backup", "create"],
        vec!["backup", "list"],
        vec!["backup", "check"],
        vec!["backup", "restore", "--to", "from-missing"],
        vec!["backup", "verify-restore"],
    ] {
        let mut a = args.clone();
        a.extend(["--repo", gone.to_str().unwrap(), "--password-file", "pw"]);
        let err = one_error_line(&args.join(" "), &run(&dir, &a));
        assert!(err.contains("no backup repository at"), "{err}");
        println!("{}: {}", args.join(" "), err.trim());
    }
    assert!(!gone.exists(), "a missing repository was created");
    assert!(!dir.join("from-missing").exists());

    // A damaged pack: flip bytes in the middle of every data pack.
    let mut packs = Vec::new();
    for (p, _) in tree(&repo.join("data")) {
        packs.push(p);
    }
    assert!(!packs.is_empty());
    for p in &packs {
        let mut b = std::fs::read(p).unwrap();
        let mid = b.len() / 2;
        for x in &mut b[mid..mid + 16] {
            *x ^= 0xff;
        }
        std::fs::write(p, b).unwrap();
    }
    let damaged = tree(&repo);
    let out = run(
        &dir,
        &["backup", "check", "--repo", r, "--password-file", "pw"],
    );
    let err = one_error_line("check", &out);
    let report = String::from_utf8_lossy(&out.stdout).to_string();
    println!("check: {report}{}", err.trim());
    assert!(err.contains("check found"), "{err}");
    let names: Vec<String> = packs
        .iter()
        .map(|p| p.file_name().unwrap().to_str().unwrap()[..8].to_string())
        .collect();
    assert!(
        report
            .lines()
            .any(|l| l.starts_with("damaged: ") && names.iter().any(|n| l.contains(n.as_str()))),
        "check names a damaged pack ({names:?}): {report}"
    );
    let out = run(
        &dir,
        &[
            "backup",
            "restore",
            "--repo",
            r,
            "--password-file",
            "pw",
            "--to",
            "from-damaged",
        ],
    );
    let err = one_error_line("restore damaged", &out);
    println!("restore: {}", err.trim());
    assert!(
        !dir.join("from-damaged").exists(),
        "a failed restore left files"
    );
    assert!(
        std::fs::read_dir(&dir).unwrap().all(|e| !e
            .unwrap()
            .file_name()
            .to_string_lossy()
            .starts_with(".ward-")),
        "scratch directories left behind"
    );
    // A drill of the damaged repository fails, exits non-zero and is recorded.
    let out = run(
        &dir,
        &[
            "backup",
            "verify-restore",
            "--repo",
            r,
            "--password-file",
            "pw",
        ],
    );
    let err = one_error_line("verify-restore damaged", &out);
    println!(
        "verify-restore: {}{}",
        String::from_utf8_lossy(&out.stdout),
        err.trim()
    );
    let drills = store::Store::open(&db).unwrap().drills(10).unwrap();
    assert_eq!(drills.len(), 1);
    assert!(!drills[0].passed);
    assert_eq!(
        tree(&repo),
        damaged,
        "reading a damaged repository changed it"
    );

    // The store reads as it did (the drill row above is the only change).
    assert_eq!(views(&dir, &db), views_before);
    let _ = std::fs::remove_dir_all(&dir);
}

const AK: &str = "wardtestaccess";
const SK: &str = "wardtestsecret0123456789";

fn with_s3(c: &mut Command) -> &mut Command {
    c.env("AWS_ACCESS_KEY_ID", AK)
        .env("AWS_SECRET_ACCESS_KEY", SK)
        .env("AWS_DEFAULT_REGION", "us-east-1")
        .env_remove("AWS_SESSION_TOKEN")
        .env_remove("AWS_REGION")
}

#[test]
fn an_s3_repository_on_a_real_server_is_read_by_restic() {
    if !restic() || !s3s_fs() {
        return;
    }
    let dir = tempdir("s3");
    let root = dir.join("s3-root");
    std::fs::create_dir_all(root.join("ward-backups")).unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let _server = Proc(
        Command::new("s3s-fs")
            .args(["--host", "127.0.0.1", "--port", &port.to_string()])
            .args(["--access-key", AK, "--secret-key", SK])
            .arg(&root)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let t0 = std::time::Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(t0.elapsed().as_secs() < 30, "s3s-fs did not start");
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let db = build_store(&dir);
    let before = views(&dir, &db);
    let repo = format!("s3:http://127.0.0.1:{port}/ward-backups/site-a");
    let w = |args: &[&str]| {
        let mut c = ward_in(&dir);
        with_s3(&mut c)
            .args(args)
            .args(["--repo", &repo, "--password-file", "pw"]);
        c.output().unwrap()
    };
    // Missing first: one line, nothing created.
    let err = one_error_line("list before init", &w(&["backup", "list"]));
    assert!(err.contains("no backup repository at s3:"), "{err}");
    ok("init", w(&["backup", "init"]));
    let created = ok("create", w(&["backup", "create"]));
    println!("{created}");
    let second = ok("create again", w(&["backup", "create"]));
    println!("{second}");
    // The objects are where restic puts them.
    assert!(root.join("ward-backups/site-a/config").is_file());
    assert!(root.join("ward-backups/site-a/keys").is_dir());
    assert!(root.join("ward-backups/site-a/data").is_dir());
    let checked = ok("check", w(&["backup", "check"]));
    assert!(checked.starts_with("no errors in s3:"), "{checked}");

    let restic = |args: &[&str]| {
        let mut c = Command::new("restic");
        with_s3(&mut c)
            .args(["-r", &repo])
            .args(args)
            .env("RESTIC_PASSWORD_FILE", dir.join("pw"))
            .env_remove("RESTIC_PASSWORD")
            .env("RESTIC_CACHE_DIR", dir.join("restic-cache"));
        let out = c.output().unwrap();
        assert!(
            out.status.success(),
            "restic {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        out.stdout
    };
    let snaps: serde_json::Value =
        serde_json::from_slice(&restic(&["snapshots", "--json"])).unwrap();
    assert_eq!(snaps.as_array().unwrap().len(), 2, "{snaps}");
    println!("restic snapshots (S3): {snaps}");
    let target = dir.join("by-restic");
    restic(&["restore", "latest", "--target", target.to_str().unwrap()]);
    let restic_bytes = std::fs::read(target.join("ward/ward.db")).unwrap();
    let after = views(&target.join("ward"), &target.join("ward/ward.db"));
    assert_eq!(before, after);
    // Ward's own restore from S3, and a drill.
    ok("restore", w(&["backup", "restore", "--to", "by-ward"]));
    assert!(
        std::fs::read(dir.join("by-ward/ward.db")).unwrap() == restic_bytes,
        "ward backup restore and restic restore give different ward.db"
    );
    let drill = ok("verify-restore", w(&["backup", "verify-restore"]));
    println!("{drill}");
    assert!(drill.contains(" passed in "), "{drill}");
    // Wrong credentials for the server: one line, nothing changed.
    let out = ward_in(&dir)
        .args(["backup", "list", "--repo", &repo, "--password-file", "pw"])
        .env("AWS_ACCESS_KEY_ID", AK)
        .env("AWS_SECRET_ACCESS_KEY", "not-the-secret-key")
        .output()
        .unwrap();
    let err = one_error_line("wrong S3 secret", &out);
    assert!(!err.contains("not-the-secret-key"), "{err}");
    println!("wrong S3 secret: {}", err.trim());
    let _ = std::fs::remove_dir_all(&dir);
}

/// `ward serve --backup-every`, started on `dir/ward.db`; its base URL.
fn serve_with_backups(dir: &Path, pwfile: &str) -> (Proc, String) {
    let mut child = ward_in(dir)
        .args([
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--insecure-http",
            "--db",
            "ward.db",
            "--state-dir",
            "state",
            "--backup-every",
            "1h",
            "--backup-repo",
            "repo",
            "--backup-password-file",
            pwfile,
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut out = std::io::BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    std::io::BufRead::read_line(&mut out, &mut line).unwrap();
    let base = line
        .trim()
        .strip_prefix("ward: serving ")
        .unwrap_or_else(|| panic!("unexpected first line {line:?}"))
        .trim_end_matches('/')
        .to_string();
    std::thread::spawn(move || for _ in std::io::BufRead::lines(out) {});
    (Proc(child), base)
}

/// `GET /api/v1/backup` until `done` holds (at most 90 s).
fn backup_status_until(
    base: &str,
    token: &str,
    done: impl Fn(&serde_json::Value) -> bool,
) -> serde_json::Value {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    let until = std::time::Instant::now() + std::time::Duration::from_secs(90);
    loop {
        let mut res = agent
            .get(&format!("{base}/api/v1/backup"))
            .header("authorization", &format!("Bearer {token}"))
            .call()
            .unwrap();
        assert_eq!(res.status().as_u16(), 200);
        let v: serde_json::Value =
            serde_json::from_str(&res.body_mut().read_to_string().unwrap()).unwrap();
        if done(&v) {
            return v;
        }
        assert!(
            std::time::Instant::now() < until,
            "no backup status in time: {v:#}"
        );
        std::thread::sleep(std::time::Duration::from_millis(300));
    }
}

/// Issue 16: `ward serve --backup-every` backs the store up when it starts
/// (then every interval); `/api/v1/backup` shows the last success, its age
/// and size, and `ward backup list` lists the same snapshot. A scheduled
/// backup that fails (a wrong password) is recorded and shown as failing,
/// with the reason and without the password; a bad schedule stops `serve`
/// in one line before it listens.
#[test]
fn serve_schedules_backups_and_shows_their_status() {
    let dir = tempdir("serve");
    build_store(&dir);
    ok(
        "init",
        run(
            &dir,
            &["backup", "init", "--repo", "repo", "--password-file", "pw"],
        ),
    );
    let out = ok(
        "token",
        run(&dir, &["user", "token", "ana", "--db", "ward.db"]),
    );
    let token = out.trim().to_string();

    let (server, base) = serve_with_backups(&dir, "pw");
    let v = backup_status_until(&base, &token, |v| !v["last_success"].is_null());
    drop(server);
    let last = &v["last_success"];
    let snap = last["snapshot"].as_str().unwrap().to_string();
    assert!(snap.len() >= 8, "{v:#}");
    assert!(last["bytes_added"].as_u64().unwrap() > 0, "{v:#}");
    assert!(
        last["detail"].as_str().unwrap().contains("devices"),
        "{v:#}"
    );
    assert!(v["age_secs"].as_i64().unwrap() < 600, "{v:#}");
    assert!(v["failing_since"].is_null(), "{v:#}");
    let listed = ok(
        "list",
        run(
            &dir,
            &["backup", "list", "--repo", "repo", "--password-file", "pw"],
        ),
    );
    assert!(listed.contains(&snap[..8]), "{listed}");

    // A wrong password: the scheduled backup fails, is recorded and shown.
    std::fs::write(dir.join("wrong"), "not-the-password-7731\n").unwrap();
    let (server, base) = serve_with_backups(&dir, "wrong");
    let v = backup_status_until(&base, &token, |v| !v["failing_since"].is_null());
    drop(server);
    let failed = v["failing_since"]["detail"].as_str().unwrap();
    assert!(failed.contains("wrong password"), "{v:#}");
    assert!(!v.to_string().contains("not-the-password-7731"));
    assert_eq!(v["last_success"]["snapshot"], snap.as_str(), "{v:#}");

    // A bad schedule stops serve before it listens.
    let out = run(
        &dir,
        &[
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--insecure-http",
            "--db",
            "ward.db",
            "--backup-every",
            "soon",
            "--backup-repo",
            "repo",
            "--backup-password-file",
            "pw",
        ],
    );
    one_error_line("bad --backup-every", &out);
    let _ = std::fs::remove_dir_all(&dir);
}
