//! Telephony channels and spans.
//!
//! A channel is one line (an FXO port, an E1 timeslot, the local headset); a span is the set
//! of channels clocked together by one card. The real-time loop of the daemon waits for a
//! span's tick, then reads one frame from and writes one frame to each channel.

use crate::Result;

/// Line audio sample rate.
pub const SAMPLE_RATE: u32 = 8000;
/// Duration of one audio frame.
pub const FRAME_MS: u32 = 20;
/// Samples in one audio frame (20 ms at 8 kHz).
pub const FRAME_SAMPLES: usize = (SAMPLE_RATE * FRAME_MS / 1000) as usize;

/// One 20 ms frame of companded line audio, in the channel's [`Law`].
pub type AudioFrame = [u8; FRAME_SAMPLES];

/// G.711 companding law of a channel's audio.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Law {
    /// A-law: E1 and China.
    Alaw,
    /// µ-law: T1 and North America.
    Ulaw,
}

/// How a channel signals calls. Names follow DAHDI's `system.conf` (the signalling the
/// *card* uses towards the line: an FXO port uses FXS signalling).
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Signalling {
    /// FXO port, loop start (`fxs_ls`).
    FxsLoopStart,
    /// FXO port, kewl start: loop start plus loop-current-drop disconnect (`fxs_ks`).
    FxsKewlStart,
    /// A local audio device used as a line (headset on the audio jack).
    Local,
}

/// Static facts about a channel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChannelInfo {
    /// Channel number as configured (DAHDI numbering: 1-based across the box).
    pub number: u32,
    /// Companding law of the channel's audio.
    pub law: Law,
    /// Signalling used on the channel.
    pub signalling: Signalling,
}

/// Something the line did.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LineEvent {
    /// Ringing voltage started.
    RingOn,
    /// Ringing voltage stopped.
    RingOff,
    /// The exchange reversed the line polarity (answer or disconnect supervision).
    PolarityReversal,
    /// Loop current dropped while off hook (far-end disconnect on kewl start lines).
    LoopCurrentDrop,
    /// A hook change requested with [`Channel::set_hook`] has completed.
    HookComplete(HookCommand),
    /// The span or line went into alarm.
    Alarm,
    /// The alarm cleared.
    AlarmCleared,
}

/// A hook change the channel is asked to make.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum HookCommand {
    /// Hang up (release the loop).
    OnHook,
    /// Seize the line (close the loop): answer a ringing call or start an outbound one.
    OffHook,
    /// A timed on-hook pulse (hook flash) used to ask the PBX for a transfer.
    Flash,
}

/// One telephony line.
///
/// Implementations must not allocate per frame. `read_frame`/`write_frame` are called once per
/// span tick from the real-time thread.
pub trait Channel: Send {
    /// Static facts about the channel.
    fn info(&self) -> &ChannelInfo;
    /// Change the hook state; completion is reported as [`LineEvent::HookComplete`].
    fn set_hook(&mut self, cmd: HookCommand) -> Result<()>;
    /// The next pending line event, if any. Never blocks.
    fn poll_event(&mut self) -> Result<Option<LineEvent>>;
    /// Read the frame received during the last tick.
    fn read_frame(&mut self, frame: &mut AudioFrame) -> Result<()>;
    /// Queue the frame to send during the next tick.
    fn write_frame(&mut self, frame: &AudioFrame) -> Result<()>;
}

/// Health of a span as reported by its card.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SpanStatus {
    /// The span is in alarm (loss of signal, framing, or card fault).
    pub alarm: bool,
    /// Frames whose deadline was missed since the span opened.
    pub slips: u64,
}

/// Channels clocked together by one card.
pub trait Span: Send {
    /// The channel type of this back-end.
    type Channel: Channel;
    /// Span name for logs ("sim0", "dahdi span 1").
    fn name(&self) -> &str;
    /// Current health.
    fn status(&self) -> SpanStatus;
    /// Block until the next 20 ms period: afterwards every channel has one frame to read
    /// and accepts one frame to write.
    fn wait_tick(&mut self) -> Result<()>;
    /// The channels of the span.
    fn channels_mut(&mut self) -> &mut [Self::Channel];
}
