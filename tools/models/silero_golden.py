#!/usr/bin/env python3
"""Golden vectors for the Silero VAD detector (firmware/speech/src/silero.rs).

Writes, into the output directory (normally firmware/speech/tests/data/silero/):

- clip_8k_i16.bin: 4.8 s of 8 kHz audio, little-endian i16 (38,400 samples = 150 Silero
  chunks = 240 line frames): silence, English speech (espeak-ng), low white noise, a
  450 Hz tone, Mandarin speech (espeak-ng, tone-numbered pinyin), silence;
- probs_f32.bin: the speech probability of each 256-sample chunk, little-endian f32 (150),
  from onnxruntime running the ORIGINAL shipped graph (silero_vad.onnx, sr = 8000) the way
  silero-vad's OnnxWrapper streams audio: float = i16 / 32768, the last 32 samples of
  the previous input prepended to each chunk (zeros at the start), LSTM state carried;
- wrong_outputs.onnx: a 2-node graph with Silero's inputs whose `output` is [1, 288]
  instead of [1, 1], for the detector's interface check.

The clip is made once (espeak-ng output differs between versions); with --reuse-clip only
the probabilities are recomputed from the clip already in the output directory:

    PY=$(tools/models/pyenv.sh)
    $PY tools/models/silero_golden.py --model-dir /var/lib/yingda/models/silero-vad \\
        --out firmware/speech/tests/data/silero [--reuse-clip]

espeak-ng (GPL) and sox run as separate programs to make test audio; nothing here is part of
the firmware. The Rust test needs neither Python nor espeak.
"""
from __future__ import annotations

import argparse
import hashlib
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper

sys.path.insert(0, str(Path(__file__).resolve().parent))
from convert_silero import CHUNK, SAMPLE_RATE, SOURCE, SOURCE_SHA256, run_stream, sha256_of  # noqa: E402

SAMPLES = 150 * CHUNK
CLIP = "clip_8k_i16.bin"
PROBS = "probs_f32.bin"
SEED = 20250612
WRONG = "wrong_outputs.onnx"


def espeak(voice: str, text: str) -> np.ndarray:
    """espeak-ng speech resampled to 8 kHz by sox without dither (repeatable, unlike
    yingda-testpeers' espeak_8k, which lets sox dither at random)."""
    with tempfile.TemporaryDirectory() as d:
        wav = Path(d) / "s.wav"
        subprocess.run(["espeak-ng", "-v", voice, "-w", str(wav), text], check=True)
        raw = subprocess.run(["sox", "-D", str(wav), "-t", "raw", "-r", "8000", "-c", "1", "-b", "16",
                              "-e", "signed-integer", "-L", "-"], check=True, capture_output=True).stdout
    return np.frombuffer(raw, "<i2").astype(np.float64)


def make_clip() -> np.ndarray:
    rng = np.random.default_rng(SEED)

    def ms(n: int) -> int:
        return n * SAMPLE_RATE // 1000

    noise = 30.0 * rng.standard_normal(ms(500))
    t = np.arange(ms(400)) / SAMPLE_RATE
    tone = 3000.0 * np.sin(2 * np.pi * 450.0 * t)
    parts = [
        np.zeros(ms(300)),
        espeak("en", "Please hold, checking your account"),
        noise,
        tone,
        np.zeros(ms(100)),
        espeak("cmn-latn-pinyin", "qing3 shu1 ru4 mi4 ma3"),
    ]
    x = np.concatenate(parts)[:SAMPLES]
    x = np.pad(x, (0, SAMPLES - len(x)))
    return np.clip(np.round(x), -32768, 32767).astype("<i2")


def wrong_outputs() -> bytes:
    """Silero's inputs and output names, but `output` passes the window through: [1, 288]."""
    def info(name: str, shape: list[int]) -> onnx.ValueInfoProto:
        return helper.make_tensor_value_info(name, TensorProto.FLOAT, shape)

    graph = helper.make_graph(
        [helper.make_node("Identity", ["input"], ["output"]), helper.make_node("Identity", ["state"], ["stateN"])],
        "wrong_outputs", [info("input", [1, 288]), info("state", [2, 1, 128])],
        [info("output", [1, 288]), info("stateN", [2, 1, 128])])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 16)], producer_name="silero_golden.py")
    model.ir_version = 8
    return model.SerializeToString(deterministic=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model-dir", type=Path, required=True, help=f"installed silero-vad (holds {SOURCE})")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--reuse-clip", action="store_true", help=f"keep the existing {CLIP}")
    args = parser.parse_args(argv)
    source = args.model_dir / SOURCE
    if sha256_of(source) != SOURCE_SHA256:
        print(f"silero_golden.py: error: {source}: not the pinned silero-vad 6.2.3 graph", file=sys.stderr)
        return 1
    args.out.mkdir(parents=True, exist_ok=True)
    if args.reuse_clip:
        clip = np.fromfile(args.out / CLIP, "<i2")
        if len(clip) != SAMPLES:
            print(f"silero_golden.py: error: {CLIP} holds {len(clip)} samples, {SAMPLES} expected", file=sys.stderr)
            return 1
    else:
        clip = make_clip()
        clip.tofile(args.out / CLIP)
    signal = (clip.astype(np.float32) / 32768.0).astype(np.float32)
    probs, _ = run_stream(onnx.load(str(source)), signal, with_sr=True)
    probs.astype("<f4").tofile(args.out / PROBS)
    (args.out / WRONG).write_bytes(wrong_outputs())
    above = int((probs >= 0.5).sum())
    print(f"{args.out / CLIP}: {len(clip)} samples, sha256 {hashlib.sha256(clip.tobytes()).hexdigest()}")
    print(f"{args.out / PROBS}: {len(probs)} chunks, {above} at or above 0.5, max {probs.max():.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
