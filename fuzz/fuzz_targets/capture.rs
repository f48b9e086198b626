//! Fuzz target: `capture::FileReader` on arbitrary bytes, read to the end.
//! The first byte picks a valid file header to prepend (classic pcap in both
//! byte orders and resolutions, pcapng with one interface, or none), so the
//! fuzzer spends its time in the record and block parsers.
#![no_main]

use capture::Source;

fn header(kind: u8) -> Vec<u8> {
    let pcap = |magic: [u8; 4], le: bool| {
        let mut v = magic.to_vec();
        let w16 = |x: u16| if le { x.to_le_bytes() } else { x.to_be_bytes() };
        let w32 = |x: u32| if le { x.to_le_bytes() } else { x.to_be_bytes() };
        v.extend_from_slice(&w16(2));
        v.extend_from_slice(&w16(4));
        v.extend_from_slice(&[0; 8]);
        v.extend_from_slice(&w32(65535));
        v.extend_from_slice(&w32(1));
        v
    };
    match kind % 5 {
        0 => pcap([0xd4, 0xc3, 0xb2, 0xa1], true),
        1 => pcap([0xa1, 0xb2, 0x3c, 0x4d], false),
        2 => pcap([0x34, 0xcd, 0xb2, 0xa1], true),
        3 => {
            // SHB (28 bytes) + IDB with if_tsresol = 9 (32 bytes), little-endian.
            let mut v = vec![
                0x0a, 0x0d, 0x0d, 0x0a, 28, 0, 0, 0, 0x4d, 0x3c, 0x2b, 0x1a, 1, 0, 0, 0,
            ];
            v.extend_from_slice(&[0xff; 8]);
            v.extend_from_slice(&[28, 0, 0, 0]);
            v.extend_from_slice(&[1, 0, 0, 0, 32, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0]);
            v.extend_from_slice(&[9, 0, 1, 0, 9, 0, 0, 0, 0, 0, 0, 0, 32, 0, 0, 0]);
            v
        }
        _ => Vec::new(),
    }
}

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let Some((&kind, rest)) = data.split_first() else {
        return;
    };
    let mut bytes = header(kind);
    bytes.extend_from_slice(rest);
    let len = bytes.len() as u64;
    if let Ok(mut r) =
        capture::FileReader::from_read("fuzz", Box::new(std::io::Cursor::new(bytes)), len)
    {
        while let Ok(Some(f)) = r.next_frame() {
            let _ = wire::decode(f.link, f.data);
        }
        assert!(r.bytes_read() <= len);
    }
});
