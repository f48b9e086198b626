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
