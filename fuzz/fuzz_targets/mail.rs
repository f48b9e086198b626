//! Fuzz target: the SMTP, IMAP and POP3 analyzers on arbitrary conversations.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    analyzer_api::testing::fuzz(&proto_mail::Smtp, data);
    analyzer_api::testing::fuzz(&proto_mail::Imap, data);
    analyzer_api::testing::fuzz(&proto_mail::Pop3, data);
});
