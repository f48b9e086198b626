//! What `ward baseline learn` learnt: flows, devices and groups, whether
//! hours of day and volumes will be judged, and each group's services.

use monitor::{Baseline, DetectorConfig};
use std::io::{Result, Write};

/// Prints the summary of baseline `name`.
pub fn learnt(o: &mut dyn Write, name: &str, b: &Baseline) -> Result<()> {
    let span = match (b.start, b.end) {
        (Some(s), Some(e)) => format!("{} .. {}", s.iso(), e.iso()),
        _ => "no flows".into(),
    };
    writeln!(
        o,
        "baseline {:?}: {} flows learnt ({span}), {} devices, {} groups",
        name,
        b.records,
        b.devices.len(),
        b.groups.len()
    )?;
    let windows = b
        .devices
        .values()
        .filter_map(|d| d.volume.map(|v| v.windows))
        .max()
        .unwrap_or(0);
    let def = DetectorConfig::default();
    let watched = b.watched_hours().count_ones();
    writeln!(
        o,
        "  hours of day: {}; volumes: {windows} windows of {} s ({})",
        if b.watched_secs() < def.off_hours_min_span_secs {
            "not judged (the network was watched less than 24 h)".to_string()
        } else if watched < 24 {
            format!("judged in the {watched} hours of the day the captures covered")
        } else {
            "judged".to_string()
        },
        b.volume_window,
        if windows >= def.volume_min_windows {
            "judged"
        } else {
            "not judged (fewer than 36 windows)"
        }
    )?;
    if !b.unsafe_logins.is_empty() {
        let n: u64 = b.unsafe_logins.iter().map(|u| u.count).sum();
        writeln!(
            o,
            "  warning: {n} cleartext logins in the learning window: not learnt as normal, \
             `ward monitor` raises cleartext_credential for each; fix them (disable Telnet/FTP, \
             change default passwords):"
        )?;
        for u in &b.unsafe_logins {
            writeln!(
                o,
                "    {} to {}:{} from {}{}{} ({}x, first {})",
                u.method.label(),
                u.server,
                u.port,
                u.client,
                if u.default_password {
                    ", default or empty password"
                } else {
                    ""
                },
                if u.accepted { ", accepted" } else { "" },
                u.count,
                u.first.iso()
            )?;
        }
    }
    for (g, gb) in &b.groups {
        writeln!(
            o,
            "  {g}: {} devices, {} conversations, services {}",
            gb.members.len(),
            gb.talks.len(),
            gb.services
                .iter()
                .map(|s| s.to_string())
                .collect::<Vec<_>>()
                .join(", ")
        )?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use monitor::{CleartextMethod, UnsafeLogin};

    #[test]
    fn cleartext_logins_of_the_learning_window_are_a_warning_with_a_list() {
        let mut b = Baseline::default();
        let mut out = Vec::new();
        learnt(&mut out, "day", &b).unwrap();
        assert!(!String::from_utf8(out).unwrap().contains("warning"));
        b.unsafe_logins.push(UnsafeLogin {
            server: "10.0.0.1".parse().unwrap(),
            port: 23,
            client: "10.0.0.2".parse().unwrap(),
            method: CleartextMethod::Telnet,
            default_password: true,
            accepted: true,
            count: 3,
            first: model::Timestamp(1_000_000_000_000),
        });
        let mut out = Vec::new();
        learnt(&mut out, "day", &b).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(
            text.contains("warning: 3 cleartext logins in the learning window"),
            "{text}"
        );
        assert!(
            text.contains(
                "Telnet to 10.0.0.1:23 from 10.0.0.2, default or empty password, accepted (3x"
            ),
            "{text}"
        );
    }
}
