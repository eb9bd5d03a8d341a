//! [`Store`] on sled 0.34.
//!
//! Every write goes through one sled call (or one multi-tree transaction) followed by
//! `Db::flush()`; see the crate docs for the durability policy. sled types never leave the
//! crate: only this module and [`crate::schema`] (through [`StoreTrees`]) touch them.

use std::io;
use std::ops::Range;
use std::path::{Path, PathBuf};

use sled::transaction::{ConflictableTransactionError, TransactionError};
use sled::Transactional;

use crate::error::{Result, StoreError};
use crate::schema::{
    self, cdr_key, cdr_key_name, parse_start_key, raw_key_name, start_key, StartOnly, TREE_CDR,
    TREE_CDR_BY_START, TREE_CONFIG, TREE_META,
};
use crate::{CallId, Cdr, CdrPage, CorruptRecord, Store};

/// What opening the store found and did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OpenReport {
    /// The database had no data and no schema version: it was created by this open.
    pub created: bool,
    /// The schema version the data was migrated from, if a migration ran on existing data.
    pub migrated_from: Option<u32>,
    /// CDRs a migration could not index by start time (they do not decode); they are
    /// still stored and [`Store::get_cdr`] reports them as corrupt.
    pub unindexed: Vec<CorruptRecord>,
}

/// The sled trees of one store; shared with the schema module.
#[derive(Debug)]
pub(crate) struct StoreTrees {
    pub(crate) db: sled::Db,
    pub(crate) meta: sled::Tree,
    pub(crate) config: sled::Tree,
    pub(crate) cdr: sled::Tree,
    pub(crate) cdr_by_start: sled::Tree,
}

/// The sled-backed [`Store`].
#[derive(Debug)]
pub struct SledStore {
    trees: StoreTrees,
    path: PathBuf,
    report: OpenReport,
}

/// Files sled 0.34 keeps in its directory; a non-empty directory with none of them is not
/// a sled database and is never written to.
const SLED_MARKERS: [&str; 3] = ["conf", "db", "blobs"];

/// How long [`SledStore::open`] waits for a lock held by a store dropped in this process.
const LOCK_WAIT: std::time::Duration = std::time::Duration::from_secs(2);

/// Open the sled database, waiting briefly for its file lock.
///
/// Dropping a `sled::Db` releases its lock only once sled's background flusher thread has
/// let go (sled issue 1289), so reopening a store this process just closed can find it
/// still locked for a moment. A lock that outlasts [`LOCK_WAIT`] is another process's.
fn open_db(path: &Path) -> Result<sled::Db> {
    let started = std::time::Instant::now();
    loop {
        match sled::Config::new()
            .path(path)
            .open()
            .map_err(|e| open_error(path, e))
        {
            Err(StoreError::Locked { .. }) if started.elapsed() < LOCK_WAIT => {
                std::thread::sleep(std::time::Duration::from_millis(20));
            }
            other => return other,
        }
    }
}

impl SledStore {
    /// Open (or create) the store in directory `path`, migrating older schemas.
    ///
    /// Fails with [`StoreError::Locked`] if another process has it open (after waiting up to
    /// two seconds for a lock this process is still releasing),
    /// [`StoreError::NotADatabase`] if `path` is a file or a directory of other files,
    /// [`StoreError::SchemaTooNew`] if newer firmware wrote it.
    pub fn open(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref().to_path_buf();
        check_path(&path)?;
        let db = open_db(&path)?;
        let tree = |name: &str| db.open_tree(name).map_err(|e| open_error(&path, e));
        let trees = StoreTrees {
            meta: tree(TREE_META)?,
            config: tree(TREE_CONFIG)?,
            cdr: tree(TREE_CDR)?,
            cdr_by_start: tree(TREE_CDR_BY_START)?,
            db,
        };
        let mut report = OpenReport::default();
        schema::upgrade(&trees, &path, &mut report)?;
        Ok(Self {
            trees,
            path,
            report,
        })
    }

    /// What opening found and did (creation, migration, unindexed records).
    pub fn open_report(&self) -> &OpenReport {
        &self.report
    }

    /// The database directory.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn flush_after(&self, op: &str) -> Result<()> {
        self.trees
            .db
            .flush()
            .map(drop)
            .map_err(|e| StoreError::backend(format!("flush after {op}"), e))
    }

    fn decode_cdr(key: &[u8], bytes: &[u8], id: CallId) -> Result<Cdr> {
        let cdr: Cdr = serde_json::from_slice(bytes).map_err(|e| StoreError::Corrupt {
            key: cdr_key_name(key),
            detail: e.to_string(),
        })?;
        if cdr.id != id {
            return Err(StoreError::Corrupt {
                key: cdr_key_name(key),
                detail: format!("record holds id {}", cdr.id),
            });
        }
        Ok(cdr)
    }
}

fn check_path(path: &Path) -> Result<()> {
    let meta = match std::fs::metadata(path) {
        Ok(m) => m,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(io_open_error(path, e)),
    };
    if !meta.is_dir() {
        return Err(StoreError::NotADatabase {
            path: path.to_path_buf(),
            detail: "it is a file, not a directory".into(),
        });
    }
    let mut entries = std::fs::read_dir(path).map_err(|e| io_open_error(path, e))?;
    let empty = entries.next().is_none();
    if !empty && !SLED_MARKERS.iter().any(|m| path.join(m).exists()) {
        return Err(StoreError::NotADatabase {
            path: path.to_path_buf(),
            detail: "directory holds other files and no sled database".into(),
        });
    }
    Ok(())
}

fn io_open_error(path: &Path, e: io::Error) -> StoreError {
    if e.kind() == io::ErrorKind::PermissionDenied {
        StoreError::PermissionDenied {
            path: path.to_path_buf(),
            source: e,
        }
    } else {
        StoreError::Open {
            path: path.to_path_buf(),
            source: Box::new(e),
        }
    }
}

fn open_error(path: &Path, e: sled::Error) -> StoreError {
    match e {
        // sled 0.34 reports a held flock only through this message (checked by the
        // `second_open_of_same_path_is_locked` test).
        sled::Error::Io(io) if io.to_string().contains("could not acquire lock") => {
            StoreError::Locked {
                path: path.to_path_buf(),
            }
        }
        sled::Error::Io(io) => io_open_error(path, io),
        sled::Error::Corruption { .. } | sled::Error::Unsupported(_) => StoreError::NotADatabase {
            path: path.to_path_buf(),
            detail: e.to_string(),
        },
        other => StoreError::Open {
            path: path.to_path_buf(),
            source: Box::new(other),
        },
    }
}

impl Store for SledStore {
    fn put_config(&self, key: &str, value: &[u8]) -> Result<()> {
        let op = format!("put config {key}");
        self.trees
            .config
            .insert(key.as_bytes(), value)
            .map_err(|e| StoreError::backend(op.clone(), e))?;
        self.flush_after(&op)
    }

    fn get_config(&self, key: &str) -> Result<Option<Vec<u8>>> {
        self.trees
            .config
            .get(key.as_bytes())
            .map(|v| v.map(|v| v.to_vec()))
            .map_err(|e| StoreError::backend(format!("get config {key}"), e))
    }

    fn remove_config(&self, key: &str) -> Result<bool> {
        let op = format!("remove config {key}");
        let old = self
            .trees
            .config
            .remove(key.as_bytes())
            .map_err(|e| StoreError::backend(op.clone(), e))?;
        self.flush_after(&op)?;
        Ok(old.is_some())
    }

    fn config_keys(&self) -> Result<Vec<String>> {
        let mut keys = Vec::new();
        for k in self.trees.config.iter().keys() {
            let k = k.map_err(|e| StoreError::backend("list config keys", e))?;
            let k = String::from_utf8(k.to_vec()).map_err(|e| StoreError::Corrupt {
                key: raw_key_name(TREE_CONFIG, e.as_bytes()),
                detail: "config key is not UTF-8".into(),
            })?;
            keys.push(k);
        }
        Ok(keys)
    }

    fn next_call_id(&self) -> Result<CallId> {
        self.trees
            .db
            .generate_id()
            .map(CallId::new)
            .map_err(|e| StoreError::backend("generate call id", e))
    }

    fn put_cdr(&self, cdr: &Cdr) -> Result<()> {
        let op = format!("put cdr {}", cdr.id);
        let json = serde_json::to_vec(cdr).map_err(|source| StoreError::Encode {
            what: format!("cdr {}", cdr.id),
            source,
        })?;
        let id_key = cdr_key(cdr.id);
        let new_start = start_key(cdr.start_ms, cdr.id.get());
        let result = (&self.trees.cdr, &self.trees.cdr_by_start).transaction(|(t_cdr, t_idx)| {
            if let Some(old) = t_cdr.insert(&id_key, json.as_slice())? {
                // Replacing: drop the old index entry if the start time moved. If the old
                // record does not decode, its entry (if any) is left; listing skips entries
                // whose record has a different start.
                if let Ok(o) = serde_json::from_slice::<StartOnly>(&old) {
                    if o.start_ms != cdr.start_ms {
                        t_idx.remove(&start_key(o.start_ms, cdr.id.get()))?;
                    }
                }
            }
            t_idx.insert(&new_start, &[])?;
            Ok::<(), ConflictableTransactionError<()>>(())
        });
        match result {
            Ok(()) => {}
            Err(TransactionError::Storage(e)) => return Err(StoreError::backend(op, e)),
            Err(TransactionError::Abort(())) => {
                return Err(StoreError::backend(op, "transaction aborted"))
            }
        }
        self.flush_after(&op)
    }

    fn get_cdr(&self, id: CallId) -> Result<Option<Cdr>> {
        let key = cdr_key(id);
        let raw = self
            .trees
            .cdr
            .get(key)
            .map_err(|e| StoreError::backend(format!("get cdr {id}"), e))?;
        raw.map(|bytes| Self::decode_cdr(&key, &bytes, id))
            .transpose()
    }

    fn list_cdrs(&self, start: Range<i64>, limit: usize) -> Result<CdrPage> {
        let mut page = CdrPage::default();
        if start.start >= start.end || limit == 0 {
            return Ok(page);
        }
        let lo = start_key(start.start, 0);
        let hi = start_key(start.end, 0);
        for item in self.trees.cdr_by_start.range(lo..hi).rev() {
            if page.cdrs.len() + page.corrupt.len() >= limit {
                break;
            }
            let (k, _) = item.map_err(|e| StoreError::backend("list cdrs", e))?;
            let Some((t, id)) = parse_start_key(&k) else {
                page.corrupt.push(CorruptRecord {
                    key: raw_key_name(TREE_CDR_BY_START, &k),
                    detail: format!("index key is {} bytes, expected 16", k.len()),
                });
                continue;
            };
            match self.get_cdr(id) {
                Ok(Some(cdr)) if cdr.start_ms == t => page.cdrs.push(cdr),
                // A stale entry left by replacing a record whose old start did not decode.
                Ok(Some(_)) => {}
                Ok(None) => page.corrupt.push(CorruptRecord {
                    key: format!("{TREE_CDR_BY_START}/{t}/{id}"),
                    detail: format!("index entry without record {TREE_CDR}/{id}"),
                }),
                Err(StoreError::Corrupt { key, detail }) => {
                    page.corrupt.push(CorruptRecord { key, detail })
                }
                Err(e) => return Err(e),
            }
        }
        Ok(page)
    }

    fn cdr_count(&self) -> Result<usize> {
        // sled's len() walks the tree; fine for the appliance's record counts.
        Ok(self.trees.cdr.len())
    }

    fn flush(&self) -> Result<()> {
        self.flush_after("explicit flush")
    }
}
