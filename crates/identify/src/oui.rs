//! Vendor lookup in the IEEE registries (MA-L, MA-M, MA-S, IAB, CID), embedded
//! in the binary so `ward analyze` needs nothing installed.

use model::MacAddr;

/// Organisation registered for the MAC's prefix, if any. Locally administered
/// (randomised) addresses have no vendor.
pub fn vendor(mac: &MacAddr) -> Option<String> {
    if mac.is_local() || mac.is_multicast() || mac.is_zero() {
        return None;
    }
    oui_data::lookup(&mac.to_string())
        .map(|r| r.organization().trim().to_string())
        .filter(|s| !s.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_prefixes() {
        assert_eq!(
            vendor(&MacAddr::parse("00:00:00:12:34:56").unwrap()).as_deref(),
            Some("XEROX CORPORATION")
        );
        let philips = vendor(&MacAddr::parse("00:09:fb:00:00:01").unwrap()).unwrap_or_default();
        assert!(philips.to_lowercase().contains("philips"), "{philips}");
        assert_eq!(vendor(&MacAddr::parse("02:00:00:00:00:01").unwrap()), None);
    }
}
