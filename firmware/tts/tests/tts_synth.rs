//! The `Synthesizer`: voices from the installed manifests, language routing, 8 kHz output,
//! streaming by sentence, the prompt cache (memory LRU and verified disk files), warm-up,
//! and named errors for every bad request or missing model.
//!
//! Needs the installed models (`$YINGDA_MODELS_DIR` or /var/lib/yingda/models,
//! `tools/models/install.py`).

use std::path::PathBuf;
use std::sync::OnceLock;

use yingda_tts::synth::{
    Engine, Lang, ModelState, Request, Source, SynthError, SynthOptions, Synthesizer,
};

fn models_dir() -> PathBuf {
    std::env::var_os("YINGDA_MODELS_DIR")
        .map_or_else(|| PathBuf::from("/var/lib/yingda/models"), PathBuf::from)
}

/// Both models, no warm-up (tests compile the plans they use), memory cache only.
fn synth() -> &'static Synthesizer {
    static S: OnceLock<Synthesizer> = OnceLock::new();
    S.get_or_init(|| {
        let mut o = SynthOptions::new(models_dir());
        o.warm_up = false;
        let s = Synthesizer::load(&o);
        for (model, state) in s.models() {
            assert!(
                matches!(state, ModelState::Ready { .. }),
                "{model}: {state:?} (run tools/models/install.py)"
            );
        }
        s
    })
}

/// Piper only, with a disk cache in `dir`.
fn piper_with_cache(dir: &std::path::Path, cache_samples: usize) -> Synthesizer {
    let mut o = SynthOptions::new(models_dir());
    o.kokoro = false;
    o.warm_up = false;
    o.cache_dir = Some(dir.to_path_buf());
    o.cache_samples = cache_samples;
    Synthesizer::load(&o)
}

fn rms(x: &[i16]) -> f64 {
    (x.iter().map(|&v| f64::from(v).powi(2)).sum::<f64>() / x.len().max(1) as f64).sqrt()
}

fn assert_speech(x: &[i16], min_s: f64, max_s: f64, what: &str) {
    let secs = x.len() as f64 / 8000.0;
    assert!((min_s..=max_s).contains(&secs), "{what}: {secs:.2} s");
    assert!(rms(x) > 300.0, "{what}: rms {:.0} (silent?)", rms(x));
}

#[test]
fn voices_are_those_the_manifests_ship_with_their_languages() {
    let v = synth().voices();
    let find = |n: &str| {
        v.iter()
            .find(|v| v.name == n)
            .unwrap_or_else(|| panic!("{n} in {v:?}"))
    };
    assert_eq!(
        (find("zf_xiaoxiao").lang, find("zf_xiaoxiao").engine),
        (Lang::Zh, Engine::Kokoro)
    );
    assert_eq!(find("zm_yunxi").lang, Lang::Zh);
    assert_eq!(
        (find("af_heart").lang, find("af_heart").engine),
        (Lang::En, Engine::Kokoro)
    );
    assert_eq!(
        (find("joe").lang, find("joe").engine),
        (Lang::En, Engine::Piper)
    );
    assert!(synth()
        .usable_voices(Lang::Zh)
        .iter()
        .all(|n| n.starts_with('z')));
    assert!(synth().usable_voices(Lang::En).contains(&"joe".to_owned()));
}

#[test]
fn mandarin_streams_sentence_by_sentence_at_8_khz() {
    let req = Request::new("zf_xiaoxiao", Lang::Zh, "您好，欢迎致电。请稍等。");
    let stream = synth().stream(&req).unwrap();
    assert_eq!(stream.sentences(), 2);
    let chunks: Vec<Vec<i16>> = stream.map(Result::unwrap).collect();
    assert_eq!(chunks.len(), 2, "one chunk a sentence");
    for c in &chunks {
        assert_speech(c, 0.3, 4.0, "zh sentence");
    }
    // The whole call gives the same samples as the chunks joined.
    let whole = synth().synthesize(&req).unwrap();
    assert_eq!(whole, chunks.concat());
}

#[test]
fn english_on_kokoro_and_on_piper() {
    for voice in ["af_heart", "joe"] {
        let x = synth()
            .synthesize(&Request::new(voice, Lang::En, "Please hold the line."))
            .unwrap();
        assert_speech(&x, 0.6, 4.0, voice);
    }
}

#[test]
fn a_faster_speed_gives_shorter_audio() {
    let mut req = Request::new("joe", Lang::En, "Your appointment is confirmed.");
    let normal = synth().synthesize(&req).unwrap().len();
    req.speed = 1.6;
    let fast = synth().synthesize(&req).unwrap().len();
    assert!(fast * 10 < normal * 9, "fast {fast} vs normal {normal}");
}

#[test]
fn bad_requests_are_named_errors() {
    let s = synth();
    let err = |voice: &str, lang: Lang, text: &str| {
        s.synthesize(&Request::new(voice, lang, text)).unwrap_err()
    };

    let e = err("nobody", Lang::Zh, "您好");
    assert!(matches!(e, SynthError::UnknownVoice { .. }), "{e:?}");
    let msg = e.to_string();
    assert!(
        msg.contains("nobody") && msg.contains("zf_xiaoxiao") && msg.contains("joe"),
        "{msg}"
    );
    // A Kokoro-like name the manifest does not ship is unknown too.
    assert!(matches!(
        err("zf_nobody", Lang::Zh, "您好"),
        SynthError::UnknownVoice { .. }
    ));

    let e = err("joe", Lang::Zh, "您好");
    assert!(
        matches!(
            e,
            SynthError::WrongLanguage {
                speaks: Lang::En,
                asked: Lang::Zh,
                ..
            }
        ),
        "{e:?}"
    );
    assert!(e.to_string().contains("zf_xiaoxiao"), "{e}");
    let e = err("zf_xiaoxiao", Lang::En, "hello");
    assert!(e.to_string().contains("speaks zh, not en"), "{e}");

    for text in ["", "   ", "。，！", "..."] {
        let e = err("zf_xiaoxiao", Lang::Zh, text);
        assert!(matches!(e, SynthError::EmptyText), "{text:?}: {e:?}");
    }
    assert!(matches!(err("joe", Lang::En, " ! "), SynthError::EmptyText));

    for speed in [0.0, -1.0, f32::NAN, 3.0] {
        let mut r = Request::new("joe", Lang::En, "hello");
        r.speed = speed;
        assert!(
            matches!(s.synthesize(&r).unwrap_err(), SynthError::Speed { .. }),
            "{speed}"
        );
    }
    let e = "fr".parse::<Lang>().unwrap_err();
    assert!(e.to_string().contains("\"fr\""), "{e}");
    assert_eq!("zh".parse::<Lang>().unwrap(), Lang::Zh);
}

#[test]
fn a_missing_model_names_the_file_and_the_installer() {
    let empty = tempfile::tempdir().unwrap();
    let mut o = SynthOptions::new(empty.path());
    o.warm_up = false;
    let s = Synthesizer::load(&o);
    assert!(s.voices().is_empty());
    for (model, state) in s.models() {
        let ModelState::Unavailable { reason } = state else {
            panic!("{model}: {state:?}")
        };
        assert!(
            reason.contains(model) && reason.contains("manifest.toml"),
            "{reason}"
        );
        assert!(reason.contains("tools/models/install.py"), "{reason}");
    }
    for (voice, lang, model) in [
        ("zf_xiaoxiao", Lang::Zh, "kokoro-82m"),
        ("joe", Lang::En, "piper-joe"),
    ] {
        let e = s.synthesize(&Request::new(voice, lang, "hi")).unwrap_err();
        let SynthError::ModelUnavailable { model: m, .. } = &e else {
            panic!("{e:?}")
        };
        assert_eq!(*m, model);
        let msg = e.to_string();
        assert!(
            msg.contains("manifest.toml") && msg.contains("install.py"),
            "{msg}"
        );
    }
    // Unknown names still list what is installed (nothing).
    let e = s
        .synthesize(&Request::new("bob", Lang::En, "hi"))
        .unwrap_err();
    assert!(
        e.to_string().contains("none (run tools/models/install.py)"),
        "{e}"
    );
}

#[test]
fn a_missing_lexicon_disables_only_its_language() {
    let dir = tempfile::tempdir().unwrap();
    for m in ["kokoro-82m", "piper-joe", "en-lexicon"] {
        std::os::unix::fs::symlink(models_dir().join(m), dir.path().join(m)).unwrap();
    }
    let mut o = SynthOptions::new(dir.path());
    o.warm_up = false;
    o.kokoro = false;
    let s = Synthesizer::load(&o);
    let e = s
        .synthesize(&Request::new("joe", Lang::En, "Hello."))
        .map(|x| x.len());
    assert!(e.unwrap() > 4000);
    let mut o = SynthOptions::new(dir.path());
    o.warm_up = false;
    o.piper = false;
    let s = Synthesizer::load(&o);
    let e = s
        .synthesize(&Request::new("zf_xiaoxiao", Lang::Zh, "您好"))
        .unwrap_err();
    assert!(
        matches!(
            e,
            SynthError::ModelUnavailable {
                model: "zh-lexicon",
                ..
            }
        ),
        "{e:?}"
    );
    assert!(e.to_string().contains("zh-lexicon"), "{e}");
}

#[test]
fn warm_up_compiles_every_plan_at_load() {
    let mut o = SynthOptions::new(models_dir());
    o.kokoro = false;
    let s = Synthesizer::load(&o);
    // Piper: four id buckets for part A, two window sizes for part B.
    assert_eq!(s.compiled_plans(), 6);
}

#[test]
fn prompts_are_cached_in_memory_and_on_disk_across_restarts() {
    let dir = tempfile::tempdir().unwrap();
    let req = Request::new("joe", Lang::En, "Welcome to the clinic.");
    let s = piper_with_cache(dir.path(), 1 << 20);
    let (a, src) = s.prompt(&req).unwrap();
    assert_eq!(src, Source::Synthesised);
    assert_speech(&a, 0.6, 4.0, "prompt");
    let (b, src) = s.prompt(&req).unwrap();
    assert_eq!((src, &b[..]), (Source::Memory, &a[..]));
    // The stream of a cached prompt is one chunk, the cached audio.
    let st = s.stream(&req).unwrap();
    assert_eq!(st.sentences(), 1);
    assert_eq!(st.collect_all().unwrap(), a.to_vec());

    let file = s.cache_file(&req).unwrap();
    assert_eq!(file.file_name().unwrap().len(), 64 + 4, "sha256 hex + .wav");
    let w = yingda_dsp::wav::parse(&std::fs::read(&file).unwrap()).unwrap();
    assert_eq!((w.rate, w.channels, &w.samples[..]), (8000, 1, &a[..]));

    // A restart: a new synthesiser reads the verified file.
    let s2 = piper_with_cache(dir.path(), 1 << 20);
    let (c, src) = s2.prompt(&req).unwrap();
    assert_eq!((src, &c[..]), (Source::Disk, &a[..]));
}

#[test]
fn a_corrupt_cache_file_is_synthesised_again_never_played() {
    let dir = tempfile::tempdir().unwrap();
    let req = Request::new("joe", Lang::En, "Goodbye.");
    let (a, _) = piper_with_cache(dir.path(), 1 << 20).prompt(&req).unwrap();
    let file = piper_with_cache(dir.path(), 1 << 20)
        .cache_file(&req)
        .unwrap();
    let good = std::fs::read(&file).unwrap();
    let mut flipped = good.clone();
    let n = flipped.len();
    flipped[n - 100] ^= 0x40; // one sample changed: still a valid WAV
    let truncated = good[..n - 1000].to_vec();
    let foreign = yingda_dsp::wav::write(8000, yingda_dsp::wav::Encoding::Pcm16, &[1000; 8000]);
    for bad in [flipped, truncated, foreign, b"junk".to_vec()] {
        std::fs::write(&file, &bad).unwrap();
        let s = piper_with_cache(dir.path(), 1 << 20);
        let (b, src) = s.prompt(&req).unwrap();
        assert_eq!(src, Source::Synthesised);
        assert_eq!(&b[..], &a[..]);
        assert_eq!(std::fs::read(&file).unwrap(), good, "rewritten whole");
    }
}

#[test]
fn the_memory_cache_is_bounded_least_recently_used_first() {
    let reqs: Vec<Request> = ["One.", "Two.", "Three."]
        .iter()
        .map(|t| Request::new("joe", Lang::En, t))
        .collect();
    // Piper is seeded: the same text gives the same length every time.
    let lens: Vec<usize> = reqs
        .iter()
        .map(|r| synth().synthesize(r).unwrap().len())
        .collect();
    // Room for all three but one sample: the third prompt evicts the oldest.
    let limit = lens.iter().sum::<usize>() - 1;
    let dir = tempfile::tempdir().unwrap();
    let s = piper_with_cache(dir.path(), limit);
    for r in &reqs {
        s.prompt(r).unwrap();
        assert!(s.cached_samples() <= limit);
    }
    assert_eq!(s.cached_samples(), lens[1] + lens[2]);
    assert_eq!(s.prompt(&reqs[2]).unwrap().1, Source::Memory);
    // "One." was evicted from memory, but its verified file serves it.
    assert_eq!(s.prompt(&reqs[0]).unwrap().1, Source::Disk);
    assert_eq!(s.prompt(&reqs[0]).unwrap().1, Source::Memory);
}

#[test]
fn cache_keys_differ_by_voice_language_text_and_speed() {
    let s = synth();
    let base = Request::new("af_heart", Lang::En, "Hello.");
    let mut keys = vec![s.cache_key(&base)];
    let mut r = base.clone();
    r.voice = "am_michael".into();
    keys.push(s.cache_key(&r));
    let mut r = base.clone();
    r.text = "Hello!".into();
    keys.push(s.cache_key(&r));
    let mut r = base.clone();
    r.speed = 1.1;
    keys.push(s.cache_key(&r));
    let mut r = base.clone();
    r.lang = Lang::Zh;
    keys.push(s.cache_key(&r));
    let mut sorted = keys.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(sorted.len(), keys.len(), "{keys:?}");
    assert_eq!(s.cache_key(&base), keys[0], "stable");
}

#[test]
fn piper_streams_window_by_window_and_the_chunks_join_to_the_whole() {
    let req = Request::new(
        "joe",
        Lang::En,
        "Thank you for calling the clinic; all of our agents are busy right now.",
    );
    let st = synth().stream(&req).unwrap();
    assert_eq!(st.sentences(), 1);
    let chunks: Vec<Vec<i16>> = st.map(Result::unwrap).collect();
    assert!(chunks.len() > 1, "one sentence, {} chunks", chunks.len());
    // The first window is 64 frames of 256 samples at 22.05 kHz: about 0.74 s at 8 kHz.
    assert!(
        (5900..=6000).contains(&chunks[0].len()),
        "{}",
        chunks[0].len()
    );
    assert_eq!(synth().synthesize(&req).unwrap(), chunks.concat());
}
