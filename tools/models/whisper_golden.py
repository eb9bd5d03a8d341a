#!/usr/bin/env python3
"""Test clips, accuracy table and golden vectors for the Whisper ONNX conversion.

    whisper_golden.py clips --out DIR
        20 IVR sentences (10 en, 10 zh) spoken by espeak-ng, band-passed 300-3400 Hz and
        resampled to 8 kHz 16-bit mono by sox: DIR/<id>.wav and DIR/refs.tsv (id, lang, text).
    whisper_golden.py eval --model-dir DIR --clips DIR [--suffixes .int8 .f16 .f32]
        transcribes every clip with onnxruntime for each weights variant (encoder{S}.onnx)
        and with ctranslate2 float32 and int8; prints file sizes, WER (en, words) and CER
        (zh, characters), whether ort tokens equal ct2 float32 tokens, and timings.
    whisper_golden.py golden --model-dir DIR --out firmware/speech/tests/data/whisper
        the golden cases (one en, one zh clip < 3 s): audio_8k.wav, mel.f32le, golden.json,
        from DIR/encoder.onnx + DIR/decoder.onnx (the default weights) under onnxruntime.

espeak-ng (GPL-3) only makes test audio here; it is never linked or shipped. Runs in the
tools' venv (tools/models/pyenv.sh); needs espeak-ng and sox on PATH for `clips`/`golden`.
"""
from __future__ import annotations

import argparse
import json
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import convert_whisper  # noqa: E402
import whisper_ref as ref  # noqa: E402

# (id, lang, reference text, what espeak-ng speaks)
CLIPS = [
    ("en01", "en", "Please enter your account number followed by the pound key.", None),
    ("en02", "en", "Your current balance is two hundred and fifty dollars.", None),
    ("en03", "en", "Press one for appointments, press two for billing.", None),
    ("en04", "en", "I would like to speak to an operator.", None),
    ("en05", "en", "Your appointment is confirmed for Monday at ten o'clock.", None),
    ("en06", "en", "Please hold while we transfer your call.", None),
    ("en07", "en", "I want to check my credit card payment.", None),
    ("en08", "en", "Thank you for calling, goodbye.", None),
    ("en09", "en", "Please say yes or no.", None),
    ("en10", "en", "The pharmacy is open from nine to five.", None),
    ("zh01", "zh", "请输入您的账号", "qing3 shu1 ru4 nin2 de5 zhang4 hao4"),
    ("zh02", "zh", "我要查询余额", "wo3 yao4 cha2 xun2 yu2 e2"),
    ("zh03", "zh", "我想预约挂号", "wo3 xiang3 yu4 yue1 gua4 hao4"),
    ("zh04", "zh", "请转人工服务", "qing3 zhuan3 ren2 gong1 fu2 wu4"),
    ("zh05", "zh", "您的预约已经确认", "nin2 de5 yu4 yue1 yi3 jing1 que4 ren4"),
    ("zh06", "zh", "谢谢您的来电", "xie4 xie4 nin2 de5 lai2 dian4"),
    ("zh07", "zh", "我要办理信用卡", "wo3 yao4 ban4 li3 xin4 yong4 ka3"),
    ("zh08", "zh", "明天上午十点", "ming2 tian1 shang4 wu3 shi2 dian3"),
    ("zh09", "zh", "请问医院几点开门", "qing3 wen4 yi1 yuan4 ji3 dian3 kai1 men2"),
    ("zh10", "zh", "我要挂失银行卡", "wo3 yao4 gua4 shi1 yin2 hang2 ka3"),
]
GOLDEN_CASES = {"en_say_yes_or_no": "en09", "zh_check_balance": "zh02"}


# --------------------------------------------------------------------------------------
# Clips
# --------------------------------------------------------------------------------------

def speak(lang: str, said: str, out: Path) -> None:
    """espeak-ng at its own rate, then sox: 300-3400 Hz band-pass, 8 kHz, 16-bit mono."""
    with tempfile.TemporaryDirectory() as tmp:
        raw = Path(tmp) / "raw.wav"
        voice = ["-v", "en", "-s", "150"] if lang == "en" else ["-v", "cmn-latn-pinyin"]
        subprocess.run(["espeak-ng", *voice, "-w", str(raw), said], check=True)
        subprocess.run(["sox", "-R", str(raw), "-D", "-b", "16", "-c", "1", str(out),
                        "sinc", "300-3400", "rate", "8000"], check=True)


def make_clips(out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    rows = []
    for cid, lang, text, said in CLIPS:
        speak(lang, said or text, out / f"{cid}.wav")
        rows.append(f"{cid}\t{lang}\t{text}")
    (out / "refs.tsv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    print(f"{len(rows)} clips in {out}")


# --------------------------------------------------------------------------------------
# Accuracy
# --------------------------------------------------------------------------------------

def edit_distance(a: list, b: list) -> int:
    d = list(range(len(b) + 1))
    for i, x in enumerate(a, 1):
        prev, d[0] = d[0], i
        for j, y in enumerate(b, 1):
            prev, d[j] = d[j], min(d[j] + 1, d[j - 1] + 1, prev + (x != y))
    return d[len(b)]


def units(text: str, lang: str) -> list[str]:
    """en: lower-case words without punctuation; zh: CJK characters only."""
    if lang == "en":
        return re.findall(r"[a-z0-9']+", text.lower())
    return re.findall(r"[\u3400-\u9fff]", text)


def error_rate(pairs: list[tuple[str, str]], lang: str) -> float:
    errors = sum(edit_distance(units(r, lang), units(h, lang)) for r, h in pairs)
    return errors / max(1, sum(len(units(r, lang)) for r, _ in pairs))


def run_engine(engine, tok, clips: list[tuple[str, str, Path]]) -> dict[str, dict]:
    return {cid: ref.transcribe(engine, tok, path, lang, True) for cid, lang, path in clips}


def evaluate(model_dir: Path, clip_dir: Path, suffixes: list[str]) -> None:
    refs = {}
    for line in (clip_dir / "refs.tsv").read_text(encoding="utf-8").splitlines():
        cid, lang, text = line.split("\t")
        refs[cid] = (lang, text)
    clips = [(cid, lang, clip_dir / f"{cid}.wav") for cid, (lang, _) in refs.items()]
    tok = ref.Tokenizer(model_dir)
    results: dict[str, dict[str, dict]] = {}
    for compute in ("float32", "int8"):
        results[f"ct2 {compute}"] = run_engine(ref.Ct2Whisper(model_dir, compute), tok, clips)
    for s in suffixes:
        results[f"ort {s or 'default'}"] = run_engine(ref.OrtWhisper(model_dir, s), tok, clips)

    exact = results["ct2 float32"]
    print("| engine | weights size (enc + dec) | en WER | zh CER | tokens = ct2 float32 |"
          " mean ms encode | mean ms decode |")
    print("|---|---|---|---|---|---|---|")
    for name, res in results.items():
        if name.startswith("ort"):
            s = name.split(" ", 1)[1]
            s = "" if s == "default" else s
            size = sum((model_dir / f"{p}{s}.onnx").stat().st_size for p in ("encoder", "decoder"))
            size_s = f"{size / 1e6:.1f} MB"
        else:
            size_s = f"model.bin {(model_dir / 'model.bin').stat().st_size / 1e6:.1f} MB"
        rates = []
        for lang in ("en", "zh"):
            pairs = [(refs[c][1], res[c]["text"]) for c in res if refs[c][0] == lang]
            rates.append(error_rate(pairs, lang))
        same = sum(res[c]["tokens"] == exact[c]["tokens"] for c in res)
        enc = np.mean([r["ms_encode"] for r in res.values()])
        dec = np.mean([r["ms_decode"] for r in res.values()])
        print(f"| {name} | {size_s} | {rates[0]:.3f} | {rates[1]:.3f} | {same}/{len(res)} |"
              f" {enc:.1f} | {dec:.1f} |")
    print()
    for cid, (lang, text) in refs.items():
        print(f"{cid} ref: {text}")
        for name, res in results.items():
            print(f"    {name:>12}: {res[cid]['text']}")


# --------------------------------------------------------------------------------------
# Golden vectors
# --------------------------------------------------------------------------------------

def write_golden(model_dir: Path, out: Path) -> None:
    engine = ref.OrtWhisper(model_dir)
    tok = ref.Tokenizer(model_dir)
    weights = weights_of(model_dir / "decoder.onnx")
    for case, cid in GOLDEN_CASES.items():
        _, lang, text, said = next(c for c in CLIPS if c[0] == cid)
        folder = out / case
        folder.mkdir(parents=True, exist_ok=True)
        wav = folder / "audio_8k.wav"
        speak(lang, said or text, wav)
        mel = ref.log_mel(ref.audio_16k(wav))
        assert mel.shape[1] <= 300, f"{case}: {mel.shape[1]} frames, want a clip under 3 s"
        mel.astype("<f4").tofile(folder / "mel.f32le")
        ck, cv = engine.encode(mel)
        prompt = ref.prompt_tokens(tok, lang)
        first: list[np.ndarray] = []
        tokens = engine.greedy((ck, cv), prompt, first)
        logits = first[0]
        top = np.argsort(-logits, kind="stable")[:10]
        golden = {
            "frames": int(mel.shape[1]),
            "lang": lang,
            "prompt": prompt,
            "tokens": tokens,
            "text": tok.decode(tokens),
            "reference_text": text,
            "step0_top": [[int(i), round(float(logits[i]), 5)] for i in top],
            "cross_k_first": [round(float(v), 6) for v in ck[0, 0, 0, :16]],
            "cross_k_sum": float(np.sum(ck[0], dtype=np.float64)),
            "cross_v_sum": float(np.sum(cv[5], dtype=np.float64)),
            "weights": weights,
        }
        lines = [f"  {json.dumps(k)}: {json.dumps(v, ensure_ascii=False)}" for k, v in golden.items()]
        (folder / "golden.json").write_text("{\n" + ",\n".join(lines) + "\n}\n", encoding="utf-8")
        print(f"{case}: T={mel.shape[1]}, text {golden['text']!r}")


def weights_of(decoder: Path) -> str:
    """The weights mode written into decoder.onnx's doc string by convert_whisper.py."""
    import onnx

    doc = onnx.load(str(decoder), load_external_data=False).doc_string
    mode = doc.rsplit(" ", 1)[-1]
    assert mode in convert_whisper.WEIGHT_MODES, doc
    return mode


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    c = sub.add_parser("clips")
    c.add_argument("--out", type=Path, required=True)
    e = sub.add_parser("eval")
    e.add_argument("--model-dir", type=Path, required=True)
    e.add_argument("--clips", type=Path, required=True)
    e.add_argument("--suffixes", nargs="+", default=[".int8", ".f16", ".f32"])
    g = sub.add_parser("golden")
    g.add_argument("--model-dir", type=Path, required=True)
    g.add_argument("--out", type=Path, required=True)
    args = ap.parse_args(argv)
    for tool in ("espeak-ng", "sox"):
        if args.cmd != "eval" and shutil.which(tool) is None:
            ap.error(f"{tool} is not on PATH")
    if args.cmd == "clips":
        make_clips(args.out)
    elif args.cmd == "eval":
        evaluate(args.model_dir, args.clips, args.suffixes)
    else:
        write_golden(args.model_dir, args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
