//! Monitoring: how each device normally communicates, and what is new.
//!
//! - [`Learner`] turns the record stream (flow summaries, HL7 headers, DICOM
//!   associations, observation statistics) into a [`Baseline`]: per device
//!   (IP address) the peers, `(transport, port, role)` it uses and offers,
//!   protocols, volumes, hours of day, HL7 sending applications it receives
//!   from, DICOM AE titles that call it, and per observation code the
//!   count/min/max/mean/stddev of numeric values. Per group (model or
//!   category, decided by the caller) the union of its members. Volumes are
//!   also learnt per window (10 minutes by default): per device the
//!   p50/p95/p99/max of bytes sent, bytes received and flows per window,
//!   silent windows counting as zeros.
//! - [`Detector`] consumes the same records against a baseline and emits
//!   [`Alert`]s, folded by `(kind, device, key)` with a count and first/last
//!   time, each with its evidence and severity. Besides new peers, ports,
//!   protocols and the rest, it alerts on traffic at hours of the day a
//!   device never talked at (only once the baseline spans a day and the
//!   device had enough flows) and on windows whose bytes or flows exceed
//!   max(k × learnt p99, learnt max, floor). [`Detector::drain`] serves
//!   long-running (live) monitors.
//!
//! Both are pure (no clock, no I/O) and bounded: tracked sets per device,
//! scan state per source and the number of alerts are capped, and what is
//! dropped is counted. No patient data: records carry none, and observation
//! values are kept as statistics only.

mod alert;
mod baseline;
mod detect;

pub use alert::{Alert, AlertKind, Alerts, Evidence, FlowTuple, Severity, ALL_KINDS};
pub use baseline::{
    Baseline, CleartextMethod, DeviceBaseline, GroupBaseline, Learner, Quantiles, Role, Service,
    Stats, Talk, UnsafeLogin, Volume, Window, DEFAULT_VOLUME_WINDOW_SECS, MAX_UNSAFE_LOGINS,
    MIN_OBSERVATIONS,
};
pub use detect::{Detector, DetectorConfig, FlowPolicy, FlowSummary};

use std::net::IpAddr;

/// True for addresses that stay inside a hospital network (private,
/// loopback, link-local, CGNAT, unique-local IPv6) or are not unicast hosts:
/// every address that is not [`model::addr::is_public`].
pub fn is_local(ip: &IpAddr) -> bool {
    !model::addr::is_public(ip)
}

pub use model::addr::is_host;
