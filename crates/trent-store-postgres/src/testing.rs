//! Test support, shared by this crate's tests and the binary's: a throwaway database on the test
//! PostgreSQL server, `TRENT_TEST_POSTGRES` (a libpq URL; default
//! `postgres://postgres@127.0.0.1:5432/postgres`). Without a reachable server, [`TestDb::create`]
//! says the test skipped and returns `None` — unless `TRENT_TEST_POSTGRES_REQUIRED=1` (CI sets
//! it), where that is a failure.

use std::sync::atomic::{AtomicU32, Ordering};

use postgres::{Client, NoTls};

use crate::{PgOptions, PgStore};

/// The test server's URL.
pub fn server_url() -> String {
    std::env::var("TRENT_TEST_POSTGRES").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into())
}

fn required() -> bool {
    std::env::var("TRENT_TEST_POSTGRES_REQUIRED").is_ok_and(|v| v == "1")
}

/// A database created for one test, dropped (with its connections) when this is dropped.
pub struct TestDb {
    admin_url: String,
    name: String,
    /// The URL of the new database.
    pub url: String,
}

impl TestDb {
    /// A fresh, empty database whose name starts with `trent_test_<tag>`.
    ///
    /// # Panics
    /// When a server is required and unreachable, or refuses to create the database.
    pub fn create(tag: &str) -> Option<TestDb> {
        static N: AtomicU32 = AtomicU32::new(0);
        let admin_url = server_url();
        let mut admin = match admin_client(&admin_url) {
            Ok(c) => c,
            Err(e) if !required() => {
                eprintln!("SKIPPED: no PostgreSQL at {admin_url} ({e}); set TRENT_TEST_POSTGRES");
                return None;
            }
            Err(e) => panic!("PostgreSQL required (TRENT_TEST_POSTGRES_REQUIRED=1), but {admin_url} failed: {e}"),
        };
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        let name = format!(
            "trent_test_{tag}_{}_{nanos}_{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        );
        let create = format!("CREATE DATABASE {name}");
        if let Err(e) = off_runtime(move || admin.batch_execute(&create)) {
            panic!("cannot create the test database {name}: {e}");
        }
        let url = with_database(&admin_url, &name);
        Some(TestDb { admin_url, name, url })
    }

    /// A store on the database (migrated).
    ///
    /// # Panics
    /// When the database cannot be opened.
    pub fn store(&self) -> PgStore {
        let url = self.url.clone();
        off_runtime(move || PgStore::connect(&url, &PgOptions::default())).unwrap_or_else(|e| panic!("connect: {e}"))
    }
}

/// `admin_url` with its database replaced by `name`.
pub fn with_database(admin_url: &str, name: &str) -> String {
    let (base, query) = admin_url
        .split_once('?')
        .map_or((admin_url, None), |(b, q)| (b, Some(q)));
    let authority_end = base.find("://").map_or(0, |i| i + 3);
    let base = match base.rfind('/') {
        Some(i) if i >= authority_end => base.get(..i).unwrap_or(base),
        _ => base,
    };
    match query {
        Some(q) => format!("{base}/{name}?{q}"),
        None => format!("{base}/{name}"),
    }
}

/// Runs `f` on its own thread: the synchronous client must not run on an async runtime's thread
/// (tests are often `#[tokio::test]`).
fn off_runtime<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    std::thread::spawn(f)
        .join()
        .unwrap_or_else(|p| std::panic::resume_unwind(p))
}

fn admin_client(url: &str) -> Result<Client, postgres::Error> {
    let url = url.to_owned();
    off_runtime(move || Client::connect(&url, NoTls))
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let drop_sql = format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name);
        if let Ok(mut admin) = admin_client(&self.admin_url) {
            let _ = off_runtime(move || admin.batch_execute(&drop_sql));
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_database_name_is_replaced() {
        for (url, want) in [
            ("postgres://u@h:5432/postgres", "postgres://u@h:5432/x"),
            ("postgres://u@h:5432", "postgres://u@h:5432/x"),
            ("postgres://u@h/db?sslmode=disable", "postgres://u@h/x?sslmode=disable"),
        ] {
            assert_eq!(super::with_database(url, "x"), want);
        }
    }
}
