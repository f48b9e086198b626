//! Packet timestamps. Ward never reads the wall clock while analysing traffic:
//! time comes from the capture, so replaying a file is deterministic.

use serde::{Deserialize, Serialize};

/// Microseconds since the Unix epoch, as recorded by the capture.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Timestamp(pub i64);

impl Timestamp {
    /// Builds a timestamp from seconds and microseconds.
    pub fn from_secs_micros(secs: i64, micros: i64) -> Self {
        Timestamp(secs.saturating_mul(1_000_000).saturating_add(micros))
    }

    /// Whole seconds since the epoch.
    pub fn secs(self) -> i64 {
        self.0.div_euclid(1_000_000)
    }

    /// Seconds as a float, Zeek style (`1254722767.529046`).
    pub fn as_f64(self) -> f64 {
        self.0 as f64 / 1e6
    }

    /// Microseconds between two timestamps (saturating at zero).
    pub fn micros_since(self, earlier: Timestamp) -> i64 {
        self.0.saturating_sub(earlier.0).max(0)
    }
}

impl std::fmt::Display for Timestamp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}.{:06}", self.secs(), self.0.rem_euclid(1_000_000))
    }
}
