#!/usr/bin/env python3
"""Convert pypinyin's MIT dictionaries into the pinyin table of the Mandarin front end.

    tools/models/convert_zh_lexicon.py --model-dir /var/lib/yingda/models/zh-lexicon

Reads, from MODEL_DIR (installed by tools/models/install.py from the pypinyin 0.55.0 wheel):

- pinyin_dict.json: code point (decimal string) -> "reading,reading,..." (tone marks);
- phrases_dict.json: phrase -> [[readings of char 1], [readings of char 2], ...].

Writes MODEL_DIR/zh-lexicon.txt, which firmware/tts/src/zh/lexicon.rs loads. UTF-8, one
record per line, tab-separated, sorted by code point so the output is byte-identical for
identical input (its size and sha256 are pinned in models/zh-lexicon/manifest.toml):

    # header lines start with '#'
    c<TAB><char><TAB><syllable>
    p<TAB><phrase><TAB><syllable> <syllable> ...

Only the first reading of each character and of each phrase position is kept: that is the
reading misaki's Chinese G2P (the front end Kokoro v1.0 was trained with) takes, through
`pypinyin.lazy_pinyin`, which never asks for alternatives. Syllables are written in
"tone3" form: the toneless spelling with `v` for u-umlaut, then the tone digit 1-4, or 5
for the neutral tone (e.g. "lv4", "de5", "ê2", "m2").

Python standard library only; nothing here runs on the unit.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path

OUTPUT = "zh-lexicon.txt"
FORMAT = "yingda-zh-lexicon 1"

# Vowels (and the syllabic m, n, e-circumflex) carrying a tone mark, precomposed.
_MARKED = {
    "ā": ("a", 1), "á": ("a", 2), "ǎ": ("a", 3), "à": ("a", 4),
    "ē": ("e", 1), "é": ("e", 2), "ě": ("e", 3), "è": ("e", 4),
    "ī": ("i", 1), "í": ("i", 2), "ǐ": ("i", 3), "ì": ("i", 4),
    "ō": ("o", 1), "ó": ("o", 2), "ǒ": ("o", 3), "ò": ("o", 4),
    "ū": ("u", 1), "ú": ("u", 2), "ǔ": ("u", 3), "ù": ("u", 4),
    "ǖ": ("ü", 1), "ǘ": ("ü", 2), "ǚ": ("ü", 3), "ǜ": ("ü", 4),
    "ế": ("ê", 2), "ề": ("ê", 4),
    "ḿ": ("m", 2), "ń": ("n", 2), "ň": ("n", 3), "ǹ": ("n", 4),
}
# Combining marks used where no precomposed letter exists (m̄, ê̄, ê̌).
_COMBINING = {"\u0304": 1, "\u0301": 2, "\u030c": 3, "\u0300": 4}
_PLAIN = set("abcdefghijklmnopqrstuvwxyzüê")


class ConvertError(Exception):
    """The dictionaries are not what this converter understands."""


def tone3(syllable: str) -> str:
    """'lüè' -> 'lve4', 'de' -> 'de5', 'm̄' -> 'm1'."""
    base = []
    tone = 5
    for ch in syllable:
        if ch in _MARKED:
            letter, tone = _MARKED[ch]
            base.append(letter)
        elif ch in _COMBINING:
            tone = _COMBINING[ch]
        elif ch in _PLAIN:
            base.append(ch)
        else:
            raise ConvertError(f"unexpected character {ch!r} (U+{ord(ch):04X}) in reading {syllable!r}")
    if not base:
        raise ConvertError(f"empty reading {syllable!r}")
    return "".join(base).replace("ü", "v") + str(tone)


def _check_key(key: str, where: str) -> None:
    if not key or any(c.isspace() or c == "#" for c in key):
        raise ConvertError(f"{where}: key {key!r} is empty or holds whitespace")


def convert(pinyin_dict: dict, phrases_dict: dict) -> bytes:
    lines = [f"# {FORMAT}", "# first readings of pypinyin 0.55.0 (MIT), tone3, 5 = neutral, v = u-umlaut"]
    chars = []
    for code, readings in pinyin_dict.items():
        ch = chr(int(code))
        _check_key(ch, f"pinyin_dict[{code}]")
        first = readings.split(",")[0]
        chars.append((ord(ch), ch, tone3(first)))
    for _, ch, syl in sorted(chars):
        lines.append(f"c\t{ch}\t{syl}")
    for phrase in sorted(phrases_dict):
        _check_key(phrase, "phrases_dict")
        per_char = phrases_dict[phrase]
        if len(per_char) != len(phrase) or any(not r for r in per_char):
            raise ConvertError(f"phrases_dict[{phrase!r}]: {len(per_char)} readings for {len(phrase)} characters")
        lines.append(f"p\t{phrase}\t{' '.join(tone3(r[0]) for r in per_char)}")
    return ("\n".join(lines) + "\n").encode("utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model-dir", type=Path, required=True,
                        help="folder holding pinyin_dict.json and phrases_dict.json")
    args = parser.parse_args(argv)
    try:
        with open(args.model_dir / "pinyin_dict.json", encoding="utf-8") as f:
            pinyin_dict = json.load(f)
        with open(args.model_dir / "phrases_dict.json", encoding="utf-8") as f:
            phrases_dict = json.load(f)
        data = convert(pinyin_dict, phrases_dict)
    except (OSError, ValueError, ConvertError) as e:
        print(f"convert_zh_lexicon.py: error: {e}", file=sys.stderr)
        return 1
    fd, tmp = tempfile.mkstemp(prefix=f".{OUTPUT}.", suffix=".partial", dir=args.model_dir)
    try:
        os.fchmod(fd, 0o644)
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, args.model_dir / OUTPUT)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return 0


if __name__ == "__main__":
    sys.exit(main())
