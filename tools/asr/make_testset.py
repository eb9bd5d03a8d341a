#!/usr/bin/env python3
"""Build the IVR speech test set: utterances synthesised by espeak-ng (and, when installed,
the box's own Kokoro voices via `yingda-diag tts`), passed through a telephone channel.

    PY=$(tools/models/pyenv.sh); $PY tools/asr/make_testset.py --out target/asr-testset

Channel: synthesis → 8 kHz → band-pass 300–3400 Hz (sox sinc) → white noise at a fixed
SNR (seeded, so the set is the same on every machine) → A-law encode/decode (sox). Output:
OUT/<id>.wav (8 kHz 16-bit mono) and OUT/testset.jsonl, one object per utterance:
{"id", "file", "lang", "voice", "text" (reference transcript), "grammar" (grammar file or
null), "label" (expected grammar label or null), "digits" (expected digits or null)} and
OUT/grammars/*.txt in the flows' grammar format. espeak-ng is GPL-3 and is only run here,
as a separate program, to make test audio.
"""
from __future__ import annotations

import argparse
import json
import subprocess
import tempfile
import wave
from pathlib import Path

import numpy as np
from pypinyin import Style, lazy_pinyin

GRAMMARS = {
    "dept_zh": [
        ("口腔科", ["口腔科", "牙科"]),
        ("妇产科", ["妇产科"]),
        ("儿科", ["儿科", "小儿科"]),
        ("内科", ["内科"]),
        ("外科", ["外科"]),
        ("眼科", ["眼科"]),
        ("皮肤科", ["皮肤科"]),
        ("急诊", ["急诊", "急诊科"]),
    ],
    "yesno_zh": [
        ("yes", ["是的", "对", "好的", "确认"]),
        ("no", ["不是", "不对", "不要", "取消"]),
    ],
    "bank_zh": [
        ("balance", ["余额查询", "查余额"]),
        ("lost", ["挂失", "银行卡丢了"]),
        ("agent", ["人工服务", "转人工"]),
        ("transfer", ["转账"]),
    ],
    "dept_en": [
        ("dentistry", ["dentistry", "dentist", "dental"]),
        ("pediatrics", ["pediatrics", "children"]),
        ("cardiology", ["cardiology", "heart"]),
        ("emergency", ["emergency"]),
        ("eye", ["eye clinic", "ophthalmology"]),
    ],
    "yesno_en": [
        ("yes", ["yes", "yeah", "correct"]),
        ("no", ["no", "wrong", "cancel"]),
    ],
    "bank_en": [
        ("balance", ["balance", "check my balance"]),
        ("lost", ["lost card", "report a lost card"]),
        ("agent", ["agent", "operator"]),
    ],
}

CARRIERS = {
    "zh": ["{}", "我想看{}", "帮我挂{}的号", "{}，谢谢"],
    "en": ["{}", "I'd like {} please", "{}, please", "um, {}"],
}
CARRIERS_SHORT = {"zh": ["{}", "嗯，{}"], "en": ["{}", "uh, {}"]}

OPEN = {
    "zh": [
        "您好，我想预约明天上午的门诊。",
        "请问检查结果什么时候能出来？",
        "我的银行卡丢了，需要马上挂失。",
        "我想查询一下账户余额。",
        "医院的停车场在什么地方？",
        "请帮我转接护士站。",
        "下周二下午有没有专家号？",
        "我要投诉，你们的服务太慢了。",
    ],
    "en": [
        "I would like to make an appointment for tomorrow morning.",
        "When will my test results be ready?",
        "I lost my bank card and need to block it.",
        "Please transfer me to the nurse station.",
        "What are your opening hours on Saturday?",
        "I want to check the balance of my savings account.",
        "Can I speak to someone about my bill?",
        "Where is the parking lot of the hospital?",
    ],
}

DIGITS = {
    "zh": [("幺三八零零一三八零零零", "13800138000"), ("六二二二零二一二三四", "6222021234"),
           ("三三零一零六", "330106")],
    "en": [("one three eight double zero one three eight", "13800138"),
           ("six two two two zero two", "622202"), ("four five six seven", "4567")],
}

VOICES = {"zh": ["cmn-latn-pinyin", "cmn-latn-pinyin+f3"], "en": ["en-us", "en-gb+f3"]}


def to_pinyin(text: str) -> str:
    """Tone-numbered pinyin for espeak-ng's cmn-latn-pinyin voice (5 = neutral)."""
    out = []
    for syl in lazy_pinyin(text, style=Style.TONE3, neutral_tone_with_five=True, errors="ignore"):
        out.append(syl)
    return " ".join(out)


def espeak(text: str, lang: str, voice: str, path: Path, speed: int) -> None:
    say = to_pinyin(text) if lang == "zh" else text
    subprocess.run(["espeak-ng", "-v", voice, "-s", str(speed), "-w", str(path), say],
                   check=True, capture_output=True)


def telephone(src: Path, dst: Path, rng: np.random.Generator, snr_db: float) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        band = Path(tmp) / "band.wav"
        subprocess.run(["sox", "-D", str(src), "-r", "8000", "-c", "1", "-b", "16", str(band),
                        "sinc", "300-3400", "norm", "-6"], check=True, capture_output=True)
        with wave.open(str(band)) as w:
            x = np.frombuffer(w.readframes(w.getnframes()), dtype="<i2").astype(np.float64)
        # 200 ms of silence either side, as an endpointer would cut it.
        pad = np.zeros(1600)
        x = np.concatenate([pad, x, pad])
        power = np.mean(x[1600:-1600] ** 2) if len(x) > 3200 else np.mean(x ** 2)
        noise = rng.normal(0.0, np.sqrt(power / 10 ** (snr_db / 10)), len(x))
        y = np.clip(np.round(x + noise), -32768, 32767).astype("<i2")
        noisy = Path(tmp) / "noisy.wav"
        with wave.open(str(noisy), "wb") as w:
            w.setnchannels(1)
            w.setsampwidth(2)
            w.setframerate(8000)
            w.writeframes(y.tobytes())
        alaw = Path(tmp) / "alaw.wav"
        subprocess.run(["sox", "-D", str(noisy), "-e", "a-law", str(alaw)], check=True)
        subprocess.run(["sox", "-D", str(alaw), "-e", "signed-integer", "-b", "16", str(dst)], check=True)


def write_grammars(out: Path) -> None:
    gdir = out / "grammars"
    gdir.mkdir(parents=True, exist_ok=True)
    for name, options in GRAMMARS.items():
        lines = [f"{label}: {' | '.join(phrases)}" for label, phrases in options]
        (gdir / f"{name}.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--snr-db", type=float, default=25.0)
    ap.add_argument("--seed", type=int, default=20261122)
    ap.add_argument("--quick", action="store_true", help="a small subset for CI")
    args = ap.parse_args()
    out = args.out
    out.mkdir(parents=True, exist_ok=True)
    write_grammars(out)
    rng = np.random.default_rng(args.seed)
    items = []

    def add(lang, voice, speed, text, grammar=None, label=None, digits=None):
        uid = f"{len(items):04d}"
        with tempfile.TemporaryDirectory() as tmp:
            raw = Path(tmp) / "raw.wav"
            espeak(text, lang, voice, raw, speed)
            telephone(raw, out / f"{uid}.wav", rng, args.snr_db)
        items.append({"id": uid, "file": f"{uid}.wav", "lang": lang, "voice": f"espeak:{voice}",
                      "text": text, "grammar": f"grammars/{grammar}.txt" if grammar else None,
                      "label": label, "digits": digits})

    for name, options in GRAMMARS.items():
        lang = name.rsplit("_", 1)[1]
        carriers = CARRIERS_SHORT[lang] if name.startswith(("yesno", "bank")) else CARRIERS[lang]
        k = 0
        for label, phrases in options:
            for pi, phrase in enumerate(phrases):
                for ci, carrier in enumerate(carriers):
                    if args.quick and (pi > 0 or ci > 0):
                        continue
                    voice = VOICES[lang][k % len(VOICES[lang])]
                    speed = [150, 170, 135][k % 3]
                    k += 1
                    add(lang, voice, speed, carrier.format(phrase), name, label)
    for lang, texts in OPEN.items():
        for i, text in enumerate(texts[: 2 if args.quick else None]):
            add(lang, VOICES[lang][i % 2], 150, text)
    for lang, pairs in DIGITS.items():
        for i, (text, digits) in enumerate(pairs[: 1 if args.quick else None]):
            add(lang, VOICES[lang][i % 2], 140, text, digits=digits)
    with open(out / "testset.jsonl", "w", encoding="utf-8") as f:
        for it in items:
            f.write(json.dumps(it, ensure_ascii=False) + "\n")
    print(f"{len(items)} utterances in {out}")


if __name__ == "__main__":
    main()
