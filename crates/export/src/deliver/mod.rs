//! Delivery: where formatted alerts go — a syslog collector
//! ([`syslog`]: UDP datagrams, or TCP with RFC 6587 octet counting) and
//! webhooks ([`webhook`]) under one retry policy ([`retry`]).

pub mod retry;
pub mod syslog;
pub mod webhook;

/// `s` on one line of at most `max` characters: control characters as
/// spaces, whitespace runs collapsed, `…` where it was cut. For answers from
/// receivers, which go into one-line errors.
pub fn one_line(s: &str, max: usize) -> String {
    let s: String = s
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    let s = s.split_whitespace().collect::<Vec<_>>().join(" ");
    if s.chars().count() > max {
        format!("{}…", s.chars().take(max).collect::<String>())
    } else {
        s
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn one_line_collapses_and_cuts() {
        assert_eq!(super::one_line(" a\n\tb\u{1b}c  ", 10), "a b c");
        assert_eq!(super::one_line("abcdef", 3), "abc…");
        assert_eq!(super::one_line("ééé", 3), "ééé");
    }
}
