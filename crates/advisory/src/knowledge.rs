//! Vendor and model knowledge as data: vendor lineage and aliases
//! (`data/vendor_lineage.tsv`: Welch Allyn → Hillrom → Baxter, CareFusion →
//! BD, spellings), model aliases (`data/model_aliases.tsv`: "Point-of-Care
//! Unit" = "PC unit") and model categories (`data/model_categories.tsv`:
//! "syringe" → infusion pump). Each line carries its source. The tables are
//! embedded; a site adds its own lines in the same format
//! ([`Knowledge::with_site`]), read before the embedded ones.
//!
//! Parsing is strict and bounded: a malformed line is an error naming the
//! table and line.

use crate::normalize::{fold, vendor_keys};
use std::collections::HashMap;

const LINEAGE: &str = include_str!("../data/vendor_lineage.tsv");
const MODEL_ALIASES: &str = include_str!("../data/model_aliases.tsv");
const CATEGORIES: &str = include_str!("../data/model_categories.tsv");

/// Most lines read from one table.
const MAX_LINES: usize = 100_000;
/// Longest field.
const MAX_FIELD: usize = 512;

/// A malformed knowledge table.
#[derive(Debug, thiserror::Error)]
#[error("{table}:{line}: {problem}")]
pub struct Error {
    /// Table name (file name as given).
    pub table: String,
    /// 1-based line.
    pub line: usize,
    /// What is wrong.
    pub problem: String,
}

/// One lineage entry: `name` belongs to (or is another name of) `parent`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineageEntry {
    /// The name as written.
    pub name: String,
    /// The company it belongs to, or is another name of.
    pub parent: String,
    /// `acquired`, `merged`, `spin-off`, `alias`, `spelling`, `brand`, `parent`.
    pub kind: String,
    /// Where this comes from.
    pub source: String,
}

/// One model alias: `alias` words are rewritten to `canonical` words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModelAlias {
    /// Vendor family it applies to (any name of the family), or `*`.
    pub vendor: String,
    /// Folded words as written.
    pub alias: Vec<String>,
    /// Folded words used instead.
    pub canonical: Vec<String>,
    /// Where this comes from.
    pub source: String,
    /// The vendor's families, resolved once (empty for `*`).
    families: Vec<u32>,
}

/// One model-category rule: all `words` in the device's vendor and model.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CategoryRule {
    /// Folded words.
    pub words: Vec<String>,
    /// Category label (identify's `Category::label`).
    pub category: String,
    /// Where this comes from.
    pub source: String,
}

/// The knowledge tables, with vendor families resolved.
#[derive(Debug, Clone)]
pub struct Knowledge {
    lineage: Vec<LineageEntry>,
    aliases: Vec<ModelAlias>,
    categories: Vec<CategoryRule>,
    /// Vendor key → family id.
    family: HashMap<String, u32>,
    /// Family id → folded company names (not brands), longest first: the
    /// words removed from model names.
    company_words: HashMap<u32, Vec<Vec<String>>>,
}

fn rows<'a>(
    table: &'a str,
    text: &'a str,
    fields: usize,
) -> impl Iterator<Item = Result<(usize, Vec<&'a str>), Error>> + 'a {
    text.lines()
        .take(MAX_LINES)
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty() && !l.trim_start().starts_with('#'))
        .map(move |(i, l)| {
            let f: Vec<&str> = l.split('\t').map(str::trim).collect();
            let err = |problem: String| Error {
                table: table.to_string(),
                line: i + 1,
                problem,
            };
            if f.len() != fields {
                return Err(err(format!(
                    "{} tab-separated fields, expected {fields}",
                    f.len()
                )));
            }
            if let Some(x) = f.iter().find(|x| x.is_empty() || x.len() > MAX_FIELD) {
                return Err(err(format!(
                    "a field is empty or longer than {MAX_FIELD} bytes ({} bytes)",
                    x.len()
                )));
            }
            Ok((i + 1, f))
        })
}

fn words(s: &str) -> Vec<String> {
    fold(s)
        .split(' ')
        .filter(|w| !w.is_empty())
        .map(String::from)
        .collect()
}

impl Knowledge {
    /// The embedded tables.
    pub fn embedded() -> Knowledge {
        Knowledge::with_site("", "", "").expect("embedded knowledge tables are well-formed")
    }

    /// The embedded tables with a site's own lines (same formats; empty
    /// text for none) read first.
    pub fn with_site(lineage: &str, aliases: &str, categories: &str) -> Result<Knowledge, Error> {
        let mut k = Knowledge {
            lineage: Vec::new(),
            aliases: Vec::new(),
            categories: Vec::new(),
            family: HashMap::new(),
            company_words: HashMap::new(),
        };
        for (table, text) in [
            ("site vendor_lineage.tsv", lineage),
            ("vendor_lineage.tsv", LINEAGE),
        ] {
            for r in rows(table, text, 4) {
                let (_, f) = r?;
                k.lineage.push(LineageEntry {
                    name: f[0].into(),
                    parent: f[1].into(),
                    kind: f[2].to_ascii_lowercase(),
                    source: f[3].into(),
                });
            }
        }
        for (table, text) in [
            ("site model_aliases.tsv", aliases),
            ("model_aliases.tsv", MODEL_ALIASES),
        ] {
            for r in rows(table, text, 4) {
                let (line, f) = r?;
                let (alias, canonical) = (words(f[1]), words(f[2]));
                if alias.is_empty()
                    || canonical.is_empty()
                    || alias.len() > 8
                    || canonical.len() > 8
                {
                    return Err(Error {
                        table: table.into(),
                        line,
                        problem: "alias and canonical need 1 to 8 words".into(),
                    });
                }
                k.aliases.push(ModelAlias {
                    vendor: f[0].into(),
                    alias,
                    canonical,
                    source: f[3].into(),
                    families: Vec::new(),
                });
            }
        }
        for (table, text) in [
            ("site model_categories.tsv", categories),
            ("model_categories.tsv", CATEGORIES),
        ] {
            for r in rows(table, text, 3) {
                let (line, f) = r?;
                let w = words(f[0]);
                if w.is_empty() {
                    return Err(Error {
                        table: table.into(),
                        line,
                        problem: "no words".into(),
                    });
                }
                k.categories.push(CategoryRule {
                    words: w,
                    category: f[1].into(),
                    source: f[2].into(),
                });
            }
        }
        k.resolve();
        Ok(k)
    }

    /// Union of every name linked by a lineage line.
    fn resolve(&mut self) {
        let mut ids: HashMap<String, usize> = HashMap::new();
        let mut parent: Vec<usize> = Vec::new();
        fn find(p: &mut [usize], mut x: usize) -> usize {
            while p[x] != x {
                p[x] = p[p[x]];
                x = p[x];
            }
            x
        }
        let mut id = |k: String, parent: &mut Vec<usize>| -> usize {
            *ids.entry(k).or_insert_with(|| {
                parent.push(parent.len());
                parent.len() - 1
            })
        };
        let mut names: Vec<(usize, String, bool)> = Vec::new();
        for e in &self.lineage {
            // Every key of both names (the compact "welchallyn" and a
            // parenthesised alias too) belongs to the family.
            let (ka, kb) = (vendor_keys(&e.name), vendor_keys(&e.parent));
            let (Some(a), Some(b)) = (ka.first(), kb.first()) else {
                continue;
            };
            let (ia, ib) = (id(a.clone(), &mut parent), id(b.clone(), &mut parent));
            for k in ka
                .iter()
                .chain(&kb)
                .skip(1)
                .filter(|k| k.len() >= 3 && !crate::normalize::is_generic_key(k))
            {
                let ik = id(k.clone(), &mut parent);
                let (rk, rb) = (find(&mut parent, ik), find(&mut parent, ib));
                parent[rk] = rb;
            }
            let (ra, rb) = (find(&mut parent, ia), find(&mut parent, ib));
            parent[ra] = rb;
            names.push((ia, fold(&e.name), e.kind == "brand"));
            names.push((ib, fold(&e.parent), false));
        }
        for (k, i) in &ids {
            let r = find(&mut parent, *i) as u32;
            self.family.insert(k.clone(), r);
        }
        for (i, name, brand) in names {
            if brand {
                continue;
            }
            let r = find(&mut parent, i) as u32;
            let list = self.company_words.entry(r).or_default();
            let w: Vec<String> = name
                .split(' ')
                .filter(|w| !w.is_empty())
                .map(String::from)
                .collect();
            if !w.is_empty() && !list.contains(&w) {
                list.push(w);
            }
        }
        for list in self.company_words.values_mut() {
            list.sort_by(|a, b| b.len().cmp(&a.len()).then_with(|| a.cmp(b)));
        }
        let resolved: Vec<Vec<u32>> = self
            .aliases
            .iter()
            .map(|a| self.families(&vendor_keys(&a.vendor)))
            .collect();
        for (a, f) in self.aliases.iter_mut().zip(resolved) {
            a.families = f;
        }
    }

    /// The vendor families of a vendor name's keys (see
    /// [`crate::normalize::vendor_keys`]): a key, or its first word when
    /// the key is longer ("philips medical systems nederland" → "philips").
    pub fn families(&self, keys: &[String]) -> Vec<u32> {
        let mut out = Vec::new();
        for k in keys {
            let f = self.family.get(k.as_str()).or_else(|| {
                // "philips medical systems nederland" → "philips"; "siemens
                // healthineers ag" is already a key.
                let mut w: Vec<&str> = k.split(' ').collect();
                while w.len() > 1 {
                    w.pop();
                    if let Some(f) = self.family.get(&w.join(" ")) {
                        return Some(f);
                    }
                }
                None
            });
            if let Some(&f) = f {
                if !out.contains(&f) {
                    out.push(f);
                }
            }
        }
        out
    }

    /// Company names of a family (folded words, longest first), removed
    /// from model names ("Welch Allyn Connex Spot Monitor" → "connex spot monitor").
    pub fn company_words(&self, family: u32) -> &[Vec<String>] {
        self.company_words.get(&family).map_or(&[], Vec::as_slice)
    }

    /// The lineage lines linking a family (for explanations).
    pub fn lineage(&self) -> &[LineageEntry] {
        &self.lineage
    }

    /// How two vendor names are related, as the lineage lines that link them
    /// (empty when they are not, or are the same name).
    pub fn explain_link(&self, a: &str, b: &str) -> Vec<&LineageEntry> {
        let (fa, fb) = (
            self.families(&vendor_keys(a)),
            self.families(&vendor_keys(b)),
        );
        let Some(f) = fa.iter().find(|f| fb.contains(f)) else {
            return Vec::new();
        };
        self.lineage
            .iter()
            .filter(|e| self.families(&vendor_keys(&e.name)).contains(f))
            .take(6)
            .collect()
    }

    /// Model aliases applying to a family (`None`: vendor unknown): the
    /// family's own and the `*` ones.
    pub fn aliases_for(&self, families: &[u32]) -> Vec<&ModelAlias> {
        self.aliases
            .iter()
            .filter(|a| a.vendor == "*" || a.families.iter().any(|f| families.contains(f)))
            .collect()
    }

    /// The category rule matching a device's vendor and model words.
    pub fn category(&self, vendor: &str, model: &str) -> Option<&CategoryRule> {
        let w = words(&format!("{vendor} {model}"));
        self.categories
            .iter()
            .find(|r| r.words.iter().all(|x| w.contains(x)))
    }
}

/// Rewrites alias word runs to their canonical words (first alias wins at
/// each position; at most one rewrite per position).
pub fn apply_aliases(words: &mut Vec<String>, aliases: &[&ModelAlias]) {
    if aliases.is_empty() {
        return;
    }
    let mut out: Vec<String> = Vec::with_capacity(words.len() + 4);
    let mut i = 0;
    let mut rewritten = false;
    while i < words.len() {
        let hit = aliases.iter().find(|a| {
            a.alias.len() <= words.len() - i && words[i..i + a.alias.len()] == a.alias[..]
        });
        match hit {
            Some(a) => {
                out.extend(a.canonical.iter().cloned());
                i += a.alias.len();
                rewritten = true;
            }
            None => {
                out.push(std::mem::take(&mut words[i]));
                i += 1;
            }
        }
    }
    if rewritten {
        // A canonical form repeats words the name already had ("Alaris PC
        // 8015" with "8015" → "alaris pc unit 8015"): each word once.
        let mut seen: Vec<String> = Vec::with_capacity(out.len());
        out.retain(|w| {
            let new = !seen.contains(w);
            if new {
                seen.push(w.clone());
            }
            new
        });
    }
    *words = out;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lineage_links_families() {
        let k = Knowledge::embedded();
        let f = |s: &str| k.families(&vendor_keys(s));
        assert!(!f("Welch Allyn").is_empty());
        assert_eq!(f("Welch Allyn"), f("Baxter Healthcare Corporation"));
        assert_eq!(f("Hill-Rom"), f("Baxter"));
        assert_eq!(f("CareFusion"), f("Becton, Dickinson and Company (BD)"));
        assert_eq!(f("Medfusion"), f("ICU Medical"));
        assert_eq!(f("Hospira"), f("ICU Medical"));
        assert_eq!(f("Dräger"), f("Draeger Medical GmbH"));
        assert_eq!(f("Covidien"), f("Medtronic"));
        assert_eq!(f("GE Healthcare"), f("General Electric (GE)"));
        assert_eq!(f("Philips Medical Systems Nederland B.V."), f("Phillips"));
        assert_ne!(f("Philips"), f("Baxter"));
        assert!(f("Unknown Vendor Ltd").is_empty());
        assert!(!k.explain_link("Welch Allyn", "Baxter").is_empty());
        let cw = k.company_words(f("Baxter")[0]);
        assert!(cw.contains(&vec!["welch".to_string(), "allyn".to_string()]));
    }

    #[test]
    fn site_lines_and_errors() {
        let k =
            Knowledge::with_site("Acme Med\tBaxter\tacquired\tsite note 2026\n", "", "").unwrap();
        assert_eq!(
            k.families(&vendor_keys("Acme Med")),
            k.families(&vendor_keys("Baxter"))
        );
        let e = Knowledge::with_site("only two\tfields\n", "", "").unwrap_err();
        assert_eq!(
            e.to_string(),
            "site vendor_lineage.tsv:1: 2 tab-separated fields, expected 4"
        );
        let k = Knowledge::embedded();
        assert_eq!(
            k.category("Smiths Medical", "Medfusion 4000 Syringe Pump")
                .unwrap()
                .category,
            "infusion pump"
        );
        assert_eq!(
            k.category("Dräger", "Infinity Delta").unwrap().category,
            "patient monitor"
        );
        assert!(k.category("Acme", "Widget").is_none());
    }

    #[test]
    fn aliases_rewrite_word_runs() {
        let k = Knowledge::embedded();
        let fam = k.families(&vendor_keys("BD"));
        let al = k.aliases_for(&fam);
        let mut w = words("Alaris Point of Care Unit 8015");
        apply_aliases(&mut w, &al);
        assert_eq!(w, ["alaris", "pc", "unit", "8015"]);
        let mut w = words("8015");
        apply_aliases(&mut w, &al);
        assert_eq!(
            w,
            ["alaris", "pc", "unit", "8015"],
            "the model number alone"
        );
    }
}
