//! Accounts and access control: roles, argon2id passwords, random session
//! ids and API tokens (stored as SHA-256), cookies, CSRF, login throttling,
//! and the extractors handlers use ([`PageUser`] for the dashboard,
//! [`ApiUser`] for `/api/v1`).

use crate::{AppState, Error};
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Json;
use sha2::{Digest, Sha256};
use std::net::SocketAddr;
use std::time::{SystemTime, UNIX_EPOCH};

/// Session cookie name.
pub const SESSION_COOKIE: &str = "ward_session";
/// Pre-login CSRF cookie (double submit on the login and setup forms).
pub const PRE_COOKIE: &str = "ward_pre";
/// Session lifetime (absolute), seconds.
pub const SESSION_SECS: i64 = 8 * 3600;
/// Failures per (user name, client address) before that pair is throttled.
pub const PAIR_FAILURES: u32 = 5;
/// Failures per user name, from all addresses, before the per-user
/// throttle: it refuses wrong credentials, but a correct password with a
/// valid TOTP or recovery code still signs in (an attacker elsewhere cannot
/// lock the owner out).
pub const USER_FAILURES: u32 = 20;
/// Failures per client address before throttling starts.
pub const IP_FAILURES: u32 = 20;
/// Longest user name a sign-in looks up (accounts have at most 64 bytes).
pub const MAX_NAME: usize = 64;
/// Longest password or code a sign-in checks, bytes.
pub const MAX_SECRET: usize = 1024;
/// Repeated failed or throttled sign-ins of one (user, address) within this
/// many seconds fold into a few audit rows (`Store::audit_folded`).
pub const AUDIT_FOLD_SECS: i64 = 900;
/// Longest throttling delay, seconds.
pub const MAX_DELAY: i64 = 900;
/// Shortest accepted password.
pub const MIN_PASSWORD: usize = 12;

/// What an account may do. Ordered: each role includes the ones below it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Reads the inventory, risk and advisories.
    Viewer,
    /// Also exports reports.
    Analyst,
    /// Also manages accounts and reads the audit log.
    Admin,
}

impl Role {
    /// Parses `admin`, `analyst` or `viewer`.
    pub fn parse(s: &str) -> Option<Role> {
        match s {
            "admin" => Some(Role::Admin),
            "analyst" => Some(Role::Analyst),
            "viewer" => Some(Role::Viewer),
            _ => None,
        }
    }

    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Analyst => "analyst",
            Role::Viewer => "viewer",
        }
    }

    /// Every role, least privileged first.
    pub const ALL: [Role; 3] = [Role::Viewer, Role::Analyst, Role::Admin];
}

/// Unix seconds now.
pub fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

/// `N` bytes from the OS random source.
pub fn random_bytes<const N: usize>() -> Result<[u8; N], Error> {
    let mut b = [0u8; N];
    getrandom::getrandom(&mut b).map_err(|e| Error::Random(e.to_string()))?;
    Ok(b)
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// A random 256-bit token, hex.
pub fn random_token() -> Result<String, Error> {
    Ok(hex(&random_bytes::<32>()?))
}

/// SHA-256 of a high-entropy secret (session id, API token), hex. Such
/// secrets need no slow hash: they cannot be guessed.
pub fn sha256_hex(s: &str) -> String {
    hex(&Sha256::digest(s.as_bytes()))
}

/// Argon2id PHC string for a password.
pub fn hash_password(password: &str) -> Result<String, Error> {
    let salt =
        SaltString::encode_b64(&random_bytes::<16>()?).map_err(|e| Error::Hash(e.to_string()))?;
    Ok(Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map_err(|e| Error::Hash(e.to_string()))?
        .to_string())
}

/// Checks a password against a PHC string.
pub fn verify_password(password: &str, phc: &str) -> bool {
    PasswordHash::new(phc).is_ok_and(|h| {
        Argon2::default()
            .verify_password(password.as_bytes(), &h)
            .is_ok()
    })
}

/// Checks a new account's name and password.
pub fn check_new_account(name: &str, password: &str) -> Result<(), String> {
    if name.is_empty()
        || name.len() > 64
        || !name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "._-@".contains(c))
    {
        return Err("user names are 1-64 letters, digits and . _ - @".into());
    }
    if password.chars().count() < MIN_PASSWORD {
        return Err(format!("passwords need at least {MIN_PASSWORD} characters"));
    }
    Ok(())
}

/// A new account, as created by `ward user add` or the admin pages.
pub struct NewAccount {
    /// Its id.
    pub id: i64,
    /// Base32 TOTP secret (shown once).
    pub totp_secret: String,
    /// `otpauth://` URI for authenticator apps.
    pub provisioning_uri: String,
    /// One-time recovery codes for a lost authenticator (shown once).
    pub recovery_codes: Vec<String>,
}

/// Recovery codes per account.
pub const RECOVERY_CODES: usize = 10;

/// A recovery code as typed: upper case, without dashes or spaces.
pub fn normalize_recovery_code(code: &str) -> String {
    code.chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .map(|c| c.to_ascii_uppercase())
        .collect()
}

/// New recovery codes (80 random bits each, `XXXX-XXXX-XXXX-XXXX` in
/// base32); stores their hashes, replacing the account's old codes, and
/// returns them (shown once).
pub fn new_recovery_codes(store: &store::Store, user_id: i64) -> Result<Vec<String>, Error> {
    const B32: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    let mut codes = Vec::with_capacity(RECOVERY_CODES);
    for _ in 0..RECOVERY_CODES {
        let raw = random_bytes::<16>()?;
        let chars: Vec<char> = raw
            .iter()
            .map(|b| B32[(*b & 31) as usize] as char)
            .collect();
        let groups: Vec<String> = chars.chunks(4).map(|c| c.iter().collect()).collect();
        codes.push(groups.join("-"));
    }
    let hashes: Vec<String> = codes
        .iter()
        .map(|c| sha256_hex(&normalize_recovery_code(c)))
        .collect();
    store.replace_recovery_codes(user_id, &hashes)?;
    Ok(codes)
}

/// Creates an account (hashing the password, generating the TOTP secret and
/// recovery codes). `first_only` creates it only when there is no account
/// yet. `Ok(None)` when the name is taken (or, with `first_only`, an account
/// exists).
pub fn create_account(
    store: &store::Store,
    name: &str,
    role: Role,
    password: &str,
    first_only: bool,
) -> Result<Option<NewAccount>, Error> {
    check_new_account(name, password).map_err(Error::Invalid)?;
    let hash = hash_password(password)?;
    create_account_hashed(store, name, role, &hash, first_only)
}

/// [`create_account`] with the password already hashed (by [`hash_password`],
/// outside any store lock) and checked by [`check_new_account`].
pub fn create_account_hashed(
    store: &store::Store,
    name: &str,
    role: Role,
    hash: &str,
    first_only: bool,
) -> Result<Option<NewAccount>, Error> {
    let hash = hash.to_string();
    let secret = crate::totp::new_secret()?;
    let id = if first_only {
        store.create_first_user(name, role.as_str(), &hash, &secret, now())?
    } else {
        store.create_user(name, role.as_str(), &hash, &secret, now())?
    };
    let Some(id) = id else { return Ok(None) };
    let recovery_codes = new_recovery_codes(store, id)?;
    Ok(Some(NewAccount {
        id,
        provisioning_uri: crate::totp::provisioning_uri("Ward", name, &secret),
        totp_secret: secret,
        recovery_codes,
    }))
}

/// A random one-time password (an administrator's reset; 20 characters).
pub fn one_time_password() -> Result<String, Error> {
    Ok(random_token()?[..20].to_string())
}

/// Issues an API token for an account; returns the token (shown once; only
/// its hash is stored).
pub fn issue_token(store: &store::Store, user_id: i64, label: &str) -> Result<String, Error> {
    issue_token_expiring(store, user_id, label, None)
}

/// Issues an API token that stops working after `days` days (`None`: never).
pub fn issue_token_expiring(
    store: &store::Store,
    user_id: i64,
    label: &str,
    days: Option<u32>,
) -> Result<String, Error> {
    let token = format!("ward_{}", random_token()?);
    let t = now();
    let id = store.create_api_token(user_id, label, &sha256_hex(&token), t)?;
    if let Some(d) = days {
        store.set_api_token_expiry(id, Some(t + i64::from(d) * 86_400))?;
    }
    Ok(token)
}

/// Why a login was refused.
#[derive(Debug, PartialEq, Eq)]
pub enum LoginError {
    /// Wrong name, password or code (deliberately not told apart).
    Invalid,
    /// Too many failures; retry after this many seconds.
    Throttled(i64),
}

/// Seconds still to wait for a throttling key with `failures` failures, the
/// last at `last`: none below `threshold`, then at least 1, 2, 4 ...
/// seconds, capped. Times are whole seconds, so one second is added: a
/// failure at 10.999 s must not be retried at 11.001 s.
pub fn delay(failures: u32, last: i64, threshold: u32, now: i64) -> i64 {
    if failures < threshold {
        return 0;
    }
    let wait = 1i64
        .checked_shl(failures - threshold)
        .unwrap_or(MAX_DELAY)
        .min(MAX_DELAY);
    (last + wait + 1 - now).max(0)
}

/// A user name as used in throttling keys and the audit log: lower case,
/// cleaned and at most [`MAX_NAME`] bytes (longer ones marked with `…`;
/// no account has such a name).
fn name_key(name: &str) -> String {
    let mut n = model::text::bounded(name.as_bytes(), MAX_NAME).to_lowercase();
    if name.len() > MAX_NAME {
        n.push('…');
    }
    n
}

/// What the first, quick step of a sign-in found.
pub enum Precheck {
    /// The (user, address) pair or the address is throttled: no check at all.
    Throttled(i64),
    /// Check the password (slow: outside any lock) and the code.
    Check(Pending),
}

/// A sign-in between its quick steps (see [`login`]).
pub struct Pending {
    /// The account, when the name exists, is enabled and within bounds.
    pub user: Option<store::User>,
    /// Seconds the per-user throttle asks for (only wrong credentials wait).
    pub user_wait: i64,
    name: String,
    ip: String,
}

impl Pending {
    /// The PHC string to check the password against (a dummy one for
    /// unknown names, so timing does not reveal them).
    pub fn phc(&self) -> String {
        self.user
            .as_ref()
            .map_or(DUMMY_HASH.to_string(), |u| u.password_hash.clone())
    }
}

fn throttle_keys(name: &str, ip: &str) -> [String; 3] {
    let n = name_key(name);
    [
        format!("pair:{n}|{ip}"),
        format!("ip:{ip}"),
        format!("user:{n}"),
    ]
}

/// Step 1 of a sign-in (store only, quick): throttles and the account.
pub fn login_precheck(store: &store::Store, name: &str, ip: &str) -> Result<Precheck, Error> {
    let t = now();
    let [pair, ipk, userk] = throttle_keys(name, ip);
    let (pf, pl) = store.login_failures(&pair)?;
    let (jf, jl) = store.login_failures(&ipk)?;
    let (uf, ul) = store.login_failures(&userk)?;
    let wait = delay(pf, pl, PAIR_FAILURES, t).max(delay(jf, jl, IP_FAILURES, t));
    if wait > 0 {
        // Folded per address, whatever names are tried.
        store.audit_folded(
            t,
            "",
            "login_throttled",
            &format!("user name {}; retry in {wait}s", name_key(name)),
            ip,
            AUDIT_FOLD_SECS,
        )?;
        return Ok(Precheck::Throttled(wait));
    }
    let user = if name.len() <= MAX_NAME {
        store.user_by_name(name)?.filter(|u| !u.disabled)
    } else {
        None
    };
    Ok(Precheck::Check(Pending {
        user,
        user_wait: delay(uf, ul, USER_FAILURES, t),
        name: name_key(name),
        ip: ip.to_string(),
    }))
}

/// Step 2 (slow, touches no store): whether `password` matches `phc`.
pub fn password_matches(password: &str, phc: &str) -> bool {
    if password.len() > MAX_SECRET {
        // Same work as a normal check, on a bounded input.
        verify_password(
            &password[..password.floor_char_boundary(MAX_SECRET)],
            DUMMY_HASH,
        );
        return false;
    }
    verify_password(password, phc)
}

/// Step 3 (store only, quick): the code, then failures or the success are
/// recorded and audited. `password_ok` is step 2's answer.
pub fn login_finish(
    store: &store::Store,
    pending: Pending,
    password_ok: bool,
    code: &str,
) -> Result<Result<store::User, LoginError>, Error> {
    let t = now();
    let Pending {
        user,
        user_wait,
        name,
        ip,
    } = pending;
    let ok = match &user {
        Some(u) if password_ok && code.len() <= MAX_SECRET => {
            let code = code.trim();
            if code.len() == 6 && code.bytes().all(|b| b.is_ascii_digit()) {
                let step = crate::totp::verify(&u.totp_secret, code, t as u64);
                match step {
                    Some(step) => store.accept_totp_step(u.id, step as i64)?,
                    None => false,
                }
            } else {
                let spent = store.use_recovery_code(
                    u.id,
                    &sha256_hex(&normalize_recovery_code(code)),
                    t,
                )?;
                if spent {
                    let left = store.recovery_codes_left(u.id)?;
                    store.audit(
                        t,
                        &u.name,
                        "recovery_code_used",
                        &format!("{left} left"),
                        &ip,
                    )?;
                }
                spent
            }
        }
        _ => false,
    };
    let keys = throttle_keys(&name, &ip);
    match user {
        Some(u) if ok => {
            for k in &keys {
                store.clear_login_failures(k)?;
            }
            store.audit(t, &u.name, "login_ok", "", &ip)?;
            Ok(Ok(u))
        }
        _ => {
            // The back-off counts from when the failure is answered (after
            // the slow hash), not from when the attempt arrived.
            let end = now();
            for k in &keys {
                store.record_login_failure(k, end)?;
            }
            store.audit_folded(t, &name, "login_failed", "", &ip, AUDIT_FOLD_SECS)?;
            Ok(Err(if user_wait > 0 {
                LoginError::Throttled(user_wait)
            } else {
                LoginError::Invalid
            }))
        }
    }
}

/// Password + TOTP login with throttling and audit, all three steps on one
/// store (the CLI and tests; the server runs step 2 outside its store lock,
/// see `AppState::sign_in`). `code` is the 6-digit TOTP code, or one of the
/// account's recovery codes (each works once). Returns the user on success.
pub fn login(
    store: &store::Store,
    name: &str,
    password: &str,
    code: &str,
    ip: &str,
) -> Result<Result<store::User, LoginError>, Error> {
    match login_precheck(store, name, ip)? {
        Precheck::Throttled(w) => Ok(Err(LoginError::Throttled(w))),
        Precheck::Check(p) => {
            let ok = password_matches(password, &p.phc());
            login_finish(store, p, ok, code)
        }
    }
}

const DUMMY_HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$9sTbSlTio3Biev89thdrlKKiCaYsjjYVJxGAL3swxpQ";

/// Starts a session of the default lifetime; returns (cookie value, CSRF token).
pub fn start_session(store: &store::Store, user_id: i64) -> Result<(String, String), Error> {
    start_session_for(store, user_id, SESSION_SECS)
}

/// Starts a session ending `lifetime` seconds from now, used or not.
pub fn start_session_for(
    store: &store::Store,
    user_id: i64,
    lifetime: i64,
) -> Result<(String, String), Error> {
    let id = random_token()?;
    let csrf = random_token()?;
    let t = now();
    store.create_session(&sha256_hex(&id), user_id, &csrf, t, t + lifetime)?;
    Ok((id, csrf))
}

/// A `Set-Cookie` value: HttpOnly, Secure, SameSite=Strict.
pub fn cookie(name: &str, value: &str, max_age: i64) -> String {
    format!("{name}={value}; Path=/; Max-Age={max_age}; HttpOnly; Secure; SameSite=Strict")
}

/// A cookie's value from the request.
pub fn cookie_value(parts: &axum::http::HeaderMap, name: &str) -> Option<String> {
    parts
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_string())
}

/// The client's address (from the connection; "local" in in-process tests).
pub fn client_ip(parts: &Parts) -> String {
    parts
        .extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip().to_string())
        .unwrap_or_else(|| "local".into())
}

/// The client's address as an extractor.
pub struct ClientIp(pub String);

impl<S: Send + Sync> FromRequestParts<S> for ClientIp {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(ClientIp(client_ip(parts)))
    }
}

/// A logged-in dashboard user. Rejection: a redirect to `/login` (or to
/// `/setup` while there is no account).
pub struct PageUser {
    /// The account.
    pub user: store::User,
    /// Its role.
    pub role: Role,
    /// The session's CSRF token.
    pub csrf: String,
    /// Hash of the session id.
    pub session_hash: String,
    /// Client address.
    pub ip: String,
    /// Open high/critical alerts (navigation badge).
    pub open_alerts: usize,
}

impl PageUser {
    /// 403 unless the user has at least `role`.
    pub fn require(&self, role: Role) -> Result<(), Response> {
        if self.role >= role {
            Ok(())
        } else {
            Err((StatusCode::FORBIDDEN, axum::response::Html("<!doctype html><title>Forbidden</title><p>Your role does not allow this page. <a href=\"/\">Back</a>")).into_response())
        }
    }

    /// 403 unless `token` is this session's CSRF token.
    pub fn check_csrf(&self, token: &str) -> Result<(), Response> {
        if crate::totp::constant_time_eq(token.as_bytes(), self.csrf.as_bytes()) {
            Ok(())
        } else {
            Err((StatusCode::FORBIDDEN, "invalid CSRF token").into_response())
        }
    }
}

impl FromRequestParts<AppState> for PageUser {
    type Rejection = Response;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let ip = client_ip(parts);
        let sid = cookie_value(&parts.headers, SESSION_COOKIE);
        let idle = state.sessions().idle_secs;
        // An account whose password was reset may only change it (or sign out).
        let may_skip_change = matches!(
            parts.uri.path(),
            "/account" | "/account/password" | "/logout"
        );
        let from = ip.clone();
        let found = state
            .db(move |s| {
                if s.user_count()? == 0 {
                    return Ok(Err("/setup"));
                }
                let Some(sid) = sid else {
                    return Ok(Err("/login"));
                };
                let h = sha256_hex(&sid);
                let t = now();
                let Some(row) = s.session(&h, t)? else {
                    return Ok(Err("/login"));
                };
                if !s.touch_session(&h, t, idle)? {
                    s.audit(t, &row.user.name, "session_expired", "idle timeout", &from)?;
                    return Ok(Err("/login"));
                }
                if !may_skip_change && s.must_change_password(row.user.id)? {
                    return Ok(Err("/account"));
                }
                Ok(Ok((row, h)))
            })
            .await
            .map_err(IntoResponse::into_response)?;
        match found {
            Ok((row, session_hash)) => {
                let role = Role::parse(&row.user.role).unwrap_or(Role::Viewer);
                let open_alerts = state.open_alerts().await;
                Ok(PageUser {
                    user: row.user,
                    role,
                    csrf: row.csrf,
                    session_hash,
                    ip,
                    open_alerts,
                })
            }
            Err(to) => Err(Redirect::to(to).into_response()),
        }
    }
}

/// An API caller authenticated by `Authorization: Bearer TOKEN`.
/// Rejection: 401 with a JSON error.
pub struct ApiUser {
    /// The token's account.
    pub user: store::User,
    /// Its role.
    pub role: Role,
    /// Client address.
    pub ip: String,
}

/// A JSON error body.
pub fn json_error(status: StatusCode, msg: &str) -> Response {
    let mut res = (status, Json(serde_json::json!({ "error": msg }))).into_response();
    if status == StatusCode::UNAUTHORIZED {
        res.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            axum::http::HeaderValue::from_static("Bearer realm=\"ward\""),
        );
    }
    res
}

impl ApiUser {
    /// 403 unless the caller has at least `role`.
    pub fn require(&self, role: Role) -> Result<(), Response> {
        if self.role >= role {
            Ok(())
        } else {
            Err(json_error(
                StatusCode::FORBIDDEN,
                &format!("requires role {}", role.as_str()),
            ))
        }
    }
}

impl FromRequestParts<AppState> for ApiUser {
    type Rejection = Response;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let ip = client_ip(parts);
        let token = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(|t| t.trim().to_string())
            .filter(|t| !t.is_empty());
        let Some(token) = token else {
            return Err(json_error(StatusCode::UNAUTHORIZED, "missing bearer token"));
        };
        let user = state
            .db(move |s| Ok(s.user_by_token(&sha256_hex(&token), now())?))
            .await
            .map_err(IntoResponse::into_response)?;
        match user {
            Some(user) => {
                let role = Role::parse(&user.role).unwrap_or(Role::Viewer);
                Ok(ApiUser { user, role, ip })
            }
            None => Err(json_error(StatusCode::UNAUTHORIZED, "invalid token")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn password_round_trip() {
        let h = hash_password("correct horse battery").unwrap();
        assert!(h.starts_with("$argon2id$"));
        assert!(verify_password("correct horse battery", &h));
        assert!(!verify_password("wrong", &h));
        assert!(PasswordHash::new(DUMMY_HASH).is_ok());
    }

    #[test]
    fn backoff_is_exponential_and_capped() {
        assert_eq!(delay(4, 100, 5, 100), 0);
        assert_eq!(delay(5, 100, 5, 100), 2);
        assert_eq!(delay(5, 100, 5, 101), 1, "never less than one whole second");
        assert_eq!(delay(5, 100, 5, 102), 0);
        assert_eq!(delay(6, 100, 5, 100), 3);
        assert_eq!(delay(9, 100, 5, 100), 17);
        assert_eq!(delay(9, 100, 5, 117), 0);
        assert_eq!(delay(60, 100, 5, 100), MAX_DELAY + 1);
    }

    #[test]
    fn roles_are_ordered() {
        assert!(Role::Admin > Role::Analyst && Role::Analyst > Role::Viewer);
        for r in Role::ALL {
            assert_eq!(Role::parse(r.as_str()), Some(r));
        }
    }
}
