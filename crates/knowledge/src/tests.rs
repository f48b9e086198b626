//! Tests of the table parser, lookups and site overrides.

use super::*;

#[test]
fn every_embedded_table_parses() {
    let k = Knowledge::embedded();
    for (i, spec) in TABLES.iter().enumerate() {
        let n = Knowledge::check_embedded(i).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(n, k.rows(spec.name).len(), "{}: duplicate keys", spec.name);
        for r in k.rows(spec.name) {
            let c = k.cite(r);
            assert!(!c.source.is_empty() && !c.licence.is_empty(), "{}", c.id);
        }
    }
    assert!(k.rows("domain").len() > 20);
    assert!(k.rows("oui_vendor").len() > 50);
}

#[test]
fn domains_match_by_registered_domain_not_substring() {
    let k = Knowledge::embedded();
    let r = k.domain("us-kardia-production.alivecor.com").unwrap();
    assert_eq!(r.id(), "domain/alivecor.com");
    assert_eq!(r.get("vendor"), Some("AliveCor"));
    assert!(r.flag("medical"));
    assert_eq!(
        k.domain("wyze-app-monitor.wyzecam.com").unwrap().id(),
        "domain/wyzecam.com"
    );
    assert!(k.domain("notwyzecam.com").is_none());
    assert!(k.domain("wyzecam.com.evil.example").is_none());
    assert!(k.domain("com").is_none());
    assert!(k.domain("10.0.0.1").is_none());
    assert!(k.domain("").is_none());
    // The most specific entry wins.
    assert_eq!(
        k.domain("carelink.minimed.com").unwrap().id(),
        "domain/carelink.minimed.com"
    );
    assert_eq!(
        k.domain("x.carelink.minimed.com.").unwrap().id(),
        "domain/carelink.minimed.com"
    );
    assert_eq!(
        registered_domain("a.b.example.co.uk").as_deref(),
        Some("example.co.uk")
    );
    assert_eq!(registered_domain("co.uk"), None);
}

#[test]
fn vendors_keywords_tokens_and_fingerprints() {
    let k = Knowledge::embedded();
    let v = k.vendor("Espressif Inc.").unwrap();
    assert_eq!(v.get("kind"), Some("chip"));
    assert_eq!(v.get("brand"), None);
    assert_eq!(
        k.vendor("Withings").unwrap().get("category"),
        Some("medical_device")
    );
    // Longest pattern wins: Cisco Meraki over Cisco.
    assert_eq!(
        k.vendor("Cisco Meraki").unwrap().get("brand"),
        Some("Cisco Meraki")
    );
    assert!(k.vendor("Franciscomatic Ltd").is_none(), "words only");
    let kws: Vec<String> = k.keywords("MRI-CONSOLE").iter().map(|r| r.id()).collect();
    assert_eq!(kws, vec!["keyword/mri"]);
    assert!(k.keywords("label-maker").is_empty());
    let t = k.model_tokens("wpm05-ws.withings.net");
    assert_eq!(t.len(), 1);
    assert_eq!(t[0].get("model"), Some("WPM05"));
    assert_eq!(
        k.dhcp_vendor_class("android-dhcp-13").unwrap().get("os"),
        Some("Android")
    );
    assert_eq!(
        k.dhcp_vendor_class("MSFT 5.0").unwrap().id(),
        "dhcp_vendor_class/msft 5.0"
    );
    assert!(k.dhcp_vendor_class("MSFT 5.0").unwrap().flag("generic"));
    assert!(k.dhcp_vendor_class("CareFusion Alaris PC 8015").is_none());
    assert_eq!(
        k.dhcp_fingerprint("1, 3, 6, 15, 26, 28, 51, 58, 59, 43")
            .unwrap()
            .get("os"),
        Some("Android")
    );
    assert!(k.ja4("t13d1516h2_8daaf6152771_02713d6af862").is_some());
    assert_eq!(
        k.user_agent("BabyNew/3.4.7 Dalvik/2.1.0 (Linux; U; Android 13)")
            .len(),
        2
    );
}

#[test]
fn a_site_file_extends_and_overrides() {
    let site = "\
# @source: our biomed team
# @licence: internal
[domain]
withings.net\tWithings (site)\tHealth Mate\tyes\t-\tmedical_device
example-med.com\tExample Med\tExampleApp\tyes\tinfusion pump\tinfusion_pump
[keyword]
zork\tinfusion_pump\t0.9\tinfusion pump
";
    let k = Knowledge::with_site(site, "site.tsv").unwrap();
    let r = k.domain("scalews.withings.net").unwrap();
    assert_eq!(r.get("vendor"), Some("Withings (site)"));
    let c = k.cite(r);
    assert_eq!(
        (c.source.as_str(), c.licence.as_str(), c.file.as_str()),
        ("our biomed team", "internal", "site.tsv")
    );
    assert_eq!(
        k.domain("a.example-med.com").unwrap().get("device_type"),
        Some("infusion pump")
    );
    assert_eq!(k.keywords("ZORK-1")[0].weight("weight"), Some(0.9));
    assert_eq!(k.entry("keyword/zork").unwrap().key(), "zork");
    // The embedded rows are untouched elsewhere.
    assert_eq!(
        k.rows("domain").len(),
        Knowledge::embedded().rows("domain").len() + 1
    );
}

#[test]
fn bad_site_files_are_one_line_errors() {
    let cases: &[(&str, &str)] = &[
        ("[nope]\n", "site:1: unknown table [nope]"),
        ("x\ty\n", "site:1: a row before any [TABLE] section"),
        (
            "[keyword]\nzork\tinfusion_pump\t0.9\tx\n",
            "site:2: a row without a preceding",
        ),
        (
            "# @source: a\n# @licence: b\n[keyword]\nzork\tinfusion_pump\n",
            "site:4: [keyword] rows have 4",
        ),
        (
            "# @source: a\n# @licence: b\n[keyword]\nzo\u{1b}rk\tx\t1\t-\n",
            "site:4: control characters",
        ),
        (
            "# @source: a\n# @licence: b\n[keyword]\n-\tx\t1\t-\n",
            "site:4: empty key",
        ),
    ];
    for (text, want) in cases {
        let e = Knowledge::with_site(text, "site").unwrap_err().to_string();
        assert!(e.starts_with(want), "{e:?} vs {want:?}");
        assert!(!e.contains('\n'));
    }
    let long = format!(
        "# @source: a\n# @licence: b\n[keyword]\n{}\tx\t1\t-\n",
        "a".repeat(MAX_FIELD + 1)
    );
    assert!(Knowledge::with_site(&long, "s")
        .unwrap_err()
        .to_string()
        .contains("longer than"));
    let huge = "#".repeat(MAX_SITE_BYTES + 1);
    assert!(matches!(
        Knowledge::with_site(&huge, "s"),
        Err(Error::TooLarge { .. })
    ));
}

#[test]
fn hostile_bytes_never_panic() {
    let mut x: u32 = 12345;
    for _ in 0..300 {
        let mut s = String::from("# @source: a\n# @licence: b\n[domain]\n");
        for _ in 0..64 {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            s.push(match x % 7 {
                0 => '\t',
                1 => '\n',
                2 => '[',
                3 => ']',
                4 => '.',
                5 => char::from_u32(0x80 + x % 0x700).unwrap_or('x'),
                _ => (b'a' + (x % 26) as u8) as char,
            });
        }
        let _ = Knowledge::with_site(&s, "fuzz");
        let k = Knowledge::embedded();
        let _ = k.domain(&s);
        let _ = k.model_tokens(&s);
        let _ = k.keywords(&s);
    }
}

#[test]
fn platform_words_sdk_hosts_and_capture_addresses() {
    let k = Knowledge::embedded();
    let ids = |v: Vec<&Row>| v.iter().map(|r| r.id()).collect::<Vec<_>>();
    assert_eq!(
        ids(k.host_words("android-cdn-api.example-vendor.com")),
        ["host_word/android"]
    );
    // Only the labels left of the registered domain, as whole words.
    assert!(k.host_words("android.com").is_empty());
    assert!(k.host_words("androids.example.com").is_empty());
    assert!(k.host_words("api.ios").is_empty());
    assert_eq!(
        k.domain_in("app_sdk", "sdk.iad-03.braze.com").unwrap().id(),
        "app_sdk/braze.com"
    );
    assert!(k.domain_in("app_sdk", "notbraze.com").is_none());
    let ip = |s: &str| s.parse::<std::net::IpAddr>().unwrap();
    assert_eq!(
        k.capture_address(&ip("10.215.173.2")).unwrap().get("role"),
        Some("virtual-resolver")
    );
    assert_eq!(
        k.capture_address(&ip("fd00:2:fd00:1:fd00:1:fd00:1"))
            .unwrap()
            .get("os"),
        Some("Android")
    );
    assert!(k.capture_address(&ip("10.215.173.3")).is_none());
}

#[test]
fn the_word_index_finds_what_trying_every_row_finds() {
    let site = "\
# @source: test
# @licence: CC0-1.0
[keyword]
-odd start\tinfusion_pump\t0.5\t-
dräger x\tpatient_monitor\t0.5\t-
a-b c\tpatient_monitor\t0.5\t-
";
    let k = Knowledge::with_site(site, "site.tsv").unwrap();
    let mut hays: Vec<String> = vec![
        "".into(),
        "x -odd start y".into(),
        "Dräger X".into(),
        "dräger xl".into(),
        "the a-b c of it".into(),
        "a-b cd".into(),
        "sigma spectrum infusion pump".into(),
        "philips intellivue mp70 patient monitor".into(),
        "Mozilla/5.0 (Linux; Android 12; SM-G991B) Withings/6.1".into(),
        "Texas Instruments; Espressif Inc.".into(),
        "ümlaut—pump—monitor ☃ 9".into(),
    ];
    for t in [
        "keyword",
        "oui_vendor",
        "user_agent",
        "domain",
        "model_token",
    ] {
        for r in k.rows(t) {
            hays.push(format!("x {} y", r.key()));
            hays.push(r.key().to_uppercase());
            hays.push(format!("{}s", r.key()));
        }
    }
    for table in ["keyword", "oui_vendor", "user_agent"] {
        let t = k.table(table).unwrap();
        for hay in &hays {
            let hay = hay.to_lowercase();
            let slow: Vec<&Row> = t
                .rows
                .iter()
                .filter(|r| contains_word(&hay, &r.lower))
                .collect();
            assert_eq!(t.rows_in(&hay), slow, "{table}: {hay:?}");
        }
    }
}
