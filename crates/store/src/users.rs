//! Web accounts, sessions, API tokens, login throttling and the audit log
//! (migration 4). Plain storage: this module never sees a password or a
//! token in clear — callers (crate `web`) hash them first. TOTP seeds, which
//! must be read back, are sealed before they are stored and opened when an
//! account is read (`secrets`; the key is outside the database).
//!
//! Login throttling rows (`login_failures`) are pruned as they are written:
//! rows idle for [`LOGIN_FAILURE_TTL`] go, and the table never holds more
//! than [`LOGIN_FAILURE_ROWS`] (the oldest go first), whatever names and
//! addresses a client tries.
//!
//! **Invariant:** the audit log is append-only; no method updates or deletes
//! an `audit` row (SQLite and PL/pgSQL triggers refuse it too).

use crate::db::{params, Conn, Dialect, Row};

/// Longest audit actor, action and address, bytes (a user name is at most 64).
pub const AUDIT_NAME: usize = 128;
/// Longest audit detail, bytes.
pub const AUDIT_DETAIL: usize = 1024;

/// `s` cleaned and cut to `max` bytes (`model::text::bounded`), marked with
/// `…` when it was cut.
/// Appends an audit entry on `c` (inside the caller's transaction), every
/// field bounded and cleaned as [`Store::audit`] says.
pub(crate) fn audit_row(
    c: &mut Conn,
    at: i64,
    actor: &str,
    action: &str,
    detail: &str,
    ip: &str,
) -> Result<(), Error> {
    c.execute(
        "INSERT INTO audit(at, actor, action, detail, ip) VALUES (?1, ?2, ?3, ?4, ?5)",
        params![
            at,
            audit_field(actor, AUDIT_NAME),
            audit_field(action, AUDIT_NAME),
            audit_field(detail, AUDIT_DETAIL),
            audit_field(ip, AUDIT_NAME)
        ],
    )?;
    Ok(())
}

pub(crate) fn audit_field(s: &str, max: usize) -> String {
    let mut out = model::text::bounded(s.as_bytes(), max);
    if s.len() > max {
        out.push('…');
    }
    out
}

/// Deletes throttling rows idle for [`LOGIN_FAILURE_TTL`], then the oldest
/// beyond `cap` (a tenth more, so that a flood does not delete on every
/// write).
fn prune_login_failures(c: &mut crate::db::Conn, now: i64, cap: i64) -> Result<(), Error> {
    c.execute(
        "DELETE FROM login_failures WHERE last_failure < ?1",
        params![now - LOGIN_FAILURE_TTL],
    )?;
    let n = c
        .query_one("SELECT count(*) FROM login_failures", &[])?
        .i64(0)?;
    if n > cap {
        c.execute(
            "DELETE FROM login_failures WHERE key IN (SELECT key FROM login_failures ORDER BY last_failure, key LIMIT ?1)",
            params![n - cap + cap / 10],
        )?;
    }
    Ok(())
}

fn is_power_of_ten(mut n: i64) -> bool {
    while n >= 10 && n % 10 == 0 {
        n /= 10;
    }
    n == 1
}
use crate::secrets::{is_sealed, KeySource, SecretKey, KEY_FILE_ENV, SEALED};
use crate::{Error, Store};
use serde::Serialize;

/// Throttling and audit-folding rows idle this long (seconds) are deleted:
/// a day, far beyond the longest delay and fold window (15 minutes).
pub const LOGIN_FAILURE_TTL: i64 = 86_400;
/// Most throttling rows kept (about 100 bytes each); beyond it the oldest
/// are deleted.
pub const LOGIN_FAILURE_ROWS: i64 = 50_000;

/// A store's TOTP secret key: where it lives and, once needed, the key.
pub(crate) struct Secrets {
    source: KeySource,
    key: Option<SecretKey>,
}

impl Secrets {
    pub(crate) fn new(source: KeySource) -> Secrets {
        Secrets { source, key: None }
    }
}

fn key_hint() -> String {
    format!("restore that file, or set {KEY_FILE_ENV} to where the key is")
}

pub(crate) const MIGRATION: &str = r#"
CREATE TABLE users(
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    role TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    totp_secret TEXT NOT NULL,
    totp_last_step INTEGER NOT NULL DEFAULT 0,
    created INTEGER NOT NULL,
    disabled INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE sessions(
    id_hash TEXT PRIMARY KEY,
    user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    csrf TEXT NOT NULL,
    created INTEGER NOT NULL,
    expires INTEGER NOT NULL
);
CREATE TABLE api_tokens(
    id INTEGER PRIMARY KEY,
    user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    token_hash TEXT NOT NULL UNIQUE,
    created INTEGER NOT NULL,
    last_used INTEGER
);
CREATE TABLE login_failures(
    key TEXT PRIMARY KEY,
    failures INTEGER NOT NULL,
    last_failure INTEGER NOT NULL
);
CREATE TABLE audit(
    id INTEGER PRIMARY KEY,
    at INTEGER NOT NULL,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    detail TEXT NOT NULL,
    ip TEXT NOT NULL
);
CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit BEGIN SELECT RAISE(ABORT, 'audit log is append-only'); END;
CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit BEGIN SELECT RAISE(ABORT, 'audit log is append-only'); END;
"#;

/// A web account.
#[derive(Debug, Clone, Serialize)]
pub struct User {
    /// Row id.
    pub id: i64,
    /// Login name.
    pub name: String,
    /// `admin`, `analyst` or `viewer`.
    pub role: String,
    /// PHC string (argon2id).
    #[serde(skip)]
    pub password_hash: String,
    /// Base32 TOTP secret.
    #[serde(skip)]
    pub totp_secret: String,
    /// Last TOTP time step accepted (replay protection).
    #[serde(skip)]
    pub totp_last_step: i64,
    /// Creation time (Unix seconds).
    pub created: i64,
    /// Disabled accounts cannot log in.
    pub disabled: bool,
}

/// A live session looked up by its id hash.
#[derive(Debug, Clone)]
pub struct SessionRow {
    /// The session's user.
    pub user: User,
    /// Its CSRF token.
    pub csrf: String,
    /// Expiry (Unix seconds).
    pub expires: i64,
}

/// An API token's metadata (never the token).
#[derive(Debug, Clone, Serialize)]
pub struct ApiTokenInfo {
    /// Row id.
    pub id: i64,
    /// Owner.
    pub user: String,
    /// Label.
    pub name: String,
    /// Creation time (Unix seconds).
    pub created: i64,
    /// Last use (Unix seconds).
    pub last_used: Option<i64>,
}

/// One audit entry.
#[derive(Debug, Clone, Serialize)]
pub struct AuditEntry {
    /// Row id (monotonic).
    pub id: i64,
    /// Time (Unix seconds).
    pub at: i64,
    /// Who (user name, or what was tried).
    pub actor: String,
    /// What (`login_ok`, `login_failed`, `user_created`, ...).
    pub action: String,
    /// Details.
    pub detail: String,
    /// Client address.
    pub ip: String,
}

fn stored_user_row(r: &Row) -> Result<User, Error> {
    Ok(User {
        id: r.i64(0)?,
        name: r.str(1)?,
        role: r.str(2)?,
        password_hash: r.str(3)?,
        totp_secret: r.str(4)?,
        totp_last_step: r.i64(5)?,
        created: r.i64(6)?,
        disabled: r.i64(7)? != 0,
    })
}

const USER_COLS: &str =
    "u.id, u.name, u.role, u.password_hash, u.totp_secret, u.totp_last_step, u.created, u.disabled";

impl Store {
    /// An account row with its TOTP secret opened. Called with no
    /// connection borrowed (loading the key may read the database).
    fn user_row(&self, r: &Row) -> Result<User, Error> {
        let mut u = stored_user_row(r)?;
        u.totp_secret = self.open_secret(&u.totp_secret)?;
        Ok(u)
    }

    /// A stored TOTP secret sealed with any key, if there is one.
    fn sealed_sample(&self) -> Result<Option<String>, Error> {
        let row = self.conn().query_opt(
            &format!("SELECT totp_secret FROM users WHERE totp_secret LIKE '{SEALED}%' LIMIT 1"),
            &[],
        )?;
        row.map(|r| r.str(0)).transpose()
    }

    /// Runs `f` with the secret key, loading it first: the key file is
    /// read and checked against a sealed secret; when it does not exist it
    /// is created only if `create` and no secret is sealed yet.
    fn with_key<T>(
        &self,
        create: bool,
        f: impl FnOnce(&SecretKey) -> Result<T, Error>,
    ) -> Result<T, Error> {
        if self.secrets.borrow().key.is_none() {
            let source = self.secrets.borrow().source.clone();
            let key = match source {
                KeySource::Ephemeral => SecretKey::ephemeral()?,
                KeySource::File(path) => {
                    let sample = self.sealed_sample()?;
                    match (SecretKey::read(&path)?, sample) {
                        (Some(k), Some(s)) if k.open(&s).is_none() => {
                            return Err(Error::SecretKey(format!(
                                "the TOTP secret key {} does not decrypt this database's TOTP secrets (a different key): {}",
                                path.display(),
                                key_hint()
                            )))
                        }
                        (Some(k), _) => k,
                        (None, None) if create => SecretKey::create(&path)?,
                        (None, _) => {
                            return Err(Error::SecretKey(format!(
                                "the TOTP secret key {} is missing, and this database's TOTP secrets are encrypted with it: {}",
                                path.display(),
                                key_hint()
                            )))
                        }
                    }
                }
            };
            self.secrets.borrow_mut().key = Some(key);
        }
        let s = self.secrets.borrow();
        match &s.key {
            Some(k) => f(k),
            None => Err(Error::SecretKey("no TOTP secret key".into())),
        }
    }

    fn seal_secret(&self, plain: &str) -> Result<String, Error> {
        self.with_key(true, |k| k.seal(plain))
    }

    fn open_secret(&self, stored: &str) -> Result<String, Error> {
        if !is_sealed(stored) {
            // Written by an older Ward since this store was opened.
            return Ok(stored.to_string());
        }
        self.with_key(false, |k| {
            k.open(stored).ok_or_else(|| {
                Error::SecretKey(format!(
                    "the TOTP secret key {} does not decrypt this database's TOTP secrets (a different key, or an altered secret): {}",
                    self.secret_key_file()
                        .map_or("(in memory)".into(), |p| p.display().to_string()),
                    key_hint()
                ))
            })
        })
    }

    /// Where this store's TOTP secret key file is (`None`: in memory).
    pub fn secret_key_file(&self) -> Option<std::path::PathBuf> {
        match &self.secrets.borrow().source {
            KeySource::File(p) => Some(p.clone()),
            KeySource::Ephemeral => None,
        }
    }

    /// Loads the TOTP secret key now when the database holds sealed
    /// secrets, so that a server finds a missing or different key at start
    /// (one error line) rather than at the first sign-in.
    pub fn check_secret_key(&self) -> Result<(), Error> {
        match self.sealed_sample()? {
            Some(s) => self.open_secret(&s).map(|_| ()),
            None => Ok(()),
        }
    }

    /// Seals the TOTP secrets an older Ward stored in clear (at open).
    pub(crate) fn seal_plaintext_secrets(&self) -> Result<(), Error> {
        let rows = self.conn().query(
            &format!("SELECT id, totp_secret FROM users WHERE totp_secret NOT LIKE '{SEALED}%'"),
            &[],
        )?;
        if rows.is_empty() {
            return Ok(());
        }
        if self.conn().dialect() == Dialect::Sqlite {
            // The replaced cells are zeroed, not left in free pages.
            self.conn().batch("PRAGMA secure_delete = ON")?;
        }
        for r in &rows {
            let (id, plain) = (r.i64(0)?, r.str(1)?);
            let sealed = self.seal_secret(&plain)?;
            self.conn().execute(
                "UPDATE users SET totp_secret = ?2 WHERE id = ?1 AND totp_secret = ?3",
                params![id, sealed.as_str(), plain.as_str()],
            )?;
        }
        Ok(())
    }

    /// Number of accounts.
    pub fn user_count(&self) -> Result<u64, Error> {
        Ok(self
            .conn()
            .query_one("SELECT count(*) FROM users", &[])?
            .i64(0)?
            .max(0) as u64)
    }

    /// Creates an account; `Ok(None)` when the name is taken.
    pub fn create_user(
        &self,
        name: &str,
        role: &str,
        password_hash: &str,
        totp_secret: &str,
        now: i64,
    ) -> Result<Option<i64>, Error> {
        let sealed = self.seal_secret(totp_secret)?;
        let totp_secret = sealed.as_str();
        let row = self.conn().query_opt(
            "INSERT INTO users(name, role, password_hash, totp_secret, created) VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT(name) DO NOTHING RETURNING id",
            params![name, role, password_hash, totp_secret, now],
        )?;
        row.map(|r| r.i64(0)).transpose()
    }

    /// Creates the first account only if there is none yet (one statement,
    /// so two concurrent first starts cannot both become admin).
    pub fn create_first_user(
        &self,
        name: &str,
        role: &str,
        password_hash: &str,
        totp_secret: &str,
        now: i64,
    ) -> Result<Option<i64>, Error> {
        let sealed = self.seal_secret(totp_secret)?;
        let totp_secret = sealed.as_str();
        let mut c = self.conn();
        let sql = match c.dialect() {
            Dialect::Sqlite => "INSERT INTO users(name, role, password_hash, totp_secret, created) SELECT ?1, ?2, ?3, ?4, ?5 WHERE NOT EXISTS (SELECT 1 FROM users) RETURNING id",
            // Under READ COMMITTED two first starts could both see no user:
            // the table lock serialises them (the second sees the first's row).
            Dialect::Postgres => {
                return c.transaction(|c| {
                    c.batch("LOCK TABLE users IN SHARE ROW EXCLUSIVE MODE")?;
                    let row = c.query_opt(
                        "INSERT INTO users(name, role, password_hash, totp_secret, created) SELECT CAST(?1 AS TEXT), CAST(?2 AS TEXT), CAST(?3 AS TEXT), CAST(?4 AS TEXT), CAST(?5 AS BIGINT) WHERE NOT EXISTS (SELECT 1 FROM users) RETURNING id",
                        params![name, role, password_hash, totp_secret, now],
                    )?;
                    row.map(|r| r.i64(0)).transpose()
                })
            }
        };
        let row = c.query_opt(sql, params![name, role, password_hash, totp_secret, now])?;
        row.map(|r| r.i64(0)).transpose()
    }

    /// Account by name.
    pub fn user_by_name(&self, name: &str) -> Result<Option<User>, Error> {
        let row = self.conn().query_opt(
            &format!("SELECT {USER_COLS} FROM users u WHERE u.name = ?1"),
            params![name],
        )?;
        row.as_ref().map(|r| self.user_row(r)).transpose()
    }

    /// Every account, by name.
    pub fn users(&self) -> Result<Vec<User>, Error> {
        let rows = self.conn().query(
            &format!("SELECT {USER_COLS} FROM users u ORDER BY u.name"),
            &[],
        )?;
        rows.iter().map(|r| self.user_row(r)).collect()
    }

    /// Changes an account's role; false when there is no such account.
    pub fn set_user_role(&self, name: &str, role: &str) -> Result<bool, Error> {
        Ok(self.conn().execute(
            "UPDATE users SET role = ?2 WHERE name = ?1",
            params![name, role],
        )? == 1)
    }

    /// Enables or disables an account (disabling ends its sessions).
    pub fn set_user_disabled(&self, name: &str, disabled: bool) -> Result<bool, Error> {
        let mut c = self.conn();
        let n = c.execute(
            "UPDATE users SET disabled = ?2 WHERE name = ?1",
            params![name, disabled],
        )?;
        if disabled {
            c.execute(
                "DELETE FROM sessions WHERE user_id IN (SELECT id FROM users WHERE name = ?1)",
                params![name],
            )?;
        }
        Ok(n == 1)
    }

    /// Records an accepted TOTP step; false if `step` is not newer than the
    /// last accepted one (a replayed code).
    pub fn accept_totp_step(&self, user_id: i64, step: i64) -> Result<bool, Error> {
        Ok(self.conn().execute(
            "UPDATE users SET totp_last_step = ?2 WHERE id = ?1 AND totp_last_step < ?2",
            params![user_id, step],
        )? == 1)
    }

    /// Stores a new session.
    pub fn create_session(
        &self,
        id_hash: &str,
        user_id: i64,
        csrf: &str,
        now: i64,
        expires: i64,
    ) -> Result<(), Error> {
        let mut c = self.conn();
        c.execute("DELETE FROM sessions WHERE expires <= ?1", params![now])?;
        c.execute("INSERT INTO sessions(id_hash, user_id, csrf, created, expires) VALUES (?1, ?2, ?3, ?4, ?5)", params![id_hash, user_id, csrf, now, expires])?;
        Ok(())
    }

    /// A live (unexpired) session of an enabled account.
    pub fn session(&self, id_hash: &str, now: i64) -> Result<Option<SessionRow>, Error> {
        let sql = format!(
            "SELECT {USER_COLS}, s.csrf, s.expires FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.id_hash = ?1 AND s.expires > ?2 AND u.disabled = 0"
        );
        let row = self.conn().query_opt(&sql, params![id_hash, now])?;
        row.map(|r| {
            Ok(SessionRow {
                user: self.user_row(&r)?,
                csrf: r.str(8)?,
                expires: r.i64(9)?,
            })
        })
        .transpose()
    }

    /// Ends a session.
    pub fn delete_session(&self, id_hash: &str) -> Result<(), Error> {
        self.conn()
            .execute("DELETE FROM sessions WHERE id_hash = ?1", params![id_hash])?;
        Ok(())
    }

    /// Stores an API token's hash.
    pub fn create_api_token(
        &self,
        user_id: i64,
        name: &str,
        token_hash: &str,
        now: i64,
    ) -> Result<i64, Error> {
        self.conn()
            .query_one(
                "INSERT INTO api_tokens(user_id, name, token_hash, created) VALUES (?1, ?2, ?3, ?4) RETURNING id",
                params![user_id, name, token_hash, now],
            )?
            .i64(0)
    }

    /// The enabled account owning an unexpired token hash (and marks the
    /// token used, at most once a minute).
    pub fn user_by_token(&self, token_hash: &str, now: i64) -> Result<Option<User>, Error> {
        let sql = format!("SELECT {USER_COLS} FROM api_tokens t JOIN users u ON u.id = t.user_id WHERE t.token_hash = ?1 AND u.disabled = 0 AND (t.expires IS NULL OR t.expires > ?2)");
        let row = self.conn().query_opt(&sql, params![token_hash, now])?;
        let user = row.as_ref().map(|r| self.user_row(r)).transpose()?;
        if user.is_some() {
            self.conn().execute("UPDATE api_tokens SET last_used = ?2 WHERE token_hash = ?1 AND coalesce(last_used, 0) <= ?3", params![token_hash, now, now - 60])?;
        }
        Ok(user)
    }

    /// Every API token's metadata, newest first.
    pub fn api_tokens(&self) -> Result<Vec<ApiTokenInfo>, Error> {
        let rows = self
            .conn()
            .query("SELECT t.id, u.name, t.name, t.created, t.last_used FROM api_tokens t JOIN users u ON u.id = t.user_id ORDER BY t.id DESC", &[])?;
        rows.iter()
            .map(|r| {
                Ok(ApiTokenInfo {
                    id: r.i64(0)?,
                    user: r.str(1)?,
                    name: r.str(2)?,
                    created: r.i64(3)?,
                    last_used: r.opt_i64(4)?,
                })
            })
            .collect()
    }

    /// Revokes a token by id; false if there is none.
    pub fn delete_api_token(&self, id: i64) -> Result<bool, Error> {
        Ok(self
            .conn()
            .execute("DELETE FROM api_tokens WHERE id = ?1", params![id])?
            == 1)
    }

    /// Failed logins recorded for a throttling key (`user:NAME`, `ip:ADDR`):
    /// (count, time of the last failure).
    pub fn login_failures(&self, key: &str) -> Result<(u32, i64), Error> {
        let row = self.conn().query_opt(
            "SELECT failures, last_failure FROM login_failures WHERE key = ?1",
            params![key],
        )?;
        Ok(match row {
            Some(r) => (r.i64(0)?.clamp(0, u32::MAX as i64) as u32, r.i64(1)?),
            None => (0, 0),
        })
    }

    /// Counts one more failure for a throttling key.
    pub fn record_login_failure(&self, key: &str, now: i64) -> Result<(), Error> {
        self.conn().transaction(|c| {
            c.execute(
                "INSERT INTO login_failures(key, failures, last_failure) VALUES (?1, 1, ?2)
                 ON CONFLICT(key) DO UPDATE SET failures = login_failures.failures + 1, last_failure = excluded.last_failure",
                params![key, now],
            )?;
            prune_login_failures(c, now, LOGIN_FAILURE_ROWS)
        })
    }

    /// Rows in the throttling table (tests and monitoring).
    pub fn login_failure_rows(&self) -> Result<u64, Error> {
        Ok(self
            .conn()
            .query_one("SELECT count(*) FROM login_failures", &[])?
            .i64(0)?
            .max(0) as u64)
    }

    /// Forgets a throttling key's failures (after a successful login).
    pub fn clear_login_failures(&self, key: &str) -> Result<(), Error> {
        self.conn()
            .execute("DELETE FROM login_failures WHERE key = ?1", params![key])?;
        Ok(())
    }

    /// Appends an audit entry. Every field is bounded and cleaned first
    /// (`model::text`: control characters dropped; actor, action and
    /// address at most [`AUDIT_NAME`] bytes, detail [`AUDIT_DETAIL`]), so
    /// what a client sends can neither grow the append-only log without
    /// bound nor forge lines in it.
    pub fn audit(
        &self,
        at: i64,
        actor: &str,
        action: &str,
        detail: &str,
        ip: &str,
    ) -> Result<(), Error> {
        audit_row(&mut self.conn(), at, actor, action, detail, ip)
    }

    /// Appends an audit entry for a repeated event (failed or throttled
    /// sign-ins) folded per `(action, actor, address)`: within `window`
    /// seconds of the series' first event only the 1st, 10th, 100th ...
    /// occurrence adds a row, its detail counting the events since the
    /// series began. A flood of attempts therefore adds a handful of rows,
    /// not one per attempt. Returns whether a row was added.
    pub fn audit_folded(
        &self,
        at: i64,
        actor: &str,
        action: &str,
        detail: &str,
        ip: &str,
        window: i64,
    ) -> Result<bool, Error> {
        let key = format!(
            "audit:{}:{}|{}",
            audit_field(action, AUDIT_NAME),
            audit_field(actor, AUDIT_NAME).to_lowercase(),
            audit_field(ip, AUDIT_NAME)
        );
        let row = self.conn().transaction(|c| {
            let (count, start) = match c.query_opt(
                "SELECT failures, last_failure FROM login_failures WHERE key = ?1",
                params![key.as_str()],
            )? {
                Some(r) if at - r.i64(1)? < window => (r.i64(0)? + 1, r.i64(1)?),
                _ => (1, at),
            };
            c.execute(
                "INSERT INTO login_failures(key, failures, last_failure) VALUES (?1, ?2, ?3)
                 ON CONFLICT(key) DO UPDATE SET failures = excluded.failures, last_failure = excluded.last_failure",
                params![key.as_str(), count, start],
            )?;
            prune_login_failures(c, at, LOGIN_FAILURE_ROWS)?;
            Ok(is_power_of_ten(count).then_some((count, start)))
        })?;
        let Some((count, start)) = row else {
            return Ok(false);
        };
        let detail = if count == 1 {
            detail.to_string()
        } else {
            format!("{count} times since {start} ({window} s series); {detail}")
        };
        self.audit(at, actor, action, &detail, ip)?;
        Ok(true)
    }

    /// The newest `limit` audit entries, newest first.
    pub fn audit_log(&self, limit: u32) -> Result<Vec<AuditEntry>, Error> {
        let rows = self.conn().query(
            "SELECT id, at, actor, action, detail, ip FROM audit ORDER BY id DESC LIMIT ?1",
            params![limit],
        )?;
        rows.iter()
            .map(|r| {
                Ok(AuditEntry {
                    id: r.i64(0)?,
                    at: r.i64(1)?,
                    actor: r.str(2)?,
                    action: r.str(3)?,
                    detail: r.str(4)?,
                    ip: r.str(5)?,
                })
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn users_sessions_tokens_audit() {
        crate::testing::each_backend("users_sessions_tokens_audit", check);
    }

    fn check(s: Store) {
        assert_eq!(s.user_count().unwrap(), 0);
        let id = s
            .create_first_user("alice", "admin", "h", "S", 1)
            .unwrap()
            .unwrap();
        assert!(s
            .create_first_user("bob", "admin", "h", "S", 1)
            .unwrap()
            .is_none());
        assert!(s
            .create_user("alice", "viewer", "h", "S", 1)
            .unwrap()
            .is_none());
        s.create_session("sid", id, "csrf", 10, 100).unwrap();
        assert_eq!(s.session("sid", 50).unwrap().unwrap().user.name, "alice");
        assert!(s.session("sid", 100).unwrap().is_none());
        assert!(s.accept_totp_step(id, 5).unwrap());
        assert!(!s.accept_totp_step(id, 5).unwrap());
        s.create_api_token(id, "ci", "th", 1).unwrap();
        assert_eq!(s.user_by_token("th", 2).unwrap().unwrap().name, "alice");
        s.audit(1, "alice", "login_ok", "", "127.0.0.1").unwrap();
        assert_eq!(s.audit_log(10).unwrap().len(), 1);
        assert!(s.conn().execute("DELETE FROM audit", &[]).is_err());
        assert!(s
            .conn()
            .execute("UPDATE audit SET actor = 'x'", &[])
            .is_err());
        assert_eq!(
            s.audit_log(10).unwrap()[0].actor,
            "alice",
            "audit row unchanged"
        );
        let bob = s
            .create_user("bob", "viewer", "h", "S", 2)
            .unwrap()
            .unwrap();
        assert_ne!(bob, id);
        assert!(s.set_user_role("bob", "analyst").unwrap());
        assert!(!s.set_user_role("nobody", "analyst").unwrap());
        s.create_session("bob-sid", bob, "c", 10, 100).unwrap();
        assert!(s.set_user_disabled("bob", true).unwrap());
        assert!(
            s.session("bob-sid", 50).unwrap().is_none(),
            "disabling ends sessions"
        );
        let tid = s.create_api_token(bob, "t", "bob-th", 1).unwrap();
        assert!(
            s.user_by_token("bob-th", 2).unwrap().is_none(),
            "disabled owner"
        );
        assert_eq!(s.api_tokens().unwrap().len(), 2);
        assert!(s.delete_api_token(tid).unwrap());
        assert!(!s.delete_api_token(tid).unwrap());
        assert_eq!(
            s.users()
                .unwrap()
                .iter()
                .map(|u| u.name.as_str())
                .collect::<Vec<_>>(),
            vec!["alice", "bob"]
        );
        s.delete_session("sid").unwrap();
        assert!(s.session("sid", 50).unwrap().is_none());
        s.record_login_failure("user:alice", 3).unwrap();
        s.record_login_failure("user:alice", 4).unwrap();
        assert_eq!(s.login_failures("user:alice").unwrap(), (2, 4));
        s.clear_login_failures("user:alice").unwrap();
        assert_eq!(s.login_failures("user:alice").unwrap(), (0, 0));
        // TOTP secrets are sealed in the table and opened when read.
        let raw = s
            .conn()
            .query_one("SELECT totp_secret FROM users WHERE name = 'alice'", &[])
            .unwrap()
            .str(0)
            .unwrap();
        assert!(raw.starts_with("enc1:") && raw.len() > 40, "{raw}");
        assert_eq!(s.user_by_name("alice").unwrap().unwrap().totp_secret, "S");
        s.check_secret_key().unwrap();
    }

    #[test]
    fn login_failures_are_pruned() {
        crate::testing::each_backend("login_failures_are_pruned", |s| {
            let day = LOGIN_FAILURE_TTL;
            // A flood of distinct names a day ago, then one failure now.
            for i in 0..300 {
                s.record_login_failure(&format!("user:n{i}"), 1_000 + i)
                    .unwrap();
            }
            assert_eq!(s.login_failure_rows().unwrap(), 300);
            s.record_login_failure("user:alice", 1_000 + day + 200)
                .unwrap();
            assert_eq!(
                s.login_failure_rows().unwrap(),
                101,
                "rows idle for a day are gone"
            );
            assert_eq!(s.login_failures("user:n250").unwrap(), (1, 1_250));
            assert_eq!(s.login_failures("user:n150").unwrap(), (0, 0));
            // Folded audit rows are throttling rows too.
            s.audit_folded(3 * day, "x", "login_failed", "", "10.0.0.1", 900)
                .unwrap();
            assert_eq!(s.login_failure_rows().unwrap(), 1, "a day later");
            // The row cap: the oldest go first, down to 90 %.
            for i in 0..50 {
                s.record_login_failure(&format!("ip:{i}"), 3 * day + i)
                    .unwrap();
            }
            assert_eq!(s.login_failure_rows().unwrap(), 51);
            prune_login_failures(&mut s.conn(), 3 * day + 60, 40).unwrap();
            assert_eq!(s.login_failure_rows().unwrap(), 36);
            assert_eq!(s.login_failures("ip:49").unwrap(), (1, 3 * day + 49));
            assert_eq!(
                s.login_failures("ip:13").unwrap(),
                (0, 0),
                "the oldest went"
            );
            assert_eq!(s.login_failures("user:alice").unwrap(), (0, 0));
        });
    }

    fn scratch(name: &str) -> std::path::PathBuf {
        let dir = std::env::temp_dir().join(format!("ward-secrets-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    fn file_bytes(db: &std::path::Path) -> Vec<u8> {
        let mut all = Vec::new();
        for suffix in ["", "-wal", "-journal"] {
            let mut p = db.as_os_str().to_owned();
            p.push(suffix);
            if let Ok(b) = std::fs::read(std::path::PathBuf::from(p)) {
                all.extend(b);
            }
        }
        all
    }

    const SECRET: &str = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ";

    #[test]
    fn totp_secrets_at_rest_need_the_key_beside_the_database() {
        if std::env::var_os(KEY_FILE_ENV).is_some() {
            eprintln!("skipping: {KEY_FILE_ENV} is set");
            return;
        }
        let dir = scratch("rest");
        let db = dir.join("ward.db");
        let key = dir.join("ward.db.key");
        {
            let s = Store::open(&db).unwrap();
            assert!(!key.exists(), "no key before a secret needs one");
            s.create_user("alice", "admin", "h", SECRET, 1)
                .unwrap()
                .unwrap();
            assert_eq!(s.secret_key_file().as_deref(), Some(key.as_path()));
        }
        let bytes = file_bytes(&db);
        assert!(!bytes.is_empty());
        assert!(
            !bytes.windows(SECRET.len()).any(|w| w == SECRET.as_bytes()),
            "the database holds the TOTP secret in clear"
        );
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&key).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600, "key file mode");
        }
        let s = Store::open(&db).unwrap();
        assert_eq!(
            s.user_by_name("alice").unwrap().unwrap().totp_secret,
            SECRET
        );
        drop(s);
        // A missing key: one clear line, and no new key is made.
        let saved = std::fs::read(&key).unwrap();
        std::fs::remove_file(&key).unwrap();
        let s = Store::open(&db).unwrap();
        let e = s.check_secret_key().unwrap_err().to_string();
        assert!(
            e.contains("ward.db.key is missing") && !e.contains('\n'),
            "{e}"
        );
        let e = s.user_by_name("alice").unwrap_err().to_string();
        assert!(e.contains("is missing"), "{e}");
        assert!(s.create_user("bob", "viewer", "h", "B", 1).is_err());
        assert!(!key.exists(), "no new key while secrets are sealed");
        drop(s);
        // A different key.
        std::fs::write(&key, format!("{}\n", "ab".repeat(32))).unwrap();
        let s = Store::open(&db).unwrap();
        let e = s.check_secret_key().unwrap_err().to_string();
        assert!(e.contains("does not decrypt"), "{e}");
        drop(s);
        std::fs::write(&key, saved).unwrap();
        let s = Store::open(&db).unwrap();
        s.check_secret_key().unwrap();
        assert_eq!(
            s.user_by_name("alice").unwrap().unwrap().totp_secret,
            SECRET
        );
        drop(s);
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn plaintext_secrets_are_sealed_on_open() {
        if std::env::var_os(KEY_FILE_ENV).is_some() {
            eprintln!("skipping: {KEY_FILE_ENV} is set");
            return;
        }
        let dir = scratch("migrate");
        let db = dir.join("old.db");
        {
            let s = Store::open(&db).unwrap();
            // As an older Ward stored it.
            s.conn()
                .execute(
                    "INSERT INTO users(name, role, password_hash, totp_secret, created) VALUES ('old', 'admin', 'h', ?1, 1)",
                    params![SECRET],
                )
                .unwrap();
        }
        assert!(file_bytes(&db)
            .windows(SECRET.len())
            .any(|w| w == SECRET.as_bytes()));
        let s = Store::open(&db).unwrap();
        let raw = s
            .conn()
            .query_one("SELECT totp_secret FROM users", &[])
            .unwrap()
            .str(0)
            .unwrap();
        assert!(raw.starts_with("enc1:"), "{raw}");
        assert_eq!(s.user_by_name("old").unwrap().unwrap().totp_secret, SECRET);
        assert!(dir.join("old.db.key").exists());
        drop(s);
        assert!(
            !file_bytes(&db)
                .windows(SECRET.len())
                .any(|w| w == SECRET.as_bytes()),
            "sealed, and the old bytes overwritten"
        );
        let _ = std::fs::remove_dir_all(&dir);
    }
}
