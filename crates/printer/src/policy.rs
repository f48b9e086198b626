//! Policies: the files `ward policy generate` wrote, the flows `ward policy
//! simulate` would block, and the MUD files `ward mud import` and `ward mud
//! fetch` stored.

use app::mud::{FetchOutcome, FetchTotals};
use app::policy::{Generated, Simulation};
use policy::mud::{MudPolicy, Subject};
use std::io::{Result, Write};

/// Prints the files written (MUD files with whom they describe) and the
/// size of the policy.
pub fn generated(o: &mut dyn Write, g: &Generated) -> Result<()> {
    for path in &g.written {
        writeln!(o, "wrote {}", path.display())?;
    }
    if let Some(files) = &g.mud {
        for (path, f) in files {
            writeln!(o, "wrote {}", path.display())?;
            let what = match &f.subject {
                Subject::Model {
                    manufacturer,
                    model,
                } => format!(
                    "model {:?} of {:?}",
                    model,
                    manufacturer.as_deref().unwrap_or("unknown manufacturer")
                ),
                Subject::Group(g) => format!("group {g:?}"),
            };
            let (n, r) = (f.devices.len(), f.policy.allow.len());
            writeln!(
                o,
                "  {what} ({}): {n} device{}, {r} rule{}",
                f.identified_by,
                if n == 1 { "" } else { "s" },
                if r == 1 { "" } else { "s" }
            )?;
        }
        let models = files
            .iter()
            .filter(|(_, f)| matches!(f.subject, Subject::Model { .. }))
            .count();
        writeln!(
            o,
            "{} MUD files: {models} per device model, {} per group (devices that state no model)",
            files.len(),
            files.len() - models
        )?;
    }
    let p = &g.policy;
    writeln!(
        o,
        "{} groups, {} rules",
        p.groups.len(),
        p.groups.values().map(|g| g.allow.len()).sum::<usize>()
    )
}

/// Prints the flows a simulation would block and how many were replayed.
pub fn simulation(o: &mut dyn Write, sim: &Simulation) -> Result<()> {
    let groups = sim.by_group();
    if !groups.is_empty() {
        writeln!(
            o,
            "{:<32} {:>9} {:>14} {:>8} {:>8}",
            "GROUP", "FLOWS", "BYTES", "DEVICES", "PEERS"
        )?;
        for g in &groups {
            writeln!(
                o,
                "{:<32} {:>9} {:>14} {:>8} {:>8}",
                g.group, g.flows, g.bytes, g.devices, g.peers
            )?;
        }
        writeln!(o)?;
    }
    writeln!(
        o,
        "{:<27} {:<4} {:<42} {:<42} {:<8} REASON",
        "START", "L4", "CLIENT", "SERVER", "SERVICE"
    )?;
    for b in &sim.blocked {
        writeln!(
            o,
            "{:<27} {:<4} {:<42} {:<42} {:<8} {}",
            b.start, b.transport, b.client, b.server, b.service, b.reason
        )?;
    }
    writeln!(
        o,
        "{} of {} flows would be blocked ({} packets replayed)",
        sim.blocked.len(),
        sim.flows,
        sim.report.packets
    )
}

/// Prints the MUD files imported and, with `assigned`, the device the
/// (single) file was assigned to.
pub fn mud_imported(
    o: &mut dyn Write,
    parsed: &[(MudPolicy, String)],
    assigned: Option<&str>,
) -> Result<()> {
    for (m, _) in parsed {
        writeln!(o, "imported {} ({} ACEs)", m.url, m.aces.len())?;
    }
    if let (Some(key), Some((m, _))) = (assigned, parsed.first()) {
        writeln!(o, "assigned {} to {key}", m.url)?;
    }
    Ok(())
}

/// Prints what `ward mud fetch` did with one announced URL (failures are
/// the caller's, on standard error).
pub fn mud_fetched(o: &mut dyn Write, url: &str, outcome: &FetchOutcome) -> Result<()> {
    match outcome {
        FetchOutcome::ByHand => writeln!(
            o,
            "{url}: imported from a file (ward mud import), not fetched (--force to fetch)"
        ),
        FetchOutcome::Fresh { age_secs } => {
            writeln!(o, "{url}: up to date (fetched {age_secs}s ago)")
        }
        FetchOutcome::Fetched {
            bytes,
            aces,
            model,
            signature,
            devices,
        } => writeln!(
            o,
            "{url}: fetched {bytes} bytes, {aces} ACEs, model {}; signature {signature}; applies to {devices}",
            model.as_deref().unwrap_or("-")
        ),
        FetchOutcome::Failed(_) => Ok(()),
    }
}

/// Prints the totals of `ward mud fetch`.
pub fn mud_fetch_totals(o: &mut dyn Write, t: &FetchTotals) -> Result<()> {
    if t.announced == 0 {
        return writeln!(
            o,
            "no device announced a MUD URL (DHCP option 161, LLDP); nothing to fetch"
        );
    }
    writeln!(
        o,
        "{} MUD URLs announced: {} fetched, {} up to date, {} imported by hand, {} failed",
        t.announced, t.fetched, t.fresh, t.by_hand, t.failed
    )
}
