//! Whisper's log-mel front end: 16 kHz audio in, the 80 × T matrix its encoder reads out.
//!
//! This computes exactly what `whisper/audio.py` `log_mel_spectrogram` does (checked
//! against golden vectors from `tools/models/mel_golden.py`):
//!
//! 1. reflect-pad n_fft / 2 = 200 samples at both ends (torch.stft `center=True`),
//! 2. periodic Hann window of 400, |STFT|² every 160 samples, the last frame dropped
//!    (`stft[..., :-1]`), so n samples give ⌊n / 160⌋ frames,
//! 3. the 80 × 201 Slaney mel filterbank (`librosa.filters.mel(sr=16000, n_fft=400,
//!    n_mels=80)`, shipped by Whisper as `assets/mel_filters.npz`), worked out here,
//! 4. log10(max(x, 1e-10)), then max(x, global max − 8), then (x + 4) / 4.
//!
//! Samples are f32 in [-1, 1] or i16 (divided by 32768, as Whisper's `load_audio`).
//!
//! Whisper pads every input to 30 s; our recogniser runs on the utterance alone, so
//! [`Fit::Trim`] (⌊n / 160⌋ frames, nothing added) is the ordinary case and
//! [`Fit::PadOrTrim`] is Whisper's `pad_or_trim` for fixed-shape encoders.
//!
//! [`MelStream`] computes the same frames while the caller still speaks: each frame is
//! ready once the 200 samples after its centre have arrived. Step 4's clamp needs the
//! maximum of the whole utterance, so the stream hands out the raw log10 frames and
//! applies clamp and scaling in [`MelStream::finish`]; the result equals the batch
//! [`MelFrontEnd::log_mel`] bit for bit, whatever the chunking.
//!
//! [`MelFrontEnd`] holds what every call shares (window, FFT plan, filterbank), built
//! once. Per-frame work allocates nothing; only whole-utterance results and the stream's
//! frame store are allocated. Nothing here panics on any input: audio too short for the
//! reflect padding is an error, non-finite samples give non-finite values.

use std::sync::Arc;

use rustfft::num_complex::Complex;
use rustfft::{Fft, FftPlanner};

use yingda_dsp::resample::{Upsampler, GROUP_DELAY_16K};

/// Sample rate the front end expects, Hz.
pub const SAMPLE_RATE: u32 = 16_000;
/// FFT length (25 ms).
pub const N_FFT: usize = 400;
/// Hop between frames (10 ms).
pub const HOP: usize = 160;
/// Mel bands.
pub const N_MELS: usize = 80;
/// FFT bins from DC to Nyquist.
pub const N_BINS: usize = N_FFT / 2 + 1;
/// Samples in Whisper's 30 s window.
pub const N_SAMPLES_30S: usize = 480_000;
/// Frames in Whisper's 30 s window.
pub const N_FRAMES_30S: usize = N_SAMPLES_30S / HOP;
/// Fewest samples the reflect padding accepts (torch needs more samples than the pad).
pub const MIN_SAMPLES: usize = PAD + 1;

/// Reflect padding at each end.
const PAD: usize = N_FFT / 2;
/// Floor under the mel power before log10.
const POWER_FLOOR: f32 = 1e-10;
/// Dynamic range kept below the utterance's maximum, log10 units (80 dB).
const RANGE: f32 = 8.0;

/// Errors from the mel front end.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum MelError {
    /// Fewer samples than the reflect padding needs ([`MIN_SAMPLES`]).
    #[error("{samples} samples, the front end needs at least {min}")]
    TooShort {
        /// Samples given (after [`Fit`]).
        samples: usize,
        /// Samples needed.
        min: usize,
    },
}

/// How the audio is fitted to a length before the spectrogram.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Fit {
    /// The utterance as it is, cut after `max_samples`: ⌊n / 160⌋ frames. The
    /// recogniser's case (an encoder on 4.5 s costs a tenth of one on 30 s).
    Trim {
        /// Samples past this are ignored.
        max_samples: usize,
    },
    /// Zero-padded or cut to exactly `samples` (Whisper's `pad_or_trim`): `samples / 160`
    /// frames. [`N_SAMPLES_30S`] gives Whisper's fixed 30 s window of 3000 frames.
    PadOrTrim {
        /// Length after padding or cutting.
        samples: usize,
    },
}

impl Fit {
    /// The whole utterance, however long.
    pub const WHOLE: Fit = Fit::Trim {
        max_samples: usize::MAX,
    };
    /// Whisper's 30 s window.
    pub const WHISPER_30S: Fit = Fit::PadOrTrim {
        samples: N_SAMPLES_30S,
    };

    /// Samples taken from input of `n` samples.
    fn taken(self, n: usize) -> usize {
        match self {
            Fit::Trim { max_samples } => n.min(max_samples),
            Fit::PadOrTrim { samples } => n.min(samples),
        }
    }

    /// Length of the fitted signal when `taken` samples were taken.
    fn fitted(self, taken: usize) -> usize {
        match self {
            Fit::Trim { .. } => taken,
            Fit::PadOrTrim { samples } => samples,
        }
    }

    /// Most samples the fitted signal can have.
    fn limit(self) -> usize {
        match self {
            Fit::Trim { max_samples } => max_samples,
            Fit::PadOrTrim { samples } => samples,
        }
    }
}

/// A sample format the front end reads.
pub trait MelSample: Copy {
    /// The sample as Whisper sees it (full scale ±1).
    fn to_unit(self) -> f32;
}

impl MelSample for f32 {
    fn to_unit(self) -> f32 {
        self
    }
}

impl MelSample for i16 {
    /// i16 / 32768, as Whisper's `load_audio`.
    fn to_unit(self) -> f32 {
        f32::from(self) / 32768.0
    }
}

/// Frames an `n`-sample fitted signal gives (Whisper drops the last STFT frame).
pub fn frame_count(n: usize) -> usize {
    n / HOP
}

/// A normalised log-mel spectrogram, mel-major: `N_MELS` rows of `frames` values, as the
/// encoder's `[1, 80, T]` input.
#[derive(Debug, Clone, PartialEq)]
pub struct LogMel {
    frames: usize,
    data: Vec<f32>,
}

impl LogMel {
    /// A spectrogram made elsewhere (golden vectors, tools): `data` is mel-major,
    /// `N_MELS` rows of `frames` values. `None` when the length does not match.
    pub fn from_mel_major(frames: usize, data: Vec<f32>) -> Option<Self> {
        (data.len() == N_MELS * frames).then_some(Self { frames, data })
    }

    /// Frames (T).
    pub fn frames(&self) -> usize {
        self.frames
    }

    /// All values, row-major `[N_MELS][frames]`.
    pub fn as_slice(&self) -> &[f32] {
        &self.data
    }

    /// One mel band over time, or `None` past the last band.
    pub fn band(&self, mel: usize) -> Option<&[f32]> {
        self.data
            .get(mel * self.frames..(mel + 1) * self.frames)
            .filter(|_| mel < N_MELS)
    }

    /// The value of band `mel` in frame `t`, or `None` out of range.
    pub fn get(&self, mel: usize, t: usize) -> Option<f32> {
        if t < self.frames {
            self.band(mel)?.get(t).copied()
        } else {
            None
        }
    }

    /// The values, row-major `[N_MELS][frames]`.
    pub fn into_vec(self) -> Vec<f32> {
        self.data
    }

    /// Whisper's step 4 on raw log10 frames: clamp at the maximum − 8, then (x + 4) / 4,
    /// transposed to mel-major.
    fn from_raw(raw: &[[f32; N_MELS]]) -> Self {
        let max = raw
            .iter()
            .flatten()
            .fold(f32::NEG_INFINITY, |m, &v| m.max(v));
        let floor = max - RANGE;
        let frames = raw.len();
        let mut data = vec![0.0; N_MELS * frames];
        for (t, frame) in raw.iter().enumerate() {
            for (m, &v) in frame.iter().enumerate() {
                data[m * frames + t] = (v.max(floor) + 4.0) / 4.0;
            }
        }
        Self { frames, data }
    }
}

/// Per-user FFT work space (the shared plan needs somewhere to write).
#[derive(Debug)]
struct Scratch {
    buf: Vec<Complex<f32>>,
    fft: Vec<Complex<f32>>,
}

/// One filter's non-zero span in the filterbank.
#[derive(Debug, Clone, Copy)]
struct Span {
    start: usize,
    end: usize,
}

/// What every call shares: Hann window, FFT plan, mel filterbank. Build once, share by
/// `Arc` between calls.
pub struct MelFrontEnd {
    window: [f32; N_FFT],
    fft: Arc<dyn Fft<f32>>,
    /// Row-major `[N_MELS][N_BINS]`.
    filters: Vec<f32>,
    spans: [Span; N_MELS],
}

impl core::fmt::Debug for MelFrontEnd {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("MelFrontEnd")
            .field("n_fft", &N_FFT)
            .field("hop", &HOP)
            .field("n_mels", &N_MELS)
            .finish_non_exhaustive()
    }
}

impl Default for MelFrontEnd {
    fn default() -> Self {
        Self::new()
    }
}

/// Slaney mel scale (librosa `hz_to_mel`, htk=False): linear to 1 kHz, log above.
fn hz_to_mel(hz: f64) -> f64 {
    let logstep = 6.4f64.ln() / 27.0;
    if hz >= 1000.0 {
        15.0 + (hz / 1000.0).ln() / logstep
    } else {
        hz / (200.0 / 3.0)
    }
}

/// Inverse of [`hz_to_mel`].
fn mel_to_hz(mel: f64) -> f64 {
    let logstep = 6.4f64.ln() / 27.0;
    if mel >= 15.0 {
        1000.0 * (logstep * (mel - 15.0)).exp()
    } else {
        mel * (200.0 / 3.0)
    }
}

/// `librosa.filters.mel(sr=16000, n_fft=400, n_mels=80)`: triangles between mel-spaced
/// edges from 0 Hz to 8 kHz, each scaled to unit area in Hz (Slaney's `norm="slaney"`).
/// Rounded to f32 where librosa rounds, so the result matches Whisper's asset.
fn slaney_filterbank() -> Vec<f32> {
    let sr = f64::from(SAMPLE_RATE);
    let (lo, hi) = (hz_to_mel(0.0), hz_to_mel(sr / 2.0));
    let step = (hi - lo) / (N_MELS + 1) as f64;
    let mut edges = [0.0f64; N_MELS + 2];
    for (i, e) in edges.iter_mut().enumerate() {
        *e = mel_to_hz(lo + i as f64 * step);
    }
    edges[N_MELS + 1] = mel_to_hz(hi);
    let mut w = vec![0.0f32; N_MELS * N_BINS];
    for (m, row) in w.chunks_exact_mut(N_BINS).enumerate() {
        let (left, centre, right) = (edges[m], edges[m + 1], edges[m + 2]);
        let enorm = 2.0 / (right - left);
        for (k, v) in row.iter_mut().enumerate() {
            let f = k as f64 * sr / N_FFT as f64;
            let lower = (f - left) / (centre - left);
            let upper = (right - f) / (right - centre);
            let tri = lower.min(upper).max(0.0) as f32;
            *v = (f64::from(tri) * enorm) as f32;
        }
    }
    w
}

impl MelFrontEnd {
    /// Window, FFT plan and filterbank, worked out once.
    pub fn new() -> Self {
        let mut window = [0.0f32; N_FFT];
        for (n, w) in window.iter_mut().enumerate() {
            // Periodic Hann (torch.hann_window default): period N_FFT, not N_FFT - 1.
            let phase = 2.0 * core::f64::consts::PI * n as f64 / N_FFT as f64;
            *w = (0.5 - 0.5 * phase.cos()) as f32;
        }
        let filters = slaney_filterbank();
        let mut spans = [Span { start: 0, end: 0 }; N_MELS];
        for (span, row) in spans.iter_mut().zip(filters.chunks_exact(N_BINS)) {
            let start = row.iter().position(|&v| v != 0.0).unwrap_or(0);
            let end = row.iter().rposition(|&v| v != 0.0).map_or(start, |e| e + 1);
            *span = Span { start, end };
        }
        Self {
            window,
            fft: FftPlanner::new().plan_fft_forward(N_FFT),
            filters,
            spans,
        }
    }

    /// The filterbank, row-major `[N_MELS][N_BINS]` (equal to Whisper's `mel_80`).
    pub fn filterbank(&self) -> &[f32] {
        &self.filters
    }

    /// The analysis window (periodic Hann, 400).
    pub fn window(&self) -> &[f32; N_FFT] {
        &self.window
    }

    fn scratch(&self) -> Scratch {
        Scratch {
            buf: vec![Complex::default(); N_FFT],
            fft: vec![Complex::default(); self.fft.get_inplace_scratch_len()],
        }
    }

    /// Raw log10 mel powers of one 400-sample padded frame. Allocates nothing.
    fn frame(&self, samples: &[f32], scratch: &mut Scratch, out: &mut [f32; N_MELS]) {
        for ((b, &x), &w) in scratch.buf.iter_mut().zip(samples).zip(&self.window) {
            *b = Complex::new(x * w, 0.0);
        }
        self.fft
            .process_with_scratch(&mut scratch.buf, &mut scratch.fft);
        let mut power = [0.0f32; N_BINS];
        for (p, c) in power.iter_mut().zip(&scratch.buf) {
            *p = c.norm_sqr();
        }
        for ((o, row), span) in out
            .iter_mut()
            .zip(self.filters.chunks_exact(N_BINS))
            .zip(&self.spans)
        {
            let w = row.get(span.start..span.end).unwrap_or_default();
            let p = power.get(span.start..span.end).unwrap_or_default();
            let mel: f32 = w.iter().zip(p).map(|(a, b)| a * b).sum();
            *o = mel.max(POWER_FLOOR).log10();
        }
    }

    /// Whisper's `log_mel_spectrogram` of the whole of `audio` (16 kHz): ⌊n / 160⌋
    /// frames.
    ///
    /// # Errors
    /// [`MelError::TooShort`] under [`MIN_SAMPLES`] samples.
    pub fn log_mel<S: MelSample>(&self, audio: &[S]) -> Result<LogMel, MelError> {
        self.log_mel_fit(audio, Fit::WHOLE)
    }

    /// [`Self::log_mel`] of `audio` fitted to a length first (see [`Fit`]).
    ///
    /// # Errors
    /// [`MelError::TooShort`] if the fitted audio has under [`MIN_SAMPLES`] samples.
    pub fn log_mel_fit<S: MelSample>(&self, audio: &[S], fit: Fit) -> Result<LogMel, MelError> {
        let taken = fit.taken(audio.len());
        let n = fit.fitted(taken);
        if n < MIN_SAMPLES {
            return Err(MelError::TooShort {
                samples: n,
                min: MIN_SAMPLES,
            });
        }
        // x: the fitted signal; padded[k] = x[k - PAD] with reflection off both ends.
        let mut padded = vec![0.0f32; n + 2 * PAD];
        for (p, s) in padded[PAD..].iter_mut().zip(&audio[..taken]) {
            *p = s.to_unit();
        }
        for j in 0..PAD {
            padded[PAD - 1 - j] = padded[PAD + 1 + j];
            padded[PAD + n + j] = padded[PAD + n - 2 - j];
        }
        let frames = frame_count(n);
        let mut raw = vec![[0.0f32; N_MELS]; frames];
        let mut scratch = self.scratch();
        for (t, out) in raw.iter_mut().enumerate() {
            let start = t * HOP;
            self.frame(&padded[start..start + N_FFT], &mut scratch, out);
        }
        Ok(LogMel::from_raw(&raw))
    }

    /// [`Self::log_mel`] of 8 kHz line audio, upsampled to 16 kHz by
    /// [`yingda_dsp::resample::Upsampler`] with its 31-sample group delay taken out:
    /// n line samples give 2n samples aligned with the input, ⌊n / 80⌋ frames.
    ///
    /// # Errors
    /// [`MelError::TooShort`] under [`MIN_SAMPLES`] samples after upsampling.
    pub fn from_line_8k(&self, line: &[i16]) -> Result<LogMel, MelError> {
        let wide = upsample_aligned(line);
        self.log_mel(&wide)
    }
}

/// 8 kHz → 16 kHz without the interpolator's delay: feed enough trailing silence to flush
/// it and drop the first [`GROUP_DELAY_16K`] outputs.
fn upsample_aligned(line: &[i16]) -> Vec<i16> {
    let zeros = [0i16; GROUP_DELAY_16K.div_ceil(2)];
    let mut up = Upsampler::new();
    let mut wide = vec![0i16; 2 * (line.len() + zeros.len())];
    let mut at = 0;
    for chunk in [line, &zeros[..]] {
        // The output always has room: it was sized for both chunks.
        if let Ok(n) = up.process(chunk, &mut wide[at..]) {
            at += n;
        }
    }
    wide.drain(..GROUP_DELAY_16K);
    wide.truncate(2 * line.len());
    wide
}

/// Incremental [`MelFrontEnd::log_mel_fit`]: push audio as it arrives, read raw frames as
/// soon as they are computable, [`finish`](Self::finish) for the normalised matrix.
///
/// Frame t is ready once 160·t + 200 samples (and at least [`MIN_SAMPLES`]) are in: with
/// n samples pushed, `(n − 200) / 160 + 1` frames. The frame closest to the end waits for
/// `finish`, which needs the right-hand reflection.
#[derive(Debug)]
pub struct MelStream {
    front: Arc<MelFrontEnd>,
    fit: Fit,
    /// Input samples taken (at most the fit's limit).
    taken: usize,
    /// The first `MIN_SAMPLES` samples, held until the left reflection can be made.
    head: [f32; MIN_SAMPLES],
    /// The newest padded samples, oldest first: the next frame's window as it fills.
    ring: [f32; N_FFT],
    fill: usize,
    /// Raw log10 frames so far, frame-major.
    raw: Vec<[f32; N_MELS]>,
    scratch: Scratch,
}

impl MelStream {
    /// A stream fitting its audio by `fit`. Room for the frames of `fit`'s length (at most
    /// 30 s' worth) is reserved now, so pushing allocates nothing within it.
    pub fn new(front: Arc<MelFrontEnd>, fit: Fit) -> Self {
        let reserve = frame_count(fit.limit()).min(N_FRAMES_30S);
        let scratch = front.scratch();
        Self {
            front,
            fit,
            taken: 0,
            head: [0.0; MIN_SAMPLES],
            ring: [0.0; N_FFT],
            fill: 0,
            raw: Vec::with_capacity(reserve),
            scratch,
        }
    }

    /// Push 16 kHz samples; returns how many were taken (fewer once the fit's length is
    /// reached: the rest is cut, as `pad_or_trim` cuts). New frames appear in
    /// [`Self::raw_frames`].
    pub fn push<S: MelSample>(&mut self, audio: &[S]) -> usize {
        let room = self.fit.limit() - self.taken;
        let take = audio.len().min(room);
        for s in &audio[..take] {
            self.feed(s.to_unit());
        }
        take
    }

    /// Input samples taken so far.
    pub fn samples(&self) -> usize {
        self.taken
    }

    /// Raw frames ready so far: log10(max(mel power, 1e-10)) per band, before
    /// [`finish`](Self::finish)'s clamp and scaling.
    pub fn raw_frames(&self) -> &[[f32; N_MELS]] {
        &self.raw
    }

    /// Pad (for [`Fit::PadOrTrim`]), compute the last frames with the right-hand
    /// reflection, and clamp and scale the whole utterance as Whisper does. The stream is
    /// empty afterwards, ready for the next utterance, whatever the result.
    ///
    /// # Errors
    /// [`MelError::TooShort`] if the fitted audio has under [`MIN_SAMPLES`] samples.
    pub fn finish(&mut self) -> Result<LogMel, MelError> {
        let result = self.finish_inner();
        self.taken = 0;
        self.fill = 0;
        self.raw.clear();
        result
    }

    fn finish_inner(&mut self) -> Result<LogMel, MelError> {
        let n = self.fit.fitted(self.taken);
        if n < MIN_SAMPLES {
            return Err(MelError::TooShort {
                samples: n,
                min: MIN_SAMPLES,
            });
        }
        while self.taken < n {
            self.feed(0.0);
        }
        // The ring holds padded samples from 160·frames to n + 200, which covers the last
        // MIN_SAMPLES input samples (x[i] sits at ring[i + 200 - 160·frames]).
        let base = self.raw.len() * HOP;
        let mut tail = [0.0f32; PAD];
        for (j, t) in tail.iter_mut().enumerate() {
            let at = (n + PAD - 2 - j).checked_sub(base);
            *t = at.and_then(|i| self.ring.get(i)).copied().unwrap_or(0.0);
        }
        let frames = frame_count(n);
        for &v in &tail {
            if self.raw.len() >= frames {
                break;
            }
            self.feed_padded(v);
        }
        Ok(LogMel::from_raw(&self.raw))
    }

    /// One input sample.
    fn feed(&mut self, v: f32) {
        if self.taken < MIN_SAMPLES {
            self.head[self.taken] = v;
            self.taken += 1;
            if self.taken == MIN_SAMPLES {
                // Left reflection x[200], …, x[1], then x[0..=200].
                let head = self.head;
                for &h in head[1..].iter().rev() {
                    self.feed_padded(h);
                }
                for &h in &head {
                    self.feed_padded(h);
                }
            }
        } else {
            self.taken += 1;
            self.feed_padded(v);
        }
    }

    /// One padded sample; computes a frame when the window is full.
    fn feed_padded(&mut self, v: f32) {
        if let Some(slot) = self.ring.get_mut(self.fill) {
            *slot = v;
            self.fill += 1;
        }
        if self.fill == N_FFT {
            let mut out = [0.0f32; N_MELS];
            self.front.frame(&self.ring, &mut self.scratch, &mut out);
            self.raw.push(out);
            self.ring.copy_within(HOP.., 0);
            self.fill = N_FFT - HOP;
        }
    }
}
