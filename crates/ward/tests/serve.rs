//! `ward serve` end to end: the real binary on a free loopback port over
//! HTTPS (verifying the self-signed certificate it generated), a hostile
//! capture analyzed into the database, accounts from `ward user`, login with
//! password + TOTP, and every OpenAPI route refusing anonymous callers.

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;

const PASSWORD: &str = "correct horse battery staple";

fn ward() -> Command {
    Command::new(env!("CARGO_BIN_EXE_ward"))
}

fn tempdir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("ward-serve-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// The server process; killed when dropped.
struct Server {
    child: Child,
    base: String,
    agent: ureq::Agent,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn agent(cert: Option<&Path>) -> ureq::Agent {
    let mut b = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .max_redirects(0)
        .timeout_global(Some(std::time::Duration::from_secs(60)));
    if let Some(c) = cert {
        let pem = std::fs::read(c).unwrap();
        let cert = ureq::tls::Certificate::from_pem(&pem).unwrap().to_owned();
        b = b.tls_config(
            ureq::tls::TlsConfig::builder()
                .root_certs(ureq::tls::RootCerts::Specific(Arc::new(vec![cert])))
                .build(),
        );
    }
    ureq::Agent::new_with_config(b.build())
}

fn serve(db: &Path, state: &Path, extra: &[&str]) -> Server {
    let mut child = ward()
        .args(["serve", "--listen", "127.0.0.1:0", "--db"])
        .arg(db)
        .arg("--state-dir")
        .arg(state)
        .args(extra)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    out.read_line(&mut line).unwrap();
    let base = line
        .trim()
        .strip_prefix("ward: serving ")
        .unwrap_or_else(|| panic!("unexpected first line {line:?}"))
        .trim_end_matches('/')
        .to_string();
    // Keep draining stdout so the server never blocks on a full pipe.
    std::thread::spawn(move || for _ in out.lines() {});
    let cert = base
        .starts_with("https")
        .then(|| state.join("cert.pem"))
        .filter(|c| c.exists());
    Server {
        child,
        agent: agent(cert.as_deref()),
        base,
    }
}

struct Res {
    status: u16,
    headers: Vec<(String, String)>,
    body: String,
}

impl Res {
    fn header(&self, name: &str) -> Vec<&str> {
        self.headers
            .iter()
            .filter(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
            .collect()
    }
    fn cookie(&self, name: &str) -> Option<String> {
        self.header("set-cookie")
            .into_iter()
            .find(|c| c.starts_with(&format!("{name}=")))
            .map(|c| c.split(';').next().unwrap().to_string())
    }
    fn csrf(&self) -> String {
        let i = self
            .body
            .find("name=\"csrf\" value=\"")
            .expect("form with csrf")
            + 19;
        self.body[i..].split('"').next().unwrap().to_string()
    }
}

impl Server {
    fn call(&self, method: &str, path: &str, headers: &[(&str, &str)], form: Option<&str>) -> Res {
        let url = format!("{}{path}", self.base);
        let mut res = if method == "POST" {
            let mut r = self
                .agent
                .post(&url)
                .header("content-type", "application/x-www-form-urlencoded");
            for (k, v) in headers {
                r = r.header(*k, *v);
            }
            r.send(form.unwrap_or("")).unwrap()
        } else {
            let mut r = self.agent.get(&url);
            for (k, v) in headers {
                r = r.header(*k, *v);
            }
            r.call().unwrap()
        };
        let status = res.status().as_u16();
        let headers = res
            .headers()
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_str().unwrap_or("").to_string()))
            .collect();
        let body = res.body_mut().read_to_string().unwrap();
        Res {
            status,
            headers,
            body,
        }
    }
}

/// The text a browser shows for `html` (entities decoded, tags kept): a
/// hostile name that is escaped shows up here, while the raw body has no tag.
fn shown(html: &str) -> String {
    html.replace("&#60;", "<")
        .replace("&lt;", "<")
        .replace("&#62;", ">")
        .replace("&gt;", ">")
        .replace("&#34;", "\"")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&#38;", "&")
        .replace("&amp;", "&")
}

fn enc(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// `ward user add`; returns the TOTP secret.
fn add_user(db: &Path, name: &str, role: &str) -> String {
    let mut child = ward()
        .args([
            "user",
            "add",
            name,
            "--role",
            role,
            "--password-stdin",
            "--db",
        ])
        .arg(db)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    writeln!(child.stdin.take().unwrap(), "{PASSWORD}").unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.contains(&format!("totp uri: otpauth://totp/Ward:{name}?secret=")),
        "{text}"
    );
    text.lines()
        .find_map(|l| l.strip_prefix("totp secret: "))
        .unwrap()
        .to_string()
}

fn token(db: &Path, name: &str) -> String {
    let out = ward()
        .args(["user", "token", name, "--db"])
        .arg(db)
        .output()
        .unwrap();
    assert!(out.status.success());
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// A database holding the hostile capture (`samplegen`'s `Variant::Hostile`).
fn hostile_db(dir: &Path) -> PathBuf {
    let pcap = dir.join("hostile.pcap");
    std::fs::write(
        &pcap,
        samplegen::hospital::write(Vec::new(), samplegen::hospital::Variant::Hostile).unwrap(),
    )
    .unwrap();
    let db = dir.join("ward.db");
    let st = ward()
        .args(["analyze", "--quiet", "--db"])
        .arg(&db)
        .arg(&pcap)
        .stdout(Stdio::null())
        .status()
        .unwrap();
    assert!(st.success());
    db
}

#[test]
fn hostile_capture_over_https_with_totp_login() {
    let dir = tempdir("hostile");
    let db = hostile_db(&dir);
    let secret = add_user(&db, "ada", "admin");
    add_user(&db, "vic", "viewer");
    let dup = ward()
        .args(["user", "add", "vic", "--role", "admin", "--db"])
        .arg(&db)
        .output()
        .unwrap();
    assert!(
        !dup.status.success() && String::from_utf8_lossy(&dup.stderr).contains("exists already")
    );
    let list = ward()
        .args(["user", "list", "--db"])
        .arg(&db)
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&list.stdout),
        "ada\tadmin\nvic\tviewer\n"
    );
    let admin_token = token(&db, "ada");
    let viewer_token = token(&db, "vic");
    let state = dir.join("state");
    let srv = serve(&db, &state, &[]);
    assert!(srv.base.starts_with("https://127.0.0.1:"), "{}", srv.base);
    assert!(state.join("cert.pem").exists() && state.join("key.pem").exists());

    // Anonymous: pages redirect to the login, every OpenAPI route says 401.
    let r = srv.call("GET", "/devices", &[], None);
    assert_eq!((r.status, r.header("location")), (303, vec!["/login"]));
    let doc: serde_json::Value =
        serde_json::from_str(&srv.call("GET", "/api/v1/openapi.json", &[], None).body).unwrap();
    let paths: Vec<String> = doc["paths"].as_object().unwrap().keys().cloned().collect();
    assert!(paths.len() >= 5, "{paths:?}");
    let viewer = format!("Bearer {viewer_token}");
    for p in &paths {
        let uri = p.replace("{key}", "00%3A00%3A00%3A00%3A00%3A01");
        for (method, op) in doc["paths"][p].as_object().unwrap() {
            let m = method.to_uppercase();
            assert_eq!(srv.call(&m, &uri, &[], None).status, 401, "{m} {uri}");
            assert_eq!(
                srv.call(&m, &uri, &[("authorization", "Bearer ward_0000")], None)
                    .status,
                401,
                "{m} {uri}"
            );
            let role = op["x-ward-role"].as_str().unwrap();
            let as_viewer = srv
                .call(&m, &uri, &[("authorization", &viewer)], None)
                .status;
            if role == "viewer" {
                assert!(
                    as_viewer == 200 || as_viewer == 404,
                    "{m} {uri} as viewer: {as_viewer}"
                );
            } else {
                assert_eq!(as_viewer, 403, "{m} {uri} as viewer");
            }
        }
    }

    // Login with password + TOTP.
    let form = srv.call("GET", "/login", &[], None);
    let pre = form.cookie("ward_pre").unwrap();
    let code = web::totp::code(&secret, now()).unwrap();
    let body = format!(
        "name=ada&password={}&code={code}&csrf={}",
        enc(PASSWORD),
        form.csrf()
    );
    assert_eq!(
        srv.call(
            "POST",
            "/login",
            &[("cookie", &pre)],
            Some(&body.replace("&csrf=", "&csrf=x"))
        )
        .status,
        403
    );
    let ok = srv.call("POST", "/login", &[("cookie", &pre)], Some(&body));
    assert_eq!(ok.status, 303, "{}", ok.body);
    let sid = ok.cookie("ward_session").unwrap();
    assert!(ok
        .header("set-cookie")
        .iter()
        .any(|c| c.contains("HttpOnly") && c.contains("Secure") && c.contains("SameSite=Strict")));
    let cookie = [("cookie", sid.as_str())];

    // The hostile names render as text in every page.
    let list = srv.call("GET", "/devices?per_page=500", &cookie, None);
    assert_eq!(list.status, 200);
    assert!(list.header("strict-transport-security").len() == 1);
    for page in [&list.body, &srv.call("GET", "/", &cookie, None).body] {
        assert!(!page.contains("<script>alert(1)"), "raw script tag in page");
        assert!(!page.contains("<img src=x"), "raw img tag in page");
    }
    assert!(
        shown(&list.body).contains("<script>alert(1)</script>"),
        "hostname not shown as text"
    );
    // Every device page of the capture stays inert.
    let devs: serde_json::Value = serde_json::from_str(
        &srv.call(
            "GET",
            "/api/v1/devices?per_page=500",
            &[("authorization", &format!("Bearer {admin_token}"))],
            None,
        )
        .body,
    )
    .unwrap();
    let all = devs["devices"].as_array().unwrap();
    assert!(all.len() >= 5);
    let mut saw_sql = false;
    let mut saw_script = false;
    let mut saw_json_sql = false;
    for d in all {
        let key = d["key"].as_str().unwrap();
        let page = srv.call("GET", &format!("/device?key={}", enc(key)), &cookie, None);
        assert_eq!(page.status, 200, "{key}");
        assert!(
            !page.body.contains("<script>alert") && !page.body.contains("<img src=x"),
            "{key}: raw markup"
        );
        saw_script |= shown(&page.body).contains("<script>alert(1)</script>");
        saw_sql |=
            shown(&page.body).contains("<img src=x onerror=alert(1)>'; DROP TABLE devices;--");
        let api = srv.call(
            "GET",
            &format!("/api/v1/devices/{}", enc(key)),
            &[("authorization", &format!("Bearer {admin_token}"))],
            None,
        );
        assert_eq!(api.status, 200, "{key}");
        assert!(api.header("content-type")[0].starts_with("application/json"));
        let v: serde_json::Value = serde_json::from_str(&api.body).unwrap();
        saw_json_sql |= v["applications"].as_array().unwrap().iter().any(|a| {
            a.as_str()
                .unwrap()
                .contains("<img src=x onerror=alert(1)>'; DROP TABLE devices;--")
        });
    }
    assert!(saw_script, "no device page showed the hostile host name");
    assert!(saw_sql, "no device page showed the hostile HL7 application");
    assert!(
        saw_json_sql,
        "no API device carried the hostile HL7 application verbatim"
    );
    let raw = serde_json::to_string(&devs).unwrap();
    assert!(
        devs["devices"]
            .as_array()
            .unwrap()
            .iter()
            .any(|d| d["names"]
                .as_array()
                .unwrap()
                .iter()
                .any(|n| n == "<script>alert(1)</script>")),
        "{raw}"
    );

    // The report downloads and is audited.
    let rep = srv.call("GET", "/report.html", &cookie, None);
    assert_eq!(rep.status, 200);
    assert!(!rep.body.contains("<script>alert"));
    let audit: serde_json::Value = serde_json::from_str(
        &srv.call(
            "GET",
            "/api/v1/audit",
            &[("authorization", &format!("Bearer {admin_token}"))],
            None,
        )
        .body,
    )
    .unwrap();
    let actions: Vec<&str> = audit
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    for a in ["user_created", "token_created", "login_ok", "export"] {
        assert!(actions.contains(&a), "{a} missing in {actions:?}");
    }
    // Entries name the client's address (per-address throttling uses the same).
    assert!(
        audit
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["action"] == "login_ok" && e["ip"] == "127.0.0.1"),
        "{audit}"
    );
    drop(srv);

    // A restart keeps the generated certificate.
    let cert = std::fs::read(state.join("cert.pem")).unwrap();
    let again = serve(&db, &state, &[]);
    assert_eq!(again.call("GET", "/login", &[], None).status, 200);
    assert_eq!(std::fs::read(state.join("cert.pem")).unwrap(), cert);
    drop(again);
    // The operator's certificate and key, when given, are used instead (nothing is generated).
    let other_state = dir.join("state2");
    let (c, k) = (state.join("cert.pem"), state.join("key.pem"));
    let mut own = serve(
        &db,
        &other_state,
        &["--cert", c.to_str().unwrap(), "--key", k.to_str().unwrap()],
    );
    own.agent = agent(Some(&c));
    assert!(own.base.starts_with("https://"));
    assert_eq!(own.call("GET", "/login", &[], None).status, 200);
    assert!(!other_state.join("cert.pem").exists());
    drop(own);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn first_start_offers_only_setup_and_insecure_http_is_loopback_only() {
    let dir = tempdir("setup");
    let db = dir.join("ward.db");
    let srv = serve(&db, &dir.join("state"), &["--insecure-http"]);
    assert!(srv.base.starts_with("http://127.0.0.1:"));
    for p in ["/", "/devices", "/login", "/audit"] {
        let r = srv.call("GET", p, &[], None);
        assert_eq!(
            (r.status, r.header("location")),
            (303, vec!["/setup"]),
            "{p}"
        );
    }
    let r = srv.call("GET", "/setup", &[], None);
    assert_eq!(r.status, 200);
    assert!(r.body.contains("Create the administrator"));
    assert_eq!(srv.call("GET", "/api/v1/devices", &[], None).status, 401);
    drop(srv);
    let out = ward()
        .args(["serve", "--insecure-http", "--listen", "0.0.0.0:0", "--db"])
        .arg(&db)
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("loopback"));
    let _ = std::fs::remove_dir_all(&dir);
}

/// Issue 19 item 8: TOTP secrets are encrypted at rest. `ward user add`
/// creates the key beside the database (0600) and `ward serve` finds it:
/// the database bytes never hold the secret, a TOTP sign-in still works,
/// and without the key (or with another one) the server refuses to start
/// with one clear line.
#[test]
fn totp_secrets_are_encrypted_at_rest_and_found_by_serve() {
    let dir = tempdir("totp-at-rest");
    let db = dir.join("ward.db");
    let key = dir.join("ward.db.key");
    let secret = add_user(&db, "ada", "admin");
    assert!(key.exists(), "key file beside the database");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&key).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    let bytes_hold_secret = || {
        ["", "-wal"].iter().any(|suffix| {
            let mut p = db.as_os_str().to_owned();
            p.push(suffix);
            std::fs::read(PathBuf::from(p))
                .is_ok_and(|b| b.windows(secret.len()).any(|w| w == secret.as_bytes()))
        })
    };
    assert!(
        !bytes_hold_secret(),
        "the TOTP secret is in the database in clear"
    );

    let state = dir.join("state");
    let srv = serve(&db, &state, &["--insecure-http"]);
    let form = srv.call("GET", "/login", &[], None);
    let pre = form.cookie("ward_pre").unwrap();
    let code = web::totp::code(&secret, now()).unwrap();
    let body = format!(
        "name=ada&password={}&code={code}&csrf={}",
        enc(PASSWORD),
        form.csrf()
    );
    let ok = srv.call("POST", "/login", &[("cookie", &pre)], Some(&body));
    assert_eq!(ok.status, 303, "{}", ok.body);
    assert!(ok.cookie("ward_session").is_some());
    drop(srv);
    assert!(!bytes_hold_secret());

    let start_fails = |why: &str| {
        let out = ward()
            .args([
                "serve",
                "--insecure-http",
                "--listen",
                "127.0.0.1:0",
                "--db",
            ])
            .arg(&db)
            .arg("--state-dir")
            .arg(&state)
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr).to_string();
        assert!(!out.status.success(), "{why}: started");
        assert_eq!(err.trim().lines().count(), 1, "{why}: {err}");
        err
    };
    let saved = std::fs::read(&key).unwrap();
    std::fs::remove_file(&key).unwrap();
    let err = start_fails("missing key");
    assert!(err.contains("ward.db.key is missing"), "{err}");
    assert!(!key.exists(), "no new key while secrets are sealed");
    std::fs::write(&key, format!("{}\n", "5a".repeat(32))).unwrap();
    let err = start_fails("another key");
    assert!(err.contains("does not decrypt"), "{err}");
    std::fs::write(&key, saved).unwrap();
    let _ = std::fs::remove_dir_all(&dir);
}

/// Headless Chromium (tests/browser/hostile.mjs): signs in with TOTP, opens
/// the device named `<script>alert(1)</script>`; no dialog may fire and the
/// name must be visible as text. Then tours overview → devices → the
/// riskiest device (risk reasons) → map → advisories → alerts → intake, with
/// a screenshot of each, checking on every page that no named device is
/// labelled by its key, that alert kinds and categories are in display form,
/// that chart labels fit and long text wraps (`tests/browser/lib.mjs`). Then
/// a store of 12,345 infusion pumps: the category chart shows `12,345` in
/// full, and the 500 of one subnet awaiting intake are approved with one
/// click (`scale.mjs`). Skips when node, Chromium or the npm packages are missing.
#[test]
fn browser_renders_hostile_names_as_text() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let browser_dir = root.join("tests/browser");
    let chromium = std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
    let node_ok = Command::new("node")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    let missing = if !node_ok {
        Some("node")
    } else if !Path::new(&chromium).exists() {
        Some("chromium")
    } else if !browser_dir.join("node_modules/playwright-core").exists() {
        Some("tests/browser/node_modules (run `npm ci` there)")
    } else {
        None
    };
    if let Some(what) = missing {
        println!("skipping browser test: {what} is missing");
        return;
    }
    let dir = tempdir("browser");
    let db = hostile_db(&dir);
    // A fleet of ordinary devices too, so the list and the map look like a ward's.
    let pcap = dir.join("fleet.pcap");
    std::fs::write(&pcap, samplegen::fleet::write(Vec::new(), 300).unwrap()).unwrap();
    assert!(ward()
        .args(["analyze", "--quiet", "--db"])
        .arg(&db)
        .arg(&pcap)
        .stdout(Stdio::null())
        .status()
        .unwrap()
        .success());
    // Advisories and a CMMS export when the shared feeds are there.
    let vuln = root.join("../shared/testdata/vuln");
    if vuln.is_dir() {
        let feeds = ward()
            .args(["feeds", "import", "--db"])
            .arg(&db)
            .arg(vuln.join("csaf_icsma"))
            .arg(vuln.join("known_exploited_vulnerabilities.json"))
            .arg(vuln.join("nvd_cve_json"))
            .output()
            .unwrap();
        assert!(
            feeds.status.success(),
            "{}",
            String::from_utf8_lossy(&feeds.stderr)
        );
        let csv = dir.join("cmms.csv");
        std::fs::write(&csv, "Serial,Vendor,Model,Firmware,Location\nS1,OFFIS,DCMTK,3.6.6,PACS archive\nS2,OFFIS,DCMTK,3.6.6,PACS gateway\nS3,MicroDicom,DICOM Viewer,2024.1,Radiology 1\nS4,Baxter Healthcare Corporation,Spectrum Wireless Battery Module,20D30,ICU bed 4\n").unwrap();
        assert!(ward()
            .args(["inventory", "import", "--db"])
            .arg(&db)
            .arg(&csv)
            .output()
            .unwrap()
            .status
            .success());
    } else {
        println!("browser test: ../shared/testdata/vuln absent: the advisories page will be empty");
    }
    // Alerts on fleet devices (named by their address) and devices awaiting intake.
    let kinds = [
        monitor::AlertKind::UnauthorizedManagementAccess,
        monitor::AlertKind::PortScan,
        monitor::AlertKind::NewDevice,
    ];
    seed_alerts_and_intake(&db, &kinds);
    let secret = add_user(&db, "ada", "admin");
    let admin_token = token(&db, "ada");
    let srv = serve(&db, &dir.join("state"), &[]);
    let devs: serde_json::Value = serde_json::from_str(
        &srv.call(
            "GET",
            "/api/v1/devices?q=script",
            &[("authorization", &format!("Bearer {admin_token}"))],
            None,
        )
        .body,
    )
    .unwrap();
    let key = devs["devices"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["names"][0] == "<script>alert(1)</script>")
        .expect("hostile device")["key"]
        .as_str()
        .unwrap()
        .to_string();
    let top: serde_json::Value = serde_json::from_str(
        &srv.call(
            "GET",
            "/api/v1/devices?per_page=1",
            &[("authorization", &format!("Bearer {admin_token}"))],
            None,
        )
        .body,
    )
    .unwrap();
    let risky = top["devices"][0]["key"].as_str().unwrap().to_string();
    assert!(top["devices"][0]["score"].as_u64().unwrap() > 0, "{top}");
    let artifacts = std::env::var_os("WARD_ARTIFACTS")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("target/artifacts/browser"));
    let out = Command::new("node")
        .arg(browser_dir.join("hostile.mjs"))
        .current_dir(&browser_dir)
        .env("WARD_URL", &srv.base)
        .env("WARD_USER", "ada")
        .env("WARD_PASSWORD", PASSWORD)
        .env("WARD_TOTP_SECRET", &secret)
        .env("WARD_DEVICE_KEY", &key)
        .env("WARD_RISKY_KEY", &risky)
        .env("WARD_HOSTILE_NAME", "<script>alert(1)</script>")
        .env("WARD_ARTIFACTS", &artifacts)
        .env("CHROMIUM", &chromium)
        .env("WARD_TOKEN", &admin_token)
        .env("WARD_INTERNAL_NAMES", internal_names())
        .env(
            "WARD_ALERT_KIND_NAMES",
            kinds.map(web::names::kind).join(","),
        )
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    println!("{text}");
    assert!(out.status.success(), "browser test failed:\n{text}");
    drop(srv);

    // At scale: 12,345 infusion pumps (the category chart's count must fit),
    // 500 of them in 10.64.0.0/23 awaiting intake, approved in one action.
    let scale_db = dir.join("scale.db");
    let pumps = seed_pump_fleet(&scale_db, 12_345);
    {
        let mut s = store::Store::open(&scale_db).unwrap();
        let waiting: Vec<_> = (0..500)
            .chain(2000..2100)
            .map(|i| {
                (
                    format!("ip:{}", samplegen::fleet::client_ip(i)),
                    model::Timestamp(1_767_600_000_000_000 + i64::from(i)),
                    None,
                )
            })
            .collect();
        assert_eq!(s.intake_register(&waiting).unwrap(), 600);
    }
    let secret = add_user(&scale_db, "ada", "admin");
    let scale_token = token(&scale_db, "ada");
    let srv = serve(&scale_db, &dir.join("scale-state"), &[]);
    let risk: serde_json::Value = serde_json::from_str(
        &srv.call(
            "GET",
            "/api/v1/risk",
            &[("authorization", &format!("Bearer {scale_token}"))],
            None,
        )
        .body,
    )
    .unwrap();
    assert_eq!(
        risk["categories"][0]["count"], pumps,
        "{}",
        risk["categories"]
    );
    let category = risk["categories"][0]["label"].as_str().unwrap().to_string();
    let out = Command::new("node")
        .arg(browser_dir.join("scale.mjs"))
        .current_dir(&browser_dir)
        .env("WARD_URL", &srv.base)
        .env("WARD_USER", "ada")
        .env("WARD_PASSWORD", PASSWORD)
        .env("WARD_TOTP_SECRET", &secret)
        .env("WARD_TOKEN", &scale_token)
        .env("WARD_ARTIFACTS", &artifacts)
        .env("WARD_INTERNAL_NAMES", internal_names())
        .env("WARD_SUBNET", "10.64.0.0/23")
        .env("WARD_CATEGORY", &category)
        .env("CHROMIUM", &chromium)
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    println!("{text}");
    assert!(out.status.success(), "browser test (scale) failed:\n{text}");
    let intake = store::Store::open(&scale_db).unwrap().intake().unwrap();
    assert_eq!(intake.iter().filter(|e| e.approved).count(), 500);
    assert!(intake
        .iter()
        .filter(|e| e.approved)
        .all(|e| e.owner.as_deref() == Some("biomed")));
    for shot in [
        "device.png",
        "tour-1-overview.png",
        "tour-2-devices.png",
        "tour-3-device.png",
        "tour-4-map.png",
        "tour-5-advisories.png",
    ] {
        assert!(artifacts.join(shot).exists(), "{shot} missing");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// The JSON spellings of alert kinds and categories that differ from their
/// display names (`infusion_pump`, `port_scan`), comma-separated.
fn internal_names() -> String {
    let kinds = monitor::ALL_KINDS.iter().map(|k| k.as_str().to_string());
    let cats = identify::ALL_CATEGORIES.iter().map(|c| {
        serde_json::to_value(c)
            .unwrap()
            .as_str()
            .unwrap()
            .to_string()
    });
    kinds
        .chain(cats)
        .filter(|n| n.contains('_'))
        .collect::<Vec<_>>()
        .join(",")
}

/// Alerts of `kinds` on fleet devices 1, 2, 3 (by address) and fleet
/// devices 10..20 awaiting intake.
fn seed_alerts_and_intake(db: &Path, kinds: &[monitor::AlertKind]) {
    let t = 1_767_600_000_000_000;
    let mut s = store::Store::open(db).unwrap();
    let alerts: Vec<monitor::Alert> = kinds
        .iter()
        .enumerate()
        .map(|(i, k)| {
            let ip = samplegen::fleet::client_ip(i as u32 + 1);
            monitor::Alert {
                kind: *k,
                severity: k.severity(),
                device: format!("ip:{ip}"),
                ip: ip.into(),
                key: format!("k{i}"),
                summary: format!("{} seen", k.as_str().replace('_', " ")),
                evidence: Default::default(),
                count: 1,
                first_seen: model::Timestamp(t),
                last_seen: model::Timestamp(t),
            }
        })
        .collect();
    s.store_alerts(&alerts).unwrap();
    let waiting: Vec<_> = (10..20)
        .map(|i| {
            (
                format!("ip:{}", samplegen::fleet::client_ip(i)),
                model::Timestamp(t),
                None,
            )
        })
        .collect();
    s.intake_register(&waiting).unwrap();
}

/// A store of `n` infusion pumps (fleet addresses, Silex radio MACs, DHCP
/// host names and vendor class), written as facts; returns `n`.
fn seed_pump_fleet(db: &Path, n: u32) -> u32 {
    let t = model::Timestamp(1_767_600_000_000_000);
    let mut facts = Vec::with_capacity(2 * n as usize);
    for i in 0..n {
        let b = i.to_be_bytes();
        let endpoint = identify::EndpointKey {
            mac: Some(model::MacAddr([0x00, 0x40, 0x17, b[1], b[2], b[3]])),
            ip: Some(samplegen::fleet::client_ip(i).into()),
        };
        for (kind, value) in [
            (identify::FactKind::Hostname, format!("PUMP-{i:06}")),
            (
                identify::FactKind::DhcpVendorClass,
                "BD Alaris PC 8015".to_string(),
            ),
        ] {
            facts.push(identify::Fact {
                endpoint,
                kind,
                value,
                source: "dhcp".into(),
                first_seen: t,
                last_seen: t,
                count: 1,
                evidence: "test fleet".into(),
            });
        }
    }
    let mut s = store::Store::open(db).unwrap();
    s.ingest_owned(&store::RunSummary::default(), facts, &[])
        .unwrap();
    n
}

/// The dashboard follows the store: a capture analyzed while the server
/// runs shows up (the scored snapshot is rebuilt when the store changes).
#[test]
fn new_analyses_show_up_without_a_restart() {
    let dir = tempdir("refresh");
    let db = hostile_db(&dir);
    add_user(&db, "ada", "admin");
    let auth = format!("Bearer {}", token(&db, "ada"));
    let srv = serve(&db, &dir.join("state"), &["--insecure-http"]);
    let total = |srv: &Server| -> u64 {
        let r = srv.call(
            "GET",
            "/api/v1/devices?per_page=1",
            &[("authorization", &auth)],
            None,
        );
        assert_eq!(r.status, 200, "{}", r.body);
        serde_json::from_str::<serde_json::Value>(&r.body).unwrap()["total"]
            .as_u64()
            .unwrap()
    };
    let before = total(&srv);
    let pcap = dir.join("fleet.pcap");
    std::fs::write(&pcap, samplegen::fleet::write(Vec::new(), 25).unwrap()).unwrap();
    let st = ward()
        .args(["analyze", "--quiet", "--db"])
        .arg(&db)
        .arg(&pcap)
        .stdout(Stdio::null())
        .status()
        .unwrap();
    assert!(st.success());
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    let mut now_total = before;
    while std::time::Instant::now() < deadline {
        now_total = total(&srv);
        if now_total >= before + 25 {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
    assert!(
        now_total >= before + 25,
        "{before} devices before, {now_total} after analyzing 25 more"
    );
    let r = srv.call(
        "GET",
        "/api/v1/devices?q=PUMP-000001",
        &[("authorization", &auth)],
        None,
    );
    assert!(r.body.contains("PUMP-000001"), "{}", r.body);
    drop(srv);
    let _ = std::fs::remove_dir_all(&dir);
}

/// SIGTERM stops the server gracefully: it stops listening, finishes, says
/// so and exits 0.
#[test]
fn sigterm_shuts_down_gracefully() {
    let dir = tempdir("sigterm");
    let db = dir.join("ward.db");
    let mut child = ward()
        .args([
            "serve",
            "--insecure-http",
            "--listen",
            "127.0.0.1:0",
            "--db",
        ])
        .arg(&db)
        .arg("--state-dir")
        .arg(dir.join("state"))
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    let out = BufReader::new(child.stdout.take().unwrap());
    std::thread::spawn(move || {
        for line in out.lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    let first = rx.recv_timeout(std::time::Duration::from_secs(60)).unwrap();
    let base = first
        .strip_prefix("ward: serving ")
        .unwrap()
        .trim_end_matches('/')
        .to_string();
    assert_eq!(
        agent(None)
            .get(&format!("{base}/setup"))
            .call()
            .unwrap()
            .status()
            .as_u16(),
        200
    );
    let kill = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(kill.success());
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "server still running 20 s after SIGTERM"
        );
        std::thread::sleep(std::time::Duration::from_millis(100));
    };
    assert!(status.success(), "{status:?}");
    let rest: Vec<String> = rx.try_iter().collect();
    assert!(rest.iter().any(|l| l == "ward: stopped"), "{rest:?}");
    assert!(
        agent(None).get(&format!("{base}/setup")).call().is_err(),
        "still answering after shutdown"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// Schemathesis (PyPI) against the OpenAPI document, with an admin token,
/// over a store holding the devices of a real (synthetic) capture: no
/// request may produce a server error. Skips when `schemathesis` is not
/// installed (`.ci/run` installs it).
#[test]
fn schemathesis_finds_no_server_errors() {
    let exe = std::env::var("SCHEMATHESIS").unwrap_or_else(|_| "schemathesis".into());
    if !Command::new(&exe)
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
    {
        println!("skipping schemathesis test: `{exe}` is not installed (pip install schemathesis==4.32.5)");
        return;
    }
    let dir = tempdir("schemathesis");
    let db = hostile_db(&dir);
    let pcap = dir.join("fleet.pcap");
    std::fs::write(&pcap, samplegen::fleet::write(Vec::new(), 50).unwrap()).unwrap();
    assert!(ward()
        .args(["analyze", "--quiet", "--db"])
        .arg(&db)
        .arg(&pcap)
        .stdout(Stdio::null())
        .status()
        .unwrap()
        .success());
    // Alerts (ids 1-3) for the status changes to act on.
    let alerts: Vec<monitor::Alert> = (1..=3u8)
        .map(|i| monitor::Alert {
            kind: monitor::AlertKind::PortScan,
            severity: monitor::Severity::High,
            device: format!("ip:10.0.0.{i}"),
            ip: std::net::IpAddr::from([10, 0, 0, i]),
            key: "scan".into(),
            summary: "<script>alert(1)</script>".into(),
            evidence: Default::default(),
            count: 1,
            first_seen: model::Timestamp(i as i64),
            last_seen: model::Timestamp(i as i64),
        })
        .collect();
    store::Store::open(&db)
        .unwrap()
        .store_alerts(&alerts)
        .unwrap();
    add_user(&db, "ada", "admin");
    let auth = format!("Authorization: Bearer {}", token(&db, "ada"));
    let srv = serve(&db, &dir.join("state"), &["--insecure-http"]);
    let out = Command::new(&exe)
        .args([
            "run",
            &format!("{}/api/v1/openapi.json", srv.base),
            "--checks",
            "not_a_server_error",
            "--header",
            &auth,
        ])
        .args([
            "--max-examples",
            "40",
            "--seed",
            "4",
            "--workers",
            "1",
            "--no-color",
            "--generation-database",
            "none",
            "--phases",
            "examples,coverage,fuzzing",
        ])
        .current_dir(&dir)
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    println!("{text}");
    assert!(out.status.success(), "schemathesis found problems:\n{text}");
    let _ = std::fs::remove_dir_all(&dir);
}
