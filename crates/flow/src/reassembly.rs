//! One direction of a TCP stream: in-order delivery with a bounded
//! out-of-order buffer, overlap trimming (first copy wins) and gap reporting.

/// What a segment produced, in stream order.
#[derive(Debug, PartialEq, Eq)]
pub enum Segment<'a> {
    /// In-order bytes.
    Data(&'a [u8]),
    /// Bytes that will never arrive.
    Gap(u64),
}

/// Reassembly state of one direction.
#[derive(Debug, Default)]
pub struct StreamState {
    /// Next expected sequence number, once known.
    next: Option<u32>,
    /// Buffered out-of-order segments (seq, bytes), sorted by seq.
    // Invariant: total length of all buffers <= the caller's cap.
    ooo: Vec<(u32, Box<[u8]>)>,
    ooo_bytes: usize,
    /// True once FIN was seen in this direction.
    pub fin: bool,
}

/// Signed distance a - b in sequence space.
fn seq_diff(a: u32, b: u32) -> i64 {
    a.wrapping_sub(b) as i32 as i64
}

impl StreamState {
    /// Sets the initial sequence number (from a SYN: the ISN + 1).
    pub fn set_isn(&mut self, next: u32) {
        if self.next.is_none() {
            self.next = Some(next);
        }
    }

    /// Bytes currently buffered out of order.
    pub fn buffered(&self) -> usize {
        self.ooo_bytes
    }

    /// Accepts a segment and calls `deliver` with in-order data and gaps.
    ///
    /// `max_ooo` bounds the out-of-order buffer of this direction.
    pub fn push(
        &mut self,
        seq: u32,
        payload: &[u8],
        max_ooo: usize,
        deliver: &mut dyn FnMut(Segment<'_>),
    ) {
        if payload.is_empty() {
            return;
        }
        let next = *self.next.get_or_insert(seq);
        let d = seq_diff(seq, next);
        if d <= 0 {
            // Starts at or before the expected byte: trim what we already had.
            let skip = (-d) as u64;
            if skip >= payload.len() as u64 {
                return; // Pure retransmission.
            }
            let fresh = &payload[skip as usize..];
            self.next = Some(next.wrapping_add(fresh.len() as u32));
            deliver(Segment::Data(fresh));
            self.drain(deliver);
            return;
        }
        // A hole before this segment: buffer it if there is room.
        if d > (1 << 30) {
            return; // Wildly out of window: ignore.
        }
        if self.ooo_bytes + payload.len() > max_ooo {
            // Give up on the hole: report it and jump to the earliest data we have.
            self.skip_hole(deliver);
            let next = self.next.unwrap_or(seq);
            let d = seq_diff(seq, next);
            if d <= 0 {
                return self.push(seq, payload, max_ooo, deliver);
            }
            if self.ooo_bytes + payload.len() > max_ooo {
                deliver(Segment::Gap(d as u64));
                self.next = Some(seq);
                return self.push(seq, payload, max_ooo, deliver);
            }
        }
        let pos = self.ooo.partition_point(|(s, _)| seq_diff(*s, seq) < 0);
        if self
            .ooo
            .get(pos)
            .is_some_and(|(s, b)| *s == seq && b.len() >= payload.len())
        {
            return; // Duplicate out-of-order segment.
        }
        self.ooo_bytes += payload.len();
        self.ooo.insert(pos, (seq, payload.into()));
    }

    /// Declares everything up to the first buffered segment lost.
    pub fn skip_hole(&mut self, deliver: &mut dyn FnMut(Segment<'_>)) {
        let (Some(next), Some((first, _))) = (self.next, self.ooo.first()) else {
            return;
        };
        let d = seq_diff(*first, next);
        if d > 0 {
            deliver(Segment::Gap(d as u64));
            self.next = Some(*first);
        }
        self.drain(deliver);
    }

    /// Flushes buffered data at the end of the flow, reporting holes as gaps.
    pub fn flush(&mut self, deliver: &mut dyn FnMut(Segment<'_>)) {
        while !self.ooo.is_empty() {
            self.skip_hole(deliver);
        }
    }

    /// Delivers the buffered segments that became in order. They are removed
    /// from the front in one go (not one `remove(0)` each, which made a long
    /// buffer of small segments quadratic).
    fn drain(&mut self, deliver: &mut dyn FnMut(Segment<'_>)) {
        let Some(mut next) = self.next else { return };
        let mut done = 0;
        for (seq, buf) in &self.ooo {
            if seq_diff(*seq, next) > 0 {
                break;
            }
            done += 1;
            self.ooo_bytes -= buf.len();
            let skip = seq_diff(next, *seq) as usize;
            if let Some(fresh) = buf.get(skip..).filter(|f| !f.is_empty()) {
                next = next.wrapping_add(fresh.len() as u32);
                deliver(Segment::Data(fresh));
            }
        }
        if done > 0 {
            self.next = Some(next);
            self.ooo.drain(..done);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn collect(st: &mut StreamState, segs: &[(u32, &[u8])], cap: usize) -> (Vec<u8>, u64) {
        let mut data = Vec::new();
        let mut gaps = 0;
        for (seq, p) in segs {
            st.push(*seq, p, cap, &mut |s| match s {
                Segment::Data(d) => data.extend_from_slice(d),
                Segment::Gap(n) => gaps += n,
            });
        }
        st.flush(&mut |s| match s {
            Segment::Data(d) => data.extend_from_slice(d),
            Segment::Gap(n) => gaps += n,
        });
        (data, gaps)
    }

    #[test]
    fn in_order_and_reordered_and_retransmitted() {
        let mut st = StreamState::default();
        st.set_isn(100);
        let (d, g) = collect(
            &mut st,
            &[
                (100, b"abc"),
                (106, b"ghi"),
                (103, b"def"),
                (103, b"def"),
                (101, b"bcdEFG"),
            ],
            1000,
        );
        assert_eq!(d, b"abcdefghi");
        assert_eq!(g, 0);
    }

    #[test]
    fn overlap_keeps_first_copy() {
        let mut st = StreamState::default();
        st.set_isn(0);
        let (d, _) = collect(&mut st, &[(0, b"abcd"), (2, b"XXef")], 1000);
        assert_eq!(d, b"abcdef");
    }

    #[test]
    fn hole_becomes_gap_when_buffer_full() {
        let mut st = StreamState::default();
        st.set_isn(0);
        let (d, g) = collect(
            &mut st,
            &[(0, b"ab"), (10, b"0123456789"), (20, b"0123456789")],
            12,
        );
        assert_eq!(g, 8);
        assert_eq!(d, b"ab01234567890123456789");
    }

    #[test]
    fn sequence_wraparound() {
        let mut st = StreamState::default();
        st.set_isn(u32::MAX - 1);
        let (d, g) = collect(&mut st, &[(u32::MAX - 1, b"ab"), (1, b"d"), (0, b"c")], 100);
        assert_eq!(d, b"abcd");
        assert_eq!(g, 0);
    }

    proptest::proptest! {
        #[test]
        fn any_arrival_order_yields_the_stream(order in proptest::strategy::Strategy::prop_shuffle(proptest::strategy::Just((0..20usize).collect::<Vec<_>>())), isn in proptest::prelude::any::<u32>()) {
            let stream: Vec<u8> = (0..100u8).collect();
            let mut st = StreamState::default();
            st.set_isn(isn);
            let segs: Vec<(u32, &[u8])> = order.iter().map(|&i| (isn.wrapping_add(i as u32 * 5), &stream[i * 5..i * 5 + 5])).collect();
            let (d, g) = collect(&mut st, &segs, 1000);
            proptest::prop_assert_eq!(g, 0);
            proptest::prop_assert_eq!(d, stream);
        }
    }

    #[test]
    fn many_small_buffered_segments_drain_in_order() {
        // 20,000 one-byte segments buffered behind a hole, then the hole filled.
        let mut st = StreamState::default();
        st.set_isn(0);
        let stream: Vec<u8> = (0..20_001u32).map(|i| i as u8).collect();
        let mut segs: Vec<(u32, &[u8])> = (1..stream.len())
            .rev()
            .map(|i| (i as u32, &stream[i..i + 1]))
            .collect();
        segs.push((0, &stream[..1]));
        let (d, g) = collect(&mut st, &segs, 1 << 20);
        assert_eq!(g, 0);
        assert_eq!(d, stream);
        assert_eq!(st.buffered(), 0);
    }

    #[test]
    fn bounded_buffer_under_random_input() {
        let mut st = StreamState::default();
        let mut x: u32 = 12345;
        for _ in 0..10_000 {
            x = x.wrapping_mul(1_103_515_245).wrapping_add(12345);
            let seq = x % 100_000;
            st.push(seq, &[0u8; 100], 4096, &mut |_| {});
            assert!(st.buffered() <= 4096);
        }
    }
}
