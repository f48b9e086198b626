//! The message envelope a sensor publishes: versioned JSON, one kind per
//! message (`observation`: facts, anomalies, run; `alert`: the alerts the
//! site's monitor raised — a server that meets a kind it does not know
//! acknowledges and counts it instead of blocking the stream), under an
//! idempotency id that is both the `Nats-Msg-Id` header and the key stored
//! on ingest.
//!
//! Messages are bounded: [`split`] cuts one analysis into messages of at
//! most `max_facts` facts and [`MAX_MESSAGE_BYTES`] bytes, the last one
//! carrying the run summary and anomaly counters; [`split_alerts`] cuts a
//! run's alerts into messages of at most [`MAX_ALERTS`] alerts.

use crate::Error;
use serde::{Deserialize, Serialize};
use store::{Observation, RunSummary, SiteAlerts};

/// Envelope format version.
pub const VERSION: u32 = 1;

/// Largest encoded message (NATS' default `max_payload` is 1 MiB).
pub const MAX_MESSAGE_BYTES: usize = 900 * 1024;

/// What a message carries.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", content = "body", rename_all = "snake_case")]
pub enum Body {
    /// Facts, anomalies and (in the last message of a run) the run summary.
    Observation(Observation),
    /// Alerts of the site's monitor.
    Alert(SiteAlerts),
}

/// Most alerts per `alert` message.
pub const MAX_ALERTS: usize = 500;

/// One published message.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Envelope {
    /// Format version ([`VERSION`]).
    pub v: u32,
    /// Sensor that produced it.
    pub sensor: String,
    /// Idempotency id (also the `Nats-Msg-Id` header).
    pub id: String,
    /// Site.
    pub site: String,
    /// Content.
    #[serde(flatten)]
    pub body: Body,
}

/// A decoded message, or what the server does with one it cannot use.
#[derive(Debug)]
pub enum Decoded {
    /// Usable.
    Message(Box<Envelope>),
    /// Valid JSON of a kind or version this server does not know.
    Unknown(String),
}

impl Envelope {
    /// JSON bytes.
    pub fn encode(&self) -> Result<Vec<u8>, Error> {
        Ok(serde_json::to_vec(self)?)
    }

    /// Parses a message. Malformed input is an error (the caller counts
    /// and drops it); a newer version or unknown kind is [`Decoded::Unknown`].
    pub fn decode(bytes: &[u8]) -> Result<Decoded, Error> {
        if bytes.len() > 8 * MAX_MESSAGE_BYTES {
            return Err(Error::Malformed(format!(
                "message of {} bytes",
                bytes.len()
            )));
        }
        #[derive(Deserialize)]
        struct Head {
            v: u32,
            kind: String,
        }
        let head: Head =
            serde_json::from_slice(bytes).map_err(|e| Error::Malformed(e.to_string()))?;
        if head.v != VERSION || !matches!(head.kind.as_str(), "observation" | "alert") {
            return Ok(Decoded::Unknown(format!(
                "v{} {}",
                head.v,
                head.kind.chars().take(40).collect::<String>()
            )));
        }
        let e: Envelope =
            serde_json::from_slice(bytes).map_err(|e| Error::Malformed(e.to_string()))?;
        let (id, site) = match &e.body {
            Body::Observation(o) => (&o.id, &o.site),
            Body::Alert(a) => {
                if a.alerts.len() > MAX_ALERTS {
                    return Err(Error::Malformed(format!("{} alerts", a.alerts.len())));
                }
                (&a.id, &a.site)
            }
        };
        if *id != e.id
            || *site != e.site
            || !store::valid_site(&e.site)
            || e.id.is_empty()
            || e.id.len() > 256
        {
            return Err(Error::Malformed("inconsistent id or site".into()));
        }
        Ok(Decoded::Message(Box::new(e)))
    }

    /// The observation inside, if it is one.
    pub fn into_observation(self) -> Option<Observation> {
        match self.body {
            Body::Observation(o) => Some(o),
            Body::Alert(_) => None,
        }
    }

    /// The observation inside.
    ///
    /// # Panics
    /// On an `alert` message (tests only; use [`Envelope::into_observation`]).
    #[cfg(test)]
    pub fn observation(self) -> Observation {
        self.into_observation().expect("an observation message")
    }
}

/// Cuts one run's alerts into messages with ids `{base}:a{n}` (never equal
/// to an observation id of the same base), at most [`MAX_ALERTS`] alerts
/// and [`MAX_MESSAGE_BYTES`] bytes each; no alerts, no message.
/// Deterministic: the same alerts give the same messages and ids, so a
/// sensor that analyses a capture again sends what the centre already has.
pub fn split_alerts(
    sensor: &str,
    site: &str,
    base: &str,
    alerts: Vec<monitor::Alert>,
) -> Result<Vec<Envelope>, Error> {
    let mut chunks: Vec<Vec<monitor::Alert>> = Vec::new();
    let mut cur = Vec::new();
    let mut bytes = 0usize;
    for a in alerts {
        let size = serde_json::to_vec(&a)?.len() + 16;
        if !cur.is_empty() && (cur.len() >= MAX_ALERTS || bytes + size > MAX_MESSAGE_BYTES / 2) {
            chunks.push(std::mem::take(&mut cur));
            bytes = 0;
        }
        bytes += size;
        cur.push(a);
    }
    if !cur.is_empty() {
        chunks.push(cur);
    }
    let mut out = Vec::with_capacity(chunks.len());
    for (i, alerts) in chunks.into_iter().enumerate() {
        let id = format!("{base}:a{i}");
        let e = Envelope {
            v: VERSION,
            sensor: sensor.to_string(),
            id: id.clone(),
            site: site.to_string(),
            body: Body::Alert(SiteAlerts {
                id,
                site: site.to_string(),
                alerts,
            }),
        };
        if e.encode()?.len() > MAX_MESSAGE_BYTES {
            return Err(Error::Malformed(format!("message {} too large", e.id)));
        }
        out.push(e);
    }
    Ok(out)
}

/// Cuts one analysis (facts, anomalies, run summary) into messages with ids
/// `{base}:{n}`; the last carries the anomalies and the run. Deterministic:
/// the same input gives the same messages and ids.
pub fn split(
    sensor: &str,
    site: &str,
    base: &str,
    facts: Vec<identify::Fact>,
    anomalies: Vec<(String, u64)>,
    run: RunSummary,
    max_facts: usize,
) -> Result<Vec<Envelope>, Error> {
    let max_facts = max_facts.max(1);
    let mut out = Vec::new();
    let mut chunks: Vec<Vec<identify::Fact>> = Vec::new();
    let mut cur = Vec::new();
    let mut bytes = 0usize;
    for f in facts {
        // Facts are bounded in size by the analyzers; estimate generously.
        let size = f.value.len() + f.evidence.len() + f.source.len() + 200;
        if !cur.is_empty() && (cur.len() >= max_facts || bytes + size > MAX_MESSAGE_BYTES / 2) {
            chunks.push(std::mem::take(&mut cur));
            bytes = 0;
        }
        bytes += size;
        cur.push(f);
    }
    chunks.push(cur);
    let n = chunks.len();
    for (i, facts) in chunks.into_iter().enumerate() {
        let last = i + 1 == n;
        let id = format!("{base}:{i}");
        let o = Observation {
            id: id.clone(),
            site: site.to_string(),
            run: last.then(|| run.clone()),
            facts,
            anomalies: if last { anomalies.clone() } else { Vec::new() },
        };
        let e = Envelope {
            v: VERSION,
            sensor: sensor.to_string(),
            id,
            site: site.to_string(),
            body: Body::Observation(o),
        };
        if e.encode()?.len() > MAX_MESSAGE_BYTES {
            return Err(Error::Malformed(format!("message {} too large", e.id)));
        }
        out.push(e);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use identify::{EndpointKey, Fact, FactKind};
    use model::Timestamp;

    fn fact(i: u32) -> Fact {
        Fact {
            endpoint: EndpointKey {
                mac: None,
                ip: Some(std::net::IpAddr::from([10, 0, (i >> 8) as u8, i as u8])),
            },
            kind: FactKind::Hostname,
            value: format!("h{i}"),
            source: "dhcp".into(),
            first_seen: Timestamp(1),
            last_seen: Timestamp(2),
            count: 1,
            evidence: "e".into(),
        }
    }

    #[test]
    fn split_is_bounded_deterministic_and_round_trips() {
        let facts: Vec<Fact> = (0..25).map(fact).collect();
        let run = RunSummary {
            packets: 9,
            ..Default::default()
        };
        let a = split(
            "s1",
            "north",
            "s1:abc",
            facts.clone(),
            vec![("x".into(), 1)],
            run.clone(),
            10,
        )
        .unwrap();
        let b = split(
            "s1",
            "north",
            "s1:abc",
            facts,
            vec![("x".into(), 1)],
            run,
            10,
        )
        .unwrap();
        assert_eq!(a, b);
        assert_eq!(a.len(), 3);
        assert_eq!(
            a.iter().map(|e| e.id.as_str()).collect::<Vec<_>>(),
            vec!["s1:abc:0", "s1:abc:1", "s1:abc:2"]
        );
        let last = a[2].clone().observation();
        assert_eq!(
            (
                last.facts.len(),
                last.run.unwrap().packets,
                last.anomalies.len()
            ),
            (5, 9, 1)
        );
        assert!(a[0].clone().observation().run.is_none());
        for e in &a {
            match Envelope::decode(&e.encode().unwrap()).unwrap() {
                Decoded::Message(d) => assert_eq!(&*d, e),
                Decoded::Unknown(k) => panic!("unknown {k}"),
            }
        }
        // An empty analysis is still one message (it carries the run).
        assert_eq!(
            split(
                "s1",
                "north",
                "s1:e",
                vec![],
                vec![],
                RunSummary::default(),
                10
            )
            .unwrap()
            .len(),
            1
        );
    }

    #[test]
    fn hostile_messages_are_rejected_or_unknown() {
        for bad in [
            &b""[..],
            b"{",
            b"null",
            b"{\"v\":1}",
            b"{\"v\":1,\"kind\":\"observation\"}",
            b"\xff\xfe",
        ] {
            assert!(Envelope::decode(bad).is_err(), "{bad:?}");
        }
        let e = split(
            "s",
            "north",
            "b",
            vec![fact(1)],
            vec![],
            RunSummary::default(),
            10,
        )
        .unwrap()
        .remove(0);
        let mut j: serde_json::Value = serde_json::from_slice(&e.encode().unwrap()).unwrap();
        j["site"] = "../etc".into();
        assert!(
            Envelope::decode(&serde_json::to_vec(&j).unwrap()).is_err(),
            "bad site"
        );
        j["kind"] = "alert".into();
        assert!(
            Envelope::decode(&serde_json::to_vec(&j).unwrap()).is_err(),
            "an observation body under the alert kind"
        );
        j["kind"] = "bogus".into();
        assert!(matches!(
            Envelope::decode(&serde_json::to_vec(&j).unwrap()).unwrap(),
            Decoded::Unknown(_)
        ));
        j["kind"] = "observation".into();
        j["v"] = 2.into();
        assert!(matches!(
            Envelope::decode(&serde_json::to_vec(&j).unwrap()).unwrap(),
            Decoded::Unknown(_)
        ));
    }
}
