//! The SQLite database holds account secrets: it is created readable by its
//! owner only (issue 19, item 8), and an old world-readable one is narrowed.
#![cfg(unix)]

use std::os::unix::fs::PermissionsExt;
use store::Store;

fn mode(p: &std::path::Path) -> u32 {
    std::fs::metadata(p).unwrap().permissions().mode() & 0o777
}

#[test]
fn the_database_file_is_created_0600_and_narrowed_when_wider() {
    let dir = std::env::temp_dir().join(format!("ward-store-private-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let db = dir.join("ward.db");
    {
        let mut s = Store::open(&db).unwrap();
        s.ingest(&Default::default(), &[], &[]).unwrap();
        assert_eq!(mode(&db), 0o600, "new database");
        let wal = dir.join("ward.db-wal");
        if wal.exists() {
            assert_eq!(mode(&wal), 0o600, "its write-ahead log");
        }
    }
    std::fs::set_permissions(&db, std::fs::Permissions::from_mode(0o644)).unwrap();
    Store::open(&db).unwrap();
    assert_eq!(mode(&db), 0o600, "an existing 0644 database is narrowed");
    let _ = std::fs::remove_dir_all(&dir);
}
