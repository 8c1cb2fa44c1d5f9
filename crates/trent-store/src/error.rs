//! Backend-neutral storage errors (sqlx practice: every backend classifies its failures into the
//! same kinds, so the service never inspects a driver message).

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// A uniqueness constraint was violated (duplicate alias name, duplicate id).
    #[error("unique constraint violated")]
    UniqueViolation,
    /// A compare-and-swap precondition failed: someone else changed the record first.
    #[error("concurrent modification")]
    Conflict,
    /// The record to change does not exist.
    #[error("record not found")]
    NotFound,
    /// A stored record could not be decoded (unknown format version, bad value).
    #[error("corrupt record: {0}")]
    Corrupt(String),
    /// The backend failed (I/O, locking, driver error).
    #[error("storage backend error: {0}")]
    Backend(String),
}
