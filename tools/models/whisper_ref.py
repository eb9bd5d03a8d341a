#!/usr/bin/env python3
"""Reference Whisper recogniser for benchmarks and tests (never on the unit).

    whisper_ref.py --model-dir DIR --lang zh|en --engine ort|ct2 [--mel-from-wav]
                   [--suffix S] [--compute-type T] FILE.wav... --json

prints one JSON line per file: {"file", "text", "tokens", "ms_encode", "ms_decode",
"ms_total"} (tokens exclude the prompt and the end token; ms_total also counts the front end).

Engines, both single-threaded and fed the same features and prompt:
  ort : DIR/encoder{S}.onnx + DIR/decoder{S}.onnx (tools/models/convert_whisper.py) under
        onnxruntime, greedy with the decoder's KV cache;
  ct2 : ctranslate2 on DIR/model.bin, compute type int8 unless --compute-type says otherwise
        (float32 for the exactness check against ort), greedy (beam 1).

Front end: the WAV (8 kHz line audio, or 16 kHz) is brought to 16 kHz by `resample_2x`
(windowed-sinc, Kaiser beta 8.6, 255 taps, cut-off 3.8 kHz) and turned into Whisper's
log-mel by tools/models/mel_golden.py (`log_mel`: reflect pad, periodic Hann 400, hop 160,
slaney filterbank, log10, clamp at max - 8, (x + 4) / 4). No padding to 30 s: the mel is
the utterance; when its frame count T is odd, 160 zero samples are appended so T is even.
A WAV whose folder holds `mel.f32le` (a golden case: raw f32 [80, T]) uses that mel
unless --mel-from-wav is given. An input ending in `.f32le` is read as such a mel.

Decoding: prompt en [50258, 50259, 50359, 50363]; zh [50361] + tokens of
" 以下是普通话的句子。" + [50258, 50260, 50359, 50363] (a Simplified-Chinese previous-text
prompt, else the model often writes Traditional characters). Greedy; timestamps (>= 50364)
and every special token except the end token (50257) suppressed; stop at 50257 or after 100
tokens, or when the last n-gram (n >= 3) has just occurred three times in a row (the two
extra copies are dropped). ct2 gets the same suppression list and the same guard, applied to
its output. Text: vocabulary.txt strings through GPT-2's byte decoder, special tokens skipped; the
prompt text is encoded with the same vocabulary (tiktoken's rule: lowest-id merge first).
"""
from __future__ import annotations

import argparse
import json
import sys
import time
import unicodedata
import wave
from functools import lru_cache
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import mel_golden  # noqa: E402  (the reference front end; numpy only)

REPO = Path(__file__).resolve().parent.parent.parent
FILTERS = REPO / "firmware/speech/tests/data/mel/mel_filters_80x201.f32"

SAMPLE_RATE = 16000
MAX_FRAMES = 3000
N_VOCAB = 51865
EOT = 50257
SOT = 50258
SOT_PREV = 50361
TRANSCRIBE = 50359
NO_TIMESTAMPS = 50363
FIRST_TIMESTAMP = 50364
LANG_TOKENS = {"en": 50259, "zh": 50260}
ZH_PREV_TEXT = " 以下是普通话的句子。"
MAX_TOKENS = 100
N_LAYERS = 6
D_MODEL = 512

# --------------------------------------------------------------------------------------
# Audio front end
# --------------------------------------------------------------------------------------


def read_wav(path: Path) -> tuple[int, np.ndarray]:
    """Mono 16-bit PCM WAV -> (rate, float64 samples in [-1, 1))."""
    with wave.open(str(path), "rb") as w:
        if w.getsampwidth() != 2:
            raise ValueError(f"{path}: {8 * w.getsampwidth()}-bit samples, expected 16-bit PCM")
        rate, channels = w.getframerate(), w.getnchannels()
        data = np.frombuffer(w.readframes(w.getnframes()), dtype="<i2")
    if channels != 1:
        data = data.reshape(-1, channels)[:, 0]
    return rate, data.astype(np.float64) / 32768.0


@lru_cache(maxsize=1)
def resample_filter(taps: int = 255, cutoff_hz: float = 3800.0, beta: float = 8.6) -> np.ndarray:
    """Low-pass at the 16 kHz rate for 2x upsampling: Kaiser-windowed sinc, DC gain 2."""
    n = np.arange(taps) - (taps - 1) / 2
    fc = cutoff_hz / SAMPLE_RATE
    h = 2 * fc * np.sinc(2 * fc * n) * np.kaiser(taps, beta)
    return 2.0 * h / h.sum()


def resample_2x(x: np.ndarray) -> np.ndarray:
    """8 kHz -> 16 kHz, polyphase: even outputs use the even taps, odd outputs the odd ones.

    Same as zero-stuffing then filtering with `resample_filter`, delay-compensated, so
    output sample 2k is at the time of input sample k; output length 2 * len(x)."""
    h = resample_filter()
    half = (len(h) - 1) // 2  # 127: odd, so even outputs come from the odd taps
    out = np.empty(2 * len(x))
    # y[m] = sum_k x[k] h[m + half - 2k]
    for phase in (0, 1):
        sub = h[(phase + half) % 2::2]
        shift = (phase + half) // 2
        full = np.convolve(x, sub)
        out[phase::2] = full[shift:shift + len(x)]
    return out


@lru_cache(maxsize=1)
def mel_filters() -> np.ndarray:
    if FILTERS.exists():
        return np.fromfile(FILTERS, dtype="<f4").reshape(80, 201)
    return mel_golden.slaney_filters().astype(np.float32)


def audio_16k(path: Path) -> np.ndarray:
    rate, x = read_wav(path)
    if rate == 8000:
        return resample_2x(x)
    if rate == SAMPLE_RATE:
        return x
    raise ValueError(f"{path}: {rate} Hz, expected 8000 or 16000")


def log_mel(audio: np.ndarray) -> np.ndarray:
    """[80, T] float32, T even and <= 3000, of 16 kHz audio (no padding to 30 s)."""
    audio = audio[:MAX_FRAMES * mel_golden.HOP]
    if (len(audio) // mel_golden.HOP) % 2:
        audio = np.concatenate([audio, np.zeros(mel_golden.HOP)])
    return mel_golden.log_mel(audio, mel_filters()).astype(np.float32)


def features(path: Path, from_wav: bool) -> np.ndarray:
    if path.suffix == ".f32le":
        return read_mel(path)
    stored = path.parent / "mel.f32le"
    if stored.exists() and not from_wav:
        return read_mel(stored)
    return log_mel(audio_16k(path))


def read_mel(path: Path) -> np.ndarray:
    mel = np.fromfile(path, dtype="<f4")
    if mel.size % 80:
        raise ValueError(f"{path}: {mel.size} floats is not a whole number of 80-bin frames")
    return mel.reshape(80, -1)


# --------------------------------------------------------------------------------------
# Tokenizer: byte-level BPE from vocabulary.txt alone (tiktoken-exact), no `tokenizers`
# --------------------------------------------------------------------------------------


def bytes_to_unicode() -> dict[int, str]:
    """GPT-2's reversible map from bytes to printable characters."""
    keep = list(range(ord("!"), ord("~") + 1)) + list(range(0xA1, 0xAC + 1)) + \
        list(range(0xAE, 0xFF + 1))
    chars = keep[:]
    extra = 0
    for b in range(256):
        if b not in keep:
            keep.append(b)
            chars.append(256 + extra)
            extra += 1
    return dict(zip(keep, map(chr, chars)))


class Tokenizer:
    def __init__(self, model_dir: Path):
        lines = (model_dir / "vocabulary.txt").read_text(encoding="utf-8").split("\n")
        self.vocab = lines[:N_VOCAB]
        self.ids = {t: i for i, t in enumerate(self.vocab[:EOT])}
        self.byte_encoder = bytes_to_unicode()
        self.byte_decoder = {c: b for b, c in self.byte_encoder.items()}

    def decode(self, ids: list[int]) -> str:
        text = "".join(self.vocab[i] for i in ids if i < EOT)
        raw = bytes(self.byte_decoder[c] for c in text)
        return raw.decode("utf-8", errors="replace").strip()

    def encode(self, text: str) -> list[int]:
        """Byte-level BPE as Whisper's tiktoken does it: merge the adjacent pair whose joined
        bytes form the token with the lowest id, until none does. (tokenizer.json's merge
        list lacks GPT-2's first merge `Ġ t`, so it is not used.)"""
        ids = []
        for word in pretokenize(text):
            parts = [self.byte_encoder[b] for b in word.encode("utf-8")]
            while len(parts) > 1:
                best = min(range(len(parts) - 1),
                           key=lambda i: self.ids.get(parts[i] + parts[i + 1], 1 << 30))
                if parts[best] + parts[best + 1] not in self.ids:
                    break
                parts[best:best + 2] = [parts[best] + parts[best + 1]]
            ids += [self.ids[p] for p in parts]
        return ids


def pretokenize(text: str) -> list[str]:
    """GPT-2's split ('s|'t|'re|'ve|'m|'ll|'d| ?L+| ?N+| ?[^\\sLN]+|\\s+(?!\\S)|\\s+),
    with unicodedata categories standing in for \\p{L} and \\p{N}."""
    def kind(c: str) -> str:
        cat = unicodedata.category(c)
        return "L" if cat[0] == "L" else "N" if cat[0] == "N" else "S" if c.isspace() else "P"

    out, i, n = [], 0, len(text)
    while i < n:
        for c in ("'s", "'t", "'re", "'ve", "'m", "'ll", "'d"):
            if text.startswith(c, i):
                out.append(c)
                i += len(c)
                break
        else:
            j = i + 1 if text[i] == " " and i + 1 < n and kind(text[i + 1]) != "S" else i
            k = kind(text[j])
            if k != "S":
                e = j + 1
                while e < n and kind(text[e]) == k:
                    e += 1
                out.append(text[i:e])
                i = e
            else:
                e = i
                while e < n and kind(text[e]) == "S":
                    e += 1
                # \s+(?!\S): leave the last space to prefix the next word
                if e < n and e - i > 1:
                    e -= 1
                out.append(text[i:e])
                i = e
    return out


# --------------------------------------------------------------------------------------
# Decoding rules shared by both engines
# --------------------------------------------------------------------------------------


def prompt_tokens(tok: Tokenizer, lang: str) -> list[int]:
    sot = [SOT, LANG_TOKENS[lang], TRANSCRIBE, NO_TIMESTAMPS]
    if lang == "zh":
        return [SOT_PREV] + tok.encode(ZH_PREV_TEXT) + sot
    return sot


def suppressed_ids() -> np.ndarray:
    """Every special token but the end token, and every timestamp."""
    return np.arange(EOT + 1, N_VOCAB)


def repeats(tokens: list[int]) -> int:
    """n when the last n-gram (n >= 3) occurs three times in a row at the end, else 0."""
    for n in range(3, len(tokens) // 3 + 1):
        tail = tokens[-n:]
        if tokens[-2 * n:-n] == tail and tokens[-3 * n:-2 * n] == tail:
            return n
    return 0


def apply_guard(tokens: list[int]) -> list[int]:
    """The decode loop's stopping rules applied to a finished sequence (for ct2)."""
    out = []
    for t in tokens:
        if t == EOT or len(out) >= MAX_TOKENS:
            break
        out.append(t)
        n = repeats(out)
        if n:
            return out[:-2 * n]
    return out


# --------------------------------------------------------------------------------------
# Engines
# --------------------------------------------------------------------------------------


class OrtWhisper:
    def __init__(self, model_dir: Path, suffix: str = "", threads: int = 1):
        import onnxruntime as ort

        opts = ort.SessionOptions()
        opts.intra_op_num_threads = threads
        opts.inter_op_num_threads = 1
        prov = ["CPUExecutionProvider"]
        self.enc = ort.InferenceSession(str(model_dir / f"encoder{suffix}.onnx"), opts, providers=prov)
        self.dec = ort.InferenceSession(str(model_dir / f"decoder{suffix}.onnx"), opts, providers=prov)
        self.suppress = suppressed_ids()

    def encode(self, mel: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return tuple(self.enc.run(None, {"mel": mel[None].astype(np.float32)}))

    def step(self, tokens: np.ndarray, offset: int, sk, sv, ck, cv):
        return self.dec.run(None, {"tokens": tokens, "offset": np.array(offset, np.int64),
                                   "self_k": sk, "self_v": sv, "cross_k": ck, "cross_v": cv})

    def greedy(self, cross: tuple[np.ndarray, np.ndarray], prompt: list[int],
               first_logits: list | None = None) -> list[int]:
        ck, cv = cross
        sk = sv = np.zeros((N_LAYERS, 1, 0, D_MODEL), np.float32)
        tokens = np.array([prompt], np.int64)
        offset, out = 0, []
        while len(out) < MAX_TOKENS:
            logits, sk, sv = self.step(tokens, offset, sk, sv, ck, cv)
            offset += tokens.shape[1]
            last = logits[0, -1].copy()
            if first_logits is not None and not out:
                first_logits.append(logits[0, -1].copy())
            last[self.suppress] = -np.inf
            nxt = int(np.argmax(last))
            if nxt == EOT:
                break
            out.append(nxt)
            n = repeats(out)
            if n:
                return out[:-2 * n]
            tokens = np.array([[nxt]], np.int64)
        return out


class Ct2Whisper:
    def __init__(self, model_dir: Path, compute_type: str = "int8", threads: int = 1):
        import ctranslate2

        self.ct2 = ctranslate2
        self.model = ctranslate2.models.Whisper(str(model_dir), device="cpu",
                                                compute_type=compute_type,
                                                intra_threads=threads, inter_threads=1)
        self.suppress = [int(i) for i in suppressed_ids()]

    def encode(self, mel: np.ndarray):
        return self.model.encode(self.ct2.StorageView.from_array(
            np.ascontiguousarray(mel[None], dtype=np.float32)), to_cpu=True)

    def greedy(self, encoded, prompt: list[int]) -> list[int]:
        result = self.model.generate(encoded, [prompt], beam_size=1, max_length=MAX_TOKENS,
                                     suppress_blank=False, suppress_tokens=self.suppress,
                                     repetition_penalty=1.0, no_repeat_ngram_size=0)
        return apply_guard(list(result[0].sequences_ids[0]))


def transcribe(engine, tok: Tokenizer, path: Path, lang: str, from_wav: bool) -> dict:
    t0 = time.perf_counter()
    mel = features(path, from_wav)
    t1 = time.perf_counter()
    cross = engine.encode(mel)
    t2 = time.perf_counter()
    tokens = engine.greedy(cross, prompt_tokens(tok, lang))
    t3 = time.perf_counter()
    return {"file": str(path), "text": tok.decode(tokens), "tokens": tokens,
            "ms_encode": round(1000 * (t2 - t1), 2), "ms_decode": round(1000 * (t3 - t2), 2),
            "ms_total": round(1000 * (t3 - t0), 2)}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model-dir", type=Path, required=True)
    ap.add_argument("--lang", choices=sorted(LANG_TOKENS), required=True)
    ap.add_argument("--engine", choices=("ort", "ct2"), required=True)
    ap.add_argument("--mel-from-wav", action="store_true",
                    help="compute the mel from the WAV even where a mel.f32le sits beside it")
    ap.add_argument("--suffix", default="", help="ort: use encoder{S}.onnx, decoder{S}.onnx")
    ap.add_argument("--compute-type", default="int8", help="ct2 compute type (default int8)")
    ap.add_argument("--json", action="store_true", help="one JSON line per file (the only output format)")
    ap.add_argument("files", nargs="+", type=Path)
    args = ap.parse_args(argv)
    tok = Tokenizer(args.model_dir)
    if args.engine == "ort":
        engine = OrtWhisper(args.model_dir, args.suffix)
    else:
        engine = Ct2Whisper(args.model_dir, args.compute_type)
    for path in args.files:
        print(json.dumps(transcribe(engine, tok, path, args.lang, args.mel_from_wav),
                         ensure_ascii=False), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
