//! The REST API under `/api/v1` (bearer tokens), mirroring the dashboard:
//! devices (same filters and paging), device detail, risk overview,
//! advisories, the report export and, for admins, the audit log. The
//! OpenAPI document (`/api/v1/openapi.json`, public: it holds no data) marks
//! each operation's lowest role in `x-ward-role`.

use crate::alerts::{
    AlertPage, AlertQuery, AlertView, ApproveRequest, EvidenceView, IntakeView, StatusRequest,
};
use crate::auth::{json_error, now, ApiUser, Role};
use crate::map::{MapEdge, MapNode, NetworkMap};
use crate::view::{self, DevicePage, DeviceQuery, DeviceSummary, Overview, SiteQuery};
use crate::{AppState, Error};
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, OpenApi, ToSchema};

/// Every API route and the lowest role allowed on it. The OpenAPI document
/// is checked against this list (test `openapi_matches_routes`).
pub const ROUTES: &[(&str, Role)] = &[
    ("/api/v1/devices", Role::Viewer),
    ("/api/v1/devices/{key}", Role::Viewer),
    ("/api/v1/risk", Role::Viewer),
    ("/api/v1/advisories", Role::Viewer),
    ("/api/v1/map", Role::Viewer),
    ("/api/v1/alerts", Role::Viewer),
    ("/api/v1/alerts/{id}/ack", Role::Analyst),
    ("/api/v1/alerts/{id}/close", Role::Analyst),
    ("/api/v1/alerts/{id}/reopen", Role::Analyst),
    ("/api/v1/intake", Role::Viewer),
    ("/api/v1/intake/approve", Role::Analyst),
    ("/api/v1/report", Role::Analyst),
    ("/api/v1/audit", Role::Admin),
    ("/api/v1/backup", Role::Viewer),
    ("/api/v1/remediation", Role::Viewer),
    ("/api/v1/remediation/metrics", Role::Viewer),
    ("/api/v1/remediation/{id}", Role::Analyst),
];

#[derive(OpenApi)]
#[openapi(
    info(title = "Ward API", description = "Passive security for connected medical devices. Authenticate with `Authorization: Bearer TOKEN` (tokens: dashboard › API tokens)."),
    paths(devices, device, risk, advisories, network_map, alerts, alert_ack, alert_close, alert_reopen, intake, intake_approve, report_export, audit, backup_status, crate::remediation::items, crate::remediation::metrics, crate::remediation::change_item),
    components(schemas(DevicePage, DeviceSummary, DeviceDetail, Peer, Overview, view::Count, AuditRow, ErrorBody, NetworkMap, MapNode, MapEdge, AlertPage, AlertView, EvidenceView, StatusRequest, IntakeView, ApproveRequest, BackupStatus, BackupRunView, DrillView, crate::remediation::ItemPage, crate::remediation::ItemView, crate::remediation::MetricsView, crate::remediation::SeverityView, crate::remediation::PointView, crate::remediation::ChangeRequest)),
    modifiers(&Bearer)
)]
struct ApiDoc;

struct Bearer;

impl utoipa::Modify for Bearer {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{
            HttpAuthScheme, HttpBuilder, SecurityRequirement, SecurityScheme,
        };
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
        openapi.security = Some(vec![SecurityRequirement::new(
            "bearer",
            Vec::<String>::new(),
        )]);
    }
}

/// The OpenAPI document, with `x-ward-role` on every operation.
pub fn openapi() -> serde_json::Value {
    let mut doc = serde_json::to_value(ApiDoc::openapi()).unwrap_or_default();
    if let Some(paths) = doc.get_mut("paths").and_then(|p| p.as_object_mut()) {
        for (path, item) in paths.iter_mut() {
            let role = ROUTES
                .iter()
                .find(|(p, _)| p == path)
                .map(|(_, r)| r.as_str())
                .unwrap_or("admin");
            if let Some(ops) = item.as_object_mut() {
                for op in ops.values_mut() {
                    if let Some(op) = op.as_object_mut() {
                        op.insert("x-ward-role".into(), role.into());
                    }
                }
            }
        }
    }
    doc
}

/// The API routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/openapi.json", get(|| async { Json(openapi()) }))
        .route("/api/v1/devices", get(devices))
        .route("/api/v1/devices/{key}", get(device))
        .route("/api/v1/risk", get(risk))
        .route("/api/v1/advisories", get(advisories))
        .route("/api/v1/map", get(network_map))
        .route("/api/v1/alerts", get(alerts))
        .route("/api/v1/alerts/{id}/ack", post(alert_ack))
        .route("/api/v1/alerts/{id}/close", post(alert_close))
        .route("/api/v1/alerts/{id}/reopen", post(alert_reopen))
        .route("/api/v1/intake", get(intake))
        .route("/api/v1/intake/approve", post(intake_approve))
        .route("/api/v1/report", get(report_export))
        .route("/api/v1/audit", get(audit))
        .route("/api/v1/backup", get(backup_status))
        .route("/api/v1/remediation", get(crate::remediation::items))
        .route(
            "/api/v1/remediation/metrics",
            get(crate::remediation::metrics),
        )
        .route(
            "/api/v1/remediation/{id}",
            post(crate::remediation::change_item),
        )
}

/// An error body.
#[derive(Serialize, ToSchema)]
pub struct ErrorBody {
    /// What went wrong.
    pub error: String,
}

pub(crate) fn fail(e: Error) -> Response {
    e.into_response()
}

/// `value` as a JSON answer through `model::json::tidy` (`f32` numbers as
/// written, RFC 3339 twins of microsecond times).
fn tidy<T: Serialize>(value: &T) -> Result<Json<serde_json::Value>, Response> {
    model::json::tidy_value(value)
        .map(Json)
        .map_err(|e| fail(Error::Json(e)))
}

/// Devices with filters, sort and paging.
#[utoipa::path(get, path = "/api/v1/devices", params(DeviceQuery), responses(
    (status = 200, body = DevicePage), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
async fn devices(
    State(st): State<AppState>,
    user: ApiUser,
    Query(q): Query<DeviceQuery>,
) -> Result<Json<DevicePage>, Response> {
    user.require(Role::Viewer)?;
    let snap = st.snapshot().await.map_err(fail)?;
    let (total, page, per_page, shown) = snap.select(&q);
    Ok(Json(DevicePage {
        total,
        page,
        per_page,
        devices: shown.into_iter().map(DeviceSummary::of).collect(),
    }))
}

/// One device: identity, evidence, services, findings and advisories.
#[derive(Serialize, ToSchema)]
pub struct DeviceDetail {
    /// Summary.
    pub summary: DeviceSummary,
    /// MAC address.
    pub mac: Option<String>,
    /// First and last time seen (ISO 8601), observed devices only.
    pub first_seen: Option<String>,
    /// Last seen.
    pub last_seen: Option<String>,
    /// Classification confidence 0..1.
    pub confidence: Option<f32>,
    /// Why the category (each with evidence).
    #[schema(value_type = Vec<Object>)]
    pub reasons: Vec<identify::Reason>,
    /// Services it offers.
    pub services_offered: Vec<String>,
    /// Services it uses.
    pub services_used: Vec<String>,
    /// Software seen.
    pub software: Vec<String>,
    /// Clinical applications seen (HL7 sending applications...).
    pub applications: Vec<String>,
    /// Score, likelihood, impact and factors (finding, evidence, remediation).
    #[schema(value_type = Object)]
    pub assessment: risk::Assessment,
    /// Matching advisories with reasons.
    #[schema(value_type = Vec<Object>)]
    pub advisories: Vec<serde_json::Value>,
    /// Hosts it talked to, busiest first (at most 50).
    pub peers: Vec<Peer>,
    /// Distinct hosts it talked to in all.
    pub peers_total: usize,
    /// Data protection: where its data goes and when it last went there,
    /// copies it received, the declared plan and findings (`null` when it
    /// neither produces clinical data nor sends or receives copies).
    #[schema(value_type = Option<Object>)]
    pub data_protection: Option<risk::coverage::Protection>,
}

/// A host a device talked to.
#[derive(Serialize, ToSchema)]
pub struct Peer {
    /// Device key, or `ip:ADDRESS` for a host outside the inventory.
    pub id: String,
    /// Name shown.
    pub label: String,
    /// Category (`remote host` outside the inventory).
    pub category: String,
    /// True for devices of the inventory.
    pub device: bool,
    /// Connections counted.
    pub flows: u64,
}

/// Builds a device's detail (dashboard and API).
pub async fn detail(st: &AppState, key: String) -> Result<Option<DeviceDetail>, Error> {
    let snap = st.snapshot().await?;
    let Some(row) = snap.get(&key) else {
        return Ok(None);
    };
    let (peers, peers_total) = snap.graph.peers_of(&key, crate::map::PEERS_PER_DEVICE);
    let dev = st.db(move |s| Ok(s.device(&key)?)).await?;
    let iso = |t: model::Timestamp| (t.0 != 0).then(|| t.iso());
    Ok(Some(DeviceDetail {
        summary: DeviceSummary::of(row),
        mac: dev.as_ref().and_then(|d| d.mac.map(|m| m.to_string())),
        first_seen: dev.as_ref().and_then(|d| iso(d.first_seen)),
        last_seen: dev.as_ref().and_then(|d| iso(d.last_seen)),
        confidence: dev.as_ref().map(|d| d.confidence),
        reasons: dev.as_ref().map(|d| d.reasons.clone()).unwrap_or_default(),
        services_offered: dev
            .as_ref()
            .map(|d| d.services_offered.clone())
            .unwrap_or_default(),
        services_used: dev
            .as_ref()
            .map(|d| d.services_used.clone())
            .unwrap_or_default(),
        software: dev.as_ref().map(|d| d.software.clone()).unwrap_or_default(),
        applications: dev
            .as_ref()
            .map(|d| d.applications.clone())
            .unwrap_or_default(),
        assessment: row.assessment.clone(),
        advisories: row
            .advisories
            .iter()
            .map(|m| serde_json::to_value(m).unwrap_or_default())
            .collect(),
        peers: peers
            .into_iter()
            .map(|(n, flows)| Peer {
                id: n.id,
                label: n.label,
                category: n.category,
                device: n.device,
                flows,
            })
            .collect(),
        peers_total,
        data_protection: snap
            .coverage
            .as_ref()
            .and_then(|c| c.device(&row.assessment.key))
            .cloned(),
    }))
}

/// One device by key.
#[utoipa::path(get, path = "/api/v1/devices/{key}", params(("key" = String, Path, description = "Device key")), responses(
    (status = 200, body = DeviceDetail), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn device(
    State(st): State<AppState>,
    user: ApiUser,
    Path(key): Path<String>,
) -> Result<Json<serde_json::Value>, Response> {
    user.require(Role::Viewer)?;
    match detail(&st, key).await.map_err(fail)? {
        Some(d) => tidy(&d),
        None => Err(json_error(StatusCode::NOT_FOUND, "no such device")),
    }
}

/// Fleet risk: counts, categories, score distribution, findings by severity.
#[utoipa::path(get, path = "/api/v1/risk", params(SiteQuery), responses(
    (status = 200, body = Overview), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
async fn risk(
    State(st): State<AppState>,
    user: ApiUser,
    Query(q): Query<SiteQuery>,
) -> Result<Json<serde_json::Value>, Response> {
    user.require(Role::Viewer)?;
    q.checked()
        .map_err(|e| json_error(StatusCode::BAD_REQUEST, &e))?;
    let snap = st.snapshot().await.map_err(fail)?;
    tidy(&match q.site() {
        None => snap.overview.clone(),
        Some(s) => crate::view::overview(&snap.rows_of(Some(s))),
    })
}

fn input(
    rows: Vec<app::ScoredDevice>,
    st: &AppState,
    coverage: Option<risk::coverage::Coverage>,
) -> report::Input {
    report::Input {
        title: "Ward medical device risk report".into(),
        scope: format!("{} devices in {}", rows.len(), st.inner.db_label),
        devices: rows,
        coverage,
        remediation: None,
    }
}

/// Affected fleets: every device of one vendor/model/firmware matched by one advisory CVE.
#[utoipa::path(get, path = "/api/v1/advisories", params(SiteQuery), responses(
    (status = 200, body = Vec<Object>), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
async fn advisories(
    State(st): State<AppState>,
    user: ApiUser,
    Query(q): Query<SiteQuery>,
) -> Result<Json<serde_json::Value>, Response> {
    user.require(Role::Viewer)?;
    q.checked()
        .map_err(|e| json_error(StatusCode::BAD_REQUEST, &e))?;
    let snap = st.snapshot().await.map_err(fail)?;
    // Only devices with matches can be in a fleet.
    let mut rows = snap.rows_of(q.site());
    rows.retain(|d| !d.advisories.is_empty());
    let input = input(rows, &st, None);
    tidy(&report::fleets(&input))
}

/// Network map query.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct MapQuery {
    /// Nodes returned, busiest first (1-500, default 60).
    pub limit: Option<usize>,
    /// Only this site's devices and peers (multi-site deployments).
    pub site: Option<String>,
}

/// Who talks to whom: the busiest devices and remote hosts, grouped by subnet, and the links between them.
#[utoipa::path(get, path = "/api/v1/map", params(MapQuery), responses(
    (status = 200, body = NetworkMap), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
async fn network_map(
    State(st): State<AppState>,
    user: ApiUser,
    Query(q): Query<MapQuery>,
) -> Result<Json<NetworkMap>, Response> {
    user.require(Role::Viewer)?;
    if q.site
        .as_deref()
        .is_some_and(|s| !s.is_empty() && !store::valid_site(s))
    {
        return Err(json_error(StatusCode::BAD_REQUEST, "invalid site name"));
    }
    let snap = st.snapshot().await.map_err(fail)?;
    Ok(Json(snap.graph.view(
        q.limit.unwrap_or(crate::map::DEFAULT_NODES),
        q.site.as_deref().filter(|s| !s.is_empty()),
    )))
}

/// The full risk report as JSON (an export: audited).
#[utoipa::path(get, path = "/api/v1/report", params(SiteQuery), responses(
    (status = 200, body = Object), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
async fn report_export(
    State(st): State<AppState>,
    user: ApiUser,
    Query(q): Query<SiteQuery>,
) -> Result<Response, Response> {
    user.require(Role::Analyst)?;
    q.checked()
        .map_err(|e| json_error(StatusCode::BAD_REQUEST, &e))?;
    let snap = st.snapshot().await.map_err(fail)?;
    let mut input = input(snap.rows_of(q.site()), &st, snap.coverage.clone());
    if let Some(s) = q.site() {
        input.scope = format!("{} (site {s})", input.scope);
    }
    let json = report::json(&input).map_err(|e| fail(Error::Report(e)))?;
    let what = match q.site() {
        Some(s) => format!("report.json of site {s} via API"),
        None => "report.json via API".to_string(),
    };
    let (name, ip) = (user.user.name.clone(), user.ip.clone());
    st.db(move |s| Ok(s.audit(now(), &name, "export", &what, &ip)?))
        .await
        .map_err(fail)?;
    Ok((
        [(axum::http::header::CONTENT_TYPE, "application/json")],
        json,
    )
        .into_response())
}

/// Audit query.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AuditQuery {
    /// Newest N entries (default 200, at most 5000).
    pub limit: Option<u32>,
}

/// One audit entry.
#[derive(Serialize, ToSchema)]
pub struct AuditRow {
    /// Sequence number.
    pub id: i64,
    /// Time, Unix seconds.
    pub at: i64,
    /// Who.
    pub actor: String,
    /// What.
    pub action: String,
    /// Details.
    pub detail: String,
    /// Client address.
    pub ip: String,
}

/// The audit log, newest first (admins).
#[utoipa::path(get, path = "/api/v1/audit", params(AuditQuery), responses(
    (status = 200, body = Vec<AuditRow>), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
async fn audit(
    State(st): State<AppState>,
    user: ApiUser,
    Query(q): Query<AuditQuery>,
) -> Result<Json<Vec<AuditRow>>, Response> {
    user.require(Role::Admin)?;
    let limit = q.limit.unwrap_or(200).min(5000);
    let rows = st
        .db(move |s| Ok(s.audit_log(limit)?))
        .await
        .map_err(fail)?;
    Ok(Json(
        rows.into_iter()
            .map(|a| AuditRow {
                id: a.id,
                at: a.at,
                actor: a.actor,
                action: a.action,
                detail: a.detail,
                ip: a.ip,
            })
            .collect(),
    ))
}

/// One backup of Ward's own state.
#[derive(Serialize, ToSchema)]
pub struct BackupRunView {
    /// When it finished, Unix seconds.
    pub at: i64,
    /// Snapshot id (restic's); empty when it failed.
    pub snapshot: String,
    /// Repository (a path or `s3:` URL; never a password).
    pub repository: String,
    /// How long it took, milliseconds.
    pub duration_ms: u64,
    /// Whether a snapshot was written.
    pub passed: bool,
    /// Bytes backed up.
    pub bytes: u64,
    /// New data added to the repository (stored size).
    pub bytes_added: u64,
    /// What it holds, or why it failed.
    pub detail: String,
}

/// One restore drill (`ward backup verify-restore`).
#[derive(Serialize, ToSchema)]
pub struct DrillView {
    /// When, Unix seconds.
    pub at: i64,
    /// Snapshot restored.
    pub snapshot: String,
    /// Repository.
    pub repository: String,
    /// How long restore, open and comparison took, milliseconds.
    pub duration_ms: u64,
    /// Whether the restored store matched its manifest.
    pub passed: bool,
    /// What was compared, or what failed.
    pub detail: String,
}

/// Ward's own backups: the last success and its age, a failure streak, the
/// newest backups and restore drills.
#[derive(Serialize, ToSchema)]
pub struct BackupStatus {
    /// The newest successful backup.
    pub last_success: Option<BackupRunView>,
    /// Seconds since it.
    pub age_secs: Option<i64>,
    /// The first failure of the current failure streak, if the newest backup failed.
    pub failing_since: Option<BackupRunView>,
    /// Newest backups first (at most 20).
    pub runs: Vec<BackupRunView>,
    /// Newest restore drills first (at most 20).
    pub drills: Vec<DrillView>,
}

fn run_view(r: store::backup::BackupRun) -> BackupRunView {
    BackupRunView {
        at: r.at,
        snapshot: r.snapshot,
        repository: r.repository,
        duration_ms: r.duration_ms,
        passed: r.passed,
        bytes: r.bytes,
        bytes_added: r.bytes_added,
        detail: r.detail,
    }
}

/// Backup status of Ward's own state (`ward backup`, `ward serve --backup-every`).
#[utoipa::path(get, path = "/api/v1/backup", responses(
    (status = 200, body = BackupStatus), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
async fn backup_status(
    State(st): State<AppState>,
    user: ApiUser,
) -> Result<Json<BackupStatus>, Response> {
    user.require(Role::Viewer)?;
    let now = (crate::now_ms() / 1000) as i64;
    let b = st
        .db(move |s| Ok(app::backup::status(s, now)?))
        .await
        .map_err(fail)?;
    Ok(Json(BackupStatus {
        last_success: b.last_success.map(run_view),
        age_secs: b.age_secs,
        failing_since: b.failing_since.map(run_view),
        runs: b.runs.into_iter().map(run_view).collect(),
        drills: b
            .drills
            .into_iter()
            .map(|d| DrillView {
                at: d.at,
                snapshot: d.snapshot,
                repository: d.repository,
                duration_ms: d.duration_ms,
                passed: d.passed,
                detail: d.detail,
            })
            .collect(),
    }))
}

/// Monitoring alerts, newest first, with filters and paging.
#[utoipa::path(get, path = "/api/v1/alerts", params(AlertQuery), responses(
    (status = 200, body = AlertPage), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
async fn alerts(
    State(st): State<AppState>,
    user: ApiUser,
    Query(q): Query<AlertQuery>,
) -> Result<Json<AlertPage>, Response> {
    user.require(Role::Viewer)?;
    let filter = q
        .filter()
        .map_err(|e| json_error(StatusCode::BAD_REQUEST, &e))?;
    let all = st
        .db(move |s| Ok(s.stored_alerts(&filter)?))
        .await
        .map_err(fail)?;
    let (total, page, per_page, shown) = crate::alerts::select(all, &q);
    Ok(Json(AlertPage {
        total,
        page,
        per_page,
        alerts: shown.iter().map(AlertView::of).collect(),
    }))
}

/// Largest status-change body accepted (bytes).
const MAX_STATUS_BODY: usize = 8192;

/// Changes an alert's status (analysts and admins; audited). The body is
/// optional: empty, or JSON `{"comment": "..."}`.
async fn change_status(
    st: AppState,
    user: ApiUser,
    id: String,
    action: store::StatusAction,
    body: axum::body::Bytes,
) -> Result<Json<AlertView>, Response> {
    user.require(Role::Analyst)?;
    let id: i64 = id
        .parse()
        .map_err(|_| json_error(StatusCode::BAD_REQUEST, "the alert id is a number"))?;
    if body.len() > MAX_STATUS_BODY {
        return Err(json_error(StatusCode::PAYLOAD_TOO_LARGE, "body too large"));
    }
    let req: StatusRequest = if body.iter().all(u8::is_ascii_whitespace) {
        StatusRequest::default()
    } else {
        serde_json::from_slice(&body)
            .map_err(|e| json_error(StatusCode::UNPROCESSABLE_ENTITY, &format!("body: {e}")))?
    };
    let (actor, ip) = (user.user.name.clone(), user.ip.clone());
    let done = st
        .db_mut(move |s| {
            crate::alerts::change_status(s, id, action, req.comment.as_deref(), &actor, &ip)
        })
        .await
        .map_err(fail)?;
    match done {
        Ok(a) => Ok(Json(AlertView::of(&a))),
        Err(e @ store::StatusError::NotFound(_)) => {
            Err(json_error(StatusCode::NOT_FOUND, &e.to_string()))
        }
        Err(e @ store::StatusError::Conflict { .. }) => {
            Err(json_error(StatusCode::CONFLICT, &e.to_string()))
        }
        Err(e) => Err(json_error(StatusCode::BAD_REQUEST, &e.to_string())),
    }
}

/// Acknowledges an alert (open → acknowledged; already acknowledged: unchanged). Occurrences keep folding into it.
#[utoipa::path(post, path = "/api/v1/alerts/{id}/ack", params(("id" = i64, Path, description = "Alert id", example = 1)),
    request_body(content = StatusRequest, description = "Optional comment", content_type = "application/json"), responses(
    (status = 200, body = AlertView), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
    (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 413, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn alert_ack(
    State(st): State<AppState>,
    user: ApiUser,
    Path(id): Path<String>,
    body: axum::body::Bytes,
) -> Result<Json<AlertView>, Response> {
    change_status(st, user, id, store::StatusAction::Ack, body).await
}

/// Closes an alert (open or acknowledged → closed). A newer occurrence reopens it.
#[utoipa::path(post, path = "/api/v1/alerts/{id}/close", params(("id" = i64, Path, description = "Alert id", example = 1)),
    request_body(content = StatusRequest, description = "Optional comment", content_type = "application/json"), responses(
    (status = 200, body = AlertView), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
    (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 413, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn alert_close(
    State(st): State<AppState>,
    user: ApiUser,
    Path(id): Path<String>,
    body: axum::body::Bytes,
) -> Result<Json<AlertView>, Response> {
    change_status(st, user, id, store::StatusAction::Close, body).await
}

/// Reopens an alert (acknowledged or closed → open).
#[utoipa::path(post, path = "/api/v1/alerts/{id}/reopen", params(("id" = i64, Path, description = "Alert id", example = 1)),
    request_body(content = StatusRequest, description = "Optional comment", content_type = "application/json"), responses(
    (status = 200, body = AlertView), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
    (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 413, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn alert_reopen(
    State(st): State<AppState>,
    user: ApiUser,
    Path(id): Path<String>,
    body: axum::body::Bytes,
) -> Result<Json<AlertView>, Response> {
    change_status(st, user, id, store::StatusAction::Reopen, body).await
}

/// Device intake: every device awaiting approval or approved, by key.
#[utoipa::path(get, path = "/api/v1/intake", responses(
    (status = 200, body = Vec<IntakeView>), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
async fn intake(
    State(st): State<AppState>,
    user: ApiUser,
) -> Result<Json<Vec<IntakeView>>, Response> {
    user.require(Role::Viewer)?;
    let rows = st.db(|s| Ok(s.intake()?)).await.map_err(fail)?;
    Ok(Json(rows.iter().map(IntakeView::of).collect()))
}

/// Approves a device awaiting intake and records its owner, location and group (audited).
#[utoipa::path(post, path = "/api/v1/intake/approve", request_body = ApproveRequest, responses(
    (status = 200, body = IntakeView), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
    (status = 404, body = ErrorBody), (status = 415, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn intake_approve(
    State(st): State<AppState>,
    user: ApiUser,
    body: Result<Json<ApproveRequest>, axum::extract::rejection::JsonRejection>,
) -> Result<Json<IntakeView>, Response> {
    user.require(Role::Analyst)?;
    let Json(req) = body.map_err(|e| json_error(e.status(), &e.body_text()))?;
    let (device, approval) = req
        .checked()
        .map_err(|e| json_error(StatusCode::BAD_REQUEST, &e))?;
    let (actor, ip) = (user.user.name.clone(), user.ip.clone());
    let done = st
        .db_mut(move |s| {
            if !crate::alerts::approve(s, &device, &approval, &actor, &ip)? {
                return Ok(None);
            }
            Ok(s.intake()?.into_iter().find(|e| e.device == device))
        })
        .await
        .map_err(fail)?;
    match done {
        Some(e) => Ok(Json(IntakeView::of(&e))),
        None => Err(json_error(
            StatusCode::NOT_FOUND,
            "no such device awaiting intake",
        )),
    }
}
