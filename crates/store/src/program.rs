//! Program records (SQLite migration 16; PostgreSQL: the migration after
//! `remediation::PG_MIGRATION`):
//! what a compliance programme needs that Ward cannot see on the wire, kept
//! as evidence with dates and owners — the designated security officer (an
//! attribute of a web account), training completed per user, policy and
//! incident-response documents with their review dates, and risk analyses
//! (recorded by hand, and one per `ward report` run).
//!
//! **Invariant:** every change is written in one transaction with its `audit`
//! row. Dates are calendar days (`YYYY-MM-DD`), checked by the caller; the
//! store keeps them as text. Plain portable SQL, one block for both backends.

use crate::db::{params, Conn};
use crate::users::{audit_field, AUDIT_DETAIL, AUDIT_NAME};
use crate::{Error, Store};
use serde::Serialize;

pub(crate) const MIGRATION: &str = r#"
ALTER TABLE users ADD COLUMN security_officer_since BIGINT NOT NULL DEFAULT 0;
CREATE TABLE program_training(
    user_name TEXT NOT NULL,
    course TEXT NOT NULL,
    completed TEXT NOT NULL,
    recorded_at BIGINT NOT NULL,
    recorded_by TEXT NOT NULL,
    PRIMARY KEY (user_name, course, completed)
);
CREATE TABLE program_documents(
    kind TEXT NOT NULL,
    title TEXT NOT NULL,
    version TEXT NOT NULL,
    review_by TEXT NOT NULL,
    link TEXT NOT NULL,
    owner TEXT NOT NULL,
    recorded_at BIGINT NOT NULL,
    recorded_by TEXT NOT NULL,
    PRIMARY KEY (kind, title, version)
);
CREATE TABLE program_risk_analyses(
    day TEXT NOT NULL,
    what TEXT NOT NULL,
    owner TEXT NOT NULL,
    recorded_at BIGINT NOT NULL,
    recorded_by TEXT NOT NULL
);
CREATE INDEX program_risk_analyses_day ON program_risk_analyses(day);
"#;

/// Longest title, course, version, link or note, bytes.
pub const MAX_FIELD: usize = 300;

/// The designated security officer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Officer {
    /// The account.
    pub user: String,
    /// Since when (Unix seconds).
    pub since: i64,
    /// Whether the account is disabled.
    pub disabled: bool,
}

/// One completed training.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Training {
    /// The account (or person) trained.
    pub user: String,
    /// Course.
    pub course: String,
    /// Completion day (`YYYY-MM-DD`).
    pub completed: String,
    /// When it was recorded (Unix seconds).
    pub recorded_at: i64,
    /// Who recorded it.
    pub recorded_by: String,
}

/// One version of a programme document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Document {
    /// `policy` or `incident-response`.
    pub kind: String,
    /// Title.
    pub title: String,
    /// Version.
    pub version: String,
    /// Day by which it must be reviewed (`YYYY-MM-DD`).
    pub review_by: String,
    /// Link or file name ('' when none).
    pub link: String,
    /// Owner ('' when none).
    pub owner: String,
    /// When it was recorded (Unix seconds).
    pub recorded_at: i64,
    /// Who recorded it.
    pub recorded_by: String,
}

/// One risk analysis.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RiskAnalysis {
    /// Day (`YYYY-MM-DD`).
    pub day: String,
    /// What it was (`ward report`, or the organisation's analysis).
    pub what: String,
    /// Owner ('' when none).
    pub owner: String,
    /// When it was recorded (Unix seconds).
    pub recorded_at: i64,
    /// Who recorded it.
    pub recorded_by: String,
}

/// Everything recorded.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ProgramRecords {
    /// The designated security officer.
    pub officer: Option<Officer>,
    /// Trainings, newest first.
    pub training: Vec<Training>,
    /// Documents, by kind and title, newest version first.
    pub documents: Vec<Document>,
    /// Risk analyses, newest first (at most 100).
    pub risk_analyses: Vec<RiskAnalysis>,
}

fn field(s: &str) -> String {
    audit_field(s.trim(), MAX_FIELD)
}

fn audit(c: &mut Conn, at: i64, actor: &str, action: &str, detail: &str) -> Result<(), Error> {
    c.execute(
        "INSERT INTO audit(at, actor, action, detail, ip) VALUES (?1, ?2, ?3, ?4, ?5)",
        params![
            at,
            audit_field(actor, AUDIT_NAME),
            audit_field(action, AUDIT_NAME),
            audit_field(detail, AUDIT_DETAIL),
            "local"
        ],
    )?;
    Ok(())
}

impl Store {
    /// Makes `user` the designated security officer (the one: any other
    /// loses it). `Ok(false)` when there is no such account.
    pub fn set_security_officer(&self, user: &str, at: i64, actor: &str) -> Result<bool, Error> {
        self.conn().transaction(|c| {
            if c.query_opt("SELECT id FROM users WHERE name = ?1", params![user])?
                .is_none()
            {
                return Ok(false);
            }
            c.execute(
                "UPDATE users SET security_officer_since = 0 WHERE name <> ?1",
                params![user],
            )?;
            c.execute(
                "UPDATE users SET security_officer_since = ?2 WHERE name = ?1 AND security_officer_since = 0",
                params![user, at.max(1)],
            )?;
            audit(c, at, actor, "program_officer_set", user)?;
            Ok(true)
        })
    }

    /// Nobody is the designated security officer any more.
    pub fn clear_security_officer(&self, at: i64, actor: &str) -> Result<(), Error> {
        self.conn().transaction(|c| {
            c.execute(
                "UPDATE users SET security_officer_since = 0 WHERE security_officer_since <> 0",
                &[],
            )?;
            audit(c, at, actor, "program_officer_cleared", "")
        })
    }

    /// Records a completed training (the same user, course and day once).
    pub fn add_training(&self, t: &Training) -> Result<(), Error> {
        self.conn().transaction(|c| {
            c.execute(
                "INSERT INTO program_training(user_name, course, completed, recorded_at, recorded_by) VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT DO NOTHING",
                params![
                    field(&t.user),
                    field(&t.course),
                    field(&t.completed),
                    t.recorded_at,
                    field(&t.recorded_by)
                ],
            )?;
            audit(
                c,
                t.recorded_at,
                &t.recorded_by,
                "program_training_added",
                &format!("{}: {} on {}", t.user, t.course, t.completed),
            )
        })
    }

    /// Records a document version (the same kind, title and version replace
    /// the earlier record of it).
    pub fn add_document(&self, d: &Document) -> Result<(), Error> {
        self.conn().transaction(|c| {
            c.execute(
                "DELETE FROM program_documents WHERE kind = ?1 AND title = ?2 AND version = ?3",
                params![field(&d.kind), field(&d.title), field(&d.version)],
            )?;
            c.execute(
                "INSERT INTO program_documents(kind, title, version, review_by, link, owner, recorded_at, recorded_by) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                params![
                    field(&d.kind),
                    field(&d.title),
                    field(&d.version),
                    field(&d.review_by),
                    field(&d.link),
                    field(&d.owner),
                    d.recorded_at,
                    field(&d.recorded_by)
                ],
            )?;
            audit(
                c,
                d.recorded_at,
                &d.recorded_by,
                "program_document_added",
                &format!(
                    "{} \"{}\" version {} (review by {})",
                    d.kind, d.title, d.version, d.review_by
                ),
            )
        })
    }

    /// Records a risk analysis.
    pub fn add_risk_analysis(&self, r: &RiskAnalysis) -> Result<(), Error> {
        self.conn().transaction(|c| {
            c.execute(
                "INSERT INTO program_risk_analyses(day, what, owner, recorded_at, recorded_by) VALUES (?1, ?2, ?3, ?4, ?5)",
                params![
                    field(&r.day),
                    field(&r.what),
                    field(&r.owner),
                    r.recorded_at,
                    field(&r.recorded_by)
                ],
            )?;
            audit(
                c,
                r.recorded_at,
                &r.recorded_by,
                "program_risk_analysis_recorded",
                &format!("{} on {}", r.what, r.day),
            )
        })
    }

    /// Every programme record.
    pub fn program_records(&self) -> Result<ProgramRecords, Error> {
        let mut c = self.conn();
        let officer = c
            .query_opt(
                "SELECT name, security_officer_since, disabled FROM users WHERE security_officer_since <> 0 ORDER BY security_officer_since DESC, name LIMIT 1",
                &[],
            )?
            .map(|r| -> Result<Officer, Error> {
                Ok(Officer {
                    user: r.str(0)?,
                    since: r.i64(1)?,
                    disabled: r.i64(2)? != 0,
                })
            })
            .transpose()?;
        let training = c
            .query(
                "SELECT user_name, course, completed, recorded_at, recorded_by FROM program_training ORDER BY completed DESC, user_name, course",
                &[],
            )?
            .iter()
            .map(|r| {
                Ok(Training {
                    user: r.str(0)?,
                    course: r.str(1)?,
                    completed: r.str(2)?,
                    recorded_at: r.i64(3)?,
                    recorded_by: r.str(4)?,
                })
            })
            .collect::<Result<_, Error>>()?;
        let documents = c
            .query(
                "SELECT kind, title, version, review_by, link, owner, recorded_at, recorded_by FROM program_documents ORDER BY kind, title, recorded_at DESC, version DESC",
                &[],
            )?
            .iter()
            .map(|r| {
                Ok(Document {
                    kind: r.str(0)?,
                    title: r.str(1)?,
                    version: r.str(2)?,
                    review_by: r.str(3)?,
                    link: r.str(4)?,
                    owner: r.str(5)?,
                    recorded_at: r.i64(6)?,
                    recorded_by: r.str(7)?,
                })
            })
            .collect::<Result<_, Error>>()?;
        let risk_analyses = c
            .query(
                "SELECT day, what, owner, recorded_at, recorded_by FROM program_risk_analyses ORDER BY day DESC, recorded_at DESC LIMIT 100",
                &[],
            )?
            .iter()
            .map(|r| {
                Ok(RiskAnalysis {
                    day: r.str(0)?,
                    what: r.str(1)?,
                    owner: r.str(2)?,
                    recorded_at: r.i64(3)?,
                    recorded_by: r.str(4)?,
                })
            })
            .collect::<Result<_, Error>>()?;
        Ok(ProgramRecords {
            officer,
            training,
            documents,
            risk_analyses,
        })
    }

    /// Names of the stored communication baselines (`ward baseline learn`).
    pub fn baseline_names(&self) -> Result<Vec<String>, Error> {
        self.conn()
            .query("SELECT name FROM baselines ORDER BY name", &[])?
            .iter()
            .map(|r| r.str(0))
            .collect()
    }

    /// API tokens that never expire (they sign in without a second factor).
    pub fn api_tokens_without_expiry(&self) -> Result<u64, Error> {
        Ok(self
            .conn()
            .query_one("SELECT count(*) FROM api_tokens WHERE expires IS NULL", &[])?
            .i64(0)?
            .max(0) as u64)
    }

    /// Rows in the audit log.
    pub fn audit_count(&self) -> Result<u64, Error> {
        Ok(self
            .conn()
            .query_one("SELECT count(*) FROM audit", &[])?
            .i64(0)?
            .max(0) as u64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(s: Store) {
        assert!(!s.set_security_officer("nobody", 10, "cli").unwrap());
        s.create_user("ada", "admin", "h", "JBSWY3DPEHPK3PXP", 1)
            .unwrap();
        s.create_user("bob", "analyst", "h", "JBSWY3DPEHPK3PXP", 1)
            .unwrap();
        assert!(s.set_security_officer("ada", 10, "cli").unwrap());
        assert!(s.set_security_officer("bob", 20, "cli").unwrap());
        let t = Training {
            user: "bob".into(),
            course: "HIPAA <b>security</b>".into(),
            completed: "2026-01-02".into(),
            recorded_at: 30,
            recorded_by: "cli".into(),
        };
        s.add_training(&t).unwrap();
        s.add_training(&t).unwrap();
        let d = Document {
            kind: "policy".into(),
            title: "Security policy".into(),
            version: "1.0".into(),
            review_by: "2027-01-01".into(),
            link: "https://intranet/policy.pdf".into(),
            owner: "bob".into(),
            recorded_at: 40,
            recorded_by: "cli".into(),
        };
        s.add_document(&d).unwrap();
        s.add_document(&Document {
            review_by: "2028-01-01".into(),
            ..d.clone()
        })
        .unwrap();
        s.add_risk_analysis(&RiskAnalysis {
            day: "2026-01-05".into(),
            what: "ward report".into(),
            owner: String::new(),
            recorded_at: 50,
            recorded_by: "cli".into(),
        })
        .unwrap();
        let p = s.program_records().unwrap();
        assert_eq!(p.officer.as_ref().unwrap().user, "bob");
        assert_eq!(p.officer.as_ref().unwrap().since, 20);
        assert_eq!(p.training, vec![t]);
        assert_eq!(p.documents.len(), 1);
        assert_eq!(p.documents[0].review_by, "2028-01-01");
        assert_eq!(p.risk_analyses.len(), 1);
        let actions: Vec<String> = s
            .audit_log(100)
            .unwrap()
            .into_iter()
            .map(|e| e.action)
            .collect();
        for a in [
            "program_officer_set",
            "program_training_added",
            "program_document_added",
            "program_risk_analysis_recorded",
        ] {
            assert!(
                actions.iter().any(|x| x == a),
                "{a} not audited: {actions:?}"
            );
        }
        s.clear_security_officer(60, "cli").unwrap();
        assert!(s.program_records().unwrap().officer.is_none());
        assert_eq!(s.api_tokens_without_expiry().unwrap(), 0);
        assert!(s.audit_count().unwrap() >= 7);
        assert!(s.baseline_names().unwrap().is_empty());
    }

    #[test]
    fn program_records_are_kept_and_audited() {
        crate::testing::each_backend("program_records_are_kept_and_audited", check);
    }
}
