//! The PostgreSQL backend of the `trent-store` traits, for Trent as a cluster: several stateless
//! nodes on one (replicated) database. It owns the connection pool, transactions, the mapping of
//! PostgreSQL errors to [`StoreError`] kinds, and the schema (`migrations`). It passes the same
//! conformance suite as SQLite (`tests/conformance.rs`).
//!
//! The store traits are synchronous (the service calls them off the async executor, on tokio's
//! blocking pool), so this backend uses the synchronous `postgres` client (tokio-postgres driven
//! per call) with an `r2d2` pool; ARCHITECTURE.md ("Storage") gives the reasons.
//!
//! Concurrency: every write is one transaction at READ COMMITTED; where a write depends on what
//! it read (a rotation's compare-and-swap, an access key's owner, a user's remaining keys) the
//! row is locked (`FOR UPDATE` / `FOR SHARE`) first, so two nodes racing get one winner.

#![forbid(unsafe_code)]

mod audit;
mod changes;
pub mod migrations;
mod read;
pub mod testing;
mod tls;
mod write;

use std::ops::{Deref, DerefMut};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use postgres::error::SqlState;
use postgres::{Client, Row};
use r2d2::{Pool, PooledConnection};
use r2d2_postgres::PostgresConnectionManager;
use trent_store::StoreError;

type Manager = PostgresConnectionManager<tls::Connector>;
type Conn = PooledConnection<Manager>;

/// Connection settings beyond the URL.
#[derive(Debug, Clone)]
pub struct PgOptions {
    /// Most connections this node opens.
    pub pool_size: u32,
    /// How long a request waits for a connection (or for the database to answer a connect).
    pub connect_timeout: Duration,
}

impl Default for PgOptions {
    fn default() -> Self {
        PgOptions {
            pool_size: 16,
            connect_timeout: Duration::from_secs(5),
        }
    }
}

/// A PostgreSQL-backed store: a pool of connections, or — inside [`trent_store::Store::atomically`]
/// — one connection holding an open transaction.
pub struct PgStore {
    source: Source,
    /// The connection settings and TLS connector (for the change listener's and the leader's
    /// own connections).
    config: Option<(postgres::Config, tls::Connector)>,
    /// Tells the change listener to end (set when the store is dropped).
    stop: Arc<AtomicBool>,
    /// The connection holding the scheduler's advisory lock while this server leads.
    leader: Mutex<Option<Client>>,
}

/// `pg_advisory_lock` key of the scheduler leadership ("trent-ld").
const LEADER_LOCK: i64 = 0x7472_656e_742d_6c64;

enum Source {
    Pool(Pool<Manager>),
    /// The transaction view of `atomically`: every call runs on this connection, inside the
    /// transaction; writes nest as savepoints.
    Held(Box<Mutex<Conn>>),
    /// Dropped.
    Closed,
}

impl Drop for PgStore {
    /// Closing a connection blocks on the driver's own runtime, which panics on a thread that
    /// drives async tasks (where the service's last `Arc` may well be dropped): close the pool on
    /// a thread of its own.
    fn drop(&mut self) {
        if self.config.is_some() {
            self.stop.store(true, Ordering::Relaxed);
        }
        let leader = self.leader.get_mut().ok().and_then(Option::take);
        if let Source::Pool(pool) = std::mem::replace(&mut self.source, Source::Closed) {
            let _ = std::thread::spawn(move || drop((pool, leader))).join();
        }
    }
}

/// The connection one call runs on.
pub(crate) enum ClientGuard<'a> {
    Pooled(Box<Conn>),
    Held(MutexGuard<'a, Conn>),
}

impl Deref for ClientGuard<'_> {
    type Target = Client;
    fn deref(&self) -> &Client {
        match self {
            ClientGuard::Pooled(c) => c,
            ClientGuard::Held(g) => g,
        }
    }
}

impl DerefMut for ClientGuard<'_> {
    fn deref_mut(&mut self) -> &mut Client {
        match self {
            ClientGuard::Pooled(c) => c,
            ClientGuard::Held(g) => g,
        }
    }
}

/// Maps a driver error to a backend-neutral kind. Lost connections, failovers and timeouts are
/// `Backend` (the service answers a retryable 500); a unique-key violation is `UniqueViolation`;
/// serialization failures and deadlocks are `Conflict` (someone else changed it first).
pub(crate) fn classify(e: postgres::Error) -> StoreError {
    match e.code() {
        Some(c) if *c == SqlState::UNIQUE_VIOLATION => StoreError::UniqueViolation,
        Some(c) if *c == SqlState::T_R_SERIALIZATION_FAILURE || *c == SqlState::T_R_DEADLOCK_DETECTED => {
            StoreError::Conflict
        }
        _ => StoreError::Backend(describe(&e)),
    }
}

/// An error and its causes, `: `-separated (the driver's own message is often only the outer
/// layer: "error performing TLS handshake").
fn describe(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut cause = e.source();
    while let Some(c) = cause {
        let next = c.to_string();
        if !text.contains(&next) {
            text.push_str(": ");
            text.push_str(&next);
        }
        cause = c.source();
    }
    text
}

fn pool_error(e: r2d2::Error) -> StoreError {
    StoreError::Backend(format!("no database connection: {e}"))
}

/// A text column parsed into a domain value; an unknown value is a corrupt row.
pub(crate) fn parsed<T>(r: &Row, i: usize, parse: impl Fn(&str) -> Option<T>) -> Result<T, StoreError> {
    let s: String = r
        .try_get(i)
        .map_err(|e| StoreError::Corrupt(format!("column {i}: {e}")))?;
    parse(&s).ok_or_else(|| StoreError::Corrupt(format!("column {i}: unknown value {s:?}")))
}

pub(crate) fn parsed_opt<T>(r: &Row, i: usize, parse: impl Fn(&str) -> Option<T>) -> Result<Option<T>, StoreError> {
    let s: Option<String> = r
        .try_get(i)
        .map_err(|e| StoreError::Corrupt(format!("column {i}: {e}")))?;
    s.map(|s| parse(&s).ok_or_else(|| StoreError::Corrupt(format!("column {i}: unknown value {s:?}"))))
        .transpose()
}

/// A plain column.
pub(crate) fn col<'a, T: postgres::types::FromSql<'a>>(r: &'a Row, i: usize) -> Result<T, StoreError> {
    r.try_get(i)
        .map_err(|e| StoreError::Corrupt(format!("column {i}: {e}")))
}

impl PgStore {
    /// Connects to `url` (a libpq URL or key=value string; several hosts with
    /// `target_session_attrs=read-write` reach whichever is the primary; `sslmode` and
    /// `sslrootcert` as libpq reads them, see `tls`) and applies pending migrations.
    pub fn connect(url: &str, options: &PgOptions) -> Result<Self, StoreError> {
        let (mut config, tls) = tls::configure(url)?;
        if config.get_connect_timeout().is_none() {
            config.connect_timeout(options.connect_timeout);
        }
        config.application_name("trent");
        // A peer that vanishes (a failed-over primary) is noticed by TCP keepalive, not never.
        config.keepalives(true);
        config.keepalives_idle(Duration::from_secs(10));
        // The first connection is made here, not by the pool, so that a refusal (a wrong
        // certificate, an unknown database) is reported at once and with its cause rather than
        // retried until the pool's timeout.
        let mut first = config.connect(tls.clone()).map_err(classify)?;
        migrations::apply(&mut first)?;
        let _ = std::thread::spawn(move || drop(first)).join();
        let pool = Pool::builder()
            .max_size(options.pool_size.max(1))
            .min_idle(Some(1))
            .connection_timeout(options.connect_timeout)
            // A broken connection is noticed by the query that fails on it (and not reused:
            // `has_broken`); checking every checkout would double each call's round trips.
            .test_on_check_out(false)
            .build(PostgresConnectionManager::new(config.clone(), tls.clone()))
            .map_err(pool_error)?;
        Ok(PgStore {
            source: Source::Pool(pool),
            config: Some((config, tls)),
            stop: Arc::new(AtomicBool::new(false)),
            leader: Mutex::new(None),
        })
    }

    /// The schema version after migrations.
    pub fn schema_version(&self) -> Result<i64, StoreError> {
        let mut c = self.client()?;
        let row = c
            .query_one("SELECT COALESCE(MAX(version), 0) FROM trent_schema", &[])
            .map_err(classify)?;
        col(&row, 0)
    }

    /// [`trent_store::StoreRead::watch`]: starts the change listener.
    pub(crate) fn start_watching(&self, sink: trent_store::ChangeSink) -> Result<bool, StoreError> {
        match &self.config {
            Some((config, tls)) => {
                changes::watch(config.clone(), tls.clone(), sink, Arc::clone(&self.stop)).map(|()| true)
            }
            None => Err(StoreError::Backend("a transaction view cannot be watched".into())),
        }
    }

    /// [`trent_store::StoreRead::try_lead`]: holds a session advisory lock on a connection of its
    /// own while leading; PostgreSQL releases it when that connection dies with its server, and
    /// the next server to ask takes over.
    pub(crate) fn lead(&self) -> Result<bool, StoreError> {
        let Some(config) = &self.config else {
            return Ok(false);
        };
        let mut held = self
            .leader
            .lock()
            .map_err(|_| StoreError::Backend("leader mutex poisoned".into()))?;
        if let Some(c) = held.as_mut() {
            if c.simple_query("").is_ok() {
                return Ok(true);
            }
            // The connection (and with it the lock) is gone; try to win it again below.
            *held = None;
        }
        let mut c = config.0.connect(config.1.clone()).map_err(classify)?;
        let won: bool = c
            .query_one("SELECT pg_try_advisory_lock($1)", &[&LEADER_LOCK])
            .map_err(classify)?
            .get(0);
        if won {
            *held = Some(c);
        }
        Ok(won)
    }

    /// Whether this is `atomically`'s view (every call inside one open transaction).
    pub(crate) fn in_transaction_view(&self) -> bool {
        matches!(self.source, Source::Held(_))
    }

    pub(crate) fn client(&self) -> Result<ClientGuard<'_>, StoreError> {
        match &self.source {
            Source::Pool(p) => p.get().map(|c| ClientGuard::Pooled(Box::new(c))).map_err(pool_error),
            Source::Held(m) => m
                .lock()
                .map(ClientGuard::Held)
                .map_err(|_| StoreError::Backend("connection mutex poisoned".into())),
            Source::Closed => Err(StoreError::Backend("the store is closed".into())),
        }
    }

    /// Runs `f` as one transaction (a savepoint inside `atomically`'s): committed if it returns
    /// `Ok`, rolled back if it fails or panics.
    pub(crate) fn write<R>(&self, f: impl FnOnce(&mut Client) -> Result<R, StoreError>) -> Result<R, StoreError> {
        let mut c = self.client()?;
        let nested = self.in_transaction_view();
        c.batch_execute(if nested { "SAVEPOINT trent_write" } else { "BEGIN" })
            .map_err(classify)?;
        let mut open = Open {
            client: &mut c,
            nested,
            finished: false,
        };
        let out = f(open.client)?;
        open.finish()?;
        Ok(out)
    }
}

/// An open transaction or savepoint; rolled back when dropped unfinished.
struct Open<'c> {
    client: &'c mut Client,
    nested: bool,
    finished: bool,
}

impl Open<'_> {
    fn finish(&mut self) -> Result<(), StoreError> {
        self.finished = true;
        self.client
            .batch_execute(if self.nested {
                "RELEASE SAVEPOINT trent_write"
            } else {
                "COMMIT"
            })
            .map_err(classify)
    }
}

impl Drop for Open<'_> {
    fn drop(&mut self) {
        if !self.finished {
            let sql = if self.nested {
                "ROLLBACK TO SAVEPOINT trent_write; RELEASE SAVEPOINT trent_write"
            } else {
                "ROLLBACK"
            };
            // A connection that cannot roll back is broken; the pool drops it (`has_broken`).
            let _ = self.client.batch_execute(sql);
        }
    }
}

impl PgStore {
    /// [`trent_store::Store::atomically`]: `f` runs on one connection inside one transaction.
    pub(crate) fn in_transaction(
        &self,
        f: &mut dyn FnMut(&dyn trent_store::Store) -> Result<(), StoreError>,
    ) -> Result<(), StoreError> {
        let conn = match &self.source {
            // Already inside a transaction: run as part of it.
            Source::Held(_) => return f(self),
            Source::Pool(p) => p.get().map_err(pool_error)?,
            Source::Closed => return Err(StoreError::Backend("the store is closed".into())),
        };
        let view = PgStore {
            source: Source::Held(Box::new(Mutex::new(conn))),
            config: None,
            stop: Arc::new(AtomicBool::new(false)),
            leader: Mutex::new(None),
        };
        let mut open = OpenView {
            view: &view,
            finished: false,
        };
        open.begin()?;
        f(open.view)?;
        open.commit()
    }
}

/// `atomically`'s transaction: rolled back when dropped uncommitted (an error or a panic in `f`).
struct OpenView<'v> {
    view: &'v PgStore,
    finished: bool,
}

impl OpenView<'_> {
    fn begin(&mut self) -> Result<(), StoreError> {
        self.view.client()?.batch_execute("BEGIN").map_err(classify)
    }
    fn commit(&mut self) -> Result<(), StoreError> {
        self.finished = true;
        self.view.client()?.batch_execute("COMMIT").map_err(classify)
    }
}

impl Drop for OpenView<'_> {
    fn drop(&mut self) {
        if let (false, Source::Held(m)) = (self.finished, &self.view.source) {
            // Also after a panic in `f` (a poisoned lock): the connection goes back to the pool,
            // and must not carry an open transaction there.
            let mut c = m.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            let _ = c.batch_execute("ROLLBACK");
        }
    }
}
