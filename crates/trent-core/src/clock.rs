//! The service clock. Everything time-dependent in the service (creation dates, deletion windows,
//! the deletion scheduler) reads an injectable [`Clock`], so tests can move time forward by days
//! without waiting. SigV4's skew check deliberately uses the real wall clock in the server.

use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

/// Milliseconds since the Unix epoch.
pub trait Clock: Send + Sync + 'static {
    fn now_ms(&self) -> i64;
}

/// The real clock.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now_ms(&self) -> i64 {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_millis() as i64)
            .unwrap_or(0)
    }
}

/// A clock that starts at the real time and moves only when told to (tests).
#[derive(Debug)]
pub struct ManualClock(AtomicI64);

impl ManualClock {
    pub fn new(start_ms: i64) -> Self {
        Self(AtomicI64::new(start_ms))
    }
    pub fn now() -> Self {
        Self::new(SystemClock.now_ms())
    }
    pub fn advance_ms(&self, ms: i64) {
        self.0.fetch_add(ms, Ordering::SeqCst);
    }
}

impl Clock for ManualClock {
    fn now_ms(&self) -> i64 {
        self.0.load(Ordering::SeqCst)
    }
}

/// Epoch milliseconds as the JSON epoch-seconds number AWS sends (`1502910355.475`).
pub fn epoch_seconds(ms: i64) -> f64 {
    ms as f64 / 1000.0
}

pub const DAY_MS: i64 = 24 * 60 * 60 * 1000;
