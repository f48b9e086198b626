//! Cheap reads for the web dashboard (crate `web`): a generation number that
//! tells when the inventory may have changed, one kind of fact (the network
//! map's peers), and the newest devices — so the server rescores only when
//! something changed and never parses every device document per request.

use crate::db::{params, Conn};
use crate::{Error, Store};
use identify::{Device, Fact, FactKind};

/// Ingest status of one site of a multi-site deployment (from the
/// transported message ids the centre stored).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct SiteIngest {
    /// Site name.
    pub site: String,
    /// Messages stored (observations and alerts).
    pub messages: u64,
    /// When the last one was stored (Unix seconds, the centre's clock).
    pub last_at: i64,
    /// Facts stored since the last inventory rebuild (devices not current yet).
    pub rebuild_pending: bool,
}

/// The central consumer's view of the transport (written by the server,
/// shown on the dashboard): what waits in the stream and what was delivered
/// but not acknowledged — after a server crash, messages that come back
/// only once the ack wait has passed.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct TransportStatus {
    /// Consumer name.
    pub consumer: String,
    /// Messages in the stream not delivered yet.
    pub waiting: u64,
    /// Delivered and not acknowledged (redelivered after `ack_wait` seconds
    /// unless acknowledged first).
    pub unacknowledged: u64,
    /// Messages delivered more than once so far.
    pub redelivered: u64,
    /// The consumer's ack wait, seconds.
    pub ack_wait: u64,
    /// When this was read (Unix seconds, the centre's clock).
    pub at: i64,
}

impl Store {
    /// Records the consumer's state (one row per consumer).
    pub fn record_transport_status(&mut self, s: &TransportStatus) -> Result<(), Error> {
        self.conn.get_mut().execute(
            "INSERT INTO transport_status(consumer, waiting, unacknowledged, redelivered, ack_wait, at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)
             ON CONFLICT(consumer) DO UPDATE SET waiting = excluded.waiting, unacknowledged = excluded.unacknowledged,
               redelivered = excluded.redelivered, ack_wait = excluded.ack_wait, at = excluded.at",
            params![&s.consumer, s.waiting, s.unacknowledged, s.redelivered, s.ack_wait, s.at],
        )?;
        Ok(())
    }

    /// Every consumer's last recorded state, by name (empty on a single box).
    pub fn transport_status(&self) -> Result<Vec<TransportStatus>, Error> {
        self.conn()
            .query(
                "SELECT consumer, waiting, unacknowledged, redelivered, ack_wait, at FROM transport_status ORDER BY consumer",
                &[],
            )?
            .iter()
            .map(|r| {
                Ok(TransportStatus {
                    consumer: r.str(0)?,
                    waiting: r.i64(1)?.max(0) as u64,
                    unacknowledged: r.i64(2)?.max(0) as u64,
                    redelivered: r.i64(3)?.max(0) as u64,
                    ack_wait: r.i64(4)?.max(0) as u64,
                    at: r.i64(5)?,
                })
            })
            .collect()
    }

    /// Per site: messages stored, the last one's time and whether the
    /// inventory waits for a rebuild; by site name. Empty on a single box.
    pub fn site_ingest(&self) -> Result<Vec<SiteIngest>, Error> {
        let rows = self.conn().query(
            "SELECT i.site, count(*), max(i.at), coalesce(max(s.dirty), 0) FROM ingested i
             LEFT JOIN sites s ON s.site = i.site GROUP BY i.site ORDER BY i.site",
            &[],
        )?;
        rows.iter()
            .map(|r| {
                Ok(SiteIngest {
                    site: r.str(0)?,
                    messages: r.i64(1)?.max(0) as u64,
                    last_at: r.i64(2)?,
                    rebuild_pending: r.i64(3)? != 0,
                })
            })
            .collect()
    }

    /// A number that changes whenever another connection (`ward analyze`,
    /// `ward feeds import`, `ward inventory import`, `ward user`, the
    /// multi-site ingest) committed to the database since this connection
    /// last looked, or a run was added. SQLite: its `data_version` combined
    /// with the latest run id (this connection's own writes — sessions,
    /// audit — do not change it). PostgreSQL: the rows inserted, updated and
    /// deleted in the inventory and feed tables of this schema, from the
    /// statistics collector (flushed at most once a second), plus the latest
    /// run id. One cheap query; the web server checks it before reusing its
    /// scored snapshot.
    pub fn generation(&self) -> Result<u64, Error> {
        let mut c = self.conn();
        let run = c
            .query_one("SELECT coalesce(max(id), 0) FROM runs", &[])?
            .i64(0)?;
        let changes = match &*c {
            Conn::Sqlite(_) => c.query_one("PRAGMA data_version", &[])?.i64(0)?,
            Conn::Postgres(_) => c
                .query_one(
                    "SELECT coalesce(sum(n_tup_ins + n_tup_upd + n_tup_del), 0)::BIGINT FROM pg_stat_user_tables
                     WHERE schemaname = current_schema() AND relname IN ('facts', 'devices', 'runs', 'advisories', 'advisory_products', 'kev', 'declared_devices', 'feed_files', 'alerts', 'intake')",
                    &[],
                )?
                .i64(0)?,
        };
        Ok(((changes as u64) << 32) ^ (run as u64))
    }

    /// Every stored fact of one kind (e.g. [`FactKind::Peer`]).
    pub fn facts_of_kind(&self, kind: FactKind) -> Result<Vec<Fact>, Error> {
        crate::load_facts_where(&mut self.conn(), None, Some(kind.as_str()))
    }

    /// Every stored fact of one kind with its site (`""`: the single-box
    /// site), by site.
    pub fn site_facts_of_kind(&self, kind: FactKind) -> Result<Vec<(String, Fact)>, Error> {
        // The single-box site, then every named site (sites with facts).
        let mut sites = vec![String::new()];
        sites.extend(self.sites()?);
        let mut c = self.conn();
        let mut out = Vec::new();
        for site in sites {
            for f in crate::load_facts_where(&mut c, Some(&site), Some(kind.as_str()))? {
                out.push((site.clone(), f));
            }
        }
        Ok(out)
    }

    /// The `n` observed devices first seen most recently, newest first
    /// (without their facts).
    pub fn newest_devices(&self, n: u32) -> Result<Vec<Device>, Error> {
        let rows = self.conn().query(
            "SELECT doc FROM devices WHERE first_seen != 0 ORDER BY first_seen DESC, key LIMIT ?1",
            params![n],
        )?;
        rows.iter()
            .map(|r| serde_json::from_str(&r.str(0)?).map_err(Error::from))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tests::fact;
    use crate::RunSummary;

    #[test]
    fn generation_changes_with_other_writers_only() {
        let dir = std::env::temp_dir().join(format!("ward-store-gen-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let p = dir.join("g.db");
        let _ = std::fs::remove_file(&p);
        let server = Store::open(&p).unwrap();
        let g0 = server.generation().unwrap();
        // The server's own writes (audit, sessions) leave it unchanged.
        server.audit(1, "a", "login_ok", "", "local").unwrap();
        assert_eq!(server.generation().unwrap(), g0);
        // Another connection's run changes it.
        let mut cli = Store::open(&p).unwrap();
        cli.ingest(
            &RunSummary::default(),
            &[
                fact("10.0.0.1", FactKind::Hostname, "pump-1", 5),
                fact("10.0.0.1", FactKind::Peer, "10.0.0.2", 5),
            ],
            &[],
        )
        .unwrap();
        let g1 = server.generation().unwrap();
        assert_ne!(g1, g0);
        assert_eq!(server.generation().unwrap(), g1);
        assert_eq!(server.facts_of_kind(FactKind::Peer).unwrap().len(), 1);
        assert_eq!(
            server.facts_of_kind(FactKind::Peer).unwrap()[0].value,
            "10.0.0.2"
        );
        cli.ingest(
            &RunSummary::default(),
            &[fact("10.0.0.3", FactKind::Hostname, "ct-1", 9)],
            &[],
        )
        .unwrap();
        let newest = server.newest_devices(1).unwrap();
        assert_eq!(newest.len(), 1);
        assert_eq!(newest[0].hostnames, vec!["ct-1"]);
        assert_ne!(server.generation().unwrap(), g1);
        drop((server, cli));
        let _ = std::fs::remove_dir_all(&dir);
    }
}
