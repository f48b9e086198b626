//! Monitoring state (SQLite migration 7, PostgreSQL migration 3): folded alerts, learnt baselines, device
//! intake (approval, owner, location, group, assigned MUD URL) and imported
//! MUD files. Plain portable SQL (`INSERT ... ON CONFLICT ... DO UPDATE`,
//! `CASE` instead of two-argument `min`/`max`), so the statements carry
//! over to PostgreSQL unchanged.
//!
//! **Invariant:** alerts hold metadata only (addresses, ports, AE titles,
//! HL7 application names, observation codes): the records they come from
//! carry no patient data.

use crate::db::params;
use crate::{Error, Store};
use model::Timestamp;
use monitor::{Alert, AlertKind, Baseline, Severity};
use serde::{Deserialize, Serialize};

pub(crate) const MIGRATION: &str = r#"
CREATE TABLE alerts(
    kind TEXT NOT NULL,
    device TEXT NOT NULL,
    alert_key TEXT NOT NULL,
    ip TEXT NOT NULL,
    severity TEXT NOT NULL,
    summary TEXT NOT NULL,
    evidence TEXT NOT NULL,
    count BIGINT NOT NULL,
    first_seen BIGINT NOT NULL,
    last_seen BIGINT NOT NULL,
    PRIMARY KEY (kind, device, alert_key)
);
CREATE INDEX alerts_first_seen ON alerts(first_seen);
CREATE TABLE baselines(
    name TEXT PRIMARY KEY,
    start_time BIGINT,
    end_time BIGINT,
    doc TEXT NOT NULL
);
CREATE TABLE intake(
    device TEXT PRIMARY KEY,
    status TEXT NOT NULL,
    owner TEXT,
    location TEXT,
    device_group TEXT,
    mud_url TEXT,
    first_seen BIGINT NOT NULL
);
CREATE TABLE mud_files(
    url TEXT PRIMARY KEY,
    model TEXT,
    doc TEXT NOT NULL
);
"#;

/// Which alerts to read.
#[derive(Debug, Clone, Default)]
pub struct AlertFilter {
    /// Only this kind.
    pub kind: Option<AlertKind>,
    /// Only this severity or worse.
    pub min_severity: Option<Severity>,
    /// Only this device key.
    pub device: Option<String>,
    /// Only alerts last seen at or after this time.
    pub since: Option<Timestamp>,
    /// At most this many (newest first when set).
    pub limit: Option<usize>,
    /// Only these statuses (empty: any).
    pub statuses: Vec<crate::lifecycle::AlertStatus>,
    /// Only alerts of this site (device `SITE/...`, multi-site deployments).
    pub site: Option<String>,
}

/// A device's intake record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IntakeEntry {
    /// Device key (`mac:..` or `ip:..`).
    pub device: String,
    /// True once an operator approved it.
    pub approved: bool,
    /// Responsible person or team.
    pub owner: Option<String>,
    /// Where it is.
    pub location: Option<String>,
    /// Its group (model or category) for baselines and policies.
    pub group: Option<String>,
    /// MUD URL assigned to it (or announced by it).
    pub mud_url: Option<String>,
    /// When it was first seen (packet time).
    pub first_seen: Timestamp,
}

/// What an approval sets (`None` keeps the stored value).
#[derive(Debug, Clone, Default)]
pub struct Approval {
    /// Responsible person or team.
    pub owner: Option<String>,
    /// Where it is.
    pub location: Option<String>,
    /// Group.
    pub group: Option<String>,
    /// MUD URL.
    pub mud_url: Option<String>,
}

/// One unit of transported alerts (a site sensor's message), under an id
/// that is stored on ingest so that a redelivered message changes nothing.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SiteAlerts {
    /// Idempotency id (unique per message, stable across redeliveries).
    pub id: String,
    /// Site name (`[A-Za-z0-9_-]`, 1-64 chars).
    pub site: String,
    /// Alerts as the site's detector raised them (devices as the sensor
    /// resolved them, without the site).
    pub alerts: Vec<Alert>,
}

impl Store {
    /// Ingests transported alerts in one transaction: each message id is
    /// recorded (beside the observations' ids), a message already stored is
    /// skipped — so a redelivery neither adds to the counts nor reopens an
    /// alert closed at the centre — and the alerts of a new one fold like
    /// [`Store::store_alerts`], their device named `SITE/DEVICE` (the key
    /// form of the site's inventory), so sites never fold into each other.
    /// Returns the folded alerts of the new messages (for export) and the
    /// number of duplicate messages.
    pub fn ingest_alerts(
        &mut self,
        batch: &[SiteAlerts],
        now: i64,
    ) -> Result<(Vec<Alert>, u64), Error> {
        for m in batch {
            if !crate::valid_site(&m.site) {
                return Err(Error::Value(format!(
                    "invalid site name {:?}",
                    m.site.chars().take(70).collect::<String>()
                )));
            }
        }
        self.conn().transaction(|c| {
            let mut stored = Vec::new();
            let mut duplicate = 0;
            let mut seen = std::collections::HashSet::new();
            for m in batch {
                if !seen.insert(m.id.as_str()) {
                    duplicate += 1;
                    continue;
                }
                let n = c.execute(
                    "INSERT INTO ingested(id, site, at) VALUES (?1, ?2, ?3) ON CONFLICT(id) DO NOTHING",
                    params![&m.id, &m.site, now],
                )?;
                if n != 1 {
                    duplicate += 1;
                    continue;
                }
                for a in &m.alerts {
                    let mut a = a.clone();
                    a.device = crate::site_key(&m.site, &a.device);
                    crate::lifecycle::fold(c, &a, now)?;
                    stored.push(a);
                }
            }
            Ok((stored, duplicate))
        })
    }

    /// Adds alerts, folding each into a stored one of the same (kind, device,
    /// key): counts add up, first/last seen widen. A closed alert that gets a
    /// newer occurrence is reopened (see `lifecycle`). One transaction.
    pub fn store_alerts(&mut self, alerts: &[Alert]) -> Result<(), Error> {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs() as i64)
            .unwrap_or(0);
        self.store_alerts_at(alerts, now)
    }

    /// [`Store::store_alerts`] with the wall-clock time (Unix seconds) of automatic reopens given.
    pub fn store_alerts_at(&mut self, alerts: &[Alert], now: i64) -> Result<(), Error> {
        self.conn().transaction(|c| {
            for a in alerts {
                crate::lifecycle::fold(c, a, now)?;
            }
            Ok(())
        })
    }

    /// Stored alerts matching `filter`, by first occurrence (newest first
    /// when limited); [`Store::stored_alerts`] adds ids and status.
    pub fn alerts(&self, filter: &AlertFilter) -> Result<Vec<Alert>, Error> {
        Ok(self
            .stored_alerts(filter)?
            .into_iter()
            .map(|s| s.alert)
            .collect())
    }

    /// Stores (or replaces) the baseline called `name`.
    pub fn save_baseline(&mut self, name: &str, b: &Baseline) -> Result<(), Error> {
        self.conn().execute(
            "INSERT INTO baselines(name, start_time, end_time, doc) VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT(name) DO UPDATE SET start_time = excluded.start_time, end_time = excluded.end_time, doc = excluded.doc",
            params![name, b.start.map(|t| t.0), b.end.map(|t| t.0), serde_json::to_string(b)?],
        )?;
        Ok(())
    }

    /// The baseline called `name`, if stored.
    pub fn baseline(&self, name: &str) -> Result<Option<Baseline>, Error> {
        let row = self
            .conn()
            .query_opt("SELECT doc FROM baselines WHERE name = ?1", params![name])?;
        row.map(|r| serde_json::from_str(&r.str(0)?).map_err(Error::from))
            .transpose()
    }

    /// Adds devices to intake as unapproved (devices already there are kept as they are).
    /// Returns how many were new. One transaction.
    pub fn intake_register(
        &mut self,
        devices: &[(String, Timestamp, Option<String>)],
    ) -> Result<usize, Error> {
        self.conn().transaction(|c| {
            let mut n = 0;
            for (d, t, mud) in devices {
                n += c.execute(
                    "INSERT INTO intake(device, status, mud_url, first_seen) VALUES (?1, 'unapproved', ?2, ?3) ON CONFLICT(device) DO NOTHING",
                    params![d, mud.as_deref(), t.0],
                )? as usize;
            }
            Ok(n)
        })
    }

    /// Every intake record, by device key.
    pub fn intake(&self) -> Result<Vec<IntakeEntry>, Error> {
        let rows = self.conn().query("SELECT device, status, owner, location, device_group, mud_url, first_seen FROM intake ORDER BY device", &[])?;
        rows.iter()
            .map(|r| {
                Ok(IntakeEntry {
                    device: r.str(0)?,
                    approved: r.str(1)? == "approved",
                    owner: r.opt_str(2)?,
                    location: r.opt_str(3)?,
                    group: r.opt_str(4)?,
                    mud_url: r.opt_str(5)?,
                    first_seen: Timestamp(r.i64(6)?),
                })
            })
            .collect()
    }

    /// Approves a device (registering it if needed) and sets what `a` gives.
    pub fn intake_approve(
        &mut self,
        device: &str,
        a: &Approval,
        now: Timestamp,
    ) -> Result<(), Error> {
        self.conn().execute(
            APPROVE,
            params![
                device,
                a.owner.as_deref(),
                a.location.as_deref(),
                a.group.as_deref(),
                a.mud_url.as_deref(),
                now.0
            ],
        )?;
        Ok(())
    }

    /// Approves many devices at once, each with its own fields, as
    /// [`Store::intake_approve`] does one, appending one `intake_approved`
    /// audit entry per device (`at`, `actor`, `detail(device, approval)`,
    /// `ip`), all in one transaction. Returns how many.
    pub fn intake_approve_many(
        &mut self,
        approvals: &[(String, Approval)],
        now: Timestamp,
        (at, actor, ip): (i64, &str, &str),
        detail: impl Fn(&str, &Approval) -> String,
    ) -> Result<usize, Error> {
        use crate::users::{audit_field, AUDIT_DETAIL, AUDIT_NAME};
        self.conn().transaction(|c| {
            for (d, a) in approvals {
                c.execute(
                    APPROVE,
                    params![
                        d,
                        a.owner.as_deref(),
                        a.location.as_deref(),
                        a.group.as_deref(),
                        a.mud_url.as_deref(),
                        now.0
                    ],
                )?;
                c.execute(
                    "INSERT INTO audit(at, actor, action, detail, ip) VALUES (?1, ?2, ?3, ?4, ?5)",
                    params![
                        at,
                        audit_field(actor, AUDIT_NAME),
                        audit_field("intake_approved", AUDIT_NAME),
                        audit_field(&detail(d, a), AUDIT_DETAIL),
                        audit_field(ip, AUDIT_NAME)
                    ],
                )?;
            }
            Ok(approvals.len())
        })
    }

    /// Assigns a MUD URL to a device (registering it as unapproved if needed).
    pub fn intake_assign_mud(
        &mut self,
        device: &str,
        url: &str,
        now: Timestamp,
    ) -> Result<(), Error> {
        self.conn().execute(
            "INSERT INTO intake(device, status, mud_url, first_seen) VALUES (?1, 'unapproved', ?2, ?3)
             ON CONFLICT(device) DO UPDATE SET mud_url = excluded.mud_url",
            params![device, url, now.0],
        )?;
        Ok(())
    }

    /// Stores (or replaces) an imported MUD file by its URL.
    pub fn import_mud(&mut self, url: &str, model: Option<&str>, doc: &str) -> Result<(), Error> {
        self.conn().execute(
            "INSERT INTO mud_files(url, model, doc) VALUES (?1, ?2, ?3) ON CONFLICT(url) DO UPDATE SET model = excluded.model, doc = excluded.doc",
            params![url, model, doc],
        )?;
        Ok(())
    }

    /// Imported MUD files: (url, model, document).
    pub fn mud_files(&self) -> Result<Vec<(String, Option<String>, String)>, Error> {
        let rows = self
            .conn()
            .query("SELECT url, model, doc FROM mud_files ORDER BY url", &[])?;
        rows.iter()
            .map(|r| Ok((r.str(0)?, r.opt_str(1)?, r.str(2)?)))
            .collect()
    }
}

/// Approves one device in the intake list (a new row, or the pending row
/// with the given fields filled in where set): `?1` device, `?2` owner, `?3`
/// location, `?4` group, `?5` MUD URL, `?6` first seen.
const APPROVE: &str = "INSERT INTO intake(device, status, owner, location, device_group, mud_url, first_seen) VALUES (?1, 'approved', ?2, ?3, ?4, ?5, ?6)
     ON CONFLICT(device) DO UPDATE SET status = 'approved',
       owner = COALESCE(excluded.owner, intake.owner),
       location = COALESCE(excluded.location, intake.location),
       device_group = COALESCE(excluded.device_group, intake.device_group),
       mud_url = COALESCE(excluded.mud_url, intake.mud_url)";

#[cfg(test)]
mod tests {
    use super::*;
    use monitor::Evidence;

    fn alert(kind: AlertKind, key: &str, t0: i64, t1: i64) -> Alert {
        Alert {
            kind,
            severity: kind.severity(),
            device: "mac:00:11:22:33:44:55".into(),
            ip: "10.0.0.1".parse().unwrap(),
            key: key.into(),
            summary: format!("s{t0}"),
            evidence: Evidence {
                first_packet: Timestamp(t0),
                last_packet: Timestamp(t1),
                ..Default::default()
            },
            count: 2,
            first_seen: Timestamp(t0),
            last_seen: Timestamp(t1),
        }
    }

    #[test]
    fn alerts_fold_across_runs_and_filter() {
        crate::testing::each_backend("alerts_fold_across_runs_and_filter", |mut s| {
            s.store_alerts(&[
                alert(AlertKind::NewPeer, "10.0.0.2", 50, 60),
                alert(AlertKind::PortScan, "scan", 10, 20),
            ])
            .unwrap();
            s.store_alerts(&[alert(AlertKind::NewPeer, "10.0.0.2", 40, 45)])
                .unwrap();
            let all = s.alerts(&AlertFilter::default()).unwrap();
            assert_eq!(all.len(), 2);
            let p = &all[1];
            assert_eq!(
                (p.count, p.first_seen, p.last_seen, p.summary.as_str()),
                (4, Timestamp(40), Timestamp(60), "s40")
            );
            let high = s
                .alerts(&AlertFilter {
                    min_severity: Some(Severity::High),
                    ..Default::default()
                })
                .unwrap();
            assert_eq!(high.len(), 1);
            assert_eq!(high[0].kind, AlertKind::PortScan);
            assert_eq!(
                s.alerts(&AlertFilter {
                    kind: Some(AlertKind::NewPeer),
                    ..Default::default()
                })
                .unwrap()
                .len(),
                1
            );
            assert_eq!(
                s.alerts(&AlertFilter {
                    since: Some(Timestamp(50)),
                    ..Default::default()
                })
                .unwrap()
                .len(),
                1
            );
        });
    }

    #[test]
    fn intake_baseline_and_mud() {
        crate::testing::each_backend("intake_baseline_and_mud", |mut s| {
            assert_eq!(
                s.intake_register(&[
                    ("ip:10.0.0.1".into(), Timestamp(5), None),
                    (
                        "ip:10.0.0.2".into(),
                        Timestamp(6),
                        Some("https://m/x".into())
                    )
                ])
                .unwrap(),
                2
            );
            assert_eq!(
                s.intake_register(&[("ip:10.0.0.1".into(), Timestamp(9), None)])
                    .unwrap(),
                0
            );
            s.intake_approve(
                "ip:10.0.0.1",
                &Approval {
                    owner: Some("biomed".into()),
                    group: Some("pumps".into()),
                    ..Default::default()
                },
                Timestamp(10),
            )
            .unwrap();
            s.intake_approve(
                "ip:10.0.0.1",
                &Approval {
                    location: Some("ICU".into()),
                    ..Default::default()
                },
                Timestamp(11),
            )
            .unwrap();
            let i = s.intake().unwrap();
            assert_eq!(i.len(), 2);
            assert!(i[0].approved && !i[1].approved);
            assert_eq!(
                (
                    i[0].owner.as_deref(),
                    i[0].location.as_deref(),
                    i[0].group.as_deref(),
                    i[0].first_seen
                ),
                (Some("biomed"), Some("ICU"), Some("pumps"), Timestamp(5))
            );
            assert_eq!(i[1].mud_url.as_deref(), Some("https://m/x"));
            let b = Baseline {
                version: 1,
                records: 3,
                ..Default::default()
            };
            s.save_baseline("default", &b).unwrap();
            s.save_baseline("default", &b).unwrap();
            assert_eq!(s.baseline("default").unwrap(), Some(b));
            assert_eq!(s.baseline("other").unwrap(), None);
            s.intake_assign_mud("ip:10.0.0.3", "https://m/y", Timestamp(12))
                .unwrap();
            assert_eq!(
                s.intake().unwrap()[2].mud_url.as_deref(),
                Some("https://m/y")
            );
            s.import_mud("https://m/x", Some("X"), "{}").unwrap();
            s.import_mud("https://m/x", Some("X2"), "{}").unwrap();
            assert_eq!(
                s.mud_files().unwrap(),
                vec![("https://m/x".into(), Some("X2".into()), "{}".into())]
            );
        });
    }
}
