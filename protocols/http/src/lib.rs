//! HTTP/1.x analyzer: one record per request/response transaction.
//!
//! Follows both directions of an HTTP/1.0 or 1.1 connection (RFC 9112), with
//! pipelining: requests wait in a queue of at most [`MAX_PENDING`] and are
//! paired with responses in order. From each transaction it keeps the method,
//! Host, target (percent-decoded as Zeek logs it, capped at [`MAX_URI`]),
//! version, User-Agent, status, Server, Content-Type, body lengths, and the
//! user of an `Authorization: Basic` header (RFC 7617) with only a
//! classification of the password.
//!
//! Bodies are never buffered: Content-Length and chunked bodies (RFC 9112
//! §6.3, §7.1) are counted and skipped as they stream by; responses without
//! a length last until the connection closes. 1xx interim responses (100
//! Continue) do not complete a transaction; a 101 Switching Protocols ends
//! the analysis (the rest is another protocol). After a successful CONNECT
//! the tunnel is looked into: TLS goes to the TLS analyzer (SNI, versions,
//! the server's certificate), anything else ends the analysis. A gap inside
//! a body of known length is skipped and parsing resumes after it.
//! HTTP/0.9 simple requests (RFC 1945 §4.1) get a raw response read until
//! close, logged like Zeek does (version `0.9`, status 0, `<empty>`).
//!
//! Header blocks are capped at [`MAX_HEADER`]; a longer one is reported
//! (`http_header_too_long`) and ends the analysis.
//!
//! One exception to not buffering bodies: a response whose Content-Type is
//! XML (`text/xml`, `application/xml`, `application/soap+xml`, `*+xml`)
//! and is not compressed is kept, de-chunked, up to [`MAX_XML_BODY`] bytes
//! inside the analyzer, and read by [`proto_wsd::describe`] for the device
//! identity of a DPWS metadata answer or a UPnP device description
//! ([`model::records::DescriptionRecord`]). Only those identity fields
//! leave the analyzer; the buffer is zeroed and freed when the body ends.
//! A longer body is not read (`http_xml_body_too_long`).

pub mod count;
pub mod wire;

use analyzer_api::{Analyzer, ByteSet, Out, Probe, Progress, Protocol};
use count::Counter;
use model::records::{HttpRecord, PasswordClass};
use model::{text, Direction, Transport};
use std::collections::VecDeque;

/// Largest header block (start line included) read.
pub const MAX_HEADER: usize = 16 * 1024;
/// Longest request target kept (after percent-decoding).
pub const MAX_URI: usize = 512;
/// Requests waiting for their responses (pipelining).
pub const MAX_PENDING: usize = 16;
/// Longest request line the probe reads.
const MAX_PROBE_LINE: usize = 2048;
/// Largest XML response body kept for the description reader.
pub const MAX_XML_BODY: usize = 64 * 1024;
/// Longest chunk-size or trailer line.
const MAX_CHUNK_LINE: usize = 1024;
/// Methods the probe recognises (the analyzer accepts any token).
const METHODS: &[&[u8]] = &[
    b"GET",
    b"POST",
    b"PUT",
    b"HEAD",
    b"DELETE",
    b"OPTIONS",
    b"PATCH",
    b"CONNECT",
    b"TRACE",
    b"PROPFIND",
];

/// The HTTP/1.x protocol.
pub struct Http;

impl Protocol for Http {
    fn name(&self) -> &'static str {
        "http"
    }

    fn transports(&self) -> &'static [Transport] {
        &[Transport::Tcp]
    }

    fn ports(&self) -> &'static [u16] {
        &[80, 8080, 8000, 8008, 8888]
    }

    /// On an HTTP port, a client that sends something other than a request
    /// line is still given a chance: like Zeek, which starts HTTP on its
    /// ports whatever the client sends, the server's status line decides
    /// (`NeedMore` until then). Bad requests are then logged by their reply.
    fn probe(&self, dir: Direction, data: &[u8], port_hint: bool) -> Probe {
        if data.is_empty() {
            return Probe::NeedMore;
        }
        match dir {
            Direction::ToServer => match probe_request(data) {
                Probe::NoMatch if port_hint => Probe::NeedMore,
                p => p,
            },
            Direction::ToClient => probe_response(data),
        }
    }

    /// An upper-case method token (`_` and `-` allowed), or `HTTP/1.`.
    fn first_bytes(&self) -> ByteSet {
        ByteSet::range(b'A', b'Z').union(ByteSet::of(b"_-"))
    }

    fn start(&self) -> Box<dyn Analyzer> {
        Box::new(HttpAnalyzer::default())
    }
}

/// A known method, a space, then a target start (`/`, `*`, or an absolute
/// URI / authority character), and a printable first line. Other methods
/// (`QUERY`, `CCM_POST`, WebDAV) need a complete first line ending in
/// `HTTP/1.x`.
fn probe_request(data: &[u8]) -> Probe {
    let line_end = data.iter().take(MAX_PROBE_LINE).position(|&b| b == b'\n');
    let line = &data[..line_end.unwrap_or(data.len().min(MAX_PROBE_LINE))];
    let printable = line
        .iter()
        .all(|&b| b == b'\r' || b == b'\t' || (b' '..=b'~').contains(&b) || b >= 0x80);
    for m in METHODS {
        if data.len() <= m.len() {
            if m.starts_with(data) {
                return Probe::NeedMore;
            }
            continue;
        }
        if !data.starts_with(m) || data[m.len()] != b' ' {
            continue;
        }
        let Some(&t) = data.get(m.len() + 1) else {
            return Probe::NeedMore;
        };
        if !(t == b'/' || t == b'*' || t.is_ascii_alphanumeric()) {
            return Probe::NoMatch;
        }
        return if printable {
            Probe::Match
        } else {
            Probe::NoMatch
        };
    }
    // Any other method: an upper-case token, and a whole `... HTTP/1.x` line.
    let token = data
        .iter()
        .take(24)
        .take_while(|&&b| b.is_ascii_uppercase() || b == b'_' || b == b'-')
        .count();
    match data.get(token) {
        None if token < 24 => return Probe::NeedMore,
        Some(b' ') if token >= 3 => {}
        _ => return Probe::NoMatch,
    }
    if !printable {
        return Probe::NoMatch;
    }
    match line_end {
        None if data.len() < MAX_PROBE_LINE => Probe::NeedMore,
        None => Probe::NoMatch,
        Some(_) => {
            let line = line.strip_suffix(b"\r").unwrap_or(line);
            match wire::request_line(line) {
                Some(rl)
                    if matches!(rl.version, wire::ReqVersion::Http(1, _))
                        || line.ends_with(b" HTTP/1.") =>
                {
                    Probe::Match
                }
                _ => Probe::NoMatch,
            }
        }
    }
}

/// `HTTP/1.x` and a three-digit status code.
fn probe_response(data: &[u8]) -> Probe {
    const HEAD: &[u8] = b"HTTP/1.";
    let n = data.len().min(HEAD.len());
    if data[..n] != HEAD[..n] {
        return Probe::NoMatch;
    }
    // "HTTP/1.1 200"
    let Some(rest) = data.get(HEAD.len()..) else {
        return Probe::NeedMore;
    };
    let want = [0u8, b' ', 1, 1, 1]; // digit, space, three digits
    for (i, w) in want.iter().enumerate() {
        match rest.get(i) {
            None => return Probe::NeedMore,
            Some(&b) if (*w == b' ' && b == b' ') || (*w != b' ' && b.is_ascii_digit()) => {}
            Some(_) => return Probe::NoMatch,
        }
    }
    Probe::Match
}

/// How the rest of a message body is delimited.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
enum Body {
    /// No body (or it has ended): the next bytes start a new message.
    #[default]
    None,
    /// This many bytes remain.
    Length(u64),
    /// Chunked transfer coding.
    Chunked(Chunk),
    /// Until the connection closes.
    UntilClose,
}

/// Position inside a chunked body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Chunk {
    /// Expecting a chunk-size line.
    Size,
    /// This many data bytes remain in the current chunk.
    Data(u64),
    /// Expecting the CRLF after chunk data.
    DataEnd,
    /// Reading trailer lines until an empty one.
    Trailer,
}

/// One request/response pair being built.
struct Txn {
    /// Sequence number, to credit request-body bytes.
    id: u64,
    record: HttpRecord,
    /// The request was HEAD (the response has no body).
    head: bool,
    /// The request was CONNECT (a 2xx response starts a tunnel).
    connect: bool,
    /// HTTP/0.9 simple request (the response is raw bytes until close).
    simple: bool,
}

/// Per-direction framing state.
#[derive(Default)]
struct Stream {
    body: Body,
    /// How the current body's bytes are counted (see [`count`]).
    counter: Counter,
    /// Nothing more is parsed in this direction (tunnel, error).
    ignore: bool,
}

/// What follows a successful CONNECT.
#[derive(Default)]
enum Tunnel {
    /// No tunnel (yet).
    #[default]
    None,
    /// Tunnel open; its first bytes decide.
    Open,
    /// TLS inside the tunnel.
    Tls(Box<dyn Analyzer>),
}

/// Per-connection state.
#[derive(Default)]
struct HttpAnalyzer {
    /// `[requests (to server), responses (to client)]`.
    streams: [Stream; 2],
    /// Requests waiting for a response, oldest first.
    pending: VecDeque<Txn>,
    /// The transaction whose response body is being read.
    current: Option<Txn>,
    /// The transaction whose request body is being read.
    req_body_txn: u64,
    next_id: u64,
    /// An HTTP/0.9 request whose following lines may still be header fields
    /// (Zeek reads them: `GET /x` then `Host: y`).
    simple_open: Option<u64>,
    /// A full pending queue was already reported.
    queue_full_reported: bool,
    /// A CONNECT was answered 2xx: the rest of the connection is the
    /// tunnelled protocol; TLS (the usual one) goes to the TLS analyzer.
    tunnel: Tunnel,
    /// A request or a status line was read: this is HTTP.
    confirmed: bool,
    /// The server said `Connection: close` (or answered HTTP/0.9): bodies
    /// without a length are then read raw, not line by line (as in Zeek).
    connection_close: bool,
    /// Upgrade or tunnel: nothing more to parse in either direction.
    done: bool,
    /// The current response body is XML and is being kept in `xml_body`.
    keep_xml: bool,
    /// The XML response body so far (empty, unallocated, otherwise).
    xml_body: Vec<u8>,
}

impl Analyzer for HttpAnalyzer {
    fn feed(&mut self, dir: Direction, data: &[u8], out: &mut Out<'_>) -> Progress {
        let i = (dir == Direction::ToClient) as usize;
        if !matches!(self.tunnel, Tunnel::None) {
            return self.tunnel_feed(dir, data, out);
        }
        if self.done {
            return Progress::Done;
        }
        let used = if self.streams[i].ignore {
            data.len()
        } else if self.streams[i].body != Body::None {
            self.body(i, data, out)
        } else if i == 0 {
            self.request(data, out)
        } else {
            self.response(data, out)
        };
        if !matches!(self.tunnel, Tunnel::None) {
            // The bytes after the CONNECT's answer are offered to the tunnel.
            return Progress::Consumed(used);
        }
        if self.done || self.streams.iter().all(|s| s.ignore) {
            return Progress::Done;
        }
        Progress::Consumed(used)
    }

    fn gap(&mut self, dir: Direction, len: u64, out: &mut Out<'_>) -> Progress {
        match &mut self.tunnel {
            Tunnel::Tls(tls) => return tls.gap(dir, len, out),
            Tunnel::Open => return Progress::Done,
            Tunnel::None => {}
        }
        out.weird("content_gap");
        let i = (dir == Direction::ToClient) as usize;
        if i == 1 {
            // An XML body with a hole is not read.
            self.drop_xml();
        }
        // A gap inside a body whose length is known (Content-Length, or the
        // current chunk's data) is skipped, as Zeek does: the body counts the
        // missing bytes and parsing resumes with the bytes after them.
        if !self.streams[i].ignore && self.skip_body_gap(i, len, out) {
            return Progress::Consumed(0);
        }
        self.streams[i].ignore = true;
        if self.streams.iter().all(|s| s.ignore) {
            Progress::Done
        } else {
            Progress::Consumed(0)
        }
    }

    fn finish(&mut self, out: &mut Out<'_>) {
        if let Tunnel::Tls(tls) = &mut self.tunnel {
            tls.finish(out);
        }
        if let Some(mut t) = self.current.take() {
            if matches!(self.streams[1].body, Body::Length(_) | Body::Chunked(_)) {
                out.weird("http_truncated_response_body");
                self.drop_xml();
            }
            self.describe(out);
            let extra = self.streams[1].counter.end();
            t.record.response_body_len = t.record.response_body_len.saturating_add(extra);
            out.emit(t.record);
        }
        for t in self.pending.drain(..) {
            out.emit(t.record);
        }
    }
}

impl HttpAnalyzer {
    /// Bytes inside a CONNECT tunnel: TLS is analyzed (the certificate and
    /// names of what the client reached through the proxy), anything else
    /// ends the analysis.
    fn tunnel_feed(&mut self, dir: Direction, data: &[u8], out: &mut Out<'_>) -> Progress {
        if matches!(self.tunnel, Tunnel::Open) {
            match proto_tls::Tls.probe(dir, data, true) {
                Probe::Match => self.tunnel = Tunnel::Tls(proto_tls::Tls.start()),
                Probe::NeedMore => return Progress::Consumed(0),
                Probe::NoMatch => return Progress::Done,
            }
        }
        match &mut self.tunnel {
            Tunnel::Tls(tls) => tls.feed(dir, data, out),
            _ => Progress::Done,
        }
    }

    /// Skips `len` missing bytes that fall inside the current body of stream
    /// `i` if its remaining length is known; false if it is not (headers,
    /// a chunk-size line, a body read until close, or a gap past its end).
    fn skip_body_gap(&mut self, i: usize, len: u64, out: &mut Out<'_>) -> bool {
        let left = match self.streams[i].body {
            Body::Length(n) if len <= n => {
                self.streams[i].body = Body::Length(n - len);
                n - len
            }
            Body::Chunked(Chunk::Data(n)) if len <= n => {
                self.streams[i].body = Body::Chunked(if n == len {
                    Chunk::DataEnd
                } else {
                    Chunk::Data(n - len)
                });
                1
            }
            _ => return false,
        };
        if i == 0 {
            let id = self.req_body_txn;
            if let Some(t) = self.txn_mut(id) {
                t.record.request_body_len = t.record.request_body_len.saturating_add(len);
            }
        } else if let Some(t) = self.current.as_mut() {
            t.record.response_body_len = t.record.response_body_len.saturating_add(len);
        }
        if left == 0 {
            // The gap ended the body: close it as its last byte would have.
            self.body(i, &[], out);
        }
        true
    }

    /// The transaction with id `id`, if it has not been emitted yet.
    fn txn_mut(&mut self, id: u64) -> Option<&mut Txn> {
        self.current
            .as_mut()
            .filter(|t| t.id == id)
            .or_else(|| self.pending.iter_mut().find(|t| t.id == id))
    }

    /// Reads one request head.
    fn request(&mut self, data: &[u8], out: &mut Out<'_>) -> usize {
        if let Some(id) = self.simple_open {
            if let Some(used) = self.simple_headers(id, data, out) {
                return used;
            }
        }
        let skip = wire::leading_newlines(data);
        if skip > 0 {
            return skip;
        }
        let Some((line, line_len)) = wire::first_line(data) else {
            return self.need_more(0, data, out);
        };
        let Some(rl) = wire::request_line(line) else {
            out.weird("http_bad_request_line");
            if self.confirmed {
                // Desynchronised after valid HTTP: stop (pending requests are
                // still logged), as Zeek removes a confirmed analyzer.
                self.done = true;
                return 0;
            }
            // Not HTTP from the start (Zeek's bad_HTTP_request before any
            // confirmation): parse no more requests, but keep reading the
            // responses, which Zeek logs without a request.
            self.streams[0].ignore = true;
            return data.len();
        };
        self.confirmed = true;
        if rl.version == wire::ReqVersion::Malformed {
            out.weird("http_bad_version");
        }
        // Like Zeek, `version` is the response's; unanswered requests have none.
        let mut rec = HttpRecord {
            method: text::non_empty(rl.method),
            uri: Some(uri(rl.uri, out)),
            request_version: match rl.version {
                wire::ReqVersion::Http(major, minor) => Some(format!("{major}.{minor}")),
                wire::ReqVersion::Simple => Some("0.9".to_string()),
                wire::ReqVersion::Malformed => None,
            },
            ..HttpRecord::default()
        };
        let mut txn = Txn {
            id: self.next_id,
            head: rl.method.eq_ignore_ascii_case(b"HEAD"),
            connect: rl.method.eq_ignore_ascii_case(b"CONNECT"),
            simple: rl.version == wire::ReqVersion::Simple,
            record: HttpRecord::default(),
        };
        self.next_id += 1;
        if txn.simple {
            if let Some(mut t) = self.current.take() {
                // A response is still being read: HTTP/0.9 answers are raw
                // bytes until close, so Zeek ends that response here.
                out.weird("http_09_reply_before_request");
                self.drop_xml();
                let extra = self.streams[1].counter.end();
                t.record.response_body_len = t.record.response_body_len.saturating_add(extra);
                out.emit(t.record);
                self.streams[1].body = Body::None;
            }
            txn.record = rec;
            self.simple_open = Some(txn.id);
            self.push_pending(txn, out);
            return line_len;
        }
        let Some(end) = wire::header_block_end(data) else {
            return self.need_more(0, data, out);
        };
        if end > MAX_HEADER {
            return self.too_long(out);
        }
        let mut body = Body::None;
        let mut h = Framing::default();
        let lenient = !wire::for_each_header(&data[line_len..end], |name, value| {
            request_header(name, value, &mut rec);
            h.header(name, value);
        });
        if lenient {
            out.weird("http_bad_header");
        }
        // Like Zeek, chunked framing only for HTTP/1.1 messages.
        if h.chunked && rl.version == wire::ReqVersion::Http(1, 1) {
            if h.content_length.is_some() {
                out.weird("http_content_length_and_chunked");
            }
            body = Body::Chunked(Chunk::Size);
        } else if let Some(cl) = h.content_length {
            match cl {
                Some(0) => {}
                Some(n) => body = Body::Length(n),
                // Zeek reads a bad length as 0: no body.
                None => out.weird("http_bad_content_length"),
            }
        }
        self.streams[0].counter = h.counter(body, false);
        txn.record = rec;
        self.req_body_txn = txn.id;
        // After CONNECT the client may start the tunnelled protocol (often
        // TLS) without waiting for the proxy's answer: parse no more requests.
        self.streams[0].ignore = txn.connect;
        self.push_pending(txn, out);
        self.streams[0].body = body;
        end
    }

    /// Header fields after an HTTP/0.9 request line: `Some(bytes used)` if
    /// `data` starts with them (or may: more bytes needed), `None` if it is
    /// something else (a new request).
    fn simple_headers(&mut self, id: u64, data: &[u8], out: &mut Out<'_>) -> Option<usize> {
        let Some((line, line_len)) = wire::first_line(data) else {
            // Wait for a whole line to tell, within the header cap.
            return (data.len() <= MAX_HEADER).then_some(0);
        };
        self.simple_open = None;
        if line.is_empty() {
            return Some(line_len);
        }
        let name_end = line.iter().position(|&b| b == b':')?;
        if name_end == 0 || !line[..name_end].iter().all(|&b| b.is_ascii_graphic()) {
            return None;
        }
        let Some(end) = wire::header_block_end(data)
            .or_else(|| (data.len() > MAX_HEADER).then_some(usize::MAX))
        else {
            self.simple_open = Some(id);
            return Some(0);
        };
        if end > MAX_HEADER {
            return Some(self.too_long(out));
        }
        let mut fields = HttpRecord::default();
        wire::for_each_header(&data[..end], |name, value| {
            request_header(name, value, &mut fields)
        });
        if let Some(t) = self.txn_mut(id) {
            t.record.host = fields.host;
            t.record.host_port = fields.host_port;
            t.record.user_agent = fields.user_agent;
            t.record.basic_auth_user = fields.basic_auth_user;
            t.record.basic_auth_password = fields.basic_auth_password;
        }
        Some(end)
    }

    /// Queues a request for its response.
    fn push_pending(&mut self, txn: Txn, out: &mut Out<'_>) {
        if self.pending.len() >= MAX_PENDING {
            if !self.queue_full_reported {
                self.queue_full_reported = true;
                out.weird("http_too_many_pending_requests");
            }
            if let Some(old) = self.pending.pop_front() {
                out.emit(old.record);
            }
        }
        self.pending.push_back(txn);
    }

    /// Reads one response head.
    fn response(&mut self, data: &[u8], out: &mut Out<'_>) -> usize {
        if self.pending.front().is_some_and(|t| t.simple) {
            // HTTP/0.9: no status line; everything up to the close is the body.
            self.drop_xml();
            let mut t = self.pending.pop_front().expect("front checked");
            t.record.version = Some("0.9".to_string());
            t.record.status_code = Some(0);
            t.record.status_msg = Some("<empty>".to_string());
            self.current = Some(t);
            self.connection_close = true;
            self.streams[1].counter = Counter::Raw;
            self.streams[1].body = Body::UntilClose;
            return self.body(1, data, out);
        }
        let skip = wire::leading_newlines(data);
        if skip > 0 {
            return skip;
        }
        let Some((line, line_len)) = wire::first_line(data) else {
            return self.need_more(1, data, out);
        };
        let Some(sl) = wire::status_line(line) else {
            out.weird("http_bad_status_line");
            self.streams[1].ignore = true;
            return data.len();
        };
        if sl.bad_version {
            out.weird("http_bad_version");
        }
        self.confirmed = true;
        let Some(end) = wire::header_block_end(data) else {
            return self.need_more(1, data, out);
        };
        if end > MAX_HEADER {
            return self.too_long(out);
        }
        let mut h = Framing::default();
        let (mut server, mut content_type) = (None, None);
        let lenient = !wire::for_each_header(&data[line_len..end], |name, value| {
            if name.eq_ignore_ascii_case(b"server") {
                server = text::non_empty(value);
            } else if name.eq_ignore_ascii_case(b"content-type") {
                content_type = text::non_empty(value);
            } else if name.eq_ignore_ascii_case(b"connection")
                && token(value).eq_ignore_ascii_case(b"close")
            {
                self.connection_close = true;
            }
            h.header(name, value);
        });
        if lenient {
            out.weird("http_bad_header");
        }
        // Interim responses (100 Continue, 102, 103) do not end the transaction.
        if (100..200).contains(&sl.code) && sl.code != 101 {
            return end;
        }
        let mut t = match self.pending.pop_front() {
            Some(t) => t,
            None => {
                out.weird("http_unmatched_reply");
                let id = self.next_id;
                self.next_id += 1;
                Txn {
                    id,
                    record: HttpRecord::default(),
                    head: false,
                    connect: false,
                    simple: false,
                }
            }
        };
        let r = &mut t.record;
        r.status_code = Some(sl.code);
        r.status_msg = Some(text::field(sl.reason));
        r.server = server;
        r.content_type = content_type;
        r.version = Some(format!("{}.{}", sl.version.0, sl.version.1));
        // Protocol switch: the rest of the connection is not HTTP.
        if sl.code == 101 || (t.connect && (200..300).contains(&sl.code)) {
            out.emit(t.record);
            self.done = true;
            if t.connect {
                self.tunnel = Tunnel::Open;
            }
            return end;
        }
        let body = if t.head || sl.code == 204 || sl.code == 304 {
            Body::None
        } else if h.chunked && sl.version == (1, 1) {
            Body::Chunked(Chunk::Size)
        } else {
            match h.content_length {
                Some(Some(0)) => Body::None,
                Some(Some(n)) => Body::Length(n),
                Some(None) => {
                    // Zeek reads a bad length as 0: no body.
                    out.weird("http_bad_content_length");
                    Body::None
                }
                None => Body::UntilClose,
            }
        };
        if body == Body::None {
            out.emit(t.record);
        } else {
            self.drop_xml();
            self.keep_xml = h.xml && !h.compressed && !h.mime;
            self.streams[1].counter = h.counter(body, self.connection_close);
            self.current = Some(t);
            self.streams[1].body = body;
        }
        end
    }

    /// Not enough bytes for a head: wait, unless the head is already too long.
    fn need_more(&mut self, _i: usize, data: &[u8], out: &mut Out<'_>) -> usize {
        if data.len() > MAX_HEADER {
            return self.too_long(out);
        }
        0
    }

    fn too_long(&mut self, out: &mut Out<'_>) -> usize {
        out.weird("http_header_too_long");
        self.done = true;
        0
    }

    /// Consumes body bytes of direction `i`, counting them.
    fn body(&mut self, i: usize, data: &[u8], out: &mut Out<'_>) -> usize {
        // `content`: how many bytes at the start of `data` are body content.
        let (used, content, next) = match self.streams[i].body {
            Body::None => (0, 0, Body::None),
            Body::UntilClose => (data.len(), data.len(), Body::UntilClose),
            Body::Length(n) => {
                let take = n.min(data.len() as u64);
                let left = n - take;
                (
                    take as usize,
                    take as usize,
                    if left == 0 {
                        Body::None
                    } else {
                        Body::Length(left)
                    },
                )
            }
            Body::Chunked(c) => match chunked(c, data) {
                Ok((step, bad_size)) => {
                    if bad_size {
                        // Zeek's HTTP_bad_chunk_size: taken as the last chunk.
                        out.weird("http_bad_chunk_size");
                    }
                    step
                }
                Err(()) => {
                    out.weird("http_bad_chunk");
                    if i == 1 {
                        self.drop_xml();
                    }
                    self.streams[i].ignore = true;
                    self.streams[i].body = Body::None;
                    return data.len();
                }
            },
        };
        if i == 1 && self.keep_xml && content > 0 {
            self.keep_xml_bytes(&data[..content], out);
        }
        let counter = &mut self.streams[i].counter;
        let failed = counter.failed();
        let mut counted = if content > 0 {
            counter.add(&data[..content])
        } else {
            0
        };
        if next == Body::None {
            counted = counted.saturating_add(counter.end());
        }
        if !failed && self.streams[i].counter.failed() {
            out.weird("http_inflate_failed");
        }
        if i == 0 {
            let id = self.req_body_txn;
            if let Some(t) = self.txn_mut(id) {
                t.record.request_body_len = t.record.request_body_len.saturating_add(counted);
            }
        } else if let Some(t) = self.current.as_mut() {
            t.record.response_body_len = t.record.response_body_len.saturating_add(counted);
        }
        self.streams[i].body = next;
        if i == 1 && next == Body::None {
            self.describe(out);
            if let Some(t) = self.current.take() {
                out.emit(t.record);
            }
        }
        used
    }

    /// Appends response body bytes to the kept XML body, giving up (and
    /// freeing it) past [`MAX_XML_BODY`].
    fn keep_xml_bytes(&mut self, bytes: &[u8], out: &mut Out<'_>) {
        if self.xml_body.len() + bytes.len() > MAX_XML_BODY {
            out.weird("http_xml_body_too_long");
            self.drop_xml();
            return;
        }
        self.xml_body.extend_from_slice(bytes);
    }

    /// Reads the kept XML body, if any, for a device description, then
    /// zeroes and frees it.
    fn describe(&mut self, out: &mut Out<'_>) {
        if self.keep_xml && !self.xml_body.is_empty() {
            if let Some(d) = proto_wsd::describe::extract(&self.xml_body) {
                out.emit(d);
            }
        }
        self.drop_xml();
    }

    /// Forgets the kept XML body (its bytes zeroed first).
    fn drop_xml(&mut self) {
        self.keep_xml = false;
        if self.xml_body.capacity() > 0 {
            self.xml_body.fill(0);
            self.xml_body = Vec::new();
        }
    }
}

/// Applies one request header field.
fn request_header(name: &[u8], value: &[u8], rec: &mut HttpRecord) {
    if name.eq_ignore_ascii_case(b"host") {
        let (host, port) = split_host(wire::trim(value));
        rec.host = text::non_empty(host);
        rec.host_port = port;
    } else if name.eq_ignore_ascii_case(b"user-agent") {
        rec.user_agent = text::non_empty(value);
    } else if name.eq_ignore_ascii_case(b"authorization") {
        basic_auth(value, rec);
    }
}

/// A Host header value split into name and port (RFC 9110 §7.2: `uri-host
/// [ ":" port ]`). An IPv6 literal keeps its brackets; a port that is not
/// a number below 65536 is left in the name, as it was sent.
fn split_host(v: &[u8]) -> (&[u8], Option<u16>) {
    let colon = if v.first() == Some(&b'[') {
        match memchr::memchr(b']', v) {
            Some(end) if v.get(end + 1) == Some(&b':') => end + 1,
            _ => return (v, None),
        }
    } else {
        match memchr::memrchr(b':', v) {
            Some(i) if memchr::memchr(b':', &v[..i]).is_none() => i,
            _ => return (v, None),
        }
    };
    let port = &v[colon + 1..];
    if port.is_empty() {
        return (&v[..colon], None);
    }
    match std::str::from_utf8(port)
        .ok()
        .filter(|p| p.bytes().all(|b| b.is_ascii_digit()))
    {
        Some(p) => match p.parse::<u16>() {
            Ok(n) => (&v[..colon], Some(n)),
            Err(_) => (v, None),
        },
        None => (v, None),
    }
}

/// The first token of a header value (as Zeek's MIME `get_value_token`).
fn token(value: &[u8]) -> &[u8] {
    let v = wire::trim(value);
    let end = v
        .iter()
        .position(|&b| b == b',' || b == b';' || b == b' ' || b == b'\t')
        .unwrap_or(v.len());
    &v[..end]
}

/// The header fields that decide how a message body is framed and counted.
#[derive(Default)]
struct Framing {
    /// Last Content-Length: `Some(None)` if unreadable.
    content_length: Option<Option<u64>>,
    chunked: bool,
    /// `Content-Encoding: gzip`, `x-gzip` or `deflate`.
    compressed: bool,
    /// `Content-Type: multipart/*` or `message/*` (Zeek parses it as MIME).
    mime: bool,
    /// `Content-Type: multipart/*`.
    multipart: bool,
    /// `Content-Type` names XML (`text/xml`, `application/soap+xml`, `*+xml`).
    xml: bool,
}

impl Framing {
    fn header(&mut self, name: &[u8], value: &[u8]) {
        if name.eq_ignore_ascii_case(b"content-length") {
            self.content_length = Some(wire::content_length(value));
        } else if name.eq_ignore_ascii_case(b"transfer-encoding") {
            self.chunked |= wire::is_chunked(value);
        } else if name.eq_ignore_ascii_case(b"content-encoding") {
            let t = token(value);
            self.compressed = [&b"gzip"[..], b"x-gzip", b"deflate"]
                .iter()
                .any(|c| t.eq_ignore_ascii_case(c));
        } else if name.eq_ignore_ascii_case(b"content-type") {
            let t = token(value);
            let ty = t.split(|&b| b == b'/').next().unwrap_or_default();
            self.multipart = ty.eq_ignore_ascii_case(b"multipart");
            let sub = t.split(|&b| b == b'/').nth(1).unwrap_or_default();
            self.xml = sub.len() >= 3 && sub[sub.len() - 3..].eq_ignore_ascii_case(b"xml");
            self.mime = self.multipart || ty.eq_ignore_ascii_case(b"message");
        }
    }

    /// How Zeek counts a body framed as `body` (see [`count`]).
    fn counter(&self, body: Body, connection_close: bool) -> Counter {
        match body {
            Body::None => Counter::Raw,
            _ if self.compressed && self.mime => Counter::inflate_lines(),
            _ if self.compressed => Counter::inflate(),
            Body::Length(_) if self.multipart => Counter::crlf_lines(),
            Body::UntilClose if self.mime || !connection_close => Counter::lines(),
            _ => Counter::Raw,
        }
    }
}

/// One step through a chunked body: `((bytes used, chunk data bytes at the
/// start of data, next state), bad chunk size)`. A chunk-size line Zeek
/// cannot read (no hex digit, or above `i64::MAX` such as 2^64) counts as
/// the last chunk, as in Zeek: the trailer follows, then the next message.
fn chunked(c: Chunk, data: &[u8]) -> Result<((usize, usize, Body), bool), ()> {
    let line = || match wire::first_line(data) {
        Some(l) => Ok(Some(l)),
        None if data.len() > MAX_CHUNK_LINE => Err(()),
        None => Ok(None),
    };
    let mut bad = false;
    let step = match c {
        Chunk::Size => match line()? {
            None => (0, 0, Body::Chunked(c)),
            Some((l, used)) => match wire::chunk_size(l) {
                Some(0) => (used, 0, Body::Chunked(Chunk::Trailer)),
                Some(n) => (used, 0, Body::Chunked(Chunk::Data(n))),
                None => {
                    bad = true;
                    (used, 0, Body::Chunked(Chunk::Trailer))
                }
            },
        },
        Chunk::Data(n) => {
            let take = n.min(data.len() as u64);
            let next = if take == n {
                Chunk::DataEnd
            } else {
                Chunk::Data(n - take)
            };
            (take as usize, take as usize, Body::Chunked(next))
        }
        Chunk::DataEnd => match line()? {
            None => (0, 0, Body::Chunked(c)),
            Some((&[], used)) => (used, 0, Body::Chunked(Chunk::Size)),
            Some(_) => return Err(()),
        },
        Chunk::Trailer => match line()? {
            None => (0, 0, Body::Chunked(c)),
            Some((&[], used)) => (used, 0, Body::None),
            Some((_, used)) => (used, 0, Body::Chunked(Chunk::Trailer)),
        },
    };
    Ok((step, bad))
}

/// The request target as logged: percent-decoded, printable, capped, with
/// query values redacted (`model::text::redact_query`).
fn uri(raw: &[u8], out: &mut Out<'_>) -> String {
    // Decoding shrinks, so three times the cap is enough input.
    let raw = &raw[..raw.len().min(MAX_URI * 3)];
    let (decoded, bad) = wire::unescape(raw);
    if bad {
        out.weird("http_bad_percent_escape");
    }
    // Query values can carry patient identifiers: they never leave the analyzer.
    text::redact_query(&text::bounded(&decoded, MAX_URI)).into_owned()
}

/// Keeps the user of `Authorization: Basic` and classifies the password.
fn basic_auth(value: &[u8], rec: &mut HttpRecord) {
    let mut buf = [0u8; 384];
    if let Some((user_end, end)) = wire::basic_auth(value, &mut buf) {
        let user = text::field(&buf[..user_end]);
        let password = buf.get(user_end + 1..end).unwrap_or_default();
        rec.basic_auth_password = Some(PasswordClass::classify(&user, password));
        rec.basic_auth_user = Some(user);
        // The decoded credentials never leave this stack buffer.
        buf.fill(0);
    }
}

#[cfg(test)]
mod tests;
