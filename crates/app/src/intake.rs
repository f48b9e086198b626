//! Device intake: new devices start unapproved; an operator approves them
//! and records owner, location and group (used for group baselines and
//! policies). Approved devices raise no new-device alert.

use crate::{Error, Result};

/// Resolves a key or an address to a device key of the inventory (an
/// address no device has becomes `ip:ADDR`).
pub fn device_key(store: &store::Store, device: &str) -> Result<String> {
    if device.starts_with("mac:") || device.starts_with("ip:") {
        return Ok(device.to_string());
    }
    let ip: std::net::IpAddr = device.parse().map_err(|e| {
        Error::Invalid(format!(
            "{device:?} is neither a device key (mac:.., ip:..) nor an IP address: {e}"
        ))
    })?;
    let devices = store.devices()?;
    Ok(devices
        .iter()
        .find(|d| d.ips.contains(&ip))
        .map(|d| d.key.clone())
        .unwrap_or_else(|| format!("ip:{ip}")))
}

/// Approves `device` (key or address) with what the operator recorded;
/// returns its key.
pub fn approve(
    store: &mut store::Store,
    device: &str,
    approval: &store::Approval,
) -> Result<String> {
    let key = device_key(store, device)?;
    store.intake_approve(&key, approval, crate::now())?;
    Ok(key)
}
