//! Persistent store for the appliance's config documents and call detail records.
//!
//! The rest of the firmware sees only the object-safe [`Store`] trait; [`SledStore`] is
//! the one back-end, on sled 0.34. sled calls itself beta, so it stays behind this trait and
//! is proven by the crash test in `tests/store_crash.rs` (a child process is killed with
//! SIGKILL at random points and every record it acknowledged must be there afterwards).
//!
//! # Durability (fsync policy)
//!
//! * [`Store::put_cdr`], [`Store::put_config`] and [`Store::remove_config`] write, then call
//!   sled's `flush()` (write out the log and fsync) **before returning `Ok`**. A record the
//!   caller was told is stored survives a process crash or power cut. The cost is one fsync
//!   per write; `examples/cdr_write_bench.rs` measures it. An appliance writes a few CDRs a
//!   second at most, far below that.
//! * Call ids from [`Store::next_call_id`] are not flushed on their own: sled persists its
//!   id counter in steps and skips ahead past the last step on recovery, so an id is never
//!   handed out twice, but ids may jump after a crash.
//! * Without our explicit flush, sled would only flush in the background every 500 ms
//!   (`flush_every_ms`, left at its default as a second line of defence): a crash could
//!   lose the last half second of acknowledged writes. That is why every write flushes.
//! * A CDR and its time-index entry are written in one sled transaction, so a crash never
//!   leaves one without the other.
//!
//! # Format
//!
//! Records are JSON (readable in the field with `sled`-dump tools, forward compatible:
//! unknown fields are ignored, missing optional fields default). A record that fails to
//! decode is reported as [`StoreError::Corrupt`] naming its key; listing skips it and
//! returns it in [`CdrPage::corrupt`], so one bad record never hides the others. The schema
//! version and its migrations are described in [`schema`].
//!
//! This crate must never panic on data read from disk, and never return from a write
//! before the data is durable.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod cdr;
mod error;
pub mod schema;
mod sled_store;
pub mod verify;

use std::ops::Range;

use serde::de::DeserializeOwned;
use serde::Serialize;

pub use cdr::{CallId, Cdr, CdrEvent, Direction, DisconnectCause};
pub use error::{Cause, Result, StoreError};
pub use sled_store::{OpenReport, SledStore};

/// A record that could not be decoded, found while listing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CorruptRecord {
    /// The tree and key, e.g. `cdr/c-000000000042`.
    pub key: String,
    /// What is wrong with it.
    pub detail: String,
}

/// The result of a CDR listing: the records that decoded, and those that did not.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CdrPage {
    /// Records, newest `start_ms` first (ties: higher call id first).
    pub cdrs: Vec<Cdr>,
    /// Records in the range that could not be read; they count towards the limit.
    pub corrupt: Vec<CorruptRecord>,
}

/// The appliance's persistent store. Object-safe; share it as `Arc<dyn Store>`.
///
/// Every write method is durable when it returns `Ok` (see the crate docs).
pub trait Store: Send + Sync {
    /// Store a config document under `key`, replacing any previous one.
    fn put_config(&self, key: &str, value: &[u8]) -> Result<()>;
    /// The config document under `key`, if any.
    fn get_config(&self, key: &str) -> Result<Option<Vec<u8>>>;
    /// Remove the config document under `key`; returns whether there was one.
    fn remove_config(&self, key: &str) -> Result<bool>;
    /// All config keys, in byte order.
    fn config_keys(&self) -> Result<Vec<String>>;

    /// A new call id, greater than every id this store handed out before.
    fn next_call_id(&self) -> Result<CallId>;
    /// Store a CDR, replacing any with the same id. Durable when it returns.
    fn put_cdr(&self, cdr: &Cdr) -> Result<()>;
    /// The CDR with this id, if any. A record that does not decode is an error.
    fn get_cdr(&self, id: CallId) -> Result<Option<Cdr>>;
    /// CDRs whose `start_ms` lies in `start` (start inclusive, end exclusive), newest
    /// first, at most `limit` entries (good and corrupt together).
    fn list_cdrs(&self, start: Range<i64>, limit: usize) -> Result<CdrPage>;
    /// The number of stored CDRs (including any that do not decode). Linear in the count.
    fn cdr_count(&self) -> Result<usize>;
    /// Wait until everything written so far is on disk.
    fn flush(&self) -> Result<()>;
}

/// Typed config access on top of any [`Store`] (kept out of the trait so it stays
/// object-safe).
pub trait ConfigExt {
    /// Store `value` as JSON under `key`.
    fn put_config_value<T: Serialize + ?Sized>(&self, key: &str, value: &T) -> Result<()>;
    /// Read and decode the JSON document under `key`.
    fn get_config_value<T: DeserializeOwned>(&self, key: &str) -> Result<Option<T>>;
}

impl<S: Store + ?Sized> ConfigExt for S {
    fn put_config_value<T: Serialize + ?Sized>(&self, key: &str, value: &T) -> Result<()> {
        let bytes = serde_json::to_vec(value).map_err(|source| StoreError::Encode {
            what: format!("config {key}"),
            source,
        })?;
        self.put_config(key, &bytes)
    }

    fn get_config_value<T: DeserializeOwned>(&self, key: &str) -> Result<Option<T>> {
        match self.get_config(key)? {
            None => Ok(None),
            Some(bytes) => {
                serde_json::from_slice(&bytes)
                    .map(Some)
                    .map_err(|source| StoreError::ConfigType {
                        key: key.to_owned(),
                        source,
                    })
            }
        }
    }
}
