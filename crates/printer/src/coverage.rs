//! `ward coverage`: where each clinical-data producer's data goes, when it
//! last went there, the declared plan beside it, and the findings
//! (`risk::coverage`). Also one device's section for `ward inventory --explain`.

use risk::coverage::{Coverage, Protection, Status};
use std::io::{Result, Write};

/// Prints the fleet lines and every listed device's section.
pub fn coverage(w: &mut dyn Write, c: &Coverage) -> Result<()> {
    writeln!(
        w,
        "Data protection as of {} (the latest packet; window {} days)",
        c.as_of.iso(),
        c.stale_days
    )?;
    if c.fleet.is_empty() {
        writeln!(w, "  no clinical-data producers in the inventory")?;
    }
    for f in &c.fleet {
        writeln!(w, "  {}", f.text)?;
    }
    let findings = c.findings().count();
    writeln!(w, "{findings} finding(s)")?;
    for p in &c.devices {
        writeln!(w)?;
        device(w, p)?;
    }
    Ok(())
}

fn name(n: &Option<String>) -> String {
    n.as_deref()
        .map(|n| format!(" {}", crate::cut(n, 40)))
        .unwrap_or_default()
}

/// One device's data protection section.
pub fn device(w: &mut dyn Write, p: &Protection) -> Result<()> {
    writeln!(
        w,
        "{}{}  [{}]  {}",
        p.key,
        name(&p.name),
        p.category.label(),
        p.status.label()
    )?;
    if p.status != Status::NotProducer {
        match p.last_copy {
            Some(t) => writeln!(w, "  last copy   {}", t.iso())?,
            None => writeln!(w, "  last copy   never seen")?,
        }
    }
    for c in &p.copies {
        let dest = match (&c.dest_name, c.dest_category) {
            (n, Some(cat)) => format!("{}  [{}]", name(n), cat.label()),
            (n, None) => name(n),
        };
        writeln!(
            w,
            "  copy        {} -> {}:{}/{}{dest}  last {}  x{}{}{}",
            c.label,
            c.dest,
            c.port,
            c.transport,
            c.last_seen.iso(),
            c.count,
            if c.counts { "" } else { "  (not counted)" },
            if c.cleartext { "  CLEARTEXT" } else { "" }
        )?;
        writeln!(w, "              evidence {}", c.evidence)?;
    }
    for r in &p.received {
        writeln!(
            w,
            "  received    {} from {}{}  last {}",
            r.channel,
            r.from_key,
            name(&r.from_name),
            r.last_seen.iso()
        )?;
    }
    if let Some(d) = &p.declared {
        writeln!(
            w,
            "  declared    method {:?}, destination {:?}, last verified restore {:?}",
            crate::cut(&d.method, 60),
            crate::cut(&d.destination, 60),
            crate::cut(&d.last_restore, 40)
        )?;
    }
    writeln!(w, "  plan        {}", p.plan.label())?;
    for f in &p.findings {
        writeln!(w, "  finding     {:<8} {}", f.severity.as_str(), f.title)?;
        for e in &f.evidence {
            writeln!(w, "              evidence {} ({})", e.what, e.at)?;
        }
        writeln!(w, "              fix {}", f.remediation)?;
    }
    Ok(())
}
