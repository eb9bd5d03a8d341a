//! Versioned flow activation on top of [`yingda_store::Store`]'s config documents.
//!
//! Each activation validates the flow (an invalid flow is refused with the validator's
//! errors), stores it as a new version `flow/<name>/v<N>` and then moves the single
//! `flow/<name>/active` pointer — one key write, so a crash leaves either the old or the new
//! version active. Running calls hold an `Arc<Flow>` of the version they started on; new
//! calls get the new one. Every version is kept; [`Activations::rollback`] re-activates any.
//!
//! A version is the flow text **and** the files it uses: every prompt and grammar file the
//! validator looked at is copied into the store at activation (content-addressed by sha256,
//! so unchanged files are stored once) and listed in the [`VersionRecord`]. Rolling back, or
//! restarting the box, validates the version against those copies, so editing or deleting a
//! prompt on disk after activation changes nothing for the versions already stored; the
//! daemon reads a call's recorded prompts with [`Activations::file`].

use crate::flow::{validate, Flow, FlowError, FlowFs};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use yingda_store::{ConfigExt, Store, StoreError};

/// Why activation or rollback failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ActivationError {
    /// The flow did not validate; nothing changed.
    #[error("flow is invalid ({} problem(s)); first: {}", .0.len(), .0.first().map(ToString::to_string).unwrap_or_default())]
    Invalid(Vec<FlowError>),
    /// Another active flow already answers this number.
    #[error("number {did} is already served by flow `{flow}`")]
    DidTaken {
        /// The number.
        did: String,
        /// The flow that has it.
        flow: String,
    },
    /// No such flow or version.
    #[error("flow `{name}` has no version {version}")]
    NoSuchVersion {
        /// Flow name.
        name: String,
        /// Version asked for.
        version: u32,
    },
    /// A stored copy of one of the version's files is missing or damaged.
    #[error("flow file {path}: {detail}")]
    File {
        /// The file, as the flow resolves it.
        path: String,
        /// What is wrong.
        detail: String,
    },
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// One stored version.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VersionRecord {
    /// Version number, from 1.
    pub version: u32,
    /// The file name it was activated from (for error messages).
    pub file: String,
    /// When it was first activated (ms, from the caller's clock).
    pub activated_at_ms: i64,
    /// The flow text.
    pub source: String,
    /// The files it uses (prompt WAVs, grammars) as they were at activation: path as the
    /// validator saw it → sha256 of the bytes (stored under `flow-file/<sha256>`). Empty for
    /// versions stored before snapshots existed; those read the live files.
    #[serde(default)]
    pub files: BTreeMap<String, String>,
}

fn key_file(sha: &str) -> String {
    format!("flow-file/{sha}")
}

/// The live file system, noting every file the validator asks about.
struct Recording<'a> {
    inner: &'a (dyn FlowFs + Send + Sync),
    seen: Mutex<BTreeMap<PathBuf, Vec<u8>>>,
}

impl FlowFs for Recording<'_> {
    fn exists(&self, path: &Path) -> bool {
        // A file is "there" only if it can also be read: what is activated must be storable.
        match self.inner.read(path) {
            Ok(bytes) => {
                lock(&self.seen).insert(path.to_path_buf(), bytes);
                true
            }
            Err(_) => false,
        }
    }
    fn read(&self, path: &Path) -> std::io::Result<Vec<u8>> {
        let bytes = self.inner.read(path)?;
        lock(&self.seen).insert(path.to_path_buf(), bytes.clone());
        Ok(bytes)
    }
}

/// A stored version's files, read back from the store.
struct Snapshot<'a> {
    store: &'a dyn Store,
    files: &'a BTreeMap<String, String>,
}

impl FlowFs for Snapshot<'_> {
    fn exists(&self, path: &Path) -> bool {
        self.files.contains_key(&path.display().to_string())
    }
    fn read(&self, path: &Path) -> std::io::Result<Vec<u8>> {
        let name = path.display().to_string();
        let missing = || std::io::Error::new(std::io::ErrorKind::NotFound, name.clone());
        let sha = self.files.get(&name).ok_or_else(missing)?;
        let bytes = self
            .store
            .get_config(&key_file(sha))
            .map_err(std::io::Error::other)?
            .ok_or_else(missing)?;
        if hex(&Sha256::digest(&bytes)) != *sha {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                format!("{name}: stored copy does not match its sha256"),
            ));
        }
        Ok(bytes)
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

#[derive(Debug)]
struct Active {
    version: u32,
    flow: Arc<Flow>,
}

/// Active flows and their history.
pub struct Activations {
    store: Arc<dyn Store>,
    fs: Box<dyn FlowFs + Send + Sync>,
    base: PathBuf,
    active: Mutex<BTreeMap<String, Active>>,
}

impl std::fmt::Debug for Activations {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let names: Vec<String> = self
            .lock()
            .iter()
            .map(|(k, a)| format!("{k}@v{}", a.version))
            .collect();
        f.debug_struct("Activations")
            .field("base", &self.base)
            .field("active", &names)
            .finish_non_exhaustive()
    }
}

fn key_version(name: &str, v: u32) -> String {
    format!("flow/{name}/v{v:06}")
}
fn key_active(name: &str) -> String {
    format!("flow/{name}/active")
}

impl Activations {
    /// Load the active versions from `store`; prompt and grammar paths are relative to
    /// `base`. A stored active version that no longer validates (a prompt file was deleted)
    /// is skipped and reported in the returned list, so the box still answers its other lines.
    ///
    /// # Errors
    /// Store failures.
    pub fn open(
        store: Arc<dyn Store>,
        base: PathBuf,
        fs: Box<dyn FlowFs + Send + Sync>,
    ) -> Result<(Activations, Vec<FlowError>), ActivationError> {
        let me = Activations {
            store,
            fs,
            base,
            active: Mutex::new(BTreeMap::new()),
        };
        let mut problems = Vec::new();
        for key in me.store.config_keys()? {
            let Some(name) = key
                .strip_prefix("flow/")
                .and_then(|k| k.strip_suffix("/active"))
            else {
                continue;
            };
            let Some(v) = me.store.get_config_value::<u32>(&key)? else {
                continue;
            };
            let Some(rec) = me
                .store
                .get_config_value::<VersionRecord>(&key_version(name, v))?
            else {
                continue;
            };
            match me.validate_stored(&rec) {
                Ok(flow) => {
                    me.lock().insert(
                        name.to_string(),
                        Active {
                            version: v,
                            flow: Arc::new(flow),
                        },
                    );
                }
                Err(e) => problems.extend(e),
            }
        }
        Ok((me, problems))
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, BTreeMap<String, Active>> {
        lock(&self.active)
    }

    /// Validate a stored version against its own copies of its files (or the live files,
    /// for versions stored before snapshots).
    fn validate_stored(&self, rec: &VersionRecord) -> Result<Flow, Vec<FlowError>> {
        if rec.files.is_empty() {
            return validate(&rec.source, &rec.file, &self.base, self.fs.as_ref());
        }
        let snap = Snapshot {
            store: self.store.as_ref(),
            files: &rec.files,
        };
        validate(&rec.source, &rec.file, &self.base, &snap)
    }

    /// A file of stored `version` of flow `name` (a recorded prompt, a grammar) as it was
    /// at activation; `path` as the flow resolves it (`Prompt::File`'s path). `None` when
    /// the version has no such file.
    ///
    /// # Errors
    /// Store failures, or a stored copy that no longer matches its sha256.
    pub fn file(
        &self,
        name: &str,
        version: u32,
        path: &Path,
    ) -> Result<Option<Vec<u8>>, ActivationError> {
        let Some(rec) = self
            .store
            .get_config_value::<VersionRecord>(&key_version(name, version))?
        else {
            return Ok(None);
        };
        if !rec.files.contains_key(&path.display().to_string()) {
            return Ok(None);
        }
        let snap = Snapshot {
            store: self.store.as_ref(),
            files: &rec.files,
        };
        snap.read(path)
            .map(Some)
            .map_err(|e| ActivationError::File {
                path: path.display().to_string(),
                detail: e.to_string(),
            })
    }

    /// Validate and activate `source` (named `file` in errors) as the next version of the
    /// flow it names. Returns the version number.
    ///
    /// # Errors
    /// [`ActivationError::Invalid`] with every validator error, [`ActivationError::DidTaken`],
    /// or a store failure; in every case the previously active version stays active.
    pub fn activate(&self, source: &str, file: &str, at_ms: i64) -> Result<u32, ActivationError> {
        let (flow, files) = self.prepare(source, file)?;
        self.store_version(source, file, at_ms, flow, files)
    }

    /// Like [`Activations::activate`], but when the flow's newest stored version has this
    /// very text and the same files (by sha256), nothing is stored and `Ok(None)` is
    /// returned; else the flow's name and the new version. What a daemon re-reading its flow
    /// directory at every start wants. Comparing
    /// with the newest version rather than the active one keeps a rollback in force until
    /// the file is changed again.
    ///
    /// # Errors
    /// As [`Activations::activate`].
    pub fn activate_if_changed(
        &self,
        source: &str,
        file: &str,
        at_ms: i64,
    ) -> Result<Option<(String, u32)>, ActivationError> {
        let (flow, files) = self.prepare(source, file)?;
        let name = flow.file.name.clone();
        if let Some(rec) = self.history(&name)?.pop() {
            let same_files = rec.files.len() == files.len()
                && files
                    .iter()
                    .all(|(p, b)| rec.files.get(p) == Some(&hex(&Sha256::digest(b))));
            if rec.source == source && same_files && self.current(&name).is_some() {
                return Ok(None);
            }
        }
        let v = self.store_version(source, file, at_ms, flow, files)?;
        Ok(Some((name, v)))
    }

    /// Validate against the live files, noting each file the flow uses.
    fn prepare(
        &self,
        source: &str,
        file: &str,
    ) -> Result<(Flow, BTreeMap<String, Vec<u8>>), ActivationError> {
        let recording = Recording {
            inner: self.fs.as_ref(),
            seen: Mutex::new(BTreeMap::new()),
        };
        let flow =
            validate(source, file, &self.base, &recording).map_err(ActivationError::Invalid)?;
        self.check_dids(&flow)?;
        let files = recording
            .seen
            .into_inner()
            .unwrap_or_default()
            .into_iter()
            .map(|(p, b)| (p.display().to_string(), b))
            .collect();
        Ok((flow, files))
    }

    fn store_version(
        &self,
        source: &str,
        file: &str,
        at_ms: i64,
        flow: Flow,
        seen: BTreeMap<String, Vec<u8>>,
    ) -> Result<u32, ActivationError> {
        let name = flow.file.name.clone();
        let version = self.history(&name)?.last().map_or(1, |r| r.version + 1);
        let mut files = BTreeMap::new();
        for (path, bytes) in seen {
            let sha = hex(&Sha256::digest(&bytes));
            if self.store.get_config(&key_file(&sha))?.is_none() {
                self.store.put_config(&key_file(&sha), &bytes)?;
            }
            files.insert(path, sha);
        }
        let rec = VersionRecord {
            version,
            file: file.to_string(),
            activated_at_ms: at_ms,
            source: source.to_string(),
            files,
        };
        self.store
            .put_config_value(&key_version(&name, version), &rec)?;
        self.switch(name, version, flow)?;
        Ok(version)
    }

    fn check_dids(&self, flow: &Flow) -> Result<(), ActivationError> {
        for (other, a) in self.lock().iter() {
            if *other == flow.file.name {
                continue;
            }
            if let Some(d) = flow.file.did.iter().find(|d| a.flow.file.did.contains(d)) {
                return Err(ActivationError::DidTaken {
                    did: d.clone(),
                    flow: other.clone(),
                });
            }
        }
        Ok(())
    }

    fn switch(&self, name: String, version: u32, flow: Flow) -> Result<(), ActivationError> {
        self.store.put_config_value(&key_active(&name), &version)?;
        self.store.flush()?;
        self.lock().insert(
            name,
            Active {
                version,
                flow: Arc::new(flow),
            },
        );
        Ok(())
    }

    /// Re-activate stored `version` of flow `name`, with its files as they were when it was
    /// activated (validated again against those copies).
    ///
    /// # Errors
    /// [`ActivationError::NoSuchVersion`], [`ActivationError::Invalid`], store failures.
    pub fn rollback(&self, name: &str, version: u32) -> Result<(), ActivationError> {
        let rec = self
            .store
            .get_config_value::<VersionRecord>(&key_version(name, version))?
            .ok_or_else(|| ActivationError::NoSuchVersion {
                name: name.to_string(),
                version,
            })?;
        let flow = self
            .validate_stored(&rec)
            .map_err(ActivationError::Invalid)?;
        self.check_dids(&flow)?;
        self.switch(name.to_string(), version, flow)
    }

    /// The active version of flow `name`, for a new call.
    pub fn current(&self, name: &str) -> Option<(u32, Arc<Flow>)> {
        self.lock()
            .get(name)
            .map(|a| (a.version, Arc::clone(&a.flow)))
    }

    /// The active flow answering `did`, for a new call.
    pub fn for_did(&self, did: &str) -> Option<(u32, Arc<Flow>)> {
        self.lock()
            .values()
            .find(|a| a.flow.file.did.iter().any(|d| d == did))
            .map(|a| (a.version, Arc::clone(&a.flow)))
    }

    /// Every stored version of flow `name`, oldest first.
    ///
    /// # Errors
    /// Store failures (a record that does not decode is one).
    pub fn history(&self, name: &str) -> Result<Vec<VersionRecord>, ActivationError> {
        let prefix = format!("flow/{name}/v");
        let mut out = Vec::new();
        for key in self.store.config_keys()? {
            if key.starts_with(&prefix) {
                if let Some(r) = self.store.get_config_value::<VersionRecord>(&key)? {
                    out.push(r);
                }
            }
        }
        out.sort_by_key(|r| r.version);
        Ok(out)
    }
}
