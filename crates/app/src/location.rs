//! Where a store lives: `--db` is a SQLite file path or a `postgres://` URL
//! (the central store of a multi-site deployment).

use std::path::Path;

/// Opens the store `--db` names.
pub fn open(db: &Path) -> Result<store::Store, store::Error> {
    match db.to_str() {
        Some(s) if store::is_postgres_url(s) => store::Store::open_postgres(s),
        _ => store::Store::open(db),
    }
}

/// Whether there is a store to read: a SQLite file that exists, or any
/// PostgreSQL URL (the server says whether it holds a Ward schema).
pub fn exists(db: &Path) -> bool {
    db.to_str().is_some_and(store::is_postgres_url) || db.exists()
}

/// How to name the store in logs and pages: the path, or the URL without
/// its password.
pub fn label(db: &Path) -> String {
    let s = db.display().to_string();
    match (s.find("://"), s.find('@')) {
        (Some(p), Some(at)) if store::is_postgres_url(&s) && at > p => {
            let user = s[p + 3..at].split(':').next().unwrap_or("");
            format!("{}{user}@{}", &s[..p + 3], &s[at + 1..])
                .split('?')
                .next()
                .unwrap_or("")
                .to_string()
        }
        _ => s,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_hide_passwords() {
        assert_eq!(
            label(Path::new(
                "postgres://ward:s3cret@db:5432/ward?sslmode=disable"
            )),
            "postgres://ward@db:5432/ward"
        );
        assert_eq!(label(Path::new("ward.db")), "ward.db");
        assert!(exists(Path::new("postgres://x@h/d")));
    }
}
