//! The speech service: loads the recogniser and the synthesiser in the background at
//! start-up and says whether calls can use them.
//!
//! Loading Whisper takes seconds and hundreds of MB; a missing, corrupt or unloadable model
//! must never delay or stop the box answering calls. So loading runs on its own thread after
//! the spans are up (Whisper first, then the voices: Kokoro, Piper, with their plans
//! compiled), panics included are caught, and until (or unless) it succeeds
//! [`SpeechService::recognizer`] returns `None` — which flows take as "use DTMF" — and
//! [`SpeechService::synthesizer`] returns `None` — "play recorded prompts". Each model's
//! state is in [`SpeechService::models`].

use std::path::PathBuf;
use std::sync::{Arc, RwLock};
use std::time::Instant;

use serde::Deserialize;
use tracing::{info, warn};
use yingda_speech::recognizer::Recognizer;
use yingda_speech::whisper::recognizer::WhisperRecognizer;
use yingda_tts::synth::{ModelState, SynthOptions, Synthesizer};

/// `[speech]` in the daemon's config.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct SpeechConfig {
    /// Load the recogniser at start-up. With `false`, every flow uses DTMF.
    pub enabled: bool,
    /// Where `tools/models/install.py` put the models.
    pub models_dir: PathBuf,
    /// Load the voices (Kokoro, Piper) after the recogniser. With `false`, flows play
    /// recorded prompts only.
    pub tts: bool,
    /// Directory of synthesised static prompts kept across restarts (default:
    /// `<data_dir>/tts-cache`). Prompts with variables are never written to disk.
    pub tts_cache_dir: Option<PathBuf>,
    /// Voice of Mandarin prompts (a Kokoro `zf_*`/`zm_*` voice).
    pub voice_zh: String,
    /// Voice of English prompts (`joe` for Piper, or a Kokoro English voice).
    pub voice_en: String,
    /// Threads running recognition and synthesis for calls (1 to 8). Each busy one takes a
    /// core; the line threads must keep theirs.
    pub workers: usize,
}

impl Default for SpeechConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            models_dir: yingda_speech::models::models_dir_from_env(),
            tts: true,
            tts_cache_dir: None,
            voice_zh: "zf_xiaoxiao".into(),
            voice_en: "joe".into(),
            workers: 2,
        }
    }
}

/// What the speech service can do now (the admin page and logs show it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SpeechStatus {
    /// Switched off in the config.
    Disabled,
    /// The model is being loaded.
    Loading,
    /// Recognition is available.
    Ready {
        /// Recogniser name (`whisper-base`).
        name: String,
        /// How long loading took, ms.
        load_ms: u64,
    },
    /// Loading failed; calls use DTMF. The reason names the file or step that failed.
    Unavailable {
        /// Why.
        reason: String,
    },
}

#[derive(Clone)]
enum State {
    Disabled,
    Loading,
    Ready(Arc<dyn Recognizer>, u64),
    Unavailable(String),
}

#[derive(Clone)]
enum TtsState {
    Disabled,
    Loading,
    Loaded(Synthesizer),
}

/// Shared handle on the speech service.
#[derive(Clone)]
pub struct SpeechService {
    state: Arc<RwLock<State>>,
    tts: Arc<RwLock<TtsState>>,
}

/// Models whose state [`SpeechService::models`] reports, in order.
pub const MODELS: [&str; 3] = ["whisper-base", "kokoro-82m", "piper-joe"];

/// Loads the voices and logs each model's state; a failing voice leaves the box on
/// recorded prompts.
fn load_tts(cfg: &SpeechConfig) -> Synthesizer {
    info!(models_dir = %cfg.models_dir.display(), "speech: loading voices (kokoro-82m, piper-joe)");
    let mut opts = SynthOptions::new(&cfg.models_dir);
    opts.cache_dir.clone_from(&cfg.tts_cache_dir);
    let synth = Synthesizer::load(&opts);
    for (model, state) in synth.models() {
        match state {
            ModelState::Ready { load_ms } => info!(load_ms, "speech: {model} ready"),
            ModelState::Unavailable { reason } => {
                warn!("speech: {model} unavailable: {reason}; prompts use recordings");
            }
            ModelState::NotLoaded => {}
        }
    }
    synth
}

impl std::fmt::Debug for SpeechService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SpeechService")
            .field("status", &self.status())
            .finish()
    }
}

impl SpeechService {
    /// Starts loading in the background (or does nothing when disabled).
    pub fn start(cfg: &SpeechConfig) -> Self {
        let service = Self {
            state: Arc::new(RwLock::new(if cfg.enabled {
                State::Loading
            } else {
                State::Disabled
            })),
            tts: Arc::new(RwLock::new(if cfg.enabled && cfg.tts {
                TtsState::Loading
            } else {
                TtsState::Disabled
            })),
        };
        if !cfg.enabled {
            info!("speech: disabled in the config; calls use DTMF");
            return service;
        }
        let state = service.state.clone();
        let tts = service.tts.clone();
        let dir = cfg.models_dir.clone();
        let cfg = cfg.clone();
        let spawned = std::thread::Builder::new()
            .name("speech-load".into())
            .spawn(move || {
                info!(models_dir = %dir.display(), "speech: loading whisper-base");
                let t0 = Instant::now();
                let loaded = std::panic::catch_unwind(|| WhisperRecognizer::load(&dir));
                let next = match loaded {
                    Ok(Ok(rec)) => {
                        let ms = t0.elapsed().as_millis() as u64;
                        info!(load_ms = ms, "speech: whisper-base ready");
                        State::Ready(Arc::new(rec), ms)
                    }
                    Ok(Err(e)) => {
                        warn!("speech unavailable: {e}; calls use DTMF");
                        State::Unavailable(e.to_string())
                    }
                    Err(_) => {
                        warn!("speech unavailable: the model loader panicked; calls use DTMF");
                        State::Unavailable("the model loader panicked".into())
                    }
                };
                if let Ok(mut s) = state.write() {
                    *s = next;
                }
                if cfg.tts {
                    let next = match std::panic::catch_unwind(|| load_tts(&cfg)) {
                        Ok(synth) => TtsState::Loaded(synth),
                        Err(_) => {
                            warn!("speech: the voice loader panicked; prompts use recordings");
                            TtsState::Disabled
                        }
                    };
                    if let Ok(mut s) = tts.write() {
                        *s = next;
                    }
                }
            });
        if let Err(e) = spawned {
            warn!("speech unavailable: cannot start the loader thread: {e}; calls use DTMF");
            service.set(State::Unavailable(format!(
                "cannot start loader thread: {e}"
            )));
            if let Ok(mut s) = service.tts.write() {
                *s = TtsState::Disabled;
            }
        }
        service
    }

    fn set(&self, state: State) {
        if let Ok(mut s) = self.state.write() {
            *s = state;
        }
    }

    fn get(&self) -> State {
        self.state.read().map_or_else(
            |_| State::Unavailable("state lock poisoned".into()),
            |s| s.clone(),
        )
    }

    /// Current status.
    pub fn status(&self) -> SpeechStatus {
        match self.get() {
            State::Disabled => SpeechStatus::Disabled,
            State::Loading => SpeechStatus::Loading,
            State::Ready(r, ms) => SpeechStatus::Ready {
                name: r.name().to_owned(),
                load_ms: ms,
            },
            State::Unavailable(reason) => SpeechStatus::Unavailable { reason },
        }
    }

    /// The recogniser, when loaded; `None` means flows must use DTMF.
    pub fn recognizer(&self) -> Option<Arc<dyn Recognizer>> {
        match self.get() {
            State::Ready(r, _) => Some(r),
            _ => None,
        }
    }

    /// The synthesiser once loading has finished (its voices whose models loaded work;
    /// the others return errors naming the model); `None` means recorded prompts only.
    pub fn synthesizer(&self) -> Option<Synthesizer> {
        match self.tts.read().map(|s| s.clone()) {
            Ok(TtsState::Loaded(s)) => Some(s),
            _ => None,
        }
    }

    /// The voices are still loading: a synthesiser may yet come.
    pub fn tts_loading(&self) -> bool {
        matches!(self.tts.read().map(|s| s.clone()), Ok(TtsState::Loading))
    }

    /// State of each model in [`MODELS`]: the recogniser's, then each voice model's.
    pub fn models(&self) -> Vec<(&'static str, SpeechStatus)> {
        let mut out = vec![(MODELS[0], self.status())];
        let tts = self.tts.read().map_or(TtsState::Disabled, |s| s.clone());
        for model in &MODELS[1..] {
            let status = match &tts {
                TtsState::Disabled => SpeechStatus::Disabled,
                TtsState::Loading => SpeechStatus::Loading,
                TtsState::Loaded(synth) => synth
                    .models()
                    .into_iter()
                    .find(|(m, _)| m == model)
                    .map_or(SpeechStatus::Disabled, |(_, st)| match st {
                        ModelState::Ready { load_ms } => SpeechStatus::Ready {
                            name: (*model).to_owned(),
                            load_ms,
                        },
                        ModelState::Unavailable { reason } => SpeechStatus::Unavailable { reason },
                        ModelState::NotLoaded => SpeechStatus::Disabled,
                    }),
            };
            out.push((model, status));
        }
        out
    }
}
