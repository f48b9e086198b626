//! What an item is about: one vulnerability (a CVE matched to the device) or
//! one kind of finding (cleartext PHI, a default credential...).

use risk::FindingKind;
use serde::{Deserialize, Serialize};
use std::fmt;

/// What a remediation item tracks on its device.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Subject {
    /// A published vulnerability matched to the device.
    Vulnerability {
        /// CVE id.
        cve: String,
    },
    /// A finding from the traffic or the declared data.
    Finding {
        /// Its kind.
        kind: FindingKind,
    },
}

impl Subject {
    /// The stored key: `cve:CVE-2024-1234` or `finding:cleartext_phi`.
    pub fn key(&self) -> String {
        match self {
            Subject::Vulnerability { cve } => format!("cve:{cve}"),
            Subject::Finding { kind } => format!("finding:{}", kind.as_str()),
        }
    }

    /// Parses [`Subject::key`].
    pub fn parse(key: &str) -> Option<Subject> {
        if let Some(cve) = key.strip_prefix("cve:") {
            return (!cve.is_empty()).then(|| Subject::Vulnerability {
                cve: cve.to_string(),
            });
        }
        let kind = FindingKind::parse(key.strip_prefix("finding:")?)?;
        Some(Subject::Finding { kind })
    }
}

impl fmt::Display for Subject {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Subject::Vulnerability { cve } => f.write_str(cve),
            Subject::Finding { kind } => f.write_str(kind.as_str()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_parse_back() {
        for s in [
            Subject::Vulnerability {
                cve: "CVE-2024-0001".into(),
            },
            Subject::Finding {
                kind: FindingKind::CleartextPhi,
            },
        ] {
            assert_eq!(Subject::parse(&s.key()), Some(s));
        }
        assert_eq!(Subject::parse("cve:"), None);
        assert_eq!(Subject::parse("finding:nope"), None);
        assert_eq!(Subject::parse("other"), None);
    }
}
