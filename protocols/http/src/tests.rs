//! Unit tests for the HTTP analyzer: synthetic conversations written here,
//! and the Zeek HTTP traces compared with Zeek's http.log baselines when
//! `../shared/testdata` is present.

use super::*;
use analyzer_api::testing::{never_panics, run, run_forced};
use model::Record;

fn http_records(records: &[Record]) -> Vec<&HttpRecord> {
    records
        .iter()
        .filter_map(|r| {
            if let Record::Http(h) = r {
                Some(h)
            } else {
                None
            }
        })
        .collect()
}

fn weirds(records: &[Record]) -> Vec<&str> {
    records
        .iter()
        .filter_map(|r| {
            if let Record::Weird(w) = r {
                Some(w.name.as_str())
            } else {
                None
            }
        })
        .collect()
}

fn run_conv(conv: &[(Direction, &[u8])]) -> Vec<Record> {
    run(&Http, Transport::Tcp, 80, conv)
}

const REQ1: &[u8] = b"GET /monitor/status?bed=4%2F7 HTTP/1.1\r\nHost: pump-17.icu.local\r\nUser-Agent: InfusionMgr/2.3\r\nAuthorization: Basic YWRtaW46YWRtaW4=\r\n\r\n";
const REQ2: &[u8] = b"POST /api/upload HTTP/1.1\r\nHost: pump-17.icu.local\r\nContent-Length: 11\r\n\r\nhello world";
const RESP1: &[u8] = b"HTTP/1.1 200 OK\r\nServer: Boa/0.94.13\r\nContent-Type: text/html\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nabcde\r\n3;x=y\r\nfgh\r\n0\r\nX-Trailer: 1\r\n\r\n";
const RESP2: &[u8] = b"HTTP/1.1 201 Created\r\nContent-Length: 4\r\n\r\ndone";

/// Two pipelined requests, then both responses.
fn conversation() -> Vec<(Direction, Vec<u8>)> {
    vec![
        (Direction::ToServer, [REQ1, REQ2].concat()),
        (Direction::ToClient, [RESP1, RESP2].concat()),
    ]
}

fn borrowed(conv: &[(Direction, Vec<u8>)]) -> Vec<(Direction, &[u8])> {
    conv.iter().map(|(d, b)| (*d, b.as_slice())).collect()
}

#[test]
fn pipelined_transactions() {
    let records = run_conv(&borrowed(&conversation()));
    assert!(weirds(&records).is_empty(), "{records:?}");
    let h = http_records(&records);
    assert_eq!(h.len(), 2);
    assert_eq!(h[0].method.as_deref(), Some("GET"));
    assert_eq!(h[0].host.as_deref(), Some("pump-17.icu.local"));
    assert_eq!(
        h[0].uri.as_deref(),
        Some("/monitor/status?bed=*"),
        "query values redacted"
    );
    assert_eq!(
        h[0].version.as_deref(),
        Some("1.1"),
        "the response's version, as Zeek logs it"
    );
    assert_eq!(h[0].user_agent.as_deref(), Some("InfusionMgr/2.3"));
    assert_eq!(h[0].basic_auth_user.as_deref(), Some("admin"));
    assert_eq!(h[0].basic_auth_password, Some(PasswordClass::Default));
    assert_eq!(h[0].status_code, Some(200));
    assert_eq!(h[0].status_msg.as_deref(), Some("OK"));
    assert_eq!(h[0].server.as_deref(), Some("Boa/0.94.13"));
    assert_eq!(h[0].content_type.as_deref(), Some("text/html"));
    assert_eq!((h[0].request_body_len, h[0].response_body_len), (0, 8));
    assert_eq!(h[1].method.as_deref(), Some("POST"));
    assert_eq!(h[1].status_code, Some(201));
    assert_eq!((h[1].request_body_len, h[1].response_body_len), (11, 4));
    assert_eq!(h[1].basic_auth_user, None);
}

#[test]
fn password_is_never_kept() {
    // "nurse:S3cret-Pa55"
    let req = b"GET / HTTP/1.0\r\nAuthorization: Basic bnVyc2U6UzNjcmV0LVBhNTU=\r\n\r\n";
    let records = run_conv(&[
        (Direction::ToServer, req),
        (Direction::ToClient, b"HTTP/1.0 204 No Content\r\n\r\n"),
    ]);
    let h = http_records(&records);
    assert_eq!(h[0].basic_auth_user.as_deref(), Some("nurse"));
    assert_eq!(h[0].basic_auth_password, Some(PasswordClass::Other));
    let json = serde_json::to_string(&records).unwrap();
    assert!(
        !json.contains("S3cret") && !json.contains("bnVyc2U6UzNjcmV0"),
        "{json}"
    );
}

#[test]
fn every_split_point_gives_the_same_records() {
    let conv = conversation();
    let whole = run_conv(&borrowed(&conv));
    assert_eq!(
        run_forced(&Http, Transport::Tcp, 80, &borrowed(&conv)),
        whole
    );
    for (n, (dir, bytes)) in conv.iter().enumerate() {
        for split in 0..=bytes.len() {
            let mut chunks = borrowed(&conv);
            let (a, b) = bytes.split_at(split);
            chunks.splice(n..=n, [(*dir, a), (*dir, b)]);
            assert_eq!(
                run_forced(&Http, Transport::Tcp, 80, &chunks),
                whole,
                "chunk {n} split at {split}"
            );
        }
    }
}

#[test]
fn interleaved_directions() {
    // Request, response, request, response, each byte by byte from the second on.
    let mut chunks: Vec<(Direction, &[u8])> = vec![(Direction::ToServer, REQ1)];
    for b in RESP1.chunks(1) {
        chunks.push((Direction::ToClient, b));
    }
    for b in REQ2.chunks(1) {
        chunks.push((Direction::ToServer, b));
    }
    chunks.push((Direction::ToClient, RESP2));
    let h = run_conv(&chunks);
    assert_eq!(h, run_conv(&borrowed(&conversation())));
}

#[test]
fn continue_then_final_response() {
    let req =
        b"POST /upload HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n";
    let records = run_conv(&[
        (Direction::ToServer, req),
        (Direction::ToClient, b"HTTP/1.1 100 Continue\r\n\r\n"),
        (Direction::ToServer, b"12345"),
        (
            Direction::ToClient,
            b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok",
        ),
    ]);
    let h = http_records(&records);
    assert_eq!(h.len(), 1);
    assert_eq!(h[0].status_code, Some(200));
    assert_eq!((h[0].request_body_len, h[0].response_body_len), (5, 2));
}

#[test]
fn head_and_not_modified_have_no_body() {
    let records = run_conv(&[
        (Direction::ToServer, b"HEAD / HTTP/1.1\r\nHost: x\r\n\r\nGET /a HTTP/1.1\r\nHost: x\r\n\r\n"),
        (Direction::ToClient, b"HTTP/1.1 200 OK\r\nContent-Length: 500\r\n\r\nHTTP/1.1 304 Not Modified\r\nContent-Length: 500\r\n\r\n"),
    ]);
    let h = http_records(&records);
    assert_eq!(h.len(), 2);
    assert_eq!((h[0].status_code, h[0].response_body_len), (Some(200), 0));
    assert_eq!((h[1].status_code, h[1].response_body_len), (Some(304), 0));
}

#[test]
fn body_until_close_and_unanswered_requests() {
    let records = run_conv(&[
        (
            Direction::ToServer,
            b"GET /a HTTP/1.0\r\n\r\nGET /b HTTP/1.0\r\n\r\n",
        ),
        (
            Direction::ToClient,
            b"HTTP/1.0 200 OK\r\n\r\nsome bytes until close",
        ),
    ]);
    let h = http_records(&records);
    assert_eq!(h.len(), 2);
    // Read line by line until close (no Connection: close), as Zeek does:
    // the unterminated last line counts 2 more than sent.
    assert_eq!(
        (h[0].uri.as_deref(), h[0].response_body_len),
        (Some("/a"), 24)
    );
    assert_eq!((h[1].uri.as_deref(), h[1].status_code), (Some("/b"), None));
}

#[test]
fn http09_simple_request() {
    let records = run_conv(&[
        (Direction::ToServer, b"GET /zeek.html\r\n"),
        (Direction::ToClient, b"<html>hi</html>\n"),
    ]);
    let h = http_records(&records);
    assert_eq!(h.len(), 1);
    assert_eq!(h[0].version.as_deref(), Some("0.9"));
    assert_eq!(
        (h[0].status_code, h[0].status_msg.as_deref()),
        (Some(0), Some("<empty>"))
    );
    assert_eq!(h[0].response_body_len, 16);
}

#[test]
fn upgrade_and_connect_stop_the_analysis() {
    let records = run_conv(&[
        (
            Direction::ToServer,
            b"GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n\r\n",
        ),
        (
            Direction::ToClient,
            b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n\x81\x05hello",
        ),
        (Direction::ToServer, b"\x81\x85garbage"),
    ]);
    assert!(weirds(&records).is_empty(), "{records:?}");
    assert_eq!(http_records(&records)[0].status_code, Some(101));
    let records = run_conv(&[
        (
            Direction::ToServer,
            b"CONNECT mail.example:25 HTTP/1.0\r\n\r\n",
        ),
        (
            Direction::ToClient,
            b"HTTP/1.0 200 Connection established\r\n\r\n220 mail ESMTP\r\n",
        ),
        (Direction::ToServer, b"EHLO x\r\n"),
    ]);
    assert!(weirds(&records).is_empty(), "{records:?}");
    let h = http_records(&records);
    assert_eq!(h.len(), 1);
    assert_eq!(
        (h[0].method.as_deref(), h[0].uri.as_deref()),
        (Some("CONNECT"), Some("mail.example:25"))
    );
    // The client starts TLS before the proxy answers.
    let records = run_conv(&[
        (
            Direction::ToServer,
            b"CONNECT portal.example:443 HTTP/1.0\r\n\r\n\x16\x03\x01\x00\x05\x01\x00\x00\x01\x00",
        ),
        (
            Direction::ToClient,
            b"HTTP/1.0 200 Connection established\r\n\r\n\x16\x03\x03",
        ),
    ]);
    assert!(weirds(&records).is_empty(), "{records:?}");
    assert_eq!(http_records(&records)[0].status_code, Some(200));
}

#[test]
fn oversized_header_block() {
    let mut req = b"GET / HTTP/1.1\r\n".to_vec();
    while req.len() <= MAX_HEADER {
        req.extend_from_slice(
            b"X-Filler: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n",
        );
    }
    let records = run_conv(&[(Direction::ToServer, &req)]);
    assert_eq!(weirds(&records), ["http_header_too_long"]);
    assert!(http_records(&records).is_empty());
}

#[test]
fn malformed_messages() {
    let records = run_conv(&[
        (Direction::ToServer, b"GET / HTTP/1.1\r\n\r\n"),
        (
            Direction::ToClient,
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
        ),
    ]);
    // An unreadable chunk size is taken as the last chunk (Zeek).
    assert_eq!(
        weirds(&records),
        ["http_bad_chunk_size", "http_truncated_response_body"]
    );
    assert_eq!(http_records(&records).len(), 1);
    let records = run_conv(&[(
        Direction::ToClient,
        b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok",
    )]);
    assert_eq!(weirds(&records), ["http_unmatched_reply"]);
    assert_eq!(http_records(&records)[0].version.as_deref(), Some("1.1"));
    let records = run_forced(
        &Http,
        Transport::Tcp,
        80,
        &[(Direction::ToServer, b"\x16\x03\x01\x00\x05hello\n")],
    );
    assert_eq!(weirds(&records), ["http_bad_request_line"]);
}

/// A client that does not speak HTTP on an HTTP port (Zeek's
/// bad_HTTP_request before any request): the server's reply is still logged,
/// without a request, once the port-hinted probe lets the reply decide.
#[test]
fn bad_first_request_line_keeps_the_reply() {
    for bad in [
        &b"OPTIONSHTTP/1.1\nHost: x\n\n"[..],
        b"\xc3\x83\xc3\x82 / HTTP/1.\nHost: x\n\n",
        b"GET/ HTTP/1.1\nHost: x\n\n",
    ] {
        assert_eq!(Http.probe(Direction::ToServer, bad, true), Probe::NeedMore);
        let records = run_forced(
            &Http,
            Transport::Tcp,
            80,
            &[
                (Direction::ToServer, bad),
                (
                    Direction::ToClient,
                    b"HTTP/1.0 400 Bad Request\r\nContent-Length: 5\r\n\r\nnope!",
                ),
            ],
        );
        let h = http_records(&records);
        assert_eq!(h.len(), 1, "{records:?}");
        assert_eq!((h[0].method.as_deref(), h[0].uri.as_deref()), (None, None));
        assert_eq!(
            (
                h[0].version.as_deref(),
                h[0].status_code,
                h[0].response_body_len
            ),
            (Some("1.0"), Some(400), 5)
        );
    }
    // After a valid request the analysis stops at a bad line (Zeek removes
    // a confirmed analyzer on a violation): the second reply is not logged.
    let records = run_conv(&[
        (Direction::ToServer, b"GET / HTTP/1.1\r\nHost: x\r\n\r\nT / HTTP\n\n"),
        (Direction::ToClient, b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\nHTTP/1.1 400 Bad\r\nContent-Length: 0\r\n\r\n"),
    ]);
    assert_eq!(http_records(&records).len(), 1);
}

/// Request smuggling variants (Zeek's base/protocols/http/261 tests): in each,
/// the request after the first one must be seen.
#[test]
fn smuggling_variants_expose_the_second_request() {
    let second = b"GET /smuggled HTTP/1.1\r\nHost: target\r\n\r\n";
    let firsts: [&[u8]; 5] = [
        // Chunk size 2^64: not readable (no wrap to 0): taken as the last chunk.
        b"POST / HTTP/1.1\r\nHost: target\r\nTransfer-Encoding: chunked\r\n\r\n10000000000000000\r\n\r\n",
        // Content-Length u64::MAX: not a length (no body).
        b"POST / HTTP/1.1\r\nHost: target\r\nContent-Length: 18446744073709551615\r\n\r\n",
        // Transfer-Encoding folded onto the next line.
        b"POST / HTTP/1.1\r\nHost: target\r\nTransfer-Encoding:\r\n chunked\r\n\r\n0\r\n\r\n",
        // Several codings, chunked first.
        b"POST / HTTP/1.1\r\nHost: target\r\nTransfer-Encoding: chunked, identity\r\n\r\n0\r\n\r\n",
        // Chunked and Content-Length: chunked wins.
        b"POST / HTTP/1.1\r\nHost: target\r\nTransfer-Encoding: chunked\r\nContent-Length: 50\r\n\r\n0\r\n\r\n",
    ];
    for first in firsts {
        let req = [first, &second[..]].concat();
        let records = run_conv(&[(Direction::ToServer, &req)]);
        let h = http_records(&records);
        let uris: Vec<_> = h.iter().map(|r| r.uri.as_deref()).collect();
        assert_eq!(
            uris,
            [Some("/"), Some("/smuggled")],
            "{}",
            String::from_utf8_lossy(first)
        );
        assert_eq!(h[0].request_body_len, 0);
    }
    // HTTP/1.0 messages have no chunked framing (Zeek): the body is not read.
    let records = run_conv(&[(
        Direction::ToServer,
        b"POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\nabc",
    )]);
    assert_eq!(http_records(&records)[0].request_body_len, 3);
}

/// An HTTP/0.9 request while a response body is still being read: that
/// response ends there and the rest is the raw HTTP/0.9 answer (Zeek's
/// http_09_reply_before_request).
#[test]
fn http09_request_ends_a_pending_response() {
    let records = run_conv(&[
        (
            Direction::ToClient,
            b"HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\n",
        ),
        (Direction::ToServer, b"GET /\r\n\r\n"),
        (Direction::ToClient, b"this is too much.\r\n"),
    ]);
    let h = http_records(&records);
    assert_eq!(h.len(), 2, "{records:?}");
    assert_eq!((h[0].status_code, h[0].response_body_len), (Some(200), 0));
    assert_eq!(
        (
            h[1].version.as_deref(),
            h[1].uri.as_deref(),
            h[1].response_body_len
        ),
        (Some("0.9"), Some("/"), 19)
    );
    assert!(weirds(&records).contains(&"http_09_reply_before_request"));
}

/// Body lengths as Zeek counts them: decoded gzip size, line ends in line
/// mode, raw bytes after `Connection: close`.
#[test]
fn body_lengths_as_zeek_counts_them() {
    let text = b"hello hello hello hello hello\n".repeat(20);
    let gz = miniz_oxide::deflate::compress_to_vec_zlib(&text, 6);
    let resp = [
        format!(
            "HTTP/1.1 200 OK\r\nContent-Encoding: deflate\r\nContent-Length: {}\r\n\r\n",
            gz.len()
        )
        .as_bytes(),
        &gz,
    ]
    .concat();
    let records = run_conv(&[
        (Direction::ToServer, b"GET / HTTP/1.1\r\n\r\n"),
        (Direction::ToClient, &resp),
    ]);
    assert_eq!(
        http_records(&records)[0].response_body_len,
        text.len() as u64
    );
    // The same body chunked.
    let mut resp =
        b"HTTP/1.1 200 OK\r\nContent-Encoding: deflate\r\nTransfer-Encoding: chunked\r\n\r\n"
            .to_vec();
    for c in gz.chunks(7) {
        resp.extend_from_slice(format!("{:x}\r\n", c.len()).as_bytes());
        resp.extend_from_slice(c);
        resp.extend_from_slice(b"\r\n");
    }
    resp.extend_from_slice(b"0\r\n\r\n");
    let records = run_conv(&[
        (Direction::ToServer, b"GET / HTTP/1.1\r\n\r\n"),
        (Direction::ToClient, &resp),
    ]);
    assert_eq!(
        http_records(&records)[0].response_body_len,
        text.len() as u64
    );
    // Until close with Connection: close: raw bytes.
    let records = run_conv(&[
        (Direction::ToServer, b"GET / HTTP/1.0\r\n\r\n"),
        (
            Direction::ToClient,
            b"HTTP/1.0 200 OK\r\nConnection: close\r\n\r\nno newline",
        ),
    ]);
    assert_eq!(http_records(&records)[0].response_body_len, 10);
}

#[test]
fn pending_queue_is_bounded() {
    let req = b"GET / HTTP/1.1\r\nHost: x\r\n\r\n".repeat(MAX_PENDING + 4);
    let records = run_conv(&[(Direction::ToServer, &req)]);
    assert_eq!(weirds(&records), ["http_too_many_pending_requests"]);
    assert_eq!(http_records(&records).len(), MAX_PENDING + 4);
}

#[test]
fn probe() {
    assert_eq!(
        Http.probe(Direction::ToServer, b"GET / HTTP/1.1\r\n", false),
        Probe::Match
    );
    assert_eq!(
        Http.probe(Direction::ToServer, b"OPTIONS * HTTP/1.1\r\n", false),
        Probe::Match
    );
    assert_eq!(
        Http.probe(Direction::ToServer, b"PO", false),
        Probe::NeedMore
    );
    assert_eq!(
        Http.probe(Direction::ToServer, b"GET ", false),
        Probe::NeedMore
    );
    assert_eq!(
        Http.probe(Direction::ToServer, b"GET\x00/", false),
        Probe::NoMatch
    );
    assert_eq!(
        Http.probe(Direction::ToServer, b"GET \x01", false),
        Probe::NoMatch
    );
    assert_eq!(
        Http.probe(Direction::ToServer, b"GETTER / HTTP/1.1", false),
        Probe::NeedMore
    );
    assert_eq!(
        Http.probe(Direction::ToServer, b"GETTER / HTTP/1.1\r\n", false),
        Probe::Match
    );
    assert_eq!(
        Http.probe(
            Direction::ToServer,
            b"QUERY /users HTTP/1.1\r\nHost: x\r\n",
            false
        ),
        Probe::Match
    );
    assert_eq!(
        Http.probe(Direction::ToServer, b"EHLO mail.example\r\n", false),
        Probe::NoMatch
    );
    assert_eq!(
        Http.probe(Direction::ToServer, b"USER anonymous\r\n", false),
        Probe::NoMatch
    );
    assert_eq!(
        Http.probe(Direction::ToServer, b"Get / HTTP/1.1\r\n", false),
        Probe::NoMatch
    );
    assert_eq!(
        Http.probe(Direction::ToServer, b"SSH-2.0-x\r\n", false),
        Probe::NoMatch
    );
    // On an HTTP port the server's answer decides.
    assert_eq!(
        Http.probe(Direction::ToServer, b"SSH-2.0-x\r\n", true),
        Probe::NeedMore
    );
    assert_eq!(
        Http.probe(Direction::ToServer, b"OPTIONSHTTP/1.1\n", true),
        Probe::NeedMore
    );
    assert_eq!(
        Http.probe(Direction::ToClient, b"HTTP/1.1 200 OK\r\n", false),
        Probe::Match
    );
    assert_eq!(
        Http.probe(Direction::ToClient, b"HTTP/1.", false),
        Probe::NeedMore
    );
    assert_eq!(
        Http.probe(Direction::ToClient, b"HTTP/1.1 2x", false),
        Probe::NoMatch
    );
    assert_eq!(
        Http.probe(Direction::ToClient, b"220 ftp ready\r\n", true),
        Probe::NoMatch
    );
}

#[test]
fn garbage_never_panics() {
    let all: Vec<u8> = conversation().into_iter().flat_map(|(_, b)| b).collect();
    assert!(never_panics(&Http, Transport::Tcp, 80, &all) > 0);
}

/// Runs each connection of a Zeek HTTP trace and compares fields with
/// http.log; returns the differences as text.
fn compare_with_zeek(trace: &str, baseline: &str, skip: &[&str]) -> Option<Vec<String>> {
    let (Some(trace), Some(log)) = (testkit::testdata(trace), testkit::testdata(baseline)) else {
        return None;
    };
    let conns = testkit::tcp::conns(&trace);
    let (fields, rows) = testkit::zeek::log(&log);
    let mut diffs = Vec::new();
    let mut ours_by_conn: Vec<Vec<HttpRecord>> = conns
        .iter()
        .map(|c| {
            let records = run(&Http, Transport::Tcp, c.port(), &c.borrowed());
            http_records(&records).into_iter().cloned().collect()
        })
        .collect();
    for row in &rows {
        let col = |n: &str| testkit::zeek::col(&fields, row, n);
        let port: u16 = col("id.orig_p").map_or(0, |p| p.parse().unwrap());
        // Baselines without connection ids: take connections in trace order.
        let ci = match col("id.orig_h") {
            Some(h) => conns.iter().position(|c| c.is_from(h, port)),
            None => ours_by_conn.iter().position(|o| !o.is_empty()),
        };
        let Some(ci) = ci else {
            diffs.push(format!("{port}: connection not found"));
            continue;
        };
        if ours_by_conn[ci].is_empty() {
            diffs.push(format!(
                "{port}: no record for depth {:?}",
                col("trans_depth")
            ));
            continue;
        }
        let h = ours_by_conn[ci].remove(0);
        let checks: [(&str, Option<String>, Option<&str>); 10] = [
            ("method", h.method.clone(), col("method")),
            (
                "host",
                h.host
                    .clone()
                    .map(|n| h.host_port.map_or(n.clone(), |p| format!("{n}:{p}"))),
                col("host"),
            ),
            (
                "uri",
                h.uri.clone(),
                col("uri").map(|v| if v == "(empty)" { "" } else { v }),
            ),
            ("version", h.version.clone(), col("version")),
            ("user_agent", h.user_agent.clone(), col("user_agent")),
            (
                "status_code",
                h.status_code.map(|c| c.to_string()),
                col("status_code"),
            ),
            ("status_msg", h.status_msg.clone(), col("status_msg")),
            (
                "request_body_len",
                Some(h.request_body_len.to_string()),
                col("request_body_len"),
            ),
            (
                "response_body_len",
                Some(h.response_body_len.to_string()),
                col("response_body_len"),
            ),
            ("username", h.basic_auth_user.clone(), col("username")),
        ];
        for (name, ours, zeek) in checks {
            if ours.as_deref() != zeek && !skip.contains(&name) {
                diffs.push(format!("{port} {name}: ours {ours:?} zeek {zeek:?}"));
            }
        }
    }
    for (ci, left) in ours_by_conn.iter().enumerate() {
        if !left.is_empty()
            && rows.iter().any(|r| {
                testkit::zeek::col(&fields, r, "id.orig_p")
                    == conns[ci].client.map(|c| c.1.to_string()).as_deref()
            })
        {
            diffs.push(format!(
                "{:?}: {} extra records",
                conns[ci].client,
                left.len()
            ));
        }
    }
    Some(diffs)
}

/// Traces where every compared field agrees with Zeek (body lengths counted
/// as Zeek does: after gzip/deflate decoding, line ends in line mode).
#[test]
fn zeek_http_baselines() {
    for (trace, test, skip) in [
        ("pipelined-requests.pcap", "http-pipelining", &[][..]),
        ("missing-zlib-header.pcap", "missing-zlib-header", &[]),
        ("x-gzip.pcap", "x-gzip", &[]),
        (
            "http-09-content-length-confusion.pcap",
            "http-09-content-length-confusion",
            &[],
        ),
        ("no_crlf.pcap", "http-no-crlf", &[]),
        ("smuggle-http-request.pcap", "smuggle-http-request", &[]),
        (
            "http-inner-transfer-encoding-reproducer.pcap",
            "inner-transfer-encoding-reproducer",
            &[],
        ),
        ("basic-auth-with-colon.pcap", "http-basic-auth-colon", &[]),
        (
            "basic-auth-with-extra-space.pcap",
            "http-basic-auth-extra-space",
            &[],
        ),
        ("100-continue.pcap", "100-continue", &[]),
        ("percent-end-of-line.pcap", "percent-end-of-line", &[]),
        ("http-filename.pcap", "http-filename", &[]),
        ("websocket.pcap", "101-switching-protocols", &[]),
        ("connect-with-smtp.pcap", "http-connect", &[]),
        ("connect-with-header.pcap", "http-connect-with-header", &[]),
        ("curl_http_09.pcap", "curl-http-09", &[]),
        (
            "content-length-overflow.pcap",
            "content-length-overflow",
            &[],
        ),
        ("interleaved-http-entity.pcap", "missing-http-entity", &[]),
        ("http-desync-request-response-5.pcap", "http-desynched", &[]),
        (
            "http-11-request-then-cruft.pcap",
            "http-11-request-then-cruft",
            &[],
        ),
        ("deeply-nested-mime.pcap", "deeply-nested-mime", &[]),
        ("multipart-form-data.pcap", "multipart-body-length", &[]),
        ("query-method.pcap", "query-method", &[]),
        ("version-mismatch.pcap", "version-mismatch", &[]),
        ("no-uri.pcap", "no-uri", &[]),
        ("fake-content-length.pcap", "fake-content-length", &[]),
        (
            "concurrent-range-requests.pcap",
            "concurrent-range-requests",
            &[],
        ),
    ] {
        let Some(diffs) = compare_with_zeek(
            &format!("zeek/Traces/http/{trace}"),
            &format!("zeek/Baseline/scripts.base.protocols.http.{test}/http.log"),
            skip,
        ) else {
            return;
        };
        assert!(diffs.is_empty(), "{trace}:\n{}", diffs.join("\n"));
    }
}

/// Prints the differences for every HTTP baseline (informational; run with
/// `--ignored --nocapture`).
#[test]
#[ignore]
fn zeek_http_all_baselines_report() {
    let Some(map) = testkit::testdata("zeek/zeek_test_map.json") else {
        return;
    };
    let map: Vec<serde_json::Value> =
        serde_json::from_str(&std::fs::read_to_string(map).unwrap()).unwrap();
    for t in map {
        let test = t["test"].as_str().unwrap_or_default();
        if !test.contains("base/protocols/http/") {
            continue;
        }
        let base = t["baseline_dir"]
            .as_str()
            .unwrap_or_default()
            .rsplit('/')
            .next()
            .unwrap_or_default();
        for trace in t["traces"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|v| v.as_str())
        {
            if trace.ends_with(".gz") {
                continue;
            }
            let log = format!("zeek/Baseline/{base}/http.log");
            if testkit::testdata(&log).is_none() {
                continue;
            }
            if let Some(diffs) = compare_with_zeek(&format!("zeek/Traces/{trace}"), &log, &[]) {
                println!("== {trace} ({} diffs)", diffs.len());
                for d in diffs.iter().take(8) {
                    println!("   {d}");
                }
            }
        }
    }
}

#[test]
fn host_port_is_kept_apart() {
    for (v, host, port) in [
        (&b"pump-17.icu.local"[..], &b"pump-17.icu.local"[..], None),
        (b"pump:8080", b"pump", Some(8080)),
        (b"10.0.0.2:80", b"10.0.0.2", Some(80)),
        (b"[fe80::1]:8443", b"[fe80::1]", Some(8443)),
        (b"[fe80::1]", b"[fe80::1]", None),
        (b"fe80::1", b"fe80::1", None),
        (b"pump:", b"pump", None),
        (b"pump:99999", b"pump:99999", None),
        (b"pump:80x", b"pump:80x", None),
    ] {
        assert_eq!(
            split_host(v),
            (host, port),
            "{}",
            String::from_utf8_lossy(v)
        );
    }
}

/// The request's version and the Host header's name and port, per request,
/// agree with tshark on public captures whose clients speak HTTP/1.1 to
/// servers answering HTTP/1.0 and name a port in Host (Python's
/// http.server behind requests and curl). Before, only the response's
/// version was recorded, and Host kept its port.
#[test]
fn request_version_and_host_agree_with_tshark() {
    if !testkit::tshark::available() {
        return;
    }
    let (mut compared, mut agreed) = (0, 0);
    let mut diffs = Vec::new();
    for trace in [
        "basic-auth-with-colon.pcap",
        "basic-auth-with-extra-space.pcap",
        "http-post-large.pcap",
        "http_large_req_8001.pcap",
        "deeply-nested-mime.pcap",
        "version-mismatch.pcap",
        "pipelined-requests.pcap",
        "connect-with-header.pcap",
    ] {
        let Some(path) = testkit::testdata(&format!("zeek/Traces/http/{trace}")) else {
            return;
        };
        let out = testkit::tshark::run(&[
            "-r",
            path.to_str().unwrap(),
            "-Y",
            "http.request",
            "-T",
            "fields",
            "-e",
            "tcp.srcport",
            "-e",
            "http.request.version",
            "-e",
            "http.host",
        ])
        .unwrap_or_default();
        // tshark's requests per client port, in order.
        let mut want: std::collections::BTreeMap<u16, Vec<(String, String)>> = Default::default();
        for l in out.lines() {
            let f: Vec<&str> = l.split('\t').collect();
            let version = f[1].strip_prefix("HTTP/").unwrap_or(f[1]).to_string();
            want.entry(f[0].parse().unwrap())
                .or_default()
                .push((version, f.get(2).unwrap_or(&"").to_string()));
        }
        for c in testkit::tcp::conns(&path) {
            let Some(expected) = c.client.and_then(|(_, p)| want.get(&p)) else {
                continue;
            };
            let recs = run(&Http, Transport::Tcp, c.port(), &c.borrowed());
            let ours: Vec<(String, String)> = recs
                .iter()
                .filter_map(|r| match r {
                    Record::Http(h) => Some((
                        h.request_version.clone().unwrap_or_default(),
                        match (&h.host, h.host_port) {
                            (Some(n), Some(p)) => format!("{n}:{p}"),
                            (Some(n), None) => n.clone(),
                            _ => String::new(),
                        },
                    )),
                    _ => None,
                })
                .collect();
            for (i, w) in expected.iter().enumerate() {
                compared += 2;
                let o = ours.get(i);
                agreed += usize::from(o.map(|o| &o.0) == Some(&w.0));
                agreed += usize::from(o.map(|o| &o.1) == Some(&w.1));
                if o != Some(w) {
                    diffs.push(format!(
                        "{trace} {:?} #{i}: ours {o:?}, tshark {w:?}",
                        c.client
                    ));
                }
            }
        }
    }
    println!("http request version and host: {agreed}/{compared} fields agree with tshark");
    assert!(compared > 20 && diffs.is_empty(), "{diffs:#?}");
}

/// After a gap inside a Content-Length or chunked body, the next
/// transaction of the connection is still read.
#[test]
fn parsing_resumes_after_a_gap_inside_a_body() {
    use model::Timestamp;
    let flow = analyzer_api::testing::flow(Transport::Tcp, 80);
    let mut events = Vec::new();
    let mut a = Http.start();
    // Feeds like the engine: until everything is consumed.
    fn feed(a: &mut Box<dyn Analyzer>, dir: Direction, mut data: &[u8], out: &mut Out<'_>) {
        while let Progress::Consumed(n @ 1..) = a.feed(dir, data, out) {
            data = &data[n.min(data.len())..];
            if data.is_empty() {
                break;
            }
        }
    }
    let mut out = Out::new(Timestamp::default(), Some(&flow), "http", &mut events);
    let (req, resp) = (Direction::ToServer, Direction::ToClient);
    feed(&mut a, req, b"GET /a HTTP/1.1\r\nHost: x\r\n\r\nGET /b HTTP/1.1\r\nHost: x\r\n\r\nGET /c HTTP/1.1\r\nHost: x\r\n\r\n", &mut out);
    feed(
        &mut a,
        resp,
        b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n123",
        &mut out,
    );
    assert_eq!(a.gap(resp, 5, &mut out), Progress::Consumed(0));
    feed(&mut a, resp, b"90", &mut out);
    feed(
        &mut a,
        resp,
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n8\r\nab",
        &mut out,
    );
    assert_eq!(a.gap(resp, 6, &mut out), Progress::Consumed(0));
    feed(&mut a, resp, b"\r\n0\r\n\r\n", &mut out);
    // A gap in headers cannot be skipped: the direction stops.
    feed(&mut a, resp, b"HTTP/1.1 404 Not", &mut out);
    a.gap(resp, 7, &mut out);
    a.finish(&mut out);
    let recs: Vec<Record> = events.into_iter().map(|e| e.record).collect();
    let h = http_records(&recs);
    let got: Vec<(Option<&str>, Option<u16>, u64)> = h
        .iter()
        .map(|h| (h.uri.as_deref(), h.status_code, h.response_body_len))
        .collect();
    assert_eq!(
        got,
        [
            (Some("/a"), Some(200), 10),
            (Some("/b"), Some(200), 8),
            (Some("/c"), None, 0)
        ]
    );
}

/// TLS after a successful CONNECT goes to the TLS analyzer: on Zeek's
/// public `connect-with-header` trace (a proxy tunnel to an HTTPS site)
/// the TLS record's server name, version and cipher agree with tshark.
/// Before, the analysis ended at the proxy's 200 and the tunnelled
/// handshake was not seen.
#[test]
fn tls_inside_a_connect_tunnel_agrees_with_tshark() {
    let Some(path) = testkit::testdata("zeek/Traces/http/connect-with-header.pcap") else {
        return;
    };
    let Some(out) = testkit::tshark::run(&[
        "-r",
        path.to_str().unwrap(),
        "-Y",
        "tls.handshake.type == 1 or tls.handshake.type == 2",
        "-T",
        "fields",
        "-e",
        "tls.handshake.extensions_server_name",
        "-e",
        "tls.handshake.ciphersuite",
        "-e",
        "tls.handshake.version",
    ]) else {
        println!("skipping: tshark not installed");
        return;
    };
    let lines: Vec<Vec<&str>> = out.lines().map(|l| l.split('\t').collect()).collect();
    let sni = lines[0][0];
    let cipher = u16::from_str_radix(lines[1][1].trim_start_matches("0x"), 16).unwrap();
    let version = u16::from_str_radix(lines[1][2].trim_start_matches("0x"), 16).unwrap();
    let conns = testkit::tcp::conns(&path);
    let recs = run(&Http, Transport::Tcp, conns[0].port(), &conns[0].borrowed());
    let tls: Vec<&model::records::TlsRecord> = recs
        .iter()
        .filter_map(|r| match r {
            Record::Tls(t) => Some(t),
            _ => None,
        })
        .collect();
    assert_eq!(http_records(&recs)[0].method.as_deref(), Some("CONNECT"));
    assert_eq!(tls.len(), 1, "{recs:?}");
    let t = tls[0];
    assert_eq!(t.server_name.as_deref(), Some(sni));
    assert_eq!(
        t.version.as_deref(),
        Some(proto_tls::names::version(version).as_str())
    );
    assert_eq!(
        t.cipher.as_deref(),
        Some(proto_tls::names::cipher(cipher).as_str())
    );
    println!(
        "connect tunnel: TLS {sni} {:?} {:?} as tshark",
        t.version, t.cipher
    );
}

fn descriptions(records: &[Record]) -> Vec<&model::records::DescriptionRecord> {
    records
        .iter()
        .filter_map(|r| match r {
            Record::Description(d) => Some(d),
            _ => None,
        })
        .collect()
}

const UPNP_DESC: &str = "<?xml version=\"1.0\"?><root xmlns=\"urn:schemas-upnp-org:device-1-0\"><device><deviceType>urn:schemas-upnp-org:device:MediaServer:1</deviceType><friendlyName>Ward 7 Media</friendlyName><manufacturer>Justin Maggard</manufacturer><modelName>MiniDLNA</modelName><modelNumber>1.3.2</modelNumber><UDN>uuid:4d69</UDN></device></root>";

/// An XML response body, chunked and split across segments, gives a
/// description record with the identity fields; the body itself is gone.
#[test]
fn xml_description_body_is_read_dechunked() {
    let body = UPNP_DESC.as_bytes();
    let (a, b) = body.split_at(100);
    let mut resp = b"HTTP/1.1 200 OK\r\nContent-Type: text/xml; charset=\"utf-8\"\r\nTransfer-Encoding: chunked\r\n\r\n".to_vec();
    resp.extend_from_slice(format!("{:x}\r\n", a.len()).as_bytes());
    resp.extend_from_slice(a);
    resp.extend_from_slice(format!("\r\n{:x}\r\n", b.len()).as_bytes());
    resp.extend_from_slice(b);
    resp.extend_from_slice(b"\r\n0\r\n\r\n");
    let (r1, r2) = resp.split_at(150);
    let recs = run_conv(&[
        (
            Direction::ToServer,
            b"GET /rootDesc.xml HTTP/1.1\r\nHost: x\r\n\r\n",
        ),
        (Direction::ToClient, r1),
        (Direction::ToClient, r2),
    ]);
    let d = descriptions(&recs);
    assert_eq!(d.len(), 1, "{recs:?}");
    assert_eq!(d[0].friendly_name.as_deref(), Some("Ward 7 Media"));
    assert_eq!(d[0].model_number.as_deref(), Some("1.3.2"));
    assert_eq!(http_records(&recs)[0].response_body_len, body.len() as u64);
}

/// Non-XML, compressed, and oversized bodies are not read; a SOAP answer
/// to a POST is; patient data next to the identity never leaves.
#[test]
fn xml_body_only_when_xml_and_bounded() {
    let resp = |ct: &str, extra: &str, body: &str| {
        format!(
            "HTTP/1.1 200 OK\r\nContent-Type: {ct}\r\n{extra}Content-Length: {}\r\n\r\n{body}",
            body.len()
        )
    };
    let get = b"GET /d HTTP/1.1\r\nHost: x\r\n\r\n";
    let html = resp("text/html", "", UPNP_DESC);
    assert!(descriptions(&run_conv(&[
        (Direction::ToServer, get),
        (Direction::ToClient, html.as_bytes())
    ]))
    .is_empty());
    let gz = resp("text/xml", "Content-Encoding: gzip\r\n", UPNP_DESC);
    assert!(descriptions(&run_conv(&[
        (Direction::ToServer, get),
        (Direction::ToClient, gz.as_bytes())
    ]))
    .is_empty());
    let big = format!("{}<!--{}-->", UPNP_DESC, "x".repeat(MAX_XML_BODY));
    let big = resp("application/xml", "", &big);
    let recs = run_conv(&[
        (Direction::ToServer, get),
        (Direction::ToClient, big.as_bytes()),
    ]);
    assert!(descriptions(&recs).is_empty());
    assert!(weirds(&recs).contains(&"http_xml_body_too_long"));
    let soap = "<s:Envelope xmlns:s=\"http://www.w3.org/2003/05/soap-envelope\" xmlns:d=\"http://docs.oasis-open.org/ws-dd/ns/dpws/2009/01\"><s:Body><m:Metadata xmlns:m=\"mex\"><d:ThisModel><d:Manufacturer>Wardtest</d:Manufacturer><d:ModelName>InfuWard</d:ModelName></d:ThisModel><d:ThisDevice><d:FriendlyName>Pump</d:FriendlyName><d:FirmwareVersion>4.2</d:FirmwareVersion></d:ThisDevice></m:Metadata><p:Patient xmlns:p=\"p\">CanaryGiven7731</p:Patient></s:Body></s:Envelope>";
    let post = format!("POST /dev HTTP/1.1\r\nHost: x\r\nContent-Type: application/soap+xml\r\nContent-Length: {}\r\n\r\n{}", soap.len(), soap);
    let answer = resp("application/soap+xml; charset=utf-8", "", soap);
    let recs = run_conv(&[
        (Direction::ToServer, post.as_bytes()),
        (Direction::ToClient, answer.as_bytes()),
    ]);
    let d = descriptions(&recs);
    assert_eq!(d.len(), 1);
    assert_eq!(d[0].manufacturer.as_deref(), Some("Wardtest"));
    assert_eq!(d[0].firmware_version.as_deref(), Some("4.2"));
    assert!(!format!("{recs:?}").contains("Canary"));
}
