#!/usr/bin/env python3
"""Build the IVR speech test set: utterances synthesised by espeak-ng and by Kokoro-82M
(the box's own voices, zf_*/zm_* and af_*/am_*/bf_*/bm_*), passed through a telephone channel.

    PY=$(tools/models/pyenv.sh); $PY tools/asr/make_testset.py --out target/asr-testset

Channel: synthesis → 8 kHz → band-pass 300–3400 Hz (sox sinc) → white noise at a fixed
SNR (seeded per utterance, so the set is the same on every machine and does not change when
another part is added) → A-law encode/decode (sox, `-D`: no random dither). Output:
OUT/<id>.wav (8 kHz 16-bit mono) and OUT/testset.jsonl, one object per utterance:
{"id", "file", "lang", "voice" (`espeak:<voice>` or `kokoro:<voice>`), "text" (reference
transcript), "grammar" (grammar file or null), "label" (expected grammar label; null with a
grammar means the utterance is out of grammar and must give no match), "digits" (expected
digits or null)} and OUT/grammars/*.txt in the flows' grammar format.

Kokoro runs under onnxruntime (one thread, so it repeats bit for bit) on the installed int8
graph (`--kokoro-dir`, default $YINGDA_MODELS_DIR or /var/lib/yingda/models, `/kokoro-82m`);
its phonemes come from misaki's Mandarin G2P (what Kokoro v1.0 was trained on) and, for
English, from misaki's us_gold/us_silver lexicons word by word (the test sentences are all in
them; misaki's English G2P needs spaCy, which the pinned environment does not have). When the
model is not installed the Kokoro part is skipped with a warning.

espeak-ng is GPL-3 and is only run here, as a separate program, to make test audio.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import tempfile
import wave
from pathlib import Path

import re

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
    "menu_zh": [
        ("bill", ["话费查询", "查话费"]),
        ("repair", ["宽带报修", "网络坏了"]),
        ("plan", ["套餐办理", "换套餐"]),
        ("agent", ["人工", "转人工"]),
    ],
    "menu_en": [
        ("billing", ["billing", "pay my bill"]),
        ("support", ["technical support", "my internet is down"]),
        ("sales", ["sales", "new plan"]),
        ("agent", ["representative", "talk to a person"]),
    ],
}

# Said to a grammar that does not hold it: the answer must be no match.
OUT_OF_GRAMMAR = {
    "dept_zh": ["今天天气怎么样", "我要找王经理", "停车场在哪里"],
    "yesno_zh": ["我再想一想", "你们几点下班"],
    "bank_zh": ["我想买基金", "信用卡还款"],
    "menu_zh": ["我要订机票", "明天会下雨吗"],
    "dept_en": ["what is the weather like today", "where is the parking lot"],
    "yesno_en": ["let me think about it", "what time do you close"],
    "bank_en": ["I want to buy a house", "what is the exchange rate"],
    "menu_en": ["I'd like to book a flight", "is it going to rain tomorrow"],
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
        "When will my test result be ready?",
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
           ("三三零一零六", "330106"), ("两零两六", "2026"), ("我的卡号是六二二八四八", "622848"),
           ("零幺零，八八八八，六六六六", "01088886666")],
    "en": [("one three eight double zero one three eight", "13800138"),
           ("six two two two zero two", "622202"), ("four five six seven", "4567"),
           ("oh two one, five five five, triple seven", "021555777"),
           ("nine oh five double one", "90511"), ("my number is eight six four two", "8642")],
}

VOICES = {"zh": ["cmn-latn-pinyin", "cmn-latn-pinyin+f3"], "en": ["en-us", "en-gb+f3"]}
KOKORO_VOICES = {
    "zh": ["zf_xiaobei", "zm_yunjian", "zf_xiaoni", "zm_yunxi", "zf_xiaoxiao", "zm_yunxia",
           "zf_xiaoyi", "zm_yunyang"],
    "en": ["af_heart", "am_michael", "bf_emma", "af_bella", "bm_george"],
}


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


class Kokoro:
    """Kokoro-82M int8 under onnxruntime, one thread, with misaki's phonemes."""

    def __init__(self, model_dir: Path):
        import onnxruntime as ort
        from misaki import zh
        so = ort.SessionOptions()
        so.intra_op_num_threads = 1
        so.inter_op_num_threads = 1
        so.log_severity_level = 3
        self.dir = model_dir
        self.session = ort.InferenceSession(str(model_dir / "kokoro-v1.0.int8.onnx"), so,
                                            providers=["CPUExecutionProvider"])
        self.vocab = json.loads((model_dir / "vocab.json").read_text(encoding="utf-8"))["vocab"]
        self.zh = zh.ZHG2P()
        import misaki
        data = Path(misaki.__file__).parent / "data"
        self.lexicon = {}
        for name in ("us_silver.json", "us_gold.json"):
            self.lexicon.update(json.loads((data / name).read_text(encoding="utf-8")))

    def en_phonemes(self, text: str) -> str:
        words = []
        for token in re.findall(r"[A-Za-z']+|[,.?!]", text):
            if token in ",.?!":
                if words:
                    words[-1] += token
                continue
            entry = None
            for key in (token, token.lower(), token.capitalize()):
                entry = self.lexicon.get(key)
                if entry is not None:
                    break
            if entry is None:
                raise SystemExit(f"kokoro: {token!r} is not in misaki's lexicon; reword {text!r}")
            words.append(entry["DEFAULT"] if isinstance(entry, dict) else entry)
        return " ".join(words)

    def say(self, text: str, lang: str, voice: str, speed: float, path: Path) -> None:
        phonemes = self.zh(text)[0] if lang == "zh" else self.en_phonemes(text)
        ids = [self.vocab[c] for c in phonemes if c in self.vocab]
        pack = np.fromfile(self.dir / "voices" / f"{voice}.bin", dtype=np.float32).reshape(510, 256)
        feed = {"tokens": np.array([[0] + ids + [0]], np.int64), "style": pack[len(ids) - 1][None, :].copy(),
                "speed": np.array([speed], np.float32)}
        (audio,) = self.session.run(["audio"], feed)
        pcm = np.clip(np.round(audio.astype(np.float64) * 32767.0), -32768, 32767).astype("<i2")
        with wave.open(str(path), "wb") as w:
            w.setnchannels(1)
            w.setsampwidth(2)
            w.setframerate(24000)
            w.writeframes(pcm.tobytes())


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
    ap.add_argument("--kokoro-dir", type=Path,
                    default=Path(os.environ.get("YINGDA_MODELS_DIR", "/var/lib/yingda/models")) / "kokoro-82m")
    ap.add_argument("--no-kokoro", action="store_true", help="espeak-ng only")
    args = ap.parse_args()
    out = args.out
    out.mkdir(parents=True, exist_ok=True)
    write_grammars(out)
    kokoro = None
    if not args.no_kokoro:
        if (args.kokoro_dir / "kokoro-v1.0.int8.onnx").exists():
            kokoro = Kokoro(args.kokoro_dir)
        else:
            print(f"warning: no Kokoro model in {args.kokoro_dir}; espeak-ng part only")
    items = []

    def add(engine, lang, voice, speed, text, grammar=None, label=None, digits=None):
        uid = f"{engine[0]}{len(items):04d}"
        # One generator per utterance: the noise of an item never depends on the others.
        rng = np.random.default_rng([args.seed, len(items)])
        with tempfile.TemporaryDirectory() as tmp:
            raw = Path(tmp) / "raw.wav"
            if engine == "espeak":
                espeak(text, lang, voice, raw, speed)
            else:
                kokoro.say(text, lang, voice, speed, raw)
            telephone(raw, out / f"{uid}.wav", rng, args.snr_db)
        items.append({"id": uid, "file": f"{uid}.wav", "lang": lang, "voice": f"{engine}:{voice}",
                      "text": text, "grammar": f"grammars/{grammar}.txt" if grammar else None,
                      "label": label, "digits": digits})

    engines = [("espeak", VOICES, [150, 170, 135])]
    if kokoro is not None:
        engines.append(("kokoro", KOKORO_VOICES, [1.0, 1.1, 0.9]))
    for engine, voices, speeds in engines:
        k = 0

        def next_voice(lang):
            nonlocal k
            v = (voices[lang][k % len(voices[lang])], speeds[k % len(speeds)])
            k += 1
            return v

        for name, options in GRAMMARS.items():
            lang = name.rsplit("_", 1)[1]
            short = name.startswith(("yesno", "bank", "menu"))
            carriers = CARRIERS_SHORT[lang] if short else CARRIERS[lang]
            for label, phrases in options:
                for pi, phrase in enumerate(phrases):
                    for ci, carrier in enumerate(carriers):
                        if args.quick and (pi > 0 or ci > 0):
                            continue
                        # Kokoro: every phrase, half the carriers (rotating), to keep synthesis short.
                        if engine == "kokoro" and (ci + pi) % 2:
                            continue
                        voice, speed = next_voice(lang)
                        add(engine, lang, voice, speed, carrier.format(phrase), name, label)
            for text in OUT_OF_GRAMMAR[name][: 1 if args.quick else None]:
                voice, speed = next_voice(lang)
                add(engine, lang, voice, speed, text, name, None)
        for lang, texts in OPEN.items():
            for i, text in enumerate(texts[: 2 if args.quick else (None if engine == "espeak" else 4)]):
                voice, _ = next_voice(lang)
                add(engine, lang, voice, 150 if engine == "espeak" else 1.0, text)
        for lang, pairs in DIGITS.items():
            for i, (text, digits) in enumerate(pairs[: 1 if args.quick else None]):
                voice, _ = next_voice(lang)
                add(engine, lang, voice, 140 if engine == "espeak" else 1.0, text, digits=digits)
    with open(out / "testset.jsonl", "w", encoding="utf-8") as f:
        for it in items:
            f.write(json.dumps(it, ensure_ascii=False) + "\n")
    print(f"{len(items)} utterances in {out}")


if __name__ == "__main__":
    main()
