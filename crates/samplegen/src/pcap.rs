//! Minimal classic libpcap file writer (microsecond timestamps, native
//! little-endian magic `0xa1b2c3d4`), as described in
//! draft-ietf-opsawg-pcap ("PCAP Capture File Format").

use std::io::{self, Write};

use crate::conv::Frame;

/// LINKTYPE_ETHERNET (IEEE 802.3 / Ethernet II frames without FCS).
pub const LINKTYPE_ETHERNET: u32 = 1;

/// Snapshot length written into the file header; frames are never truncated.
pub const SNAPLEN: u32 = 262_144;

/// Streams frames into a classic pcap file.
pub struct PcapWriter<W: Write> {
    out: W,
}

impl<W: Write> PcapWriter<W> {
    /// Writes the 24-byte global header and returns the writer.
    pub fn new(mut out: W, linktype: u32) -> io::Result<Self> {
        let mut hdr = [0u8; 24];
        hdr[0..4].copy_from_slice(&0xa1b2_c3d4u32.to_le_bytes()); // magic, µs
        hdr[4..6].copy_from_slice(&2u16.to_le_bytes()); // version major
        hdr[6..8].copy_from_slice(&4u16.to_le_bytes()); // version minor
                                                        // thiszone (4) and sigfigs (4) stay zero.
        hdr[16..20].copy_from_slice(&SNAPLEN.to_le_bytes());
        hdr[20..24].copy_from_slice(&linktype.to_le_bytes());
        out.write_all(&hdr)?;
        Ok(Self { out })
    }

    /// Appends one frame with a timestamp in microseconds since the Unix epoch.
    pub fn write_frame(&mut self, ts_micros: u64, data: &[u8]) -> io::Result<()> {
        let secs = u32::try_from(ts_micros / 1_000_000)
            .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "timestamp past 2106"))?;
        let usecs = (ts_micros % 1_000_000) as u32;
        let len = u32::try_from(data.len())
            .ok()
            .filter(|&l| l <= SNAPLEN)
            .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "frame too large"))?;
        let mut rec = [0u8; 16];
        rec[0..4].copy_from_slice(&secs.to_le_bytes());
        rec[4..8].copy_from_slice(&usecs.to_le_bytes());
        rec[8..12].copy_from_slice(&len.to_le_bytes()); // captured length
        rec[12..16].copy_from_slice(&len.to_le_bytes()); // original length
        self.out.write_all(&rec)?;
        self.out.write_all(data)
    }

    /// Appends every frame of `frames` in order.
    pub fn write_frames(&mut self, frames: &[Frame]) -> io::Result<()> {
        frames
            .iter()
            .try_for_each(|f| self.write_frame(f.ts_micros, &f.data))
    }

    /// Flushes the underlying writer.
    pub fn flush(&mut self) -> io::Result<()> {
        self.out.flush()
    }

    /// Flushes and returns the underlying writer.
    pub fn into_inner(mut self) -> io::Result<W> {
        self.out.flush()?;
        Ok(self.out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_and_record_layout() {
        let mut w = PcapWriter::new(Vec::new(), LINKTYPE_ETHERNET).unwrap();
        w.write_frame(1_767_600_000_000_123, &[1, 2, 3]).unwrap();
        let b = w.into_inner().unwrap();
        assert_eq!(&b[0..4], &[0xd4, 0xc3, 0xb2, 0xa1]);
        assert_eq!(&b[20..24], &[1, 0, 0, 0]);
        assert_eq!(
            u32::from_le_bytes(b[24..28].try_into().unwrap()),
            1_767_600_000
        );
        assert_eq!(u32::from_le_bytes(b[28..32].try_into().unwrap()), 123);
        assert_eq!(&b[32..36], &[3, 0, 0, 0]);
        assert_eq!(&b[40..], &[1, 2, 3]);
    }
}
