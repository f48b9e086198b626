//! Account hygiene (SQLite migration 6; PostgreSQL's is in `pgschema`): password changes and forced changes after
//! an administrator's reset, TOTP recovery codes (stored hashed, each usable
//! once), session idle timeouts and API token expiry. Like `users`, plain
//! storage: callers hash every secret first.

use crate::db::params;
use crate::{Error, Store};

pub(crate) const MIGRATION: &str = r#"
ALTER TABLE users ADD COLUMN must_change_password INTEGER NOT NULL DEFAULT 0;
ALTER TABLE sessions ADD COLUMN last_seen INTEGER NOT NULL DEFAULT 0;
ALTER TABLE api_tokens ADD COLUMN expires INTEGER;
CREATE TABLE recovery_codes(
    user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    code_hash TEXT NOT NULL,
    used INTEGER,
    PRIMARY KEY (user_id, code_hash)
) WITHOUT ROWID;
"#;

/// Activity is written back at most this often per session (seconds), so
/// busy dashboards do not write on every request.
const TOUCH_EVERY: i64 = 30;

impl Store {
    /// Sets an account's password hash. `must_change` forces a change at the
    /// next sign-in (an administrator's reset). Ends the account's sessions
    /// except `keep` (the session making the change, hashed).
    pub fn set_password(
        &self,
        user_id: i64,
        password_hash: &str,
        must_change: bool,
        keep: Option<&str>,
    ) -> Result<bool, Error> {
        self.conn().transaction(|c| {
            let n = c.execute(
                "UPDATE users SET password_hash = ?2, must_change_password = ?3 WHERE id = ?1",
                params![user_id, password_hash, must_change as i64],
            )?;
            c.execute(
                "DELETE FROM sessions WHERE user_id = ?1 AND id_hash != coalesce(?2, '')",
                params![user_id, keep],
            )?;
            Ok(n == 1)
        })
    }

    /// True when the account must change its password before anything else.
    pub fn must_change_password(&self, user_id: i64) -> Result<bool, Error> {
        let row = self.conn().query_opt(
            "SELECT must_change_password FROM users WHERE id = ?1",
            params![user_id],
        )?;
        Ok(row.map(|r| r.i64(0)).transpose()?.is_some_and(|v| v != 0))
    }

    /// Replaces an account's recovery codes (hashes).
    pub fn replace_recovery_codes(&self, user_id: i64, hashes: &[String]) -> Result<(), Error> {
        self.conn().transaction(|c| {
            c.execute("DELETE FROM recovery_codes WHERE user_id = ?1", params![user_id])?;
            for h in hashes {
                c.execute("INSERT INTO recovery_codes(user_id, code_hash) VALUES (?1, ?2) ON CONFLICT DO NOTHING", params![user_id, h])?;
            }
            Ok(())
        })
    }

    /// Uses a recovery code: true if it was an unused code of this account
    /// (it is then spent).
    pub fn use_recovery_code(
        &self,
        user_id: i64,
        code_hash: &str,
        now: i64,
    ) -> Result<bool, Error> {
        Ok(self
            .conn()
            .execute("UPDATE recovery_codes SET used = ?3 WHERE user_id = ?1 AND code_hash = ?2 AND used IS NULL", params![user_id, code_hash, now])?
            == 1)
    }

    /// Unused recovery codes left.
    pub fn recovery_codes_left(&self, user_id: i64) -> Result<u32, Error> {
        Ok(self
            .conn()
            .query_one(
                "SELECT count(*) FROM recovery_codes WHERE user_id = ?1 AND used IS NULL",
                params![user_id],
            )?
            .i64(0)?
            .clamp(0, u32::MAX as i64) as u32)
    }

    /// Records activity on a session and enforces the idle timeout: false
    /// (and the session is deleted) when it was unused for `idle_secs`.
    pub fn touch_session(&self, id_hash: &str, now: i64, idle_secs: i64) -> Result<bool, Error> {
        let last = self
            .conn()
            .query_opt("SELECT CASE WHEN last_seen > created THEN last_seen ELSE created END FROM sessions WHERE id_hash = ?1", params![id_hash])?
            .map(|r| r.i64(0))
            .transpose()?;
        match last {
            None => Ok(false),
            Some(t) if t + idle_secs <= now => {
                self.delete_session(id_hash)?;
                Ok(false)
            }
            Some(t) => {
                if now - t >= TOUCH_EVERY {
                    self.conn().execute(
                        "UPDATE sessions SET last_seen = ?2 WHERE id_hash = ?1",
                        params![id_hash, now],
                    )?;
                }
                Ok(true)
            }
        }
    }

    /// Sets when an API token stops working (Unix seconds; `None`: never).
    pub fn set_api_token_expiry(&self, token_id: i64, expires: Option<i64>) -> Result<bool, Error> {
        Ok(self.conn().execute(
            "UPDATE api_tokens SET expires = ?2 WHERE id = ?1",
            params![token_id, expires],
        )? == 1)
    }

    /// When each API token expires, by token id.
    pub fn api_token_expiries(&self) -> Result<Vec<(i64, Option<i64>)>, Error> {
        self.conn()
            .query("SELECT id, expires FROM api_tokens ORDER BY id", &[])?
            .iter()
            .map(|r| Ok((r.i64(0)?, r.opt_i64(1)?)))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn passwords_recovery_codes_idle_sessions_token_expiry() {
        crate::testing::each_backend("passwords_recovery_codes_idle_sessions_token_expiry", |s| {
            let id = s
                .create_user("ann", "viewer", "h1", "S", 1)
                .unwrap()
                .unwrap();
            s.create_session("a", id, "c", 10, 1000).unwrap();
            s.create_session("b", id, "c", 10, 1000).unwrap();
            assert!(!s.must_change_password(id).unwrap());
            // A reset by an admin forces a change and ends every session.
            assert!(s.set_password(id, "h2", true, None).unwrap());
            assert!(s.must_change_password(id).unwrap());
            assert!(s.session("a", 20).unwrap().is_none() && s.session("b", 20).unwrap().is_none());
            assert_eq!(s.user_by_name("ann").unwrap().unwrap().password_hash, "h2");
            // A change by the user keeps the session making it.
            s.create_session("a", id, "c", 10, 1000).unwrap();
            s.create_session("b", id, "c", 10, 1000).unwrap();
            assert!(s.set_password(id, "h3", false, Some("a")).unwrap());
            assert!(!s.must_change_password(id).unwrap());
            assert!(s.session("a", 20).unwrap().is_some() && s.session("b", 20).unwrap().is_none());
            // Recovery codes: each works once.
            s.replace_recovery_codes(id, &["r1".into(), "r2".into()])
                .unwrap();
            assert_eq!(s.recovery_codes_left(id).unwrap(), 2);
            assert!(s.use_recovery_code(id, "r1", 5).unwrap());
            assert!(!s.use_recovery_code(id, "r1", 6).unwrap());
            assert!(!s.use_recovery_code(id + 1, "r2", 6).unwrap());
            assert_eq!(s.recovery_codes_left(id).unwrap(), 1);
            s.replace_recovery_codes(id, &["r3".into()]).unwrap();
            assert!(!s.use_recovery_code(id, "r2", 7).unwrap());
            // Idle timeout: activity keeps a session alive, silence ends it.
            assert!(s.touch_session("a", 100, 300).unwrap());
            assert!(s.touch_session("a", 390, 300).unwrap());
            assert!(s.touch_session("a", 680, 300).unwrap());
            assert!(!s.touch_session("a", 990, 300).unwrap());
            assert!(s.session("a", 991).unwrap().is_none());
            assert!(!s.touch_session("nope", 1, 300).unwrap());
            // Token expiry.
            let t = s.create_api_token(id, "ci", "th", 1).unwrap();
            assert!(s.user_by_token("th", 50).unwrap().is_some());
            s.set_api_token_expiry(t, Some(100)).unwrap();
            assert!(s.user_by_token("th", 99).unwrap().is_some());
            assert!(s.user_by_token("th", 100).unwrap().is_none());
            assert_eq!(s.api_token_expiries().unwrap(), vec![(t, Some(100))]);
        });
    }
}
