//! The store's error type.
//!
//! Errors name the path or the key involved so that a log line is enough to find the
//! broken file or record. sled's own error type is not exposed: it is boxed as a source so
//! that the back-end can be replaced without changing this API.

use std::path::PathBuf;

/// Boxed underlying cause.
pub type Cause = Box<dyn std::error::Error + Send + Sync + 'static>;

/// Everything that can go wrong in the store.
#[non_exhaustive]
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database directory is locked by another process (or another handle in this one).
    #[error("store {path}: locked by another process (is another yingda running?)")]
    Locked {
        /// The database directory.
        path: PathBuf,
    },
    /// The process may not create or write the database directory or its files.
    #[error("store {path}: permission denied")]
    PermissionDenied {
        /// The database directory.
        path: PathBuf,
        /// The operating-system error.
        #[source]
        source: std::io::Error,
    },
    /// The path exists but does not hold a database this build can read (a regular file,
    /// a directory of other files, or damaged sled metadata).
    #[error("store {path}: not a yingda/sled database: {detail}")]
    NotADatabase {
        /// The path given to open.
        path: PathBuf,
        /// What was found instead.
        detail: String,
    },
    /// Opening failed for another reason (disk full, I/O error, ...).
    #[error("store {path}: cannot open")]
    Open {
        /// The database directory.
        path: PathBuf,
        /// The underlying cause.
        #[source]
        source: Cause,
    },
    /// The database was written by a newer firmware with a schema this build does not know.
    /// Nothing was changed on disk.
    #[error(
        "store {path}: schema version {found} is newer than this firmware supports ({supported}); \
         refusing to open (downgrade would lose data)"
    )]
    SchemaTooNew {
        /// The database directory.
        path: PathBuf,
        /// The version recorded in the database.
        found: u32,
        /// The newest version this build can read.
        supported: u32,
    },
    /// A stored record or key could not be decoded; the other records are unaffected.
    #[error("store: corrupt record at {key}: {detail}")]
    Corrupt {
        /// The tree and key of the record, e.g. `cdr/c-000000000042`.
        key: String,
        /// What is wrong with it.
        detail: String,
    },
    /// A config value exists but does not decode as the requested type.
    #[error("store: config {key} is not of the requested type")]
    ConfigType {
        /// The config key.
        key: String,
        /// The decoding error.
        #[source]
        source: serde_json::Error,
    },
    /// A value could not be serialised (e.g. a map with non-string keys).
    #[error("store: cannot encode {what}")]
    Encode {
        /// What was being encoded.
        what: String,
        /// The encoding error.
        #[source]
        source: serde_json::Error,
    },
    /// Text that should be a call id (`c-` and decimal digits) is not one.
    #[error("invalid call id {text:?}: expected `c-` followed by digits")]
    InvalidCallId {
        /// The text given.
        text: String,
    },
    /// The back-end failed while reading, writing or flushing.
    #[error("store: {op} failed")]
    Backend {
        /// The operation, e.g. `flush` or `put cdr c-000000000042`.
        op: String,
        /// The underlying cause.
        #[source]
        source: Cause,
    },
}

/// Result with [`StoreError`].
pub type Result<T, E = StoreError> = std::result::Result<T, E>;

impl StoreError {
    pub(crate) fn backend(op: impl Into<String>, source: impl Into<Cause>) -> Self {
        StoreError::Backend {
            op: op.into(),
            source: source.into(),
        }
    }
}
