//! A capture + playback pair of ALSA PCMs.

use alsa::pcm::{Access, Format, HwParams, State, PCM};
use alsa::{Direction, ValueOr};
use yingda_hal::{AudioDevice, Error, ErrorKind, PcmFrame, Result, FRAME_SAMPLES, SAMPLE_RATE};

/// Frames per ALSA period: one 20 ms HAL frame.
pub const PERIOD_FRAMES: usize = FRAME_SAMPLES;
/// Periods in the ALSA buffer: 80 ms of slack for the real-time loop.
const PERIODS: usize = 4;
/// Bytes in one period of S16 mono.
const PERIOD_BYTES: usize = PERIOD_FRAMES * 2;

/// A HAL error from an alsa-lib error.
fn alsa_error(context: String, e: alsa::Error) -> Error {
    Error::from_io(context, std::io::Error::from_raw_os_error(e.errno())).with_source(e)
}

fn dir_name(dir: Direction) -> &'static str {
    match dir {
        Direction::Capture => "capture",
        Direction::Playback => "playback",
    }
}

/// Open `name` in `dir` and set it to 8 kHz mono S16, 160-frame periods.
fn open_pcm(name: &str, dir: Direction) -> Result<PCM> {
    let what = dir_name(dir);
    let pcm = PCM::new(name, dir, false)
        .map_err(|e| alsa_error(format!("open ALSA {what} PCM {name:?}"), e))?;
    let cfg = |e: alsa::Error| alsa_error(format!("configure ALSA {what} PCM {name:?}"), e);
    {
        let hw = HwParams::any(&pcm).map_err(cfg)?;
        hw.set_access(Access::RWInterleaved).map_err(cfg)?;
        hw.set_format(Format::s16()).map_err(cfg)?;
        hw.set_channels(1).map_err(cfg)?;
        hw.set_rate(SAMPLE_RATE, ValueOr::Nearest).map_err(cfg)?;
        hw.set_period_size_near(PERIOD_FRAMES as alsa::pcm::Frames, ValueOr::Nearest)
            .map_err(cfg)?;
        hw.set_buffer_size_near((PERIOD_FRAMES * PERIODS) as alsa::pcm::Frames)
            .map_err(cfg)?;
        pcm.hw_params(&hw).map_err(cfg)?;
    }
    let (rate, period) = {
        let hw = pcm.hw_params_current().map_err(cfg)?;
        (
            hw.get_rate().map_err(cfg)?,
            hw.get_period_size().map_err(cfg)?,
        )
    };
    if rate != SAMPLE_RATE || period != PERIOD_FRAMES as alsa::pcm::Frames {
        return Err(Error::new(
            ErrorKind::InvalidConfig,
            format!(
                "ALSA {what} PCM {name:?} runs at {rate} Hz with {period}-frame periods; need {SAMPLE_RATE} Hz \
                 and {PERIOD_FRAMES} (use a plug: PCM)"
            ),
        ));
    }
    if dir == Direction::Playback {
        // Start playing once two periods are queued: 40 ms latency, 40 ms of slack.
        let sw = pcm.sw_params_current().map_err(cfg)?;
        sw.set_start_threshold((PERIOD_FRAMES * 2) as alsa::pcm::Frames)
            .map_err(cfg)?;
        pcm.sw_params(&sw).map_err(cfg)?;
        drop(sw);
    }
    Ok(pcm)
}

/// Handle an error from a read or write: recover from xruns and suspends, then report.
///
/// The frame of the failed call is lost: a capture overrun leaves the caller's buffer as it
/// was, a playback underrun drops the frame. The next call works on the recovered stream.
pub(crate) fn xrun(pcm: &PCM, name: &str, dir: Direction, e: alsa::Error) -> Error {
    let what = dir_name(dir);
    let errno = e.errno();
    if errno == libc::EPIPE || errno == libc::ESTRPIPE {
        if let Err(e2) = pcm.recover(-errno, true) {
            return alsa_error(format!("recover ALSA {what} PCM {name:?} after xrun"), e2);
        }
        let kind = match dir {
            Direction::Capture => ErrorKind::Overrun,
            Direction::Playback => ErrorKind::Underrun,
        };
        return Error::new(
            kind,
            format!("ALSA {what} PCM {name:?}: xrun, stream recovered"),
        )
        .with_source(e);
    }
    alsa_error(
        format!(
            "{} ALSA {what} PCM {name:?}",
            if dir == Direction::Capture {
                "read"
            } else {
                "write"
            }
        ),
        e,
    )
}

/// A local audio device on ALSA.
pub struct AlsaDevice {
    name: String,
    capture_name: String,
    playback_name: String,
    capture: PCM,
    playback: PCM,
}

impl std::fmt::Debug for AlsaDevice {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AlsaDevice")
            .field("capture", &self.capture_name)
            .field("playback", &self.playback_name)
            .finish_non_exhaustive()
    }
}

impl AlsaDevice {
    /// Open the `capture` and `playback` PCMs (ALSA names, e.g. `"plughw:1,0"`).
    pub fn open(capture: &str, playback: &str) -> Result<Self> {
        let capture_pcm = open_pcm(capture, Direction::Capture)?;
        let playback_pcm = open_pcm(playback, Direction::Playback)?;
        Ok(Self {
            name: format!("alsa {capture}/{playback}"),
            capture_name: capture.to_owned(),
            playback_name: playback.to_owned(),
            capture: capture_pcm,
            playback: playback_pcm,
        })
    }

    /// Block until everything written has been played (before closing on shutdown).
    pub fn drain(&mut self) -> Result<()> {
        if self.playback.state() == State::Running {
            self.playback.drain().map_err(|e| {
                alsa_error(
                    format!("drain ALSA playback PCM {:?}", self.playback_name),
                    e,
                )
            })?;
        }
        Ok(())
    }

    /// State of the capture and playback streams, for diagnostics.
    pub fn states(&self) -> (State, State) {
        (self.capture.state(), self.playback.state())
    }
}

impl AudioDevice for AlsaDevice {
    fn name(&self) -> &str {
        &self.name
    }

    fn read_frame(&mut self, frame: &mut PcmFrame) -> Result<()> {
        let mut bytes = [0u8; PERIOD_BYTES];
        let mut done = 0;
        while done < PERIOD_FRAMES {
            let io = self.capture.io_bytes();
            match io.readi(&mut bytes[done * 2..]) {
                Ok(0) => {
                    return Err(Error::new(
                        ErrorKind::Io,
                        format!(
                            "read ALSA capture PCM {:?}: stream ended",
                            self.capture_name
                        ),
                    ))
                }
                Ok(n) => done += n,
                Err(e) if e.errno() == libc::EINTR || e.errno() == libc::EAGAIN => {}
                Err(e) => {
                    return Err(xrun(
                        &self.capture,
                        &self.capture_name,
                        Direction::Capture,
                        e,
                    ))
                }
            }
        }
        for (s, b) in frame.iter_mut().zip(bytes.chunks_exact(2)) {
            *s = i16::from_ne_bytes([b[0], b[1]]);
        }
        Ok(())
    }

    fn write_frame(&mut self, frame: &PcmFrame) -> Result<()> {
        let mut bytes = [0u8; PERIOD_BYTES];
        for (b, s) in bytes.chunks_exact_mut(2).zip(frame.iter()) {
            b.copy_from_slice(&s.to_ne_bytes());
        }
        let mut done = 0;
        while done < PERIOD_FRAMES {
            let io = self.playback.io_bytes();
            match io.writei(&bytes[done * 2..]) {
                Ok(0) => {
                    return Err(Error::new(
                        ErrorKind::Io,
                        format!(
                            "write ALSA playback PCM {:?}: no progress",
                            self.playback_name
                        ),
                    ))
                }
                Ok(n) => done += n,
                Err(e) if e.errno() == libc::EINTR || e.errno() == libc::EAGAIN => {}
                Err(e) => {
                    return Err(xrun(
                        &self.playback,
                        &self.playback_name,
                        Direction::Playback,
                        e,
                    ))
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // "null" comes from the system alsa.conf.

    #[test]
    fn xrun_is_recovered_and_reported_by_direction() {
        for (dir, kind) in [
            (Direction::Capture, ErrorKind::Overrun),
            (Direction::Playback, ErrorKind::Underrun),
        ] {
            let pcm = open_pcm("null", dir).unwrap();
            // Leave the stream stopped, as after an xrun, so that recovery has work to do.
            pcm.drop().unwrap();
            assert_eq!(pcm.state(), State::Setup);
            let e = xrun(
                &pcm,
                "null",
                dir,
                alsa::Error::new("snd_pcm_readi", libc::EPIPE),
            );
            assert_eq!(e.kind(), kind);
            assert!(e.to_string().contains("recovered"), "{e}");
            assert_eq!(
                pcm.state(),
                State::Prepared,
                "{dir:?} stream prepared again"
            );
        }
    }

    #[test]
    fn other_errors_are_not_xruns() {
        let pcm = open_pcm("null", Direction::Capture).unwrap();
        let e = xrun(
            &pcm,
            "null",
            Direction::Capture,
            alsa::Error::new("snd_pcm_readi", libc::EIO),
        );
        assert_eq!(e.kind(), ErrorKind::Io);
        assert!(
            e.to_string().contains("read ALSA capture PCM \"null\""),
            "{e}"
        );
    }

    #[test]
    fn null_device_runs_frames_both_ways() {
        let mut dev = AlsaDevice::open("null", "null").unwrap();
        let mut frame: PcmFrame = [1; FRAME_SAMPLES];
        dev.read_frame(&mut frame).unwrap();
        dev.write_frame(&frame).unwrap();
        assert_eq!(dev.states().0, State::Running);
    }
}
