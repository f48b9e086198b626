//! Bounded line splitting for the FTP control connection (RFC 959 §4.1:
//! commands and replies end in CRLF; a bare LF is accepted too).

/// What [`LineReader::next`] found at the front of the buffer.
#[derive(Debug, PartialEq, Eq)]
pub enum Next<'a> {
    /// A complete line (without CR/LF) and the bytes consumed.
    Line(&'a [u8], usize),
    /// A line longer than the cap: these bytes were dropped, the rest of the
    /// line will be dropped too.
    TooLong(usize),
    /// Dropped the tail of an over-long line (up to and including its LF).
    Skipped(usize),
    /// Need more bytes.
    Incomplete,
}

/// Per-direction line state: only whether we are inside an over-long line.
#[derive(Debug, Default, Clone, Copy)]
pub struct LineReader {
    discarding: bool,
}

impl LineReader {
    /// Splits the next line off `data`, never returning lines over `max` bytes.
    pub fn next<'a>(&mut self, data: &'a [u8], max: usize) -> Next<'a> {
        if data.is_empty() {
            return Next::Incomplete;
        }
        let nl = memchr::memchr(b'\n', data);
        if self.discarding {
            return match nl {
                Some(i) => {
                    self.discarding = false;
                    Next::Skipped(i + 1)
                }
                None => Next::Skipped(data.len()),
            };
        }
        match nl {
            Some(i) if i <= max + 1 => {
                let line = &data[..i];
                let line = line.strip_suffix(b"\r").unwrap_or(line);
                if line.len() > max {
                    return Next::TooLong(i + 1);
                }
                Next::Line(line, i + 1)
            }
            Some(i) => Next::TooLong(i + 1),
            None if data.len() > max + 1 => {
                self.discarding = true;
                Next::TooLong(data.len())
            }
            None => Next::Incomplete,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_and_caps() {
        let mut r = LineReader::default();
        assert_eq!(r.next(b"USER a\r\nPASS", 16), Next::Line(b"USER a", 8));
        assert_eq!(r.next(b"PASS", 16), Next::Incomplete);
        assert_eq!(r.next(b"x\n", 16), Next::Line(b"x", 2));
        assert_eq!(r.next(&[b'a'; 40], 16), Next::TooLong(40));
        assert_eq!(r.next(b"aaa", 16), Next::Skipped(3));
        assert_eq!(r.next(b"aa\nNOOP\r\n", 16), Next::Skipped(3));
        assert_eq!(r.next(b"NOOP\r\n", 16), Next::Line(b"NOOP", 6));
        assert_eq!(r.next(&[b'b'; 20], 16), Next::TooLong(20));
    }
}
