//! Fast Mandarin replies: prompts whose text depends on the call, assembled from
//! pre-synthesised fragments instead of synthesised while the caller waits.
//!
//! Kokoro speaks Mandarin slower than real time on the box's CPU (RTF ≈ 1.3 on one core), so
//! a reply such as "您预约的是口腔科，时间明天上午" would leave the caller seconds of dead air.
//! Classic IVRs read balances and dates by joining recorded words; this does the same with
//! synthesised ones. At activation, every static text piece of every template that has
//! variables (split at punctuation), every grammar label (the values slots take), and the
//! words numbers, money, dates and times are read with (`一`…`九`, `十百千万亿`, `元角分`,
//! `年月日号`, `上午下午`, `点半`…) are synthesised once, trimmed of their silence and kept.
//!
//! A rendered prompt is then read sentence by sentence: a sentence every part of which has a
//! fragment (longest match first; punctuation becomes a short pause) is assembled at once;
//! any other sentence is synthesised. So a reply starts within milliseconds whenever its
//! first sentence can be assembled, and the rest streams behind it.

use std::collections::HashMap;
use std::sync::Arc;

use yingda_flow::template::Piece;
use yingda_speech::recognizer::Lang;
use yingda_tts::synth::Synthesizer;

use crate::flowctl::{tts_request, FlowOptions, FlowSet};

/// The words numbers, money, dates and times are read with ([`yingda_flow::say`]), plus the
/// digits the text front end would read from Arabic numerals.
const BASE: &[&str] = &[
    "零", "一", "幺", "二", "两", "三", "四", "五", "六", "七", "八", "九", "十", "百", "千", "万",
    "亿", "点", "负", "元", "角", "分", "整", "年", "月", "日", "号", "星期", "天", "上午", "下午",
    "中午", "晚上", "凌晨", "半", "秒",
];

/// Pause for punctuation, ms.
fn pause_ms(c: char) -> Option<u32> {
    match c {
        '。' | '！' | '？' | '；' | '.' | '!' | '?' | ';' => Some(250),
        '，' | '、' | ',' | '：' | ':' => Some(120),
        ' ' | '\u{3000}' => Some(40),
        _ => None,
    }
}

/// Silence between two joined fragments, ms.
const JOIN_MS: usize = 20;

/// Split `text` into sentences, each with its closing punctuation.
pub fn sentences(text: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut start = 0;
    for (i, c) in text.char_indices() {
        if matches!(c, '。' | '！' | '？' | '；' | '!' | '?' | ';') {
            let end = i + c.len_utf8();
            if !text[start..end].trim().is_empty() {
                out.push(&text[start..end]);
            }
            start = end;
        }
    }
    if !text[start..].trim().is_empty() {
        out.push(&text[start..]);
    }
    out
}

/// Pre-synthesised Mandarin fragments.
#[derive(Debug, Default, Clone)]
pub struct Fragments {
    clips: HashMap<String, Arc<[i16]>>,
    /// Longest fragment, in chars.
    longest: usize,
}

/// Trim leading and trailing silence, keeping a little margin, with 5 ms fades.
fn trim(audio: &[i16]) -> Vec<i16> {
    let peak = audio.iter().map(|s| s.unsigned_abs()).max().unwrap_or(0);
    let thr = (peak / 30).max(200);
    let Some(first) = audio.iter().position(|s| s.unsigned_abs() > thr) else {
        return Vec::new();
    };
    let last = audio
        .iter()
        .rposition(|s| s.unsigned_abs() > thr)
        .unwrap_or(first);
    let from = first.saturating_sub(120); // 15 ms
    let to = (last + 320).min(audio.len()); // 40 ms: syllable tails are quiet
    let mut out = audio[from..to].to_vec();
    let fade = 40.min(out.len() / 2);
    let n = out.len();
    for i in 0..fade {
        let g = i as f32 / fade as f32;
        out[i] = (f32::from(out[i]) * g) as i16;
        out[n - 1 - i] = (f32::from(out[n - 1 - i]) * g) as i16;
    }
    out
}

impl Fragments {
    /// The texts to pre-synthesise for `flows`: template pieces, grammar labels and
    /// [`BASE`] words (Mandarin only; English voices are fast enough to synthesise).
    pub fn vocabulary(flows: &FlowSet) -> Vec<String> {
        let mut words: Vec<String> = BASE.iter().map(|s| (*s).to_owned()).collect();
        for flow in flows.flows() {
            for t in flow.templates.values() {
                if t.vars().next().is_none() {
                    continue;
                }
                for p in &t.pieces {
                    if let Piece::Text(text) = p {
                        words.extend(
                            text.split(|c: char| pause_ms(c).is_some())
                                .map(str::trim)
                                .filter(|w| !w.is_empty() && !w.is_ascii())
                                .map(str::to_owned),
                        );
                    }
                }
            }
            for g in flow.grammars.values() {
                words.extend(
                    g.options
                        .iter()
                        .map(|o| o.label.clone())
                        .filter(|l| !l.is_ascii()),
                );
            }
        }
        words.sort();
        words.dedup();
        words
    }

    /// Synthesise `words` with the Mandarin voice (through the prompt cache, so a restart
    /// reads them from disk). Returns the set and the words that failed, with why.
    pub fn build(
        synth: &Synthesizer,
        opts: &FlowOptions,
        words: &[String],
    ) -> (Self, Vec<(String, String)>) {
        let mut f = Self::default();
        let mut failed = Vec::new();
        for w in words {
            // Said at the normal rate: a faster rate (tried: 1.3) joins worse, the recogniser
            // then confuses amounts (tests/fragments_asr.rs).
            match synth.prompt(&tts_request(w, Lang::Zh, opts)) {
                Ok((audio, _)) => {
                    let t = trim(&audio);
                    if t.is_empty() {
                        failed.push((w.clone(), "synthesised silence".into()));
                    } else {
                        f.insert(w, t.into());
                    }
                }
                Err(e) => failed.push((w.clone(), e.to_string())),
            }
        }
        (f, failed)
    }

    /// Add one fragment.
    pub fn insert(&mut self, word: &str, audio: Arc<[i16]>) {
        self.longest = self.longest.max(word.chars().count());
        self.clips.insert(word.to_owned(), audio);
    }

    /// Number of fragments.
    pub fn len(&self) -> usize {
        self.clips.len()
    }

    /// No fragments.
    pub fn is_empty(&self) -> bool {
        self.clips.is_empty()
    }

    /// Audio of `sentence` joined from fragments, or `None` if some part has none.
    pub fn assemble(&self, sentence: &str) -> Option<Vec<i16>> {
        let chars: Vec<char> = sentence.chars().collect();
        let mut out: Vec<i16> = Vec::new();
        let mut i = 0;
        let mut spoke = false;
        while i < chars.len() {
            if let Some(ms) = pause_ms(chars[i]) {
                out.extend(std::iter::repeat_n(0, ms as usize * 8));
                i += 1;
                continue;
            }
            let max = self.longest.min(chars.len() - i);
            let hit = (1..=max).rev().find_map(|n| {
                let w: String = chars[i..i + n].iter().collect();
                self.clips.get(&w).map(|a| (n, a))
            });
            let (n, clip) = hit?;
            if spoke {
                out.extend(std::iter::repeat_n(0, JOIN_MS * 8));
            }
            out.extend_from_slice(clip);
            spoke = true;
            i += n;
        }
        spoke.then_some(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn clip(n: usize, v: i16) -> Arc<[i16]> {
        vec![v; n].into()
    }

    #[test]
    fn sentences_keep_their_punctuation() {
        assert_eq!(
            sentences("您好。余额三百元！再见"),
            ["您好。", "余额三百元！", "再见"]
        );
        assert_eq!(sentences("  "), Vec::<&str>::new());
    }

    #[test]
    fn longest_fragments_win_and_gaps_refuse() {
        let mut f = Fragments::default();
        f.insert("您的余额是", clip(10, 1));
        f.insert("三", clip(3, 3));
        f.insert("百", clip(4, 4));
        f.insert("元", clip(5, 5));
        f.insert("您", clip(7, 7));
        let a = f.assemble("您的余额是三百元。").unwrap();
        let join = JOIN_MS * 8;
        assert_eq!(a.len(), 10 + 3 + 4 + 5 + 3 * join + 250 * 8);
        assert_eq!(a[0], 1, "the long fragment, not 您");
        assert_eq!(f.assemble("您的余额是四百元"), None, "no fragment for 四");
        assert_eq!(f.assemble("。"), None, "nothing to say");
    }

    #[test]
    fn trimming_removes_silence_and_fades() {
        let mut a = vec![0i16; 8000];
        for s in &mut a[3000..5000] {
            *s = 10_000;
        }
        let t = trim(&a);
        assert_eq!(t.len(), (4999 + 320) - (3000 - 120));
        assert_eq!(t[0], 0);
        assert!(t.contains(&10_000));
        assert!(trim(&[0; 100]).is_empty());
    }
}
