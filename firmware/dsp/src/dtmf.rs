//! DTMF receiver and generator (ITU-T Q.23 / Q.24), 8 kHz linear samples.
//!
//! # Receiver ([`DtmfRx`])
//!
//! Eight Goertzel bins are evaluated over windows of [`WINDOW`] samples (12.75 ms) that
//! advance by [`HOP`] samples (6.375 ms): each block of `WINDOW` samples is filtered once, as
//! two halves, and every pair of consecutive halves forms a window (see
//! [`crate::goertzel::GoertzelBank::run_halves`]). A window *hits* digit `d` when
//!
//! * the strongest row and column bins are each above the level threshold,
//! * the twist between them is within limits (normal: low group stronger; reverse: high
//!   group stronger),
//! * every other row (column) bin is at least [`RELATIVE_PEAK_DB`] below the best one,
//! * the two tones hold at least [`TONE_TO_TOTAL`] of the window's energy — this is the
//!   signal-to-noise and talk-off guard, and it makes a window only partly covered by a
//!   tone (less than ~70 %) miss.
//!
//! A digit is *confirmed* after [`CONFIRM_WINDOWS`] consecutive hits of the same digit
//! whose bin phases advance from window to window as a tone within the frequency tolerance
//! would (phase-difference frequency measurement, unambiguous to ±78 Hz, so ±3.5 % is
//! measured, not guessed from level). With hits needing ≥70 % coverage, four consecutive
//! hits need ≥ 255 samples of tone: every 40 ms tone (320 samples) gives at least four,
//! no 23 ms tone (184 samples) more than three, whatever the alignment.
//!
//! A confirmed digit *ends* after [`END_MISSES`] consecutive windows without it (25 ms),
//! which bridges short drop-outs but separates digits by a 40 ms pause.
//!
//! Times are sample indices counted from creation. Start and end are those of the first
//! and last hit windows, so they are within about ±4 ms of the tone edges plus the 6.4 ms
//! hop quantisation.
//!
//! # Generator ([`DtmfTx`])
//!
//! Queues digits and renders them with configurable on/off time, level and twist.
//!
//! Neither block allocates after construction or panics on any input.

use crate::goertzel::{
    dbm0_to_amplitude, dbm0_to_mean_square, energy, Bin, BlockBuf, GoertzelBank,
};
use crate::osc::{phase_step, Phase};

/// Low-group (row) frequencies, Hz.
pub const ROW_HZ: [f32; 4] = [697.0, 770.0, 852.0, 941.0];
/// High-group (column) frequencies, Hz.
pub const COL_HZ: [f32; 4] = [1209.0, 1336.0, 1477.0, 1633.0];
/// Digits laid out by `[row][col]`.
pub const KEYPAD: [[char; 4]; 4] = [
    ['1', '2', '3', 'A'],
    ['4', '5', '6', 'B'],
    ['7', '8', '9', 'C'],
    ['*', '0', '#', 'D'],
];

/// Window length, samples.
pub const WINDOW: usize = 102;
/// Window advance, samples.
pub const HOP: usize = WINDOW / 2;
/// Consecutive hit windows needed to confirm a digit.
pub const CONFIRM_WINDOWS: u32 = 4;
/// Consecutive missing windows that end a digit.
pub const END_MISSES: u32 = 4;
/// Other bins of a group must be this far below the best one (6 dB, as spandsp: a loud
/// low tone leaks into the high-group bins and a stricter limit rejects 8 dB twist).
pub const RELATIVE_PEAK_DB: f32 = 6.0;
/// Minimum share of window energy in the two detected tones.
pub const TONE_TO_TOTAL: f32 = 0.70;

/// Errors from DTMF configuration and the generator queue.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum DtmfError {
    /// A character that is not one of `0-9 * # A-D` (lower case `a-d` is accepted).
    #[error("not a DTMF digit: {0:?}")]
    InvalidDigit(char),
    /// The generator queue cannot take all the digits; nothing was queued.
    #[error("DTMF queue full: {queued} queued, {requested} more requested, capacity {capacity}")]
    QueueFull {
        /// Digits already waiting.
        queued: usize,
        /// Digits in the rejected request.
        requested: usize,
        /// Queue capacity.
        capacity: usize,
    },
    /// A configuration value is outside its meaningful range.
    #[error("DTMF parameter {name} = {value} out of range {min}..={max}")]
    OutOfRange {
        /// Parameter name.
        name: &'static str,
        /// Offending value.
        value: f32,
        /// Smallest accepted value.
        min: f32,
        /// Largest accepted value.
        max: f32,
    },
}

fn check(name: &'static str, value: f32, min: f32, max: f32) -> Result<(), DtmfError> {
    if value.is_finite() && (min..=max).contains(&value) {
        Ok(())
    } else {
        Err(DtmfError::OutOfRange {
            name,
            value,
            min,
            max,
        })
    }
}

/// Normalise a digit character (`a-d` → `A-D`), or `None` if it is not DTMF.
pub fn normalise_digit(c: char) -> Option<char> {
    let c = c.to_ascii_uppercase();
    KEYPAD.iter().flatten().any(|&k| k == c).then_some(c)
}

/// Row and column index of a digit.
fn digit_pos(c: char) -> Option<(usize, usize)> {
    let c = normalise_digit(c)?;
    for (r, row) in KEYPAD.iter().enumerate() {
        for (col, &k) in row.iter().enumerate() {
            if k == c {
                return Some((r, col));
            }
        }
    }
    None
}

/// Receiver settings. Defaults follow Q.24 with margins for ±1.5 % deviation.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DtmfRxConfig {
    /// Weakest accepted tone, dBm0, per tone. Default −32 dBm0: the −24 dBm0 floor of the
    /// operate range, plus margin for the bin loss of a 1.5 % deviated tone and for windows
    /// partly covering the tone edges.
    pub min_level_dbm0: f32,
    /// Largest accepted "normal" twist (low group above high group), dB. Default 11: Q.24
    /// asks for 8 dB; a +1.5 % deviated 1633 Hz tone reads 1.4 dB low in its bin, and the
    /// loud low tone's side-lobe leaking into the weak high tone's bin swings it by up to
    /// ±2.3 dB from window to window at 8 dB twist.
    pub normal_twist_db: f32,
    /// Largest accepted reverse twist (high group above low group), dB. Default 5.0:
    /// 4 dB from Q.24 plus margin.
    pub reverse_twist_db: f32,
    /// Largest accepted frequency deviation, percent. Default 2.5: halfway between the
    /// must-accept 1.5 % and the must-reject 3.5 %.
    pub freq_tolerance_pct: f32,
}

impl Default for DtmfRxConfig {
    fn default() -> Self {
        Self {
            min_level_dbm0: -32.0,
            normal_twist_db: 11.0,
            reverse_twist_db: 5.0,
            freq_tolerance_pct: 2.5,
        }
    }
}

/// Something the receiver noticed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DtmfEvent {
    /// A digit is confirmed and still sounding: act on it now (barge-in).
    Start {
        /// The digit, one of `0-9 * # A-D`.
        digit: char,
        /// Sample index where the tone began.
        start: u64,
        /// Sample index at which it was confirmed (the end of the confirming window).
        confirmed: u64,
    },
    /// A confirmed digit has stopped.
    End {
        /// The digit.
        digit: char,
        /// Sample index where the tone began (same as in its `Start`).
        start: u64,
        /// Sample index just past the tone's end.
        end: u64,
    },
}

impl DtmfEvent {
    /// The digit this event is about.
    pub fn digit(&self) -> char {
        match *self {
            DtmfEvent::Start { digit, .. } | DtmfEvent::End { digit, .. } => digit,
        }
    }

    /// Tone duration in samples, for `End` events.
    pub fn duration(&self) -> Option<u64> {
        match *self {
            DtmfEvent::End { start, end, .. } => Some(end.saturating_sub(start)),
            DtmfEvent::Start { .. } => None,
        }
    }
}

/// One window's verdict.
#[derive(Debug, Clone, Copy)]
struct Hit {
    row: usize,
    col: usize,
    row_bin: Bin,
    col_bin: Bin,
}

#[derive(Debug, Clone, Copy)]
struct Current {
    row: usize,
    col: usize,
    start: u64,
    last_end: u64,
    misses: u32,
}

/// Streaming DTMF receiver. Feed any number of samples at a time with [`DtmfRx::rx`].
#[derive(Debug, Clone)]
pub struct DtmfRx {
    bank: GoertzelBank<8>,
    block: BlockBuf<WINDOW>,
    /// Second half of the previous block and its energy (`None` before the first block).
    prev_half: Option<([Bin; 8], f32)>,
    /// Minimum tone energy per window.
    threshold: f32,
    normal_twist: f32,
    reverse_twist: f32,
    relative_peak: f32,
    /// Expected bin rotation from one window to the next, `e^{-jω·HOP}` (conjugated).
    unrotate: [Bin; 8],
    /// Largest accepted rotation error per bin, radians.
    max_phase: [f32; 8],
    /// Run of consecutive consistent hits: digit, start, count, last window's bins.
    run: Option<(Hit, u64, u32)>,
    current: Option<Current>,
}

impl DtmfRx {
    /// A receiver with [`DtmfRxConfig::default`].
    pub fn new() -> Self {
        // The defaults are in range by construction.
        Self::build(&DtmfRxConfig::default())
    }

    /// A receiver with explicit settings.
    ///
    /// # Errors
    /// [`DtmfError::OutOfRange`] for a level outside −60…0 dBm0, twist outside 0…20 dB or
    /// a tolerance outside 0.5…6 %.
    pub fn with_config(cfg: &DtmfRxConfig) -> Result<Self, DtmfError> {
        check("min_level_dbm0", cfg.min_level_dbm0, -60.0, 0.0)?;
        check("normal_twist_db", cfg.normal_twist_db, 0.0, 20.0)?;
        check("reverse_twist_db", cfg.reverse_twist_db, 0.0, 20.0)?;
        check("freq_tolerance_pct", cfg.freq_tolerance_pct, 0.5, 6.0)?;
        Ok(Self::build(cfg))
    }

    fn build(cfg: &DtmfRxConfig) -> Self {
        let mut freqs = [0.0; 8];
        freqs[..4].copy_from_slice(&ROW_HZ);
        freqs[4..].copy_from_slice(&COL_HZ);
        let mut unrotate = [Bin::default(); 8];
        let mut max_phase = [0.0; 8];
        for k in 0..8 {
            let w = phase_step(freqs[k]);
            unrotate[k] = Bin::from_angle(-w * HOP as f32);
            max_phase[k] = w * HOP as f32 * cfg.freq_tolerance_pct / 100.0;
        }
        Self {
            bank: GoertzelBank::new(freqs, WINDOW),
            block: BlockBuf::new(),
            prev_half: None,
            threshold: dbm0_to_mean_square(cfg.min_level_dbm0) * WINDOW as f32,
            normal_twist: 10f32.powf(cfg.normal_twist_db / 10.0),
            reverse_twist: 10f32.powf(cfg.reverse_twist_db / 10.0),
            relative_peak: 10f32.powf(RELATIVE_PEAK_DB / 10.0),
            unrotate,
            max_phase,
            run: None,
            current: None,
        }
    }

    /// Samples consumed since creation.
    pub fn position(&self) -> u64 {
        self.block.position()
    }

    /// The digit currently confirmed and sounding, if any.
    pub fn current_digit(&self) -> Option<char> {
        self.current.map(|c| KEYPAD[c.row][c.col])
    }

    /// Process `samples`, calling `on_event` for each digit start and end, in order.
    pub fn rx<F: FnMut(DtmfEvent)>(&mut self, mut samples: &[i16], mut on_event: F) {
        while !samples.is_empty() {
            if self.block.take(&mut samples) {
                self.process_block(&mut on_event);
                self.block.next();
            }
        }
    }

    fn process_block<F: FnMut(DtmfEvent)>(&mut self, on_event: &mut F) {
        let buf = &self.block.buf;
        let (a, b) = self.bank.run_halves(buf);
        let ea = energy(&buf[..HOP]);
        let eb = energy(&buf[HOP..]);
        let buf_start = self.block.start;
        if let Some((pb, pe)) = self.prev_half {
            // Window spanning the previous block's second half and this block's first.
            let w = self.bank.join(&pb, &a);
            let end = buf_start + HOP as u64;
            self.window(&w, pe + ea, end, on_event);
        }
        let w = self.bank.join(&a, &b);
        let end = buf_start + WINDOW as u64;
        self.window(&w, ea + eb, end, on_event);
        self.prev_half = Some((b, eb));
    }

    fn classify(&self, bins: &[Bin; 8], total: f32) -> Option<Hit> {
        let mut p = [0.0f32; 8];
        for k in 0..8 {
            p[k] = bins[k].tone_energy(WINDOW);
        }
        let best = |lo: usize| {
            let mut i = lo;
            for k in lo + 1..lo + 4 {
                if p[k] > p[i] {
                    i = k;
                }
            }
            i
        };
        let r = best(0);
        let c = best(4);
        let (pr, pc) = (p[r], p[c]);
        if pr < self.threshold || pc < self.threshold {
            return None;
        }
        if pr > pc * self.normal_twist || pc > pr * self.reverse_twist {
            return None;
        }
        for (k, &pk) in p.iter().enumerate() {
            let peak = if k < 4 { pr } else { pc };
            if k != r && k != c && pk * self.relative_peak > peak {
                return None;
            }
        }
        if pr + pc < TONE_TO_TOTAL * total {
            return None;
        }
        Some(Hit {
            row: r,
            col: c - 4,
            row_bin: bins[r],
            col_bin: bins[c],
        })
    }

    /// Does `now` continue `prev` as the same tone pair within the frequency tolerance?
    fn consistent(&self, prev: &Hit, now: &Hit) -> bool {
        if prev.row != now.row || prev.col != now.col {
            return false;
        }
        let ok = |k: usize, a: Bin, b: Bin| {
            let err = b.mul_conj(a).times(self.unrotate[k]).arg();
            err.abs() <= self.max_phase[k]
        };
        ok(now.row, prev.row_bin, now.row_bin) && ok(now.col + 4, prev.col_bin, now.col_bin)
    }

    fn window<F: FnMut(DtmfEvent)>(
        &mut self,
        bins: &[Bin; 8],
        total: f32,
        end: u64,
        on_event: &mut F,
    ) {
        let start = end.saturating_sub(WINDOW as u64);
        let hit = self.classify(bins, total);
        self.run = match (hit, self.run) {
            (Some(h), Some((prev, run_start, n))) if self.consistent(&prev, &h) => {
                Some((h, run_start, n.saturating_add(1)))
            }
            (Some(h), _) => Some((h, start, 1)),
            (None, _) => None,
        };
        if let Some(cur) = self.current.as_mut() {
            if hit.is_some_and(|h| h.row == cur.row && h.col == cur.col) {
                cur.misses = 0;
                cur.last_end = end;
            } else {
                cur.misses += 1;
                if cur.misses >= END_MISSES {
                    on_event(DtmfEvent::End {
                        digit: KEYPAD[cur.row][cur.col],
                        start: cur.start,
                        end: cur.last_end,
                    });
                    self.current = None;
                }
            }
        }
        if self.current.is_none() {
            if let Some((h, run_start, n)) = self.run {
                if n >= CONFIRM_WINDOWS {
                    self.current = Some(Current {
                        row: h.row,
                        col: h.col,
                        start: run_start,
                        last_end: end,
                        misses: 0,
                    });
                    on_event(DtmfEvent::Start {
                        digit: KEYPAD[h.row][h.col],
                        start: run_start,
                        confirmed: end,
                    });
                }
            }
        }
    }
}

impl Default for DtmfRx {
    fn default() -> Self {
        Self::new()
    }
}

/// Generator settings.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DtmfTxConfig {
    /// Tone-on time per digit, ms. Default 100.
    pub on_ms: u32,
    /// Silence after each digit, ms. Default 100.
    pub off_ms: u32,
    /// Level of the low-group tone, dBm0. Default −10.
    pub level_dbm0: f32,
    /// High-group level minus low-group level, dB (positive = high group louder, the usual
    /// "pre-emphasis" of real phones). Default +2.
    pub twist_db: f32,
}

impl Default for DtmfTxConfig {
    fn default() -> Self {
        Self {
            on_ms: 100,
            off_ms: 100,
            level_dbm0: -10.0,
            twist_db: 2.0,
        }
    }
}

/// Digits the generator can hold.
pub const TX_QUEUE: usize = 64;

/// DTMF generator. Queue digits with [`DtmfTx::put`], render with [`DtmfTx::tx`].
#[derive(Debug, Clone)]
pub struct DtmfTx {
    queue: heapless::Deque<char, TX_QUEUE>,
    on: u32,
    off: u32,
    amp_low: f32,
    amp_high: f32,
    /// Digit being played: phase steps and position within on+off.
    playing: Option<(f32, f32)>,
    pos: u32,
    phase_low: Phase,
    phase_high: Phase,
}

impl DtmfTx {
    /// A generator with [`DtmfTxConfig::default`].
    pub fn new() -> Self {
        Self::build(&DtmfTxConfig::default())
    }

    /// A generator with explicit settings.
    ///
    /// # Errors
    /// [`DtmfError::OutOfRange`] for on time outside 10…10 000 ms, off time over 10 000 ms,
    /// level outside −60…0 dBm0 or twist outside ±20 dB; the high tone may not exceed
    /// +3 dBm0 (clipping).
    pub fn with_config(cfg: &DtmfTxConfig) -> Result<Self, DtmfError> {
        check("on_ms", cfg.on_ms as f32, 10.0, 10_000.0)?;
        check("off_ms", cfg.off_ms as f32, 0.0, 10_000.0)?;
        check("level_dbm0", cfg.level_dbm0, -60.0, 0.0)?;
        check("twist_db", cfg.twist_db, -20.0, 20.0)?;
        check(
            "level_dbm0 + twist_db",
            cfg.level_dbm0 + cfg.twist_db,
            -80.0,
            3.0,
        )?;
        Ok(Self::build(cfg))
    }

    fn build(cfg: &DtmfTxConfig) -> Self {
        Self {
            queue: heapless::Deque::new(),
            on: crate::ms_to_samples(cfg.on_ms) as u32,
            off: crate::ms_to_samples(cfg.off_ms) as u32,
            amp_low: dbm0_to_amplitude(cfg.level_dbm0),
            amp_high: dbm0_to_amplitude(cfg.level_dbm0 + cfg.twist_db),
            playing: None,
            pos: 0,
            phase_low: Phase::default(),
            phase_high: Phase::default(),
        }
    }

    /// Queue `digits` (`0-9 * # A-D`, case-insensitive). All or nothing.
    ///
    /// # Errors
    /// [`DtmfError::InvalidDigit`] or [`DtmfError::QueueFull`]; nothing is queued then.
    pub fn put(&mut self, digits: &str) -> Result<(), DtmfError> {
        let mut n = 0;
        for c in digits.chars() {
            normalise_digit(c).ok_or(DtmfError::InvalidDigit(c))?;
            n += 1;
        }
        if self.queue.len() + n > TX_QUEUE {
            return Err(DtmfError::QueueFull {
                queued: self.queue.len(),
                requested: n,
                capacity: TX_QUEUE,
            });
        }
        for c in digits.chars().filter_map(normalise_digit) {
            // Capacity was checked above; a failure here is impossible but harmless.
            let _ = self.queue.push_back(c);
        }
        Ok(())
    }

    /// True while digits are queued or one is still playing (including its off time).
    pub fn busy(&self) -> bool {
        self.playing.is_some() || !self.queue.is_empty()
    }

    /// Drop queued digits and stop the current one at once.
    pub fn clear(&mut self) {
        self.queue.clear();
        self.playing = None;
    }

    /// Fill `out` with signal; returns how many samples were generated. The rest of `out`
    /// (after the queue runs dry) is filled with silence.
    pub fn tx(&mut self, out: &mut [i16]) -> usize {
        let mut written = 0;
        for o in out.iter_mut() {
            if self.playing.is_none() {
                let Some(d) = self.queue.pop_front() else {
                    *o = 0;
                    continue;
                };
                let Some((r, c)) = digit_pos(d) else {
                    *o = 0;
                    continue;
                };
                self.playing = Some((phase_step(ROW_HZ[r]), phase_step(COL_HZ[c])));
                self.pos = 0;
                self.phase_low = Phase::default();
                self.phase_high = Phase::default();
            }
            let Some((sl, sh)) = self.playing else {
                *o = 0;
                continue;
            };
            *o = if self.pos < self.on {
                let v = self.amp_low * self.phase_low.sin_then_advance(sl)
                    + self.amp_high * self.phase_high.sin_then_advance(sh);
                v.round().clamp(-32768.0, 32767.0) as i16
            } else {
                0
            };
            written += 1;
            self.pos += 1;
            if self.pos >= self.on + self.off {
                self.playing = None;
            }
        }
        written
    }
}

impl Default for DtmfTx {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn detect(x: &[i16]) -> Vec<DtmfEvent> {
        let mut rx = DtmfRx::new();
        let mut ev = Vec::new();
        rx.rx(x, |e| ev.push(e));
        ev
    }

    fn digits(ev: &[DtmfEvent]) -> String {
        ev.iter()
            .filter(|e| matches!(e, DtmfEvent::Start { .. }))
            .map(DtmfEvent::digit)
            .collect()
    }

    #[test]
    fn own_generator_round_trip_all_digits() {
        let mut tx = DtmfTx::new();
        tx.put("123A456B789C*0#D").unwrap();
        let mut x = vec![0i16; 16 * 1600 + 800];
        tx.tx(&mut x);
        let ev = detect(&x);
        assert_eq!(digits(&ev), "123A456B789C*0#D");
        let ends = ev
            .iter()
            .filter_map(DtmfEvent::duration)
            .collect::<Vec<_>>();
        assert_eq!(ends.len(), 16);
        for d in ends {
            assert!((750..=860).contains(&d), "duration {d}");
        }
    }

    #[test]
    fn slice_length_does_not_change_events() {
        let mut tx = DtmfTx::new();
        tx.put("59#").unwrap();
        let mut x = vec![0i16; 5000];
        tx.tx(&mut x);
        let whole = detect(&x);
        for chunk in [1usize, 7, 51, 160, 333] {
            let mut rx = DtmfRx::new();
            let mut ev = Vec::new();
            for c in x.chunks(chunk) {
                rx.rx(c, |e| ev.push(e));
            }
            assert_eq!(ev, whole, "chunk {chunk}");
        }
    }

    #[test]
    fn tx_rejects_bad_digit_and_overflow() {
        let mut tx = DtmfTx::new();
        assert_eq!(tx.put("12x"), Err(DtmfError::InvalidDigit('x')));
        assert!(!tx.busy());
        tx.put(&"1".repeat(TX_QUEUE)).unwrap();
        assert!(matches!(tx.put("2"), Err(DtmfError::QueueFull { .. })));
    }

    #[test]
    fn config_out_of_range_is_an_error() {
        let cfg = DtmfRxConfig {
            min_level_dbm0: f32::NAN,
            ..DtmfRxConfig::default()
        };
        assert!(DtmfRx::with_config(&cfg).is_err());
        let cfg = DtmfTxConfig {
            on_ms: 0,
            ..DtmfTxConfig::default()
        };
        assert!(DtmfTx::with_config(&cfg).is_err());
    }

    #[test]
    fn garbage_input_never_panics() {
        let mut rx = DtmfRx::new();
        let mut x = vec![0i16; 4096];
        let mut s = 1u32;
        for v in &mut x {
            s = s.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            *v = (s >> 16) as i16;
        }
        x[100..200].fill(i16::MAX);
        x[300..400].fill(i16::MIN);
        let mut n = 0;
        rx.rx(&x, |_| n += 1);
        assert_eq!(n, 0);
    }
}
