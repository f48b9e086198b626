//! Unit tests for the pcap/pcapng reader, on capture files built in memory by
//! the small writers below (field by field, following the specs).

use super::*;
use std::io::Cursor;

/// Owned copy of a frame, for comparisons.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Owned {
    ts: i64,
    link: LinkType,
    data: Vec<u8>,
    orig_len: u32,
}

fn reader(bytes: &[u8]) -> Result<FileReader, Error> {
    FileReader::from_read(
        "mem.pcap",
        Box::new(Cursor::new(bytes.to_vec())),
        bytes.len() as u64,
    )
}

fn drain(r: &mut FileReader) -> Vec<Owned> {
    let mut out = Vec::new();
    while let Some(f) = r.next_frame().expect("no I/O errors from memory") {
        out.push(Owned {
            ts: f.ts.0,
            link: f.link,
            data: f.data.to_vec(),
            orig_len: f.orig_len,
        });
    }
    out
}

fn read_all(bytes: &[u8]) -> (Vec<Owned>, Anomalies) {
    let mut r = reader(bytes).expect("opens");
    let frames = drain(&mut r);
    (frames, *r.anomalies())
}

/// A `Read` that hands out at most `n` bytes per call.
struct Trickle {
    data: Vec<u8>,
    pos: usize,
    n: usize,
}

impl Read for Trickle {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let k = self.n.min(buf.len()).min(self.data.len() - self.pos);
        buf[..k].copy_from_slice(&self.data[self.pos..self.pos + k]);
        self.pos += k;
        Ok(k)
    }
}

// ---- writers ----

fn put16(v: &mut Vec<u8>, x: u16, be: bool) {
    v.extend_from_slice(&if be { x.to_be_bytes() } else { x.to_le_bytes() });
}
fn put32(v: &mut Vec<u8>, x: u32, be: bool) {
    v.extend_from_slice(&if be { x.to_be_bytes() } else { x.to_le_bytes() });
}

/// Classic pcap file: magic (written in `be` order), header, records (sec, frac, data, orig).
fn pcap_file(magic: u32, be: bool, link: u32, recs: &[(u32, u32, &[u8], u32)]) -> Vec<u8> {
    let mut v = Vec::new();
    put32(&mut v, magic, be); // magic
    put16(&mut v, 2, be); // version major
    put16(&mut v, 4, be); // version minor
    put32(&mut v, 0, be); // thiszone
    put32(&mut v, 0, be); // sigfigs
    put32(&mut v, 65535, be); // snaplen
    put32(&mut v, link, be); // linktype
    let kuz = magic == 0xA1B2_CD34;
    for (sec, frac, data, orig) in recs {
        put32(&mut v, *sec, be); // ts_sec
        put32(&mut v, *frac, be); // ts_usec / ts_nsec
        put32(&mut v, data.len() as u32, be); // caplen
        put32(&mut v, *orig, be); // origlen
        if kuz {
            v.extend_from_slice(&[0; 8]); // ifindex, protocol, pkt_type, pad
        }
        v.extend_from_slice(data);
    }
    v
}

/// pcapng block: type, total length, body (padded to 4), total length again.
fn block(be: bool, btype: u32, body: &[u8]) -> Vec<u8> {
    let mut body = body.to_vec();
    while body.len() & 3 != 0 {
        body.push(0);
    }
    let len = body.len() as u32 + 12;
    let mut v = Vec::new();
    put32(&mut v, btype, be);
    put32(&mut v, len, be);
    v.extend_from_slice(&body);
    put32(&mut v, len, be);
    v
}

fn shb(be: bool) -> Vec<u8> {
    let mut b = Vec::new();
    put32(&mut b, BOM, be); // byte-order magic
    put16(&mut b, 1, be); // major
    put16(&mut b, 0, be); // minor
    b.extend_from_slice(&[0xff; 8]); // section length: unknown (-1)
    block(be, SHB, &b)
}

fn idb(be: bool, link: u16, snaplen: u32, tsresol: Option<u8>, tsoffset: Option<i64>) -> Vec<u8> {
    let mut b = Vec::new();
    put16(&mut b, link, be); // linktype
    put16(&mut b, 0, be); // reserved
    put32(&mut b, snaplen, be); // snaplen
    put16(&mut b, 2, be); // if_name
    put16(&mut b, 3, be);
    b.extend_from_slice(b"eth\0");
    if let Some(r) = tsresol {
        put16(&mut b, 9, be); // if_tsresol
        put16(&mut b, 1, be);
        b.extend_from_slice(&[r, 0, 0, 0]);
    }
    if let Some(o) = tsoffset {
        put16(&mut b, 14, be); // if_tsoffset
        put16(&mut b, 8, be);
        b.extend_from_slice(&if be { o.to_be_bytes() } else { o.to_le_bytes() });
    }
    put16(&mut b, 0, be); // opt_endofopt
    put16(&mut b, 0, be);
    block(be, IDB, &b)
}

fn epb(be: bool, ifid: u32, units: u64, data: &[u8], orig: u32) -> Vec<u8> {
    let mut b = Vec::new();
    put32(&mut b, ifid, be); // interface id
    put32(&mut b, (units >> 32) as u32, be); // ts high
    put32(&mut b, units as u32, be); // ts low
    put32(&mut b, data.len() as u32, be); // caplen
    put32(&mut b, orig, be); // origlen
    b.extend_from_slice(data);
    block(be, EPB, &b)
}

fn pb(be: bool, ifid: u16, units: u64, data: &[u8]) -> Vec<u8> {
    let mut b = Vec::new();
    put16(&mut b, ifid, be); // interface id
    put16(&mut b, 0, be); // drops count
    put32(&mut b, (units >> 32) as u32, be);
    put32(&mut b, units as u32, be);
    put32(&mut b, data.len() as u32, be);
    put32(&mut b, data.len() as u32, be);
    b.extend_from_slice(data);
    block(be, PB, &b)
}

fn spb(be: bool, data: &[u8], orig: u32) -> Vec<u8> {
    let mut b = Vec::new();
    put32(&mut b, orig, be); // original length
    b.extend_from_slice(data);
    block(be, SPB, &b)
}

fn sample_pcap() -> Vec<u8> {
    pcap_file(
        0xA1B2_C3D4,
        false,
        1,
        &[
            (1_000_000_000, 5, b"abc", 3),
            (1_000_000_001, 999_999, b"", 60),
            (7, 1, &[9u8; 300], 1500),
        ],
    )
}

fn sample_pcapng() -> Vec<u8> {
    let mut v = shb(false);
    v.extend(idb(false, 1, 0, None, None)); // if 0: Ethernet, microseconds
    v.extend(idb(false, 101, 96, Some(9), Some(10))); // if 1: raw, nanoseconds, +10 s
    v.extend(epb(false, 0, 1_500_000, b"first", 5));
    v.extend(block(false, 5, &[0; 20])); // ISB: skipped
    v.extend(epb(false, 1, 2_000_000_123, b"second!", 100));
    v.extend(spb(false, b"simple-packet", 13)); // interface 0, last timestamp
    v.extend(pb(false, 0, 3, b"old"));
    v.extend(epb(false, 5, 0, b"nope", 4)); // unknown interface
                                            // Second section, big-endian, one interface with binary resolution 2^-10.
    v.extend(shb(true));
    v.extend(idb(true, 113, 0, Some(0x80 | 10), None));
    v.extend(epb(true, 0, 1024 * 3 + 512, b"sll", 3));
    v.extend(epb(true, 1, 0, b"gone", 4)); // interface 1 belongs to the old section
    v
}

// ---- tests ----

#[test]
fn classic_pcap_all_magics() {
    let recs: &[(u32, u32, &[u8], u32)] = &[(10, 123_456, b"\x01\x02", 2), (11, 7, b"xyz", 99)];
    for (magic, be, nsec) in [
        (0xA1B2_C3D4, false, false),
        (0xA1B2_C3D4, true, false),
        (0xA1B2_3C4D, false, true),
        (0xA1B2_3C4D, true, true),
    ] {
        let (frames, an) = read_all(&pcap_file(magic, be, 1, recs));
        assert_eq!(an, Anomalies::default());
        assert_eq!(frames.len(), 2, "magic {magic:x} be {be}");
        let frac0 = if nsec { 123 } else { 123_456 };
        assert_eq!(frames[0].ts, 10_000_000 + frac0);
        assert_eq!(frames[0].data, b"\x01\x02");
        assert_eq!(frames[0].link, LinkType::Ethernet);
        assert_eq!(frames[1].ts, 11_000_000 + if nsec { 0 } else { 7 });
        assert_eq!(frames[1].orig_len, 99);
    }
}

#[test]
fn kuznetzov_variant_and_linktype_fcs_bits() {
    let (frames, an) = read_all(&pcap_file(
        0xA1B2_CD34,
        true,
        0x1000_0000 | 113,
        &[(1, 2, b"abcd", 4)],
    ));
    assert_eq!(an, Anomalies::default());
    assert_eq!(
        frames,
        vec![Owned {
            ts: 1_000_002,
            link: LinkType::LinuxSll,
            data: b"abcd".to_vec(),
            orig_len: 4
        }]
    );
}

#[test]
fn modified_24_byte_record_headers_are_detected() {
    // Standard magic, but each record header is followed by 8 more bytes
    // (ifindex, protocol, pkt_type, pad) as in old patched libpcaps.
    let recs: Vec<(u32, u32, Vec<u8>)> = (0..10)
        .map(|i| (1_700_000_000 + i, 1000 * i, vec![i as u8; 20 + i as usize]))
        .collect();
    let mut v = pcap_file(0xA1B2_C3D4, false, 272, &[]);
    for (sec, usec, data) in &recs {
        put32(&mut v, *sec, false);
        put32(&mut v, *usec, false);
        put32(&mut v, data.len() as u32, false);
        put32(&mut v, data.len() as u32, false);
        v.extend_from_slice(&[0x07, 0x13, 0x00, 0x03, 0x2e, 0x59, 0x06, 0x0a]); // extra header bytes
        v.extend_from_slice(data);
    }
    let (frames, an) = read_all(&v);
    assert_eq!(an, Anomalies::default());
    assert_eq!(frames.len(), 10);
    assert_eq!(frames[3].data, vec![3u8; 23]);
    assert_eq!(frames[3].ts, 1_700_000_003_003_000);
}

#[test]
fn pcapng_sections_interfaces_resolutions() {
    let bytes = sample_pcapng();
    let mut r = reader(&bytes).unwrap();
    assert!(r.is_pcapng());
    let frames = drain(&mut r);
    let a = *r.anomalies();
    assert_eq!(a.unknown_interface, 2);
    assert_eq!(a.skipped_blocks, 1);
    assert_eq!(a.total(), 2, "{a:?}");
    assert_eq!(r.bytes_read(), bytes.len() as u64);
    let want = vec![
        Owned {
            ts: 1_500_000,
            link: LinkType::Ethernet,
            data: b"first".to_vec(),
            orig_len: 5,
        },
        Owned {
            ts: 10_000_000 + 2_000_000,
            link: LinkType::Raw,
            data: b"second!".to_vec(),
            orig_len: 100,
        },
        Owned {
            ts: 2_000_000 + 10_000_000,
            link: LinkType::Ethernet,
            data: b"simple-packet".to_vec(),
            orig_len: 13,
        },
        Owned {
            ts: 3,
            link: LinkType::Ethernet,
            data: b"old".to_vec(),
            orig_len: 3,
        },
        Owned {
            ts: 3_500_000,
            link: LinkType::LinuxSll,
            data: b"sll".to_vec(),
            orig_len: 3,
        },
    ];
    assert_eq!(frames, want);
}

#[test]
fn spb_respects_snaplen_and_orig_len() {
    let mut v = shb(false);
    v.extend(idb(false, 1, 4, None, None)); // snaplen 4
    v.extend(spb(false, b"abcdefgh", 100)); // padded body longer than snaplen
    v.extend(spb(false, b"abcdefgh", 2)); // orig shorter than body
    let (frames, _) = read_all(&v);
    assert_eq!(frames[0].data, b"abcd");
    assert_eq!(frames[1].data, b"ab");
}

#[test]
fn tsresol_conversions() {
    assert_eq!(TsConv::from_tsresol(6).micros(42), 42);
    assert_eq!(TsConv::from_tsresol(3).micros(42), 42_000);
    assert_eq!(TsConv::from_tsresol(0).micros(2), 2_000_000);
    assert_eq!(TsConv::from_tsresol(9).micros(1_234_567), 1_234);
    assert_eq!(TsConv::from_tsresol(0x80 | 20).micros(1 << 20), 1_000_000);
    assert_eq!(TsConv::from_tsresol(0x80).micros(3), 3_000_000);
    assert_eq!(TsConv::from_tsresol(127).micros(1_000_000), 0);
    assert_eq!(TsConv::from_tsresol(0xff).micros(u64::MAX), 0);
    assert_eq!(TsConv::from_tsresol(0).micros(u64::MAX), i64::MAX);
}

#[test]
fn not_a_capture_and_truncated_header() {
    assert!(matches!(reader(b""), Err(Error::NotACapture { .. })));
    assert!(matches!(
        reader(b"GET / HTTP/1.1\r\n"),
        Err(Error::NotACapture { .. })
    ));
    let p = sample_pcap();
    assert!(matches!(
        reader(&p[..20]),
        Err(Error::Truncated {
            what: "file header",
            ..
        })
    ));
    let mut ng = shb(false);
    ng[8] = 0x99; // bad byte-order magic
    assert!(matches!(reader(&ng), Err(Error::NotACapture { .. })));
    assert!(matches!(
        reader(&[0x0A, 0x0D, 0x0D, 0x0A, 0x1c]),
        Err(Error::Truncated { .. })
    ));
}

#[test]
fn open_missing_file_names_it() {
    let e = FileReader::open(Path::new("/nonexistent/dir/x.pcap")).unwrap_err();
    let msg = e.to_string();
    assert!(msg.starts_with("/nonexistent/dir/x.pcap: "), "{msg}");
}

#[test]
fn every_truncation_ends_cleanly() {
    for bytes in [sample_pcap(), sample_pcapng()] {
        let (full, _) = read_all(&bytes);
        for cut in 0..bytes.len() {
            match reader(&bytes[..cut]) {
                Err(Error::NotACapture { .. } | Error::Truncated { .. }) => assert!(cut < 24),
                Err(e) => panic!("unexpected error at cut {cut}: {e}"),
                Ok(mut r) => {
                    let frames = drain(&mut r);
                    assert!(frames.len() <= full.len());
                    assert_eq!(frames[..], full[..frames.len()], "cut {cut}");
                    assert_eq!(
                        r.next_frame().unwrap().map(|f| f.data.len()),
                        None,
                        "stays at end"
                    );
                }
            }
        }
    }
}

#[test]
fn truncated_tail_is_counted() {
    let p = sample_pcap();
    let (frames, an) = read_all(&p[..p.len() - 1]);
    assert_eq!(frames.len(), 2);
    assert_eq!(an.truncated_records, 1);
}

#[test]
fn tiny_buffer_and_short_reads_give_same_frames() {
    for bytes in [sample_pcap(), sample_pcapng()] {
        let (want, want_an) = read_all(&bytes);
        for (bufsize, chunk) in [(32, 1), (32, 7), (100, 3), (1 << 16, 5), (40, 1 << 20)] {
            let t = Trickle {
                data: bytes.clone(),
                pos: 0,
                n: chunk,
            };
            let mut r = FileReader::with_buffer("t".into(), Box::new(t), 0, bufsize).unwrap();
            assert_eq!(drain(&mut r), want, "bufsize {bufsize} chunk {chunk}");
            assert_eq!(*r.anomalies(), want_an);
            assert_eq!(r.bytes_read(), bytes.len() as u64);
        }
    }
}

/// A classic pcap of `n` records of lengths 0..=199, each filled with its own number.
fn many_records(n: u32) -> Vec<u8> {
    let payloads: Vec<Vec<u8>> = (0..n).map(|i| vec![i as u8; (i % 200) as usize]).collect();
    let recs: Vec<(u32, u32, &[u8], u32)> = payloads
        .iter()
        .enumerate()
        .map(|(i, d)| (i as u32, 0, d.as_slice(), d.len() as u32 + 4))
        .collect();
    pcap_file(0xA1B2_C3D4, false, 1, &recs)
}

#[test]
fn frames_stay_readable_in_buffers_held_elsewhere() {
    for bytes in [many_records(700), sample_pcapng()] {
        let (want, _) = read_all(&bytes);
        // `keep`: how many of the latest frames are held (their buffers with them).
        for keep in [usize::MAX, 3, 1] {
            let t = Trickle {
                data: bytes.clone(),
                pos: 0,
                n: 7,
            };
            let mut r = FileReader::with_buffer("t".into(), Box::new(t), 0, 600).unwrap();
            let mut held: std::collections::VecDeque<(usize, SharedBuffer, usize, usize)> =
                Default::default();
            let mut got = vec![None; want.len()];
            let mut i = 0;
            let mut check = |(i, buf, off, len): (usize, SharedBuffer, usize, usize)| {
                got[i] = buf.get(off..off + len).map(<[u8]>::to_vec);
            };
            while let Some((f, buf)) = r.next_shared().unwrap() {
                let off = FileReader::offset_in(f.data, buf);
                assert_eq!(buf.get(off..off + f.data.len()), Some(f.data));
                held.push_back((i, Arc::clone(buf), off, f.data.len()));
                i += 1;
                while held.len() > keep {
                    check(held.pop_front().unwrap());
                }
            }
            for h in held.drain(..) {
                check(h);
            }
            let want_data: Vec<_> = want.iter().map(|w| Some(w.data.clone())).collect();
            assert_eq!(got, want_data, "keep {keep}");
            assert!(r.spare.len() <= MAX_SPARES);
        }
    }
}

#[test]
fn a_reader_whose_buffer_nobody_holds_keeps_one_buffer() {
    let bytes = many_records(700);
    let t = Trickle {
        data: bytes.clone(),
        pos: 0,
        n: 7,
    };
    let mut r = FileReader::with_buffer("t".into(), Box::new(t), 0, 600).unwrap();
    let mut n = 0;
    while r.next_shared().unwrap().is_some() {
        n += 1;
    }
    assert_eq!(n, 700);
    assert!(r.spare.is_empty());
}

#[test]
fn oversized_record_is_skipped() {
    let big = vec![0u8; 300_000];
    let p = pcap_file(
        0xA1B2_C3D4,
        false,
        1,
        &[(1, 0, b"a", 1), (2, 0, &big, 300_000), (3, 0, b"c", 1)],
    );
    let (frames, an) = read_all(&p);
    assert_eq!(
        frames.iter().map(|f| f.data.clone()).collect::<Vec<_>>(),
        vec![b"a".to_vec(), b"c".to_vec()]
    );
    assert_eq!(an.oversized_records, 1);
    assert_eq!(an.bad_records, 0);

    let mut ng = shb(false);
    ng.extend(idb(false, 1, 0, None, None));
    ng.extend(epb(false, 0, 1, &big, 300_000));
    ng.extend(epb(false, 0, 2, b"ok", 2));
    let (frames, an) = read_all(&ng);
    assert_eq!(frames.len(), 1);
    assert_eq!(an.oversized_records, 1);
}

#[test]
fn corrupt_pcap_record_header_resyncs() {
    let good = pcap_file(
        0xA1B2_C3D4,
        false,
        1,
        &[(1, 0, b"one", 3), (2, 0, b"two", 3), (3, 0, b"three", 5)],
    );
    // Corrupt the caplen of the second record (offset 24 + 16 + 3 + 8).
    let mut bad = good.clone();
    bad[24 + 16 + 3 + 8..24 + 16 + 3 + 12].copy_from_slice(&0xFFFF_0000u32.to_le_bytes());
    let (frames, an) = read_all(&bad);
    assert_eq!(
        frames.iter().map(|f| f.data.clone()).collect::<Vec<_>>(),
        vec![b"one".to_vec(), b"three".to_vec()]
    );
    assert_eq!(an.bad_records, 1);
    assert_eq!(an.resyncs, 1);
    assert_eq!(an.resync_skipped_bytes, 16 + 3);

    // Garbage at the end: skipped, then end.
    let mut tail = good.clone();
    tail.extend_from_slice(&[0xff; 50]);
    let (frames, an) = read_all(&tail);
    assert_eq!(frames.len(), 3);
    assert_eq!(an.bad_records, 1);
}

#[test]
fn corrupt_pcapng_block_resyncs() {
    let mut v = shb(false);
    v.extend(idb(false, 1, 0, None, None));
    v.extend(epb(false, 0, 1, b"one", 3));
    let bad_at = v.len();
    v.extend(epb(false, 0, 2, b"two", 3));
    v.extend(epb(false, 0, 3, b"three", 5));
    // Break the trailing length of "two".
    let mut bad = v.clone();
    let two_len = epb(false, 0, 2, b"two", 3).len();
    bad[bad_at + two_len - 4] ^= 0x40;
    let (frames, an) = read_all(&bad);
    assert_eq!(
        frames.iter().map(|f| f.data.clone()).collect::<Vec<_>>(),
        vec![b"one".to_vec(), b"three".to_vec()]
    );
    assert_eq!(an.bad_blocks, 1);
    assert_eq!(an.resyncs, 1);
    // Impossible length (not a multiple of 4).
    let mut bad = v.clone();
    bad[bad_at + 4] = 0x13;
    let (frames, an) = read_all(&bad);
    assert_eq!(frames.len(), 2);
    assert_eq!(an.bad_blocks, 1);
    // Garbage instead of a block type: not a known type, resync finds "three".
    let mut bad = v;
    bad[bad_at..bad_at + 4].copy_from_slice(b"ZZZZ");
    let (frames, an) = read_all(&bad);
    assert_eq!(
        frames.len(),
        2,
        "unknown block types are skipped by their length"
    );
    assert_eq!(an.skipped_blocks, 1);
}

#[test]
fn epb_caplen_beyond_block_is_bad() {
    let mut v = shb(false);
    v.extend(idb(false, 1, 0, None, None));
    let mut e = epb(false, 0, 1, b"abcd", 4);
    e[8 + 12] = 200; // caplen 200 > body
    v.extend(e);
    v.extend(epb(false, 0, 1, b"ok", 2));
    let (frames, an) = read_all(&v);
    assert_eq!(frames.len(), 1);
    assert_eq!(an.bad_blocks, 1);
}

#[test]
fn too_many_interfaces_are_counted() {
    let mut v = shb(false);
    for _ in 0..MAX_IFACES + 3 {
        v.extend(idb(false, 1, 0, None, None));
    }
    let (_, an) = read_all(&v);
    assert_eq!(an.too_many_interfaces, 3);
}

#[test]
fn file_on_disk_roundtrip() {
    let path = std::env::temp_dir().join(format!(
        "ward-capture-{}-roundtrip.pcapng",
        std::process::id()
    ));
    std::fs::write(&path, sample_pcapng()).unwrap();
    let mut r = FileReader::open(&path).unwrap();
    assert_eq!(r.file_len(), sample_pcapng().len() as u64);
    assert_eq!(drain(&mut r).len(), 5);
    let _ = std::fs::remove_file(&path);
}

mod prop {
    use super::*;
    use proptest::prelude::*;

    fn prefixed(kind: u8, body: Vec<u8>) -> Vec<u8> {
        let mut v = match kind % 4 {
            0 => pcap_file(0xA1B2_C3D4, false, 1, &[]),
            1 => pcap_file(0xA1B2_3C4D, true, 101, &[]),
            2 => {
                let mut v = shb(false);
                v.extend(idb(false, 1, 0, Some(9), None));
                v
            }
            _ => Vec::new(),
        };
        v.extend(body);
        v
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

        #[test]
        fn random_bytes_never_panic(kind in any::<u8>(), body in proptest::collection::vec(any::<u8>(), 0..2048)) {
            let bytes = prefixed(kind, body);
            if let Ok(mut r) = reader(&bytes) {
                let mut n = 0;
                while let Some(f) = r.next_frame().unwrap() {
                    prop_assert!(f.data.len() <= MAX_CAPLEN as usize);
                    n += 1;
                    prop_assert!(n <= bytes.len());
                }
                prop_assert!(r.bytes_read() <= bytes.len() as u64);
            }
        }

        #[test]
        fn mutated_valid_files_never_panic(ng in any::<bool>(), flips in proptest::collection::vec((any::<usize>(), any::<u8>()), 1..8)) {
            let mut bytes = if ng { sample_pcapng() } else { sample_pcap() };
            for (pos, val) in flips {
                let i = pos % bytes.len();
                bytes[i] = val;
            }
            if let Ok(mut r) = reader(&bytes) {
                while r.next_frame().unwrap().is_some() {}
            }
        }

        #[test]
        fn random_files_on_disk(body in proptest::collection::vec(any::<u8>(), 0..4096), kind in any::<u8>()) {
            use std::sync::atomic::{AtomicUsize, Ordering};
            static N: AtomicUsize = AtomicUsize::new(0);
            let path = std::env::temp_dir().join(format!(
                "ward-capture-{}-{}.pcap", std::process::id(), N.fetch_add(1, Ordering::Relaxed)));
            std::fs::write(&path, prefixed(kind, body)).unwrap();
            let res = FileReader::open(&path);
            if let Ok(mut r) = res {
                while r.next_frame().unwrap().is_some() {}
            }
            let _ = std::fs::remove_file(&path);
        }
    }
}
