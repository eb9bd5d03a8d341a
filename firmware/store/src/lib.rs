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
//! * The crash test proves survival of a process kill at any instant. Power loss also
//!   depends on the fsync inside sled's `flush()` and on the medium honouring it; a kill
//!   cannot test that, a bench rig with power cuts can.
//!
//! # Example
//!
//! ```
//! use yingda_store::{Cdr, ConfigExt, Direction, DisconnectCause, SledStore, Store};
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! # let dir = tempfile::tempdir()?;
//! let store = SledStore::open(dir.path().join("store"))?;
//! store.put_config_value("lines", &[1, 2, 3])?;
//! let id = store.next_call_id()?;
//! store.put_cdr(&Cdr {
//!     id,
//!     channel: 1,
//!     direction: Direction::Inbound,
//!     caller: Some("13800138000".into()),
//!     called: None,
//!     start_ms: 1_700_000_000_000,
//!     answer_ms: Some(1_700_000_003_000),
//!     end_ms: 1_700_000_060_000,
//!     cause: DisconnectCause::FarEndBusyTone,
//!     digits: "1".into(),
//!     events: vec![],
//! })?; // on disk once this returns
//! let recent = store.list_cdrs(1_699_999_000_000..1_700_001_000_000, 50)?;
//! assert_eq!(recent.cdrs[0].id, id);
//! assert_eq!(store.get_config_value::<Vec<u32>>("lines")?, Some(vec![1, 2, 3]));
//! # Ok(())
//! # }
//! ```
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
    /// first, at most `limit` entries (good and corrupt together). An empty or reversed
    /// range gives an empty page. (A record starting at exactly `i64::MAX` is reachable only
    /// by id.)
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
