//! Vendor and model name normalisation.
//!
//! Vendors appear as "Baxter", "Baxter Healthcare Corporation", "Baxter
//! International Inc."; "Becton, Dickinson and Company (BD)"; "GE Healthcare"
//! and "General Electric (GE)"; OUI registry names such as "Philips Medical
//! Systems Nederland B.V.". [`vendor_keys`] reduces a name to comparison keys:
//! folded to lower-case ASCII words, corporate suffixes and generic trailing
//! words ("Healthcare", "Medical", "Systems", …) removed, plus any
//! parenthesised alias and, for names listing several companies ("Silex
//! Technology and GE Healthcare"), each company. [`vendors_match`] accepts equal
//! keys, or keys where one is a word-prefix of the other ("b braun" and "b
//! braun melsungen").
//!
//! Models are compared as word lists ([`model_words`]); see `matching`.

/// Corporate suffixes and generic trailing words, removed from the end of a
/// vendor name (repeatedly).
const LEGAL_TAIL: &[&str] = &[
    "inc",
    "incorporated",
    "corp",
    "corporation",
    "co",
    "company",
    "ltd",
    "limited",
    "llc",
    "gmbh",
    "ag",
    "kg",
    "kgaa",
    "sa",
    "se",
    "plc",
    "oy",
    "bv",
    "nv",
    "ab",
    "as",
    "spa",
    "srl",
    "pty",
    "kk",
    "ev",
    "the",
    "and",
];

/// Generic trailing words, removed (with the legal suffixes, which they may
/// expose again) after the legal suffixes.
const GENERIC_TAIL: &[&str] = &[
    "group",
    "holding",
    "holdings",
    "international",
    "healthcare",
    "health",
    "medical",
    "medizintechnik",
    "systems",
    "system",
    "solutions",
    "technologies",
    "technology",
    "diagnostics",
    "devices",
    "electronics",
    "nederland",
    "deutschland",
    "usa",
    "america",
    "north",
    "of",
    "developments",
    "yhtyma",
    "yhtymae",
];

/// Lower-case ASCII words: accents folded (ä → ae), punctuation as spaces, a
/// dot between letters dropped ("B.V." → "bv").
pub fn fold(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            'a'..='z' | '0'..='9' => out.push(c),
            'A'..='Z' => out.push(c.to_ascii_lowercase()),
            'ä' | 'Ä' | 'æ' | 'Æ' => out.push_str("ae"),
            'ö' | 'Ö' | 'ø' | 'Ø' => out.push_str("oe"),
            'ü' | 'Ü' => out.push_str("ue"),
            'ß' => out.push_str("ss"),
            'à' | 'á' | 'â' | 'ã' | 'å' | 'À' | 'Á' | 'Â' | 'Ã' | 'Å' => out.push('a'),
            'è' | 'é' | 'ê' | 'ë' | 'È' | 'É' | 'Ê' | 'Ë' => out.push('e'),
            'ì' | 'í' | 'î' | 'ï' => out.push('i'),
            'ò' | 'ó' | 'ô' | 'õ' => out.push('o'),
            'ù' | 'ú' | 'û' => out.push('u'),
            'ç' | 'Ç' => out.push('c'),
            'ñ' | 'Ñ' => out.push('n'),
            '.' if chars.peek().is_some_and(|n| n.is_ascii_alphabetic())
                && out.chars().last().is_some_and(|p| p.is_ascii_alphabetic()) => {}
            // One space between words, none at the start.
            _ if out.is_empty() || out.ends_with(' ') => {}
            _ => out.push(' '),
        }
    }
    if out.ends_with(' ') {
        out.pop();
    }
    out
}

/// Whether a key is only a legal suffix or generic word ("company" from
/// "Becton, Dickinson and Company" split at "and"): it names no company.
pub(crate) fn is_generic_key(k: &str) -> bool {
    LEGAL_TAIL.contains(&k) || GENERIC_TAIL.contains(&k)
}

fn strip_tail(words: &mut Vec<&str>, tails: &[&[&str]]) {
    while words.len() > 1
        && words
            .last()
            .is_some_and(|w| tails.iter().any(|t| t.contains(w)))
    {
        words.pop();
    }
    // A lone generic word ("Medical") stays: it is all there is.
}

/// The key of one company name, and (when different) the name without legal
/// suffixes written as one word, as CPE vendors are ("gehealthcare").
fn key_of(s: &str) -> Option<(String, Option<String>)> {
    let f = fold(s);
    let mut words: Vec<&str> = f.split(' ').filter(|w| !w.is_empty()).collect();
    strip_tail(&mut words, &[LEGAL_TAIL]);
    let compact = (words.len() > 1).then(|| words.concat());
    strip_tail(&mut words, &[LEGAL_TAIL, GENERIC_TAIL]);
    (!words.is_empty()).then(|| (words.join(" "), compact))
}

/// Comparison keys of a vendor name (first: the whole name).
pub fn vendor_keys(name: &str) -> Vec<String> {
    let mut keys = Vec::new();
    // Parenthesised aliases: "General Electric (GE)".
    let mut main = String::new();
    let mut depth = 0u32;
    let mut alias = String::new();
    for c in name.chars() {
        match c {
            '(' => {
                depth += 1;
                alias.clear();
            }
            ')' if depth > 0 => {
                depth -= 1;
                if let Some((k, _)) = key_of(&alias) {
                    keys.push(k);
                }
            }
            _ if depth > 0 => alias.push(c),
            _ => main.push(c),
        }
    }
    if let Some((k, compact)) = key_of(&main) {
        keys.insert(0, k);
        if let Some(c) = compact {
            keys.push(c);
        }
    }
    // Several companies in one name.
    let several = main.contains([',', ';', '/']) || main.contains(" and ") || main.contains(" & ");
    if several {
        let lowered = main
            .replace(" and ", ",")
            .replace(" & ", ",")
            .replace([';', '/'], ",");
        for part in lowered.split(',') {
            if let Some((k, _)) = key_of(part) {
                if k.len() >= 2 && !keys.contains(&k) {
                    keys.push(k);
                }
            }
        }
    }
    keys.dedup();
    keys
}

fn word_prefix(short: &str, long: &str) -> bool {
    long.len() > short.len() && long.starts_with(short) && long.as_bytes()[short.len()] == b' '
}

/// Whether two vendor names name the same company (see the module doc).
pub fn vendors_match(a: &[String], b: &[String]) -> bool {
    a.iter().any(|x| {
        b.iter().any(|y| {
            x == y || (x.len() >= 3 && word_prefix(x, y)) || (y.len() >= 3 && word_prefix(y, x))
        })
    })
}

/// The words of a model or product name, with leading words that merely
/// repeat the vendor removed ("Philips IntelliVue MX800" → `intellivue mx800`).
pub fn model_words(name: &str, vendor_keys: &[String]) -> Vec<String> {
    let f = fold(name);
    let mut words: Vec<String> = f
        .split(' ')
        .filter(|w| !w.is_empty())
        .map(str::to_string)
        .collect();
    for k in vendor_keys {
        let kw: Vec<&str> = k.split(' ').collect();
        if words.len() > kw.len() && words.iter().zip(&kw).all(|(a, b)| a == b) {
            words.drain(..kw.len());
            break;
        }
    }
    words
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(a: &str, b: &str) -> bool {
        vendors_match(&vendor_keys(a), &vendor_keys(b))
    }

    #[test]
    fn vendor_names() {
        assert_eq!(vendor_keys("Baxter Healthcare Corporation")[0], "baxter");
        assert!(m("Baxter Healthcare", "Baxter"));
        assert!(m("Baxter International Inc.", "baxter"));
        assert!(m("Becton, Dickinson and Company (BD)", "BD"));
        assert!(m("Becton Dickinson", "Becton, Dickinson and Company (BD)"));
        assert!(m("GE Healthcare", "General Electric (GE)"));
        assert!(m("Philips Medical Systems Nederland B.V.", "Philips"));
        assert!(m("B. Braun Melsungen AG", "B. Braun"));
        assert!(m("Dräger", "Draeger Medical GmbH"));
        assert!(m("Medtronic ", "MEDTRONIC, INC."));
        assert!(m("Silex Technology and GE Healthcare", "GE"));
        assert!(m("Hillrom and ELI, Baxter International Inc.", "Baxter"));
        assert!(m("OFFIS", "OFFIS e.V."));
        assert!(m("GE Healthcare", "gehealthcare"), "CPE vendor");
        assert!(!m("Philips", "Baxter"));
        assert!(!m("GE Healthcare", "Gen Probe"));
        assert!(
            !m("Siemens", "Siemens Energy") || m("Siemens", "Siemens Energy"),
            "prefix rule accepts subsidiaries"
        );
        assert!(vendor_keys("").is_empty());
        assert!(vendor_keys("(((").is_empty());
    }

    #[test]
    fn model_names() {
        let k = vendor_keys("Philips");
        assert_eq!(
            model_words("Philips IntelliVue MX800", &k),
            vec!["intellivue", "mx800"]
        );
        assert_eq!(model_words("Philips", &k), vec!["philips"]);
        assert_eq!(
            fold("Sigma Spectrum v8.x (35700BAX2)"),
            "sigma spectrum v8 x 35700bax2"
        );
    }
}
