//! Model and product names as comparable forms, and how well a device's
//! model fits an advisory's product name ([`fit`]).
//!
//! A product name is read into alternative forms ([`ProductName::read`]):
//! "Welch Allyn Connex Spot Monitor (CSM)" gives "connex spot monitor" and
//! "csm"; "A / B" gives both; "MX800/700/600" is one slot any of `mx800`,
//! `mx700`, `mx600`; "MX400-MX850" is a range slot matching `mx450`;
//! "LOGIQ, not including LOGIQ 100 Pro" excludes devices named LOGIQ 100 Pro.
//! Company names of the vendor's family and generic words ("pump", "system",
//! "software", "unit") are dropped; model aliases from the
//! knowledge tables rewrite word runs. Words are compared in any order.
//!
//! Many product names are compared with one device: [`NameIndex`] finds the
//! few forms that share a word with the device (the only ones that can fit),
//! and [`fit_forms`] compares only those.

use crate::knowledge::{apply_aliases, Knowledge, ModelAlias};
use crate::normalize::fold;
use std::collections::HashMap;

/// Words that say nothing about which product it is.
const GENERIC: &[&str] = &[
    "pump",
    "pumps",
    "infusion",
    "system",
    "systems",
    "unit",
    "units",
    "device",
    "devices",
    "software",
    "series",
    "family",
    "model",
    "models",
    "version",
    "versions",
    "product",
    "products",
    "line",
    "the",
    "of",
    "and",
    "for",
    "with",
    "a",
    "an",
    "only",
    "including",
    "all",
    "patient",
    "monitoring",
    "medical",
    "type",
    "certain",
    "new",
    "sw",
    "fw",
    "firmware",
    "v",
    "rev",
    "no",
    "number",
    "ref",
];

/// Words naming a kind of device, not a product: a product named by a
/// model number and such words ("T1 Ventilator") is named by its number.
const KIND_WORDS: &[&str] = &[
    "ventilator",
    "ventilators",
    "monitor",
    "monitors",
    "syringe",
    "defibrillator",
    "analyzer",
    "analyser",
    "workstation",
    "server",
    "gateway",
    "scanner",
    "transmitter",
    "controller",
    "console",
    "recorder",
    "oximeter",
    "thermometer",
    "module",
    "station",
];

/// Most alternative forms kept per product.
const MAX_FORMS: usize = 16;
// A product's forms are a bit set in a `FormMask`.
const _: () = assert!(MAX_FORMS <= FormMask::BITS as usize);

/// Forms of one product, one bit per form (bit `i`: the `i`-th form).
pub type FormMask = u16;
/// Most words in one form.
const MAX_WORDS: usize = 24;

/// One slot of a product form.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Slot {
    Word(String),
    AnyOf(Vec<String>),
    /// Prefix, low and high number: `mx400-mx850`.
    Range(String, u64, u64),
}

impl Slot {
    fn has_digit(&self) -> bool {
        match self {
            Slot::Word(w) => w.bytes().any(|b| b.is_ascii_digit()),
            Slot::AnyOf(v) => v.iter().any(|w| w.bytes().any(|b| b.is_ascii_digit())),
            Slot::Range(..) => true,
        }
    }

    fn substantial(&self) -> bool {
        match self {
            Slot::Word(w) => w.len() >= 3 || w.bytes().any(|b| b.is_ascii_digit()),
            _ => true,
        }
    }

    fn matches(&self, d: &DeviceName) -> bool {
        match self {
            // A series letter code covers its members: "CM" → "CM12", "EC" → "EC40".
            Slot::Word(w) => {
                d.has(w)
                    || (w.len() >= 2
                        && w.bytes().all(|b| b.is_ascii_alphabetic())
                        && d.words.iter().any(|x| {
                            x.strip_prefix(w.as_str()).is_some_and(|r| {
                                r.bytes().next().is_some_and(|b| b.is_ascii_digit())
                                    && r.bytes().all(|b| b.is_ascii_alphanumeric())
                            })
                        }))
            }
            Slot::AnyOf(v) => v.iter().any(|w| d.has(w)),
            Slot::Range(p, lo, hi) => d.words.iter().any(|w| in_range(w, p, *lo, *hi)),
        }
    }

    fn covers(&self, w: &str) -> bool {
        match self {
            Slot::Word(x) => x == w,
            Slot::AnyOf(v) => v.iter().any(|x| x == w),
            Slot::Range(p, lo, hi) => in_range(w, p, *lo, *hi),
        }
    }

    fn bits(&self) -> u64 {
        match self {
            Slot::Word(w) => bit(w),
            Slot::AnyOf(v) => v.iter().fold(0, |a, w| a | bit(w)),
            Slot::Range(..) => 0,
        }
    }
}

fn in_range(w: &str, prefix: &str, lo: u64, hi: u64) -> bool {
    w.strip_prefix(prefix)
        .filter(|n| !n.is_empty() && n.len() <= 9 && n.bytes().all(|b| b.is_ascii_digit()))
        .and_then(|n| n.parse::<u64>().ok())
        .is_some_and(|n| (lo..=hi).contains(&n))
}

fn bit(w: &str) -> u64 {
    let h = w.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    });
    1 << (h >> 58)
}

/// A distinctive model code: at least three digits and two letters
/// ("EX1150", "35700BAX2", "MX450").
fn distinctive(w: &str) -> bool {
    let digits = w.bytes().filter(u8::is_ascii_digit).count();
    let letters = w.bytes().filter(u8::is_ascii_alphabetic).count();
    digits >= 3 && letters >= 2
}

/// What a slot of a form is, read once ([`Form::flags`]).
type SlotFlags = u8;
/// [`Slot::has_digit`].
const DIGIT: SlotFlags = 1;
/// [`Slot::substantial`].
const SUBSTANTIAL: SlotFlags = 2;
/// A word naming a kind of device ([`KIND_WORDS`]).
const KIND: SlotFlags = 4;
/// A [`distinctive`] word.
const DISTINCTIVE: SlotFlags = 8;

impl Slot {
    fn flags(&self) -> SlotFlags {
        let mut f = 0;
        if self.has_digit() {
            f |= DIGIT;
        }
        if self.substantial() {
            f |= SUBSTANTIAL;
        }
        if let Slot::Word(w) = self {
            if KIND_WORDS.contains(&w.as_str()) {
                f |= KIND;
            }
            if distinctive(w) {
                f |= DISTINCTIVE;
            }
        }
        f
    }
}

/// One way of writing a product's name.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Form {
    slots: Vec<Slot>,
    /// Each slot's [`Slot::flags`], in slot order.
    flags: Vec<SlotFlags>,
    /// Bits of the slots' words (ranges excluded), for a quick overlap test.
    bits: u64,
    has_range: bool,
}

/// An advisory product's name, read for matching.
#[derive(Debug, Clone, Default)]
pub struct ProductName {
    forms: Vec<Form>,
    /// Names the product excludes ("not including LOGIQ 100 Pro"), as words.
    exclusions: Vec<Vec<String>>,
}

/// A device's model, read for matching.
#[derive(Debug, Clone, Default)]
pub struct DeviceName {
    /// Words, generic and company words dropped, aliases applied.
    words: Vec<String>,
    /// `words` plus each adjacent pair joined ("apex pro" → "apexpro"), in
    /// order: `expanded[words.len() + i]` is `words[i]` joined with `words[i + 1]`.
    expanded: Vec<String>,
    /// Per word: whether it has a digit, whether it is [`distinctive`].
    numbers: Vec<(bool, bool)>,
    bits: u64,
}

impl DeviceName {
    /// Reads a device model (`families`: the device vendor's families).
    pub fn read(model: &str, k: &Knowledge, families: &[u32]) -> DeviceName {
        let aliases = k.aliases_for(families);
        let mut words = tokens(&model.replace('/', " "));
        clean(&mut words, k, families, &aliases);
        let mut expanded = words.clone();
        for p in words.windows(2) {
            expanded.push(format!("{}{}", p[0], p[1]));
        }
        // "MMT-1710" is written "MMT1710" too. The quick overlap test must
        // pass whenever a slot can match: a series letter code ("CM" of
        // "CM12") is a way to match too.
        let codes = words.iter().filter_map(|w| letter_code(w));
        let bits = expanded
            .iter()
            .map(String::as_str)
            .chain(codes)
            .fold(0, |a, w| a | bit(w));
        let numbers = words
            .iter()
            .map(|w| (w.bytes().any(|b| b.is_ascii_digit()), distinctive(w)))
            .collect();
        DeviceName {
            words,
            expanded,
            numbers,
            bits,
        }
    }

    fn has(&self, w: &str) -> bool {
        self.expanded.iter().any(|x| x == w)
    }

    /// Whether nothing is left to compare.
    pub fn is_empty(&self) -> bool {
        self.words.is_empty()
    }

    /// The words compared.
    pub fn words(&self) -> &[String] {
        &self.words
    }
}

/// How a device's model fits a product name, best first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Fit {
    /// The device names a product of this family, vaguer than the product
    /// ("Sigma Spectrum" for "Sigma Spectrum LVP").
    Family,
    /// Model numbers agree and a name word is shared ("Medfusion 4000
    /// Syringe Pump" for "Medfusion 4000 Wireless Syringe Infusion Pump").
    ModelNumber,
    /// Every word of the product is in the device's model, which says more
    /// ("LOGIQ E10" for "LOGIQ", "Sigma Spectrum" for "Baxter Spectrum").
    Contained,
    /// The same words, in any order.
    Exact,
}

impl Fit {
    /// How the fit is described in reasons.
    pub fn describe(self) -> &'static str {
        match self {
            Fit::Exact => "names",
            Fit::Contained => "contains every word of",
            Fit::ModelNumber => "shares the model number of",
            Fit::Family => "is a vaguer name of",
        }
    }
}

fn tokens(s: &str) -> Vec<String> {
    fold(s)
        .split(' ')
        .filter(|w| !w.is_empty())
        .take(MAX_WORDS * 2)
        .map(String::from)
        .collect()
}

/// Drops the vendor family's company names (as whole word runs) and generic
/// words, then applies the model aliases.
fn clean(words: &mut Vec<String>, k: &Knowledge, families: &[u32], aliases: &[&ModelAlias]) {
    for f in families {
        for name in k.company_words(*f) {
            let mut i = 0;
            while i + name.len() <= words.len() {
                if words[i..i + name.len()] == name[..] && words.len() > name.len() {
                    words.drain(i..i + name.len());
                } else {
                    i += 1;
                }
            }
        }
    }
    apply_aliases(words, aliases);
    words.retain(|w| !GENERIC.contains(&w.as_str()));
    words.truncate(MAX_WORDS);
}

/// `MX400-MX850`, `MX400-550`, `MP2-MP90` as a range slot.
fn range_slot(raw: &str) -> Option<Slot> {
    let (a, b) = raw.split_once('-')?;
    let split = |s: &str| {
        let s = s.to_ascii_lowercase();
        let letters = s.bytes().take_while(u8::is_ascii_alphabetic).count();
        let (p, n) = s.split_at(letters);
        (!n.is_empty() && n.len() <= 9 && n.bytes().all(|c| c.is_ascii_digit()))
            .then(|| (p.to_string(), n.parse::<u64>().ok()))
            .and_then(|(p, n)| Some((p, n?)))
    };
    let (pa, lo) = split(a)?;
    let (pb, hi) = split(b)?;
    (!pa.is_empty() && (pb.is_empty() || pb == pa) && lo < hi).then_some(Slot::Range(pa, lo, hi))
}

/// `MX800/700/600`, `522K/722K`, `Assurity/Allure` as one any-of slot.
fn any_of_slot(raw: &str) -> Option<Slot> {
    let parts: Vec<&str> = raw.split('/').filter(|p| !p.is_empty()).collect();
    if parts.len() < 2 {
        return None;
    }
    let first = fold(parts[0]).replace(' ', "");
    let prefix: String = first
        .chars()
        .take_while(char::is_ascii_alphabetic)
        .collect();
    let v: Vec<String> = parts
        .iter()
        .map(|p| {
            let f = fold(p).replace(' ', "");
            if f.bytes().next().is_some_and(|b| b.is_ascii_digit()) && !prefix.is_empty() {
                format!("{prefix}{f}")
            } else {
                f
            }
        })
        .filter(|w| !w.is_empty() && !GENERIC.contains(&w.as_str()))
        .collect();
    (v.len() >= 2).then_some(Slot::AnyOf(v))
}

impl ProductName {
    /// Reads a product name (and the model designations its version text
    /// gave) for the product vendor's `families`.
    pub fn read(
        name: &str,
        designations: &[String],
        k: &Knowledge,
        families: &[u32],
    ) -> ProductName {
        let aliases = k.aliases_for(families);
        let mut out = ProductName::default();
        let lower = name.to_ascii_lowercase();
        let mut base = name;
        for kw in [
            ", not including ",
            " not including ",
            ", excluding ",
            " excluding ",
            ", except ",
            " except ",
        ] {
            if let Some(i) = lower.find(kw) {
                base = &name[..i];
                for ex in name[i + kw.len()..]
                    .split([',', ';'])
                    .flat_map(|e| e.split(" and "))
                {
                    // Revision ranges ("Venue 40 R1-3") are not part of the name.
                    let named: Vec<&str> = ex
                        .split_whitespace()
                        .filter(|x| {
                            let b = x.as_bytes();
                            !(b.len() >= 2 && matches!(b[0], b'R' | b'r') && b[1].is_ascii_digit())
                        })
                        .collect();
                    let mut w = tokens(&named.join(" "));
                    clean(&mut w, k, families, &aliases);
                    if !w.is_empty() {
                        out.exclusions.push(w);
                    }
                }
                break;
            }
        }
        let (main, asides) = crate::version::strip_parens_pub(base);
        let mut alternatives: Vec<String> = main.split(" / ").map(str::to_string).collect();
        for a in asides {
            let a = a.trim();
            let one_token = !a.contains(' ') && !a.is_empty();
            let codeish = a.bytes().any(|b| b.is_ascii_digit())
                || a.bytes().filter(u8::is_ascii_uppercase).count() >= 2;
            if one_token && codeish {
                alternatives.push(a.to_string());
            }
        }
        // A designation is a name of its own ("MMT-1715"), except a bare
        // number ("100" of "GE Aespire: 7100 | 7900 | 100"), which only
        // names the product together with its name.
        let first = alternatives.first().cloned().unwrap_or_default();
        for d in designations {
            for part in d.split(" / ") {
                if part.bytes().any(|b| b.is_ascii_alphabetic()) {
                    alternatives.push(part.to_string());
                } else {
                    alternatives.push(format!("{first} {part}"));
                }
            }
        }
        for alt in alternatives.iter().take(MAX_FORMS) {
            if let Some(f) = Self::form(alt, k, families, &aliases) {
                if !out.forms.contains(&f) {
                    out.forms.push(f);
                }
            }
        }
        out
    }

    fn form(alt: &str, k: &Knowledge, families: &[u32], aliases: &[&ModelAlias]) -> Option<Form> {
        // Plain words go through folding, company-name removal and aliases;
        // ranges and any-of words become slots at their place.
        let mut slots: Vec<Slot> = Vec::new();
        let mut plain: Vec<String> = Vec::new();
        let flush = |plain: &mut Vec<String>, slots: &mut Vec<Slot>| {
            let mut w = std::mem::take(plain);
            clean(&mut w, k, families, aliases);
            slots.extend(w.into_iter().map(Slot::Word));
        };
        for raw in alt.split_whitespace().take(MAX_WORDS) {
            let raw = raw.trim_matches(|c: char| matches!(c, ',' | ';' | ':' | '(' | ')'));
            if let Some(s) =
                range_slot(raw).or_else(|| raw.contains('/').then(|| any_of_slot(raw)).flatten())
            {
                flush(&mut plain, &mut slots);
                slots.push(s);
            } else {
                plain.extend(tokens(&raw.replace('/', " ")));
            }
        }
        flush(&mut plain, &mut slots);
        if slots.is_empty() || !slots.iter().any(Slot::substantial) {
            return None;
        }
        // Two neighbouring words joined ("Orbit Care" as "orbitcare") are a
        // way to match too (`fit_form`'s `joined`).
        let joined = slots.windows(2).filter_map(|p| match (&p[0], &p[1]) {
            (Slot::Word(a), Slot::Word(b)) => Some(bit(&format!("{a}{b}"))),
            _ => None,
        });
        let bits = slots
            .iter()
            .map(Slot::bits)
            .chain(joined)
            .fold(0, |a, b| a | b);
        let has_range = slots.iter().any(|s| matches!(s, Slot::Range(..)));
        Some(Form {
            flags: slots.iter().map(Slot::flags).collect(),
            slots,
            bits,
            has_range,
        })
    }

    /// Whether nothing could be read from the name.
    pub fn is_empty(&self) -> bool {
        self.forms.is_empty()
    }
}

/// How well `device` fits `product` (the best of the product's forms), or
/// `None`: every form needs a shared word, and a device naming an excluded
/// product never fits.
pub fn fit(device: &DeviceName, product: &ProductName) -> Option<Fit> {
    fit_forms(device, product, FormMask::MAX)
}

/// [`fit`] over the forms in `mask` only: the same answer as [`fit`] when
/// `mask` holds every form that [`NameIndex::candidates`] gives for the
/// product (the others cannot fit).
pub fn fit_forms(device: &DeviceName, product: &ProductName, mask: FormMask) -> Option<Fit> {
    if device.words.is_empty() || mask == 0 {
        return None;
    }
    if product
        .exclusions
        .iter()
        .any(|ex| ex.iter().all(|w| device.has(w)))
    {
        return None;
    }
    product
        .forms
        .iter()
        .enumerate()
        .filter(|(i, _)| mask >> i & 1 == 1)
        .filter_map(|(_, f)| fit_form(device, f))
        .max()
}

/// Product names indexed by the words that can make their forms fit a
/// device. A form fits only if one of its slots matches the device or
/// every device word is the form's ([`fit_form`]); either way one of the
/// device's words or joined word pairs, or the letter code of one of its
/// model numbers ("cm" of "cm12"), is a word of the form, a member of an
/// any-of slot, or two neighbouring words of the form joined. Forms with a
/// range slot are always tried.
#[derive(Debug, Clone, Default)]
pub struct NameIndex {
    /// Word → (product, form) whose form it can make fit.
    by_word: HashMap<String, Vec<(usize, u8)>>,
    /// (product, form) of forms with a range slot.
    ranges: Vec<(usize, u8)>,
    /// Number of products indexed.
    products: usize,
}

/// The forms of indexed products that can fit one device
/// ([`NameIndex::candidates`]).
#[derive(Debug, Clone, Default)]
pub struct Candidates {
    /// Per product (in index order), its forms that can fit.
    masks: Vec<FormMask>,
}

impl Candidates {
    /// The forms of product `p` that can fit (none for an unknown product).
    pub fn mask(&self, p: usize) -> FormMask {
        self.masks.get(p).copied().unwrap_or(0)
    }
}

/// The letters a model number starts with ("cm" of "cm12"), when at least
/// two letters are followed by more.
fn letter_code(w: &str) -> Option<&str> {
    let n = w.bytes().take_while(u8::is_ascii_alphabetic).count();
    (n >= 2 && n < w.len()).then(|| &w[..n])
}

impl NameIndex {
    /// Indexes product names; product `i` is the `i`-th name.
    pub fn new<'a>(names: impl IntoIterator<Item = &'a ProductName>) -> NameIndex {
        let mut ix = NameIndex::default();
        for (p, name) in names.into_iter().enumerate() {
            ix.products = p + 1;
            for (f, form) in name.forms.iter().enumerate().take(MAX_FORMS) {
                let at = (p, f as u8);
                if form.has_range {
                    ix.ranges.push(at);
                }
                let mut add = |w: &str| {
                    let list = ix.by_word.entry(w.to_string()).or_default();
                    if list.last() != Some(&at) {
                        list.push(at);
                    }
                };
                for s in &form.slots {
                    match s {
                        Slot::Word(w) => add(w),
                        Slot::AnyOf(v) => v.iter().for_each(|w| add(w)),
                        Slot::Range(..) => {}
                    }
                }
                for pair in form.slots.windows(2) {
                    if let (Slot::Word(a), Slot::Word(b)) = (&pair[0], &pair[1]) {
                        add(&format!("{a}{b}"));
                    }
                }
            }
        }
        ix
    }

    /// The forms that can fit `device`: [`fit_forms`] with these masks
    /// gives what [`fit`] gives.
    pub fn candidates(&self, device: &DeviceName) -> Candidates {
        let mut c = Candidates {
            masks: vec![0; self.products],
        };
        if device.words.is_empty() {
            return c;
        }
        let mut add = |list: &[(usize, u8)]| {
            for &(p, f) in list {
                if let Some(m) = c.masks.get_mut(p) {
                    *m |= 1 << f;
                }
            }
        };
        let codes = device.words.iter().filter_map(|w| letter_code(w));
        for w in device.expanded.iter().map(String::as_str).chain(codes) {
            if let Some(list) = self.by_word.get(w) {
                add(list);
            }
        }
        add(&self.ranges);
        c
    }
}

fn fit_form(d: &DeviceName, f: &Form) -> Option<Fit> {
    if d.bits & f.bits == 0 && !f.has_range {
        return None;
    }
    // One pass over the slots: does every slot match the device, does a
    // numbered slot, does a name word?
    let (mut p_in_d, mut number_hit, mut word_hit) = (true, false, false);
    for (s, &fl) in f.slots.iter().zip(&f.flags) {
        if !s.matches(d) {
            p_in_d = false;
        } else if fl & DIGIT != 0 {
            number_hit = true;
        } else if fl & SUBSTANTIAL != 0 {
            word_hit = true;
        }
    }
    let covered = |w: &String| f.slots.iter().any(|s| s.covers(w));
    // A device word is covered by the product, or is two product words joined.
    let joined = |w: &String| {
        f.slots.windows(2).any(|p| match (&p[0], &p[1]) {
            (Slot::Word(a), Slot::Word(b)) => {
                w.len() == a.len() + b.len() && w.starts_with(a.as_str()) && w.ends_with(b.as_str())
            }
            _ => false,
        })
    };
    let n = d.words.len();
    // Every device word is the product's, alone or joined with a neighbour
    // (`expanded[n + i]` is word i joined with word i + 1). Computed only
    // where a verdict needs it: most candidates are decided without it.
    let d_in_p = || {
        (0..n).all(|i| {
            let w = &d.words[i];
            covered(w)
                || joined(w)
                || (i + 1 < n && covered(&d.expanded[n + i]))
                || (i > 0 && covered(&d.expanded[n + i - 1]))
        })
    };
    if p_in_d {
        return Some(if d_in_p() { Fit::Exact } else { Fit::Contained });
    }
    // The device's words with a digit, and its distinctive ones.
    let numbered = || d.words.iter().zip(&d.numbers).filter(|(_, n)| n.0);
    let distinct = || d.words.iter().zip(&d.numbers).filter(|(_, n)| n.1);
    // Model numbers the device states must all be the product's.
    let numbers_agree = || numbered().all(|(w, _)| covered(w) || joined(w));
    // A distinctive model code ("EX1150", "35700BAX2", "MX450" in the
    // range "MX400-MX850") needs no shared name word.
    let strong_hit = || {
        distinct().any(|(w, _)| f.slots.iter().any(|s| s.covers(w)))
            || f.slots.iter().zip(&f.flags).any(|(s, &fl)| match s {
                Slot::Word(w) => fl & DISTINCTIVE != 0 && d.has(w),
                _ => false,
            })
    };
    // The product's other words only say what kind of device it is ("T1
    // Ventilator", "Spot 4400 Monitor"): its model number is its name.
    let only_kind_words = || f.flags.iter().all(|&fl| fl & (DIGIT | KIND) != 0);
    // A model written as its number alone ("8015" under a CareFusion
    // vendor, the name in another column): the product's number of at
    // least four digits. Matching requires the vendor for this
    // (`matching`: a bare number without a vendor matches nothing).
    let bare_number = n == 1
        && d.words[0].len() >= 4
        && d.words[0].bytes().all(|b| b.is_ascii_digit())
        && number_hit;
    if (number_hit && (word_hit || only_kind_words()) || strong_hit() || bare_number)
        && numbers_agree()
    {
        return Some(Fit::ModelNumber);
    }
    if n >= 2 && d.words.iter().any(|w| w.len() >= 3) && d_in_p() {
        return Some(Fit::Family);
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::normalize::vendor_keys;

    fn check(
        vendor: &str,
        product: &str,
        designations: &[&str],
        dvendor: &str,
        model: &str,
    ) -> Option<Fit> {
        let k = Knowledge::embedded();
        let pf = k.families(&vendor_keys(vendor));
        let df = k.families(&vendor_keys(dvendor));
        let d: Vec<String> = designations.iter().map(|s| s.to_string()).collect();
        fit(
            &DeviceName::read(model, &k, &df),
            &ProductName::read(product, &d, &k, &pf),
        )
    }

    #[test]
    fn product_names_as_biomed_teams_write_them() {
        use Fit::*;
        assert_eq!(
            check(
                "Hillrom",
                "Welch Allyn Connex Spot Monitor (CSM)",
                &[],
                "Welch Allyn",
                "Connex Spot Monitor"
            ),
            Some(Exact)
        );
        assert_eq!(
            check(
                "Hillrom",
                "Welch Allyn Connex Spot Monitor (CSM)",
                &[],
                "Welch Allyn",
                "CSM"
            ),
            Some(Exact)
        );
        assert_eq!(
            check(
                "Hillrom",
                "Welch Allyn Connex Vital Signs Monitor (CVSM)",
                &[],
                "Welch Allyn",
                "Connex Spot Monitor"
            ),
            None
        );
        assert_eq!(
            check("BD", "Alaris 8015 PC unit", &[], "BD", "Alaris PC 8015"),
            Some(Exact)
        );
        assert_eq!(
            check(
                "BD",
                "BD Alaris Point-of-Care Unit (PCU) Model 8015",
                &[],
                "CareFusion",
                "Alaris PC 8015"
            ),
            Some(Exact)
        );
        assert_eq!(
            check("BD", "Alaris 8000 PC unit", &[], "BD", "Alaris PC 8015"),
            None,
            "other model number"
        );
        assert_eq!(
            check("BD", "Alaris PC Unit", &[], "BD", "Alaris PC 8015"),
            Some(Contained)
        );
        assert_eq!(
            check(
                "Baxter",
                "Baxter Spectrum",
                &["35700BAX2"],
                "Baxter",
                "Sigma Spectrum"
            ),
            Some(Contained)
        );
        assert_eq!(
            check(
                "Baxter",
                "Baxter Spectrum IQ",
                &[],
                "Baxter",
                "Sigma Spectrum"
            ),
            None
        );
        assert_eq!(
            check(
                "Baxter",
                "Baxter Spectrum",
                &["35700BAX2"],
                "Baxter",
                "35700BAX2"
            ),
            Some(Exact)
        );
        assert_eq!(
            check(
                "Smiths Medical",
                "Medfusion 4000 Wireless Syringe Infusion Pump",
                &[],
                "ICU Medical",
                "Medfusion 4000 Syringe Pump"
            ),
            Some(ModelNumber)
        );
        assert_eq!(
            check(
                "Smiths Medical",
                "Medfusion 4000 Wireless Syringe Infusion Pump",
                &[],
                "ICU Medical",
                "Medfusion 3500"
            ),
            None
        );
        assert_eq!(
            check(
                "Philips",
                "IntelliVue patient monitor MX400-MX850",
                &[],
                "Philips",
                "IntelliVue MX450"
            ),
            Some(ModelNumber)
        );
        assert_eq!(
            check(
                "Philips",
                "IntelliVue patient monitor MX400-MX850",
                &[],
                "Philips",
                "IntelliVue MX40"
            ),
            None
        );
        assert_eq!(
            check(
                "Philips",
                "IntelliVue MP monitors MX800/700/600 ((865240/41/42) WLAN",
                &[],
                "Philips",
                "IntelliVue MX700"
            ),
            Some(ModelNumber)
        );
        assert_eq!(
            check(
                "GE Healthcare",
                "LOGIQ, not including LOGIQ 100 Pro",
                &[],
                "GE",
                "LOGIQ E10"
            ),
            Some(Contained)
        );
        assert_eq!(
            check(
                "GE Healthcare",
                "LOGIQ, not including LOGIQ 100 Pro",
                &[],
                "GE",
                "LOGIQ 100 Pro"
            ),
            None
        );
        assert_eq!(
            check(
                "GE Healthcare",
                "Venue, not including Venue 40 R1-3 and Venue 50 R4-5",
                &[],
                "GE",
                "Venue 40"
            ),
            None
        );
        assert_eq!(
            check(
                "Medtronic",
                "MiniMed 630G",
                &["MMT-1715"],
                "Medtronic",
                "MMT-1715"
            ),
            Some(Exact)
        );
        assert_eq!(
            check(
                "Philips",
                "Patient Information Center iX (PICiX)",
                &[],
                "Philips",
                "PIC iX"
            ),
            Some(Exact)
        );
        assert_eq!(
            check(
                "Dräger",
                "Infinity Delta",
                &[],
                "Draeger",
                "Infinity Delta XL"
            ),
            Some(Contained)
        );
        assert_eq!(
            check(
                "General Electric (GE)",
                "ApexPro Telemetry Server",
                &[],
                "GE",
                "Apex Pro Telemetry Server"
            ),
            Some(Exact)
        );
    }

    /// Device models that exercise every way a form can fit: the same
    /// words, words joined or split, series letter codes, any-of lists,
    /// ranges, designations and exclusions.
    const MODELS: &[&str] = &[
        "Connex Spot Monitor",
        "CSM",
        "Alaris PC 8015",
        "8015",
        "Alaris",
        "Sigma Spectrum",
        "Sigma Spectrum 35700BAX",
        "35700BAX2",
        "Spectrum",
        "Medfusion 4000 Syringe Pump",
        "Medfusion 3500",
        "IntelliVue MX450",
        "IntelliVue MX40",
        "IntelliVue MX700",
        "MX800",
        "LOGIQ E10",
        "LOGIQ 100 Pro",
        "Venue 40",
        "MMT-1715",
        "MMT1715",
        "PIC iX",
        "PICiX",
        "Infinity Delta XL",
        "Apex Pro Telemetry Server",
        "ApexPro",
        "Efficia CM12",
        "CM12",
        "T1 Ventilator",
        "Spot 4400",
        "Welch Allyn Connex",
        "unrelated words only",
        // Names whose bits pass the quick overlap test with "Orbit" and
        // "Orbit Care Zen Lite" though they share no word with them
        // (`bit("orbitcare") == bit("orbit")`, `bit("orbit820") ==
        // bit("orbit")`): found only through joined words and letter codes.
        "Orbitcare Zenlite",
        "Orbit820",
    ];

    /// Product names as advisories write them, with the same kinds of parts.
    const PRODUCTS: &[(&str, &str, &[&str])] = &[
        ("Hillrom", "Welch Allyn Connex Spot Monitor (CSM)", &[]),
        (
            "Hillrom",
            "Welch Allyn Connex Vital Signs Monitor (CVSM)",
            &[],
        ),
        ("BD", "Alaris 8015 PC unit", &[]),
        ("BD", "BD Alaris Point-of-Care Unit (PCU) Model 8015", &[]),
        ("BD", "Alaris 8000 PC unit", &[]),
        ("BD", "Alaris PC Unit", &[]),
        ("Baxter", "Baxter Spectrum", &["35700BAX2"]),
        ("Baxter", "Baxter Spectrum IQ", &[]),
        (
            "Smiths Medical",
            "Medfusion 4000 Wireless Syringe Infusion Pump",
            &[],
        ),
        ("Philips", "IntelliVue patient monitor MX400-MX850", &[]),
        (
            "Philips",
            "IntelliVue MP monitors MX800/700/600 ((865240/41/42) WLAN",
            &[],
        ),
        ("Philips", "Patient Information Center iX (PICiX)", &[]),
        ("Philips", "Efficia CM Series", &[]),
        ("GE Healthcare", "LOGIQ, not including LOGIQ 100 Pro", &[]),
        (
            "GE Healthcare",
            "Venue, not including Venue 40 R1-3 and Venue 50 R4-5",
            &[],
        ),
        ("GE Healthcare", "Apex Pro", &[]),
        ("General Electric (GE)", "ApexPro Telemetry Server", &[]),
        ("Medtronic", "MiniMed 630G", &["MMT-1715"]),
        ("Dräger", "Infinity Delta", &[]),
        ("Hamilton Medical", "T1 Ventilator", &[]),
        ("Hillrom", "Spot 4400 Monitor", &[]),
        ("Acme", "Orbit Care Zen Lite", &[]),
        ("Acme", "Orbit", &[]),
    ];

    /// The index leaves out only forms that cannot fit: with its masks,
    /// every device fits every product exactly as without them.
    #[test]
    fn index_keeps_every_form_that_can_fit() {
        let k = Knowledge::embedded();
        let names: Vec<ProductName> = PRODUCTS
            .iter()
            .map(|(v, n, d)| {
                let d: Vec<String> = d.iter().map(|s| s.to_string()).collect();
                ProductName::read(n, &d, &k, &k.families(&vendor_keys(v)))
            })
            .collect();
        let ix = NameIndex::new(&names);
        let mut fits = 0;
        for (v, _, _) in PRODUCTS {
            let df = k.families(&vendor_keys(v));
            for m in MODELS {
                let d = DeviceName::read(m, &k, &df);
                let c = ix.candidates(&d);
                for (i, p) in names.iter().enumerate() {
                    let all = fit(&d, p);
                    assert_eq!(
                        fit_forms(&d, p, c.mask(i)),
                        all,
                        "{m:?} / {:?}",
                        PRODUCTS[i]
                    );
                    fits += usize::from(all.is_some());
                }
            }
        }
        assert!(fits > 100, "{fits}");
        let acme = k.families(&vendor_keys("Acme"));
        let orbit = |m: &str, p: usize| fit(&DeviceName::read(m, &k, &acme), &names[p]);
        let n = PRODUCTS.len();
        assert_eq!(orbit("Orbitcare Zenlite", n - 2), Some(Fit::Family));
        assert_eq!(orbit("Orbit820", n - 1), Some(Fit::Contained));
        assert_eq!(ix.candidates(&DeviceName::default()).mask(0), 0);
        assert_eq!(ix.candidates(&DeviceName::default()).mask(names.len()), 0);
    }
    #[test]
    fn joined_words_and_series_codes_fit_whatever_their_hashes() {
        // The quick overlap test of `fit_form` hashes words into 64 bits; a
        // fit through joined words or a series letter code must not depend
        // on whether those hashes happen to share a bit.
        let k = Knowledge::embedded();
        let acme = k.families(&vendor_keys("Acme"));
        let syllables = ["zor", "quel", "vant", "brix", "tolo", "mek", "sarn", "pidu"];
        let mut tried = 0;
        for a in syllables {
            for b in syllables {
                if a == b {
                    continue;
                }
                let (c, d) = ("lumo", "rax");
                let joined = ProductName::read(&format!("{a} {b} {c} {d}"), &[], &k, &acme);
                let device = DeviceName::read(&format!("{a}{b} {c}{d}"), &k, &acme);
                assert_eq!(fit(&device, &joined), Some(Fit::Family), "{a}{b}");
                let series = ProductName::read(&format!("{a}{b}"), &[], &k, &acme);
                let member = DeviceName::read(&format!("{a}{b}820"), &k, &acme);
                assert_eq!(fit(&member, &series), Some(Fit::Contained), "{a}{b}820");
                tried += 1;
            }
        }
        assert_eq!(tried, 56);
    }
}
