//! Fuzz target: the Bluetooth LE decoder on whole frames of each of its link
//! types (the first byte chooses 251, 256 or 272).
#![no_main]
use analyzer_api::{LinkFrame, LinkProtocol, Out};
use model::{MacAddr, Timestamp};

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let Some((&ctl, rest)) = data.split_first() else {
        return;
    };
    let link = [
        proto_ble::LINKTYPE_BLE_LL,
        proto_ble::LINKTYPE_BLE_LL_WITH_PHDR,
        proto_ble::LINKTYPE_NORDIC_BLE,
    ][usize::from(ctl % 3)];
    let frame = LinkFrame {
        dst: MacAddr::default(),
        src: MacAddr::default(),
        ethertype: None,
        snap: None,
        raw_link: Some(link),
        payload: rest,
    };
    let mut events = Vec::new();
    let mut out = Out::new(Timestamp(0), None, "ble", &mut events);
    proto_ble::Ble.handle(&frame, &mut out);
});
