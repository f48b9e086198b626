//! Where frames come from: capture files and (with the `live` feature) network
//! interfaces.
//!
//! A [`Source`] hands out one [`Frame`] at a time: the link type, the packet
//! timestamp, the original wire length and the captured bytes. Frames borrow the
//! source's buffer (zero-copy) and are valid until the next call.
//!
//! [`FileReader`] reads classic pcap (all four magics: microsecond and
//! nanosecond resolution, both byte orders, plus the Kuznetzov variant with
//! 24-byte record headers) and pcapng (multiple sections, multiple interfaces
//! each with its own link type, `if_tsresol` and `if_tsoffset`; EPB, SPB and the
//! obsolete PB; every other block is skipped). Formats are detected from the
//! magic number, never from the file name.
//!
//! **Invariants**
//! - Streaming with bounded memory: one reusable buffer (1 MiB, so freshly read
//!   data is still in cache when parsed; grows to at most
//!   16 MiB for a single huge block). Reads are large `read` calls, never mmap.
//! - Per-record work does not allocate and does not copy; the only copy is the
//!   buffer compaction of the partial record left at the end of the buffer.
//! - Hostile files never cause a panic or an error after the header: records
//!   with an impossible captured length (> [`MAX_CAPLEN`]) are counted in
//!   [`Anomalies`] and skipped, corrupt framing is resynchronised by scanning
//!   forward for plausible headers, and a truncated tail ends the stream cleanly.
//!
//! Live capture (feature `live`): [`Live`] reads an interface with one or
//! more workers — Linux AF_PACKET sockets with TPACKET_V3 rings in a fanout
//! group where possible, else one libpcap [`LiveCapture`].
//!
//! References: <https://www.ietf.org/archive/id/draft-ietf-opsawg-pcap-04.html>
//! (classic pcap), <https://www.ietf.org/archive/id/draft-ietf-opsawg-pcapng-02.html>
//! (pcapng), <https://www.tcpdump.org/linktypes.html> (link types).

#[cfg(all(feature = "live", target_os = "linux"))]
mod afpacket;
mod file;
#[cfg(feature = "live")]
mod live;

pub use file::{is_capture_magic, FileReader, SharedBuffer};
#[cfg(feature = "live")]
pub use live::{
    Backend, Live, LiveCapture, LiveOptions, LiveStats, LiveWorker, Polled, StopHandle, Waker,
};

pub use model::LinkType;
use model::Timestamp;

/// Captured lengths above this (256 KiB, tcpdump's and Wireshark's largest
/// snap length) are treated as bogus: the record is counted and skipped.
pub const MAX_CAPLEN: u32 = 256 * 1024;

/// One captured frame, borrowed from the source's buffer.
#[derive(Debug, Clone, Copy)]
pub struct Frame<'a> {
    /// Capture time (microseconds since the epoch; may go backwards).
    pub ts: Timestamp,
    /// Link-layer header type of `data`.
    pub link: LinkType,
    /// Captured bytes, starting at the link-layer header.
    pub data: &'a [u8],
    /// Length on the wire (may exceed `data.len()`; attacker-controlled, may be absurd).
    pub orig_len: u32,
}

/// Why a capture could not be opened or read. Each message is one line naming the file.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The operating system refused to open or read the file.
    #[error("{path}: {source}")]
    Io {
        /// File name as given.
        path: String,
        /// Underlying error.
        source: std::io::Error,
    },
    /// The file does not start with a pcap or pcapng magic number.
    #[error("{path}: not a pcap or pcapng capture file (unknown magic number)")]
    NotACapture {
        /// File name as given.
        path: String,
    },
    /// The file ends inside its own file header.
    #[error("{path}: truncated capture file: {what}")]
    Truncated {
        /// File name as given.
        path: String,
        /// Which part is cut short.
        what: &'static str,
    },
    /// A live capture could not be opened or read.
    #[error("{device}: live capture: {message}")]
    Live {
        /// Interface name.
        device: String,
        /// Description from libpcap.
        message: String,
    },
}

/// A stream of frames.
pub trait Source {
    /// The next frame, or `None` at the end of the stream. The frame borrows the
    /// source and is valid until the next call.
    fn next_frame(&mut self) -> Result<Option<Frame<'_>>, Error>;
}

impl<S: Source + ?Sized> Source for Box<S> {
    fn next_frame(&mut self) -> Result<Option<Frame<'_>>, Error> {
        (**self).next_frame()
    }
}

/// Counters of things wrong with a capture file that did not stop reading it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Anomalies {
    /// The file ended inside a record or block (a cut-off tail).
    pub truncated_records: u64,
    /// Classic pcap record headers that made no sense (framing lost; resynchronised).
    pub bad_records: u64,
    /// pcapng blocks with a bad length, mismatched trailer or inconsistent contents.
    pub bad_blocks: u64,
    /// Records whose captured length exceeds [`MAX_CAPLEN`]; skipped.
    pub oversized_records: u64,
    /// Times the reader scanned forward for the next plausible header.
    pub resyncs: u64,
    /// Bytes thrown away while resynchronising.
    pub resync_skipped_bytes: u64,
    /// pcapng packets referring to an interface that was never described.
    pub unknown_interface: u64,
    /// pcapng interface descriptions beyond the per-section limit (ignored).
    pub too_many_interfaces: u64,
    /// Informational, not an anomaly: pcapng blocks that carry no packet
    /// (statistics, name resolution, custom, ...), skipped.
    pub skipped_blocks: u64,
}

impl Anomalies {
    /// Sum of all anomaly counters (`skipped_blocks` excluded: it is normal).
    pub fn total(&self) -> u64 {
        self.iter().map(|(_, n)| n).sum()
    }

    /// The anomaly counters as (stable snake_case name, count) pairs
    /// (`skipped_blocks` excluded).
    pub fn iter(&self) -> impl Iterator<Item = (&'static str, u64)> {
        [
            ("truncated_records", self.truncated_records),
            ("bad_records", self.bad_records),
            ("bad_blocks", self.bad_blocks),
            ("oversized_records", self.oversized_records),
            ("resyncs", self.resyncs),
            ("resync_skipped_bytes", self.resync_skipped_bytes),
            ("unknown_interface", self.unknown_interface),
            ("too_many_interfaces", self.too_many_interfaces),
        ]
        .into_iter()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn capture_magics_are_what_the_reader_opens() {
        // Each magic the walk accepts opens as a capture (a header and no records).
        for m in [
            0xA1B2_C3D4u32,
            0xD4C3_B2A1,
            0xA1B2_3C4D,
            0x4D3C_B2A1,
            0xA1B2_CD34,
            0x34CD_B2A1,
        ] {
            let first = m.to_le_bytes();
            assert!(is_capture_magic(first), "{m:#x}");
            let mut header = first.to_vec();
            header.extend_from_slice(&[0; 16]);
            header.extend_from_slice(&[1, 0, 0, 0]);
            assert!(
                FileReader::from_read("h", Box::new(std::io::Cursor::new(header)), 0).is_ok(),
                "{m:#x}"
            );
        }
        assert!(is_capture_magic([0x0a, 0x0d, 0x0d, 0x0a]));
        for other in [
            *b"# no",
            [0, 0, 0, 0],
            [0xa1, 0xb2, 0xc3, 0xd5],
            *b"PK\x03\x04",
        ] {
            assert!(!is_capture_magic(other), "{other:?}");
        }
    }

    #[test]
    fn error_messages_name_the_file() {
        let e = Error::NotACapture {
            path: "x.pcap".into(),
        };
        assert_eq!(
            e.to_string(),
            "x.pcap: not a pcap or pcapng capture file (unknown magic number)"
        );
        let e = Error::Truncated {
            path: "y.pcapng".into(),
            what: "file header",
        };
        assert!(e.to_string().starts_with("y.pcapng: "));
        assert!(!e.to_string().contains('\n'));
    }

    #[test]
    fn anomaly_total_excludes_skipped_blocks() {
        let a = Anomalies {
            bad_blocks: 2,
            truncated_records: 1,
            skipped_blocks: 10,
            ..Default::default()
        };
        assert_eq!(a.total(), 3);
        assert_eq!(a.iter().count(), 8);
    }
}
