//! Bad and unusual input: the front end never panics, emits only Kokoro symbols, and never
//! hands Kokoro a sentence longer than it takes.
//!
//! Needs the installed lexicon (`$YINGDA_MODELS_DIR` or /var/lib/yingda/models, by
//! `tools/models/install.py --only zh-lexicon`); without it the tests fail saying so.

use std::path::PathBuf;
use std::sync::OnceLock;

use proptest::prelude::*;
use yingda_tts::zh::{vocab, Sentence, ZhError, ZhFrontEnd, ZhOptions, MAX_TEXT_CHARS};

fn front_end() -> &'static ZhFrontEnd {
    static FE: OnceLock<ZhFrontEnd> = OnceLock::new();
    FE.get_or_init(|| {
        let dir = std::env::var_os("YINGDA_MODELS_DIR")
            .map_or_else(|| PathBuf::from("/var/lib/yingda/models"), PathBuf::from)
            .join("zh-lexicon");
        ZhFrontEnd::load(&dir)
            .unwrap_or_else(|e| panic!("{e}\n(run tools/models/install.py --only zh-lexicon)"))
    })
}

fn check(sentences: &[Sentence], max: usize) {
    for s in sentences {
        assert!(!s.phonemes.is_empty(), "{s:?}");
        assert!(s.phonemes.chars().all(vocab::is_symbol), "{s:?}");
        assert!(s.tokens() <= max, "{} tokens: {s:?}", s.tokens());
        assert_eq!(s.phonemes.trim(), s.phonemes, "{s:?}");
        assert_eq!(s.text.trim(), s.text, "{s:?}");
    }
}

#[test]
fn empty_and_silent_text_gives_no_sentences() {
    let fe = front_end();
    for text in [
        "",
        " ",
        "\n\n",
        "。",
        "，。！？",
        "😀🎉",
        "\u{200b}\u{feff}",
        "\u{0}\u{7}\u{1b}",
        "¥",
        "###",
    ] {
        let got = fe.phonemize(text).unwrap();
        // "###" reads 井号井号井号; everything else has nothing to say.
        if text == "###" {
            assert_eq!(got.len(), 1);
        } else {
            assert!(got.is_empty(), "{text:?}: {got:?}");
        }
    }
}

#[test]
fn emoji_and_control_characters_are_dropped() {
    let fe = front_end();
    let clean = fe.phonemize("您好，请按1。").unwrap();
    let noisy = fe.phonemize("您好😀，\u{7}请按\u{200b}1\u{1b}。").unwrap();
    assert_eq!(clean.len(), 1);
    assert_eq!(clean[0].phonemes, noisy[0].phonemes);
}

#[test]
fn sentences_split_at_chinese_and_ascii_stops() {
    let fe = front_end();
    let got = fe
        .phonemize("您好。请按1！谢谢？再见；好的\n明天见!OK?")
        .unwrap();
    let texts: Vec<&str> = got.iter().map(|s| s.text.as_str()).collect();
    assert_eq!(
        texts,
        [
            "您好。",
            "请按1！",
            "谢谢？",
            "再见；",
            "好的",
            "明天见!",
            "OK?"
        ]
    );
    check(&got, 500);
    assert_eq!(got[0].phonemes, "ni↗nxau↓.");
}

#[test]
fn long_text_is_split_under_the_token_limit() {
    let fe = front_end();
    // One 'sentence' of 3,000 characters with commas only.
    let clause = "欢迎致电人民医院预约挂号服务平台，";
    let text = clause.repeat(180);
    let got = fe.phonemize(&text).unwrap();
    assert!(got.len() > 10, "{}", got.len());
    check(&got, 500);
    // Cut at the commas, never inside a word.
    for s in &got {
        assert!(s.text.ends_with('，'), "{}", s.text);
    }
    // Nothing lost: the pieces say what the whole says.
    let whole: String = got
        .iter()
        .map(|s| s.phonemes.as_str())
        .collect::<Vec<_>>()
        .join(" ");
    let one = fe.phonemize(clause).unwrap()[0].phonemes.clone();
    assert_eq!(whole, vec![one; 180].join(" "));
}

#[test]
fn long_text_without_any_punctuation_is_split_too() {
    let fe = front_end();
    let text = "我行营业时间为每天上午九点至下午五点".repeat(200);
    let got = fe.phonemize(&text).unwrap();
    check(&got, 500);
    assert!(got.len() > 10);
    let digits = "1234567890".repeat(300);
    check(&fe.phonemize(&digits).unwrap(), 500);
}

#[test]
fn smaller_token_limit_is_respected() {
    let fe = ZhFrontEnd::load(
        std::env::var_os("YINGDA_MODELS_DIR")
            .map_or_else(|| PathBuf::from("/var/lib/yingda/models"), PathBuf::from)
            .join("zh-lexicon"),
    )
    .unwrap();
    let mut o = ZhOptions::default();
    o.max_tokens = 40;
    let fe = fe.with_options(o);
    let got = fe
        .phonemize("您好，欢迎致电中国工商银行，查询余额请按1，转账汇款请按2，人工服务请按0。")
        .unwrap();
    assert!(got.len() >= 3);
    check(&got, 40);
}

#[test]
fn too_long_text_is_an_error_not_a_stall() {
    let fe = front_end();
    let text = "好".repeat(MAX_TEXT_CHARS + 1);
    match fe.phonemize(&text) {
        Err(ZhError::TextTooLong { chars, max }) => {
            assert_eq!((chars, max), (MAX_TEXT_CHARS + 1, MAX_TEXT_CHARS))
        }
        other => panic!("{:?}", other.map(|s| s.len())),
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn arbitrary_strings_never_panic(text in any::<String>()) {
        check(&front_end().phonemize(&text).unwrap(), 500);
    }

    #[test]
    fn ivr_like_strings_never_panic(
        text in "[0-9０-９:：.,，。、！？;；\\-~/%％¥$#*@A-Za-z 年月日号点元角分电话拨打卡号尾号验证码请按您好银行重长行为℃°C\\n]{0,80}"
    ) {
        check(&front_end().phonemize(&text).unwrap(), 500);
    }

    #[test]
    fn mixed_scripts_never_panic(text in "(\\PC|[\u{4e00}-\u{9fff}]){0,200}") {
        check(&front_end().phonemize(&text).unwrap(), 500);
    }
}
