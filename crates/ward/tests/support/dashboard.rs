//! A running dashboard for the integration tests: `ward serve` on a free
//! port over plain HTTP, requests with cookies or a bearer token, accounts
//! and sign-in. Included with `#[path = "support/dashboard.rs"] mod dashboard;`.

#![allow(dead_code)]

use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Child, Command, Stdio};

/// Every test account's password.
pub const PASSWORD: &str = "correct horse battery staple";

/// A running `ward serve --insecure-http` (killed on drop) and an HTTP agent.
pub struct Server {
    child: Child,
    /// `http://127.0.0.1:PORT`.
    pub base: String,
    agent: ureq::Agent,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts `ward serve` on `db` with its state in `state`, on a free port.
pub fn serve(db: &Path, state: &Path) -> Server {
    let mut child = Command::new(env!("CARGO_BIN_EXE_ward"))
        .args([
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--insecure-http",
            "--db",
        ])
        .arg(db)
        .arg("--state-dir")
        .arg(state)
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
    std::thread::spawn(move || for _ in out.lines() {});
    let agent = ureq::Agent::new_with_config(
        ureq::Agent::config_builder()
            .http_status_as_error(false)
            .max_redirects(0)
            .timeout_global(Some(std::time::Duration::from_secs(60)))
            .build(),
    );
    Server { child, base, agent }
}

impl Server {
    /// (status, set-cookie values, body).
    pub fn call(
        &self,
        path: &str,
        cookie: &str,
        auth: &str,
        form: Option<&str>,
    ) -> (u16, Vec<String>, String) {
        let url = format!("{}{path}", self.base);
        let mut res = match form {
            Some(f) => {
                let mut r = self
                    .agent
                    .post(&url)
                    .header("content-type", "application/x-www-form-urlencoded");
                if !cookie.is_empty() {
                    r = r.header("cookie", cookie);
                }
                r.send(f).unwrap()
            }
            None => {
                let mut r = self.agent.get(&url);
                if !cookie.is_empty() {
                    r = r.header("cookie", cookie);
                }
                if !auth.is_empty() {
                    r = r.header("authorization", auth);
                }
                r.call().unwrap()
            }
        };
        let cookies = res
            .headers()
            .get_all("set-cookie")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .map(|c| c.split(';').next().unwrap_or("").to_string())
            .collect();
        let status = res.status().as_u16();
        (status, cookies, res.body_mut().read_to_string().unwrap())
    }

    /// POST a JSON body with a bearer token: (status, body).
    pub fn post_json(&self, path: &str, auth: &str, body: &str) -> (u16, String) {
        let mut res = self
            .agent
            .post(&format!("{}{path}", self.base))
            .header("content-type", "application/json")
            .header("authorization", auth)
            .send(body)
            .unwrap();
        let status = res.status().as_u16();
        (status, res.body_mut().read_to_string().unwrap())
    }
}

/// Percent-encodes everything but unreserved characters.
pub fn enc(s: &str) -> String {
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

/// Adds an account with role `role` and [`PASSWORD`]; returns its TOTP secret.
pub fn add_user(db: &Path, name: &str, role: &str) -> String {
    let mut child = Command::new(env!("CARGO_BIN_EXE_ward"))
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
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .find_map(|l| l.strip_prefix("totp secret: "))
        .unwrap()
        .to_string()
}

/// Signs `name` in (password and the current TOTP code): the session cookies.
pub fn login(srv: &Server, name: &str, secret: &str) -> String {
    let (_, cookies, page) = srv.call("/login", "", "", None);
    let pre = cookies
        .iter()
        .find(|c| c.starts_with("ward_pre="))
        .expect("pre-login cookie")
        .clone();
    let i = page.find("name=\"csrf\" value=\"").expect("csrf field") + 19;
    let csrf = page[i..].split('"').next().unwrap_or_default();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let code = web::totp::code(secret, now).unwrap();
    let form = format!(
        "name={name}&password={}&code={code}&csrf={csrf}",
        enc(PASSWORD)
    );
    let (status, cookies, body) = srv.call("/login", &pre, "", Some(&form));
    assert_eq!(status, 303, "{body}");
    cookies.join("; ")
}
