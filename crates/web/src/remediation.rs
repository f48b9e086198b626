//! Remediation in the dashboard and the API: the status filter, the change
//! a person asks for (status, owner, due date, comment; audited in the
//! store), and the API's views: `GET /api/v1/remediation` (items),
//! `GET /api/v1/remediation/metrics`, `POST /api/v1/remediation/{id}`.

use crate::auth::{json_error, now, ApiUser, Role};
use crate::AppState;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::Json;
use remediation::{Action, Status};
use serde::{Deserialize, Serialize};
use store::remediation::{Item, ItemFilter, RemediationError};
use utoipa::{IntoParams, ToSchema};

/// Status filters the page and the API accept.
pub const STATUS_FILTERS: &[&str] = &[
    "unresolved",
    "active",
    "open",
    "in_progress",
    "mitigated",
    "patched",
    "risk_accepted",
    "verified",
    "all",
];

/// The statuses of a filter name (`""` and `unresolved`: all but verified;
/// `active`: open or in progress; `all`: no filter), or why not.
pub fn statuses(filter: &str) -> Result<Vec<Status>, String> {
    match filter.trim() {
        "" | "unresolved" => Ok(Status::ALL
            .into_iter()
            .filter(|s| *s != Status::Verified)
            .collect()),
        "active" => Ok(vec![Status::Open, Status::InProgress]),
        "all" => Ok(Vec::new()),
        s => Status::parse(s)
            .map(|s| vec![s])
            .ok_or_else(|| format!("Unknown status (one of {}).", STATUS_FILTERS.join(", "))),
    }
}

/// A change of one item: a status `action` (start, mitigate, patch, accept,
/// verify, reopen) and/or an owner, a due date, a comment.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
pub struct ChangeRequest {
    /// start, mitigate, patch, accept (needs `until`), verify, reopen.
    #[schema(example = "patch")]
    pub action: Option<String>,
    /// Why (at most 500 characters).
    pub comment: Option<String>,
    /// End of a risk acceptance, YYYY-MM-DD.
    #[schema(example = "2027-06-30")]
    pub until: Option<String>,
    /// Owner (a person or team).
    pub owner: Option<String>,
    /// Due date, YYYY-MM-DD.
    pub due: Option<String>,
}

fn date(field: &str, s: &Option<String>) -> Result<Option<i64>, String> {
    s.as_deref()
        .map(|d| {
            model::time::parse_date(d.trim()).ok_or_else(|| format!("{field}: a date YYYY-MM-DD"))
        })
        .transpose()
}

/// Applies a change as `actor` from `ip`: the owner, due date and comment
/// first, then the status (each audited by the store). The status code and
/// reason when refused (nothing changed by the refused part).
pub fn change(
    s: &mut store::Store,
    id: i64,
    req: &ChangeRequest,
    actor: &str,
    ip: &str,
    at: i64,
) -> Result<Result<Item, (StatusCode, String)>, crate::Error> {
    let bad = |m: String| Ok(Err((StatusCode::BAD_REQUEST, m)));
    let action = match req
        .action
        .as_deref()
        .map(str::trim)
        .filter(|a| !a.is_empty())
    {
        Some(a) => match Action::parse(a) {
            Some(a) => Some(a),
            None => {
                return bad("action: one of start, mitigate, patch, accept, verify, reopen".into())
            }
        },
        None => None,
    };
    let (until, due) = match (date("until", &req.until), date("due", &req.due)) {
        (Ok(u), Ok(d)) => (u, d),
        (Err(e), _) | (_, Err(e)) => return bad(e),
    };
    if action.is_none() && req.owner.is_none() && due.is_none() && req.comment.is_none() {
        return bad("nothing to change: give an action, owner, due date or comment".into());
    }
    let refused = |e: store::Error| -> Result<Result<Item, (StatusCode, String)>, crate::Error> {
        match e {
            store::Error::Remediation(r) => {
                let code = match r {
                    RemediationError::NotFound(_) => StatusCode::NOT_FOUND,
                    RemediationError::Transition { .. } => StatusCode::CONFLICT,
                    _ => StatusCode::BAD_REQUEST,
                };
                Ok(Err((code, r.to_string())))
            }
            e => Err(e.into()),
        }
    };
    // Checked before anything is written: an unknown id or a refused
    // transition leaves the owner and comment unchanged too.
    match s.remediation_item(id)? {
        None => {
            return Ok(Err((
                StatusCode::NOT_FOUND,
                format!("no remediation item #{id}"),
            )))
        }
        Some(i) => {
            if let Some(a) = action {
                if let Err(t) = a.applies(i.status) {
                    return Ok(Err((StatusCode::CONFLICT, format!("item #{id}: {t}"))));
                }
                if a == Action::Accept && until.is_none_or(|u| u <= at) {
                    return bad(RemediationError::NeedsExpiry.to_string());
                }
            }
        }
    }
    let status_comment = if action.is_some() {
        req.comment.as_deref()
    } else {
        None
    };
    if req.owner.is_some() || due.is_some() || (action.is_none() && req.comment.is_some()) {
        let note = if action.is_none() {
            req.comment.as_deref()
        } else {
            None
        };
        if let Err(e) = s.update_remediation(&[id], req.owner.as_deref(), due, note, actor, at, ip)
        {
            return refused(e);
        }
    }
    if let Some(a) = action {
        match s.set_remediation_status(&[id], a, actor, status_comment, until, at, ip) {
            Ok(mut v) => return Ok(Ok(v.remove(0))),
            Err(e) => return refused(e),
        }
    }
    match s.remediation_item(id)? {
        Some(i) => Ok(Ok(i)),
        None => Ok(Err((
            StatusCode::NOT_FOUND,
            format!("no remediation item #{id}"),
        ))),
    }
}

/// One item in the API.
#[derive(Debug, Serialize, ToSchema)]
pub struct ItemView {
    /// Stable id.
    pub id: i64,
    /// Device key.
    pub device: String,
    /// `cve:CVE-…` or `finding:KIND`.
    pub subject: String,
    /// One line.
    pub title: String,
    /// low, medium, high, critical.
    pub severity: String,
    /// open, in_progress, mitigated, patched, risk_accepted, verified.
    pub status: String,
    /// Owner.
    pub owner: Option<String>,
    /// Due date (YYYY-MM-DD).
    pub due: String,
    /// Past due and not dealt with.
    pub overdue: bool,
    /// Who accepted the risk.
    pub accepted_by: Option<String>,
    /// Until when (YYYY-MM-DD).
    pub accepted_until: Option<String>,
    /// Opened (Unix seconds).
    pub opened_at: i64,
    /// Remediated (Unix seconds).
    pub remediated_at: Option<i64>,
    /// Times it came back.
    pub reopened: i64,
    /// Latest evidence.
    pub evidence: String,
}

impl ItemView {
    /// The view of a stored item at `now`.
    pub fn of(i: &Item, now: i64) -> ItemView {
        ItemView {
            id: i.id,
            device: i.device.clone(),
            subject: i.subject.key(),
            title: i.title.clone(),
            severity: i.severity.as_str().into(),
            status: i.status.as_str().into(),
            owner: i.owner.clone(),
            due: model::time::date(i.due),
            overdue: i.overdue(now),
            accepted_by: i.accepted_by.clone(),
            accepted_until: i.accepted_until.map(model::time::date),
            opened_at: i.opened_at,
            remediated_at: i.remediated_at,
            reopened: i.reopened,
            evidence: i.evidence.clone(),
        }
    }
}

/// Items of `GET /api/v1/remediation`.
#[derive(Debug, Serialize, ToSchema)]
pub struct ItemPage {
    /// Items matching.
    pub total: usize,
    /// Of which overdue.
    pub overdue: usize,
    /// The items, most urgent first.
    pub items: Vec<ItemView>,
}

/// Filters of `GET /api/v1/remediation`.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ItemQuery {
    /// unresolved (default), active, open, in_progress, mitigated, patched, risk_accepted, verified, all.
    pub status: Option<String>,
    /// Only this device key.
    pub device: Option<String>,
}

/// One severity's time to remediate.
#[derive(Debug, Serialize, ToSchema)]
pub struct SeverityView {
    /// Severity.
    pub severity: String,
    /// Items remediated.
    pub remediated: u64,
    /// Mean days to remediate.
    pub mean_days: Option<f64>,
    /// 90th percentile (nearest rank), days.
    pub p90_days: Option<f64>,
    /// Open or in progress.
    pub open: u64,
    /// Of which overdue.
    pub overdue: u64,
}

/// Open items at the end of one day.
#[derive(Debug, Serialize, ToSchema)]
pub struct PointView {
    /// YYYY-MM-DD.
    pub date: String,
    /// Open or in progress then.
    pub open: u64,
}

/// `GET /api/v1/remediation/metrics`.
#[derive(Debug, Serialize, ToSchema)]
pub struct MetricsView {
    /// Items in all.
    pub total: u64,
    /// Open or in progress.
    pub open: u64,
    /// Overdue.
    pub overdue: u64,
    /// Per severity, critical first.
    pub by_severity: Vec<SeverityView>,
    /// Open items over the last 90 days.
    pub open_over_time: Vec<PointView>,
}

/// Remediation items (every vulnerability and finding per device), most urgent first.
#[utoipa::path(get, path = "/api/v1/remediation", params(ItemQuery), responses(
    (status = 200, body = ItemPage), (status = 400, body = crate::api::ErrorBody), (status = 401, body = crate::api::ErrorBody), (status = 403, body = crate::api::ErrorBody)))]
pub async fn items(
    State(st): State<AppState>,
    user: ApiUser,
    Query(q): Query<ItemQuery>,
) -> Result<Json<ItemPage>, Response> {
    user.require(Role::Viewer)?;
    let statuses = statuses(q.status.as_deref().unwrap_or_default())
        .map_err(|e| json_error(StatusCode::BAD_REQUEST, &e))?;
    let device = q.device.filter(|d| !d.is_empty());
    let items = st
        .db(move |s| Ok(s.remediation_items(&ItemFilter { statuses, device })?))
        .await
        .map_err(crate::api::fail)?;
    let now = now();
    Ok(Json(ItemPage {
        total: items.len(),
        overdue: items.iter().filter(|i| i.overdue(now)).count(),
        items: items.iter().map(|i| ItemView::of(i, now)).collect(),
    }))
}

/// Time to remediate per severity, open and overdue items, open items over 90 days.
#[utoipa::path(get, path = "/api/v1/remediation/metrics", responses(
    (status = 200, body = MetricsView), (status = 401, body = crate::api::ErrorBody), (status = 403, body = crate::api::ErrorBody)))]
pub async fn metrics(
    State(st): State<AppState>,
    user: ApiUser,
) -> Result<Json<MetricsView>, Response> {
    user.require(Role::Viewer)?;
    let now = now();
    let m = st
        .db(move |s| app::remediation::metrics(s, now, 90).map_err(crate::Error::Score))
        .await
        .map_err(crate::api::fail)?;
    Ok(Json(MetricsView {
        total: m.total,
        open: m.open,
        overdue: m.overdue,
        by_severity: m
            .by_severity
            .iter()
            .map(|s| SeverityView {
                severity: s.severity.as_str().into(),
                remediated: s.remediated,
                mean_days: s.mean_days,
                p90_days: s.p90_days,
                open: s.open,
                overdue: s.overdue,
            })
            .collect(),
        open_over_time: m
            .open_over_time
            .iter()
            .map(|p| PointView {
                date: model::time::date(p.at),
                open: p.open,
            })
            .collect(),
    }))
}

/// Largest change body accepted (bytes).
const MAX_BODY: usize = 8192;

/// Changes one item (analysts and admins; audited): status, owner, due date, comment.
#[utoipa::path(post, path = "/api/v1/remediation/{id}", params(("id" = i64, Path, description = "Item id", example = 1)),
    request_body(content = ChangeRequest, content_type = "application/json"), responses(
    (status = 200, body = ItemView), (status = 400, body = crate::api::ErrorBody), (status = 401, body = crate::api::ErrorBody), (status = 403, body = crate::api::ErrorBody),
    (status = 404, body = crate::api::ErrorBody), (status = 409, body = crate::api::ErrorBody), (status = 413, body = crate::api::ErrorBody), (status = 422, body = crate::api::ErrorBody)))]
pub async fn change_item(
    State(st): State<AppState>,
    user: ApiUser,
    Path(id): Path<String>,
    body: axum::body::Bytes,
) -> Result<Json<ItemView>, Response> {
    user.require(Role::Analyst)?;
    let id: i64 = id
        .parse()
        .map_err(|_| json_error(StatusCode::BAD_REQUEST, "the item id is a number"))?;
    if body.len() > MAX_BODY {
        return Err(json_error(StatusCode::PAYLOAD_TOO_LARGE, "body too large"));
    }
    let req: ChangeRequest = serde_json::from_slice(&body)
        .map_err(|e| json_error(StatusCode::UNPROCESSABLE_ENTITY, &format!("body: {e}")))?;
    let (actor, ip) = (user.user.name.clone(), user.ip.clone());
    let at = now();
    match st
        .db_mut(move |s| change(s, id, &req, &actor, &ip, at))
        .await
        .map_err(crate::api::fail)?
    {
        Ok(i) => Ok(Json(ItemView::of(&i, at))),
        Err((code, why)) => Err(json_error(code, &why)),
    }
}
