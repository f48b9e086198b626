//! A small, bounded XML tokenizer for the SOAP and description documents
//! Ward reads (WS-Discovery datagrams, DPWS metadata, UPnP descriptions).
//!
//! It yields start tags (name and raw attribute bytes), end tags and text,
//! and skips comments, processing instructions and the document type
//! declaration. Entities declared in a DTD are never expanded (no billion
//! laughs): only the five predefined entities and character references are
//! decoded, by [`text`]. Nesting deeper than [`MAX_DEPTH`] or more than
//! [`MAX_TOKENS`] tokens end the scan, as does a truncated tag; nothing
//! here allocates except [`text`] and [`Namespaces`] (bounded).

use model::text as mtext;

/// Deepest element nesting read.
pub const MAX_DEPTH: usize = 64;
/// Tokens read from one document.
pub const MAX_TOKENS: usize = 50_000;
/// Namespace prefix bindings remembered per document.
pub const MAX_BINDINGS: usize = 32;

/// One piece of a document.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Token<'a> {
    /// `<name attrs>` or `<name attrs/>` (`empty`).
    Start {
        /// The qualified name.
        name: &'a [u8],
        /// The raw bytes between the name and `>`.
        attrs: &'a [u8],
        /// Self-closing.
        empty: bool,
    },
    /// `</name>`.
    End(&'a [u8]),
    /// Character data (raw, entities not decoded) or a CDATA section.
    Text(&'a [u8]),
}

/// Iterates over the tokens of a document.
pub struct Scanner<'a> {
    data: &'a [u8],
    pos: usize,
    depth: usize,
    tokens: usize,
}

impl<'a> Scanner<'a> {
    /// A scanner over `data`.
    pub fn new(data: &'a [u8]) -> Self {
        Scanner {
            data,
            pos: 0,
            depth: 0,
            tokens: 0,
        }
    }

    /// The current element depth (after the last token).
    pub fn depth(&self) -> usize {
        self.depth
    }

    fn find_from(&self, from: usize, needle: &[u8]) -> Option<usize> {
        memchr::memmem::find(self.data.get(from..)?, needle).map(|i| from + i)
    }

    /// The `>` closing a tag that starts at `from`, outside quoted values.
    fn tag_end(&self, from: usize) -> Option<usize> {
        let mut quote = 0u8;
        for (i, &b) in self.data.get(from..)?.iter().enumerate() {
            match b {
                b'"' | b'\'' if quote == 0 => quote = b,
                q if q == quote => quote = 0,
                b'>' if quote == 0 => return Some(from + i),
                _ => {}
            }
        }
        None
    }
}

impl<'a> Iterator for Scanner<'a> {
    type Item = Token<'a>;

    fn next(&mut self) -> Option<Token<'a>> {
        loop {
            if self.tokens >= MAX_TOKENS || self.pos >= self.data.len() {
                return None;
            }
            let rest = &self.data[self.pos..];
            if rest[0] != b'<' {
                let end = memchr::memchr(b'<', rest).map_or(self.data.len(), |i| self.pos + i);
                let t = &self.data[self.pos..end];
                self.pos = end;
                self.tokens += 1;
                return Some(Token::Text(t));
            }
            if rest.starts_with(b"<!--") {
                self.pos = self.find_from(self.pos + 4, b"-->")? + 3;
                continue;
            }
            if rest.starts_with(b"<![CDATA[") {
                let end = self.find_from(self.pos + 9, b"]]>")?;
                let t = &self.data[self.pos + 9..end];
                self.pos = end + 3;
                self.tokens += 1;
                return Some(Token::Text(t));
            }
            if rest.starts_with(b"<?") {
                self.pos = self.find_from(self.pos + 2, b"?>")? + 2;
                continue;
            }
            if rest.starts_with(b"<!") {
                // A document type declaration, with an internal subset in [].
                let gt = self.tag_end(self.pos)?;
                let open = memchr::memchr(b'[', &self.data[self.pos..gt]);
                self.pos = match open {
                    Some(_) => {
                        let close = self.find_from(self.pos, b"]")?;
                        self.tag_end(close)? + 1
                    }
                    None => gt + 1,
                };
                continue;
            }
            let gt = self.tag_end(self.pos + 1)?;
            let inner = &self.data[self.pos + 1..gt];
            self.pos = gt + 1;
            self.tokens += 1;
            if let Some(name) = inner.strip_prefix(b"/") {
                self.depth = self.depth.saturating_sub(1);
                return Some(Token::End(name.trim_ascii()));
            }
            let (inner, empty) = match inner.strip_suffix(b"/") {
                Some(i) => (i, true),
                None => (inner, false),
            };
            let n = inner
                .iter()
                .position(|b| b.is_ascii_whitespace())
                .unwrap_or(inner.len());
            if n == 0 {
                return None;
            }
            if !empty {
                self.depth += 1;
                if self.depth > MAX_DEPTH {
                    return None;
                }
            }
            return Some(Token::Start {
                name: &inner[..n],
                attrs: &inner[n..],
                empty,
            });
        }
    }
}

/// The local part of a qualified name (`s12:Envelope` gives `Envelope`).
pub fn local(name: &[u8]) -> &[u8] {
    match memchr::memrchr(b':', name) {
        Some(i) => &name[i + 1..],
        None => name,
    }
}

/// Calls `f(name, raw value)` for each attribute in `attrs`; stops at the
/// first malformed one.
pub fn attributes<'a>(attrs: &'a [u8], mut f: impl FnMut(&'a [u8], &'a [u8])) {
    let mut rest = attrs;
    loop {
        rest = rest.trim_ascii();
        let Some(eq) = memchr::memchr(b'=', rest) else {
            return;
        };
        let name = rest[..eq].trim_ascii();
        let after = rest[eq + 1..].trim_ascii();
        let Some(&q) = after.first().filter(|&&q| q == b'"' || q == b'\'') else {
            return;
        };
        let Some(end) = memchr::memchr(q, &after[1..]) else {
            return;
        };
        f(name, &after[1..1 + end]);
        rest = &after[end + 2..];
    }
}

/// Character data decoded (predefined entities and character references;
/// any other entity is left as written, never expanded), cleaned and cut
/// to `max` bytes; None if empty.
pub fn text(raw: &[u8], max: usize) -> Option<String> {
    let raw = raw.trim_ascii();
    // Decoding only shrinks: four times the cap covers any kept text.
    let raw = &raw[..raw.len().min(max.saturating_mul(4))];
    let mut out = Vec::with_capacity(raw.len().min(max));
    let mut i = 0;
    while i < raw.len() && out.len() < max {
        if raw[i] == b'&' {
            if let Some(semi) = raw[i..].iter().take(12).position(|&b| b == b';') {
                if let Some(c) = entity(&raw[i + 1..i + semi]) {
                    let mut buf = [0u8; 4];
                    out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
                    i += semi + 1;
                    continue;
                }
            }
        }
        out.push(raw[i]);
        i += 1;
    }
    mtext::non_empty(&out[..out.len().min(max)])
}

fn entity(name: &[u8]) -> Option<char> {
    const NAMED: &[(&[u8], char)] = &[
        (b"lt", '<'),
        (b"gt", '>'),
        (b"amp", '&'),
        (b"quot", '"'),
        (b"apos", '\''),
    ];
    if let Some(&(_, c)) = NAMED.iter().find(|(n, _)| *n == name) {
        return Some(c);
    }
    let num = name.strip_prefix(b"#")?;
    let s = std::str::from_utf8(num).ok()?;
    let n = match s.strip_prefix('x').or_else(|| s.strip_prefix('X')) {
        Some(h) => u32::from_str_radix(h, 16).ok()?,
        None => s.parse().ok()?,
    };
    char::from_u32(n)
}

/// Namespace prefix bindings seen so far in a document (`xmlns:p="uri"`),
/// flat (the last binding of a prefix wins) and bounded.
#[derive(Default)]
pub struct Namespaces<'a> {
    bindings: Vec<(&'a [u8], &'a [u8])>,
}

impl<'a> Namespaces<'a> {
    /// Records the bindings declared in a start tag's attributes.
    pub fn declare(&mut self, attrs: &'a [u8]) {
        attributes(attrs, |name, value| {
            let prefix = if name == b"xmlns" {
                &b""[..]
            } else if let Some(p) = name.strip_prefix(b"xmlns:") {
                p
            } else {
                return;
            };
            if let Some(b) = self.bindings.iter_mut().find(|(p, _)| *p == prefix) {
                b.1 = value;
            } else if self.bindings.len() < MAX_BINDINGS {
                self.bindings.push((prefix, value));
            }
        });
    }

    /// The namespace a qualified name's prefix is bound to, and its local part.
    pub fn resolve(&self, qname: &'a [u8]) -> (&'a [u8], &'a [u8]) {
        let (prefix, local) = match memchr::memchr(b':', qname) {
            Some(i) => (&qname[..i], &qname[i + 1..]),
            None => (&b""[..], qname),
        };
        let ns = self
            .bindings
            .iter()
            .find(|(p, _)| *p == prefix)
            .map_or(&b""[..], |(_, n)| n);
        (ns, local)
    }
}
