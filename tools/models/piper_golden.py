#!/usr/bin/env python3
"""Golden vectors for the Piper runner (firmware/tts/src/piper.rs), and its onnxruntime bench.

    PY=$(tools/models/pyenv.sh)
    $PY tools/models/piper_golden.py golden --model-dir /var/lib/yingda/models/piper-joe \\
        --out firmware/tts/tests/data/piper
    $PY tools/models/piper_golden.py ort-bench --model-dir DIR --golden DIR/golden.json --sentence long short

`golden` writes, into --out:

- golden.json: the original model's sha256, seed and scales, and per sentence the text, the
  phonemes espeak-ng gave, the ids, the durations (frames per id) and the audio file's name;
- <name>.i16: onnxruntime's audio on the ORIGINAL graph (only its two RandomNormalLike
  replaced by inputs, fed the seeded noise piper.rs also draws), 22.05 kHz, little-endian i16
  (x * 32767, rounded). Quantisation limits a comparison to ~90 dB SNR, far above the test's
  30 dB.

Ids: `espeak-ng -q --ipa -v en-us` per clause (espeak-ng is GPL-3 and runs here as a separate
program only, to make test data; the firmware never calls it), clause punctuation appended
as piper does, every character mapped through the voice's phoneme_id_map, framed like
piper-phonemize: ^ _ (id _)* $. Characters the map lacks are dropped (and listed).

`ort-bench` prints one JSON line per golden sentence named: onnxruntime (single thread, CPU)
on the original graph: session creation time, best of --runs synthesis times (= time to
first audio: the graph gives all audio at once), real-time factor and the peak RSS of the
Python process. The Rust
bench (firmware/tts/benches/piper.rs) runs it next to tract.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import re
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import convert_piper as cp  # noqa: E402

SEED = 20251122
SENTENCES = {
    "short": "Your call is important to us.",
    "long": "Please enter your account number followed by the pound key, "
            "or press zero to speak with a member of our staff.",
}


def espeak_ipa(clause: str) -> str:
    out = subprocess.run(["espeak-ng", "-q", "--ipa", "-v", "en-us", clause],
                         check=True, capture_output=True, text=True).stdout
    return re.sub(r"\s+", " ", out).strip()


def phonemes(text: str) -> str:
    """Clause by clause, punctuation kept as piper-phonemize keeps it."""
    parts = re.findall(r"([^,.;:!?]+)([,.;:!?]?)", text)
    out = []
    for words, punct in parts:
        if words.strip():
            out.append(espeak_ipa(words.strip()) + punct)
    return " ".join(out)


def to_ids(ipa: str, id_map: dict[str, list[int]]) -> tuple[list[int], list[str]]:
    pad = id_map["_"]
    ids = list(id_map["^"]) + list(pad)
    dropped = []
    for ch in ipa:
        if ch not in id_map:
            dropped.append(ch)
            continue
        ids.extend(id_map[ch])
        ids.extend(pad)
    ids.extend(id_map["$"])
    return ids, dropped


def golden(model_dir: Path, out: Path) -> None:
    config = json.loads((model_dir / cp.CONFIG).read_text())
    inference = config["inference"]
    scales = [inference["noise_scale"], inference["length_scale"], inference["noise_w"]]
    source = cp.load_source(model_dir)
    ref = cp.session(cp.with_durations_output(cp.reference_model(source)))
    out.mkdir(parents=True, exist_ok=True)
    entries = []
    for name, text in SENTENCES.items():
        ipa = phonemes(text)
        ids, dropped = to_ids(ipa, config["phoneme_id_map"])
        if dropped:
            print(f"{name}: dropped {dropped!r} (not in phoneme_id_map)")
        audio, durations = cp.reference_synthesize(ref, ids, scales, SEED)
        pcm = np.clip(np.round(audio * 32767.0), -32768, 32767).astype("<i2")
        (out / f"{name}.i16").write_bytes(pcm.tobytes())
        entries.append({
            "name": name, "text": text, "phonemes": ipa, "ids": ids,
            "durations": [int(d) for d in durations], "samples": int(audio.size), "audio": f"{name}.i16",
            "peak": float(np.abs(audio).max()),
        })
        print(f"{name}: {len(ids)} ids, {int(durations.sum())} frames, {audio.size / 22050:.2f} s, "
              f"peak {np.abs(audio).max():.3f}")
    data = hashlib.sha256((model_dir / cp.SOURCE).read_bytes()).hexdigest()
    doc = {
        "about": "tools/models/piper_golden.py: onnxruntime on the original en_US-joe-medium.onnx "
                 "(noise from inputs), seeded noise as in piper.rs",
        "model_sha256": data,
        "seed": SEED,
        "noise_scale": scales[0], "length_scale": scales[1], "noise_w": scales[2],
        "sample_rate": config["audio"]["sample_rate"],
        "sentences": entries,
    }
    text = json.dumps(doc, indent=1, ensure_ascii=False)
    text = re.sub(r"\[\s+([-\d,\s]+?)\s+\]", lambda m: "[" + " ".join(m.group(1).split()) + "]", text)
    (out / "golden.json").write_text(text + "\n")


def peak_rss_mb() -> float:
    """VmHWM of this process (ru_maxrss would include the parent's peak: it survives exec)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024.0
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def ort_bench(model_dir: Path, golden_json: Path, sentences: list[str], runs: int) -> None:
    doc = json.loads(golden_json.read_text())
    scales = [doc["noise_scale"], doc["length_scale"], doc["noise_w"]]
    source = cp.load_source(model_dir)
    model = cp.reference_model(source)
    t0 = time.perf_counter()
    ref = cp.session(model)
    session_s = time.perf_counter() - t0
    for sentence in sentences:
        entry = next(e for e in doc["sentences"] if e["name"] == sentence)
        times = []
        samples = 0
        for _ in range(runs):
            t0 = time.perf_counter()
            audio, _ = cp.reference_synthesize(ref, entry["ids"], scales, doc["seed"], max_frames=1024)
            times.append(time.perf_counter() - t0)
            samples = audio.size
        best = min(times)
        print(json.dumps({
            "runtime": "onnxruntime " + __import__("onnxruntime").__version__, "sentence": sentence,
            "session_s": session_s, "synth_s": best, "first_audio_s": best,
            "audio_s": samples / doc["sample_rate"], "rtf": best / (samples / doc["sample_rate"]),
            "peak_rss_mb": peak_rss_mb(),
        }), flush=True)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = p.add_subparsers(dest="cmd", required=True)
    g = sub.add_parser("golden")
    g.add_argument("--model-dir", type=Path, required=True)
    g.add_argument("--out", type=Path, required=True)
    b = sub.add_parser("ort-bench")
    b.add_argument("--model-dir", type=Path, required=True)
    b.add_argument("--golden", type=Path, required=True)
    b.add_argument("--sentence", nargs="+", default=["long"])
    b.add_argument("--runs", type=int, default=3)
    a = p.parse_args()
    if a.cmd == "golden":
        golden(a.model_dir, a.out)
    else:
        ort_bench(a.model_dir, a.golden, a.sentence, a.runs)
    return 0


if __name__ == "__main__":
    sys.exit(main())
