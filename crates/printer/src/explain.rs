//! One device explained (`ward inventory --explain KEY`): every conclusion
//! about it with the evidence behind it (packet time and flow) and the knowledge entry that
//! read it (with that entry's source and licence), then every fact — so an
//! engineer can see why and correct the knowledge in a site file.

use identify::Device;
use std::io::{Result, Write};

/// Text from traffic or knowledge, bounded and single-line.
fn clean(s: &str) -> String {
    model::text::bounded(s.as_bytes(), 512)
}

/// The knowledge entry `id` cited (source, licence, file), on its own line.
fn cite(k: &knowledge::Knowledge, id: Option<&str>) -> String {
    match id.and_then(|i| k.entry(i)) {
        Some(row) => {
            let c = k.cite(row);
            format!(
                "\n        knowledge {} ({}; licence {}; {})",
                clean(&c.id),
                clean(&c.source),
                clean(&c.licence),
                clean(&c.file)
            )
        }
        None => match id {
            Some(i) => format!(
                "\n        knowledge {} (not in the knowledge in use)",
                clean(i)
            ),
            None => String::new(),
        },
    }
}

/// Prints the explanation of device `d`: its identity, why its category
/// and identity were concluded (with the knowledge entries cited), its facts.
pub fn device(out: &mut dyn Write, d: &Device) -> Result<()> {
    let k = knowledge::global();
    writeln!(out, "device {}", clean(&d.key))?;
    writeln!(
        out,
        "  category {} (confidence {:.2}){}",
        d.category.label(),
        d.confidence,
        d.identity
            .device_type
            .as_deref()
            .map(|t| format!(", {}", clean(t)))
            .unwrap_or_default()
    )?;
    let show = |label: &str, v: &Option<String>| -> String {
        format!(
            "  {label:<9}{}",
            v.as_deref().map(clean).unwrap_or_else(|| "-".into())
        )
    };
    writeln!(out, "{}", show("vendor", &d.vendor))?;
    writeln!(out, "{}", show("model", &d.identity.model))?;
    writeln!(out, "{}", show("firmware", &d.identity.firmware))?;
    writeln!(out, "{}", show("os", &d.identity.os))?;
    writeln!(out, "{}", show("MAC org", &d.identity.oui_organisation))?;
    for a in &d.identity.apps {
        writeln!(
            out,
            "  app      {} {}{}",
            clean(&a.vendor),
            clean(&a.app),
            if a.medical { " (medical)" } else { "" }
        )?;
    }
    writeln!(out, "why the category:")?;
    for r in &d.reasons {
        writeln!(
            out,
            "  [{} +{:.2}] {}\n        evidence {}{}",
            r.category.label(),
            r.weight,
            clean(&r.why),
            clean(&r.evidence),
            cite(k, r.knowledge.as_deref())
        )?;
    }
    writeln!(out, "why the identity:")?;
    for c in &d.identity.conclusions {
        writeln!(
            out,
            "  {} = {}: {}\n        evidence {} {}{}",
            clean(&c.field),
            clean(&c.value),
            clean(&c.why),
            if c.seen.0 == 0 {
                String::new()
            } else {
                c.seen.iso()
            },
            clean(&c.evidence),
            cite(k, c.knowledge.as_deref())
        )?;
    }
    writeln!(out, "facts ({}):", d.facts.len())?;
    for f in &d.facts {
        writeln!(
            out,
            "  {:<20} {}  [{}; {} .. {}; x{}] {}",
            f.kind.as_str(),
            clean(&f.value),
            clean(&f.source),
            f.first_seen.iso(),
            f.last_seen.iso(),
            f.count,
            clean(&f.evidence)
        )?;
    }
    Ok(())
}
