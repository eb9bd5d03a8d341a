//! Readings misaki gets wrong in words a bank or hospital IVR says all the time.
//!
//! pypinyin reads a word it has no phrase for character by character with each character's
//! first reading, so 还款 comes out hai2 kuan3 ("still money") and 支行 zhi1 xing2; in a
//! bank prompt they are huan2 kuan3 (repayment) and zhi1 hang2 (branch). Kokoro v1.0 says
//! whatever symbols it is given, so a fix here changes only which (equally trained)
//! syllables it reads. Keys are whole jieba words: the table never splits or joins words,
//! so segmentation and spacing stay misaki's. Off with [`super::ZhOptions::ivr_polyphones`].
//!
//! Only words whose IVR sense is clear belong here; each was checked against misaki 0.9.4
//! (`tools/models/zh_golden.py`'s environment) to be read wrongly there.

/// Jieba word → tone3 syllables, one per character.
const WORDS: [(&str, &str); 19] = [
    ("还款", "huan2 kuan3"),
    ("还款额", "huan2 kuan3 e2"),
    ("支行", "zhi1 hang2"),
    ("总行", "zong3 hang2"),
    ("我行", "wo3 hang2"),
    ("跨行", "kua4 hang2"),
    ("行卡", "hang2 ka3"),
    ("发卡行", "fa1 ka3 hang2"),
    ("人行", "ren2 hang2"),
    ("行号", "hang2 hao4"),
    ("行内", "hang2 nei4"),
    ("重置", "chong2 zhi4"),
    ("重设", "chong2 she4"),
    ("重拨", "chong2 bo1"),
    ("请重", "qing3 chong2"),
    ("朝阳", "chao2 yang2"),
    ("朝阳医院", "chao2 yang2 yi1 yuan4"),
    ("朝阳门", "chao2 yang2 men2"),
    ("朝阳路", "chao2 yang2 lu4"),
];

/// The tone3 syllables of `word` when the table corrects it.
pub(crate) fn lookup(word: &str) -> Option<&'static str> {
    WORDS.iter().find(|(w, _)| *w == word).map(|&(_, r)| r)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_valid_syllable_per_character() {
        for (word, reading) in WORDS {
            let syllables: Vec<&str> = reading.split(' ').collect();
            assert_eq!(syllables.len(), word.chars().count(), "{word}");
            for s in syllables {
                assert!(super::super::ipa::syllable(s).is_some(), "{word}: {s}");
            }
        }
    }
}
