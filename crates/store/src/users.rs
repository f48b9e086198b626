//! Web accounts, sessions, API tokens, login throttling and the audit log
//! (migration 4). Plain storage: this module never sees a password or a
//! token in clear — callers (crate `web`) hash them first.
//!
//! **Invariant:** the audit log is append-only; no method updates or deletes
//! an `audit` row (SQLite and PL/pgSQL triggers refuse it too).

use crate::db::{params, Dialect, Row};

/// Longest audit actor, action and address, bytes (a user name is at most 64).
pub const AUDIT_NAME: usize = 128;
/// Longest audit detail, bytes.
pub const AUDIT_DETAIL: usize = 1024;

/// `s` cleaned and cut to `max` bytes (`model::text::bounded`), marked with
/// `…` when it was cut.
fn audit_field(s: &str, max: usize) -> String {
    let mut out = model::text::bounded(s.as_bytes(), max);
    if s.len() > max {
        out.push('…');
    }
    out
}

fn is_power_of_ten(mut n: i64) -> bool {
    while n >= 10 && n % 10 == 0 {
        n /= 10;
    }
    n == 1
}
use crate::{Error, Store};
use serde::Serialize;

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

fn user_row(r: &Row) -> Result<User, Error> {
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
        self.conn()
            .query_opt(
                &format!("SELECT {USER_COLS} FROM users u WHERE u.name = ?1"),
                params![name],
            )?
            .as_ref()
            .map(user_row)
            .transpose()
    }

    /// Every account, by name.
    pub fn users(&self) -> Result<Vec<User>, Error> {
        self.conn()
            .query(
                &format!("SELECT {USER_COLS} FROM users u ORDER BY u.name"),
                &[],
            )?
            .iter()
            .map(user_row)
            .collect()
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
                user: user_row(&r)?,
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
        let mut c = self.conn();
        let user = c
            .query_opt(&sql, params![token_hash, now])?
            .as_ref()
            .map(user_row)
            .transpose()?;
        if user.is_some() {
            c.execute("UPDATE api_tokens SET last_used = ?2 WHERE token_hash = ?1 AND coalesce(last_used, 0) <= ?3", params![token_hash, now, now - 60])?;
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
        self.conn().execute(
            "INSERT INTO login_failures(key, failures, last_failure) VALUES (?1, 1, ?2)
             ON CONFLICT(key) DO UPDATE SET failures = login_failures.failures + 1, last_failure = excluded.last_failure",
            params![key, now],
        )?;
        Ok(())
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
        self.conn().execute(
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
    }
}
