//! Telnet login analyzer (RFC 854 NVT and IAC commands, RFC 855 option
//! subnegotiation).
//!
//! IAC sequences (`IAC WILL/WONT/DO/DONT opt`, `IAC SB ... IAC SE`, two-byte
//! commands) are stripped from both directions. The remaining server text is
//! scanned for a login prompt (`login:`, `username:`, `user name:`) and a
//! password prompt (`password:`, `passcode:`), case-insensitively. The next
//! client line after a login prompt is the user name; after a password
//! prompt it is the password, which is only classified and then wiped.
//! Client lines may arrive one character per packet; backspace (0x08) and
//! DEL (0x7f) edit the line; CR, LF, CR NUL and CR LF end it.
//!
//! The outcome is best effort: server text after the password containing
//! `incorrect`/`failed`/`invalid`/`denied` or a new login/password prompt is
//! a failure; `last login`/`welcome`, or a shell-like prompt (`$ # > %`)
//! at the moment the client starts typing again, is a success; otherwise
//! unknown. One [`CleartextLogin`] per attempt; the analyzer stops after a
//! successful login (the session itself is not inspected).

use analyzer_api::{Analyzer, ByteSet, Out, Probe, Progress, Protocol};
use model::records::{CleartextLogin, LoginProtocol, PasswordClass};
use model::{Direction, Transport};

/// Longest client line accumulated; extra characters are dropped.
pub const MAX_LINE: usize = 512;
/// Longest banner kept (bytes of server text before the first prompt).
const MAX_BANNER: usize = model::text::MAX_FIELD;
/// Longest subnegotiation tolerated before assuming it is unterminated.
const MAX_SB: usize = 1024;
/// Login attempts reported per connection at most.
const MAX_ATTEMPTS: u32 = 16;
/// Recent server text kept for prompt and keyword matching.
const WINDOW: usize = 32;

const IAC: u8 = 0xff;
const SE: u8 = 0xf0;
const SB: u8 = 0xfa;
const WILL: u8 = 0xfb;
const DONT: u8 = 0xfe;

/// Telnet (`telnet`, TCP 23).
pub struct Telnet;

impl Protocol for Telnet {
    fn name(&self) -> &'static str {
        "telnet"
    }

    fn transports(&self) -> &'static [Transport] {
        &[Transport::Tcp]
    }

    fn ports(&self) -> &'static [u16] {
        &[23]
    }

    fn probe(&self, _dir: Direction, data: &[u8], port_hint: bool) -> Probe {
        probe(data, port_hint)
    }

    /// IAC (plain text only on the Telnet port).
    fn first_bytes(&self) -> ByteSet {
        ByteSet::of(&[IAC])
    }

    fn start(&self) -> Box<dyn Analyzer> {
        Box::new(TelnetAnalyzer::default())
    }
}

/// `IAC WILL|WONT|DO|DONT <known option>` (then another IAC or text), or on
/// port 23 printable text.
fn probe(data: &[u8], port_hint: bool) -> Probe {
    match data {
        [] => Probe::NeedMore,
        [IAC] | [IAC, WILL..=DONT] => Probe::NeedMore,
        [IAC, WILL..=DONT, opt, rest @ ..] => {
            // Options 0..=49 are assigned (RFC 1700 / IANA telnet-options); 255 is EXOPL.
            let opt_ok = *opt <= 49 || *opt == 255;
            let next_ok = match rest.first() {
                None => true,
                Some(&b) => b == IAC || b == b'\r' || b == b'\n' || (0x20..0x7f).contains(&b),
            };
            if opt_ok && next_ok {
                Probe::Match
            } else {
                Probe::NoMatch
            }
        }
        _ if port_hint => {
            let head = &data[..data.len().min(32)];
            if !head
                .iter()
                .all(|&b| matches!(b, b'\r' | b'\n' | b'\t' | 0) || (0x20..0x7f).contains(&b))
            {
                Probe::NoMatch
            } else if head.len() < 4 {
                Probe::NeedMore
            } else {
                Probe::Match
            }
        }
        _ => Probe::NoMatch,
    }
}

/// IAC parser state for one direction.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
enum Iac {
    #[default]
    Data,
    /// After IAC.
    Command,
    /// After IAC WILL/WONT/DO/DONT: the option byte.
    Option,
    /// Inside IAC SB ... (bytes seen).
    Sub(usize),
    /// IAC inside a subnegotiation.
    SubCommand(usize),
}

impl Iac {
    /// Feeds one byte; returns it if it is NVT data.
    fn step(&mut self, b: u8, out: &mut Out<'_>) -> Option<u8> {
        let (next, data) = match (*self, b) {
            (Iac::Data, IAC) => (Iac::Command, None),
            (Iac::Data, b) => (Iac::Data, Some(b)),
            (Iac::Command, IAC) => (Iac::Data, Some(IAC)),
            (Iac::Command, WILL..=DONT) => (Iac::Option, None),
            (Iac::Command, SB) => (Iac::Sub(0), None),
            (Iac::Command, _) => (Iac::Data, None),
            (Iac::Option, _) => (Iac::Data, None),
            (Iac::Sub(n), IAC) => (Iac::SubCommand(n), None),
            (Iac::Sub(n), _) if n >= MAX_SB => {
                out.weird("telnet_suboption_too_long");
                (Iac::Data, None)
            }
            (Iac::Sub(n), _) => (Iac::Sub(n + 1), None),
            (Iac::SubCommand(_), SE) => (Iac::Data, None),
            (Iac::SubCommand(n), _) => (Iac::Sub(n + 1), None),
        };
        *self = next;
        data
    }
}

/// Where the login dialogue is.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
enum State {
    /// No prompt yet (or after a failed attempt).
    #[default]
    Idle,
    /// Login prompt seen: the next client line is the user name.
    WantUser,
    /// User name typed; waiting for the password prompt.
    HaveUser,
    /// Password prompt seen: the next client line is the password.
    WantPass,
    /// Password typed: watching server text for the outcome.
    Result(PasswordClass),
}

/// Per-connection Telnet state.
#[derive(Default)]
pub struct TelnetAnalyzer {
    iac: [Iac; 2],
    state: State,
    /// Last [`WINDOW`] bytes of server text, lowercased.
    window: Vec<u8>,
    banner: Vec<u8>,
    banner_done: bool,
    /// Client line being typed (may briefly hold a password; wiped after use).
    line: Vec<u8>,
    line_overflow: bool,
    last_cr: bool,
    user: Option<String>,
    attempts: u32,
    done: bool,
}

const LOGIN_PROMPTS: &[&[u8]] = &[b"login:", b"username:", b"user name:"];
const PASSWORD_PROMPTS: &[&[u8]] = &[b"password:", b"passcode:"];
const FAILURE_WORDS: &[&[u8]] = &[b"incorrect", b"failed", b"failure", b"invalid", b"denied"];
const SUCCESS_WORDS: &[&[u8]] = &[b"last login", b"welcome"];

impl TelnetAnalyzer {
    fn window_ends_with_any(&self, words: &[&[u8]]) -> bool {
        words.iter().any(|w| self.window.ends_with(w))
    }

    /// The server text so far ends like a shell prompt.
    fn shell_prompt(&self) -> bool {
        let trimmed = self
            .window
            .iter()
            .rposition(|&b| b != b' ')
            .map(|i| self.window[i]);
        matches!(trimmed, Some(b'$' | b'#' | b'>' | b'%'))
    }

    fn wipe_line(&mut self) {
        self.line.iter_mut().for_each(|b| *b = 0);
        self.line.clear();
        self.line_overflow = false;
    }

    fn emit(&mut self, password: PasswordClass, success: Option<bool>, out: &mut Out<'_>) {
        self.attempts += 1;
        out.emit(CleartextLogin {
            protocol: LoginProtocol::Telnet,
            user: self.user.clone(),
            password,
            banner: self.banner_text(),
            success,
            reply_code: None,
        });
        if success == Some(true) || self.attempts >= MAX_ATTEMPTS {
            self.done = true;
        }
    }

    fn banner_text(&self) -> Option<String> {
        model::text::non_empty(&self.banner)
    }

    fn server_byte(&mut self, b: u8, out: &mut Out<'_>) {
        if !self.banner_done && self.banner.len() < MAX_BANNER {
            let b = if b == b'\r' || b == b'\n' { b' ' } else { b };
            let dup_space = b == b' ' && self.banner.last().is_none_or(|&l| l == b' ');
            if !dup_space && (b >= 0x20 && b != 0x7f) {
                self.banner.push(b);
            }
        }
        if self.window.len() >= WINDOW {
            self.window.remove(0);
        }
        self.window.push(b.to_ascii_lowercase());

        if let State::Result(class) = self.state {
            if self.window_ends_with_any(FAILURE_WORDS) {
                self.emit(class, Some(false), out);
                self.state = State::Idle;
                return;
            }
            if self.window_ends_with_any(SUCCESS_WORDS) {
                self.emit(class, Some(true), out);
                self.state = State::Idle;
                return;
            }
        }
        if b != b':' {
            return;
        }
        let login = self.window_ends_with_any(LOGIN_PROMPTS);
        let password = !login && self.window_ends_with_any(PASSWORD_PROMPTS);
        if !login && !password {
            return;
        }
        self.banner_done = true;
        if let State::Result(class) = self.state {
            // Prompted again: the attempt failed.
            self.emit(class, Some(false), out);
        }
        if login {
            self.user = None;
            self.state = State::WantUser;
        } else {
            self.state = State::WantPass;
        }
        self.wipe_line();
    }

    fn client_byte(&mut self, b: u8, out: &mut Out<'_>) {
        let after_cr = std::mem::replace(&mut self.last_cr, b == b'\r');
        if after_cr && (b == b'\n' || b == 0) {
            return; // CR LF and CR NUL end one line
        }
        if let State::Result(class) = self.state {
            // The user types again: judge by the server text shown so far.
            let success = self.shell_prompt().then_some(true);
            self.emit(class, success, out);
            self.state = State::Idle;
            if self.done {
                return;
            }
        }
        match b {
            b'\r' | b'\n' => self.client_line(out),
            0x08 | 0x7f => {
                self.line.pop();
            }
            _ if self.line.len() < MAX_LINE => self.line.push(b),
            _ => {
                if !self.line_overflow {
                    self.line_overflow = true;
                    out.weird("telnet_line_too_long");
                }
            }
        }
    }

    fn client_line(&mut self, _out: &mut Out<'_>) {
        match self.state {
            State::WantUser if !self.line.is_empty() => {
                self.user = model::text::non_empty(&self.line);
                self.state = State::HaveUser;
            }
            State::WantPass => {
                let class = PasswordClass::classify(self.user.as_deref().unwrap_or(""), &self.line);
                self.state = State::Result(class);
                self.window.clear();
            }
            _ => {}
        }
        self.wipe_line();
    }
}

fn dir_index(dir: Direction) -> usize {
    match dir {
        Direction::ToServer => 0,
        Direction::ToClient => 1,
    }
}

impl Analyzer for TelnetAnalyzer {
    fn feed(&mut self, dir: Direction, data: &[u8], out: &mut Out<'_>) -> Progress {
        let d = dir_index(dir);
        for &raw in data {
            let Some(b) = self.iac[d].step(raw, out) else {
                continue;
            };
            match dir {
                Direction::ToClient => self.server_byte(b, out),
                Direction::ToServer => self.client_byte(b, out),
            }
            if self.done {
                self.wipe_line();
                return Progress::Done;
            }
        }
        Progress::Consumed(data.len())
    }

    fn gap(&mut self, _dir: Direction, _len: u64, out: &mut Out<'_>) -> Progress {
        out.weird("content_gap");
        self.finish(out);
        Progress::Done
    }

    fn finish(&mut self, out: &mut Out<'_>) {
        match self.state {
            State::Result(class) => {
                let success = self.shell_prompt().then_some(true);
                self.emit(class, success, out);
            }
            State::HaveUser | State::WantPass if self.user.is_some() => {
                self.emit(PasswordClass::None, None, out)
            }
            _ => {}
        }
        self.state = State::Idle;
        self.wipe_line();
    }
}
