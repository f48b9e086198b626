//! The whole HTTP surface in-process (`tower::ServiceExt::oneshot`): setup,
//! login with password + TOTP, CSRF, throttling, roles on every OpenAPI
//! route, and hostile device names rendered as text.

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use axum::Router;
use http_body_util::BodyExt;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;
use tower::ServiceExt;
use web::{auth, totp, AppState, Role};

const HOSTILE: &str = "<script>alert(1)</script>";
const SQLI: &str = "<img src=x onerror=alert(1)>'; DROP TABLE devices;--";
const PASSWORD: &str = "correct horse battery staple";

fn device(key: &str, name: &str, app: &str) -> app::ScoredDevice {
    device_at(key, name, app, "10.0.0.7")
}

fn device_at(key: &str, name: &str, app: &str, ip: &str) -> app::ScoredDevice {
    let d = identify::Device {
        key: key.into(),
        mac: None,
        vendor: Some("Acme \"Medical\" & Co".into()),
        ips: vec![ip.parse().unwrap()],
        hostnames: vec![name.into()],
        category: identify::Category::InfusionPump,
        confidence: 0.9,
        reasons: Vec::new(),
        services_offered: Vec::new(),
        services_used: Vec::new(),
        roles: Vec::new(),
        software: vec![app.into()],
        applications: vec![app.into()],
        models: Vec::new(),
        peer_count: 0,
        first_seen: model::Timestamp(0),
        last_seen: model::Timestamp(0),
        identity: Default::default(),
        facts: Vec::new(),
    };
    app::ScoredDevice {
        kind: app::DeviceKind::Observed,
        category: d.category.label(),
        medical: true,
        vendor: d.vendor.clone(),
        model: Some(SQLI.into()),
        firmware: None,
        names: vec![name.into(), app.into()],
        ips: vec![ip.into()],
        assessment: risk::assess(&d, &[]),
        advisories: Vec::new(),
    }
}

fn state() -> AppState {
    let store = store::Store::open_in_memory().unwrap();
    let rows = vec![
        device("00:11:22:33:44:55", HOSTILE, SQLI),
        device("10.0.0.8", "ALARIS-PC-07", "PUMP"),
    ];
    AppState::new(
        store,
        web::Inventory::Fixed(Arc::new(rows)),
        true,
        "test.db",
    )
}

struct Res {
    status: StatusCode,
    headers: axum::http::HeaderMap,
    body: String,
}

impl Res {
    fn cookie(&self, name: &str) -> Option<String> {
        self.headers
            .get_all(header::SET_COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find(|v| v.starts_with(&format!("{name}=")))
            .map(|v| v.to_string())
    }
    fn csrf(&self) -> String {
        let i = self
            .body
            .find("name=\"csrf\" value=\"")
            .expect("form with csrf")
            + 19;
        self.body[i..].split('"').next().unwrap().to_string()
    }
    fn location(&self) -> &str {
        self.headers
            .get(header::LOCATION)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    }
}

async fn call(app: &Router, method: &str, uri: &str, headers: &[(&str, &str)], body: &str) -> Res {
    let mut b = Request::builder().method(method).uri(uri);
    for (k, v) in headers {
        b = b.header(*k, *v);
    }
    if method == "POST"
        && !headers
            .iter()
            .any(|(k, _)| k.eq_ignore_ascii_case("content-type"))
    {
        b = b.header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
    }
    let res = app
        .clone()
        .oneshot(b.body(Body::from(body.to_string())).unwrap())
        .await
        .unwrap();
    let status = res.status();
    let headers = res.headers().clone();
    let bytes = res.into_body().collect().await.unwrap().to_bytes();
    Res {
        status,
        headers,
        body: String::from_utf8_lossy(&bytes).into_owned(),
    }
}

fn cookie_pair(set_cookie: &str) -> String {
    set_cookie.split(';').next().unwrap().to_string()
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
    serde_urlencoded::to_string([("v", s)]).unwrap()[2..].to_string()
}

/// Creates an account; returns its TOTP secret.
async fn account(st: &AppState, name: &'static str, role: Role) -> String {
    st.db(move |s| {
        Ok(auth::create_account(s, name, role, PASSWORD, false)?
            .unwrap()
            .totp_secret)
    })
    .await
    .unwrap()
}

async fn token_for(st: &AppState, name: &'static str) -> String {
    st.db(move |s| {
        let u = s.user_by_name(name)?.unwrap();
        auth::issue_token(s, u.id, "test")
    })
    .await
    .unwrap()
}

/// Logs in through the form; returns the session cookie pair.
async fn login(app: &Router, name: &str, secret: &str) -> Result<String, Res> {
    let form = call(app, "GET", "/login", &[], "").await;
    assert_eq!(form.status, StatusCode::OK);
    let pre = cookie_pair(&form.cookie("ward_pre").unwrap());
    let code = totp::code(secret, auth::now() as u64).unwrap();
    let body = format!(
        "name={name}&password={}&code={code}&csrf={}",
        enc(PASSWORD),
        form.csrf()
    );
    let res = call(app, "POST", "/login", &[("cookie", &pre)], &body).await;
    match res.cookie("ward_session") {
        Some(c) if res.status == StatusCode::SEE_OTHER => Ok(cookie_pair(&c)),
        _ => Err(res),
    }
}

/// The `otpauth://` URI a page shows as text.
fn shown_uri(html: &str) -> String {
    let start = html.find("otpauth://").unwrap();
    let end = start + html[start..].find('<').unwrap();
    shown(&html[start..end])
}

/// The text of the one inline SVG QR code in `html`, read back by an
/// independent decoder (rqrr) from the drawn modules.
fn read_qr(html: &str) -> String {
    let start = html.find("<svg class=\"qr\"").expect("a QR code");
    let end = start + html[start..].find("</svg>").unwrap();
    let grid = web::qr::modules(&html[start..end]).unwrap();
    let scale = 4;
    let side = grid.len() * scale;
    let mut img = rqrr::PreparedImage::prepare_from_greyscale(side, side, |x, y| {
        if grid[y / scale][x / scale] {
            0
        } else {
            255
        }
    });
    let grids = img.detect_grids();
    assert_eq!(grids.len(), 1);
    grids[0].decode().unwrap().1
}

#[tokio::test]
async fn first_start_only_offers_setup() {
    let st = state();
    let app = web::app(st.clone());
    for page in [
        "/",
        "/devices",
        "/advisories",
        "/device?key=x",
        "/login",
        "/audit",
        "/users",
        "/tokens",
        "/report.html",
    ] {
        let r = call(&app, "GET", page, &[], "").await;
        assert_eq!(
            (r.status, r.location()),
            (StatusCode::SEE_OTHER, "/setup"),
            "{page}"
        );
    }
    assert_eq!(
        call(&app, "GET", "/api/v1/devices", &[], "").await.status,
        StatusCode::UNAUTHORIZED
    );
    let form = call(&app, "GET", "/setup", &[], "").await;
    assert_eq!(form.status, StatusCode::OK);
    assert!(form.body.contains("Create the administrator"));
    let pre = cookie_pair(&form.cookie("ward_pre").unwrap());
    // The first visitor is not admin: the one-time token from the console is needed.
    for token in ["", "0123456789abcdef01234567"] {
        let guess = format!(
            "name=mallory&password={0}&password2={0}&csrf={1}&token={token}",
            enc(PASSWORD),
            form.csrf()
        );
        let r = call(&app, "POST", "/setup", &[("cookie", &pre)], &guess).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "token {token:?}");
        assert_eq!(st.db(|s| Ok(s.user_count()?)).await.unwrap(), 0);
    }
    assert_eq!(st.setup_token().len(), 24);
    let body = format!(
        "name=root&password={0}&password2={0}&csrf={1}&token={2}",
        enc(PASSWORD),
        form.csrf(),
        st.setup_token()
    );
    // Without the pre-login cookie the token proves nothing.
    assert_eq!(
        call(&app, "POST", "/setup", &[], &body).await.status,
        StatusCode::FORBIDDEN
    );
    let done = call(&app, "POST", "/setup", &[("cookie", &pre)], &body).await;
    assert_eq!(done.status, StatusCode::OK);
    assert!(
        done.body.contains("otpauth://totp/Ward:root?secret="),
        "{}",
        done.body
    );
    // The URI is also there as an inline SVG QR code that reads back to it.
    let uri = shown_uri(&done.body);
    assert_eq!(read_qr(&done.body), uri);
    // A second administrator cannot be created this way.
    let again = call(
        &app,
        "POST",
        "/setup",
        &[("cookie", &pre)],
        &body.replace("root", "mallory"),
    )
    .await;
    assert_eq!(
        (again.status, again.location()),
        (StatusCode::SEE_OTHER, "/login")
    );
    let users = st.db(|s| Ok(s.users()?)).await.unwrap();
    assert_eq!(users.len(), 1);
    assert_eq!(
        (users[0].name.as_str(), users[0].role.as_str()),
        ("root", "admin")
    );
    assert!(users[0].password_hash.starts_with("$argon2id$"));
    assert_eq!(call(&app, "GET", "/", &[], "").await.location(), "/login");
}

#[tokio::test]
async fn every_openapi_route_refuses_unauthenticated_and_underprivileged() {
    let st = state();
    let app = web::app(st.clone());
    account(&st, "ada", Role::Admin).await;
    account(&st, "ana", Role::Analyst).await;
    account(&st, "vic", Role::Viewer).await;
    let tokens = [
        (Role::Viewer, token_for(&st, "vic").await),
        (Role::Analyst, token_for(&st, "ana").await),
        (Role::Admin, token_for(&st, "ada").await),
    ];
    st.db_mut(|s| Ok(s.intake_register(&[("ip:10.0.0.9".into(), model::Timestamp(1), None)])?))
        .await
        .unwrap();
    store_alerts(&st).await;
    let alert_id = st
        .db(|s| Ok(s.stored_alerts(&Default::default())?[0].id))
        .await
        .unwrap()
        .to_string();
    // A remediation item for `POST /api/v1/remediation/{id}` (the body below sets its owner).
    let item_id = st
        .db_mut(|s| {
            s.apply_remediation(
                &[store::remediation::Op::Open {
                    device: "ip:10.0.0.9".into(),
                    subject: remediation::Subject::Finding {
                        kind: risk::FindingKind::CleartextPhi,
                    },
                    severity: risk::Severity::High,
                    title: "HL7 in cleartext".into(),
                    evidence: "flow 1".into(),
                    due: 0,
                }],
                1,
            )?;
            Ok(s.remediation_items(&Default::default())?[0].id)
        })
        .await
        .unwrap()
        .to_string();
    let doc = call(&app, "GET", "/api/v1/openapi.json", &[], "").await;
    assert_eq!(doc.status, StatusCode::OK);
    let doc: serde_json::Value = serde_json::from_str(&doc.body).unwrap();
    let paths = doc["paths"].as_object().unwrap();
    assert_eq!(paths.len(), web::api::ROUTES.len());
    let mut checked = 0;
    for (path, item) in paths {
        for (method, op) in item.as_object().unwrap() {
            let required = Role::parse(op["x-ward-role"].as_str().unwrap()).unwrap();
            let id = if path.starts_with("/api/v1/remediation/") {
                &item_id
            } else {
                &alert_id
            };
            let uri = path
                .replace("{key}", &enc("00:11:22:33:44:55"))
                .replace("{id}", id);
            let m = method.to_uppercase();
            let r = call(&app, &m, &uri, &[], "").await;
            assert_eq!(
                r.status,
                StatusCode::UNAUTHORIZED,
                "{m} {uri} without token"
            );
            assert!(r.headers.contains_key(header::WWW_AUTHENTICATE));
            let r = call(
                &app,
                &m,
                &uri,
                &[("authorization", "Bearer ward_not-a-token")],
                "",
            )
            .await;
            assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{m} {uri} bad token");
            // A session cookie is not an API credential.
            let r = call(&app, &m, &uri, &[("cookie", "ward_session=abc")], "").await;
            assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{m} {uri} cookie");
            for (role, token) in &tokens {
                // POST operations take a JSON body (an approval of a device awaiting intake; alert
                // status changes ignore its fields and are harmless when repeated: ack, close, reopen).
                let (body, ctype) = if m == "POST" {
                    (
                        r#"{"device":"ip:10.0.0.9","owner":"biomed"}"#,
                        "application/json",
                    )
                } else {
                    ("", "text/plain")
                };
                let r = call(
                    &app,
                    &m,
                    &uri,
                    &[
                        ("authorization", &format!("Bearer {token}")),
                        ("content-type", ctype),
                    ],
                    body,
                )
                .await;
                if *role < required {
                    assert_eq!(r.status, StatusCode::FORBIDDEN, "{m} {uri} as {role:?}");
                } else {
                    assert_eq!(
                        r.status,
                        StatusCode::OK,
                        "{m} {uri} as {role:?}: {}",
                        r.body
                    );
                }
            }
            checked += 1;
        }
    }
    assert_eq!(checked, web::api::ROUTES.len());
}

#[tokio::test]
async fn login_with_password_and_totp_csrf_and_sessions() {
    let st = state();
    let app = web::app(st.clone());
    let secret = account(&st, "ada", Role::Admin).await;
    let form = call(&app, "GET", "/login", &[], "").await;
    let pre = cookie_pair(&form.cookie("ward_pre").unwrap());
    let code = totp::code(&secret, auth::now() as u64).unwrap();
    // Wrong pre-login token: refused before any credential check.
    let body = format!(
        "name=ada&password={}&code={code}&csrf=forged",
        enc(PASSWORD)
    );
    assert_eq!(
        call(&app, "POST", "/login", &[("cookie", &pre)], &body)
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    // Password without the right code fails.
    let body = format!(
        "name=ada&password={}&code=000000&csrf={}",
        enc(PASSWORD),
        form.csrf()
    );
    let bad = call(&app, "POST", "/login", &[("cookie", &pre)], &body).await;
    assert_eq!(bad.status, StatusCode::UNAUTHORIZED);
    assert!(bad.cookie("ward_session").is_none());
    assert!(
        bad.body
            .contains("the code is wrong or expired; check the device clock"),
        "{}",
        bad.body
    );
    // A wrong password with the same code reads exactly the same: the hint
    // does not tell which of the three was wrong.
    let wrong_pw = format!(
        "name=ada&password=not-the-password&code=000000&csrf={}",
        form.csrf()
    );
    let bad_pw = call(&app, "POST", "/login", &[("cookie", &pre)], &wrong_pw).await;
    assert_eq!(bad_pw.status, StatusCode::UNAUTHORIZED);
    let error = |b: &str| {
        b[b.find("class=\"error\"").unwrap()..]
            .split("</p>")
            .next()
            .unwrap()
            .to_string()
    };
    assert_eq!(error(&bad_pw.body), error(&bad.body));
    // Password and code succeed; the cookie is Secure, HttpOnly, SameSite=Strict.
    let body = format!(
        "name=ada&password={}&code={code}&csrf={}",
        enc(PASSWORD),
        form.csrf()
    );
    let ok = call(&app, "POST", "/login", &[("cookie", &pre)], &body).await;
    assert_eq!((ok.status, ok.location()), (StatusCode::SEE_OTHER, "/"));
    let set = ok.cookie("ward_session").unwrap();
    for attr in ["HttpOnly", "Secure", "SameSite=Strict", "Path=/"] {
        assert!(set.contains(attr), "{set}");
    }
    let sid = cookie_pair(&set);
    assert_eq!(sid.len(), "ward_session=".len() + 64);
    // The same code cannot be replayed.
    let replay = call(&app, "POST", "/login", &[("cookie", &pre)], &body).await;
    assert_eq!(replay.status, StatusCode::UNAUTHORIZED);
    // The session works; the page carries the security headers.
    let home = call(&app, "GET", "/", &[("cookie", &sid)], "").await;
    assert_eq!(home.status, StatusCode::OK);
    assert!(
        home.body
            .contains(">ada</a> <span class=\"role\">admin</span>"),
        "{}",
        home.body
    );
    let csp = home
        .headers
        .get("content-security-policy")
        .unwrap()
        .to_str()
        .unwrap();
    assert!(csp.contains("default-src 'none'") && !csp.contains("unsafe-inline"));
    assert!(home.headers.contains_key("strict-transport-security"));
    let csrf = home.csrf();
    // State-changing forms need the session's CSRF token.
    assert_eq!(
        call(&app, "POST", "/tokens", &[("cookie", &sid)], "label=x")
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        call(
            &app,
            "POST",
            "/tokens",
            &[("cookie", &sid)],
            "label=x&csrf=nope"
        )
        .await
        .status,
        StatusCode::FORBIDDEN
    );
    let made = call(
        &app,
        "POST",
        "/tokens",
        &[("cookie", &sid)],
        &format!("label=siem&csrf={csrf}"),
    )
    .await;
    assert_eq!(made.status, StatusCode::OK);
    let i = made.body.find("id=\"new-token\">").unwrap() + 15;
    let token = made.body[i..].split('<').next().unwrap().to_string();
    assert!(token.starts_with("ward_"));
    let api = call(
        &app,
        "GET",
        "/api/v1/audit",
        &[("authorization", &format!("Bearer {token}"))],
        "",
    )
    .await;
    assert_eq!(api.status, StatusCode::OK);
    let actions: Vec<String> = serde_json::from_str::<Vec<serde_json::Value>>(&api.body)
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap().to_string())
        .collect();
    for a in ["login_failed", "login_ok", "token_created"] {
        assert!(actions.iter().any(|x| x == a), "{a} in {actions:?}");
    }
    // Tokens are stored hashed.
    let stored = st.db(|s| Ok(s.api_tokens()?)).await.unwrap();
    assert_eq!(stored.len(), 1);
    // Admin pages; users created from the UI get a TOTP URI.
    let users = call(
        &app,
        "POST",
        "/users",
        &[("cookie", &sid)],
        &format!(
            "name=vic&role=viewer&password={}&csrf={csrf}",
            enc(PASSWORD)
        ),
    )
    .await;
    assert!(
        users.body.contains("otpauth://totp/Ward:vic"),
        "{}",
        users.body
    );
    assert_eq!(
        call(&app, "GET", "/audit", &[("cookie", &sid)], "")
            .await
            .status,
        StatusCode::OK
    );
    // Account changes need CSRF and are audited; a disabled account's sessions end.
    let vic_secret = st
        .db(|s| Ok(s.user_by_name("vic")?.unwrap().totp_secret))
        .await
        .unwrap();
    let vic_sid = login(&app, "vic", &vic_secret)
        .await
        .map_err(|r| r.body)
        .unwrap();
    assert_eq!(
        call(
            &app,
            "POST",
            "/users/update",
            &[("cookie", &sid)],
            "name=vic&action=disable"
        )
        .await
        .status,
        StatusCode::FORBIDDEN
    );
    let r = call(
        &app,
        "POST",
        "/users/update",
        &[("cookie", &sid)],
        &format!("name=vic&action=disable&csrf={csrf}"),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(
        call(&app, "GET", "/", &[("cookie", &vic_sid)], "")
            .await
            .location(),
        "/login"
    );
    let r = call(
        &app,
        "POST",
        "/users/update",
        &[("cookie", &sid)],
        &format!("name=ada&action=role&role=viewer&csrf={csrf}"),
    )
    .await;
    assert!(r.body.contains("cannot change your own account"));
    // Token revocation.
    let revoke = call(
        &app,
        "POST",
        "/tokens/revoke",
        &[("cookie", &sid)],
        &format!("id={}&csrf={csrf}", stored[0].id),
    )
    .await;
    assert_eq!(revoke.status, StatusCode::OK);
    assert_eq!(
        call(
            &app,
            "GET",
            "/api/v1/audit",
            &[("authorization", &format!("Bearer {token}"))],
            ""
        )
        .await
        .status,
        StatusCode::UNAUTHORIZED
    );
    let log = st.db(|s| Ok(s.audit_log(100)?)).await.unwrap();
    assert!(log
        .iter()
        .any(|e| e.action == "user_changed" && e.detail == "vic disabled"));
    assert!(log.iter().any(|e| e.action == "token_revoked"));
    // Logout needs CSRF, then ends the session.
    assert_eq!(
        call(&app, "POST", "/logout", &[("cookie", &sid)], "csrf=bad")
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    let out = call(
        &app,
        "POST",
        "/logout",
        &[("cookie", &sid)],
        &format!("csrf={csrf}"),
    )
    .await;
    assert_eq!(out.status, StatusCode::SEE_OTHER);
    assert_eq!(
        call(&app, "GET", "/", &[("cookie", &sid)], "")
            .await
            .location(),
        "/login"
    );
}

#[tokio::test]
async fn viewer_cannot_reach_admin_or_export_pages() {
    let st = state();
    let app = web::app(st.clone());
    let secret = account(&st, "vic", Role::Viewer).await;
    let sid = login(&app, "vic", &secret)
        .await
        .map_err(|r| r.body)
        .unwrap();
    for page in ["/audit", "/users", "/report.html"] {
        assert_eq!(
            call(&app, "GET", page, &[("cookie", &sid)], "")
                .await
                .status,
            StatusCode::FORBIDDEN,
            "{page}"
        );
    }
    let home = call(&app, "GET", "/", &[("cookie", &sid)], "").await;
    let body = format!(
        "name=x&role=admin&password={}&csrf={}",
        enc(PASSWORD),
        home.csrf()
    );
    assert_eq!(
        call(&app, "POST", "/users", &[("cookie", &sid)], &body)
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        call(&app, "GET", "/devices", &[("cookie", &sid)], "")
            .await
            .status,
        StatusCode::OK
    );
}

#[tokio::test]
async fn failed_logins_are_throttled() {
    let st = state();
    let app = web::app(st.clone());
    let secret = account(&st, "ada", Role::Admin).await;
    // Failures of one user from one address (the in-process client's).
    for _ in 0..auth::PAIR_FAILURES {
        let form = call(&app, "GET", "/login", &[], "").await;
        let pre = cookie_pair(&form.cookie("ward_pre").unwrap());
        let body = format!(
            "name=ada&password=wrong-password-xx&code=123456&csrf={}",
            form.csrf()
        );
        assert_eq!(
            call(&app, "POST", "/login", &[("cookie", &pre)], &body)
                .await
                .status,
            StatusCode::UNAUTHORIZED
        );
    }
    // Now even the right password and code wait from that address (1 s, then 2, 4 ...).
    let r = login(&app, "ada", &secret).await.unwrap_err();
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS);
    assert!(r.body.contains("Too many failed attempts"));
    let log = st.db(|s| Ok(s.audit_log(100)?)).await.unwrap();
    // Folded: the series' first failure is a row (the 10th, 100th ... would add one each).
    let failed: Vec<_> = log.iter().filter(|e| e.action == "login_failed").collect();
    assert_eq!(failed.len(), 1, "{failed:?}");
    assert_eq!(failed[0].actor, "ada");
    assert!(log.iter().any(|e| e.action == "login_throttled"));
}

#[tokio::test]
async fn hostile_names_render_as_text() {
    let st = state();
    let app = web::app(st.clone());
    let secret = account(&st, "ada", Role::Admin).await;
    let sid = login(&app, "ada", &secret)
        .await
        .map_err(|r| r.body)
        .unwrap();
    let pages = [
        "/".to_string(),
        "/devices".to_string(),
        "/advisories".to_string(),
        format!("/devices?q={}", enc("<script>")),
        format!("/device?key={}", enc("00:11:22:33:44:55")),
    ];
    for p in &pages {
        let r = call(&app, "GET", p, &[("cookie", &sid)], "").await;
        assert_eq!(r.status, StatusCode::OK, "{p}");
        assert!(!r.body.contains("<script"), "{p}: raw script tag");
        assert!(!r.body.contains("<img src=x"), "{p}: raw img tag");
        // The overview lists only devices with findings; the others show every device.
        assert!(
            p == "/" || p == "/advisories" || shown(&r.body).contains(HOSTILE),
            "{p}: escaped name missing"
        );
    }
    let detail = call(&app, "GET", &pages[4], &[("cookie", &sid)], "").await;
    assert!(shown(&detail.body).contains(SQLI));
    let token = token_for(&st, "ada").await;
    let auth = format!("Bearer {token}");
    let list = call(
        &app,
        "GET",
        "/api/v1/devices?q=script",
        &[("authorization", &auth)],
        "",
    )
    .await;
    let v: serde_json::Value = serde_json::from_str(&list.body).unwrap();
    assert_eq!(v["total"], 1);
    assert_eq!(v["devices"][0]["names"][0], HOSTILE);
    assert!(list
        .headers
        .get(header::CONTENT_TYPE)
        .unwrap()
        .to_str()
        .unwrap()
        .starts_with("application/json"));
    let one = call(
        &app,
        "GET",
        &format!("/api/v1/devices/{}", enc("00:11:22:33:44:55")),
        &[("authorization", &auth)],
        "",
    )
    .await;
    let v: serde_json::Value = serde_json::from_str(&one.body).unwrap();
    assert_eq!(v["summary"]["model"], SQLI);
    // Filters, sort and paging.
    let p = call(
        &app,
        "GET",
        "/api/v1/devices?sort=name&per_page=1&page=2",
        &[("authorization", &auth)],
        "",
    )
    .await;
    let v: serde_json::Value = serde_json::from_str(&p.body).unwrap();
    assert_eq!(
        (
            v["total"].as_u64(),
            v["page"].as_u64(),
            v["devices"].as_array().unwrap().len()
        ),
        (Some(2), Some(2), 1)
    );
    let p = call(
        &app,
        "GET",
        "/api/v1/devices?category=Printer",
        &[("authorization", &auth)],
        "",
    )
    .await;
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&p.body).unwrap()["total"],
        0
    );
    let rep = call(&app, "GET", "/report.html", &[("cookie", &sid)], "").await;
    assert_eq!(rep.status, StatusCode::OK);
    assert!(!rep.body.contains("<script>alert"));
}

#[tokio::test]
async fn failures_from_one_address_are_throttled_across_names() {
    let st = state();
    let app = web::app(st.clone());
    let secret = account(&st, "ada", Role::Admin).await;
    // Guessing many names from one address: each name stays under its own
    // limit, the address does not.
    for i in 0..auth::IP_FAILURES {
        let form = call(&app, "GET", "/login", &[], "").await;
        let pre = cookie_pair(&form.cookie("ward_pre").unwrap());
        let body = format!(
            "name=guess{i}&password=wrong-password-xx&code=123456&csrf={}",
            form.csrf()
        );
        assert_eq!(
            call(&app, "POST", "/login", &[("cookie", &pre)], &body)
                .await
                .status,
            StatusCode::UNAUTHORIZED
        );
    }
    let r = login(&app, "ada", &secret).await.unwrap_err();
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS);
}

#[tokio::test]
async fn expired_and_unknown_sessions_are_refused() {
    let st = state();
    let app = web::app(st.clone());
    account(&st, "ada", Role::Admin).await;
    st.db(|s| {
        let u = s.user_by_name("ada")?.unwrap();
        let t = auth::now();
        s.create_session(&auth::sha256_hex("old"), u.id, "c", t - 100, t - 1)?;
        Ok(())
    })
    .await
    .unwrap();
    for c in ["ward_session=old", "ward_session=unknown", "ward_session="] {
        let r = call(&app, "GET", "/devices", &[("cookie", c)], "").await;
        assert_eq!(
            (r.status, r.location()),
            (StatusCode::SEE_OTHER, "/login"),
            "{c}"
        );
    }
}

/// Logs in with a recovery code (or any code) through the form.
async fn login_with(app: &Router, name: &str, password: &str, code: &str) -> Res {
    let form = call(app, "GET", "/login", &[], "").await;
    let pre = cookie_pair(&form.cookie("ward_pre").unwrap());
    let body = format!(
        "name={name}&password={}&code={}&csrf={}",
        enc(password),
        enc(code),
        form.csrf()
    );
    call(app, "POST", "/login", &[("cookie", &pre)], &body).await
}

fn session_of(r: &Res) -> String {
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    cookie_pair(&r.cookie("ward_session").expect("session cookie"))
}

async fn audit_actions(st: &AppState) -> Vec<(String, String)> {
    st.db(|s| Ok(s.audit_log(1000)?))
        .await
        .unwrap()
        .into_iter()
        .map(|e| (e.action, e.detail))
        .collect()
}

#[tokio::test]
async fn password_change_admin_reset_and_recovery_codes() {
    let st = state();
    let app = web::app(st.clone());
    let ada = account(&st, "ada", Role::Admin).await;
    let vic = st
        .db(|s| Ok(auth::create_account(s, "vic", Role::Viewer, PASSWORD, false)?.unwrap()))
        .await
        .unwrap();
    assert_eq!(vic.recovery_codes.len(), auth::RECOVERY_CODES);
    let admin = login(&app, "ada", &ada).await.map_err(|r| r.body).unwrap();
    let other = login(&app, "vic", &vic.totp_secret)
        .await
        .map_err(|r| r.body)
        .unwrap();
    // Recovery code instead of the TOTP code (typed in lower case, any dashes): works once.
    let code = vic.recovery_codes[3].to_lowercase().replace('-', " ");
    let sid = session_of(&login_with(&app, "vic", PASSWORD, &code).await);
    assert_eq!(
        login_with(&app, "vic", PASSWORD, &code).await.status,
        StatusCode::UNAUTHORIZED
    );
    // ... and only with the right password.
    assert_eq!(
        login_with(&app, "vic", "wrong password xx", &vic.recovery_codes[4])
            .await
            .status,
        StatusCode::UNAUTHORIZED
    );
    let page = call(&app, "GET", "/account", &[("cookie", &sid)], "").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(
        page.body.contains("9 unused recovery codes left"),
        "{}",
        page.body
    );
    let csrf = page.csrf();
    // Password change: needs CSRF and the current password; ends the other sessions.
    let new_pw = "a much better passphrase";
    let body = format!(
        "current={}&password={}&password2={}",
        enc(PASSWORD),
        enc(new_pw),
        enc(new_pw)
    );
    assert_eq!(
        call(
            &app,
            "POST",
            "/account/password",
            &[("cookie", &sid)],
            &body
        )
        .await
        .status,
        StatusCode::FORBIDDEN
    );
    let wrong = format!(
        "current=nope-nope-nope&password={}&password2={}&csrf={csrf}",
        enc(new_pw),
        enc(new_pw)
    );
    assert!(call(
        &app,
        "POST",
        "/account/password",
        &[("cookie", &sid)],
        &wrong
    )
    .await
    .body
    .contains("current password is wrong"));
    let short = format!(
        "current={}&password=short&password2=short&csrf={csrf}",
        enc(PASSWORD)
    );
    assert!(call(
        &app,
        "POST",
        "/account/password",
        &[("cookie", &sid)],
        &short
    )
    .await
    .body
    .contains("at least 12"));
    let ok = call(
        &app,
        "POST",
        "/account/password",
        &[("cookie", &sid)],
        &format!("{body}&csrf={csrf}"),
    )
    .await;
    assert!(ok.body.contains("Password changed"), "{}", ok.body);
    assert_eq!(
        call(&app, "GET", "/", &[("cookie", &sid)], "").await.status,
        StatusCode::OK
    );
    assert_eq!(
        call(&app, "GET", "/", &[("cookie", &other)], "")
            .await
            .location(),
        "/login"
    );
    assert_eq!(
        login_with(&app, "vic", PASSWORD, &vic.recovery_codes[5])
            .await
            .status,
        StatusCode::UNAUTHORIZED
    );
    // New recovery codes replace the old ones.
    let regen = call(
        &app,
        "POST",
        "/account/recovery",
        &[("cookie", &sid)],
        &format!("current={}&csrf={csrf}", enc(new_pw)),
    )
    .await;
    assert!(
        regen.body.contains("id=\"recovery-codes\""),
        "{}",
        regen.body
    );
    let marker = "id=\"recovery-codes\"><li><code>";
    let i = regen.body.find(marker).unwrap() + marker.len();
    let fresh = regen.body[i..].split('<').next().unwrap().to_string();
    assert_eq!(fresh.len(), 19);
    assert_eq!(
        login_with(&app, "vic", new_pw, &vic.recovery_codes[6])
            .await
            .status,
        StatusCode::UNAUTHORIZED
    );
    let _fresh_sid = session_of(&login_with(&app, "vic", new_pw, &fresh).await);

    // An administrator's reset: a one-time password, every session ends, and
    // the owner can do nothing but change it.
    let users = call(&app, "GET", "/users", &[("cookie", &admin)], "").await;
    let reset = call(
        &app,
        "POST",
        "/users/update",
        &[("cookie", &admin)],
        &format!("name=vic&action=reset&csrf={}", users.csrf()),
    )
    .await;
    let i = reset
        .body
        .find("id=\"one-time-password\">")
        .expect("one-time password shown")
        + 23;
    let otp = reset.body[i..].split('<').next().unwrap().to_string();
    assert_eq!(otp.len(), 20);
    assert_eq!(
        call(&app, "GET", "/", &[("cookie", &sid)], "")
            .await
            .location(),
        "/login"
    );
    let code = totp::code(&vic.totp_secret, auth::now() as u64 + 30).unwrap();
    let forced = session_of(&login_with(&app, "vic", &otp, &code).await);
    for p in ["/", "/devices", "/map", "/tokens"] {
        assert_eq!(
            call(&app, "GET", p, &[("cookie", &forced)], "")
                .await
                .location(),
            "/account",
            "{p}"
        );
    }
    let page = call(&app, "GET", "/account", &[("cookie", &forced)], "").await;
    assert!(page.body.contains("id=\"must-change\""));
    let body = format!(
        "current={}&password={}&password2={}&csrf={}",
        enc(&otp),
        enc(PASSWORD),
        enc(PASSWORD),
        page.csrf()
    );
    assert!(call(
        &app,
        "POST",
        "/account/password",
        &[("cookie", &forced)],
        &body
    )
    .await
    .body
    .contains("Password changed"));
    assert_eq!(
        call(&app, "GET", "/devices", &[("cookie", &forced)], "")
            .await
            .status,
        StatusCode::OK
    );
    // Everything above is in the audit log.
    let log = audit_actions(&st).await;
    for a in [
        "recovery_code_used",
        "password_change_failed",
        "password_changed",
        "recovery_codes_created",
        "password_reset",
    ] {
        assert!(log.iter().any(|(x, _)| x == a), "{a} missing in {log:?}");
    }
    assert!(log
        .iter()
        .any(|(x, d)| x == "password_reset" && d.starts_with("vic")));
}

#[tokio::test]
async fn idle_and_old_sessions_end_and_tokens_expire() {
    let rows = vec![device("10.0.0.8", "ALARIS-PC-07", "PUMP")];
    let make = |policy| {
        web::AppState::with_options(
            store::Store::open_in_memory().unwrap(),
            None,
            web::Inventory::Fixed(Arc::new(rows.clone())),
            true,
            "t.db",
            policy,
        )
    };
    // Limits of a few seconds, so a slow (loaded, debug-built) login still leaves the first request inside them.
    let idle = make(web::SessionPolicy {
        idle_secs: 3,
        absolute_secs: 3600,
    });
    let old = make(web::SessionPolicy {
        idle_secs: 3600,
        absolute_secs: 3,
    });
    let (idle_app, old_app) = (web::app(idle.clone()), web::app(old.clone()));
    let s1 = account(&idle, "ada", Role::Admin).await;
    let s2 = account(&old, "ada", Role::Admin).await;
    let a = login(&idle_app, "ada", &s1)
        .await
        .map_err(|r| r.body)
        .unwrap();
    let b = login(&old_app, "ada", &s2)
        .await
        .map_err(|r| r.body)
        .unwrap();
    assert_eq!(
        call(&idle_app, "GET", "/", &[("cookie", &a)], "")
            .await
            .status,
        StatusCode::OK
    );
    assert_eq!(
        call(&old_app, "GET", "/", &[("cookie", &b)], "")
            .await
            .status,
        StatusCode::OK
    );
    tokio::time::sleep(std::time::Duration::from_millis(4100)).await;
    assert_eq!(
        call(&idle_app, "GET", "/", &[("cookie", &a)], "")
            .await
            .location(),
        "/login"
    );
    assert_eq!(
        call(&old_app, "GET", "/", &[("cookie", &b)], "")
            .await
            .location(),
        "/login"
    );
    assert!(audit_actions(&idle)
        .await
        .iter()
        .any(|(x, _)| x == "session_expired"));

    // API tokens: an expiry from the page, and an expired token is refused.
    let st = make(web::SessionPolicy::default());
    let app = web::app(st.clone());
    let secret = account(&st, "ada", Role::Admin).await;
    let sid = login(&app, "ada", &secret)
        .await
        .map_err(|r| r.body)
        .unwrap();
    let page = call(&app, "GET", "/tokens", &[("cookie", &sid)], "").await;
    let csrf = page.csrf();
    let bad = call(
        &app,
        "POST",
        "/tokens",
        &[("cookie", &sid)],
        &format!("label=x&expires_days=abc&csrf={csrf}"),
    )
    .await;
    assert!(bad.body.contains("Expiry: a number of days"));
    let made = call(
        &app,
        "POST",
        "/tokens",
        &[("cookie", &sid)],
        &format!("label=siem&expires_days=7&csrf={csrf}"),
    )
    .await;
    let i = made.body.find("id=\"new-token\">").unwrap() + 15;
    let token = made.body[i..].split('<').next().unwrap().to_string();
    let bearer = format!("Bearer {token}");
    assert_eq!(
        call(
            &app,
            "GET",
            "/api/v1/devices",
            &[("authorization", &bearer)],
            ""
        )
        .await
        .status,
        StatusCode::OK
    );
    assert!(audit_actions(&st)
        .await
        .iter()
        .any(|(x, d)| x == "token_created" && d.contains("expires in 7 days")));
    let expiries = st.db(|s| Ok(s.api_token_expiries()?)).await.unwrap();
    let (id, exp) = expiries[0];
    let exp = exp.expect("expiry stored");
    assert!((exp - auth::now() - 7 * 86_400).abs() < 60);
    st.db(move |s| Ok(s.set_api_token_expiry(id, Some(auth::now() - 1))?))
        .await
        .unwrap();
    let r = call(
        &app,
        "GET",
        "/api/v1/devices",
        &[("authorization", &bearer)],
        "",
    )
    .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert!(call(&app, "GET", "/tokens", &[("cookie", &sid)], "")
        .await
        .body
        .contains("expired "));
}

#[tokio::test]
async fn network_map_shows_who_talks_to_whom() {
    use identify::{EndpointKey, Fact, FactKind};
    let mut store = store::Store::open_in_memory().unwrap();
    let peer = |from: &str, to: &str, n: u64| Fact {
        endpoint: EndpointKey {
            mac: None,
            ip: from.parse().ok(),
        },
        kind: FactKind::Peer,
        value: to.into(),
        source: "conn".into(),
        first_seen: model::Timestamp(1),
        last_seen: model::Timestamp(2),
        count: n,
        evidence: "flow 1".into(),
    };
    store
        .ingest(
            &store::RunSummary::default(),
            &[
                peer("10.0.0.7", "10.0.0.8", 4),
                peer("10.0.0.8", "10.0.0.7", 1),
                peer("10.0.0.7", "203.0.113.5", 2),
            ],
            &[],
        )
        .unwrap();
    let rows = vec![
        device_at("ip:10.0.0.7", HOSTILE, SQLI, "10.0.0.7"),
        device_at("ip:10.0.0.8", "ALARIS-PC-07", "PUMP", "10.0.0.8"),
    ];
    let st = AppState::new(store, web::Inventory::Fixed(Arc::new(rows)), true, "t.db");
    let app = web::app(st.clone());
    let secret = account(&st, "ada", Role::Admin).await;
    let sid = login(&app, "ada", &secret)
        .await
        .map_err(|r| r.body)
        .unwrap();
    let page = call(&app, "GET", "/map", &[("cookie", &sid)], "").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("<svg class=\"netmap\""));
    assert!(!page.body.contains("<script"), "raw script tag");
    assert!(
        shown(&page.body).contains("<script>alert(1)</script>"),
        "hostile label shown as text"
    );
    assert!(page.body.contains("10.0.0.0/24") && page.body.contains("outside"));
    assert_eq!(page.body.matches("<line ").count(), 2);
    assert!(
        page.body.contains("href=\"/device?key=ip%3A10.0.0.8\""),
        "nodes link to devices"
    );
    assert!(page.body.contains("href=\"/map\""), "nav links the map");
    let one = call(&app, "GET", "/map?limit=1", &[("cookie", &sid)], "").await;
    assert!(
        one.body.contains("2 hosts and 2 links left out"),
        "{}",
        one.body
    );
    let token = token_for(&st, "ada").await;
    let api = call(
        &app,
        "GET",
        "/api/v1/map",
        &[("authorization", &format!("Bearer {token}"))],
        "",
    )
    .await;
    let v: serde_json::Value = serde_json::from_str(&api.body).unwrap();
    assert_eq!(
        (v["total_nodes"].as_u64(), v["total_edges"].as_u64()),
        (Some(3), Some(2))
    );
    assert_eq!(v["nodes"][0]["id"], "ip:10.0.0.7");
    assert_eq!(v["nodes"][0]["label"], HOSTILE);
    let e = v["edges"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["b"] == "ip:10.0.0.8" || e["a"] == "ip:10.0.0.8")
        .unwrap();
    assert_eq!(e["flows"], 5);
    // The device page lists its peers.
    let d = call(
        &app,
        "GET",
        "/device?key=ip%3A10.0.0.8",
        &[("cookie", &sid)],
        "",
    )
    .await;
    assert!(d.body.contains("id=\"peers\""));
    assert!(shown(&d.body).contains("<script>alert(1)</script></a>"));
    let d = call(
        &app,
        "GET",
        "/api/v1/devices/ip%3A10.0.0.7",
        &[("authorization", &format!("Bearer {token}"))],
        "",
    )
    .await;
    let v: serde_json::Value = serde_json::from_str(&d.body).unwrap();
    assert_eq!(v["peers_total"], 2);
    assert_eq!(v["peers"][0]["id"], "ip:10.0.0.8");
    assert_eq!(v["peers"][1]["device"], false);
}

fn alert(
    kind: monitor::AlertKind,
    device: &str,
    key: &str,
    summary: &str,
    t: i64,
) -> monitor::Alert {
    monitor::Alert {
        kind,
        severity: kind.severity(),
        device: device.into(),
        ip: "10.0.0.7".parse().unwrap(),
        key: key.into(),
        summary: summary.into(),
        evidence: monitor::Evidence {
            flow: Some(monitor::FlowTuple {
                transport: model::Transport::Tcp,
                client: "10.0.0.66".parse().unwrap(),
                client_port: 51000,
                server: "10.0.0.7".parse().unwrap(),
                server_port: 23,
            }),
            first_packet: model::Timestamp(t),
            last_packet: model::Timestamp(t + 2_000_000),
            counts: [("ports".to_string(), 3)].into_iter().collect(),
        },
        count: 2,
        first_seen: model::Timestamp(t),
        last_seen: model::Timestamp(t + 5_000_000),
    }
}

async fn store_alerts(st: &AppState) {
    let t = 1_767_600_000_000_000; // 2026-01-05, µs
    let alerts = vec![
        alert(
            monitor::AlertKind::UnauthorizedManagementAccess,
            "00:11:22:33:44:55",
            HOSTILE,
            HOSTILE,
            t,
        ),
        alert(
            monitor::AlertKind::NewPeer,
            "ip:10.9.9.9",
            "10.0.0.1",
            "talked to 10.0.0.1 for the first time",
            t + 60_000_000,
        ),
        alert(
            monitor::AlertKind::PortScan,
            "ip:10.9.9.8",
            "scan",
            "probed 40 ports",
            t + 120_000_000,
        ),
    ];
    st.db_mut(move |s| Ok(s.store_alerts(&alerts)?))
        .await
        .unwrap();
}

#[tokio::test]
async fn alerts_page_lists_filters_and_shows_hostile_strings_as_text() {
    let st = state();
    store_alerts(&st).await;
    let app = web::app(st.clone());
    let secret = account(&st, "vic", Role::Viewer).await;
    let sid = login(&app, "vic", &secret)
        .await
        .map_err(|r| r.body)
        .unwrap();
    let page = call(&app, "GET", "/alerts", &[("cookie", &sid)], "").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(
        !page.body.contains(HOSTILE),
        "raw markup from an alert reached the page"
    );
    let text = shown(&page.body);
    assert!(text.contains(HOSTILE));
    assert!(
        page.body.contains("talked to 10.0.0.1 for the first time")
            && page.body.contains("probed 40 ports")
    );
    // Newest first; severity badges; the resolved device links to its page; evidence is compact.
    let (scan, peer, mgmt) = (
        page.body.find("probed 40 ports").unwrap(),
        page.body.find("talked to 10.0.0.1").unwrap(),
        text.find(&format!("{HOSTILE}<br>")).unwrap_or(usize::MAX),
    );
    assert!(scan < peer, "newest first");
    assert!(mgmt != usize::MAX);
    assert!(
        page.body
            .contains(r#"<span class="sev critical">critical</span>"#)
            && page.body.contains(r#"<span class="sev low">low</span>"#)
    );
    assert!(page
        .body
        .contains("/device?key=00%3A11%3A22%3A33%3A44%3A55"));
    assert!(text.contains("tcp 10.0.0.66:51000 -> 10.0.0.7:23") && page.body.contains("ports 3"));
    assert!(
        page.body.contains("2026-01-05 08:00:00 UTC"),
        "readable times"
    );
    // The navigation counts the open high and critical alerts.
    assert!(page
        .body
        .contains(r#"<span class="nav-count" title="open high and critical alerts">2</span>"#));
    let high = call(
        &app,
        "GET",
        "/alerts?severity=high&kind=",
        &[("cookie", &sid)],
        "",
    )
    .await;
    assert!(high.body.contains("probed 40 ports") && !high.body.contains("talked to 10.0.0.1"));
    assert!(high.body.contains("<b>2</b> alerts match"));
    let peers = call(
        &app,
        "GET",
        "/alerts?kind=new_peer",
        &[("cookie", &sid)],
        "",
    )
    .await;
    assert!(peers.body.contains("talked to 10.0.0.1") && !peers.body.contains("probed 40 ports"));
    let paged = call(
        &app,
        "GET",
        "/alerts?per_page=1&page=2",
        &[("cookie", &sid)],
        "",
    )
    .await;
    assert!(paged.body.contains("talked to 10.0.0.1") && paged.body.contains("page 2 of 3"));
    assert!(
        paged
            .body
            .contains("href=\"/alerts?per_page=1&amp;page=1\"")
            || paged.body.contains("page=1")
    );
    let bad = call(
        &app,
        "GET",
        "/alerts?severity=urgent",
        &[("cookie", &sid)],
        "",
    )
    .await;
    assert_eq!(bad.status, StatusCode::OK);
    assert!(bad.body.contains("unknown severity"));
    let home = call(&app, "GET", "/", &[("cookie", &sid)], "").await;
    assert!(
        home.body.contains("Open alerts")
            && home.body.contains("probed 40 ports")
            && !home.body.contains(HOSTILE)
    );

    // The API: same filters, JSON strings.
    let token = token_for(&st, "vic").await;
    let auth = format!("Bearer {token}");
    let r = call(
        &app,
        "GET",
        "/api/v1/alerts",
        &[("authorization", &auth)],
        "",
    )
    .await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.headers[header::CONTENT_TYPE]
        .to_str()
        .unwrap()
        .starts_with("application/json"));
    let v: serde_json::Value = serde_json::from_str(&r.body).unwrap();
    assert_eq!(v["total"], 3);
    let a = v["alerts"].as_array().unwrap();
    assert_eq!(a[0]["kind"], "port_scan");
    assert_eq!(a[2]["summary"], HOSTILE);
    assert_eq!(a[2]["key"], HOSTILE);
    assert_eq!(
        a[2]["evidence"]["flow"],
        "tcp 10.0.0.66:51000 -> 10.0.0.7:23"
    );
    let r = call(
        &app,
        "GET",
        "/api/v1/alerts?severity=critical",
        &[("authorization", &auth)],
        "",
    )
    .await;
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&r.body).unwrap()["total"],
        1
    );
    let r = call(
        &app,
        "GET",
        "/api/v1/alerts?kind=nope",
        &[("authorization", &auth)],
        "",
    )
    .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn intake_approval_for_analysts_refused_for_viewers_and_audited() {
    let st = state();
    st.db_mut(|s| {
        Ok(s.intake_register(&[
            ("00:11:22:33:44:55".into(), model::Timestamp(5), None),
            (
                "ip:10.0.0.99".into(),
                model::Timestamp(6),
                Some("https://mud.example/pump".into()),
            ),
        ])?)
    })
    .await
    .unwrap();
    let app = web::app(st.clone());
    let ana = account(&st, "ana", Role::Analyst).await;
    let vic = account(&st, "vic", Role::Viewer).await;
    let sa = login(&app, "ana", &ana).await.map_err(|r| r.body).unwrap();
    let sv = login(&app, "vic", &vic).await.map_err(|r| r.body).unwrap();

    // A viewer sees the list read-only, and a POST is refused.
    let page = call(&app, "GET", "/intake", &[("cookie", &sv)], "").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("ip:10.0.0.99") && page.body.contains("https://mud.example/pump"));
    assert!(!page.body.contains("action=\"/intake/approve\""));
    let body = format!(
        "device={}&owner=evil&csrf={}",
        enc("ip:10.0.0.99"),
        page.csrf()
    );
    assert_eq!(
        call(&app, "POST", "/intake/approve", &[("cookie", &sv)], &body)
            .await
            .status,
        StatusCode::FORBIDDEN
    );

    // An analyst approves through the form (CSRF required).
    let page = call(&app, "GET", "/intake", &[("cookie", &sa)], "").await;
    assert!(page.body.contains("action=\"/intake/approve\""));
    let body = format!(
        "device={}&owner={}&location=ICU&group=pumps&csrf=wrong",
        enc("ip:10.0.0.99"),
        enc(HOSTILE)
    );
    assert_eq!(
        call(&app, "POST", "/intake/approve", &[("cookie", &sa)], &body)
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    let body = format!(
        "device={}&owner={}&location=ICU&group=pumps&csrf={}",
        enc("ip:10.0.0.99"),
        enc(HOSTILE),
        page.csrf()
    );
    let r = call(&app, "POST", "/intake/approve", &[("cookie", &sa)], &body).await;
    assert_eq!(
        (r.status, r.location()),
        (StatusCode::SEE_OTHER, "/intake"),
        "{}",
        r.body
    );
    // A device that does not await intake: 404.
    let body = format!("device={}&csrf={}", enc("ip:10.0.0.100"), page.csrf());
    assert_eq!(
        call(&app, "POST", "/intake/approve", &[("cookie", &sa)], &body)
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    let intake = st.db(|s| Ok(s.intake()?)).await.unwrap();
    let e = intake.iter().find(|e| e.device == "ip:10.0.0.99").unwrap();
    assert!(e.approved);
    assert_eq!(
        (
            e.owner.as_deref(),
            e.location.as_deref(),
            e.group.as_deref()
        ),
        (Some(HOSTILE), Some("ICU"), Some("pumps"))
    );
    let page = call(&app, "GET", "/intake", &[("cookie", &sv)], "").await;
    assert!(!page.body.contains(HOSTILE) && shown(&page.body).contains(HOSTILE));
    assert!(page.body.contains("Approved (1)") && page.body.contains("Awaiting approval (1)"));
    let audit = audit_actions(&st).await;
    assert!(
        audit.iter().any(|(a, d)| a == "intake_approved"
            && d.starts_with("ip:10.0.0.99 owner")
            && d.contains("ICU")),
        "{audit:?}"
    );

    // The API: viewers read, analysts approve with a JSON body.
    let (tv, ta) = (token_for(&st, "vic").await, token_for(&st, "ana").await);
    let json = [("content-type", "application/json")];
    let r = call(
        &app,
        "GET",
        "/api/v1/intake",
        &[("authorization", &format!("Bearer {tv}"))],
        "",
    )
    .await;
    let v: serde_json::Value = serde_json::from_str(&r.body).unwrap();
    assert_eq!(v.as_array().unwrap().len(), 2);
    let approve = r#"{"device":"00:11:22:33:44:55","group":"monitors"}"#;
    let r = call(
        &app,
        "POST",
        "/api/v1/intake/approve",
        &[("authorization", &format!("Bearer {tv}")), json[0]],
        approve,
    )
    .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = call(
        &app,
        "POST",
        "/api/v1/intake/approve",
        &[("authorization", &format!("Bearer {ta}")), json[0]],
        approve,
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let v: serde_json::Value = serde_json::from_str(&r.body).unwrap();
    assert_eq!(
        (v["approved"].as_bool(), v["group"].as_str()),
        (Some(true), Some("monitors"))
    );
    for bad in [
        "",
        "{",
        "[]",
        r#"{"device":""}"#,
        r#"{"device":"ip:1","owner":"a\u0000b"}"#,
        r#"{"device":7}"#,
    ] {
        let r = call(
            &app,
            "POST",
            "/api/v1/intake/approve",
            &[("authorization", &format!("Bearer {ta}")), json[0]],
            bad,
        )
        .await;
        assert!(r.status.is_client_error(), "{bad}: {}", r.status);
    }
    let r = call(
        &app,
        "POST",
        "/api/v1/intake/approve",
        &[("authorization", &format!("Bearer {ta}")), json[0]],
        r#"{"device":"ip:10.1.1.1"}"#,
    )
    .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert_eq!(
        audit_actions(&st)
            .await
            .iter()
            .filter(|(a, _)| a == "intake_approved")
            .count(),
        2
    );
}

#[tokio::test]
async fn alert_lifecycle_for_analysts_refused_for_viewers_escaped_and_audited() {
    let st = state();
    store_alerts(&st).await;
    let app = web::app(st.clone());
    let ana = account(&st, "ana", Role::Analyst).await;
    let vic = account(&st, "vic", Role::Viewer).await;
    let sa = login(&app, "ana", &ana).await.map_err(|r| r.body).unwrap();
    let sv = login(&app, "vic", &vic).await.map_err(|r| r.body).unwrap();
    let ids = st
        .db(|s| Ok(s.stored_alerts(&Default::default())?))
        .await
        .unwrap();
    let id_of = |kind: monitor::AlertKind| ids.iter().find(|a| a.alert.kind == kind).unwrap().id;
    let (mgmt, scan, peer) = (
        id_of(monitor::AlertKind::UnauthorizedManagementAccess),
        id_of(monitor::AlertKind::PortScan),
        id_of(monitor::AlertKind::NewPeer),
    );

    // Viewers see statuses but no buttons, and their POSTs are refused.
    let page = call(&app, "GET", "/alerts", &[("cookie", &sv)], "").await;
    assert!(
        page.body.contains(r#"<span class="st open">open</span>"#)
            && !page.body.contains("action=\"/alerts/status\"")
    );
    let body = format!("id={mgmt}&action=ack&csrf={}", page.csrf());
    assert_eq!(
        call(&app, "POST", "/alerts/status", &[("cookie", &sv)], &body)
            .await
            .status,
        StatusCode::FORBIDDEN
    );

    // Analysts acknowledge with a hostile comment (CSRF required); it renders as text.
    let page = call(&app, "GET", "/alerts?severity=high", &[("cookie", &sa)], "").await;
    assert!(page.body.contains("action=\"/alerts/status\""));
    assert!(page
        .body
        .contains(r#"<span class="nav-count" title="open high and critical alerts">2</span>"#));
    let body = format!(
        "id={mgmt}&action=ack&comment={}&back={}&csrf=wrong",
        enc(HOSTILE),
        enc("/alerts?severity=high")
    );
    assert_eq!(
        call(&app, "POST", "/alerts/status", &[("cookie", &sa)], &body)
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    let body = format!(
        "id={mgmt}&action=ack&comment={}&back={}&csrf={}",
        enc(HOSTILE),
        enc("/alerts?severity=high"),
        page.csrf()
    );
    let r = call(&app, "POST", "/alerts/status", &[("cookie", &sa)], &body).await;
    assert_eq!(
        (r.status, r.location()),
        (StatusCode::SEE_OTHER, "/alerts?severity=high"),
        "{}",
        r.body
    );
    let page = call(&app, "GET", "/alerts?severity=high", &[("cookie", &sa)], "").await;
    assert!(
        !page.body.contains("<script"),
        "raw markup from a comment reached the page"
    );
    let text = shown(&page.body);
    assert!(
        text.contains(&format!(r#"<span class="comment">{HOSTILE}</span>"#)),
        "comment shown as text"
    );
    assert!(page.body.contains(
        r#"<span class="st acknowledged">acknowledged</span><br><span class="muted">by ana, "#
    ));
    assert!(
        page.body
            .contains(r#"<span class="nav-count" title="open high and critical alerts">1</span>"#),
        "acknowledged alerts leave the badge"
    );
    // An off-site "back" is ignored.
    let body = format!(
        "id={scan}&action=close&back={}&csrf={}",
        enc("//evil.example/x"),
        page.csrf()
    );
    let r = call(&app, "POST", "/alerts/status", &[("cookie", &sa)], &body).await;
    assert_eq!((r.status, r.location()), (StatusCode::SEE_OTHER, "/alerts"));
    // Closed alerts leave the default list; the status filter finds them.
    let page = call(&app, "GET", "/alerts", &[("cookie", &sa)], "").await;
    assert!(!page.body.contains("probed 40 ports") && page.body.contains("<b>2</b> alerts match"));
    let closed = call(&app, "GET", "/alerts?status=closed", &[("cookie", &sa)], "").await;
    assert!(
        closed.body.contains("probed 40 ports")
            && closed.body.contains("<b>1</b> alerts match")
            && closed.body.contains("value=\"reopen\"")
    );
    assert!(
        call(&app, "GET", "/alerts?status=all", &[("cookie", &sa)], "")
            .await
            .body
            .contains("<b>3</b> alerts match")
    );
    let bad = call(&app, "GET", "/alerts?status=done", &[("cookie", &sa)], "").await;
    assert!(bad.status == StatusCode::OK && bad.body.contains("unknown status"));
    // Refused changes say why and change nothing.
    let body = format!("id={scan}&action=ack&csrf={}", page.csrf());
    let r = call(&app, "POST", "/alerts/status", &[("cookie", &sa)], &body).await;
    assert!(
        r.status == StatusCode::BAD_REQUEST && r.body.contains("is closed"),
        "{}",
        r.status
    );
    let body = format!(
        "id={peer}&action=close&comment={}&csrf={}",
        "x".repeat(501),
        page.csrf()
    );
    let r = call(&app, "POST", "/alerts/status", &[("cookie", &sa)], &body).await;
    assert!(r.status == StatusCode::BAD_REQUEST && r.body.contains("at most 500 characters"));
    for body in [
        format!("id=abc&action=ack&csrf={}", page.csrf()),
        format!("id={peer}&action=delete&csrf={}", page.csrf()),
        format!("id=999999&action=ack&csrf={}", page.csrf()),
    ] {
        assert_eq!(
            call(&app, "POST", "/alerts/status", &[("cookie", &sa)], &body)
                .await
                .status,
            StatusCode::BAD_REQUEST,
            "{body}"
        );
    }
    assert_eq!(
        st.db(move |s| Ok(s.alert_by_id(peer)?.unwrap().status))
            .await
            .unwrap(),
        store::AlertStatus::Open
    );

    // The device page lists its alerts with status and buttons, escaped.
    let dev = call(
        &app,
        "GET",
        "/device?key=00%3A11%3A22%3A33%3A44%3A55",
        &[("cookie", &sa)],
        "",
    )
    .await;
    assert_eq!(dev.status, StatusCode::OK);
    assert!(!dev.body.contains("<script>alert"));
    assert!(
        dev.body.contains("<h2 id=\"alerts\">Alerts</h2>")
            && dev.body.contains(&format!("id=\"alert-{mgmt}\""))
            && dev.body.contains("value=\"close\"")
    );
    assert!(shown(&dev.body).contains(&format!(r#"<span class="comment">{HOSTILE}</span>"#)));
    let dev = call(
        &app,
        "GET",
        "/device?key=00%3A11%3A22%3A33%3A44%3A55&alert_status=closed",
        &[("cookie", &sa)],
        "",
    )
    .await;
    assert!(
        !dev.body.contains(&format!("id=\"alert-{mgmt}\""))
            && dev.body.contains("No closed alert for this device.")
    );

    // The API: analysts change status with an optional JSON comment; viewers are refused.
    let (tv, ta) = (token_for(&st, "vic").await, token_for(&st, "ana").await);
    let (bv, ba) = (format!("Bearer {tv}"), format!("Bearer {ta}"));
    let json = ("content-type", "application/json");
    let r = call(
        &app,
        "POST",
        &format!("/api/v1/alerts/{peer}/ack"),
        &[("authorization", &bv), json],
        "",
    )
    .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = call(
        &app,
        "POST",
        &format!("/api/v1/alerts/{peer}/ack"),
        &[("authorization", &ba), json],
        &serde_json::json!({"comment": HOSTILE}).to_string(),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let v: serde_json::Value = serde_json::from_str(&r.body).unwrap();
    assert_eq!(
        (
            v["id"].as_i64(),
            v["status"].as_str(),
            v["status_by"].as_str(),
            v["comment"].as_str()
        ),
        (Some(peer), Some("acknowledged"), Some("ana"), Some(HOSTILE))
    );
    let r = call(
        &app,
        "POST",
        &format!("/api/v1/alerts/{peer}/close"),
        &[("authorization", &ba)],
        "",
    )
    .await;
    assert_eq!(
        (
            r.status,
            serde_json::from_str::<serde_json::Value>(&r.body).unwrap()["status"].as_str()
        ),
        (StatusCode::OK, Some("closed"))
    );
    let r = call(
        &app,
        "POST",
        &format!("/api/v1/alerts/{peer}/ack"),
        &[("authorization", &ba)],
        "",
    )
    .await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    assert_eq!(
        call(
            &app,
            "POST",
            "/api/v1/alerts/999999/ack",
            &[("authorization", &ba)],
            ""
        )
        .await
        .status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        call(
            &app,
            "POST",
            "/api/v1/alerts/x/ack",
            &[("authorization", &ba)],
            ""
        )
        .await
        .status,
        StatusCode::BAD_REQUEST
    );
    assert_eq!(
        call(
            &app,
            "POST",
            &format!("/api/v1/alerts/{peer}/reopen"),
            &[("authorization", &ba), json],
            "{"
        )
        .await
        .status,
        StatusCode::UNPROCESSABLE_ENTITY
    );
    let long = serde_json::json!({"comment": "y".repeat(501)}).to_string();
    assert_eq!(
        call(
            &app,
            "POST",
            &format!("/api/v1/alerts/{peer}/reopen"),
            &[("authorization", &ba), json],
            &long
        )
        .await
        .status,
        StatusCode::BAD_REQUEST
    );
    let r = call(
        &app,
        "POST",
        &format!("/api/v1/alerts/{peer}/reopen"),
        &[("authorization", &ba), json],
        r#"{"comment":"again"}"#,
    )
    .await;
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&r.body).unwrap()["status"],
        "open"
    );
    let r = call(
        &app,
        "GET",
        "/api/v1/alerts?status=all",
        &[("authorization", &bv)],
        "",
    )
    .await;
    let v: serde_json::Value = serde_json::from_str(&r.body).unwrap();
    let statuses: Vec<&str> = v["alerts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["status"].as_str().unwrap())
        .collect();
    assert_eq!(
        statuses,
        ["closed", "open", "acknowledged"],
        "newest first: scan, peer, management access"
    );
    let r = call(
        &app,
        "GET",
        "/api/v1/alerts?status=acknowledged",
        &[("authorization", &bv)],
        "",
    )
    .await;
    let v: serde_json::Value = serde_json::from_str(&r.body).unwrap();
    assert_eq!(
        (v["total"].as_u64(), v["alerts"][0]["comment"].as_str()),
        (Some(1), Some(HOSTILE))
    );

    // Every change is in the audit log, with who and the comment.
    let audit = audit_actions(&st).await;
    let changes: Vec<&str> = audit
        .iter()
        .map(|(a, _)| a.as_str())
        .filter(|a| a.starts_with("alert_"))
        .collect();
    assert_eq!(changes.len(), 5, "{audit:?}");
    assert!(
        audit.iter().any(|(a, d)| a == "alert_acknowledged"
            && d.starts_with(&format!("#{mgmt} unauthorized_management_access"))
            && d.contains("comment \"<script>")),
        "{audit:?}"
    );
    assert!(
        audit
            .iter()
            .any(|(a, d)| a == "alert_reopened" && d.contains("comment \"again\"")),
        "{audit:?}"
    );
}

/// A sign-in form POST from `ip` (the connection's address, as the server sees it).
async fn post_login(app: &Router, ip: &str, name: &str, password: &str, code: &str) -> Res {
    let form = call(app, "GET", "/login", &[], "").await;
    let pre = cookie_pair(&form.cookie("ward_pre").unwrap());
    let body = format!(
        "name={}&password={}&code={}&csrf={}",
        enc(name),
        enc(password),
        enc(code),
        form.csrf()
    );
    let mut req = Request::builder()
        .method("POST")
        .uri("/login")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header(header::COOKIE, pre)
        .body(Body::from(body))
        .unwrap();
    let addr: SocketAddr = format!("{ip}:40000").parse().unwrap();
    req.extensions_mut()
        .insert(axum::extract::ConnectInfo(addr));
    let res = app.clone().oneshot(req).await.unwrap();
    let status = res.status();
    let headers = res.headers().clone();
    let bytes = res.into_body().collect().await.unwrap().to_bytes();
    Res {
        status,
        headers,
        body: String::from_utf8_lossy(&bytes).into_owned(),
    }
}

fn db_bytes(dir: &std::path::Path) -> u64 {
    ["ward.db", "ward.db-wal"]
        .iter()
        .filter_map(|f| std::fs::metadata(dir.join(f)).ok())
        .map(|m| m.len())
        .sum()
}

/// Issue 19, item 4: sign-in floods with huge user names must not grow the
/// append-only audit log (it can never be cleaned): bodies are capped,
/// logged fields bounded and repeated failures folded.
#[tokio::test]
async fn login_floods_with_huge_names_keep_the_database_small() {
    let dir = std::env::temp_dir().join(format!("ward-web-flood-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let store = store::Store::open(&dir.join("ward.db")).unwrap();
    let st = AppState::new(store, web::Inventory::Scored, true, "test.db");
    let app = web::app(st.clone());
    account(&st, "ada", Role::Admin).await;
    let before = db_bytes(&dir);
    let huge = "A".repeat(1_900_000);
    for i in 0..40 {
        let r = post_login(&app, "192.0.2.7", &huge, "wrong password", "123456").await;
        assert!(r.status.is_client_error(), "attempt {i}: {}", r.status);
    }
    // Under the body cap: bounded fields, folded rows.
    let big = format!("{}{}", "B".repeat(40_000), "\u{1b}[2J");
    for i in 0..40 {
        let r = post_login(&app, &format!("192.0.2.{}", i % 3 + 8), &big, "wrong", "1").await;
        assert!(
            matches!(
                r.status,
                StatusCode::UNAUTHORIZED | StatusCode::TOO_MANY_REQUESTS
            ),
            "{}",
            r.status
        );
    }
    let log = st.db(|s| Ok(s.audit_log(1000)?)).await.unwrap();
    let logged: usize = log
        .iter()
        .map(|e| e.actor.len() + e.detail.len() + e.ip.len() + e.action.len())
        .sum();
    assert!(log.len() <= 20, "{} audit rows for 80 attempts", log.len());
    assert!(logged < 20_000, "{logged} bytes logged");
    assert!(
        log.iter()
            .all(|e| !e.actor.contains('\u{1b}') && e.actor.len() <= 200),
        "actors bounded and cleaned"
    );
    let grown = db_bytes(&dir).saturating_sub(before);
    assert!(grown < 512 * 1024, "the database grew by {grown} bytes");
    let _ = std::fs::remove_dir_all(&dir);
}

/// Issue 19, item 8: an attacker failing from elsewhere throttles only
/// themselves; the owner, from their own address and with a correct
/// password and code, still signs in, also past the per-user throttle.
#[tokio::test]
async fn an_attacker_cannot_lock_the_owner_out() {
    let st = state();
    let app = web::app(st.clone());
    let secret = account(&st, "ada", Role::Admin).await;
    for _ in 0..10 {
        post_login(&app, "198.51.100.66", "ada", "guess guess guess", "000000").await;
    }
    let r = post_login(&app, "198.51.100.66", "ada", PASSWORD, "000000").await;
    assert_eq!(
        r.status,
        StatusCode::TOO_MANY_REQUESTS,
        "the attacker is throttled"
    );
    let code = totp::code(&secret, auth::now() as u64).unwrap();
    let r = post_login(&app, "192.0.2.10", "ada", PASSWORD, &code).await;
    assert_eq!(
        (r.status, r.location()),
        (StatusCode::SEE_OTHER, "/"),
        "the owner signs in: {}",
        r.body
    );
    // Many addresses (a botnet): the per-user throttle refuses wrong
    // credentials, yet lets the owner's correct ones through.
    for i in 0..30 {
        post_login(
            &app,
            &format!("203.0.113.{i}"),
            "ada",
            "guess guess guess",
            "000000",
        )
        .await;
    }
    let r = post_login(&app, "203.0.113.200", "ada", "another guess", "000000").await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS);
    let codes = st
        .db(|s| {
            let u = s.user_by_name("ada")?.unwrap();
            auth::new_recovery_codes(s, u.id)
        })
        .await
        .unwrap();
    let r = post_login(&app, "192.0.2.10", "ada", PASSWORD, &codes[0]).await;
    assert_eq!(
        (r.status, r.location()),
        (StatusCode::SEE_OTHER, "/"),
        "a recovery code passes the per-user throttle: {}",
        r.body
    );
}

/// Issue 19, item 8: argon2 runs outside the store lock, so a burst of
/// sign-ins by strangers does not hold up a signed-in user's requests.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_burst_of_sign_ins_does_not_hold_up_signed_in_users() {
    let st = state();
    let app = web::app(st.clone());
    account(&st, "ada", Role::Admin).await;
    let token = token_for(&st, "ada").await;
    let bearer = format!("Bearer {token}");
    // Warm the snapshot, and time one password hash.
    assert_eq!(
        call(
            &app,
            "GET",
            "/api/v1/devices",
            &[("authorization", &bearer)],
            ""
        )
        .await
        .status,
        StatusCode::OK
    );
    // The fastest of a few (the first one also pays for warming up).
    let one_hash = (0..3)
        .map(|_| {
            let t = Instant::now();
            let _ = auth::hash_password("a password to time the hash");
            t.elapsed()
        })
        .min()
        .unwrap();
    let burst: Vec<_> = (0..24)
        .map(|i| {
            let app = app.clone();
            tokio::spawn(async move {
                post_login(
                    &app,
                    &format!("198.51.100.{i}"),
                    &format!("nobody{i}"),
                    "wrong password",
                    "123456",
                )
                .await
            })
        })
        .collect();
    tokio::time::sleep(one_hash / 2).await;
    let mut took = Vec::new();
    for _ in 0..10 {
        let t = Instant::now();
        let r = call(
            &app,
            "GET",
            "/api/v1/devices",
            &[("authorization", &bearer)],
            "",
        )
        .await;
        took.push(t.elapsed());
        assert_eq!(r.status, StatusCode::OK);
    }
    let still_hashing = burst.iter().any(|b| !b.is_finished());
    for b in burst {
        b.await.unwrap();
    }
    // Waiting for the store lock behind a hash takes on average half a hash
    // or more; a request that never waits for one takes a few milliseconds.
    let slow = took.iter().filter(|d| **d > one_hash / 2).count();
    assert!(
        slow <= 2,
        "{slow} of 10 signed-in requests waited more than half a hash ({one_hash:?}) during the burst: {took:?}"
    );
    assert!(
        still_hashing,
        "the burst was still running (else the test proves nothing)"
    );
}

/// The hashing slots of [`AppState::hashing`]: min(cores, 4).
fn hashing_slots() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get().min(4))
}

/// Takes every hashing slot with a job that waits until the returned guard
/// is dropped; returns once all of them run.
async fn take_hashing_slots(st: &AppState) -> tokio::sync::RwLockWriteGuard<'static, ()> {
    let gate: &'static tokio::sync::RwLock<()> = Box::leak(Box::new(tokio::sync::RwLock::new(())));
    let hold = gate.write().await;
    let running = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    for _ in 0..hashing_slots() {
        let (st, running) = (st.clone(), running.clone());
        tokio::spawn(async move {
            st.hashing(move || {
                running.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                drop(gate.blocking_read());
            })
            .await
        });
    }
    while running.load(std::sync::atomic::Ordering::SeqCst) < hashing_slots() {
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    hold
}

/// Issue 19, item 8: at most min(cores, 4) password hashes run at once; the
/// others queue.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_hashing_is_bounded() {
    use std::sync::atomic::{AtomicUsize, Ordering};
    let st = state();
    let (now, most) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
    let jobs: Vec<_> = (0..12)
        .map(|_| {
            let (st, now, most) = (st.clone(), now.clone(), most.clone());
            tokio::spawn(async move {
                st.hashing(move || {
                    let n = now.fetch_add(1, Ordering::SeqCst) + 1;
                    most.fetch_max(n, Ordering::SeqCst);
                    std::thread::sleep(std::time::Duration::from_millis(40));
                    now.fetch_sub(1, Ordering::SeqCst);
                })
                .await
                .unwrap()
            })
        })
        .collect();
    for j in jobs {
        assert!(j.await.unwrap().is_some(), "every job got a slot in time");
    }
    let most = most.load(Ordering::SeqCst);
    assert!(
        most <= hashing_slots() && most <= 4,
        "{most} hashes at once"
    );
}

/// Issue 19, item 8: a password change, new recovery codes and an
/// administrator's reset hash in the bounded slots, outside the store lock,
/// like sign-ins: while every slot is taken they wait and the store stays
/// free for everyone else; once a slot frees up they complete.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn account_changes_hash_outside_the_store_lock() {
    let st = state();
    let app = web::app(st.clone());
    let ada = account(&st, "ada", Role::Admin).await;
    let vic = account(&st, "vic", Role::Viewer).await;
    let eve = account(&st, "eve", Role::Viewer).await;
    let admin = login(&app, "ada", &ada).await.map_err(|r| r.body).unwrap();
    let v = login(&app, "vic", &vic).await.map_err(|r| r.body).unwrap();
    let e = login(&app, "eve", &eve).await.map_err(|r| r.body).unwrap();
    let csrf = |sid: String, page: &'static str| {
        let app = app.clone();
        async move {
            call(&app, "GET", page, &[("cookie", &sid)], "")
                .await
                .csrf()
        }
    };
    let new_pw = "a much better passphrase";
    let requests = [
        (
            v.clone(),
            "/account/password",
            format!(
                "current={}&password={}&password2={}&csrf={}",
                enc(PASSWORD),
                enc(new_pw),
                enc(new_pw),
                csrf(v.clone(), "/account").await
            ),
            "Password changed",
        ),
        (
            e.clone(),
            "/account/recovery",
            format!(
                "current={}&csrf={}",
                enc(PASSWORD),
                csrf(e.clone(), "/account").await
            ),
            "id=\"recovery-codes\"",
        ),
        (
            admin.clone(),
            "/users/update",
            format!(
                "name=eve&action=reset&csrf={}",
                csrf(admin.clone(), "/users").await
            ),
            "id=\"one-time-password\"",
        ),
    ];
    // One at a time; eve asks for new codes before the reset ends her sessions.
    for (sid, path, body, expect) in requests {
        let hold = take_hashing_slots(&st).await;
        let req = {
            let app = app.clone();
            tokio::spawn(async move { call(&app, "POST", path, &[("cookie", &sid)], &body).await })
        };
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
        assert!(!req.is_finished(), "{path} waits for a hashing slot");
        let t = Instant::now();
        tokio::time::timeout(
            std::time::Duration::from_secs(2),
            st.db(|s| Ok(s.user_count()?)),
        )
        .await
        .expect("the store is free while they wait")
        .unwrap();
        assert!(t.elapsed().as_millis() < 500, "{:?}", t.elapsed());
        drop(hold);
        let res = req.await.unwrap();
        assert!(res.body.contains(expect), "{path}: {}", res.body);
    }
}

#[tokio::test]
async fn sites_on_the_overview_with_counts_ingest_status_and_filters() {
    let mut store = store::Store::open_in_memory().unwrap();
    let obs = |id: &str, site: &str| store::Observation {
        id: id.into(),
        site: site.into(),
        ..Default::default()
    };
    store
        .ingest_observations(
            &[
                obs("n:0", "north"),
                obs("n:1", "north"),
                obs("s:0", "south"),
            ],
            auth::now(),
        )
        .unwrap();
    let rows = vec![
        device_at("north/ip:10.0.0.1", "pump-north", "PUMP", "10.0.0.1"),
        device_at("north/ip:10.0.0.2", "monitor-north", "MON", "10.0.0.2"),
        device_at("south/ip:10.0.0.1", "ct-south", "CT", "10.0.0.1"),
    ];
    let st = AppState::new(
        store,
        web::Inventory::Fixed(Arc::new(rows)),
        true,
        "test.db",
    );
    let app = web::app(st.clone());
    let secret = account(&st, "vic", Role::Viewer).await;
    let Ok(cookie) = login(&app, "vic", &secret).await else {
        panic!("login failed")
    };
    let all = call(&app, "GET", "/", &[("cookie", &cookie)], "").await;
    assert_eq!(all.status, StatusCode::OK);
    let b = &all.body;
    for want in [
        "id=\"sites\"",
        "href=\"/devices?site=north\">2</a>",
        "href=\"/devices?site=south\">1</a>",
        "id=\"ingest\"",
        "rebuild pending",
        "<b>3</b>",
    ] {
        assert!(b.contains(want), "{want} missing: {b}");
    }
    let north = call(&app, "GET", "/?site=north", &[("cookie", &cookie)], "").await;
    assert!(north.body.contains("site north") && north.body.contains("<b>2</b>"));
    let token = token_for(&st, "vic").await;
    let bearer = format!("Bearer {token}");
    let south = call(
        &app,
        "GET",
        "/api/v1/devices?site=south",
        &[("authorization", &bearer)],
        "",
    )
    .await;
    let v: serde_json::Value = serde_json::from_str(&south.body).unwrap();
    assert_eq!(v["total"], 1, "{v}");
    assert_eq!(v["devices"][0]["site"], "south");
    let one = call(
        &app,
        "GET",
        "/api/v1/devices/south%2Fip%3A10.0.0.1",
        &[("authorization", &bearer)],
        "",
    )
    .await;
    assert_eq!(one.status, StatusCode::OK, "{}", one.body);
    let risk = call(
        &app,
        "GET",
        "/api/v1/risk",
        &[("authorization", &bearer)],
        "",
    )
    .await;
    let v: serde_json::Value = serde_json::from_str(&risk.body).unwrap();
    assert_eq!(
        v["sites"],
        serde_json::json!([{"label": "north", "count": 2}, {"label": "south", "count": 1}])
    );
}

/// A scored device of any category at any address (for fleets built in tests).
fn device_of(key: &str, name: &str, ip: &str, cat: identify::Category) -> app::ScoredDevice {
    let mut d = device_at(key, name, "APP", ip);
    d.category = cat.label();
    d.medical = cat.is_medical();
    d.names = if name.is_empty() {
        Vec::new()
    } else {
        vec![name.into()]
    };
    d.model = None;
    d
}

fn state_of(rows: Vec<app::ScoredDevice>) -> AppState {
    AppState::new(
        store::Store::open_in_memory().unwrap(),
        web::Inventory::Fixed(Arc::new(rows)),
        true,
        "test.db",
    )
}

#[tokio::test]
async fn category_and_kind_filters_accept_both_spellings_and_show_display_names() {
    let st = state();
    store_alerts(&st).await;
    let app = web::app(st.clone());
    account(&st, "vic", Role::Viewer).await;
    let token = token_for(&st, "vic").await;
    let bearer = format!("Bearer {token}");
    for spelling in ["infusion_pump", "infusion%20pump", "Infusion+Pump"] {
        let r = call(
            &app,
            "GET",
            &format!("/api/v1/devices?category={spelling}"),
            &[("authorization", &bearer)],
            "",
        )
        .await;
        let v: serde_json::Value = serde_json::from_str(&r.body).unwrap();
        assert_eq!(v["total"], 2, "{spelling}: {}", r.body);
    }
    let secret = account(&st, "val", Role::Viewer).await;
    let sid = login(&app, "val", &secret)
        .await
        .map_err(|r| r.body)
        .unwrap();
    let page = call(
        &app,
        "GET",
        "/devices?category=infusion_pump",
        &[("cookie", &sid)],
        "",
    )
    .await;
    assert!(
        page.body.contains("<b>2</b> devices match"),
        "{}",
        page.body
    );
    assert!(page.body.contains("ALARIS-PC-07"));
    // Alert kinds: display names in the list and the filter, either spelling filters.
    for kind in ["port_scan", "Port%20scan", "port+scan"] {
        let r = call(
            &app,
            "GET",
            &format!("/alerts?kind={kind}&status=all"),
            &[("cookie", &sid)],
            "",
        )
        .await;
        assert_eq!(r.status, StatusCode::OK, "{kind}");
        assert!(r.body.contains("<b>1</b> alerts match"), "{kind}");
        assert!(r
            .body
            .contains("<option value=\"port_scan\" selected>Port scan</option>"));
    }
    let r = call(&app, "GET", "/alerts?status=all", &[("cookie", &sid)], "").await;
    assert!(r.body.contains("Unauthorized management access"));
    assert!(!r.body.contains(">unauthorized_management_access<"));
    // The alert of a named device names it (key in small print), not by its key.
    assert!(shown(&r.body).contains(&format!(">{HOSTILE}</a>")));
    assert!(r
        .body
        .contains("<small class=\"key\">00:11:22:33:44:55</small>"));
}

/// Every dashboard form (`web::form::FORMS`) refuses a POST without the
/// session's CSRF token, and one from a role below its own; a POST to a
/// page route outside the table is refused; the pre-session forms need
/// their cookie token.
#[tokio::test]
async fn every_form_refuses_without_csrf_and_below_its_role() {
    let st = state();
    let app = web::app(st.clone());
    let mut sessions = Vec::new();
    for (name, role) in [
        ("vic", Role::Viewer),
        ("ana", Role::Analyst),
        ("ada", Role::Admin),
    ] {
        let secret = account(&st, name, role).await;
        let sid = login(&app, name, &secret)
            .await
            .map_err(|r| r.body)
            .unwrap();
        let csrf = call(&app, "GET", "/account", &[("cookie", &sid)], "")
            .await
            .csrf();
        sessions.push((role, sid, csrf));
    }
    assert!(!web::form::FORMS.is_empty());
    for (path, required) in web::form::FORMS {
        // Not signed in: to the sign-in page.
        let r = call(&app, "POST", path, &[], "csrf=x").await;
        assert_eq!(
            (r.status, r.location()),
            (StatusCode::SEE_OTHER, "/login"),
            "{path} anonymous"
        );
        for (role, sid, csrf) in &sessions {
            for body in [String::new(), "csrf=".into(), "csrf=forged".into()] {
                let r = call(&app, "POST", path, &[("cookie", sid)], &body).await;
                assert_eq!(r.status, StatusCode::FORBIDDEN, "{path} {role:?} {body:?}");
            }
            if role < required {
                // A well-formed form with the right token, from too low a role.
                let body = format!("csrf={csrf}&device=x&id=1&name=x&role=viewer&action=ack&password=x&label=x&scope=selected");
                let r = call(&app, "POST", path, &[("cookie", sid)], &body).await;
                assert_eq!(r.status, StatusCode::FORBIDDEN, "{path} as {role:?}");
            }
        }
    }
    // A POST to a page route that is not a form is refused before any handler.
    let (_, admin, csrf) = &sessions[2];
    for path in ["/devices", "/intake", "/", "/report.html", "/intake.csv"] {
        let r = call(
            &app,
            "POST",
            path,
            &[("cookie", admin)],
            &format!("csrf={csrf}"),
        )
        .await;
        assert_eq!(r.status, StatusCode::METHOD_NOT_ALLOWED, "{path}");
    }
    for path in web::form::PRE_SESSION_FORMS {
        let r = call(&app, "POST", path, &[], "name=x&password=y&csrf=z").await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{path} without its cookie");
    }
}

#[tokio::test]
async fn unknown_devices_are_404_and_bad_forms_400() {
    let st = state();
    let app = web::app(st.clone());
    let secret = account(&st, "ada", Role::Admin).await;
    let token = token_for(&st, "ada").await;
    let sid = login(&app, "ada", &secret)
        .await
        .map_err(|r| r.body)
        .unwrap();
    let csrf = call(&app, "GET", "/account", &[("cookie", &sid)], "")
        .await
        .csrf();
    let c = [("cookie", sid.as_str())];
    assert_eq!(
        call(&app, "GET", "/device?key=mac:aa:bb", &c, "")
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        call(
            &app,
            "GET",
            "/api/v1/devices/mac:aa:bb",
            &[("authorization", &format!("Bearer {token}"))],
            ""
        )
        .await
        .status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        call(&app, "GET", "/device", &c, "").await.status,
        StatusCode::BAD_REQUEST
    );
    let r = call(
        &app,
        "POST",
        "/intake/approve",
        &c,
        &format!("device=mac:aa:bb&csrf={csrf}"),
    )
    .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.body);
    for (path, body) in [
        ("/tokens/revoke", format!("id=abc&csrf={csrf}")),
        ("/tokens/revoke", format!("csrf={csrf}")),
        ("/users", format!("name=x&csrf={csrf}")),
        ("/users/update", format!("csrf={csrf}")),
        ("/intake/bulk", format!("scope=everything&csrf={csrf}")),
        ("/intake/bulk", format!("scope=filter&csrf={csrf}")),
        ("/intake/bulk", format!("scope=selected&csrf={csrf}")),
        ("/tokens", format!("csrf={csrf}&label=x&expires_days=abc")),
    ] {
        let r = call(&app, "POST", path, &c, &body).await;
        assert_eq!(
            r.status,
            StatusCode::BAD_REQUEST,
            "{path} {body}: {}",
            r.body
        );
    }
    for path in web::form::PRE_SESSION_FORMS {
        let r = call(&app, "POST", path, &[], "csrf=z").await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{path} without fields");
    }
}

#[tokio::test]
async fn intake_scales_filters_sorts_bulk_approves_and_exports() {
    use identify::Category;
    // 500 pumps in 10.20.0.0/22, 100 printers in 10.30.0.0/24 (one with a
    // formula for a name), and a device known only by its key.
    let mut rows = Vec::new();
    let mut keys = Vec::new();
    for i in 0..500u32 {
        let (a, b) = (i / 250, i % 250 + 1);
        let key = format!("mac:02:00:00:00:{a:02x}:{b:02x}");
        rows.push(device_of(
            &key,
            &format!("PUMP-{i:03}"),
            &format!("10.20.{a}.{b}"),
            Category::InfusionPump,
        ));
        keys.push(key);
    }
    for i in 0..100u32 {
        let key = format!("mac:02:00:00:01:00:{i:02x}");
        let name = if i == 0 {
            "=HYPERLINK(\"http://x\")".to_string()
        } else {
            format!("PRN-{i:03}")
        };
        rows.push(device_of(
            &key,
            &name,
            &format!("10.30.0.{}", i + 1),
            Category::Printer,
        ));
        keys.push(key);
    }
    rows.push(device_of(
        "mac:02:00:00:02:00:01",
        "",
        "10.40.0.9",
        Category::Unknown,
    ));
    keys.push("mac:02:00:00:02:00:01".into());
    let st = state_of(rows);
    let reg: Vec<_> = keys
        .iter()
        .enumerate()
        .map(|(i, k)| (k.clone(), model::Timestamp(i as i64), None))
        .collect();
    st.db_mut(move |s| Ok(s.intake_register(&reg)?))
        .await
        .unwrap();
    let app = web::app(st.clone());
    let ana = account(&st, "ana", Role::Analyst).await;
    let sid = login(&app, "ana", &ana).await.map_err(|r| r.body).unwrap();
    let c = [("cookie", sid.as_str())];

    // Columns, names instead of keys, the key in small print.
    let page = call(&app, "GET", "/intake?sort=name", &c, "").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("Awaiting approval (601)"));
    for col in [
        "<th>Address</th>",
        "<th>Vendor</th>",
        "<th>Category</th>",
        "<th>Subnet</th>",
    ] {
        assert!(page.body.contains(col), "{col}");
    }
    assert!(
        page.body.contains(">PUMP-000</a>")
            && page
                .body
                .contains("<small class=\"key\">mac:02:00:00:00:00:01</small>")
    );
    assert!(page.body.contains("10.20.0.0/24"));
    // Without a name the key is the label, once.
    let p = call(&app, "GET", "/intake?q=10.40.0.9", &c, "").await;
    assert!(p.body.contains("Awaiting approval (1)"));
    assert!(p.body.contains(">mac:02:00:00:02:00:01</a>"));
    assert!(!p
        .body
        .contains("<small class=\"key\">mac:02:00:00:02:00:01</small>"));
    // Filters: category in either spelling, subnet as listed or any network.
    for q in [
        "category=printer",
        "category=Printer",
        "subnet=10.30.0.0/24",
    ] {
        let p = call(&app, "GET", &format!("/intake?{q}"), &c, "").await;
        assert!(p.body.contains("Awaiting approval (100)"), "{q}");
    }
    let p = call(&app, "GET", "/intake?subnet=10.20.0.0/22", &c, "").await;
    assert!(p.body.contains("Awaiting approval (500)"));
    assert!(p.body.contains("Approve all 500 matching"));
    let csrf = p.csrf();

    // A viewer cannot, nor can a form without the token.
    let body = format!("scope=filter&subnet={}&owner=biomed", enc("10.20.0.0/22"));
    assert_eq!(
        call(&app, "POST", "/intake/bulk", &c, &body).await.status,
        StatusCode::FORBIDDEN
    );
    // 500 devices of one subnet in one action.
    let started = Instant::now();
    let r = call(
        &app,
        "POST",
        "/intake/bulk",
        &c,
        &format!("{body}&location=ICU&csrf={csrf}"),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert!(r.body.contains("Approved 500 devices."), "{}", r.body);
    assert!(started.elapsed().as_secs() < 20);
    let intake = st.db(|s| Ok(s.intake()?)).await.unwrap();
    let approved: Vec<_> = intake.iter().filter(|e| e.approved).collect();
    assert_eq!(approved.len(), 500);
    assert!(approved
        .iter()
        .all(|e| e.device.starts_with("mac:02:00:00:00:")
            && e.owner.as_deref() == Some("biomed")
            && e.location.as_deref() == Some("ICU")));
    let audit = audit_actions(&st).await;
    assert_eq!(
        audit.iter().filter(|(a, _)| a == "intake_approved").count(),
        500
    );
    // By selection: the ticked rows only; an unknown key approves none (404).
    let sel = format!(
        "scope=selected&device={}&device={}&group=printers&csrf={csrf}",
        enc("mac:02:00:00:01:00:01"),
        enc("mac:02:00:00:01:00:02")
    );
    let r = call(&app, "POST", "/intake/bulk", &c, &sel).await;
    assert!(r.body.contains("Approved 2 devices."), "{}", r.body);
    let r = call(
        &app,
        "POST",
        "/intake/bulk",
        &c,
        &format!("{sel}&device=mac:99"),
    )
    .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    // CSV import of approvals: per-device fields, all or nothing.
    let csv = "device,name,owner,location\nmac:02:00:00:01:00:03,x,\"'=cmd\",Lab 2\r\nmac:02:00:00:01:00:04,,facilities,\n";
    let r = call(
        &app,
        "POST",
        "/intake/import",
        &c,
        &format!("csv={}&csrf={csrf}", enc(csv)),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert!(r.body.contains("Imported 2 approvals."), "{}", r.body);
    let intake = st.db(|s| Ok(s.intake()?)).await.unwrap();
    let get = |k: &str| intake.iter().find(|e| e.device == k).unwrap().clone();
    let e = get("mac:02:00:00:01:00:03");
    assert!(e.approved);
    assert_eq!(
        (e.owner.as_deref(), e.location.as_deref()),
        (Some("=cmd"), Some("Lab 2"))
    );
    assert_eq!(
        get("mac:02:00:00:01:00:04").owner.as_deref(),
        Some("facilities")
    );
    let r = call(
        &app,
        "POST",
        "/intake/import",
        &c,
        &format!(
            "csv={}&csrf={csrf}",
            enc("device,owner\nmac:02:00:00:01:00:05,x\nmac:77,x\n")
        ),
    )
    .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    for bad in ["", "owner\nx\n", "device\n\"open\n"] {
        let r = call(
            &app,
            "POST",
            "/intake/import",
            &c,
            &format!("csv={}&csrf={csrf}", enc(bad)),
        )
        .await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{bad:?}");
    }
    assert!(!st
        .db(|s| Ok(s.intake()?))
        .await
        .unwrap()
        .iter()
        .any(|e| e.device == "mac:02:00:00:01:00:05" && e.approved));
    // CSV export of the filtered list: audited, no formula cells.
    let r = call(&app, "GET", "/intake.csv?category=printer", &c, "").await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.body.lines().count(), 101, "{}", r.body);
    assert!(r.body.starts_with("\"device\",\"name\",\"status\",\"ip\""));
    assert!(
        r.body.contains("\"'=HYPERLINK(\"\"http://x\"\")\""),
        "{}",
        r.body
    );
    assert!(!r.body.contains(",\"=HYPERLINK"));
    assert!(audit_actions(&st)
        .await
        .iter()
        .any(|(a, d)| a == "export" && d.starts_with("intake.csv (100 records")));
    let vic = account(&st, "vic", Role::Viewer).await;
    let sv = login(&app, "vic", &vic).await.map_err(|r| r.body).unwrap();
    assert_eq!(
        call(&app, "GET", "/intake.csv", &[("cookie", &sv)], "")
            .await
            .status,
        StatusCode::FORBIDDEN
    );
}
