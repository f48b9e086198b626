//! Account secrets at rest: TOTP seeds are stored encrypted
//! (ChaCha20-Poly1305, `ring`) under a 256-bit key that never enters the
//! database, so a copied database file or dump does not yield second
//! factors.
//!
//! **Where the key lives** (one file, 64 hex digits, mode 0600, created on
//! first use): `$WARD_KEY_FILE` when set; otherwise beside a SQLite
//! database, `DB.key` (`ward.db` → `ward.db.key`); for PostgreSQL,
//! `ward-state/totp.key` under the working directory (the default
//! `--state-dir` of `ward serve`). Every command that opens the same store
//! (`ward serve`, `ward user ...`) finds the same key this way; a PostgreSQL
//! deployment run from several directories sets `WARD_KEY_FILE`. Back the key
//! up with the database: without it the stored second factors are lost
//! (accounts then need new ones).
//!
//! A stored secret is `enc1:` + hex(nonce ‖ ciphertext ‖ tag). Plaintext
//! secrets of an older database are sealed when the store is opened. A
//! missing or different key is one error line ([`crate::Error::SecretKey`]),
//! never a silent new key: a key is only created while the database holds
//! no sealed secret.

use crate::Error;
use ring::aead::{Aad, LessSafeKey, Nonce, UnboundKey, CHACHA20_POLY1305, NONCE_LEN};
use ring::rand::{SecureRandom, SystemRandom};
use std::path::{Path, PathBuf};

/// Prefix of a sealed secret.
pub(crate) const SEALED: &str = "enc1:";
/// Bound to every sealed secret (a sealed value means nothing elsewhere).
const AAD: &[u8] = b"ward totp secret v1";
/// Environment variable naming the key file (overrides the defaults).
pub const KEY_FILE_ENV: &str = "WARD_KEY_FILE";

/// Where a store's key comes from.
#[derive(Debug, Clone)]
pub(crate) enum KeySource {
    /// A key file (created on first use).
    File(PathBuf),
    /// A random key for the store's lifetime (in-memory stores).
    Ephemeral,
}

impl KeySource {
    /// The key file of a SQLite database at `db` (or `$WARD_KEY_FILE`).
    pub(crate) fn beside(db: &Path) -> KeySource {
        if let Some(p) = env_file() {
            return KeySource::File(p);
        }
        let mut s = db.as_os_str().to_owned();
        s.push(".key");
        KeySource::File(s.into())
    }

    /// The key file of a PostgreSQL store (`$WARD_KEY_FILE`, else
    /// `ward-state/totp.key`).
    pub(crate) fn postgres() -> KeySource {
        KeySource::File(env_file().unwrap_or_else(|| Path::new("ward-state").join("totp.key")))
    }
}

fn env_file() -> Option<PathBuf> {
    std::env::var_os(KEY_FILE_ENV)
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
}

/// A loaded key.
pub(crate) struct SecretKey {
    key: LessSafeKey,
}

fn key_error(msg: String) -> Error {
    Error::SecretKey(msg)
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex(s: &str) -> Option<Vec<u8>> {
    if s.len() % 2 != 0 {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| s.get(i..i + 2).and_then(|h| u8::from_str_radix(h, 16).ok()))
        .collect()
}

impl SecretKey {
    fn from_bytes(bytes: &[u8]) -> Option<SecretKey> {
        let key = UnboundKey::new(&CHACHA20_POLY1305, bytes).ok()?;
        Some(SecretKey {
            key: LessSafeKey::new(key),
        })
    }

    fn random_bytes() -> Result<[u8; 32], Error> {
        let mut b = [0u8; 32];
        SystemRandom::new()
            .fill(&mut b)
            .map_err(|_| key_error("cannot read the OS random source".into()))?;
        Ok(b)
    }

    /// A fresh random key kept in memory only.
    pub(crate) fn ephemeral() -> Result<SecretKey, Error> {
        let b = Self::random_bytes()?;
        Self::from_bytes(&b).ok_or_else(|| key_error("cannot build a key".into()))
    }

    /// Reads the key file at `path`; `Ok(None)` when it does not exist.
    pub(crate) fn read(path: &Path) -> Result<Option<SecretKey>, Error> {
        let text = match std::fs::read_to_string(path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => {
                return Err(key_error(format!(
                    "cannot read the TOTP secret key {}: {e}",
                    path.display()
                )))
            }
        };
        let bytes = unhex(text.trim()).filter(|b| b.len() == 32);
        match bytes.as_deref().and_then(Self::from_bytes) {
            Some(k) => Ok(Some(k)),
            None => Err(key_error(format!(
                "the TOTP secret key {} is not a Ward key (64 hex digits expected)",
                path.display()
            ))),
        }
    }

    /// Creates the key file at `path` (mode 0600, never overwriting: when
    /// another process created it first, that key is read and used).
    pub(crate) fn create(path: &Path) -> Result<SecretKey, Error> {
        let cannot = |e: std::io::Error| {
            key_error(format!(
                "cannot create the TOTP secret key {}: {e}",
                path.display()
            ))
        };
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(cannot)?;
        }
        let bytes = Self::random_bytes()?;
        let mut opts = std::fs::OpenOptions::new();
        opts.write(true).create_new(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            opts.mode(0o600);
        }
        match opts.open(path) {
            Ok(mut f) => {
                use std::io::Write;
                f.write_all(format!("{}\n", hex(&bytes)).as_bytes())
                    .and_then(|()| f.sync_all())
                    .map_err(cannot)?;
                Self::from_bytes(&bytes).ok_or_else(|| key_error("cannot build a key".into()))
            }
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                Self::read(path)?.ok_or_else(|| key_error(format!("{} vanished", path.display())))
            }
            Err(e) => Err(cannot(e)),
        }
    }

    /// `plain` sealed: `enc1:` + hex(nonce ‖ ciphertext ‖ tag).
    pub(crate) fn seal(&self, plain: &str) -> Result<String, Error> {
        let mut nonce = [0u8; NONCE_LEN];
        SystemRandom::new()
            .fill(&mut nonce)
            .map_err(|_| key_error("cannot read the OS random source".into()))?;
        let mut buf = plain.as_bytes().to_vec();
        self.key
            .seal_in_place_append_tag(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(AAD),
                &mut buf,
            )
            .map_err(|_| key_error("cannot encrypt a TOTP secret".into()))?;
        let mut out = Vec::with_capacity(NONCE_LEN + buf.len());
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&buf);
        Ok(format!("{SEALED}{}", hex(&out)))
    }

    /// A sealed value opened; `None` when this key did not seal it (or it
    /// was altered).
    pub(crate) fn open(&self, sealed: &str) -> Option<String> {
        let raw = unhex(sealed.strip_prefix(SEALED)?)?;
        if raw.len() < NONCE_LEN {
            return None;
        }
        let (n, ct) = raw.split_at(NONCE_LEN);
        let nonce = Nonce::try_assume_unique_for_key(n).ok()?;
        let mut buf = ct.to_vec();
        let plain = self
            .key
            .open_in_place(nonce, Aad::from(AAD), &mut buf)
            .ok()?;
        String::from_utf8(plain.to_vec()).ok()
    }
}

/// Whether a stored value is sealed.
pub(crate) fn is_sealed(stored: &str) -> bool {
    stored.starts_with(SEALED)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seal_open_round_trip_and_tamper() {
        let k = SecretKey::ephemeral().unwrap();
        let s = k.seal("GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ").unwrap();
        assert!(is_sealed(&s));
        assert!(!s.contains("GEZDGNBV"));
        assert_ne!(s, k.seal("GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ").unwrap());
        assert_eq!(
            k.open(&s).as_deref(),
            Some("GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ")
        );
        let other = SecretKey::ephemeral().unwrap();
        assert_eq!(other.open(&s), None, "another key");
        let mut t = s.clone().into_bytes();
        let last = t.len() - 1;
        t[last] = if t[last] == b'0' { b'1' } else { b'0' };
        assert_eq!(k.open(&String::from_utf8(t).unwrap()), None, "altered");
        assert_eq!(k.open("enc1:zz"), None);
        assert_eq!(k.open("enc1:00"), None);
    }

    #[test]
    fn key_file_created_private_and_read_back() {
        let dir = std::env::temp_dir().join(format!("ward-key-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let p = dir.join("sub").join("k.key");
        assert!(SecretKey::read(&p).unwrap().is_none());
        let k = SecretKey::create(&p).unwrap();
        let again = SecretKey::read(&p).unwrap().unwrap();
        assert_eq!(again.open(&k.seal("X").unwrap()).as_deref(), Some("X"));
        // A second create keeps the first key.
        let k2 = SecretKey::create(&p).unwrap();
        assert_eq!(k2.open(&k.seal("Y").unwrap()).as_deref(), Some("Y"));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&p).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        std::fs::write(&p, "not a key\n").unwrap();
        let e = SecretKey::read(&p).err().unwrap().to_string();
        assert!(e.contains("is not a Ward key"), "{e}");
        let _ = std::fs::remove_dir_all(&dir);
    }
}
