//! Text and JSON views of the application's results for terminals and
//! pipes (Ward's `grep-printer`): the device inventory and one device's
//! explanation, alerts, baselines, risk scores, advisory matches,
//! procurement assessments, feed imports, intake and policies.
//!
//! Every function takes typed values (mostly those of crate `app`) and an
//! `&mut dyn std::io::Write`, and returns `std::io::Result`. Nothing here
//! parses arguments, opens a store or knows where the output goes: the
//! binary hands in standard output wrapped in `model::text::CleanWriter`, so
//! no escape sequence from traffic or files reaches a terminal.
//!
//! - [`inventory`]: the device table, the run summary and the JSON document.
//! - [`explain`]: every conclusion about one device with its evidence.
//! - [`alerts`]: alert tables and lines, the monitor run, status changes.
//! - [`baseline`]: what `baseline learn` learnt.
//! - [`risk`], [`advisories`], [`assess`]: scores, matches and verdicts.
//! - [`feeds`]: what a feed import stored.
//! - [`intake`]: the intake list.
//! - [`policy`]: generated policy files, simulations, MUD imports and fetches.
//! - [`remediation`]: remediation items, their history and metrics, firmware changes.

pub mod advisories;
pub mod alerts;
pub mod assess;
pub mod baseline;
pub mod coverage;
pub mod explain;
pub mod feeds;
pub mod intake;
pub mod inventory;
pub mod policy;
pub mod remediation;
pub mod risk;

use std::io::{Result, Write};

/// `value` as pretty JSON and a newline (every `--json` output), through
/// `model::json::tidy`: `f32` numbers as written (`0.94`), microsecond
/// timestamps with an RFC 3339 twin (`first_seen_at`).
pub fn json<T: serde::Serialize + ?Sized>(out: &mut dyn Write, value: &T) -> Result<()> {
    serde_json::to_writer_pretty(&mut *out, &model::json::tidy_value(value)?)?;
    writeln!(out)
}

/// `value` as one line of JSON (JSON lines outputs), tidied as [`json`].
pub fn json_line<T: serde::Serialize + ?Sized>(out: &mut dyn Write, value: &T) -> Result<()> {
    serde_json::to_writer(&mut *out, &model::json::tidy_value(value)?)?;
    writeln!(out)
}

/// `s` cut to `n` characters, the last one `…` when cut.
pub(crate) fn cut(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        s.to_string()
    } else {
        s.chars().take(n.saturating_sub(1)).collect::<String>() + "…"
    }
}
