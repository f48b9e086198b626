//! The sensor's on-disk outbox: every message goes here first and leaves
//! only after JetStream acknowledged it, so a sensor cut off from NATS (or
//! restarted) loses nothing and delivers in order when NATS is back.
//!
//! One file per message (`{seq:020}.msg`: the id on the first line, then the
//! payload), written to a temporary name, synced and renamed, so a crash
//! never leaves a half message. Bounded: [`Outbox::push`] refuses a message
//! that would take the outbox over its size limit ([`Error::Full`]); the
//! sensor then stops reading input until the publisher makes room.

use crate::Error;
use std::collections::VecDeque;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// One queued message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// Position in the outbox.
    pub seq: u64,
    /// Idempotency id.
    pub id: String,
    /// Encoded envelope.
    pub payload: Vec<u8>,
}

struct State {
    queue: VecDeque<(u64, u64)>,
    bytes: u64,
    next: u64,
}

/// The outbox in one directory.
pub struct Outbox {
    dir: PathBuf,
    max_bytes: u64,
    state: Mutex<State>,
}

fn name(seq: u64) -> String {
    format!("{seq:020}.msg")
}

fn io(what: &str, path: &Path, source: std::io::Error) -> Error {
    Error::Io {
        what: format!("{what} {}", path.display()),
        source,
    }
}

impl Outbox {
    /// Opens (creating) the outbox in `dir`, bounded to `max_bytes`, and
    /// finds the messages a previous run left.
    pub fn open(dir: &Path, max_bytes: u64) -> Result<Outbox, Error> {
        std::fs::create_dir_all(dir).map_err(|e| io("cannot create", dir, e))?;
        let mut found = Vec::new();
        for e in std::fs::read_dir(dir).map_err(|e| io("cannot read", dir, e))? {
            let e = e.map_err(|e| io("cannot read", dir, e))?;
            let n = e.file_name().to_string_lossy().into_owned();
            if n.ends_with(".tmp") {
                // A write the previous run did not finish: never published.
                let _ = std::fs::remove_file(e.path());
            } else if let Some(seq) = n.strip_suffix(".msg").and_then(|s| s.parse::<u64>().ok()) {
                let len = e
                    .metadata()
                    .map_err(|err| io("cannot stat", &e.path(), err))?
                    .len();
                found.push((seq, len));
            }
        }
        found.sort_unstable();
        let bytes = found.iter().map(|f| f.1).sum();
        let next = found.last().map_or(0, |f| f.0 + 1);
        Ok(Outbox {
            dir: dir.to_path_buf(),
            max_bytes,
            state: Mutex::new(State {
                queue: found.into(),
                bytes,
                next,
            }),
        })
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Queues a message; [`Error::Full`] if it does not fit now.
    pub fn push(&self, id: &str, payload: &[u8]) -> Result<u64, Error> {
        if id.contains('\n') {
            return Err(Error::Malformed("message id with a newline".into()));
        }
        let size = (id.len() + 1 + payload.len()) as u64;
        let seq = {
            let mut st = self.state();
            if st.bytes + size > self.max_bytes {
                return Err(Error::Full {
                    pending: st.bytes,
                    max: self.max_bytes,
                });
            }
            // Reserve the space and the number before writing.
            st.bytes += size;
            st.next += 1;
            st.next - 1
        };
        let path = self.dir.join(name(seq));
        let tmp = self.dir.join(format!("{}.tmp", name(seq)));
        let write = || -> std::io::Result<()> {
            let mut f = std::fs::File::create(&tmp)?;
            f.write_all(id.as_bytes())?;
            f.write_all(b"\n")?;
            f.write_all(payload)?;
            f.sync_all()?;
            std::fs::rename(&tmp, &path)
        };
        if let Err(e) = write() {
            let _ = std::fs::remove_file(&tmp);
            self.state().bytes -= size;
            return Err(io("cannot write", &path, e));
        }
        // Keep the queue ordered even if two pushes race.
        let mut st = self.state();
        let pos = st
            .queue
            .iter()
            .rposition(|q| q.0 < seq)
            .map_or(0, |p| p + 1);
        st.queue.insert(pos, (seq, size));
        Ok(seq)
    }

    /// The oldest `n` messages, in order.
    pub fn peek(&self, n: usize) -> Result<Vec<Entry>, Error> {
        let seqs: Vec<u64> = self.state().queue.iter().take(n).map(|q| q.0).collect();
        let mut out = Vec::with_capacity(seqs.len());
        for seq in seqs {
            let path = self.dir.join(name(seq));
            let data = std::fs::read(&path).map_err(|e| io("cannot read", &path, e))?;
            let Some(nl) = data.iter().position(|&b| b == b'\n') else {
                return Err(Error::Malformed(format!(
                    "outbox file {} has no id line",
                    path.display()
                )));
            };
            let id = String::from_utf8_lossy(&data[..nl]).into_owned();
            out.push(Entry {
                seq,
                id,
                payload: data[nl + 1..].to_vec(),
            });
        }
        Ok(out)
    }

    /// Removes a delivered message.
    pub fn remove(&self, seq: u64) -> Result<(), Error> {
        let path = self.dir.join(name(seq));
        match std::fs::remove_file(&path) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(io("cannot remove", &path, e)),
        }
        let mut st = self.state();
        if let Some(p) = st.queue.iter().position(|q| q.0 == seq) {
            let (_, size) = st.queue.remove(p).unwrap_or((seq, 0));
            st.bytes = st.bytes.saturating_sub(size);
        }
        Ok(())
    }

    /// Messages and bytes waiting.
    pub fn pending(&self) -> (u64, u64) {
        let st = self.state();
        (st.queue.len() as u64, st.bytes)
    }

    /// The size limit.
    pub fn max_bytes(&self) -> u64 {
        self.max_bytes
    }

    /// The directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tmpdir(tag: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("ward-outbox-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        d
    }

    #[test]
    fn ordered_bounded_and_durable() {
        let d = tmpdir("a");
        let o = Outbox::open(&d, 100).unwrap();
        o.push("a", &[1u8; 40]).unwrap();
        o.push("b", &[2u8; 40]).unwrap();
        assert!(
            matches!(o.push("c", &[3u8; 40]), Err(Error::Full { .. })),
            "over the limit"
        );
        assert_eq!(o.pending(), (2, 84));
        // Reopened (a restart): the same messages, in order; a stray temp file is dropped.
        std::fs::write(d.join("00000000000000000009.msg.tmp"), b"half").unwrap();
        drop(o);
        let o = Outbox::open(&d, 100).unwrap();
        let e = o.peek(10).unwrap();
        assert_eq!(
            e.iter().map(|e| e.id.as_str()).collect::<Vec<_>>(),
            vec!["a", "b"]
        );
        assert_eq!(e[1].payload, vec![2u8; 40]);
        o.remove(e[0].seq).unwrap();
        assert_eq!(o.pending(), (1, 42));
        let seq = o.push("c", &[3u8; 40]).unwrap();
        assert!(seq > e[1].seq, "numbers keep growing after a restart");
        assert_eq!(
            o.peek(10)
                .unwrap()
                .iter()
                .map(|e| e.id.clone())
                .collect::<Vec<_>>(),
            vec!["b", "c"]
        );
        assert!(!d.join("00000000000000000009.msg.tmp").exists());
        assert!(o.push("x\ny", b"").is_err());
        let _ = std::fs::remove_dir_all(&d);
    }
}
