#!/usr/bin/env python3
"""Golden data for firmware/tts/tests/tts_kokoro_golden.rs.

    kokoro_golden.py --model-dir /var/lib/yingda/models/kokoro-82m \
                     --out firmware/tts/tests/data/kokoro

For a fixed Mandarin and a fixed English phoneme string (misaki format, below) this runs
onnxruntime, one thread, on

* the ORIGINAL int8 graph (kokoro-v1.0.int8.onnx): durations and audio, written as
  `<case>.original.wav` (24 kHz G.711 mu-law, 1 byte a sample, to stay small);
* the CONVERTED graphs (kokoro-text.onnx, alignment in numpy, kokoro-audio.onnx), i.e.
  exactly what the Rust runner executes under tract: durations and audio, written as
  `<case>.converted.wav` (24 kHz 16-bit PCM),

and `cases.json` with tokens, style row, both duration lists and the numbers below.

Why two references: the original graph quantises every activation to uint8 on the fly
(DynamicQuantizeLinear, and inside DynamicQuantizeLSTM at every time step), so it is chaotic
in its last bits. Perturbing the style vector by one float ulp changes its own audio to a
waveform SNR of ~7-20 dB (`ort_self_snr_db` below), and pre-rounding durations by up to
0.01 frame. No other runtime can match it sample for sample; the converter runs the same
int8 weights in f32 instead (tools/models/convert_kokoro.py). The Rust test therefore
checks tract against the converted graphs tightly (durations equal, waveform SNR) and
against the original loosely (durations within a frame, band-energy distance), reporting
the waveform SNR of both.

Phoneme strings: misaki 0.9.4 (`misaki.zh.ZHG2P()`; its `ordered_set` dependency is not in
the pinned environment, a 10-line stand-in was used once) for the Mandarin text
请稍候，正在为您转接人工服务。 and, from misaki's us_gold lexicon by hand, English
"Please hold while we connect you." They are frozen here so the data does not depend on
the front end.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort

sys.path.insert(0, str(Path(__file__).resolve().parent))
from convert_kokoro import real_frames  # noqa: E402

CASES = [
    {"name": "zh", "text": "请稍候，正在为您转接人工服务。",
     "phonemes": "ʨʰi↓ŋ ʂau→xou↘, ꭧə↘ŋʦai↘ wei↘ ni↗n ꭧwa↓nʨje→ ɻə↗nkʊ→ŋ fu↗u↘.",
     "voice": "zf_xiaoxiao", "speed": 1.0},
    {"name": "en", "text": "Please hold while we connect you.",
     "phonemes": "plˈiz hˈOld wˌIl wi kənˈɛkt ju.",
     "voice": "af_heart", "speed": 1.0},
]
DURATIONS = "/encoder/Cast_output_0"


def session(model: bytes | str) -> ort.InferenceSession:
    so = ort.SessionOptions()
    so.intra_op_num_threads = 1
    so.inter_op_num_threads = 1
    so.log_severity_level = 3
    return ort.InferenceSession(model, so, providers=["CPUExecutionProvider"])


def ulaw_encode(x: np.ndarray) -> np.ndarray:
    """G.711 mu-law of 16-bit samples (the segment/quantisation rules of ITU-T G.711)."""
    s = x.astype(np.int32)
    sign = np.where(s < 0, 0x00, 0x80)
    mag = np.minimum(np.abs(s), 32635) + 0x84
    exp = np.floor(np.log2(mag)).astype(np.int32) - 7
    exp = np.clip(exp, 0, 7)
    mant = (mag >> (exp + 3)) & 0x0F
    return (~(sign | (exp << 4) | mant) & 0xFF).astype(np.uint8)


def wav_bytes(rate: int, tag: int, bits: int, data: bytes) -> bytes:
    block = bits // 8
    fmt = (tag.to_bytes(2, "little") + (1).to_bytes(2, "little") + rate.to_bytes(4, "little")
           + (rate * block).to_bytes(4, "little") + block.to_bytes(2, "little") + bits.to_bytes(2, "little"))
    body = b"WAVE" + b"fmt " + len(fmt).to_bytes(4, "little") + fmt + b"data" + len(data).to_bytes(4, "little") + data
    if len(data) % 2:
        body += b"\0"
    return b"RIFF" + len(body).to_bytes(4, "little") + body


def to_i16(audio: np.ndarray) -> np.ndarray:
    return np.clip(np.round(audio.astype(np.float64) * 32767.0), -32768, 32767).astype(np.int16)


def snr_db(ref: np.ndarray, got: np.ndarray) -> float:
    n = min(len(ref), len(got))
    ref, got = ref[:n].astype(np.float64), got[:n].astype(np.float64)
    return float(10 * np.log10(np.sum(ref ** 2) / max(np.sum((ref - got) ** 2), 1e-30)))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model-dir", type=Path, required=True)
    parser.add_argument("--out", type=Path)
    parser.add_argument("--bench", metavar="JSON",
                        help='time onnxruntime instead: [["name", "phonemes", "voice"], ...]; prints JSON lines')
    args = parser.parse_args(argv)
    if args.bench:
        return bench(args.model_dir, json.loads(args.bench))
    if args.out is None:
        parser.error("--out is required")
    d = args.model_dir
    vocab = json.loads((d / "vocab.json").read_text(encoding="utf-8"))["vocab"]
    original = onnx.load(str(d / "kokoro-v1.0.int8.onnx"))
    original.graph.output.append(onnx.helper.make_tensor_value_info(DURATIONS, onnx.TensorProto.INT64, None))
    orig = session(original.SerializeToString())
    text = session(str(d / "kokoro-text.onnx"))
    audio = session(str(d / "kokoro-audio.onnx"))
    args.out.mkdir(parents=True, exist_ok=True)
    out = []
    for case in CASES:
        ids = [vocab[c] for c in case["phonemes"]]
        pack = np.fromfile(d / "voices" / f"{case['voice']}.bin", dtype=np.float32).reshape(510, 256)
        row = len(ids) - 1  # hexgrad/kokoro: pack[len(phonemes) - 1]
        feed = {"tokens": np.array([[0] + ids + [0]], np.int64), "style": pack[row][None, :].copy(),
                "speed": np.array([case["speed"]], np.float32)}
        a_orig, d_orig = orig.run(["audio", DURATIONS], feed)
        nudged = dict(feed, style=(feed["style"] * np.float32(1 + 2 ** -23)).astype(np.float32))
        a_nudged, _ = orig.run(["audio", DURATIONS], nudged)
        d_conv, prosody, feats = text.run(["durations", "prosody", "text"], feed)
        idx = np.repeat(np.arange(d_conv.shape[1]), d_conv[0])
        (a_conv,) = audio.run(["audio"], {"prosody_aligned": prosody[:, :, idx], "text_aligned": feats[:, :, idx],
                                          "style": feed["style"], **real_frames(len(idx), len(idx))})
        name = case["name"]
        (args.out / f"{name}.original.wav").write_bytes(wav_bytes(24000, 7, 8, ulaw_encode(to_i16(a_orig)).tobytes()))
        (args.out / f"{name}.converted.wav").write_bytes(wav_bytes(24000, 1, 16, to_i16(a_conv).astype("<i2").tobytes()))
        entry = dict(case)
        entry.update({
            "tokens": feed["tokens"][0].tolist(),
            "style_row": row,
            "original": {"durations": d_orig[0].tolist(), "samples": int(len(a_orig)),
                         "ort_self_snr_db": round(snr_db(a_orig, a_nudged), 1)},
            "converted": {"durations": d_conv[0].tolist(), "samples": int(len(a_conv)),
                          "snr_vs_original_db": round(snr_db(a_orig, a_conv), 1),
                          "durations_differing": int(np.sum(d_orig != d_conv)) if d_orig.shape == d_conv.shape else -1},
        })
        out.append(entry)
        print(f"{name}: {len(ids)} phonemes, {len(a_orig) / 24000:.2f} s; converted vs original: "
              f"{entry['converted']['durations_differing']} durations differ, waveform SNR "
              f"{entry['converted']['snr_vs_original_db']} dB; original vs itself with style*(1+ulp): "
              f"{entry['original']['ort_self_snr_db']} dB")
    lines = ",\n".join(json.dumps(c, ensure_ascii=False) for c in out)
    (args.out / "cases.json").write_text(f"[\n{lines}\n]\n", encoding="utf-8")
    return 0


def bench(d: Path, prompts: list) -> int:
    """onnxruntime, one thread, on the original int8 graph and on the converted f32 graphs:
    best of 3 runs, real-time factor, peak RSS. For firmware/tts/benches/kokoro.rs."""
    import resource
    import time
    vocab = json.loads((d / "vocab.json").read_text(encoding="utf-8"))["vocab"]
    t0 = time.perf_counter()
    orig = session(str(d / "kokoro-v1.0.int8.onnx"))
    load_orig = time.perf_counter() - t0
    text = session(str(d / "kokoro-text.onnx"))
    audio = session(str(d / "kokoro-audio.onnx"))
    for name, phonemes, voice in prompts:
        ids = [vocab[c] for c in phonemes]
        pack = np.fromfile(d / "voices" / f"{voice}.bin", dtype=np.float32).reshape(510, 256)
        feed = {"tokens": np.array([[0] + ids + [0]], np.int64), "style": pack[len(ids) - 1][None, :].copy(),
                "speed": np.array([1.0], np.float32)}
        best = float("inf")
        for _ in range(3):
            t0 = time.perf_counter()
            (wave,) = orig.run(["audio"], feed)
            best = min(best, time.perf_counter() - t0)
        best_conv = float("inf")
        for _ in range(2):
            t0 = time.perf_counter()
            dur, prosody, feats = text.run(["durations", "prosody", "text"], feed)
            idx = np.repeat(np.arange(dur.shape[1]), dur[0])
            audio.run(["audio"], {"prosody_aligned": prosody[:, :, idx], "text_aligned": feats[:, :, idx],
                                  "style": feed["style"], **real_frames(len(idx), len(idx))})
            best_conv = min(best_conv, time.perf_counter() - t0)
        seconds = len(wave) / 24000
        print(json.dumps({"name": name, "audio_s": seconds, "int8_s": best, "int8_rtf": best / seconds,
                          "converted_f32_s": best_conv, "converted_f32_rtf": best_conv / seconds,
                          "load_int8_s": load_orig,
                          "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
