#!/usr/bin/env python3
"""Golden vectors for the Whisper log-mel front end (firmware/speech/src/mel.rs).

Writes, into the output directory (normally firmware/speech/tests/data/mel/):

- signal_i16.bin: the input, 1.5 s at 16 kHz, little-endian i16 (a log chirp, speech-like
  noise in syllable bursts and a quiet gap), made by a fixed-seed generator;
- mel_filters_80x201.f32: Whisper's own 80-band filterbank (`mel_80` from
  whisper/assets/mel_filters.npz, i.e. librosa.filters.mel(sr=16000, n_fft=400, n_mels=80)),
  little-endian f32, row-major [80][201];
- logmel_<case>.f32: the expected log-mel, little-endian f32, row-major [80][T];
- manifest.toml: shapes, files and how each case was made.

The reference follows whisper/audio.py `log_mel_spectrogram` step by step, in float64
with numpy instead of torch: i16 / 32768 (as `load_audio`), optional `pad_or_trim`,
reflect padding of n_fft / 2 at both ends (torch.stft center=True, pad_mode="reflect"),
periodic Hann window of 400, |rfft|^2 with hop 160, the last frame dropped
(`stft[..., :-1]`), filterbank product, log10(max(x, 1e-10)), max(x, max - 8),
(x + 4) / 4.

Run it in a throwaway venv, never in the project:

    python3 -m venv /tmp/melgold/venv && /tmp/melgold/venv/bin/pip install numpy
    /tmp/melgold/venv/bin/pip download --no-deps openai-whisper==20250625 -d /tmp/melgold
    /tmp/melgold/venv/bin/python tools/models/mel_golden.py \
        --whisper-sdist /tmp/melgold/openai_whisper-20250625.tar.gz \
        --out firmware/speech/tests/data/mel

The Rust tests read the files this writes; they need neither Python nor a network.
"""

import argparse
import io
import pathlib
import tarfile

import numpy as np

SAMPLE_RATE = 16000
N_FFT = 400
HOP = 160
N_MELS = 80
SEED = 20240917
SIGNAL_SAMPLES = 24000

# (name, pad_or_trim length or None, what it covers)
CASES = [
    ("trimmed", None, "the whole utterance as it is (the recogniser's case)"),
    ("cut_19999", 19999, "pad_or_trim cutting to a length that is not a multiple of the hop"),
    ("padded_32000", 32000, "pad_or_trim padding with zeros to 2 s (as Whisper pads to 30 s)"),
]


def load_filters(sdist: pathlib.Path) -> np.ndarray:
    """mel_80 from whisper/assets/mel_filters.npz inside the openai-whisper sdist."""
    with tarfile.open(sdist) as tar:
        member = next(m for m in tar.getmembers() if m.name.endswith("whisper/assets/mel_filters.npz"))
        data = tar.extractfile(member).read()
    with np.load(io.BytesIO(data), allow_pickle=False) as npz:
        filters = npz["mel_80"]
    assert filters.shape == (N_MELS, N_FFT // 2 + 1) and filters.dtype == np.float32
    return filters


def slaney_filters() -> np.ndarray:
    """librosa.filters.mel(sr=16000, n_fft=400, n_mels=80) re-derived, to confirm the asset."""

    def hz_to_mel(f):
        f = np.asarray(f, dtype=np.float64)
        mel = f / (200.0 / 3)
        logstep = np.log(6.4) / 27.0
        return np.where(f >= 1000.0, 15.0 + np.log(np.maximum(f, 1e-30) / 1000.0) / logstep, mel)

    def mel_to_hz(m):
        m = np.asarray(m, dtype=np.float64)
        logstep = np.log(6.4) / 27.0
        return np.where(m >= 15.0, 1000.0 * np.exp(logstep * (m - 15.0)), m * (200.0 / 3))

    fftfreqs = np.fft.rfftfreq(N_FFT, 1.0 / SAMPLE_RATE)
    mel_f = mel_to_hz(np.linspace(hz_to_mel(0.0), hz_to_mel(SAMPLE_RATE / 2), N_MELS + 2))
    fdiff = np.diff(mel_f)
    ramps = np.subtract.outer(mel_f, fftfreqs)
    weights = np.zeros((N_MELS, N_FFT // 2 + 1))
    for i in range(N_MELS):
        weights[i] = np.maximum(0, np.minimum(-ramps[i] / fdiff[i], ramps[i + 2] / fdiff[i + 1]))
    weights *= (2.0 / (mel_f[2 : N_MELS + 2] - mel_f[:N_MELS]))[:, None]
    return weights


def make_signal() -> np.ndarray:
    """1.5 s: log chirp 80 Hz -> 7.5 kHz, speech-like noise bursts, a quiet gap."""
    rng = np.random.default_rng(SEED)
    t = np.arange(SIGNAL_SAMPLES) / SAMPLE_RATE
    dur = SIGNAL_SAMPLES / SAMPLE_RATE
    f0, f1 = 80.0, 7500.0
    k = np.log(f1 / f0) / dur
    chirp = 0.25 * np.sin(2 * np.pi * f0 * (np.exp(k * t) - 1) / k)
    # Speech-like noise: white noise through two resonators (formants near 700 Hz and
    # 1.8 kHz), amplitude-modulated at a 4 Hz syllable rate.
    white = rng.standard_normal(SIGNAL_SAMPLES)
    noise = np.zeros(SIGNAL_SAMPLES)
    for fc, r, gain in ((700.0, 0.97, 1.0), (1800.0, 0.95, 0.6)):
        a1 = -2 * r * np.cos(2 * np.pi * fc / SAMPLE_RATE)
        a2 = r * r
        y1 = y2 = 0.0
        for n in range(SIGNAL_SAMPLES):
            y = gain * white[n] - a1 * y1 - a2 * y2
            noise[n] += y
            y2, y1 = y1, y
    noise *= 0.08 / np.sqrt(np.mean(noise**2))
    envelope = 0.5 * (1 - np.cos(2 * np.pi * 4.0 * t)) ** 2
    x = chirp + noise * envelope + 0.002 * white
    # A quiet gap (0.95..1.1 s) leaves only a low noise floor.
    gap = (t >= 0.95) & (t < 1.1)
    x[gap] = 0.0005 * white[gap]
    return np.clip(np.round(x * 32767), -32768, 32767).astype("<i2")


def pad_or_trim(x: np.ndarray, length: int) -> np.ndarray:
    if len(x) > length:
        return x[:length]
    return np.pad(x, (0, length - len(x)))


def log_mel(audio: np.ndarray, filters: np.ndarray) -> np.ndarray:
    """whisper.audio.log_mel_spectrogram in float64."""
    audio = audio.astype(np.float64)
    padded = np.pad(audio, N_FFT // 2, mode="reflect")
    n_frames = 1 + (len(padded) - N_FFT) // HOP
    window = 0.5 - 0.5 * np.cos(2 * np.pi * np.arange(N_FFT) / N_FFT)  # periodic Hann
    frames = np.stack([padded[i * HOP : i * HOP + N_FFT] for i in range(n_frames)], axis=1)
    stft = np.fft.rfft(frames * window[:, None], axis=0)
    magnitudes = np.abs(stft[:, :-1]) ** 2
    mel_spec = filters.astype(np.float64) @ magnitudes
    log_spec = np.log10(np.maximum(mel_spec, 1e-10))
    log_spec = np.maximum(log_spec, log_spec.max() - 8.0)
    return (log_spec + 4.0) / 4.0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--whisper-sdist", type=pathlib.Path, required=True)
    ap.add_argument("--out", type=pathlib.Path, required=True)
    args = ap.parse_args()
    out = args.out
    out.mkdir(parents=True, exist_ok=True)

    filters = load_filters(args.whisper_sdist)
    derived = slaney_filters()
    rel = np.max(np.abs(derived - filters) / np.maximum(np.abs(filters), 1e-3))
    print(f"asset vs re-derived slaney filterbank: max relative difference {rel:.2e}")
    assert rel < 1e-5, "mel_filters.npz is not librosa's slaney filterbank"
    filters.astype("<f4").tofile(out / "mel_filters_80x201.f32")

    signal = make_signal()
    signal.tofile(out / "signal_i16.bin")
    audio = signal.astype(np.float32) / 32768.0  # whisper.audio.load_audio

    lines = [
        "# Written by tools/models/mel_golden.py; see README.md. All binaries little-endian.",
        "",
        "[input]",
        'file = "signal_i16.bin"',
        'dtype = "i16"',
        f"samples = {len(signal)}",
        f"sample_rate = {SAMPLE_RATE}",
        f"seed = {SEED}",
        "",
        "[filters]",
        'file = "mel_filters_80x201.f32"',
        'dtype = "f32"',
        f"shape = [{N_MELS}, {N_FFT // 2 + 1}]",
        'source = "openai-whisper 20250625, whisper/assets/mel_filters.npz, key mel_80 (MIT)"',
    ]
    for name, length, what in CASES:
        x = audio if length is None else pad_or_trim(audio, length)
        mel = log_mel(x, filters).astype("<f4")
        mel.tofile(out / f"logmel_{name}.f32")
        print(f"{name}: {mel.shape}, range {mel.min():.4f}..{mel.max():.4f}")
        lines += [
            "",
            "[[case]]",
            f'name = "{name}"',
            f'about = "{what}"',
            f"pad_or_trim = {length if length is not None else -1}",
            f'file = "logmel_{name}.f32"',
            'dtype = "f32"',
            f"shape = [{mel.shape[0]}, {mel.shape[1]}]",
        ]
    (out / "manifest.toml").write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
