//! Whisper end to end on a handful of IVR utterances spoken by espeak-ng at test time:
//! Mandarin and English grammar prompts with carrier words, the homophone Whisper base
//! writes for 牙科, out-of-grammar speech that must give no match, and digit strings.
//! Needs the installed whisper-base and zh-lexicon models (tools/models/install.py).
//! The full, noisier test set with Kokoro voices is measured by benches/asr_ivr.rs.

use std::sync::Arc;

use yingda_speech::grammar::Grammar;
use yingda_speech::models::models_dir_from_env;
use yingda_speech::recognizer::{Lang, Recognition, Recognizer, Request};
use yingda_speech::whisper::recognizer::WhisperRecognizer;

const DEPT_ZH: &str =
    "口腔科: 口腔科 | 牙科\n妇产科: 妇产科\n儿科: 儿科 | 小儿科\n眼科: 眼科\n皮肤科: 皮肤科\n";
const DEPT_EN: &str =
    "dentistry: dentistry | dentist\ncardiology: cardiology | heart\nemergency: emergency\n";
const YESNO_EN: &str = "yes: yes | yeah | correct\nno: no | wrong | cancel\n";

fn grammar(text: &str) -> Arc<Grammar> {
    Arc::new(Grammar::parse(text.as_bytes()).expect("grammar"))
}

fn say(rec: &WhisperRecognizer, voice: &str, text: &str, request: Request) -> Recognition {
    let audio = yingda_testpeers::espeak_8k(voice, text);
    rec.recognize(&audio, request)
        .unwrap_or_else(|e| panic!("{text:?}: {e}"))
}

fn recognizer() -> WhisperRecognizer {
    let rec = WhisperRecognizer::load(models_dir_from_env())
        .expect("whisper-base installed (tools/models/install.py)");
    assert!(
        rec.has_lexicon(),
        "zh-lexicon installed (tools/models/install.py)"
    );
    rec
}

/// One model load for all cases: loading costs more than a recognition.
#[test]
fn ivr_prompts_end_to_end() {
    let rec = recognizer();
    let zh = Some(Lang::Zh);
    let en = Some(Lang::En);
    let dept_zh = grammar(DEPT_ZH);

    // The regression from the field: carrier words, 牙科 written as a homophone, and the
    // other departments of the prompt hallucinated after it.
    let r = say(
        &rec,
        "cmn-latn-pinyin",
        "wo3 xiang3 kan4 ya2 ke1",
        Request::grammar(zh, dept_zh.clone()),
    );
    assert_eq!(r.label.as_deref(), Some("口腔科"), "{r:?}");
    assert!(r.confidence >= 0.5, "{r:?}");

    let r = say(
        &rec,
        "cmn-latn-pinyin",
        "pi2 fu1 ke1 , xie4 xie5",
        Request::grammar(zh, dept_zh.clone()),
    );
    assert_eq!(r.label.as_deref(), Some("皮肤科"), "{r:?}");

    let r = say(
        &rec,
        "en-us",
        "I'd like cardiology please",
        Request::grammar(en, grammar(DEPT_EN)),
    );
    assert_eq!(r.label.as_deref(), Some("cardiology"), "{r:?}");

    let r = say(
        &rec,
        "en-us",
        "no, cancel that",
        Request::grammar(en, grammar(YESNO_EN)),
    );
    assert_eq!(r.label.as_deref(), Some("no"), "{r:?}");

    // Out of grammar: no label, whatever the transcript.
    let r = say(
        &rec,
        "cmn-latn-pinyin",
        "jin1 tian1 tian1 qi4 zen3 me5 yang4",
        Request::grammar(zh, dept_zh),
    );
    assert_eq!(r.label, None, "{r:?}");
    let r = say(
        &rec,
        "en-us",
        "what time do you close",
        Request::grammar(en, grammar(YESNO_EN)),
    );
    assert_eq!(r.label, None, "{r:?}");

    // Digits, decoded with only digit tokens allowed; 幺 read as one. ("double" and carrier
    // words around digits are covered on transcripts by speech_numbers_carrier.rs: Whisper
    // base rarely hears them in espeak-ng's voice.)
    let r = say(
        &rec,
        "en-us",
        "three one four one five nine",
        Request::digits(en),
    );
    assert_eq!(r.digits.as_deref(), Some("314159"), "{r:?}");
    assert_eq!(r.label, None);
    let r = say(
        &rec,
        "cmn-latn-pinyin",
        "yao1 er4 san1 si4",
        Request::digits(zh),
    );
    assert_eq!(r.digits.as_deref(), Some("1234"), "{r:?}");
}
