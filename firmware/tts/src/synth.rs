//! The synthesiser the box calls: text + voice + language in, 8 kHz 16-bit line audio out.
//!
//! It ties the pieces of this crate together: the language's text front end (`zh` for
//! Mandarin, `en` for English), the voice's model (Kokoro-82M for `zf_*`/`zm_*`/`af_*`/
//! `am_*`/`bf_*`/`bm_*`, Piper for `joe`), and the polyphase resampler from 24 kHz /
//! 22.05 kHz to the 8 kHz line.
//!
//! * **Streaming by sentence**: [`Synthesizer::stream`] checks the request, phonemises it,
//!   then synthesises sentence by sentence on a worker thread; the first sentence's 8 kHz
//!   audio can be played while the rest is still being computed.
//! * **Prompt cache**: [`Synthesizer::prompt`] keys audio by (voice, language, text, speed,
//!   model version) — the version is the sha256 of the voice model's and the front end's
//!   manifests, so reinstalling a model invalidates its entries. Entries live in a bounded
//!   in-memory LRU and, optionally, in a directory of 8 kHz WAVs named by the key's sha256
//!   that survives restarts. Each file carries a `ydsh` chunk (sha256 of key and samples),
//!   checked on every read: a damaged or foreign file is synthesised again, never played.
//!   Static prompts are made with `prompt` at flow activation, so no call waits for them.
//! * **Warm-up**: [`SynthOptions::warm_up`] compiles the plans at load (Kokoro's common
//!   buckets, all of Piper's), so no call waits on plan compilation.
//!
//! Models load independently: a missing or corrupt one makes only its voices unavailable,
//! with an error that names the file and says to run `tools/models/install.py`
//! ([`Synthesizer::models`] reports each). Nothing here panics on input, and every error
//! names what is wrong.

use std::collections::HashMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::mpsc;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Instant;

use sha2::{Digest, Sha256};
use yingda_dsp::polyphase::{Polyphase, TAPS_PER_PHASE};
use yingda_dsp::wav;
use yingda_speech::models::{Manifest, ModelError};

use crate::en::{EnFrontEnd, PiperPhonemeMap};
use crate::kokoro::{self, Kokoro, Voice};
use crate::piper::{self, Piper};
use crate::zh::ZhFrontEnd;

/// Output sample rate: the line.
pub const LINE_RATE_HZ: u32 = 8000;
/// Name of the English lexicon model.
pub const EN_LEXICON: &str = "en-lexicon";
/// Name of the Mandarin lexicon model.
pub const ZH_LEXICON: &str = "zh-lexicon";
/// The Piper voice's name.
pub const PIPER_VOICE: &str = "joe";
/// Default bound of the in-memory prompt cache: 8 M samples (16 MB, about 17 minutes).
pub const DEFAULT_CACHE_SAMPLES: usize = 8 << 20;
/// Slowest and fastest speaking rate accepted (1 = the voice's own pace).
pub const SPEED_RANGE: (f32, f32) = (0.5, 2.0);
/// RIFF chunk id of the cache files' checksum.
const CHECK_CHUNK: &[u8; 4] = b"ydsh";

/// A language of the box's prompts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Lang {
    /// Mandarin Chinese.
    Zh,
    /// English.
    En,
}

impl Lang {
    /// `zh` or `en`.
    pub fn code(self) -> &'static str {
        match self {
            Lang::Zh => "zh",
            Lang::En => "en",
        }
    }
}

impl fmt::Display for Lang {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

impl FromStr for Lang {
    type Err = SynthError;
    fn from_str(s: &str) -> Result<Self, SynthError> {
        match s {
            "zh" => Ok(Lang::Zh),
            "en" => Ok(Lang::En),
            _ => Err(SynthError::UnknownLang { lang: s.to_owned() }),
        }
    }
}

/// Which model a voice runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Engine {
    /// Kokoro-82M, 24 kHz.
    Kokoro,
    /// Piper `en_US-joe-medium`, 22.05 kHz.
    Piper,
}

impl Engine {
    /// The model's directory name.
    pub fn model(self) -> &'static str {
        match self {
            Engine::Kokoro => kokoro::MODEL_NAME,
            Engine::Piper => piper::MODEL_NAME,
        }
    }

    /// Which engine a voice name belongs to by its form (Kokoro's `xy_name`, Piper's `joe`),
    /// whether or not it is installed.
    pub fn of_voice(name: &str) -> Option<Engine> {
        if name == PIPER_VOICE {
            return Some(Engine::Piper);
        }
        let b = name.as_bytes();
        let kokoro_like = b.len() > 3
            && matches!(b[0], b'a' | b'b' | b'z')
            && matches!(b[1], b'f' | b'm')
            && b[2] == b'_'
            && b[3..].iter().all(|c| c.is_ascii_lowercase());
        kokoro_like.then_some(Engine::Kokoro)
    }
}

/// A voice the installed manifests ship.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VoiceInfo {
    /// Its name, e.g. `zf_xiaoxiao` or `joe`.
    pub name: String,
    /// The language it speaks.
    pub lang: Lang,
    /// The model it runs on.
    pub engine: Engine,
}

fn voice_lang(name: &str) -> Lang {
    if name.starts_with('z') {
        Lang::Zh
    } else {
        Lang::En
    }
}

/// Why synthesis could not be done.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SynthError {
    /// The language code is not `zh` or `en`.
    #[error("unknown language {lang:?}: use zh or en")]
    UnknownLang {
        /// What was given.
        lang: String,
    },
    /// No installed voice has this name.
    #[error("unknown voice {voice:?}; installed voices: {}", if available.is_empty() { "none (run tools/models/install.py)".to_owned() } else { available.join(", ") })]
    UnknownVoice {
        /// The name given.
        voice: String,
        /// The voices the installed manifests ship.
        available: Vec<String>,
    },
    /// The voice does not speak the language asked for.
    #[error("voice {voice} speaks {speaks}, not {asked}; {} voices: {}", asked, if others.is_empty() { "none installed".to_owned() } else { others.join(", ") })]
    WrongLanguage {
        /// The voice.
        voice: String,
        /// Its language.
        speaks: Lang,
        /// The language asked for.
        asked: Lang,
        /// Installed voices of the language asked for.
        others: Vec<String>,
    },
    /// The text is empty or has nothing to say (only spaces or punctuation).
    #[error("text is empty or has nothing to speak")]
    EmptyText,
    /// The speaking rate is out of range.
    #[error("speed {speed} is outside {}..={}", SPEED_RANGE.0, SPEED_RANGE.1)]
    Speed {
        /// The speed given.
        speed: f32,
    },
    /// A model the voice needs did not load; `reason` names the file.
    #[error("voice {voice} needs model {model}, which is not usable: {reason}")]
    ModelUnavailable {
        /// The voice asked for.
        voice: String,
        /// The model's name.
        model: &'static str,
        /// Why it did not load (names the file; says how to install).
        reason: String,
    },
    /// The front end rejected the text.
    #[error("{lang} front end: {message}")]
    FrontEnd {
        /// The language.
        lang: Lang,
        /// What is wrong.
        message: String,
    },
    /// Kokoro failed on a sentence.
    #[error("kokoro, sentence {sentence}: {source}")]
    Kokoro {
        /// 0-based sentence index.
        sentence: usize,
        /// The model's error.
        source: kokoro::KokoroError,
    },
    /// Piper failed on a sentence.
    #[error("piper, sentence {sentence}: {source}")]
    Piper {
        /// 0-based sentence index.
        sentence: usize,
        /// The model's error.
        source: piper::PiperError,
    },
    /// The worker thread could not be started or stopped unexpectedly.
    #[error("synthesis worker: {message}")]
    Worker {
        /// What happened.
        message: String,
    },
}

/// How to load a [`Synthesizer`].
#[derive(Debug, Clone)]
pub struct SynthOptions {
    /// Where `tools/models/install.py` put the models.
    pub models_dir: PathBuf,
    /// Load Kokoro (the Mandarin and main English voices).
    pub kokoro: bool,
    /// Load Piper (`joe`).
    pub piper: bool,
    /// Compile every plan at load so no call waits on compilation (seconds at start-up).
    pub warm_up: bool,
    /// Directory of cached prompts (8 kHz WAVs); created if missing. `None`: memory only.
    pub cache_dir: Option<PathBuf>,
    /// Bound of the in-memory prompt cache, in samples.
    pub cache_samples: usize,
}

impl SynthOptions {
    /// Both models, warm-up on, memory cache of [`DEFAULT_CACHE_SAMPLES`], no disk cache.
    pub fn new(models_dir: impl Into<PathBuf>) -> Self {
        Self {
            models_dir: models_dir.into(),
            kokoro: true,
            piper: true,
            warm_up: true,
            cache_dir: None,
            cache_samples: DEFAULT_CACHE_SAMPLES,
        }
    }
}

/// How loading one model went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ModelState {
    /// Not asked for in [`SynthOptions`].
    NotLoaded,
    /// Loaded (and warmed up if asked) in this many ms.
    Ready {
        /// Load time, ms.
        load_ms: u64,
    },
    /// Did not load; the reason names the file and says how to install.
    Unavailable {
        /// Why.
        reason: String,
    },
}

/// One synthesis request.
#[derive(Debug, Clone, PartialEq)]
pub struct Request {
    /// Voice name.
    pub voice: String,
    /// Language of the text.
    pub lang: Lang,
    /// The text.
    pub text: String,
    /// Speaking rate, 1 = the voice's own pace.
    pub speed: f32,
}

impl Request {
    /// A request at the voice's own pace.
    pub fn new(voice: &str, lang: Lang, text: &str) -> Self {
        Self {
            voice: voice.to_owned(),
            lang,
            text: text.to_owned(),
            speed: 1.0,
        }
    }
}

/// Where a prompt's audio came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// The in-memory cache.
    Memory,
    /// A verified file of the disk cache.
    Disk,
    /// Synthesised now.
    Synthesised,
}

struct Loaded<T> {
    value: Option<T>,
    state: ModelState,
    /// sha256 of the manifest, for cache keys.
    version: String,
}

impl<T> Loaded<T> {
    fn absent() -> Self {
        Self {
            value: None,
            state: ModelState::NotLoaded,
            version: String::new(),
        }
    }
}

fn install_hint(reason: String) -> String {
    if reason.contains("install.py") {
        reason
    } else {
        format!("{reason} (run tools/models/install.py)")
    }
}

fn manifest_version(models_dir: &Path, model: &str) -> String {
    let file = models_dir.join(model).join("manifest.toml");
    std::fs::read(file).map_or_else(|_| String::new(), |b| hex(&Sha256::digest(b)))
}

fn hex(bytes: &[u8]) -> String {
    use fmt::Write;
    bytes.iter().fold(String::with_capacity(64), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

fn load_model<T, E: fmt::Display>(
    models_dir: &Path,
    model: &str,
    wanted: bool,
    load: impl FnOnce() -> Result<T, E>,
) -> Loaded<T> {
    if !wanted {
        return Loaded::absent();
    }
    let t0 = Instant::now();
    // A loader bug must not take the caller down: a panic becomes an unavailable model.
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(load));
    let (value, state) = match result {
        Ok(Ok(v)) => (
            Some(v),
            ModelState::Ready {
                load_ms: t0.elapsed().as_millis() as u64,
            },
        ),
        Ok(Err(e)) => (
            None,
            ModelState::Unavailable {
                reason: install_hint(e.to_string()),
            },
        ),
        Err(_) => (
            None,
            ModelState::Unavailable {
                reason: format!("the {model} loader panicked"),
            },
        ),
    };
    Loaded {
        value,
        state,
        version: manifest_version(models_dir, model),
    }
}

fn load_en_lexicon(models_dir: &Path) -> Result<EnFrontEnd, String> {
    let manifest = Manifest::load(models_dir.join(EN_LEXICON).join("manifest.toml"))
        .map_err(|e| e.to_string())?;
    let verified = manifest.verify(models_dir).map_err(|e| e.to_string())?;
    EnFrontEnd::load(&verified.dir).map_err(|e| e.to_string())
}

fn load_zh_lexicon(models_dir: &Path) -> Result<ZhFrontEnd, String> {
    let manifest = Manifest::load(models_dir.join(ZH_LEXICON).join("manifest.toml"))
        .map_err(|e| e.to_string())?;
    let verified = manifest.verify(models_dir).map_err(|e| e.to_string())?;
    ZhFrontEnd::from_verified(&verified).map_err(|e| e.to_string())
}

fn load_piper(models_dir: &Path, warm: bool) -> Result<(Piper, PiperPhonemeMap), String> {
    let manifest = Manifest::load(models_dir.join(piper::MODEL_NAME).join("manifest.toml"))
        .map_err(|e: ModelError| e.to_string())?;
    let verified = manifest.verify(models_dir).map_err(|e| e.to_string())?;
    let voice = Piper::from_verified(&verified).map_err(|e| e.to_string())?;
    let map =
        PiperPhonemeMap::load(&verified.dir.join(piper::CONFIG_FILE)).map_err(|e| e.to_string())?;
    if warm {
        voice.warm_up().map_err(|e| e.to_string())?;
    }
    Ok((voice, map))
}

fn load_kokoro(models_dir: &Path, warm: bool) -> Result<Kokoro, String> {
    let k = Kokoro::load(models_dir).map_err(|e| e.to_string())?;
    if warm {
        k.warm_up().map_err(|e| e.to_string())?;
    }
    Ok(k)
}

/// The voices the installed manifests list (read, not verified): Kokoro's
/// `voices/<name>.bin` files and Piper's `joe`, sorted by name.
pub fn installed_voices(models_dir: &Path) -> Vec<VoiceInfo> {
    let mut out = Vec::new();
    if let Ok(m) = Manifest::load(models_dir.join(kokoro::MODEL_NAME).join("manifest.toml")) {
        for f in &m.files {
            let name = f
                .path
                .strip_prefix("voices/")
                .and_then(|p| p.strip_suffix(".bin"));
            if let Some(name) = name.filter(|n| Engine::of_voice(n) == Some(Engine::Kokoro)) {
                out.push(VoiceInfo {
                    name: name.to_owned(),
                    lang: voice_lang(name),
                    engine: Engine::Kokoro,
                });
            }
        }
    }
    if Manifest::load(models_dir.join(piper::MODEL_NAME).join("manifest.toml")).is_ok() {
        out.push(VoiceInfo {
            name: PIPER_VOICE.to_owned(),
            lang: Lang::En,
            engine: Engine::Piper,
        });
    }
    out.sort_by(|a, b| a.name.cmp(&b.name));
    out
}

/// Bounded least-recently-used map of prompt audio, by total samples.
#[derive(Debug, Default)]
struct MemoryCache {
    entries: HashMap<String, (Arc<[i16]>, u64)>,
    samples: usize,
    tick: u64,
    limit: usize,
}

impl MemoryCache {
    fn get(&mut self, key: &str) -> Option<Arc<[i16]>> {
        self.tick += 1;
        let tick = self.tick;
        self.entries.get_mut(key).map(|(a, t)| {
            *t = tick;
            a.clone()
        })
    }

    fn insert(&mut self, key: String, audio: Arc<[i16]>) {
        if audio.len() > self.limit {
            return;
        }
        self.tick += 1;
        self.samples += audio.len();
        if let Some((old, _)) = self.entries.insert(key, (audio, self.tick)) {
            self.samples -= old.len();
        }
        while self.samples > self.limit {
            let Some(oldest) = self
                .entries
                .iter()
                .min_by_key(|(_, (_, t))| *t)
                .map(|(k, _)| k.clone())
            else {
                break;
            };
            if let Some((a, _)) = self.entries.remove(&oldest) {
                self.samples -= a.len();
            }
        }
    }
}

struct Inner {
    models_dir: PathBuf,
    kokoro: Loaded<Kokoro>,
    piper: Loaded<(Piper, PiperPhonemeMap)>,
    zh: Loaded<ZhFrontEnd>,
    en: Loaded<EnFrontEnd>,
    catalogue: Vec<VoiceInfo>,
    voices: Mutex<HashMap<String, Arc<Voice>>>,
    memory: Mutex<MemoryCache>,
    cache_dir: Option<PathBuf>,
}

/// The box's synthesiser. Cheap to clone; clones share models, plans and caches.
#[derive(Clone)]
pub struct Synthesizer {
    inner: Arc<Inner>,
}

impl fmt::Debug for Synthesizer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Synthesizer")
            .field("models_dir", &self.inner.models_dir)
            .field("models", &self.models())
            .finish()
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // Plain inserts and lookups: a panic elsewhere cannot leave these maps inconsistent.
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// A sentence ready for its engine.
enum Job {
    Kokoro(String),
    Piper(Vec<i64>),
}

/// Audio of one request, delivered as 8 kHz chunks as soon as each is computed: one per
/// sentence for Kokoro, one per window (64 or 256 frames) for Piper.
///
/// Iterate to get each chunk as soon as it is ready; the first comes while the worker is
/// still synthesising the rest. Dropping the stream stops the worker after
/// the sentence it is on.
#[derive(Debug)]
pub struct SynthStream {
    rx: mpsc::Receiver<Result<Vec<i16>, SynthError>>,
    sentences: usize,
}

impl SynthStream {
    /// Number of sentences this stream speaks (1 for a cached prompt).
    pub fn sentences(&self) -> usize {
        self.sentences
    }

    /// Waits for every chunk and joins them.
    pub fn collect_all(self) -> Result<Vec<i16>, SynthError> {
        let mut out = Vec::new();
        for chunk in self {
            out.extend_from_slice(&chunk?);
        }
        Ok(out)
    }
}

impl Iterator for SynthStream {
    type Item = Result<Vec<i16>, SynthError>;
    fn next(&mut self) -> Option<Self::Item> {
        self.rx.recv().ok()
    }
}

impl Synthesizer {
    /// Loads the models `opts` asks for. Never fails as a whole: a model that does not
    /// load makes its voices unavailable ([`Synthesizer::models`] says why).
    pub fn load(opts: &SynthOptions) -> Self {
        let dir = opts.models_dir.as_path();
        let kokoro = load_model(dir, kokoro::MODEL_NAME, opts.kokoro, || {
            load_kokoro(dir, opts.warm_up)
        });
        let piper = load_model(dir, piper::MODEL_NAME, opts.piper, || {
            load_piper(dir, opts.warm_up)
        });
        let zh = load_model(dir, ZH_LEXICON, opts.kokoro, || load_zh_lexicon(dir));
        let en = load_model(dir, EN_LEXICON, opts.kokoro || opts.piper, || {
            load_en_lexicon(dir)
        });
        let cache_dir = opts.cache_dir.clone();
        if let Some(d) = &cache_dir {
            // Failing here only means every prompt is synthesised (and the write fails).
            let _ = std::fs::create_dir_all(d);
        }
        Self {
            inner: Arc::new(Inner {
                models_dir: opts.models_dir.clone(),
                kokoro,
                piper,
                zh,
                en,
                catalogue: installed_voices(dir),
                voices: Mutex::new(HashMap::new()),
                memory: Mutex::new(MemoryCache {
                    limit: opts.cache_samples,
                    ..MemoryCache::default()
                }),
                cache_dir,
            }),
        }
    }

    /// Load state of each model: `kokoro-82m`, `piper-joe`, `zh-lexicon`, `en-lexicon`.
    pub fn models(&self) -> Vec<(&'static str, ModelState)> {
        let i = &self.inner;
        vec![
            (kokoro::MODEL_NAME, i.kokoro.state.clone()),
            (piper::MODEL_NAME, i.piper.state.clone()),
            (ZH_LEXICON, i.zh.state.clone()),
            (EN_LEXICON, i.en.state.clone()),
        ]
    }

    /// Every voice the installed manifests ship, usable or not.
    pub fn voices(&self) -> &[VoiceInfo] {
        &self.inner.catalogue
    }

    /// Names of the voices that can speak `lang` now (their models loaded).
    pub fn usable_voices(&self, lang: Lang) -> Vec<String> {
        self.inner
            .catalogue
            .iter()
            .filter(|v| v.lang == lang && self.check_models(&v.name, v.engine, lang).is_ok())
            .map(|v| v.name.clone())
            .collect()
    }

    fn check_models(&self, voice: &str, engine: Engine, lang: Lang) -> Result<(), SynthError> {
        let i = &self.inner;
        let unavailable = |model: &'static str, state: &ModelState| SynthError::ModelUnavailable {
            voice: voice.to_owned(),
            model,
            reason: match state {
                ModelState::Unavailable { reason } => reason.clone(),
                _ => "not loaded (this synthesiser was built without it)".to_owned(),
            },
        };
        match engine {
            Engine::Kokoro if i.kokoro.value.is_none() => {
                return Err(unavailable(kokoro::MODEL_NAME, &i.kokoro.state))
            }
            Engine::Piper if i.piper.value.is_none() => {
                return Err(unavailable(piper::MODEL_NAME, &i.piper.state))
            }
            _ => {}
        }
        match lang {
            Lang::Zh if i.zh.value.is_none() => Err(unavailable(ZH_LEXICON, &i.zh.state)),
            Lang::En if i.en.value.is_none() => Err(unavailable(EN_LEXICON, &i.en.state)),
            _ => Ok(()),
        }
    }

    /// Checks a request without its models: the speed, that the voice exists (or belongs
    /// to a model whose manifest is missing), speaks the language, and that there is text.
    /// Returns the voice's engine. Cheap: tools call it before loading a model.
    pub fn validate(&self, req: &Request) -> Result<Engine, SynthError> {
        let (lo, hi) = SPEED_RANGE;
        if !(req.speed.is_finite() && (lo..=hi).contains(&req.speed)) {
            return Err(SynthError::Speed { speed: req.speed });
        }
        let known = self.inner.catalogue.iter().find(|v| v.name == req.voice);
        let engine = match (known, Engine::of_voice(&req.voice)) {
            (Some(v), _) => v.engine,
            // A voice of a model whose manifest is missing: the missing model is the error.
            (None, Some(e)) if !self.inner.catalogue.iter().any(|v| v.engine == e) => e,
            _ => {
                return Err(SynthError::UnknownVoice {
                    voice: req.voice.clone(),
                    available: self
                        .inner
                        .catalogue
                        .iter()
                        .map(|v| v.name.clone())
                        .collect(),
                })
            }
        };
        let speaks = voice_lang(&req.voice);
        if speaks != req.lang {
            return Err(SynthError::WrongLanguage {
                voice: req.voice.clone(),
                speaks,
                asked: req.lang,
                others: self
                    .inner
                    .catalogue
                    .iter()
                    .filter(|v| v.lang == req.lang)
                    .map(|v| v.name.clone())
                    .collect(),
            });
        }
        if req.text.trim().is_empty() {
            return Err(SynthError::EmptyText);
        }
        Ok(engine)
    }

    /// [`Self::validate`], then checks the voice's models loaded.
    fn resolve(&self, req: &Request) -> Result<Engine, SynthError> {
        let engine = self.validate(req)?;
        self.check_models(&req.voice, engine, req.lang)?;
        Ok(engine)
    }

    /// Phonemises the request into one job per sentence.
    fn jobs(&self, req: &Request, engine: Engine) -> Result<Vec<Job>, SynthError> {
        let i = &self.inner;
        let fe_err = |message: String| SynthError::FrontEnd {
            lang: req.lang,
            message,
        };
        let phonemes: Vec<String> = match (req.lang, &i.zh.value, &i.en.value) {
            (Lang::Zh, Some(zh), _) => zh
                .phonemize(&req.text)
                .map_err(|e| fe_err(e.to_string()))?
                .into_iter()
                .map(|s| s.phonemes)
                .collect(),
            (Lang::En, _, Some(en)) => en
                .phonemize(&req.text)
                .map_err(|e| fe_err(e.to_string()))?
                .into_iter()
                .map(|s| s.phonemes)
                .collect(),
            // `resolve` checked the front end loaded.
            _ => return Err(fe_err("front end not loaded".into())),
        };
        let phonemes: Vec<String> = phonemes
            .into_iter()
            .filter(|p| p.chars().any(char::is_alphabetic))
            .collect();
        if phonemes.is_empty() {
            return Err(SynthError::EmptyText);
        }
        match engine {
            Engine::Kokoro => Ok(phonemes.into_iter().map(Job::Kokoro).collect()),
            Engine::Piper => {
                let (Some(en), Some((_, map))) = (&i.en.value, &i.piper.value) else {
                    return Err(fe_err("front end not loaded".into()));
                };
                phonemes
                    .iter()
                    .map(|p| {
                        en.piper_ids(p, map)
                            .map(Job::Piper)
                            .map_err(|e| fe_err(e.to_string()))
                    })
                    .collect()
            }
        }
    }

    fn kokoro_voice(&self, name: &str) -> Result<Arc<Voice>, SynthError> {
        if let Some(v) = lock(&self.inner.voices).get(name) {
            return Ok(v.clone());
        }
        let k = self
            .inner
            .kokoro
            .value
            .as_ref()
            .ok_or_else(|| SynthError::ModelUnavailable {
                voice: name.to_owned(),
                model: kokoro::MODEL_NAME,
                reason: "not loaded".into(),
            })?;
        let v = Arc::new(k.voice(name).map_err(|source| SynthError::Kokoro {
            sentence: 0,
            source,
        })?);
        lock(&self.inner.voices).insert(name.to_owned(), v.clone());
        Ok(v)
    }

    /// Synthesises the request on a worker thread, sentence by sentence; the stream yields
    /// 8 kHz audio as soon as the model hands it over (see [`SynthStream`]). A prompt already in the cache is
    /// delivered at once as one chunk. Bad requests fail here, before any work starts.
    pub fn stream(&self, req: &Request) -> Result<SynthStream, SynthError> {
        let engine = self.resolve(req)?;
        if let Some((audio, _)) = self.cached(req) {
            let (tx, rx) = mpsc::channel();
            let _ = tx.send(Ok(audio.to_vec()));
            return Ok(SynthStream { rx, sentences: 1 });
        }
        let jobs = self.jobs(req, engine)?;
        let voice = match engine {
            Engine::Kokoro => Some(self.kokoro_voice(&req.voice)?),
            Engine::Piper => None,
        };
        let sentences = jobs.len();
        let (tx, rx) = mpsc::channel();
        let this = self.clone();
        let speed = req.speed;
        std::thread::Builder::new()
            .name("tts-worker".into())
            .spawn(move || this.work(engine, voice.as_deref(), speed, &jobs, &tx))
            .map_err(|e| SynthError::Worker {
                message: format!("cannot start: {e}"),
            })?;
        Ok(SynthStream { rx, sentences })
    }

    fn work(
        &self,
        engine: Engine,
        voice: Option<&Voice>,
        speed: f32,
        jobs: &[Job],
        tx: &mpsc::Sender<Result<Vec<i16>, SynthError>>,
    ) {
        let from = match engine {
            Engine::Kokoro => kokoro::SAMPLE_RATE_HZ,
            Engine::Piper => self
                .inner
                .piper
                .value
                .as_ref()
                .map_or(22_050, |(p, _)| p.sample_rate()),
        };
        let mut rs = match Polyphase::new(from, LINE_RATE_HZ) {
            Ok(r) => r,
            Err(e) => {
                let _ = tx.send(Err(SynthError::Worker {
                    message: e.to_string(),
                }));
                return;
            }
        };
        let last = jobs.len().saturating_sub(1);
        for (n, job) in jobs.iter().enumerate() {
            // Each piece of audio is resampled and sent as soon as the model hands it over;
            // a closed receiver (the stream was dropped) stops the work after this sentence.
            let mut open = true;
            let mut emit = |audio: &[f32]| {
                if open && tx.send(Ok(rs.process_f32_vec(audio))).is_err() {
                    open = false;
                }
            };
            let run = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                self.run_job(job, n, n == last, voice, speed, &mut emit)
            }));
            let result = match run {
                Ok(r) => r,
                Err(_) => Err(SynthError::Worker {
                    message: format!("sentence {n}: the model runner panicked"),
                }),
            };
            if !open {
                return;
            }
            if let Err(e) = result {
                let _ = tx.send(Err(e));
                return;
            }
        }
    }

    /// Runs one sentence, handing its audio to `emit`: Kokoro's whole sentence at once,
    /// Piper's window by window (the first after 64 frames, 0.74 s of audio). After the
    /// `last` sentence, silence flushes the resampler's history (Kokoro: in the same chunk).
    fn run_job(
        &self,
        job: &Job,
        sentence: usize,
        last: bool,
        voice: Option<&Voice>,
        speed: f32,
        emit: &mut dyn FnMut(&[f32]),
    ) -> Result<(), SynthError> {
        let i = &self.inner;
        match (job, &i.kokoro.value, &i.piper.value, voice) {
            (Job::Kokoro(p), Some(k), _, Some(v)) => {
                let mut audio = k
                    .synthesize(p, v, speed)
                    .map_err(|source| SynthError::Kokoro { sentence, source })?;
                if last {
                    audio.extend_from_slice(&[0.0; TAPS_PER_PHASE]);
                }
                emit(&audio);
                Ok(())
            }
            (Job::Piper(ids), _, Some((p, _)), _) => {
                let mut opts = p.default_options();
                opts.length_scale /= speed;
                p.synthesize_ids_with(ids, &opts, &mut *emit)
                    .map_err(|source| SynthError::Piper { sentence, source })?;
                if last {
                    emit(&[0.0; TAPS_PER_PHASE]);
                }
                Ok(())
            }
            _ => Err(SynthError::Worker {
                message: format!("sentence {sentence}: its model is not loaded"),
            }),
        }
    }

    /// Synthesises the whole request (no cache): 8 kHz samples.
    pub fn synthesize(&self, req: &Request) -> Result<Vec<i16>, SynthError> {
        self.stream(req)?.collect_all()
    }

    /// The cache key's sha256 (hex): also the disk cache's file stem.
    pub fn cache_key(&self, req: &Request) -> String {
        let engine = Engine::of_voice(&req.voice);
        let i = &self.inner;
        let (model, fe) = (
            match engine {
                Some(Engine::Piper) => &i.piper.version,
                _ => &i.kokoro.version,
            },
            match req.lang {
                Lang::Zh => &i.zh.version,
                Lang::En => &i.en.version,
            },
        );
        let key = format!(
            "yingda-tts 1\nvoice {}\nlang {}\nspeed {}\nmodel {model}\nfront {fe}\ntext {}",
            req.voice,
            req.lang,
            req.speed.to_bits(),
            req.text
        );
        hex(&Sha256::digest(key.as_bytes()))
    }

    /// Path of the disk cache file for a request, when a cache directory is configured.
    pub fn cache_file(&self, req: &Request) -> Option<PathBuf> {
        let d = self.inner.cache_dir.as_ref()?;
        Some(d.join(format!("{}.wav", self.cache_key(req))))
    }

    fn cached(&self, req: &Request) -> Option<(Arc<[i16]>, Source)> {
        let key = self.cache_key(req);
        if let Some(a) = lock(&self.inner.memory).get(&key) {
            return Some((a, Source::Memory));
        }
        let file = self.cache_file(req)?;
        let bytes = std::fs::read(&file).ok()?;
        let samples = read_cache_wav(&bytes, &key)?;
        let audio: Arc<[i16]> = samples.into();
        lock(&self.inner.memory).insert(key, audio.clone());
        Some((audio, Source::Disk))
    }

    /// The audio of a prompt already in the memory or disk cache; never synthesises.
    pub fn cached_prompt(&self, req: &Request) -> Option<Arc<[i16]>> {
        self.cached(req).map(|(a, _)| a)
    }

    /// A static prompt: from the memory cache, else a verified disk-cache file, else
    /// synthesised now and stored in both. Call at flow activation, not on the call path.
    pub fn prompt(&self, req: &Request) -> Result<(Arc<[i16]>, Source), SynthError> {
        self.resolve(req)?;
        if let Some(hit) = self.cached(req) {
            return Ok(hit);
        }
        let audio: Arc<[i16]> = self.synthesize(req)?.into();
        let key = self.cache_key(req);
        if let Some(file) = self.cache_file(req) {
            // A failed write costs a re-synthesis after restart, nothing else.
            let _ = write_atomic(&file, &cache_wav(&audio, &key));
        }
        lock(&self.inner.memory).insert(key, audio.clone());
        Ok((audio, Source::Synthesised))
    }

    /// Plans compiled so far: Kokoro's audio buckets plus Piper's part A and B plans.
    pub fn compiled_plans(&self) -> usize {
        let i = &self.inner;
        i.kokoro
            .value
            .as_ref()
            .map_or(0, |k| k.ready_buckets().len())
            + i.piper
                .value
                .as_ref()
                .map_or(0, |(p, _)| p.compiled_plans())
    }

    /// Samples held by the in-memory cache.
    pub fn cached_samples(&self) -> usize {
        lock(&self.inner.memory).samples
    }
}

/// Writes `bytes` to a temporary file next to `path`, then renames it into place, so
/// `path` is either absent or complete.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let tmp = path.with_extension(format!("tmp{}", std::process::id()));
    let result = std::fs::write(&tmp, bytes).and_then(|()| std::fs::rename(&tmp, path));
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

fn checksum(key: &str, samples: &[i16]) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(key.as_bytes());
    for s in samples {
        h.update(s.to_le_bytes());
    }
    h.finalize().into()
}

/// An 8 kHz PCM WAV with a `ydsh` chunk (sha256 of key and samples) before `data`.
fn cache_wav(samples: &[i16], key: &str) -> Vec<u8> {
    let plain = wav::write(LINE_RATE_HZ, wav::Encoding::Pcm16, samples);
    // 36 = RIFF header (12) + fmt chunk (8 + 16): `data` starts there.
    let mut out = Vec::with_capacity(plain.len() + 40);
    out.extend_from_slice(&plain[..36]);
    out.extend_from_slice(CHECK_CHUNK);
    out.extend_from_slice(&32u32.to_le_bytes());
    out.extend_from_slice(&checksum(key, samples));
    out.extend_from_slice(&plain[36..]);
    let riff = (out.len() - 8) as u32;
    out[4..8].copy_from_slice(&riff.to_le_bytes());
    out
}

/// The samples of a cache file, if it is an 8 kHz mono PCM WAV whose checksum matches
/// `key` and its samples.
fn read_cache_wav(bytes: &[u8], key: &str) -> Option<Vec<i16>> {
    if bytes.get(36..40)? != CHECK_CHUNK || bytes.get(40..44)? != 32u32.to_le_bytes() {
        return None;
    }
    let want = bytes.get(44..76)?;
    let w = wav::parse(bytes).ok()?;
    let ok = w.rate == LINE_RATE_HZ
        && w.channels == 1
        && w.encoding == wav::Encoding::Pcm16
        && !w.samples.is_empty()
        && checksum(key, &w.samples).as_slice() == want;
    ok.then_some(w.samples)
}
