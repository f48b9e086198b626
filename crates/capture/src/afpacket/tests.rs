//! Tests of the AF_PACKET source: header checks on synthetic blocks (any
//! user), and captures on `lo` (root only; skipped with a message otherwise).

use super::*;
use std::net::UdpSocket;
use std::time::{Duration, Instant};

/// A block with `frames` (snaplen, tp_mac) at 64-byte spacing from offset 48.
fn block(frames: &[(u32, u16)]) -> Vec<u8> {
    let mut b = vec![0u8; 4096];
    let mut off = BD_LEN;
    b[BD_NUM_PKTS..BD_NUM_PKTS + 4].copy_from_slice(&(frames.len() as u32).to_ne_bytes());
    b[BD_FIRST..BD_FIRST + 4].copy_from_slice(&(off as u32).to_ne_bytes());
    for (i, &(snap, mac)) in frames.iter().enumerate() {
        let next: u32 = if i + 1 < frames.len() { 256 } else { 0 };
        b[off + TP_NEXT..off + TP_NEXT + 4].copy_from_slice(&next.to_ne_bytes());
        b[off + TP_SNAPLEN..off + TP_SNAPLEN + 4].copy_from_slice(&snap.to_ne_bytes());
        b[off + TP_LEN..off + TP_LEN + 4].copy_from_slice(&snap.to_ne_bytes());
        b[off + TP_MAC..off + TP_MAC + 2].copy_from_slice(&mac.to_ne_bytes());
        off += 256;
    }
    b[BD_BLK_LEN..BD_BLK_LEN + 4].copy_from_slice(&(off as u32).to_ne_bytes());
    b
}

#[test]
fn good_headers_parse() {
    let b = block(&[(60, 80), (100, 80)]);
    let (n, first, used) = parse_block(&b).unwrap();
    assert_eq!((n, first), (2, BD_LEN));
    let f = parse_frame(&b, used, first).unwrap();
    assert_eq!(
        (f.next, f.data, f.snaplen, f.vlan),
        (256, BD_LEN + 80, 60, None)
    );
    let g = parse_frame(&b, used, first + 256).unwrap();
    assert_eq!((g.next, g.snaplen), (0, 100));
}

#[test]
fn corrupt_headers_never_point_outside_the_block() {
    // Captured bytes past the used length, a MAC offset inside the header,
    // a frame header past the end, a used length past the block.
    let b = block(&[(4000, 80)]);
    let (_, first, used) = parse_block(&b).unwrap();
    assert!(parse_frame(&b, used, first).is_none());
    let b = block(&[(60, 8)]);
    assert!(parse_frame(&b, 4096, BD_LEN).is_none());
    assert!(parse_frame(&b, 4096, 4090).is_none());
    assert!(parse_frame(&b, 4096, usize::MAX - 3).is_none());
    let mut b = block(&[(60, 80)]);
    b[BD_BLK_LEN..BD_BLK_LEN + 4].copy_from_slice(&u32::MAX.to_ne_bytes());
    assert!(parse_block(&b).is_none());
    b[BD_BLK_LEN..BD_BLK_LEN + 4].copy_from_slice(&4096u32.to_ne_bytes());
    b[BD_FIRST..BD_FIRST + 4].copy_from_slice(&4u32.to_ne_bytes());
    assert!(parse_block(&b).is_none());
    assert!(parse_block(&b[..10]).is_none());
}

#[test]
fn random_headers_never_panic() {
    // A cheap xorshift over whole blocks: every parse either fails or stays inside.
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut b = vec![0u8; 1024];
    for _ in 0..2000 {
        for byte in b.iter_mut() {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            *byte = if x & 3 == 0 { (x >> 8) as u8 } else { 0 };
        }
        if let Some((_, first, used)) = parse_block(&b) {
            let mut off = first;
            for _ in 0..8 {
                let Some(f) = parse_frame(&b, used, off) else {
                    break;
                };
                assert!(f.data + f.snaplen <= used && used <= b.len());
                if f.next == 0 {
                    break;
                }
                off += f.next as usize;
            }
        }
    }
}

/// Whether the tests may open packet sockets.
fn root() -> bool {
    // SAFETY: geteuid has no preconditions.
    let euid = unsafe { libc::geteuid() };
    if euid != 0 {
        eprintln!("skipped: AF_PACKET capture needs root (CAP_NET_RAW)");
    }
    euid == 0
}

/// A free UDP port on 127.0.0.1 (bound and kept: nothing else can take it).
fn receiver() -> (UdpSocket, u16) {
    let s = UdpSocket::bind("127.0.0.1:0").unwrap();
    let p = s.local_addr().unwrap().port();
    (s, p)
}

/// The 8-byte payload (flow, sequence) of a captured UDP datagram.
fn tag(data: &[u8]) -> Option<(u32, u32)> {
    let p = data.get(data.len().checked_sub(8)?..)?;
    Some((
        u32::from_be_bytes(p[..4].try_into().ok()?),
        u32::from_be_bytes(p[4..].try_into().ok()?),
    ))
}

/// Polls `s` until `want` frames arrived or 5 s passed.
fn collect(s: &mut AfPacket, want: usize) -> Vec<(u32, u32)> {
    let mut got = Vec::new();
    let end = Instant::now() + Duration::from_secs(5);
    while got.len() < want && Instant::now() < end {
        match s.poll().unwrap() {
            Polled::Frame(f) => {
                assert_eq!(f.link, LinkType::from_dlt(1));
                assert_eq!(f.orig_len as usize, f.data.len());
                got.extend(tag(f.data));
            }
            Polled::Idle => {}
            Polled::End => break,
        }
    }
    got
}

#[test]
fn udp_on_lo_arrives_once_and_is_counted() {
    if !root() {
        return;
    }
    let (_rx, port) = receiver();
    let bpf = Bpf::compile(&format!("udp and dst port {port}")).unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    let (mut s, _) = AfPacket::open("lo", Some(&bpf), Fanout::None, stop).unwrap();
    let tx = UdpSocket::bind("127.0.0.1:0").unwrap();
    for i in 0..5u32 {
        let mut p = [0u8; 8];
        p[4..].copy_from_slice(&i.to_be_bytes());
        tx.send_to(&p, ("127.0.0.1", port)).unwrap();
    }
    let got = collect(&mut s, 5);
    assert_eq!(got, (0..5).map(|i| (0, i)).collect::<Vec<_>>());
    // Nothing more: the outgoing copies on lo are skipped.
    let end = Instant::now() + Duration::from_millis(300);
    while Instant::now() < end {
        if let Polled::Frame(f) = s.poll().unwrap() {
            panic!("unexpected frame {:?}", tag(f.data));
        }
    }
    let st = s.stats().unwrap();
    // The kernel counts both copies on lo (they pass the filter, then one is skipped).
    assert!(st.received >= 5, "{st:?}");
    assert_eq!(st.dropped, 0);
    assert_eq!(st.corrupt_blocks, 0);
    // Counters accumulate: a second read does not lose the first.
    assert!(s.stats().unwrap().received >= st.received);
}

#[test]
fn quiet_socket_is_idle_and_wakes_and_stops() {
    if !root() {
        return;
    }
    let (_rx, port) = receiver();
    let bpf = Bpf::compile(&format!("udp and dst port {port}")).unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    let (mut s, _) = AfPacket::open("lo", Some(&bpf), Fanout::None, Arc::clone(&stop)).unwrap();
    let t = Instant::now();
    assert!(matches!(s.poll().unwrap(), Polled::Idle));
    assert!(t.elapsed() < Duration::from_secs(2));
    let ev = s.event();
    let waker = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(50));
        ev.wake();
    });
    let t = Instant::now();
    assert!(matches!(s.poll().unwrap(), Polled::Idle));
    assert!(t.elapsed() < Duration::from_millis(POLL_MS as u64 + 100));
    waker.join().unwrap();
    stop.store(true, Ordering::Relaxed);
    assert!(matches!(s.poll().unwrap(), Polled::End));
}

#[test]
fn two_fanout_sockets_see_every_packet_once_with_whole_flows() {
    if !root() {
        return;
    }
    let (_rx, port) = receiver();
    let bpf = Bpf::compile(&format!("udp and dst port {port}")).unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    let (mut a, id) = AfPacket::open("lo", Some(&bpf), Fanout::New, Arc::clone(&stop)).unwrap();
    let (mut b, id2) =
        AfPacket::open("lo", Some(&bpf), Fanout::Join(id), Arc::clone(&stop)).unwrap();
    assert_eq!(id, id2);
    const FLOWS: u32 = 16;
    const PER_FLOW: u32 = 5;
    let senders: Vec<UdpSocket> = (0..FLOWS)
        .map(|_| UdpSocket::bind("127.0.0.1:0").unwrap())
        .collect();
    for seq in 0..PER_FLOW {
        for (flow, s) in senders.iter().enumerate() {
            let mut p = [0u8; 8];
            p[..4].copy_from_slice(&(flow as u32).to_be_bytes());
            p[4..].copy_from_slice(&seq.to_be_bytes());
            s.send_to(&p, ("127.0.0.1", port)).unwrap();
        }
    }
    let total = (FLOWS * PER_FLOW) as usize;
    let (ga, gb) = std::thread::scope(|sc| {
        let ta = sc.spawn(|| collect_until(&mut a, total, &stop));
        let tb = sc.spawn(|| collect_until(&mut b, total, &stop));
        (ta.join().unwrap(), tb.join().unwrap())
    });
    let mut all: Vec<_> = ga.iter().chain(&gb).copied().collect();
    all.sort_unstable();
    let want: Vec<_> = (0..FLOWS)
        .flat_map(|f| (0..PER_FLOW).map(move |s| (f, s)))
        .collect();
    assert_eq!(all, want, "every packet exactly once");
    for f in 0..FLOWS {
        let in_a = ga.iter().filter(|t| t.0 == f).count();
        let in_b = gb.iter().filter(|t| t.0 == f).count();
        assert!(in_a == 0 || in_b == 0, "flow {f} split: {in_a} + {in_b}");
    }
    // With 16 flows both sockets get some (the hash spreads them).
    assert!(
        !ga.is_empty() && !gb.is_empty(),
        "{} {}",
        ga.len(),
        gb.len()
    );
    let (sa, sb) = (a.stats().unwrap(), b.stats().unwrap());
    assert!(sa.received + sb.received >= total as u64, "{sa:?} {sb:?}");
}

/// Collects from `s` until the shared count reaches `total` or 5 s passed;
/// `stop` ends the other socket's loop too.
fn collect_until(s: &mut AfPacket, total: usize, stop: &AtomicBool) -> Vec<(u32, u32)> {
    static SEEN: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let mut got = Vec::new();
    let end = Instant::now() + Duration::from_secs(5);
    while Instant::now() < end {
        match s.poll().unwrap() {
            Polled::Frame(f) => {
                got.extend(tag(f.data));
                if SEEN.fetch_add(1, Ordering::SeqCst) + 1 >= total {
                    // Give the other socket a moment for a (wrong) duplicate.
                    std::thread::sleep(Duration::from_millis(300));
                    stop.store(true, Ordering::SeqCst);
                }
            }
            Polled::Idle => {}
            Polled::End => break,
        }
    }
    got
}
