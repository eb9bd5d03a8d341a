//! The flows the daemon runs: activated from the flow directory, kept as versions in the
//! store, loaded for the channel groups that name them, their static prompts synthesised
//! ahead of calls.
//!
//! At start and on SIGHUP every `*.toml` in `system.flows_dir` is read; a file whose text or
//! files differ from its flow's newest stored version is validated and activated (an invalid
//! one is logged with file, line and node, and the active version keeps running). The
//! flows the channel groups name are then loaded from their **active stored versions** —
//! prompts and grammars as they were at activation — so a rollback made on the admin page
//! survives a restart, and editing a prompt on disk changes nothing until it is activated.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};

use tracing::{error, info, warn};
use yingda_flow::activation::Activations;
use yingda_flow::flow::RealFs;
use yingda_store::Store;

use crate::config::Config;
use crate::flowctl::{FlowOptions, FlowSet};
use crate::fragments::Fragments;
use crate::speech::SpeechService;

/// What one pass over the flow directory did.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct ScanReport {
    /// Files activated: (file, flow name, version).
    pub activated: Vec<(String, String, u32)>,
    /// Files equal to their flow's newest version.
    pub unchanged: Vec<String>,
    /// Files refused: (file, every error).
    pub rejected: Vec<(String, Vec<String>)>,
}

/// The box's flows.
pub struct BoxFlows {
    activations: Activations,
    dir: Option<PathBuf>,
    /// Flow names the channel groups use.
    wanted: BTreeSet<String>,
}

impl std::fmt::Debug for BoxFlows {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BoxFlows")
            .field("dir", &self.dir)
            .field("wanted", &self.wanted)
            .finish_non_exhaustive()
    }
}

/// The flow names `config`'s channel groups use (`demo` is built in, not a flow file).
pub fn wanted_flows(config: &Config) -> BTreeSet<String> {
    config
        .channels
        .iter()
        .map(|g| g.flow.clone())
        .filter(|f| f != "demo")
        .collect()
}

impl BoxFlows {
    /// Open the versions stored in `store`. A stored active version that no longer
    /// validates is logged and skipped.
    ///
    /// # Errors
    /// Store failures.
    pub fn open(store: Arc<dyn Store>, config: &Config) -> anyhow::Result<Self> {
        let dir = config.system.flows_dir.clone();
        // Versions stored before file snapshots resolve their files against the directory.
        let base = dir
            .clone()
            .unwrap_or_else(|| config.system.data_dir.join("flows"));
        let (activations, problems) = Activations::open(store, base, Box::new(RealFs))?;
        for p in problems {
            error!("stored flow version no longer valid, not served: {p}");
        }
        Ok(Self {
            activations,
            dir,
            wanted: wanted_flows(config),
        })
    }

    /// Activate every changed flow file of the flow directory (see the module docs).
    pub fn scan(&self, now_ms: i64) -> ScanReport {
        let mut report = ScanReport::default();
        let Some(dir) = &self.dir else {
            return report;
        };
        let mut files: Vec<PathBuf> = match std::fs::read_dir(dir) {
            Ok(rd) => rd
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.extension().is_some_and(|x| x == "toml") && p.is_file())
                .collect(),
            Err(e) => {
                error!(dir = %dir.display(), "flow directory unreadable: {e}");
                return report;
            }
        };
        files.sort();
        for path in files {
            let shown = path.display().to_string();
            let source = match std::fs::read_to_string(&path) {
                Ok(s) => s,
                Err(e) => {
                    report.rejected.push((shown, vec![format!("{e}")]));
                    continue;
                }
            };
            match self
                .activations
                .activate_if_changed(&source, &shown, now_ms)
            {
                Ok(Some((name, v))) => report.activated.push((shown, name, v)),
                Ok(None) => report.unchanged.push(shown),
                Err(yingda_flow::activation::ActivationError::Invalid(errs)) => report
                    .rejected
                    .push((shown, errs.iter().map(ToString::to_string).collect())),
                Err(e) => report.rejected.push((shown, vec![e.to_string()])),
            }
        }
        for (file, name, v) in &report.activated {
            info!(file, flow = name, version = v, "flow activated");
        }
        for (file, errs) in &report.rejected {
            for e in errs {
                error!(file, "flow not activated: {e}");
            }
        }
        report
    }

    /// The active versions of the flows the channel groups use, prompts decoded.
    ///
    /// # Errors
    /// The names of wanted flows with no active version (or whose prompts fail to load),
    /// each with the reason.
    pub fn load(&self) -> Result<FlowSet, Vec<String>> {
        let mut set = FlowSet::default();
        let mut missing = Vec::new();
        for name in &self.wanted {
            let Some((version, flow)) = self.activations.current(name) else {
                missing.push(format!(
                    "flow `{name}` is not active: put a flow file with name = \"{name}\" in system.flows_dir{}",
                    self.dir
                        .as_ref()
                        .map(|d| format!(" ({})", d.display()))
                        .unwrap_or_default()
                ));
                continue;
            };
            let read = |p: &Path| -> std::io::Result<Vec<u8>> {
                match self.activations.file(name, version, p) {
                    Ok(Some(bytes)) => Ok(bytes),
                    // Versions stored before file snapshots read the live file.
                    Ok(None) => std::fs::read(p),
                    Err(e) => Err(std::io::Error::other(e.to_string())),
                }
            };
            if let Err(e) = set.insert(flow, &read) {
                missing.push(format!("flow `{name}` version {version}: {e}"));
            }
        }
        if missing.is_empty() {
            Ok(set)
        } else {
            Err(missing)
        }
    }
}

/// Synthesise the static prompts and the reply fragments ([`crate::fragments`]) of each
/// flow set sent to it, once the voices have loaded,
/// on a thread of its own so no call and no control-loop tick waits for it. Later sets
/// supersede queued ones.
pub fn spawn_warmer(
    speech: SpeechService,
    opts: FlowOptions,
    fragments: Arc<RwLock<Arc<Fragments>>>,
) -> std::io::Result<std::sync::mpsc::Sender<FlowSet>> {
    let (tx, rx) = std::sync::mpsc::channel::<FlowSet>();
    std::thread::Builder::new()
        .name("prompt-warmer".into())
        .spawn(move || {
            while let Ok(mut set) = rx.recv() {
                while let Ok(newer) = rx.try_recv() {
                    set = newer;
                }
                while speech.synthesizer().is_none() && speech.tts_loading() {
                    std::thread::sleep(std::time::Duration::from_millis(500));
                }
                let Some(synth) = speech.synthesizer() else {
                    continue;
                };
                let t0 = std::time::Instant::now();
                let (made, failed) = set.warm_prompts(&synth, &opts);
                for (text, why) in &failed {
                    warn!(
                        chars = text.chars().count(),
                        "prompt not synthesised: {why}"
                    );
                }
                info!(
                    prompts = made,
                    failed = failed.len(),
                    ms = t0.elapsed().as_millis() as u64,
                    "static prompts ready"
                );
                let t0 = std::time::Instant::now();
                let (f, failed) = Fragments::build(&synth, &opts, &Fragments::vocabulary(&set));
                for (text, why) in &failed {
                    warn!(
                        chars = text.chars().count(),
                        "fragment not synthesised: {why}"
                    );
                }
                info!(
                    fragments = f.len(),
                    failed = failed.len(),
                    ms = t0.elapsed().as_millis() as u64,
                    "reply fragments ready"
                );
                if let Ok(mut slot) = fragments.write() {
                    *slot = Arc::new(f);
                }
            }
        })?;
    Ok(tx)
}
