//! The dashboard's POST forms: one table ([`FORMS`]) of every form route and
//! the lowest role allowed on it, and the extractor that checks them
//! ([`Posted`]): signed in (else the redirect to `/login`), CSRF token, role,
//! then the form itself — a malformed form is a 400, never a 500 or a 422.
//! A POST to a page route that is not in the table is refused
//! ([`only_listed_posts`]), so a new form cannot skip the checks; the test
//! `every_form_refuses_without_csrf_and_below_its_role` walks the table.

use crate::auth::{PageUser, Role};
use crate::AppState;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::{Method, StatusCode};
use axum::middleware::Next;
use axum::response::{Html, IntoResponse, Response};
use serde::de::DeserializeOwned;

/// Every POST form of the dashboard (session + CSRF token) and its lowest role.
pub const FORMS: &[(&str, Role)] = &[
    ("/logout", Role::Viewer),
    ("/alerts/status", Role::Analyst),
    ("/remediation/status", Role::Analyst),
    ("/intake/approve", Role::Analyst),
    ("/intake/bulk", Role::Analyst),
    ("/intake/import", Role::Analyst),
    ("/users", Role::Admin),
    ("/users/update", Role::Admin),
    ("/tokens", Role::Viewer),
    ("/tokens/revoke", Role::Viewer),
    ("/account/password", Role::Viewer),
    ("/account/recovery", Role::Viewer),
];

/// Forms that may be larger than [`crate::MAX_BODY`]: (route, bytes).
pub const LARGE_FORMS: &[(&str, usize)] = &[("/intake/import", 4 << 20)];

/// POST forms used before a session exists: their CSRF token is the
/// pre-login cookie's (`auth::PRE_COOKIE`), checked by the handler.
pub const PRE_SESSION_FORMS: &[&str] = &["/setup", "/login"];

/// The lowest role of a form route; `None`: not a form route.
pub fn role_of(path: &str) -> Option<Role> {
    FORMS.iter().find(|(p, _)| *p == path).map(|(_, r)| *r)
}

/// A 400 page saying what is wrong with the form.
pub fn bad_form(why: &str) -> Response {
    let why: String = why.chars().filter(|c| !c.is_control()).take(300).collect();
    (
        StatusCode::BAD_REQUEST,
        Html(format!(
            "<!doctype html><title>Bad request</title><p>The form is not valid: {}. <a href=\"/\">Back</a>",
            report::esc(&why)
        )),
    )
        .into_response()
}

/// A checked POST form: the signed-in user, who sent this session's CSRF
/// token and has at least the route's role ([`FORMS`]), and the form.
/// Rejections: redirect to `/login` (no session), 403 (CSRF token, role,
/// route not in [`FORMS`]), 413 (too large), 400 (malformed form).
pub struct Posted<T> {
    /// Who sent it.
    pub user: PageUser,
    /// The form.
    pub form: T,
    /// Every field as sent, in order (repeated fields: `device=a&device=b`).
    pub pairs: Vec<(String, String)>,
}

impl<T: DeserializeOwned + Send> FromRequest<AppState> for Posted<T> {
    type Rejection = Response;

    async fn from_request(req: Request, st: &AppState) -> Result<Self, Self::Rejection> {
        let (mut parts, body) = req.into_parts();
        let user = PageUser::from_request_parts(&mut parts, st).await?;
        let Some(role) = role_of(parts.uri.path()) else {
            return Err((StatusCode::FORBIDDEN, "not a form route").into_response());
        };
        let limit = LARGE_FORMS
            .iter()
            .find(|(p, _)| *p == parts.uri.path())
            .map_or(crate::MAX_BODY, |(_, n)| *n);
        let bytes = axum::body::to_bytes(body, limit)
            .await
            .map_err(|_| (StatusCode::PAYLOAD_TOO_LARGE, "form too large").into_response())?;
        let pairs: Vec<(String, String)> =
            serde_urlencoded::from_bytes(&bytes).map_err(|e| bad_form(&e.to_string()))?;
        let csrf = pairs
            .iter()
            .find(|(k, _)| k == "csrf")
            .map_or("", |(_, v)| v.as_str());
        user.check_csrf(csrf)?;
        user.require(role)?;
        let form = serde_urlencoded::from_bytes(&bytes).map_err(|e| bad_form(&e.to_string()))?;
        Ok(Posted { user, form, pairs })
    }
}

/// A form before sign-in (`/setup`, `/login`): a malformed one is a 400.
pub struct PlainForm<T>(pub T);

impl<T: DeserializeOwned + Send, S: Send + Sync> FromRequest<S> for PlainForm<T> {
    type Rejection = Response;

    async fn from_request(req: Request, st: &S) -> Result<Self, Self::Rejection> {
        match axum::extract::Form::<T>::from_request(req, st).await {
            Ok(axum::extract::Form(t)) => Ok(PlainForm(t)),
            Err(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => Err(e.into_response()),
            Err(e) => Err(bad_form(&e.body_text())),
        }
    }
}

/// Refuses (405) a POST to a dashboard route that is neither in [`FORMS`]
/// nor in [`PRE_SESSION_FORMS`]: every form goes through the table.
pub async fn only_listed_posts(req: Request, next: Next) -> Response {
    let path = req.uri().path();
    if req.method() == Method::POST && role_of(path).is_none() && !PRE_SESSION_FORMS.contains(&path)
    {
        return (StatusCode::METHOD_NOT_ALLOWED, "not a form route").into_response();
    }
    next.run(req).await
}
