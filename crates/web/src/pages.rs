//! The dashboard: server-rendered pages (askama, auto-escaped), plain HTML
//! forms with CSRF tokens, no scripts. Setup and login live here too.

use crate::api::{detail, DeviceDetail};
use crate::auth::{
    self, cookie, cookie_value, now, LoginError, PageUser, Role, PRE_COOKIE, SESSION_COOKIE,
};
use crate::form::{PlainForm, Posted};
use crate::names::{self, DeviceLabel};
use crate::view::{self, score_class, DeviceQuery};
use crate::{AppState, Error};
use askama::Template;
use axum::extract::{Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::Router;
use serde::Deserialize;

const CSS: &str = include_str!("../static/app.css");

/// The page routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/static/app.css",
            get(|| async {
                (
                    [
                        (header::CONTENT_TYPE, "text/css; charset=utf-8"),
                        (header::CACHE_CONTROL, "max-age=3600"),
                    ],
                    CSS,
                )
            }),
        )
        .route("/setup", get(setup_form).post(setup))
        .route("/login", get(login_form).post(login))
        .route("/logout", axum::routing::post(logout))
        .route("/", get(overview))
        .route("/devices", get(devices))
        .route("/advisories", get(advisories))
        .route("/device", get(device))
        .route("/map", get(network_map))
        .route("/alerts", get(alerts_page))
        .route("/alerts/status", axum::routing::post(alert_status))
        .route("/remediation", get(remediation_page))
        .route(
            "/remediation/status",
            axum::routing::post(remediation_status),
        )
        .route("/intake", get(intake_page))
        .route("/intake/approve", axum::routing::post(intake_approve))
        .route("/intake/bulk", axum::routing::post(intake_bulk))
        .route("/intake/import", axum::routing::post(intake_import))
        .route("/intake.csv", get(intake_csv))
        .route("/report.html", get(report_html))
        .route("/audit", get(audit))
        .route("/users", get(users).post(add_user))
        .route("/users/update", axum::routing::post(update_user))
        .route("/tokens", get(tokens).post(add_token))
        .route("/account", get(account))
        .route("/account/password", axum::routing::post(change_password))
        .route(
            "/account/recovery",
            axum::routing::post(regenerate_recovery),
        )
        .route("/tokens/revoke", axum::routing::post(revoke_token))
        // Every POST goes through `form::FORMS` (CSRF and role checked).
        .layer(axum::middleware::from_fn(crate::form::only_listed_posts))
}

/// Navigation bar data.
pub struct Nav {
    name: String,
    role: &'static str,
    csrf: String,
    analyst: bool,
    admin: bool,
    open_alerts: usize,
}

impl Nav {
    fn of(u: &PageUser) -> Nav {
        Nav {
            name: u.user.name.clone(),
            role: u.role.as_str(),
            csrf: u.csrf.clone(),
            analyst: u.role >= Role::Analyst,
            admin: u.role >= Role::Admin,
            open_alerts: u.open_alerts,
        }
    }
}

fn render(t: &impl Template) -> Response {
    match t.render() {
        Ok(s) => Html(s).into_response(),
        Err(e) => Error::from(e).into_response(),
    }
}

/// A page showing a refused form's error: 400 (a page without one: 200).
fn render_refused(t: &impl Template, refused: bool) -> Response {
    let mut res = render(t);
    if refused && res.status() == StatusCode::OK {
        *res.status_mut() = StatusCode::BAD_REQUEST;
    }
    res
}

fn fail(e: Error) -> Response {
    e.into_response()
}

// ---------------------------------------------------------------- setup / login

#[derive(Template)]
#[template(path = "setup.html")]
struct SetupPage {
    nav: Option<Nav>,
    title: &'static str,
    pre: String,
    error: String,
    /// (name, TOTP secret, otpauth URI, the URI's QR code as SVG).
    done: Option<(String, String, String, String)>,
    codes: Vec<String>,
}

/// A fresh pre-login token, set as a cookie and embedded in the form.
fn pre_token() -> Result<String, Error> {
    auth::random_token()
}

fn with_pre(pre: &str, page: Response) -> Response {
    let mut res = page;
    if let Ok(v) = cookie(PRE_COOKIE, pre, 3600).parse() {
        res.headers_mut().append(header::SET_COOKIE, v);
    }
    res
}

fn pre_ok(headers: &HeaderMap, form_token: &str) -> bool {
    cookie_value(headers, PRE_COOKIE).is_some_and(|c| {
        !c.is_empty() && crate::totp::constant_time_eq(c.as_bytes(), form_token.as_bytes())
    })
}

async fn no_users(st: &AppState) -> Result<bool, Error> {
    st.db(|s| Ok(s.user_count()? == 0)).await
}

async fn setup_form(State(st): State<AppState>) -> Response {
    match no_users(&st).await {
        Ok(true) => {}
        Ok(false) => return Redirect::to("/login").into_response(),
        Err(e) => return fail(e),
    }
    let pre = match pre_token() {
        Ok(p) => p,
        Err(e) => return fail(e),
    };
    with_pre(
        &pre.clone(),
        render(&SetupPage {
            nav: None,
            title: "Create the administrator",
            pre,
            error: String::new(),
            done: None,
            codes: Vec::new(),
        }),
    )
}

/// The setup and login forms.
#[derive(Deserialize)]
pub struct CredForm {
    name: String,
    password: String,
    #[serde(default)]
    password2: String,
    #[serde(default)]
    code: String,
    #[serde(default)]
    csrf: String,
    /// The one-time setup token from the server console (`/setup` only).
    #[serde(default)]
    token: String,
}

async fn setup(
    State(st): State<AppState>,
    headers: HeaderMap,
    auth::ClientIp(ip): auth::ClientIp,
    PlainForm(mut f): PlainForm<CredForm>,
) -> Response {
    if !pre_ok(&headers, &f.csrf) {
        return (StatusCode::FORBIDDEN, "invalid CSRF token").into_response();
    }
    let again = |error: String| match pre_token() {
        Ok(pre) => with_pre(
            &pre.clone(),
            render(&SetupPage {
                nav: None,
                title: "Create the administrator",
                pre,
                error,
                done: None,
                codes: Vec::new(),
            }),
        ),
        Err(e) => fail(e),
    };
    if f.password != f.password2 {
        return again("The passwords differ.".into());
    }
    let want = st.setup_token();
    if want.is_empty() || !crate::totp::constant_time_eq(f.token.trim().as_bytes(), want.as_bytes())
    {
        let who = ip.clone();
        let _ = st
            .db(move |s| {
                Ok(s.audit_folded(
                    now(),
                    "",
                    "setup_refused",
                    "wrong setup token",
                    &who,
                    auth::AUDIT_FOLD_SECS,
                )?)
            })
            .await;
        let mut res =
            again("Wrong setup token: copy it from the console where `ward serve` started.".into());
        *res.status_mut() = StatusCode::FORBIDDEN;
        return res;
    }
    if let Err(why) = auth::check_new_account(&f.name, &f.password) {
        return again(why);
    }
    let name = f.name.clone();
    let password = std::mem::take(&mut f.password);
    let hash = match st.hashing(move || auth::hash_password(&password)).await {
        Ok(Some(Ok(h))) => h,
        Ok(Some(Err(e))) | Err(e) => return fail(e),
        Ok(None) => return again("The server is busy; try again.".into()),
    };
    let made = st
        .db(move |s| {
            let made = auth::create_account_hashed(s, &f.name, Role::Admin, &hash, true)?;
            if made.is_some() {
                s.audit(
                    now(),
                    &f.name,
                    "user_created",
                    "role admin (first start setup)",
                    &ip,
                )?;
            }
            Ok(made)
        })
        .await;
    match made {
        Ok(Some(acc)) => render(&SetupPage {
            nav: None,
            title: "Administrator created",
            pre: String::new(),
            error: String::new(),
            done: Some(created_account(name, acc.totp_secret, acc.provisioning_uri)),
            codes: acc.recovery_codes,
        }),
        Ok(None) => Redirect::to("/login").into_response(),
        Err(e) => fail(e),
    }
}

/// What the setup and users pages show of a new account: name, TOTP secret,
/// `otpauth://` URI and that URI as an inline SVG QR code (built from numbers
/// only, so the template inserts it unescaped).
fn created_account(name: String, secret: String, uri: String) -> (String, String, String, String) {
    let qr = crate::qr::svg(&uri, 220).unwrap_or_default();
    (name, secret, uri, qr)
}

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage {
    nav: Option<Nav>,
    title: &'static str,
    pre: String,
    error: String,
}

async fn login_form(State(st): State<AppState>) -> Response {
    match no_users(&st).await {
        Ok(true) => return Redirect::to("/setup").into_response(),
        Ok(false) => {}
        Err(e) => return fail(e),
    }
    match pre_token() {
        Ok(pre) => with_pre(
            &pre.clone(),
            render(&LoginPage {
                nav: None,
                title: "Sign in",
                pre,
                error: String::new(),
            }),
        ),
        Err(e) => fail(e),
    }
}

async fn login(
    State(st): State<AppState>,
    headers: HeaderMap,
    auth::ClientIp(ip): auth::ClientIp,
    PlainForm(f): PlainForm<CredForm>,
) -> Response {
    if !pre_ok(&headers, &f.csrf) {
        return (StatusCode::FORBIDDEN, "invalid CSRF token").into_response();
    }
    let lifetime = st.sessions().absolute_secs;
    // The hint depends only on what was typed: which of name, password and
    // code was wrong stays untold.
    let totp_shaped = {
        let c = f.code.trim();
        c.len() == 6 && c.bytes().all(|b| b.is_ascii_digit())
    };
    let result = match st.sign_in(f.name, f.password, f.code, ip).await {
        Ok(Ok(user)) => st
            .db(move |s| auth::start_session_for(s, user.id, lifetime))
            .await
            .map(Ok),
        Ok(Err(e)) => Ok(Err(e)),
        Err(e) => Err(e),
    };
    let (status, error) = match result {
        Ok(Ok((sid, _csrf))) => {
            let mut res = Redirect::to("/").into_response();
            let h = res.headers_mut();
            if let Ok(v) = cookie(SESSION_COOKIE, &sid, lifetime).parse() {
                h.append(header::SET_COOKIE, v);
            }
            if let Ok(v) = cookie(PRE_COOKIE, "", 0).parse() {
                h.append(header::SET_COOKIE, v);
            }
            return res;
        }
        Ok(Err(LoginError::Invalid)) => (
            StatusCode::UNAUTHORIZED,
            if totp_shaped {
                "Wrong user name, password or code. If the name and password are right, \
                 the code is wrong or expired; check the device clock (codes change every \
                 30 seconds and each one works once)."
            } else {
                "Wrong user name, password or recovery code. The authenticator code is \
                 6 digits; a recovery code works once."
            }
            .to_string(),
        ),
        Ok(Err(LoginError::Throttled(s))) => (
            StatusCode::TOO_MANY_REQUESTS,
            format!("Too many failed attempts. Try again in {s} seconds."),
        ),
        Err(e) => return fail(e),
    };
    match pre_token() {
        Ok(pre) => {
            let mut res = with_pre(
                &pre.clone(),
                render(&LoginPage {
                    nav: None,
                    title: "Sign in",
                    pre,
                    error,
                }),
            );
            *res.status_mut() = status;
            res
        }
        Err(e) => fail(e),
    }
}

/// A form carrying only its CSRF token (checked by [`Posted`]).
#[derive(Deserialize)]
pub struct CsrfForm {}

async fn logout(State(st): State<AppState>, Posted { user, .. }: Posted<CsrfForm>) -> Response {
    let (h, name, ip) = (
        user.session_hash.clone(),
        user.user.name.clone(),
        user.ip.clone(),
    );
    let ended = st
        .db(move |s| {
            s.delete_session(&h)?;
            Ok(s.audit(now(), &name, "logout", "", &ip)?)
        })
        .await;
    if let Err(e) = ended {
        return fail(e);
    }
    let mut res = Redirect::to("/login").into_response();
    if let Ok(v) = cookie(SESSION_COOKIE, "", 0).parse() {
        res.headers_mut().append(header::SET_COOKIE, v);
    }
    res
}

// ---------------------------------------------------------------- overview

/// One bar of a chart.
pub struct Bar {
    label: String,
    /// The count as shown (`12,345`).
    count: String,
    width: u32,
    /// Where the count is written (after the bar).
    count_x: u32,
    y: u32,
    class: &'static str,
}

/// The geometry of a bar chart: labels end at `bar_x - 8`, bars start at
/// `bar_x` and are at most `max_bar` wide; the count after the longest bar
/// still has [`COUNT_ROOM`] pixels before the chart's edge (`width`), room
/// for `99,999,999`.
pub struct Chart {
    width: u32,
    bar_x: u32,
    max_bar: u32,
}

/// Pixels kept for a count after its bar (12 px bold digits: ~8 px each).
const COUNT_ROOM: u32 = 90;

/// The category chart: long category names on the left.
const CATEGORY_CHART: Chart = Chart {
    width: 520,
    bar_x: 198,
    max_bar: 520 - 198 - COUNT_ROOM,
};
/// The score band and severity charts: short labels.
const BAND_CHART: Chart = Chart {
    width: 460,
    bar_x: 78,
    max_bar: 460 - 78 - COUNT_ROOM,
};

fn bars(chart: &Chart, counts: &[view::Count], classes: &[&'static str]) -> Vec<Bar> {
    let max = counts.iter().map(|c| c.count).max().unwrap_or(0).max(1);
    counts
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let width = (chart.max_bar as usize * c.count / max) as u32;
            Bar {
                label: names::category(&c.label),
                count: view::thousands(c.count),
                width,
                count_x: chart.bar_x + width + 6,
                y: 24 * i as u32,
                class: classes.get(i).copied().unwrap_or("bar"),
            }
        })
        .collect()
}

/// A device row in a table.
pub struct Row {
    key: String,
    /// Best name, else the key.
    name: String,
    /// True when `name` is a name, not the key.
    named: bool,
    /// First address.
    ip: String,
    extra_names: String,
    ips: String,
    vendor: String,
    model: String,
    category: String,
    kind: String,
    score: u8,
    class: &'static str,
    findings: usize,
    advisories: usize,
}

fn row(d: &app::ScoredDevice) -> Row {
    let best = names::best_name(d);
    Row {
        key: d.assessment.key.clone(),
        named: best.is_some(),
        ip: d.ips.first().cloned().unwrap_or_default(),
        extra_names: d
            .names
            .iter()
            .filter(|n| Some(*n) != best.as_ref())
            .cloned()
            .collect::<Vec<_>>()
            .join(", "),
        name: best.unwrap_or_else(|| d.assessment.key.clone()),
        ips: d.ips.join(", "),
        vendor: d.vendor.clone().unwrap_or_default(),
        model: [d.model.clone(), d.firmware.clone()]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join(" "),
        category: d.category.to_string(),
        kind: d.kind.to_string(),
        score: d.assessment.score,
        class: score_class(d.assessment.score),
        findings: d.assessment.factors.len(),
        advisories: d.advisories.len(),
    }
}

#[derive(Template)]
#[template(path = "overview.html")]
struct OverviewPage {
    nav: Option<Nav>,
    title: &'static str,
    o: view::Overview,
    cats: Vec<Bar>,
    cats_h: u32,
    cat_chart: Chart,
    band_chart: Chart,
    dist: Vec<Bar>,
    sev: Vec<Bar>,
    top: Vec<Row>,
    newest: Vec<(DeviceLabel, String, String)>,
    open_alerts: usize,
    all_alerts: usize,
    top_alerts: Vec<AlertRow>,
    /// The site shown (`""`: all).
    site: String,
    /// Every site with its device count (the selector).
    sites: Vec<view::Count>,
    /// Ingest status per site (multi-site deployments).
    ingest: Vec<IngestRow>,
    /// The central consumer's transport state (multi-site deployments).
    transport: Vec<TransportRow>,
    /// Fleet data protection, one line per producer category.
    coverage: Vec<String>,
    /// Ward's own backups (`ward backup`, `ward serve --backup-every`), one line; empty when none was ever taken.
    backup: String,
    /// Whether that line is a warning (failing, or the last success older than two days).
    backup_warn: bool,
}

/// The transport's state on the overview: what waits, what is delivered
/// but not acknowledged (redelivery pending), as of when.
struct TransportRow {
    consumer: String,
    waiting: u64,
    unacknowledged: u64,
    redelivered: u64,
    ack_wait: u64,
    /// How long ago the server read it.
    read: String,
}

/// One site's ingest status on the overview.
struct IngestRow {
    site: String,
    messages: u64,
    /// When the centre stored its last message.
    last: String,
    /// How long ago, for people.
    lag: String,
    /// `current` or `rebuild pending`.
    inventory: &'static str,
}

fn ago(secs: i64) -> String {
    match secs.max(0) {
        s if s < 120 => format!("{s} s ago"),
        s if s < 7200 => format!("{} min ago", s / 60),
        s if s < 172_800 => format!("{} h ago", s / 3600),
        s => format!("{} days ago", s / 86_400),
    }
}

/// The overview's site filter.
#[derive(serde::Deserialize, Default)]
struct SiteQuery {
    site: Option<String>,
}

async fn overview(
    State(st): State<AppState>,
    user: PageUser,
    Query(q): Query<SiteQuery>,
) -> Response {
    let snap = match st.snapshot().await {
        Ok(r) => r,
        Err(e) => return fail(e),
    };
    let site = q.site.filter(|s| store::valid_site(s));
    let of_site: Vec<app::ScoredDevice>;
    let (rows, o) = match &site {
        Some(s) => {
            of_site = snap
                .rows
                .iter()
                .filter(|d| view::site_of(&d.assessment.key) == Some(s.as_str()))
                .cloned()
                .collect();
            (&of_site[..], view::overview(&of_site))
        }
        None => (&snap.rows[..], snap.overview.clone()),
    };
    let mut cat_counts = o.categories.clone();
    cat_counts.truncate(12);
    let cats = bars(&CATEGORY_CHART, &cat_counts, &[]);
    let dist = bars(
        &BAND_CHART,
        &o.distribution,
        &["s0", "s1", "s2", "s3", "s4", "s5"],
    );
    let sev = bars(&BAND_CHART, &o.severities, &["s5", "s4", "s2", "s1"]);
    let top = rows
        .iter()
        .filter(|d| d.assessment.score > 0)
        .take(10)
        .map(row)
        .collect();
    let newest = snap
        .newest
        .iter()
        .filter(|(k, ..)| site.is_none() || view::site_of(k) == site.as_deref())
        .map(|(k, n, c, t)| {
            let l = match snap.get(k) {
                Some(d) => DeviceLabel::of(d),
                None => DeviceLabel {
                    key: k.clone(),
                    named: n != k,
                    name: n.clone(),
                    detail: String::new(),
                    linked: true,
                },
            };
            (l, c.clone(), view::readable_time(t))
        })
        .collect();
    let cats_h = (24 * cats.len() as u32).max(24);
    let active = store::AlertFilter {
        statuses: store::AlertStatus::filter("active").unwrap_or_default(),
        ..Default::default()
    };
    let all = match st.db(move |s| Ok(s.stored_alerts(&active)?)).await {
        Ok(a) => a,
        Err(e) => return fail(e),
    };
    let all_alerts = all.len();
    let now = (crate::now_ms() / 1000) as i64;
    let ingest = match st.db(|s| Ok(s.site_ingest()?)).await {
        Ok(v) => v
            .into_iter()
            .map(|i| IngestRow {
                lag: ago(now - i.last_at),
                last: view::readable_time(
                    &model::Timestamp(i.last_at.saturating_mul(1_000_000)).iso(),
                ),
                site: i.site,
                messages: i.messages,
                inventory: if i.rebuild_pending {
                    "rebuild pending"
                } else {
                    "current"
                },
            })
            .collect(),
        Err(e) => return fail(e),
    };
    let transport = match st.db(|s| Ok(s.transport_status()?)).await {
        Ok(v) => v
            .into_iter()
            .map(|t| TransportRow {
                read: ago(now - t.at),
                consumer: t.consumer,
                waiting: t.waiting,
                unacknowledged: t.unacknowledged,
                redelivered: t.redelivered,
                ack_wait: t.ack_wait,
            })
            .collect(),
        Err(e) => return fail(e),
    };
    let backup = match st.db(move |s| Ok(app::backup::status(s, now)?)).await {
        Ok(b) => b,
        Err(e) => return fail(e),
    };
    let (backup, backup_warn) = backup_line(&backup, now);
    let open: Vec<_> = all
        .into_iter()
        .filter(|a| a.alert.severity >= monitor::Severity::High)
        .collect();
    let open_alerts = open.len();
    let (_, _, _, shown) = crate::alerts::select(
        open,
        &crate::alerts::AlertQuery {
            per_page: Some(5),
            ..Default::default()
        },
    );
    let top_alerts = shown.iter().map(|a| alert_row(&snap, a)).collect();
    render(&OverviewPage {
        nav: Some(Nav::of(&user)),
        title: "Overview",
        o,
        cats,
        cats_h,
        cat_chart: CATEGORY_CHART,
        band_chart: BAND_CHART,
        dist,
        sev,
        top,
        newest,
        open_alerts,
        all_alerts,
        top_alerts,
        site: site.unwrap_or_default(),
        sites: snap.overview.sites.clone(),
        ingest,
        transport,
        coverage: snap
            .coverage
            .as_ref()
            .map(|c| c.fleet.iter().map(|f| f.text.clone()).collect())
            .unwrap_or_default(),
        backup,
        backup_warn,
    })
}

/// `1.2 MiB`.
fn human_bytes(n: u64) -> String {
    const UNITS: [&str; 5] = ["bytes", "KiB", "MiB", "GiB", "TiB"];
    let mut v = n as f64;
    let mut u = 0;
    while v >= 1024.0 && u + 1 < UNITS.len() {
        v /= 1024.0;
        u += 1;
    }
    if u == 0 {
        format!("{n} bytes")
    } else {
        format!("{v:.1} {}", UNITS[u])
    }
}

/// Backups older than this are a warning on the overview (seconds).
const BACKUP_STALE_SECS: i64 = 2 * 86_400;

/// The overview's line on Ward's own backups, and whether it is a warning.
fn backup_line(b: &app::backup::Status, now: i64) -> (String, bool) {
    let last = b.last_success.as_ref().map(|r| {
        format!(
            "last snapshot {} {} into {} ({} added)",
            r.snapshot.get(..8).unwrap_or(&r.snapshot),
            ago(b.age_secs.unwrap_or(0)),
            r.repository,
            human_bytes(r.bytes_added)
        )
    });
    match (&b.failing_since, last) {
        (Some(f), last) => (
            format!(
                "failing since {}: {}{}",
                ago(now - f.at),
                f.detail,
                last.map(|l| format!("; {l}")).unwrap_or_default()
            ),
            true,
        ),
        (None, Some(l)) => (l, b.age_secs.is_some_and(|a| a > BACKUP_STALE_SECS)),
        (None, None) => (String::new(), false),
    }
}

// ---------------------------------------------------------------- advisories

/// One affected fleet, ready to show.
struct FleetRow {
    cve: String,
    advisory: String,
    cvss: String,
    cvss_class: &'static str,
    kev: bool,
    product: String,
    count: usize,
    devices: Vec<DeviceLabel>,
    fix: String,
}

#[derive(Template)]
#[template(path = "advisories.html")]
struct AdvisoriesPage {
    nav: Option<Nav>,
    title: &'static str,
    fleets: Vec<FleetRow>,
    devices_affected: usize,
    /// The site shown (`""`: all), every site, the selector's target.
    site: String,
    sites: Vec<String>,
    site_action: &'static str,
}

/// Longest fix text shown on the advisories page (cut at a word, with `…`).
const MAX_FIX: usize = 1200;

/// Affected fleets: every device of one vendor/model/firmware hit by one
/// advisory CVE (same grouping as the report).
async fn advisories(
    State(st): State<AppState>,
    user: PageUser,
    Query(q): Query<view::SiteQuery>,
) -> Response {
    let snap = match st.snapshot().await {
        Ok(r) => r,
        Err(e) => return fail(e),
    };
    let site = q
        .site()
        .filter(|s| store::valid_site(s))
        .map(str::to_string);
    // Only devices with matches can be in a fleet.
    let mut devices = snap.rows_of(site.as_deref());
    devices.retain(|d| !d.advisories.is_empty());
    let input = report::Input {
        title: String::new(),
        scope: String::new(),
        devices,
        coverage: None,
        remediation: None,
    };
    let fleets: Vec<FleetRow> = report::fleets(&input)
        .into_iter()
        .map(|f| FleetRow {
            cvss: f
                .cvss
                .map(|c| format!("{c:.1}"))
                .unwrap_or_else(|| "-".into()),
            cvss_class: view::cvss_class(f.cvss.map(f64::from)),
            kev: f.known_exploited,
            product: [f.vendor.as_str(), f.model.as_str(), f.firmware.as_str()]
                .into_iter()
                .filter(|s| !s.is_empty())
                .collect::<Vec<_>>()
                .join(" / "),
            count: f.devices.len(),
            fix: view::clip_words(&f.remediation.unwrap_or_else(|| "-".into()), MAX_FIX),
            cve: f.cve,
            advisory: f.advisory,
            devices: f
                .devices
                .iter()
                .map(|k| DeviceLabel::of_key(&snap, k))
                .collect(),
        })
        .collect();
    let mut affected: Vec<&String> = fleets
        .iter()
        .flat_map(|f| f.devices.iter().map(|l| &l.key))
        .collect();
    affected.sort();
    affected.dedup();
    let devices_affected = affected.len();
    render(&AdvisoriesPage {
        nav: Some(Nav::of(&user)),
        title: "Advisories",
        fleets,
        devices_affected,
        site: site.unwrap_or_default(),
        sites: snap.sites.clone(),
        site_action: "/advisories",
    })
}

// ---------------------------------------------------------------- devices

#[derive(Template)]
#[template(path = "devices.html")]
struct DevicesPage {
    nav: Option<Nav>,
    title: &'static str,
    q: String,
    category: String,
    min_score: String,
    sort: String,
    categories: Vec<String>,
    rows: Vec<Row>,
    total: usize,
    page: usize,
    pages: usize,
    prev: String,
    next: String,
    site: String,
    sites: Vec<String>,
}

fn page_link(q: &DeviceQuery, page: usize) -> String {
    let mut q = q.clone();
    q.page = Some(page);
    format!(
        "/devices?{}",
        serde_urlencoded::to_string(&q).unwrap_or_default()
    )
}

async fn devices(
    State(st): State<AppState>,
    user: PageUser,
    Query(q): Query<DeviceQuery>,
) -> Response {
    let snap = match st.snapshot().await {
        Ok(r) => r,
        Err(e) => return fail(e),
    };
    let (total, page, per_page, shown) = snap.select(&q);
    let pages = total.div_ceil(per_page).max(1);
    let categories = snap.categories.clone();
    let sites = snap.sites.clone();
    render(&DevicesPage {
        site: q.site.clone().unwrap_or_default(),
        sites,
        nav: Some(Nav::of(&user)),
        title: "Devices",
        q: q.q.clone().unwrap_or_default(),
        category: q.category.clone().unwrap_or_default(),
        min_score: q.min_score.map(|m| m.to_string()).unwrap_or_default(),
        sort: q.sort.clone().unwrap_or_else(|| "score".into()),
        categories,
        rows: shown.into_iter().map(row).collect(),
        total,
        page,
        pages,
        prev: if page > 1 {
            page_link(&q, page - 1)
        } else {
            String::new()
        },
        next: if page < pages {
            page_link(&q, page + 1)
        } else {
            String::new()
        },
    })
}

/// A finding as shown.
pub struct FindingView {
    severity: &'static str,
    points: String,
    title: String,
    remediation: String,
    evidence: Vec<String>,
}

/// An advisory as shown.
pub struct AdvisoryView {
    id: String,
    cve: String,
    title: String,
    cvss: String,
    kev: bool,
    product: String,
    reason: String,
    remediation: String,
}

#[derive(Template)]
#[template(path = "device.html")]
struct DevicePage {
    nav: Option<Nav>,
    title: &'static str,
    d: DeviceDetail,
    name: String,
    class: &'static str,
    impact: String,
    likelihood: String,
    findings: Vec<FindingView>,
    advisories: Vec<AdvisoryView>,
    reasons: Vec<(String, String)>,
    peers: Vec<(String, String, String, bool, u64)>,
    seen: (String, String),
    /// The device's alerts (newest first, at most [`DEVICE_ALERTS`]) and how many match.
    alerts: Vec<AlertRow>,
    alerts_total: usize,
    alert_status: String,
    statuses: Vec<&'static str>,
    can_change: bool,
    back: String,
    /// Its remediation items: (id, status, severity, subject, title, due, overdue).
    items: Vec<(
        i64,
        &'static str,
        &'static str,
        String,
        String,
        String,
        bool,
    )>,
    /// Its firmware changes, oldest first: (when, from, to, evidence).
    firmware: Vec<(String, String, String, String)>,
}

/// Alerts listed on a device page.
const DEVICE_ALERTS: usize = 20;

/// `/device?key=&alert_status=`.
#[derive(Deserialize)]
pub struct KeyQuery {
    key: String,
    /// Which of the device's alerts: `active` (default), `open`, `acknowledged`, `closed`, `all`.
    #[serde(default)]
    alert_status: Option<String>,
}

async fn device(State(st): State<AppState>, user: PageUser, Query(k): Query<KeyQuery>) -> Response {
    let alert_status = k
        .alert_status
        .clone()
        .filter(|s| store::AlertStatus::filter(s).is_some())
        .unwrap_or_else(|| "active".into());
    let back = format!(
        "/device?{}",
        serde_urlencoded::to_string([
            ("key", k.key.as_str()),
            ("alert_status", alert_status.as_str())
        ])
        .unwrap_or_default()
    );
    let d = match detail(&st, k.key).await {
        Ok(Some(d)) => d,
        Ok(None) => {
            return (StatusCode::NOT_FOUND, Html("<!doctype html><title>Not found</title><p>No such device. <a href=\"/devices\">Devices</a>")).into_response()
        }
        Err(e) => return fail(e),
    };
    let a = &d.assessment;
    let findings = a
        .factors
        .iter()
        .map(|f| FindingView {
            severity: f.finding.severity.as_str(),
            points: format!("{:.1}", f.points),
            title: f.finding.title.clone(),
            remediation: f.finding.remediation.clone(),
            evidence: f
                .finding
                .evidence
                .iter()
                .map(|e| {
                    let when = e
                        .first_seen
                        .filter(|t| t.0 != 0)
                        .map(|t| format!(", first seen {}", t.iso()))
                        .unwrap_or_default();
                    format!("{} [{}]{when}", e.what, e.at)
                })
                .collect(),
        })
        .collect();
    let s = |v: &serde_json::Value, k: &str| {
        v.get(k).and_then(|x| x.as_str()).unwrap_or("").to_string()
    };
    let advisories = d
        .advisories
        .iter()
        .map(|m| AdvisoryView {
            id: s(m, "advisory"),
            cve: s(m, "cve"),
            title: s(m, "title"),
            cvss: m
                .get("cvss")
                .and_then(|c| c.as_f64())
                .map(|c| format!("{c:.1}"))
                .unwrap_or_else(|| "-".into()),
            kev: m.get("kev").is_some_and(|k| !k.is_null()),
            product: s(m, "product"),
            reason: s(m, "reason"),
            remediation: s(m, "remediation"),
        })
        .collect();
    let reasons = d
        .reasons
        .iter()
        .map(|r| (r.why.clone(), r.evidence.clone()))
        .collect();
    let peers = d
        .peers
        .iter()
        .map(|p| {
            (
                p.id.clone(),
                p.label.clone(),
                p.category.clone(),
                p.device,
                p.flows,
            )
        })
        .collect();
    let seen = (
        d.first_seen
            .as_deref()
            .map(view::readable_time)
            .unwrap_or_default(),
        d.last_seen
            .as_deref()
            .map(view::readable_time)
            .unwrap_or_default(),
    );
    // Its alerts: under its key, or under one of its addresses.
    let filter = store::AlertFilter {
        statuses: store::AlertStatus::filter(&alert_status).unwrap_or_default(),
        ..Default::default()
    };
    let (key, ips) = (d.summary.key.clone(), d.summary.ips.clone());
    let mine = match st.db(move |s| Ok(s.stored_alerts(&filter)?)).await {
        Ok(v) => v
            .into_iter()
            .filter(|a| {
                a.alert.device == key || ips.iter().any(|i| a.alert.device == format!("ip:{i}"))
            })
            .collect::<Vec<_>>(),
        Err(e) => return fail(e),
    };
    let snap = match st.snapshot().await {
        Ok(r) => r,
        Err(e) => return fail(e),
    };
    let (alerts_total, _, _, shown) = crate::alerts::select(
        mine,
        &crate::alerts::AlertQuery {
            per_page: Some(DEVICE_ALERTS),
            ..Default::default()
        },
    );
    let alerts = shown.iter().map(|a| alert_row(&snap, a)).collect();
    let key = d.summary.key.clone();
    let now_secs = now();
    let (items, firmware) = match st
        .db(move |s| {
            let items = s.remediation_items(&store::remediation::ItemFilter {
                statuses: Vec::new(),
                device: Some(key.clone()),
            })?;
            Ok((items, s.firmware_changes(Some(&key))?))
        })
        .await
    {
        Ok((items, fw)) => (
            items
                .iter()
                .map(|i| {
                    (
                        i.id,
                        i.status.label(),
                        i.severity.as_str(),
                        i.subject.to_string(),
                        i.title.clone(),
                        model::time::date(i.due),
                        i.overdue(now_secs),
                    )
                })
                .collect(),
            fw.into_iter()
                .map(|c| {
                    (
                        model::Timestamp(c.at * 1_000_000).iso(),
                        c.from.unwrap_or_else(|| "(first seen)".into()),
                        c.to,
                        c.evidence,
                    )
                })
                .collect(),
        ),
        Err(e) => return fail(e),
    };
    render(&DevicePage {
        items,
        firmware,
        peers,
        seen,
        alerts,
        alerts_total,
        alert_status,
        statuses: vec!["active", "open", "acknowledged", "closed", "all"],
        can_change: user.role >= Role::Analyst,
        back,
        nav: Some(Nav::of(&user)),
        title: "Device",
        name: snap
            .get(&d.summary.key)
            .and_then(names::best_name)
            .unwrap_or_else(|| d.summary.key.clone()),
        class: score_class(a.score),
        impact: format!("{:.1} — {}", a.impact, a.impact_reason),
        likelihood: format!("{:.2}", a.likelihood),
        findings,
        advisories,
        reasons,
        d,
    })
}

// ---------------------------------------------------------------- alerts and intake

/// An alert row as shown.
struct AlertRow {
    a: crate::alerts::AlertView,
    /// The device as people name it (links to the inventory device).
    dev: DeviceLabel,
    /// The kind's display name.
    kind: String,
    /// `ip:ADDR` of the alert (the address is shown when the key differs).
    ip_key: String,
    first: String,
    last: String,
    packets: String,
    counts: String,
    /// When the status last changed (readable), or empty.
    changed: String,
}

fn alert_row(snap: &crate::snapshot::Snapshot, s: &store::StoredAlert) -> AlertRow {
    let a = &s.alert;
    let (p0, p1) = (
        view::readable_time(&a.evidence.first_packet.iso()),
        view::readable_time(&a.evidence.last_packet.iso()),
    );
    AlertRow {
        dev: DeviceLabel::of_key(snap, &a.device),
        kind: names::kind(a.kind).to_string(),
        ip_key: format!("ip:{}", a.ip),
        first: view::readable_time(&a.first_seen.iso()),
        last: view::readable_time(&a.last_seen.iso()),
        packets: if p0 == p1 {
            p0
        } else {
            format!("{p0} – {p1}")
        },
        counts: a
            .evidence
            .counts
            .iter()
            .map(|(k, v)| format!("{k} {v}"))
            .collect::<Vec<_>>()
            .join(", "),
        changed: s
            .status_at
            .map(|t| view::readable_time(&model::Timestamp(t.saturating_mul(1_000_000)).iso()))
            .unwrap_or_default(),
        a: crate::alerts::AlertView::of(s),
    }
}

#[derive(Template)]
#[template(path = "alerts.html")]
struct AlertsPage {
    nav: Option<Nav>,
    title: &'static str,
    severity: String,
    kind: String,
    status: String,
    device: String,
    /// The site filter (`""`: all) and the sites to choose from.
    site: String,
    sites: Vec<String>,
    severities: Vec<&'static str>,
    /// (JSON spelling, display name) of every kind.
    kinds: Vec<(&'static str, &'static str)>,
    statuses: Vec<&'static str>,
    /// Analysts and admins get acknowledge/close/reopen buttons.
    can_change: bool,
    /// This page, to come back to after a change.
    back: String,
    error: String,
    rows: Vec<AlertRow>,
    total: usize,
    page: usize,
    pages: usize,
    prev: String,
    next: String,
}

fn alerts_link(q: &crate::alerts::AlertQuery, page: usize) -> String {
    let mut q = q.clone();
    q.page = Some(page);
    format!(
        "/alerts?{}",
        serde_urlencoded::to_string(&q).unwrap_or_default()
    )
}

/// `/alerts?severity=&kind=&status=&device=&page=`: every signed-in role;
/// analysts and admins can acknowledge, close and reopen.
async fn alerts_page(
    State(st): State<AppState>,
    user: PageUser,
    Query(q): Query<crate::alerts::AlertQuery>,
) -> Response {
    alerts_view(&st, &user, q, String::new()).await
}

async fn alerts_view(
    st: &AppState,
    user: &PageUser,
    q: crate::alerts::AlertQuery,
    error: String,
) -> Response {
    // A refused change is a 400; an unknown filter value only says so (as before).
    let refused = !error.is_empty();
    let (filter, error) = match q.filter() {
        Ok(f) => (f, error),
        Err(e) => (
            store::AlertFilter {
                statuses: store::AlertStatus::filter("active").unwrap_or_default(),
                ..Default::default()
            },
            e,
        ),
    };
    let all = match st.db(move |s| Ok(s.stored_alerts(&filter)?)).await {
        Ok(a) => a,
        Err(e) => return fail(e),
    };
    let snap = match st.snapshot().await {
        Ok(r) => r,
        Err(e) => return fail(e),
    };
    let (total, page, per_page, shown) = crate::alerts::select(all, &q);
    let pages = total.div_ceil(per_page).max(1);
    let rows = shown.iter().map(|a| alert_row(&snap, a)).collect();
    let some = |v: &Option<String>| v.clone().unwrap_or_default();
    let status = if refused {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::OK
    };
    let mut res = render(&AlertsPage {
        nav: Some(Nav::of(user)),
        title: "Alerts",
        severity: some(&q.severity),
        // Either spelling selects the kind.
        kind: q
            .kind
            .as_deref()
            .and_then(names::parse_kind)
            .map(|k| k.as_str().to_string())
            .unwrap_or_else(|| some(&q.kind)),
        status: q
            .status
            .clone()
            .filter(|s| !s.trim().is_empty())
            .unwrap_or_else(|| "active".into()),
        device: some(&q.device),
        site: some(&q.site),
        sites: snap.sites.clone(),
        severities: vec!["low", "medium", "high", "critical"],
        kinds: names::ALERT_KINDS
            .iter()
            .map(|(k, n)| (k.as_str(), *n))
            .collect(),
        statuses: vec!["active", "open", "acknowledged", "closed", "all"],
        can_change: user.role >= Role::Analyst,
        back: alerts_link(&q, page),
        error,
        rows,
        total,
        page,
        pages,
        prev: if page > 1 {
            alerts_link(&q, page - 1)
        } else {
            String::new()
        },
        next: if page < pages {
            alerts_link(&q, page + 1)
        } else {
            String::new()
        },
    });
    if res.status() == StatusCode::OK {
        *res.status_mut() = status;
    }
    res
}

/// The acknowledge/close/reopen form.
#[derive(Deserialize)]
pub struct StatusForm {
    #[serde(default)]
    id: String,
    #[serde(default)]
    action: String,
    #[serde(default)]
    comment: String,
    #[serde(default)]
    back: String,
}

/// Where to go after a change: the alerts or device page it came from, else `/alerts`.
fn back_to(back: &str) -> String {
    let local = (back.starts_with("/alerts") || back.starts_with("/device?"))
        && !back.contains("//")
        && !back.contains('\\')
        && back.len() <= 2000;
    if local && !back.chars().any(char::is_control) {
        back.to_string()
    } else {
        "/alerts".into()
    }
}

/// `POST /alerts/status`: analysts and admins (CSRF checked); audited.
async fn alert_status(
    State(st): State<AppState>,
    Posted { user, form: f, .. }: Posted<StatusForm>,
) -> Response {
    let again = crate::alerts::AlertQuery {
        status: Some("all".into()),
        ..Default::default()
    };
    let (Some(action), Ok(id)) = (
        store::StatusAction::parse(&f.action),
        f.id.trim().parse::<i64>(),
    ) else {
        return alerts_view(&st, &user, again, "Unknown alert or action.".into()).await;
    };
    let (actor, ip, comment) = (user.user.name.clone(), user.ip.clone(), f.comment);
    match st
        .db_mut(move |s| crate::alerts::change_status(s, id, action, Some(&comment), &actor, &ip))
        .await
    {
        Ok(Ok(_)) => {
            st.forget_open_alerts();
            Redirect::to(&back_to(&f.back)).into_response()
        }
        Ok(Err(why)) => alerts_view(&st, &user, again, why.to_string()).await,
        Err(e) => fail(e),
    }
}

/// An intake record as shown (and exported).
struct IntakeRow {
    v: crate::alerts::IntakeView,
    dev: DeviceLabel,
    first: String,
    ip: String,
    vendor: String,
    category: String,
    subnet: String,
    owner: String,
    location: String,
    group: String,
    mud: String,
}

/// Intake records per page (each list).
const INTAKE_PER_PAGE: usize = 200;

/// `/intake?q=&category=&subnet=&sort=&page=` (and `/intake.csv`): filters
/// over both lists; the bulk approval's "every match" uses the same.
#[derive(Debug, Clone, Default, Deserialize, serde::Serialize)]
pub struct IntakeQuery {
    /// Text in the name, key, address or vendor (case-insensitive).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    q: Option<String>,
    /// Category, in either spelling.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    category: Option<String>,
    /// Subnet: a /24 (or /64) group as listed, or any network (`10.20.0.0/22`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    subnet: Option<String>,
    /// `first` (default, oldest first), `name`, `ip`, `category`, `vendor`, `subnet`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    sort: Option<String>,
    /// Page of the waiting list, from 1.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    page: Option<usize>,
}

/// Sort orders of the intake lists: (value, label).
const INTAKE_SORTS: &[(&str, &str)] = &[
    ("first", "First seen"),
    ("name", "Name"),
    ("ip", "Address"),
    ("category", "Category"),
    ("vendor", "Vendor"),
    ("subnet", "Subnet"),
];

/// True when `ip` is inside `cidr` (`10.20.0.0/22`, `fd00::/48`).
fn in_cidr(ip: &str, cidr: &str) -> bool {
    use std::net::IpAddr;
    let (Ok(ip), Some((net, bits))) = (ip.parse::<IpAddr>(), cidr.split_once('/')) else {
        return false;
    };
    let (Ok(net), Ok(bits)) = (net.trim().parse::<IpAddr>(), bits.trim().parse::<u32>()) else {
        return false;
    };
    match (ip, net) {
        (IpAddr::V4(a), IpAddr::V4(n)) if bits <= 32 => {
            let mask = u32::MAX.checked_shl(32 - bits).unwrap_or(0);
            u32::from(a) & mask == u32::from(n) & mask
        }
        (IpAddr::V6(a), IpAddr::V6(n)) if bits <= 128 => {
            let mask = u128::MAX.checked_shl(128 - bits).unwrap_or(0);
            u128::from(a) & mask == u128::from(n) & mask
        }
        _ => false,
    }
}

fn some(v: &Option<String>) -> Option<&str> {
    v.as_deref().map(str::trim).filter(|v| !v.is_empty())
}

impl IntakeQuery {
    fn keeps(&self, r: &IntakeRow) -> bool {
        let cat = some(&self.category).map(names::category);
        let needle = some(&self.q).map(str::to_lowercase);
        cat.as_deref().is_none_or(|c| r.category == c)
            && some(&self.subnet).is_none_or(|n| r.subnet == n || in_cidr(&r.ip, n))
            && needle.as_deref().is_none_or(|n| {
                [&r.dev.name, &r.dev.key, &r.ip, &r.vendor]
                    .iter()
                    .any(|f| f.to_lowercase().contains(n))
            })
    }

    /// True when a filter is set (the bulk approval by filter needs one).
    fn filtered(&self) -> bool {
        some(&self.q).is_some() || some(&self.category).is_some() || some(&self.subnet).is_some()
    }

    fn sort(&self, rows: &mut [IntakeRow]) {
        let ip_order = |r: &IntakeRow| r.ip.parse::<std::net::IpAddr>().ok();
        match some(&self.sort).unwrap_or("first") {
            "name" => rows.sort_by_cached_key(|r| (!r.dev.named, r.dev.name.to_lowercase())),
            "ip" => rows.sort_by_cached_key(|r| (ip_order(r).is_none(), ip_order(r))),
            "category" => rows.sort_by(|a, b| a.category.cmp(&b.category)),
            "vendor" => rows.sort_by_cached_key(|r| (r.vendor.is_empty(), r.vendor.to_lowercase())),
            "subnet" => rows.sort_by_cached_key(|r| (ip_order(r).is_none(), ip_order(r))),
            _ => rows.sort_by(|a, b| a.v.first_seen.cmp(&b.v.first_seen)),
        }
    }

    fn link(&self, page: usize) -> String {
        let mut q = self.clone();
        q.page = Some(page);
        format!(
            "/intake?{}",
            serde_urlencoded::to_string(&q).unwrap_or_default()
        )
    }
}

/// Every intake record with what the inventory knows of its device.
fn intake_rows(snap: &crate::snapshot::Snapshot, entries: &[store::IntakeEntry]) -> Vec<IntakeRow> {
    entries
        .iter()
        .map(|e| {
            let d = crate::alerts::device_link(snap, &e.device).and_then(|k| snap.get(&k));
            let ip = d
                .and_then(|d| d.ips.first().cloned())
                .or_else(|| {
                    e.device
                        .rsplit_once("ip:")
                        .map(|(_, ip)| ip.to_string())
                        .filter(|ip| ip.parse::<std::net::IpAddr>().is_ok())
                })
                .unwrap_or_default();
            let subnet = ip
                .parse::<std::net::IpAddr>()
                .map(|a| crate::map::subnet(&a))
                .unwrap_or_default();
            IntakeRow {
                v: crate::alerts::IntakeView::of(e),
                // Address and category have their own columns here.
                dev: DeviceLabel {
                    detail: String::new(),
                    ..DeviceLabel::of_key(snap, &e.device)
                },
                first: view::readable_time(&e.first_seen.iso()),
                vendor: d.and_then(|d| d.vendor.clone()).unwrap_or_default(),
                category: d.map_or("unknown", |d| d.category).to_string(),
                ip,
                subnet,
                owner: e.owner.clone().unwrap_or_default(),
                location: e.location.clone().unwrap_or_default(),
                group: e.group.clone().unwrap_or_default(),
                mud: e.mud_url.clone().unwrap_or_default(),
            }
        })
        .collect()
}

/// The intake records matching `q`, sorted: (waiting, approved).
async fn intake_lists(
    st: &AppState,
    q: &IntakeQuery,
) -> Result<(Vec<IntakeRow>, Vec<IntakeRow>, Vec<String>, Vec<String>), Error> {
    let entries = st.db(|s| Ok(s.intake()?)).await?;
    let snap = st.snapshot().await?;
    let all = intake_rows(&snap, &entries);
    let mut categories: Vec<String> = all.iter().map(|r| r.category.clone()).collect();
    categories.sort();
    categories.dedup();
    let mut subnets: Vec<String> = all
        .iter()
        .map(|r| r.subnet.clone())
        .filter(|s| !s.is_empty())
        .collect();
    subnets.sort();
    subnets.dedup();
    let (mut approved, mut waiting): (Vec<IntakeRow>, Vec<IntakeRow>) = all
        .into_iter()
        .filter(|r| q.keeps(r))
        .partition(|r| r.v.approved);
    q.sort(&mut waiting);
    q.sort(&mut approved);
    Ok((waiting, approved, categories, subnets))
}

#[derive(Template)]
#[template(path = "intake.html")]
struct IntakePage {
    nav: Option<Nav>,
    title: &'static str,
    can_approve: bool,
    error: String,
    notice: String,
    /// The filters as given, and what to choose from.
    q: String,
    category: String,
    subnet: String,
    sort: String,
    categories: Vec<String>,
    subnets: Vec<String>,
    sorts: &'static [(&'static str, &'static str)],
    /// A filter is set: "approve every match" is offered.
    filtered: bool,
    /// The query string of the filters (CSV export link).
    query: String,
    waiting_total: usize,
    approved_total: usize,
    waiting: Vec<IntakeRow>,
    approved: Vec<IntakeRow>,
    page: usize,
    pages: usize,
    prev: String,
    next: String,
}

async fn intake_view(
    st: &AppState,
    user: &PageUser,
    q: IntakeQuery,
    status: StatusCode,
    error: String,
    notice: String,
) -> Response {
    let (waiting, approved, categories, subnets) = match intake_lists(st, &q).await {
        Ok(l) => l,
        Err(e) => return fail(e),
    };
    let (waiting_total, approved_total) = (waiting.len(), approved.len());
    let pages = waiting_total.div_ceil(INTAKE_PER_PAGE).max(1);
    let page = q.page.unwrap_or(1).clamp(1, pages);
    let waiting = waiting
        .into_iter()
        .skip((page - 1) * INTAKE_PER_PAGE)
        .take(INTAKE_PER_PAGE)
        .collect();
    let approved = approved.into_iter().take(INTAKE_PER_PAGE).collect();
    let mut filters = q.clone();
    filters.page = None;
    let mut res = render(&IntakePage {
        nav: Some(Nav::of(user)),
        title: "Device intake",
        can_approve: user.role >= Role::Analyst,
        error,
        notice,
        q: some(&q.q).unwrap_or_default().to_string(),
        category: some(&q.category).map(names::category).unwrap_or_default(),
        subnet: some(&q.subnet).unwrap_or_default().to_string(),
        sort: some(&q.sort).unwrap_or("first").to_string(),
        categories,
        subnets,
        sorts: INTAKE_SORTS,
        filtered: q.filtered(),
        query: serde_urlencoded::to_string(&filters).unwrap_or_default(),
        waiting_total,
        approved_total,
        waiting,
        approved,
        page,
        pages,
        prev: if page > 1 {
            q.link(page - 1)
        } else {
            String::new()
        },
        next: if page < pages {
            q.link(page + 1)
        } else {
            String::new()
        },
    });
    if res.status() == StatusCode::OK {
        *res.status_mut() = status;
    }
    res
}

/// `/intake`: every signed-in role; analysts and admins get approve forms
/// (one device, the selected ones, or every match of the filters).
async fn intake_page(
    State(st): State<AppState>,
    user: PageUser,
    Query(q): Query<IntakeQuery>,
) -> Response {
    intake_view(&st, &user, q, StatusCode::OK, String::new(), String::new()).await
}

/// One CSV line, every cell through `model::text::csv_cell` and quoted.
fn csv_line<S: AsRef<str>>(cells: impl IntoIterator<Item = S>) -> String {
    let mut line = cells
        .into_iter()
        .map(|c| {
            format!(
                "\"{}\"",
                model::text::csv_cell(c.as_ref()).replace('"', "\"\"")
            )
        })
        .collect::<Vec<_>>()
        .join(",");
    line.push_str("\r\n");
    line
}

/// `/intake.csv?…`: the intake records matching the filters (waiting, then
/// approved), for analysts and admins; an export, so audited.
async fn intake_csv(
    State(st): State<AppState>,
    user: PageUser,
    Query(q): Query<IntakeQuery>,
) -> Response {
    if let Err(r) = user.require(Role::Analyst) {
        return r;
    }
    let (waiting, approved, ..) = match intake_lists(&st, &q).await {
        Ok(l) => l,
        Err(e) => return fail(e),
    };
    let mut out = csv_line([
        "device",
        "name",
        "status",
        "ip",
        "vendor",
        "category",
        "subnet",
        "owner",
        "location",
        "group",
        "mud_url",
        "first_seen",
    ]);
    for r in waiting.iter().chain(&approved) {
        out.push_str(&csv_line([
            r.v.device.as_str(),
            if r.dev.named { r.dev.name.as_str() } else { "" },
            if r.v.approved { "approved" } else { "waiting" },
            &r.ip,
            &r.vendor,
            &r.category,
            &r.subnet,
            &r.owner,
            &r.location,
            &r.group,
            &r.mud,
            &r.v.first_seen,
        ]));
    }
    let what = format!(
        "intake.csv ({} records{})",
        waiting.len() + approved.len(),
        serde_urlencoded::to_string(IntakeQuery { page: None, ..q })
            .ok()
            .filter(|s| !s.is_empty())
            .map(|s| format!(", {s}"))
            .unwrap_or_default()
    );
    audited_download(
        &st,
        &user,
        what,
        "text/csv; charset=utf-8",
        "attachment; filename=\"ward-intake.csv\"",
        out,
    )
    .await
}

/// Sends `body` as a download, after recording the export (`what`) in the
/// audit log; nothing is sent when it cannot be recorded.
async fn audited_download(
    st: &AppState,
    user: &PageUser,
    what: String,
    content_type: &'static str,
    disposition: &'static str,
    body: String,
) -> Response {
    let (name, ip) = (user.user.name.clone(), user.ip.clone());
    if let Err(e) = st
        .db(move |s| Ok(s.audit(now(), &name, "export", &what, &ip)?))
        .await
    {
        return fail(e);
    }
    (
        [
            (header::CONTENT_TYPE, content_type),
            (header::CONTENT_DISPOSITION, disposition),
        ],
        body,
    )
        .into_response()
}

/// The approve form.
#[derive(Deserialize)]
pub struct ApproveForm {
    #[serde(default)]
    device: String,
    #[serde(default)]
    owner: String,
    #[serde(default)]
    location: String,
    #[serde(default)]
    group: String,
}

async fn intake_approve(
    State(st): State<AppState>,
    Posted { user, form: f, .. }: Posted<ApproveForm>,
) -> Response {
    let req = crate::alerts::ApproveRequest {
        device: f.device,
        owner: Some(f.owner),
        location: Some(f.location),
        group: Some(f.group),
    };
    let back = IntakeQuery::default();
    let (device, approval) = match req.checked() {
        Ok(c) => c,
        Err(why) => {
            return intake_view(
                &st,
                &user,
                back,
                StatusCode::BAD_REQUEST,
                why,
                String::new(),
            )
            .await
        }
    };
    let (actor, ip) = (user.user.name.clone(), user.ip.clone());
    match st
        .db_mut(move |s| crate::alerts::approve(s, &device, &approval, &actor, &ip))
        .await
    {
        Ok(true) => Redirect::to("/intake").into_response(),
        Ok(false) => {
            intake_view(
                &st,
                &user,
                back,
                StatusCode::NOT_FOUND,
                "No such device awaits intake.".into(),
                String::new(),
            )
            .await
        }
        Err(e) => fail(e),
    }
}

/// The bulk approval: `scope=selected` approves the `device` fields sent
/// (the ticked rows), `scope=filter` every waiting device matching the
/// filters (`q`, `category`, `subnet`; at least one must be set), each with
/// the owner, location and group given.
#[derive(Deserialize)]
pub struct BulkForm {
    #[serde(default)]
    scope: String,
    #[serde(default)]
    owner: String,
    #[serde(default)]
    location: String,
    #[serde(default)]
    group: String,
    #[serde(default)]
    q: Option<String>,
    #[serde(default)]
    category: Option<String>,
    #[serde(default)]
    subnet: Option<String>,
    #[serde(default)]
    sort: Option<String>,
}

/// The approvals import: CSV text (the export's columns, or just `device`
/// and any of `owner`, `location`, `group`).
#[derive(Deserialize)]
pub struct ImportForm {
    #[serde(default)]
    csv: String,
}

/// `POST /intake/import`: analysts and admins; every listed device must be
/// in intake (else none is approved, 404); one audit entry per device, all
/// in one store transaction.
async fn intake_import(
    State(st): State<AppState>,
    Posted { user, form: f, .. }: Posted<ImportForm>,
) -> Response {
    let back = IntakeQuery::default();
    let approvals = match crate::alerts::approvals_from_csv(&f.csv) {
        Ok(a) if a.is_empty() => Err("the CSV lists no device".to_string()),
        Ok(a) if a.len() > MAX_BULK => Err(format!("at most {MAX_BULK} devices at once")),
        other => other,
    };
    let approvals = match approvals {
        Ok(a) => a,
        Err(why) => {
            return intake_view(
                &st,
                &user,
                back,
                StatusCode::BAD_REQUEST,
                format!("Import refused: {why}."),
                String::new(),
            )
            .await
        }
    };
    approve_and_show(
        &st,
        &user,
        back,
        approvals,
        |n| format!("Imported {n} approvals."),
        |missing, wanted| format!("Import refused: {missing} of the {wanted} devices are not in intake; none was approved."),
    )
    .await
}

/// Approves `approvals` in one store transaction (one audit entry each) and
/// shows the intake list `q` with the outcome: `done(approved)`, or, when
/// some devices do not await intake (then none is approved), 404 with
/// `refused(missing, wanted)`.
async fn approve_and_show(
    st: &AppState,
    user: &PageUser,
    q: IntakeQuery,
    approvals: Vec<(String, store::Approval)>,
    done: impl FnOnce(usize) -> String,
    refused: impl FnOnce(usize, usize) -> String,
) -> Response {
    let wanted = approvals.len();
    let (actor, ip) = (user.user.name.clone(), user.ip.clone());
    match st
        .db_mut(move |s| crate::alerts::approve_many(s, &approvals, &actor, &ip))
        .await
    {
        Ok(Ok(n)) => intake_view(st, user, q, StatusCode::OK, String::new(), done(n)).await,
        Ok(Err(missing)) => {
            intake_view(
                st,
                user,
                q,
                StatusCode::NOT_FOUND,
                refused(missing, wanted),
                String::new(),
            )
            .await
        }
        Err(e) => fail(e),
    }
}

/// Most devices one bulk approval takes.
pub const MAX_BULK: usize = 10_000;

/// `POST /intake/bulk`: analysts and admins; one audit entry per device
/// approved (as for single approvals), all in one store transaction.
async fn intake_bulk(State(st): State<AppState>, p: Posted<BulkForm>) -> Response {
    let Posted {
        user,
        form: f,
        pairs,
    } = p;
    let filters = IntakeQuery {
        q: f.q.clone(),
        category: f.category.clone(),
        subnet: f.subnet.clone(),
        sort: f.sort.clone(),
        page: None,
    };
    let bad = |why: String| {
        let (st, user, filters) = (st.clone(), &user, filters.clone());
        async move {
            intake_view(
                &st,
                user,
                filters,
                StatusCode::BAD_REQUEST,
                why,
                String::new(),
            )
            .await
        }
    };
    // The approval's fields, checked like a single approval's.
    let (_, approval) = match (crate::alerts::ApproveRequest {
        device: "-".into(),
        owner: Some(f.owner),
        location: Some(f.location),
        group: Some(f.group),
    })
    .checked()
    {
        Ok(c) => c,
        Err(why) => return bad(why).await,
    };
    let devices: Vec<String> = match f.scope.as_str() {
        "selected" => {
            let mut v: Vec<String> = pairs
                .into_iter()
                .filter(|(k, _)| k == "device")
                .map(|(_, d)| d.trim().to_string())
                .filter(|d| !d.is_empty())
                .collect();
            v.sort();
            v.dedup();
            v
        }
        "filter" if filters.filtered() => match intake_lists(&st, &filters).await {
            Ok((waiting, ..)) => waiting.into_iter().map(|r| r.v.device).collect(),
            Err(e) => return fail(e),
        },
        "filter" => {
            return bad("Set a filter (category, subnet or search) to approve every match.".into())
                .await
        }
        _ => return bad("Unknown bulk action.".into()).await,
    };
    if devices.is_empty() {
        return bad("No device selected.".into()).await;
    }
    if devices.len() > MAX_BULK {
        return bad(format!("At most {MAX_BULK} devices at once.")).await;
    }
    if devices
        .iter()
        .any(|d| d.chars().count() > crate::alerts::MAX_FIELD || d.chars().any(char::is_control))
    {
        return bad("Invalid device key.".into()).await;
    }
    let approvals: Vec<_> = devices.into_iter().map(|d| (d, approval.clone())).collect();
    approve_and_show(
        &st,
        &user,
        filters,
        approvals,
        |n| format!("Approved {n} devices."),
        |missing, wanted| {
            format!("{missing} of the {wanted} devices do not await intake; none was approved.")
        },
    )
    .await
}

#[derive(Template)]
#[template(path = "map.html")]
struct MapPage {
    nav: Option<Nav>,
    title: &'static str,
    l: crate::map::Layout,
    shown_nodes: usize,
    shown_edges: usize,
    total_nodes: usize,
    total_edges: usize,
    limit: usize,
    more: String,
    table: Vec<(crate::map::MapNode, &'static str)>,
    /// The site shown (`""`: all), every site, the selector's target.
    site: String,
    sites: Vec<String>,
    site_action: &'static str,
}

/// `/map?limit=&site=`.
#[derive(Deserialize)]
pub struct MapQuery {
    limit: Option<usize>,
    site: Option<String>,
}

async fn network_map(
    State(st): State<AppState>,
    user: PageUser,
    Query(q): Query<MapQuery>,
) -> Response {
    let snap = match st.snapshot().await {
        Ok(r) => r,
        Err(e) => return fail(e),
    };
    let limit = q
        .limit
        .unwrap_or(crate::map::DEFAULT_NODES)
        .clamp(1, crate::map::MAX_NODES);
    let site = q.site.filter(|s| store::valid_site(s));
    let m = snap.graph.view(limit, site.as_deref());
    let l = crate::map::layout(&m, 1240);
    let more = if m.nodes.len() < m.total_nodes && limit < crate::map::MAX_NODES {
        let of_site = site
            .as_deref()
            .map(|s| format!("&site={s}"))
            .unwrap_or_default();
        format!(
            "/map?limit={}{of_site}",
            (limit * 2).min(crate::map::MAX_NODES)
        )
    } else {
        String::new()
    };
    render(&MapPage {
        nav: Some(Nav::of(&user)),
        title: "Network map",
        shown_nodes: m.nodes.len(),
        shown_edges: m.edges.len(),
        total_nodes: m.total_nodes,
        total_edges: m.total_edges,
        limit,
        more,
        table: m
            .nodes
            .iter()
            .take(30)
            .map(|n| (n.clone(), score_class(n.score)))
            .collect(),
        l,
        site: site.unwrap_or_default(),
        sites: snap.sites.clone(),
        site_action: "/map",
    })
}

async fn report_html(
    State(st): State<AppState>,
    user: PageUser,
    Query(q): Query<view::SiteQuery>,
) -> Response {
    if let Err(r) = user.require(Role::Analyst) {
        return r;
    }
    if let Err(e) = q.checked() {
        return (StatusCode::BAD_REQUEST, e).into_response();
    }
    let snap = match st.snapshot().await {
        Ok(r) => r,
        Err(e) => return fail(e),
    };
    let rows = snap.rows_of(q.site());
    let of_site = q.site().map(|s| format!(" (site {s})")).unwrap_or_default();
    let now_secs = now();
    let metrics = match st
        .db(move |s| app::remediation::metrics(s, now_secs, 90).map_err(Error::Score))
        .await
    {
        Ok(m) => m,
        Err(e) => return fail(e),
    };
    let input = report::Input {
        title: "Ward medical device risk report".into(),
        scope: format!("{} devices in {}{of_site}", rows.len(), st.inner.db_label),
        devices: rows,
        coverage: snap.coverage.clone(),
        remediation: Some(metrics),
    };
    let html = report::html(&input);
    let what = format!("report.html{of_site}");
    audited_download(
        &st,
        &user,
        what,
        "text/html; charset=utf-8",
        "attachment; filename=\"ward-report.html\"",
        html,
    )
    .await
}

// ---------------------------------------------------------------- admin

#[derive(Template)]
#[template(path = "audit.html")]
struct AuditPage {
    nav: Option<Nav>,
    title: &'static str,
    entries: Vec<(i64, String, String, String, String, String)>,
}

async fn audit(State(st): State<AppState>, user: PageUser) -> Response {
    if let Err(r) = user.require(Role::Admin) {
        return r;
    }
    match st.db(|s| Ok(s.audit_log(500)?)).await {
        Ok(rows) => {
            let entries = rows
                .into_iter()
                .map(|a| {
                    (
                        a.id,
                        model::Timestamp(a.at * 1_000_000).iso(),
                        a.actor,
                        a.action,
                        a.detail,
                        a.ip,
                    )
                })
                .collect();
            render(&AuditPage {
                nav: Some(Nav::of(&user)),
                title: "Audit log",
                entries,
            })
        }
        Err(e) => fail(e),
    }
}

#[derive(Template)]
#[template(path = "users.html")]
struct UsersPage {
    nav: Option<Nav>,
    title: &'static str,
    users: Vec<(String, String, String, bool)>,
    error: String,
    created: Option<(String, String, String, String)>,
    codes: Vec<String>,
    reset: Option<(String, String)>,
}

/// What the users page shows once after a change.
#[derive(Default)]
struct Shown {
    created: Option<(String, String, String, String)>,
    codes: Vec<String>,
    reset: Option<(String, String)>,
}

async fn users_page(st: &AppState, user: &PageUser, error: String, shown: Shown) -> Response {
    match st.db(|s| Ok(s.users()?)).await {
        Ok(us) => {
            let users = us
                .into_iter()
                .map(|u| {
                    (
                        u.name,
                        u.role,
                        model::Timestamp(u.created * 1_000_000).iso(),
                        u.disabled,
                    )
                })
                .collect();
            let refused = !error.is_empty();
            render_refused(
                &UsersPage {
                    nav: Some(Nav::of(user)),
                    title: "Users",
                    users,
                    error,
                    created: shown.created,
                    codes: shown.codes,
                    reset: shown.reset,
                },
                refused,
            )
        }
        Err(e) => fail(e),
    }
}

async fn users(State(st): State<AppState>, user: PageUser) -> Response {
    if let Err(r) = user.require(Role::Admin) {
        return r;
    }
    users_page(&st, &user, String::new(), Shown::default()).await
}

/// The add-user form.
#[derive(Deserialize)]
pub struct AddUserForm {
    name: String,
    role: String,
    password: String,
}

async fn add_user(
    State(st): State<AppState>,
    Posted {
        user, form: mut f, ..
    }: Posted<AddUserForm>,
) -> Response {
    let Some(role) = Role::parse(&f.role) else {
        return users_page(&st, &user, "Unknown role.".into(), Shown::default()).await;
    };
    if let Err(why) = auth::check_new_account(&f.name, &f.password) {
        return users_page(&st, &user, why, Shown::default()).await;
    }
    let (actor, ip, name) = (user.user.name.clone(), user.ip.clone(), f.name.clone());
    // Hashed outside the store lock, like sign-ins (see `AppState::hashing`).
    let password = std::mem::take(&mut f.password);
    let hash = match st.hashing(move || auth::hash_password(&password)).await {
        Ok(Some(Ok(h))) => h,
        Ok(Some(Err(e))) | Err(e) => return fail(e),
        Ok(None) => {
            return users_page(
                &st,
                &user,
                "The server is busy; try again.".into(),
                Shown::default(),
            )
            .await
        }
    };
    let made = st
        .db(move |s| {
            let made = auth::create_account_hashed(s, &f.name, role, &hash, false)?;
            if made.is_some() {
                s.audit(
                    now(),
                    &actor,
                    "user_created",
                    &format!("{} role {}", f.name, role.as_str()),
                    &ip,
                )?;
            }
            Ok(made)
        })
        .await;
    match made {
        Ok(Some(acc)) => {
            users_page(
                &st,
                &user,
                String::new(),
                Shown {
                    created: Some(created_account(name, acc.totp_secret, acc.provisioning_uri)),
                    codes: acc.recovery_codes,
                    reset: None,
                },
            )
            .await
        }
        Ok(None) => users_page(&st, &user, "That name is taken.".into(), Shown::default()).await,
        Err(e) => fail(e),
    }
}

/// The change-user form: `action` is `role` (with `role`), `disable` or `enable`.
#[derive(Deserialize)]
pub struct UpdateUserForm {
    name: String,
    action: String,
    #[serde(default)]
    role: String,
}

async fn update_user(
    State(st): State<AppState>,
    Posted { user, form: f, .. }: Posted<UpdateUserForm>,
) -> Response {
    if f.name == user.user.name {
        // An admin cannot lock themselves out (or leave no admin behind).
        return users_page(
            &st,
            &user,
            "You cannot change your own account here.".into(),
            Shown::default(),
        )
        .await;
    }
    let role = Role::parse(&f.role);
    let (actor, ip) = (user.user.name.clone(), user.ip.clone());
    if f.action == "reset" {
        // A one-time password, shown to the administrator once; the owner
        // must change it at the next sign-in. Their sessions end now.
        let otp = match auth::one_time_password() {
            Ok(p) => p,
            Err(e) => return fail(e),
        };
        // Hashed outside the store lock, like sign-ins (see `AppState::hashing`).
        let pw = otp.clone();
        let hash = match st.hashing(move || auth::hash_password(&pw)).await {
            Ok(Some(Ok(h))) => h,
            Ok(Some(Err(e))) | Err(e) => return fail(e),
            Ok(None) => {
                return users_page(
                    &st,
                    &user,
                    "The server is busy; try again.".into(),
                    Shown::default(),
                )
                .await
            }
        };
        let name = f.name.clone();
        let done = st
            .db(move |s| {
                let Some(target) = s.user_by_name(&name)? else {
                    return Ok(false);
                };
                let ok = s.set_password(target.id, &hash, true, None)?;
                if ok {
                    s.audit(
                        now(),
                        &actor,
                        "password_reset",
                        &format!("{name} (must change it at the next sign-in)"),
                        &ip,
                    )?;
                }
                Ok(ok)
            })
            .await;
        return match done {
            Ok(true) => {
                users_page(
                    &st,
                    &user,
                    String::new(),
                    Shown {
                        reset: Some((f.name, otp)),
                        ..Shown::default()
                    },
                )
                .await
            }
            Ok(false) => users_page(&st, &user, "No such user.".into(), Shown::default()).await,
            Err(e) => fail(e),
        };
    }
    let done = st
        .db(move |s| {
            let (ok, what) = match (f.action.as_str(), role) {
                ("role", Some(r)) => (
                    s.set_user_role(&f.name, r.as_str())?,
                    format!("{} role {}", f.name, r.as_str()),
                ),
                ("disable", _) => (
                    s.set_user_disabled(&f.name, true)?,
                    format!("{} disabled", f.name),
                ),
                ("enable", _) => (
                    s.set_user_disabled(&f.name, false)?,
                    format!("{} enabled", f.name),
                ),
                _ => (false, String::new()),
            };
            if ok {
                s.audit(now(), &actor, "user_changed", &what, &ip)?;
            }
            Ok(ok)
        })
        .await;
    match done {
        Ok(true) => users_page(&st, &user, String::new(), Shown::default()).await,
        Ok(false) => {
            users_page(
                &st,
                &user,
                "No such user or change.".into(),
                Shown::default(),
            )
            .await
        }
        Err(e) => fail(e),
    }
}

#[derive(Template)]
#[template(path = "tokens.html")]
struct TokensPage {
    nav: Option<Nav>,
    title: &'static str,
    tokens: Vec<(i64, String, String, String, String, String)>,
    created: String,
    error: String,
}

async fn tokens_page(st: &AppState, user: &PageUser, created: String, error: String) -> Response {
    let (me, admin) = (user.user.name.clone(), user.role >= Role::Admin);
    match st
        .db(|s| Ok((s.api_tokens()?, s.api_token_expiries()?)))
        .await
    {
        Ok((ts, expiries)) => {
            let iso = |t: i64| model::Timestamp(t * 1_000_000).iso();
            let t_now = now();
            let expires = |id: i64| match expiries
                .iter()
                .find(|(i, _)| *i == id)
                .and_then(|(_, e)| *e)
            {
                None => "never".to_string(),
                Some(e) if e <= t_now => format!("expired {}", iso(e)),
                Some(e) => iso(e),
            };
            let tokens = ts
                .into_iter()
                .filter(|t| admin || t.user == me)
                .map(|t| {
                    (
                        t.id,
                        t.user,
                        t.name,
                        iso(t.created),
                        t.last_used.map(iso).unwrap_or_else(|| "never".into()),
                        expires(t.id),
                    )
                })
                .collect();
            let refused = !error.is_empty();
            render_refused(
                &TokensPage {
                    nav: Some(Nav::of(user)),
                    title: "API tokens",
                    tokens,
                    created,
                    error,
                },
                refused,
            )
        }
        Err(e) => fail(e),
    }
}

async fn tokens(State(st): State<AppState>, user: PageUser) -> Response {
    tokens_page(&st, &user, String::new(), String::new()).await
}

/// The new-token form.
#[derive(Deserialize)]
pub struct TokenForm {
    label: String,
    /// Days until it expires; empty: never.
    #[serde(default)]
    expires_days: String,
}

async fn add_token(
    State(st): State<AppState>,
    Posted { user, form: f, .. }: Posted<TokenForm>,
) -> Response {
    let days = match f.expires_days.trim() {
        "" => None,
        d => match d.parse::<u32>() {
            Ok(n) if (1..=3650).contains(&n) => Some(n),
            _ => {
                return tokens_page(
                    &st,
                    &user,
                    String::new(),
                    "Expiry: a number of days from 1 to 3650, or empty for none.".into(),
                )
                .await
            }
        },
    };
    let label: String = f
        .label
        .chars()
        .filter(|c| !c.is_control())
        .take(64)
        .collect();
    let (id, actor, ip) = (user.user.id, user.user.name.clone(), user.ip.clone());
    let made = st
        .db(move |s| {
            let t = auth::issue_token_expiring(s, id, &label, days)?;
            let detail = match days {
                Some(d) => format!("{label} (expires in {d} days)"),
                None => label.clone(),
            };
            s.audit(now(), &actor, "token_created", &detail, &ip)?;
            Ok(t)
        })
        .await;
    match made {
        Ok(t) => tokens_page(&st, &user, t, String::new()).await,
        Err(e) => fail(e),
    }
}

// ---------------------------------------------------------------- own account

#[derive(Template)]
#[template(path = "account.html")]
struct AccountPage {
    nav: Option<Nav>,
    title: &'static str,
    forced: bool,
    error: String,
    notice: String,
    codes_left: u32,
    codes: Vec<String>,
}

async fn account_page(
    st: &AppState,
    user: &PageUser,
    error: String,
    notice: String,
    codes: Vec<String>,
) -> Response {
    let id = user.user.id;
    match st
        .db(move |s| Ok((s.must_change_password(id)?, s.recovery_codes_left(id)?)))
        .await
    {
        Ok((forced, codes_left)) => {
            let refused = !error.is_empty();
            render_refused(
                &AccountPage {
                    nav: Some(Nav::of(user)),
                    title: "Your account",
                    forced,
                    error,
                    notice,
                    codes_left,
                    codes,
                },
                refused,
            )
        }
        Err(e) => fail(e),
    }
}

async fn account(State(st): State<AppState>, user: PageUser) -> Response {
    account_page(&st, &user, String::new(), String::new(), Vec::new()).await
}

/// The change-password form.
#[derive(Deserialize)]
pub struct PasswordForm {
    #[serde(default)]
    current: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    password2: String,
}

async fn change_password(
    State(st): State<AppState>,
    Posted {
        user, form: mut f, ..
    }: Posted<PasswordForm>,
) -> Response {
    if f.password != f.password2 {
        return account_page(
            &st,
            &user,
            "The new passwords differ.".into(),
            String::new(),
            Vec::new(),
        )
        .await;
    }
    if let Err(why) = auth::check_new_account(&user.user.name, &f.password) {
        return account_page(&st, &user, why, String::new(), Vec::new()).await;
    }
    if f.password == f.current {
        return account_page(
            &st,
            &user,
            "The new password must differ from the current one.".into(),
            String::new(),
            Vec::new(),
        )
        .await;
    }
    let (id, name, ip, keep) = (
        user.user.id,
        user.user.name.clone(),
        user.ip.clone(),
        user.session_hash.clone(),
    );
    // Re-read the hash: the extractor's copy may predate a reset.
    let who = name.clone();
    let phc = match st.db(move |s| Ok(s.user_by_name(&who)?)).await {
        Ok(Some(u)) => u.password_hash,
        Ok(None) => String::new(),
        Err(e) => return fail(e),
    };
    // Both slow steps (check the current password, hash the new one) run
    // outside the store lock, like sign-ins (see `AppState::hashing`).
    let (current, new) = (
        std::mem::take(&mut f.current),
        std::mem::take(&mut f.password),
    );
    let checked = phc.clone();
    let hashed = match st
        .hashing(move || {
            auth::password_matches(&current, &checked)
                .then(|| auth::hash_password(&new))
                .transpose()
        })
        .await
    {
        Ok(Some(Ok(h))) => h,
        Ok(Some(Err(e))) | Err(e) => return fail(e),
        Ok(None) => {
            return account_page(
                &st,
                &user,
                "The server is busy; try again.".into(),
                String::new(),
                Vec::new(),
            )
            .await
        }
    };
    let done = st
        .db(move |s| {
            // The hash checked must still be the stored one (no reset or
            // other change in between).
            let current = s.user_by_name(&name)?;
            let (Some(hash), Some(u)) = (hashed, current) else {
                s.audit(
                    now(),
                    &name,
                    "password_change_failed",
                    "wrong current password",
                    &ip,
                )?;
                return Ok(false);
            };
            if u.password_hash != phc {
                return Ok(false);
            }
            s.set_password(id, &hash, false, Some(&keep))?;
            s.audit(
                now(),
                &name,
                "password_changed",
                "other sessions ended",
                &ip,
            )?;
            Ok(true)
        })
        .await;
    match done {
        Ok(true) => {
            account_page(
                &st,
                &user,
                String::new(),
                "Password changed. Your other sessions were signed out.".into(),
                Vec::new(),
            )
            .await
        }
        Ok(false) => {
            account_page(
                &st,
                &user,
                "The current password is wrong.".into(),
                String::new(),
                Vec::new(),
            )
            .await
        }
        Err(e) => fail(e),
    }
}

/// The new-recovery-codes form (asks for the password again).
#[derive(Deserialize)]
pub struct RecoveryForm {
    #[serde(default)]
    current: String,
}

async fn regenerate_recovery(
    State(st): State<AppState>,
    Posted { user, form: f, .. }: Posted<RecoveryForm>,
) -> Response {
    let (id, name, ip) = (user.user.id, user.user.name.clone(), user.ip.clone());
    let who = name.clone();
    let phc = match st.db(move |s| Ok(s.user_by_name(&who)?)).await {
        Ok(Some(u)) => u.password_hash,
        Ok(None) => String::new(),
        Err(e) => return fail(e),
    };
    // The password check runs outside the store lock (see `AppState::hashing`).
    let checked = phc.clone();
    let ok = match st
        .hashing(move || auth::password_matches(&f.current, &checked))
        .await
    {
        Ok(Some(ok)) => ok,
        Err(e) => return fail(e),
        Ok(None) => {
            return account_page(
                &st,
                &user,
                "The server is busy; try again.".into(),
                String::new(),
                Vec::new(),
            )
            .await
        }
    };
    let made = st
        .db(move |s| {
            // Still the hash checked (no reset or change in between).
            let Some(u) = s.user_by_name(&name)? else {
                return Ok(None);
            };
            if !ok || u.password_hash != phc {
                return Ok(None);
            }
            let codes = auth::new_recovery_codes(s, id)?;
            s.audit(
                now(),
                &name,
                "recovery_codes_created",
                &format!("{} codes; the old ones no longer work", codes.len()),
                &ip,
            )?;
            Ok(Some(codes))
        })
        .await;
    match made {
        Ok(Some(codes)) => {
            account_page(
                &st,
                &user,
                String::new(),
                "New recovery codes: store them now, they are not shown again.".into(),
                codes,
            )
            .await
        }
        Ok(None) => {
            account_page(
                &st,
                &user,
                "The current password is wrong.".into(),
                String::new(),
                Vec::new(),
            )
            .await
        }
        Err(e) => fail(e),
    }
}

/// The revoke-token form.
#[derive(Deserialize)]
pub struct RevokeForm {
    id: i64,
}

async fn revoke_token(
    State(st): State<AppState>,
    Posted { user, form: f, .. }: Posted<RevokeForm>,
) -> Response {
    let (me, admin, ip) = (
        user.user.name.clone(),
        user.role >= Role::Admin,
        user.ip.clone(),
    );
    let done = st
        .db(move |s| {
            let Some(t) = s.api_tokens()?.into_iter().find(|t| t.id == f.id) else {
                return Ok(false);
            };
            if !(admin || t.user == me) || !s.delete_api_token(t.id)? {
                return Ok(false);
            }
            s.audit(
                now(),
                &me,
                "token_revoked",
                &format!("{} label {}", t.user, t.name),
                &ip,
            )?;
            Ok(true)
        })
        .await;
    match done {
        Ok(true) => tokens_page(&st, &user, String::new(), String::new()).await,
        Ok(false) => (StatusCode::FORBIDDEN, "no such token of yours").into_response(),
        Err(e) => fail(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn networks_contain_their_addresses() {
        assert!(in_cidr("10.20.3.7", "10.20.0.0/22"));
        assert!(!in_cidr("10.20.4.7", "10.20.0.0/22"));
        assert!(in_cidr("10.1.2.3", "0.0.0.0/0"));
        assert!(in_cidr("10.1.2.3", "10.1.2.3/32"));
        assert!(in_cidr("fd00::5", "fd00::/64"));
        assert!(!in_cidr("10.1.2.3", "fd00::/64"));
        assert!(!in_cidr("10.1.2.3", "10.1.2.0/33"));
        assert!(!in_cidr("", "10.0.0.0/8") && !in_cidr("10.0.0.1", "10.0.0.0"));
    }

    #[test]
    fn chart_counts_up_to_99_999_999_have_room() {
        for c in [CATEGORY_CHART, BAND_CHART] {
            assert_eq!(c.bar_x + c.max_bar + COUNT_ROOM, c.width);
            // 6 px gap + "99,999,999" in 12 px bold (< 8 px a character).
            assert!(6 + 8 * view::thousands(99_999_999).len() as u32 <= COUNT_ROOM);
        }
    }
}

/// One remediation item as the page shows it.
struct RemediationRow {
    id: i64,
    status: &'static str,
    severity: &'static str,
    device: String,
    subject: String,
    title: String,
    evidence: String,
    due: String,
    overdue: bool,
    owner: String,
}

#[derive(Template)]
#[template(path = "remediation.html")]
struct RemediationPage {
    nav: Option<Nav>,
    title: &'static str,
    error: String,
    charts: String,
    sla: (u32, u32, u32, u32),
    status: String,
    statuses: Vec<&'static str>,
    can_change: bool,
    rows: Vec<RemediationRow>,
}

/// `?status=` of the remediation page.
#[derive(Deserialize, Default)]
pub struct RemediationQuery {
    #[serde(default)]
    status: Option<String>,
}

async fn remediation_page(
    State(st): State<AppState>,
    user: PageUser,
    Query(q): Query<RemediationQuery>,
) -> Response {
    remediation_view(&st, &user, q.status.unwrap_or_default(), String::new()).await
}

async fn remediation_view(
    st: &AppState,
    user: &PageUser,
    status: String,
    error: String,
) -> Response {
    let refused = !error.is_empty();
    let (statuses, status, error) = match crate::remediation::statuses(&status) {
        Ok(s) => (s, status, error),
        Err(e) => (
            crate::remediation::statuses("").unwrap_or_default(),
            String::new(),
            e,
        ),
    };
    let now_secs = now();
    let got = st
        .db(move |s| {
            let items = s.remediation_items(&store::remediation::ItemFilter {
                statuses,
                device: None,
            })?;
            let m = app::remediation::metrics(s, now_secs, 90).map_err(Error::Score)?;
            Ok((items, m, s.remediation_sla()?))
        })
        .await;
    let (items, metrics, sla) = match got {
        Ok(x) => x,
        Err(e) => return fail(e),
    };
    let rows = items
        .iter()
        .map(|i| RemediationRow {
            id: i.id,
            status: i.status.label(),
            severity: i.severity.as_str(),
            device: i.device.clone(),
            subject: i.subject.to_string(),
            title: i.title.clone(),
            evidence: i.evidence.clone(),
            due: model::time::date(i.due),
            overdue: i.overdue(now_secs),
            owner: i.owner.clone().unwrap_or_default(),
        })
        .collect();
    render_refused(
        &RemediationPage {
            nav: Some(Nav::of(user)),
            title: "Remediation",
            error,
            charts: report::remediation::section(&metrics),
            sla: (sla.critical, sla.high, sla.medium, sla.low),
            status: if status.is_empty() {
                "unresolved".into()
            } else {
                status
            },
            statuses: crate::remediation::STATUS_FILTERS.to_vec(),
            can_change: user.role >= Role::Analyst,
            rows,
        },
        refused,
    )
}

/// The remediation change form.
#[derive(Deserialize)]
pub struct RemediationForm {
    #[serde(default)]
    id: String,
    #[serde(default)]
    action: String,
    #[serde(default)]
    until: String,
    #[serde(default)]
    owner: String,
    #[serde(default)]
    comment: String,
}

/// `POST /remediation/status`: analysts and admins (CSRF checked); audited.
async fn remediation_status(
    State(st): State<AppState>,
    Posted { user, form: f, .. }: Posted<RemediationForm>,
) -> Response {
    if let Err(r) = user.require(Role::Analyst) {
        return r;
    }
    let req = crate::remediation::ChangeRequest {
        action: Some(f.action),
        comment: Some(f.comment).filter(|c| !c.trim().is_empty()),
        until: Some(f.until).filter(|c| !c.trim().is_empty()),
        owner: Some(f.owner).filter(|c| !c.trim().is_empty()),
        due: None,
    };
    let Ok(id) = f.id.trim().parse::<i64>() else {
        return remediation_view(&st, &user, "all".into(), "Unknown item.".into()).await;
    };
    let (actor, ip) = (user.user.name.clone(), user.ip.clone());
    match st
        .db_mut(move |s| crate::remediation::change(s, id, &req, &actor, &ip, now()))
        .await
    {
        Ok(Ok(_)) => Redirect::to("/remediation").into_response(),
        Ok(Err((_, why))) => remediation_view(&st, &user, "all".into(), why).await,
        Err(e) => fail(e),
    }
}
