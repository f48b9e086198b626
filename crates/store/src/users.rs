//! Web accounts, sessions, API tokens, login throttling and the audit log
//! (migration 4). Plain storage: this module never sees a password or a
//! token in clear — callers (crate `web`) hash them first.
//!
//! **Invariant:** the audit log is append-only; no method updates or deletes
//! an `audit` row (SQLite triggers refuse it too).

use crate::{Error, Store};
use rusqlite::{params, OptionalExtension};
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

fn user_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<User> {
    Ok(User {
        id: r.get(0)?,
        name: r.get(1)?,
        role: r.get(2)?,
        password_hash: r.get(3)?,
        totp_secret: r.get(4)?,
        totp_last_step: r.get(5)?,
        created: r.get(6)?,
        disabled: r.get::<_, i64>(7)? != 0,
    })
}

const USER_COLS: &str = "u.id, u.name, u.role, u.password_hash, u.totp_secret, u.totp_last_step, u.created, u.disabled";

impl Store {
    /// Number of accounts.
    pub fn user_count(&self) -> Result<u64, Error> {
        Ok(self.conn.query_row("SELECT count(*) FROM users", [], |r| r.get::<_, i64>(0))? as u64)
    }

    /// Creates an account; `Ok(None)` when the name is taken.
    pub fn create_user(&self, name: &str, role: &str, password_hash: &str, totp_secret: &str, now: i64) -> Result<Option<i64>, Error> {
        let n = self.conn.execute(
            "INSERT INTO users(name, role, password_hash, totp_secret, created) VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT(name) DO NOTHING",
            params![name, role, password_hash, totp_secret, now],
        )?;
        Ok((n == 1).then(|| self.conn.last_insert_rowid()))
    }

    /// Creates the first account only if there is none yet (one statement,
    /// so two concurrent first starts cannot both become admin).
    pub fn create_first_user(&self, name: &str, role: &str, password_hash: &str, totp_secret: &str, now: i64) -> Result<Option<i64>, Error> {
        let n = self.conn.execute(
            "INSERT INTO users(name, role, password_hash, totp_secret, created) SELECT ?1, ?2, ?3, ?4, ?5 WHERE NOT EXISTS (SELECT 1 FROM users)",
            params![name, role, password_hash, totp_secret, now],
        )?;
        Ok((n == 1).then(|| self.conn.last_insert_rowid()))
    }

    /// Account by name.
    pub fn user_by_name(&self, name: &str) -> Result<Option<User>, Error> {
        Ok(self.conn.query_row(&format!("SELECT {USER_COLS} FROM users u WHERE u.name = ?1"), [name], user_row).optional()?)
    }

    /// Every account, by name.
    pub fn users(&self) -> Result<Vec<User>, Error> {
        let mut st = self.conn.prepare(&format!("SELECT {USER_COLS} FROM users u ORDER BY u.name"))?;
        let rows = st.query_map([], user_row)?;
        Ok(rows.collect::<Result<Vec<_>, _>>()?)
    }

    /// Changes an account's role; false when there is no such account.
    pub fn set_user_role(&self, name: &str, role: &str) -> Result<bool, Error> {
        Ok(self.conn.execute("UPDATE users SET role = ?2 WHERE name = ?1", params![name, role])? == 1)
    }

    /// Enables or disables an account (disabling ends its sessions).
    pub fn set_user_disabled(&self, name: &str, disabled: bool) -> Result<bool, Error> {
        let n = self.conn.execute("UPDATE users SET disabled = ?2 WHERE name = ?1", params![name, disabled as i64])?;
        if disabled {
            self.conn.execute("DELETE FROM sessions WHERE user_id IN (SELECT id FROM users WHERE name = ?1)", [name])?;
        }
        Ok(n == 1)
    }

    /// Records an accepted TOTP step; false if `step` is not newer than the
    /// last accepted one (a replayed code).
    pub fn accept_totp_step(&self, user_id: i64, step: i64) -> Result<bool, Error> {
        Ok(self.conn.execute("UPDATE users SET totp_last_step = ?2 WHERE id = ?1 AND totp_last_step < ?2", params![user_id, step])? == 1)
    }

    /// Stores a new session.
    pub fn create_session(&self, id_hash: &str, user_id: i64, csrf: &str, now: i64, expires: i64) -> Result<(), Error> {
        self.conn.execute("DELETE FROM sessions WHERE expires <= ?1", [now])?;
        self.conn.execute(
            "INSERT INTO sessions(id_hash, user_id, csrf, created, expires) VALUES (?1, ?2, ?3, ?4, ?5)",
            params![id_hash, user_id, csrf, now, expires],
        )?;
        Ok(())
    }

    /// A live (unexpired) session of an enabled account.
    pub fn session(&self, id_hash: &str, now: i64) -> Result<Option<SessionRow>, Error> {
        let sql = format!("SELECT {USER_COLS}, s.csrf, s.expires FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.id_hash = ?1 AND s.expires > ?2 AND u.disabled = 0");
        Ok(self
            .conn
            .query_row(&sql, params![id_hash, now], |r| Ok(SessionRow { user: user_row(r)?, csrf: r.get(8)?, expires: r.get(9)? }))
            .optional()?)
    }

    /// Ends a session.
    pub fn delete_session(&self, id_hash: &str) -> Result<(), Error> {
        self.conn.execute("DELETE FROM sessions WHERE id_hash = ?1", [id_hash])?;
        Ok(())
    }

    /// Stores an API token's hash.
    pub fn create_api_token(&self, user_id: i64, name: &str, token_hash: &str, now: i64) -> Result<i64, Error> {
        self.conn.execute(
            "INSERT INTO api_tokens(user_id, name, token_hash, created) VALUES (?1, ?2, ?3, ?4)",
            params![user_id, name, token_hash, now],
        )?;
        Ok(self.conn.last_insert_rowid())
    }

    /// The enabled account owning an unexpired token hash (and marks the
    /// token used, at most once a minute).
    pub fn user_by_token(&self, token_hash: &str, now: i64) -> Result<Option<User>, Error> {
        let sql = format!("SELECT {USER_COLS} FROM api_tokens t JOIN users u ON u.id = t.user_id WHERE t.token_hash = ?1 AND u.disabled = 0 AND (t.expires IS NULL OR t.expires > ?2)");
        let user = self.conn.query_row(&sql, params![token_hash, now], user_row).optional()?;
        if user.is_some() {
            self.conn.execute("UPDATE api_tokens SET last_used = ?2 WHERE token_hash = ?1 AND coalesce(last_used, 0) <= ?2 - 60", params![token_hash, now])?;
        }
        Ok(user)
    }

    /// Every API token's metadata, newest first.
    pub fn api_tokens(&self) -> Result<Vec<ApiTokenInfo>, Error> {
        let mut st = self.conn.prepare(
            "SELECT t.id, u.name, t.name, t.created, t.last_used FROM api_tokens t JOIN users u ON u.id = t.user_id ORDER BY t.id DESC",
        )?;
        let rows = st.query_map([], |r| Ok(ApiTokenInfo { id: r.get(0)?, user: r.get(1)?, name: r.get(2)?, created: r.get(3)?, last_used: r.get(4)? }))?;
        Ok(rows.collect::<Result<Vec<_>, _>>()?)
    }

    /// Revokes a token by id; false if there is none.
    pub fn delete_api_token(&self, id: i64) -> Result<bool, Error> {
        Ok(self.conn.execute("DELETE FROM api_tokens WHERE id = ?1", [id])? == 1)
    }

    /// Failed logins recorded for a throttling key (`user:NAME`, `ip:ADDR`):
    /// (count, time of the last failure).
    pub fn login_failures(&self, key: &str) -> Result<(u32, i64), Error> {
        Ok(self
            .conn
            .query_row("SELECT failures, last_failure FROM login_failures WHERE key = ?1", [key], |r| Ok((r.get::<_, i64>(0)? as u32, r.get(1)?)))
            .optional()?
            .unwrap_or((0, 0)))
    }

    /// Counts one more failure for a throttling key.
    pub fn record_login_failure(&self, key: &str, now: i64) -> Result<(), Error> {
        self.conn.execute(
            "INSERT INTO login_failures(key, failures, last_failure) VALUES (?1, 1, ?2)
             ON CONFLICT(key) DO UPDATE SET failures = failures + 1, last_failure = excluded.last_failure",
            params![key, now],
        )?;
        Ok(())
    }

    /// Forgets a throttling key's failures (after a successful login).
    pub fn clear_login_failures(&self, key: &str) -> Result<(), Error> {
        self.conn.execute("DELETE FROM login_failures WHERE key = ?1", [key])?;
        Ok(())
    }

    /// Appends an audit entry.
    pub fn audit(&self, at: i64, actor: &str, action: &str, detail: &str, ip: &str) -> Result<(), Error> {
        self.conn.execute("INSERT INTO audit(at, actor, action, detail, ip) VALUES (?1, ?2, ?3, ?4, ?5)", params![at, actor, action, detail, ip])?;
        Ok(())
    }

    /// The newest `limit` audit entries, newest first.
    pub fn audit_log(&self, limit: u32) -> Result<Vec<AuditEntry>, Error> {
        let mut st = self.conn.prepare("SELECT id, at, actor, action, detail, ip FROM audit ORDER BY id DESC LIMIT ?1")?;
        let rows = st.query_map([limit], |r| {
            Ok(AuditEntry { id: r.get(0)?, at: r.get(1)?, actor: r.get(2)?, action: r.get(3)?, detail: r.get(4)?, ip: r.get(5)? })
        })?;
        Ok(rows.collect::<Result<Vec<_>, _>>()?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn users_sessions_tokens_audit() {
        let s = Store::open_in_memory().unwrap();
        assert_eq!(s.user_count().unwrap(), 0);
        let id = s.create_first_user("alice", "admin", "h", "S", 1).unwrap().unwrap();
        assert!(s.create_first_user("bob", "admin", "h", "S", 1).unwrap().is_none());
        assert!(s.create_user("alice", "viewer", "h", "S", 1).unwrap().is_none());
        s.create_session("sid", id, "csrf", 10, 100).unwrap();
        assert_eq!(s.session("sid", 50).unwrap().unwrap().user.name, "alice");
        assert!(s.session("sid", 100).unwrap().is_none());
        assert!(s.accept_totp_step(id, 5).unwrap());
        assert!(!s.accept_totp_step(id, 5).unwrap());
        s.create_api_token(id, "ci", "th", 1).unwrap();
        assert_eq!(s.user_by_token("th", 2).unwrap().unwrap().name, "alice");
        s.audit(1, "alice", "login_ok", "", "127.0.0.1").unwrap();
        assert_eq!(s.audit_log(10).unwrap().len(), 1);
        assert!(s.conn.execute("DELETE FROM audit", []).is_err());
        assert!(s.conn.execute("UPDATE audit SET actor = 'x'", []).is_err());
        s.record_login_failure("user:alice", 3).unwrap();
        s.record_login_failure("user:alice", 4).unwrap();
        assert_eq!(s.login_failures("user:alice").unwrap(), (2, 4));
        s.clear_login_failures("user:alice").unwrap();
        assert_eq!(s.login_failures("user:alice").unwrap(), (0, 0));
    }
}
