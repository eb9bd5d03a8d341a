//! A local audio device presented as a telephone line.
//!
//! A field engineer plugs a headset into the audio jack and "calls" the IVR without a PBX:
//! lifting the handset (front button or CLI, through [`LocalLineHandle::lift`]) makes the line
//! ring once (`RingOn`, `RingOff`) so the IVR answers as it would on any line; hanging up
//! ([`LocalLineHandle::hang_up`]) drops loop current (`LoopCurrentDrop`), the disconnect
//! signal of a kewl-start line. Audio is converted between the device's linear samples and the
//! line's G.711 law. The [`LocalSpan`]'s tick is the device's capture clock: one captured
//! period is one tick.
//!
//! Xruns on the device are counted as slips rather than failing the line: a headset that
//! glitches must not hang up the engineer's call.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, MutexGuard};

use yingda_dsp::g711;
use yingda_hal::{
    AudioDevice, AudioFrame, Channel, ChannelInfo, Error, ErrorKind, HookCommand, Law, LineEvent,
    PcmFrame, Result, Signalling, Span, SpanStatus, FRAME_SAMPLES,
};

/// What the handset did, waiting for the line to report it.
#[derive(Debug, Default)]
struct Handset {
    lifted: bool,
    events: VecDeque<LineEvent>,
}

fn lock(m: &Mutex<Handset>) -> MutexGuard<'_, Handset> {
    // Plain data: a panic elsewhere while holding the lock leaves nothing half-updated.
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// Lifts and hangs up the local handset from another thread (front button, CLI).
#[derive(Debug, Clone)]
pub struct LocalLineHandle {
    handset: Arc<Mutex<Handset>>,
}

impl LocalLineHandle {
    /// Lift the handset: the IVR sees one ring. Does nothing if already lifted.
    pub fn lift(&self) {
        let mut h = lock(&self.handset);
        if !h.lifted {
            h.lifted = true;
            h.events.push_back(LineEvent::RingOn);
            h.events.push_back(LineEvent::RingOff);
        }
    }

    /// Hang up the handset: the IVR sees loop current drop. Does nothing if not lifted.
    pub fn hang_up(&self) {
        let mut h = lock(&self.handset);
        if h.lifted {
            h.lifted = false;
            h.events.push_back(LineEvent::LoopCurrentDrop);
        }
    }

    /// Whether the handset is lifted.
    pub fn lifted(&self) -> bool {
        lock(&self.handset).lifted
    }
}

/// A local audio device as a [`Channel`] with [`Signalling::Local`].
#[derive(Debug)]
pub struct LocalLine<A: AudioDevice> {
    device: A,
    info: ChannelInfo,
    handset: Arc<Mutex<Handset>>,
    own: VecDeque<LineEvent>,
    offhook: bool,
    rx: AudioFrame,
    slips: u64,
}

impl<A: AudioDevice> LocalLine<A> {
    /// A local line numbered `number` carrying `law` audio over `device`.
    pub fn new(device: A, number: u32, law: Law) -> Self {
        Self {
            device,
            info: ChannelInfo {
                number,
                law,
                signalling: Signalling::Local,
            },
            handset: Arc::new(Mutex::new(Handset::default())),
            own: VecDeque::with_capacity(4),
            offhook: false,
            rx: [g711::silence(law); FRAME_SAMPLES],
            slips: 0,
        }
    }

    /// A handle for the front button or CLI.
    pub fn handle(&self) -> LocalLineHandle {
        LocalLineHandle {
            handset: self.handset.clone(),
        }
    }

    /// The audio device.
    pub fn device_mut(&mut self) -> &mut A {
        &mut self.device
    }

    /// Device xruns since the line was made.
    pub fn slips(&self) -> u64 {
        self.slips
    }

    fn connected(&self) -> bool {
        self.offhook && lock(&self.handset).lifted
    }

    /// Capture one period from the device: the span's tick.
    fn capture(&mut self) -> Result<()> {
        let mut pcm: PcmFrame = [0; FRAME_SAMPLES];
        match self.device.read_frame(&mut pcm) {
            Ok(()) => {}
            Err(e) if e.kind() == ErrorKind::Overrun => {
                self.slips += 1;
                pcm = [0; FRAME_SAMPLES];
            }
            Err(e) => return Err(e),
        }
        if self.connected() {
            g711::encode(self.info.law, &pcm, &mut self.rx);
        } else {
            self.rx = [g711::silence(self.info.law); FRAME_SAMPLES];
        }
        Ok(())
    }
}

impl<A: AudioDevice> Channel for LocalLine<A> {
    fn info(&self) -> &ChannelInfo {
        &self.info
    }

    fn set_hook(&mut self, cmd: HookCommand) -> Result<()> {
        match cmd {
            HookCommand::OffHook => self.offhook = true,
            HookCommand::OnHook => self.offhook = false,
            HookCommand::Flash => {
                return Err(Error::new(
                    ErrorKind::Unsupported,
                    format!(
                        "local line {}: no exchange behind the headset to flash to",
                        self.info.number
                    ),
                ))
            }
        }
        self.own.push_back(LineEvent::HookComplete(cmd));
        Ok(())
    }

    fn poll_event(&mut self) -> Result<Option<LineEvent>> {
        if let Some(e) = self.own.pop_front() {
            return Ok(Some(e));
        }
        Ok(lock(&self.handset).events.pop_front())
    }

    fn read_frame(&mut self, frame: &mut AudioFrame) -> Result<()> {
        *frame = self.rx;
        Ok(())
    }

    fn write_frame(&mut self, frame: &AudioFrame) -> Result<()> {
        let mut pcm: PcmFrame = [0; FRAME_SAMPLES];
        // Keep the device fed even when nobody is on the line, or every call would start with
        // an underrun.
        if self.connected() {
            g711::decode(self.info.law, frame, &mut pcm);
        }
        match self.device.write_frame(&pcm) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == ErrorKind::Underrun => {
                self.slips += 1;
                Ok(())
            }
            Err(e) => Err(e),
        }
    }
}

/// A span of one [`LocalLine`], clocked by the device's capture.
#[derive(Debug)]
pub struct LocalSpan<A: AudioDevice> {
    name: String,
    lines: [LocalLine<A>; 1],
}

impl<A: AudioDevice> LocalSpan<A> {
    /// A span named `name` holding `line`.
    pub fn new(name: &str, line: LocalLine<A>) -> Self {
        Self {
            name: name.to_owned(),
            lines: [line],
        }
    }
}

impl<A: AudioDevice> Span for LocalSpan<A> {
    type Channel = LocalLine<A>;

    fn name(&self) -> &str {
        &self.name
    }

    fn status(&self) -> SpanStatus {
        SpanStatus {
            alarm: false,
            slips: self.lines[0].slips,
        }
    }

    fn wait_tick(&mut self) -> Result<()> {
        self.lines[0].capture()
    }

    fn channels_mut(&mut self) -> &mut [LocalLine<A>] {
        &mut self.lines
    }
}
