//! Data protection (backup coverage) of a store: the observed devices with
//! their `transfer` facts, and the declared backup plans of the CMMS rows
//! linked to them (`store::assets`), judged by `risk::coverage`.

use crate::Result;
use risk::coverage::{Coverage, CoverageConfig, DeclaredPlan};
use std::collections::HashMap;

/// The store's data protection. Declared rows not linked to an observed
/// device are left out: with nothing observed there is nothing to set the
/// plan beside (`ward advisories` lists them).
pub fn coverage(store: &store::Store, cfg: CoverageConfig) -> Result<Coverage> {
    let mut plans = HashMap::new();
    let mut devices = Vec::new();
    for a in store.assets()? {
        let Some(o) = a.observed else { continue };
        if let Some(d) = a.declared {
            plans.insert(
                o.key.clone(),
                DeclaredPlan {
                    method: d.backup_method,
                    destination: d.backup_destination,
                    last_restore: d.last_restore,
                },
            );
        }
        devices.push(o);
    }
    devices.sort_by(|a, b| a.key.cmp(&b.key));
    Ok(risk::coverage::coverage(&devices, &plans, cfg))
}
