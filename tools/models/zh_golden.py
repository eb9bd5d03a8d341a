#!/usr/bin/env python3
"""Golden phonemes for the Rust Mandarin front end (firmware/tts/src/zh), made with misaki.

    PY=$(tools/models/pyenv.sh)
    $PY tools/models/zh_golden.py --data firmware/tts/tests/data/zh

Which misaki: Kokoro-82M v1.0's pipeline (`kokoro` 0.9.4, kokoro/pipeline.py) builds, for
lang_code "z" and repo_id "hexgrad/Kokoro-82M",
`misaki.zh.ZHG2P(version=None if repo_id.endswith('/Kokoro-82M') else '1.1')`, i.e. the
legacy G2P (cn2an an2cn, jieba, pypinyin TONE3 with neutral tone 5, pinyin -> IPA, tone
arrows). version='1.1' (bopomofo-like symbols, tone sandhi) is for Kokoro-82M-v1.1-zh; its
symbols are not in v1.0's vocab.json. So this script calls `ZHG2P()` -- misaki 0.9.4,
pypinyin 0.55.0, jieba 0.42.1, cn2an 0.5.24 as pinned in tools/models/requirements.txt
(misaki's zh extra also needs `ordered-set`).

Reads DATA/sentences.txt: one IVR prompt per line, `text` or `text<TAB>spoken`, where
`spoken` is the reading our IVR normaliser deliberately chooses where misaki's is wrong for
the phone line (phone numbers read as quantities, clock times with a colon, ISO dates read
as minus signs, ...), written in Chinese characters. '#' starts a comment line.

Writes into DATA:

- sentences.jsonl: {"text", "spoken" (or null), "misaki": ZHG2P()(text),
  "reference": ZHG2P()(spoken or text)} per sentence. The Rust test feeds `text` to our
  front end and compares with `reference`, both with symbols outside Kokoro's vocabulary
  removed (Kokoro drops those itself);
- syllables.tsv: every tone3 syllable of the zh-lexicon table -> misaki's `py2ipa`;
- numbers.tsv: integers and decimals -> `cn2an.an2cn(x, "low")`;
- transform.tsv: strings -> `cn2an.transform(s, "an2cn")` (misaki's number step).

It also checks that tools/models/convert_zh_lexicon.py's tone3 conversion agrees with
pypinyin's own on every reading, so the Rust side can trust the converted table.
"""
from __future__ import annotations

import argparse
import json
import random
import sys
import warnings
from pathlib import Path

import cn2an
import jieba
import pypinyin
from pypinyin import Style
from pypinyin.constants import PHRASES_DICT, PINYIN_DICT
from pypinyin.converter import UltimateConverter

try:
    from misaki.zh import ZHG2P
except ImportError as e:  # pragma: no cover - environment problem, say what is missing
    sys.exit(f"zh_golden.py: misaki's Chinese G2P does not import ({e}); pip install ordered-set==4.1.0")

sys.path.insert(0, str(Path(__file__).resolve().parent))
from convert_zh_lexicon import tone3  # noqa: E402

VERSIONS = {"pypinyin": "0.55.0", "jieba": "0.42.1"}

TRANSFORM_CASES = [
    "请按1", "请按0", "3-5天", "1-3个工作日", "1.5-2.5公斤", "2026年11月22日", "11月22日", "12年", "12345年",
    "123月", "3月5日", "1/3", "2026/11/22", "3.5%", "-3%", "1.2.3%", "30℃", "37.3℃", "-5℃", "-12.50",
    "0.5", "12.50元", "2,000", "1,234.56", "100000000000000000", "1234567890123456", "12345678901234567",
    "007", "0", "-0", "3-5", "ABC-5", "第3名", "10086", "95588", "3.14159265358979323846", "1:2", "14:30",
    "2026-11-22", "400-820-8820", "V1.2.3", "50％", "１２个", "二〇二六", "0.05元", "12.5万元", "2个", "22",
]


def integers(rng: random.Random) -> list[str]:
    out = {str(n) for n in range(0, 1200)}
    for k in range(1, 17):
        base = 10 ** k
        for d in (base, base + 1, base + 10, base * 2 + 1000, base - 1):
            if len(str(d)) <= 16:
                out.add(str(d))
    for _ in range(3000):
        digits = rng.randint(1, 16)
        s = "".join(rng.choice("0000123456789") for _ in range(digits)).lstrip("0") or "0"
        out.add(s)
    for _ in range(300):
        s = str(rng.randint(0, 10**6)) + "." + "".join(rng.choice("0123456789") for _ in range(rng.randint(1, 4)))
        out.add(s)
    return sorted(out, key=lambda s: (len(s), s))


def check_tone3() -> set[str]:
    """Every reading in pypinyin's tables: the converter's tone3 equals pypinyin's."""
    conv = UltimateConverter(neutral_tone_with_five=True)
    readings = set()
    for v in PINYIN_DICT.values():
        readings.add(v.split(",")[0])
    for v in PHRASES_DICT.values():
        readings.update(r[0] for r in v)
    out = set()
    for r in sorted(readings):
        ours = tone3(r)
        theirs = conv.convert_style("中", r, Style.TONE3, True)
        if ours != theirs:
            raise SystemExit(f"zh_golden.py: tone3({r!r}) = {ours!r}, pypinyin says {theirs!r}")
        out.add(ours)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, required=True, help="firmware/tts/tests/data/zh")
    args = parser.parse_args()
    for mod, want in VERSIONS.items():
        have = getattr(sys.modules[mod], "__version__", None)
        if have != want:
            raise SystemExit(f"zh_golden.py: {mod} {have}, expected {want} (use tools/models/pyenv.sh)")
    warnings.simplefilter("ignore")
    jieba.setLogLevel(60)
    g2p = ZHG2P()

    rows = []
    for no, line in enumerate((args.data / "sentences.txt").read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip() or line.startswith("#"):
            continue
        text, _, spoken = line.partition("\t")
        spoken = spoken or None
        misaki = g2p(text)[0]
        reference = g2p(spoken)[0] if spoken else misaki
        rows.append({"line": no, "text": text, "spoken": spoken, "misaki": misaki, "reference": reference})
    with open(args.data / "sentences.jsonl", "w", encoding="utf-8") as f:
        for r in rows:
            f.write(json.dumps(r, ensure_ascii=False) + "\n")

    syllables = sorted(check_tone3())
    with open(args.data / "syllables.tsv", "w", encoding="utf-8") as f:
        for s in syllables:
            f.write(f"{s}\t{ZHG2P.py2ipa(s)}\n")

    rng = random.Random(20261122)
    with open(args.data / "numbers.tsv", "w", encoding="utf-8") as f:
        for n in integers(rng):
            f.write(f"{n}\t{cn2an.an2cn(n, 'low')}\n")

    with open(args.data / "transform.tsv", "w", encoding="utf-8") as f:
        for s in TRANSFORM_CASES:
            f.write(f"{s}\t{cn2an.transform(s, 'an2cn')}\n")
    print(f"{len(rows)} sentences, {len(syllables)} syllables", file=sys.stderr)


if __name__ == "__main__":
    main()
