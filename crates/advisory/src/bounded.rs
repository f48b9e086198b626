//! Bounded deserialisation (shared with `assess`): strings and lists that refuse to grow past a
//! limit, so a hostile feed file cannot make Ward keep megabytes of text per
//! field or millions of entries per list. The error names the limit, and
//! `serde_path_to_error` adds where in the document it was hit. Strings are
//! cleaned as they are read (`model::text`: no control, escape or bidi
//! characters; free text keeps its line feeds), so a feed or SBOM string can
//! be printed anywhere.

use serde::de::{self, Deserialize, Deserializer, SeqAccess, Visitor};
use std::fmt;
use std::marker::PhantomData;

/// Identifiers, dates, versions, enumerations.
pub const SHORT: usize = 256;
/// Names and titles.
pub const NAME: usize = 2048;
/// Free text (descriptions, remediation details).
pub const TEXT: usize = 64 * 1024;
/// Largest list accepted anywhere (products, vulnerabilities, KEV entries).
pub const MANY: usize = 100_000;

/// A string of at most `MAX` bytes, cleaned (see the module).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Str<const MAX: usize>(pub String);

impl<const MAX: usize> Str<MAX> {
    pub fn into_string(self) -> String {
        self.0
    }
}

impl<'de, const MAX: usize> Deserialize<'de> for Str<MAX> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<const M: usize>;
        impl<const M: usize> Visitor<'_> for V<M> {
            type Value = Str<M>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                write!(f, "a string (at most {M} bytes)")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Str<M>, E> {
                if v.len() > M {
                    return Err(E::custom(format!(
                        "string of {} bytes is longer than the limit of {M}",
                        v.len()
                    )));
                }
                // Free text keeps its lines; names and identifiers are one line.
                let v = if M >= TEXT {
                    model::text::clean_lines(v)
                } else {
                    model::text::clean(v)
                };
                Ok(Str(v.into_owned()))
            }
        }
        d.deserialize_str(V::<MAX>)
    }
}

/// A list of at most `MAX` items.
#[derive(Debug, Clone, PartialEq)]
pub struct List<T, const MAX: usize>(pub Vec<T>);

impl<T, const MAX: usize> Default for List<T, MAX> {
    fn default() -> Self {
        List(Vec::new())
    }
}

impl<'de, T: Deserialize<'de>, const MAX: usize> Deserialize<'de> for List<T, MAX> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<T, const M: usize>(PhantomData<T>);
        impl<'de, T: Deserialize<'de>, const M: usize> Visitor<'de> for V<T, M> {
            type Value = List<T, M>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                write!(f, "a list (at most {M} items)")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<List<T, M>, A::Error> {
                let mut out = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(64));
                while let Some(item) = seq.next_element()? {
                    if out.len() == M {
                        return Err(de::Error::custom(format!("more than {M} items")));
                    }
                    out.push(item);
                }
                Ok(List(out))
            }
        }
        d.deserialize_seq(V::<T, MAX>(PhantomData))
    }
}

/// Deserialises JSON with the path of any problem in the message
/// (`vulnerabilities[3].cve: invalid type: integer ...`); trailing bytes are
/// an error.
pub fn from_json<'a, T: serde::Deserialize<'a>>(bytes: &'a [u8]) -> Result<T, String> {
    let mut d = serde_json::Deserializer::from_slice(bytes);
    let v = serde_path_to_error::deserialize(&mut d).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        if path == "." || path.is_empty() {
            inner.to_string()
        } else {
            format!("{path}: {inner}")
        }
    })?;
    d.end().map_err(|e| e.to_string())?;
    Ok(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_are_enforced_with_paths() {
        #[derive(serde::Deserialize, Debug)]
        struct T {
            #[allow(dead_code)]
            a: List<Str<4>, 2>,
        }
        let de = |s: &str| {
            let mut d = serde_json::Deserializer::from_str(s);
            serde_path_to_error::deserialize::<_, T>(&mut d)
                .map_err(|e| format!("{}: {}", e.path(), e.inner()))
        };
        assert!(de(r#"{"a":["abcd","x"]}"#).is_ok());
        let e = de(r#"{"a":["abcde"]}"#).unwrap_err();
        assert!(e.starts_with("a[0]: string of 5 bytes"), "{e}");
        let e = de(r#"{"a":["a","b","c"]}"#).unwrap_err();
        assert!(e.contains("more than 2 items"), "{e}");
        let e = de(r#"{"a":[1]}"#).unwrap_err();
        assert_eq!(
            Str::<16>::deserialize(serde_json::json!("a\u{1b}[2J\u{202e}b")).unwrap(),
            Str("a[2Jb".into())
        );
        assert_eq!(
            Str::<TEXT>::deserialize(serde_json::json!("a\u{1b}\r\nb")).unwrap(),
            Str("a\nb".into())
        );
        assert!(
            e.starts_with("a[0]: invalid type: integer `1`, expected a string"),
            "{e}"
        );
    }
}
