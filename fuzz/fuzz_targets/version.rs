//! Fuzz target: the version grammar — advisory rule text
//! (`advisory::version::read_rule`: "8.x and earlier", "v6.x model
//! 35700BAX", `vers:` ranges, builds such as "20d29") and device version
//! strings (`Version::parse`), then checking the one against the other, the
//! compiled rule agreeing with the rule. The input is split at the first
//! newline: rule text before it, device version after.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let (rule_text, device) = text.split_once('\n').unwrap_or((text, ""));
    let read = advisory::version::read_rule(rule_text);
    let _ = read.rule.to_string();
    let compiled = advisory::CompiledRule::new(&read.rule);
    let raw = Some(device.trim()).filter(|v| !v.is_empty());
    let parsed = raw.and_then(advisory::Version::parse);
    let verdict = compiled.check(raw, parsed.as_ref());
    assert_eq!(verdict, read.rule.check(raw), "{rule_text:?} {device:?}");
    let _ = advisory::VersionRule::from_range_text(rule_text).check(raw);
    let _ = advisory::VersionRule::from_version_text(rule_text).check(raw);
});
