//! One DAHDI channel opened through the generic channel selector.

use std::collections::VecDeque;
use std::fs::{File, OpenOptions};
use std::io::{ErrorKind as IoKind, Read, Write};
use std::os::fd::AsRawFd;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use libc::c_int;
use nix::errno::Errno;
use yingda_dsp::g711;
use yingda_hal::{
    AudioFrame, Channel, ChannelInfo, Error, ErrorKind, HookCommand, Law, LineEvent, Result,
    Signalling, FRAME_SAMPLES,
};

use crate::abi::{self, DahdiGains, DahdiParams};
use crate::events::{map_event, HookState, Mapped};
use crate::gains::gain_table;

/// The generic channel selector device.
pub const DEFAULT_CHANNEL_DEVICE: &str = "/dev/dahdi/channel";

/// Highest channel number DAHDI allows (`DAHDI_MAX_CHANNELS` in user.h).
const MAX_CHANNEL: u32 = 1024;
/// The kernel queues at most this many events per channel (`DAHDI_MAX_EVENTSIZE`).
const MAX_EVENTS: usize = 64;

mod sys {
    use libc::c_int;

    use crate::abi::{self, DahdiGains, DahdiParams};

    nix::ioctl_write_ptr_bad!(specify, abi::DAHDI_SPECIFY, c_int);
    nix::ioctl_write_ptr_bad!(set_blocksize, abi::DAHDI_SET_BLOCKSIZE, c_int);
    nix::ioctl_write_ptr_bad!(set_law, abi::DAHDI_SETLAW, c_int);
    nix::ioctl_write_ptr_bad!(hook, abi::DAHDI_HOOK, c_int);
    nix::ioctl_write_ptr_bad!(flush, abi::DAHDI_FLUSH, c_int);
    nix::ioctl_read_bad!(get_event, abi::DAHDI_GETEVENT, c_int);
    nix::ioctl_readwrite_bad!(get_params, abi::DAHDI_GET_PARAMS, DahdiParams);
    nix::ioctl_write_ptr_bad!(set_gains, abi::DAHDI_SETGAINS, DahdiGains);
}

/// How to set up one channel.
#[derive(Debug, Clone, PartialEq)]
pub struct ChannelConfig {
    /// DAHDI channel number (1-based across the box, as in `system.conf`).
    pub number: u32,
    /// Companding law to run the channel in.
    pub law: Law,
    /// Receive gain in dB (`rxgain` in chan_dahdi.conf terms), within ±24 dB.
    pub rx_gain_db: f32,
    /// Transmit gain in dB, within ±24 dB.
    pub tx_gain_db: f32,
}

impl ChannelConfig {
    /// Channel `number` in A-law (China) with no gain.
    pub fn new(number: u32) -> Self {
        Self {
            number,
            law: Law::Alaw,
            rx_gain_db: 0.0,
            tx_gain_db: 0.0,
        }
    }
}

/// One FXO port driven through DAHDI.
#[derive(Debug)]
pub struct DahdiChannel {
    file: File,
    path: PathBuf,
    info: ChannelInfo,
    hook: HookState,
    events: VecDeque<LineEvent>,
    pub(crate) alarm: bool,
    pub(crate) slips: u64,
    removed: bool,
    unknown_events: u64,
    last_unknown_event: Option<i32>,
}

/// The signalling of an FXO port from DAHDI's `sigtype`, or `None` if this back-end does not
/// drive it.
pub(crate) fn signalling_from_sigtype(sigtype: c_int) -> Option<Signalling> {
    match sigtype {
        abi::DAHDI_SIG_FXSLS => Some(Signalling::FxsLoopStart),
        abi::DAHDI_SIG_FXSKS => Some(Signalling::FxsKewlStart),
        _ => None,
    }
}

/// The law of a channel from DAHDI's `curlaw`.
pub(crate) fn law_from_curlaw(curlaw: c_int) -> Option<Law> {
    match curlaw {
        abi::DAHDI_LAW_ALAW => Some(Law::Alaw),
        abi::DAHDI_LAW_MULAW => Some(Law::Ulaw),
        _ => None,
    }
}

fn law_code(law: Law) -> c_int {
    match law {
        Law::Alaw => abi::DAHDI_LAW_ALAW,
        Law::Ulaw => abi::DAHDI_LAW_MULAW,
    }
}

/// A HAL error for a failed ioctl.
fn ioctl_error(what: &str, path: &Path, number: u32, e: Errno) -> Error {
    let kind = match e {
        Errno::ENOTTY => ErrorKind::Unsupported,
        Errno::ENXIO | Errno::ENODEV => ErrorKind::NotFound,
        Errno::EBUSY | Errno::EINPROGRESS => ErrorKind::Busy,
        Errno::EPERM | Errno::EACCES => ErrorKind::PermissionDenied,
        Errno::EINVAL => ErrorKind::InvalidConfig,
        _ => ErrorKind::Io,
    };
    let hint = if e == Errno::ENOTTY {
        " (not a DAHDI device)"
    } else {
        ""
    };
    Error::new(
        kind,
        format!("{what} on {} channel {number}{hint}", path.display()),
    )
    .with_source(std::io::Error::from(e))
}

impl DahdiChannel {
    /// Open channel `config.number` through [`DEFAULT_CHANNEL_DEVICE`].
    pub fn open(config: &ChannelConfig) -> Result<Self> {
        Self::open_at(Path::new(DEFAULT_CHANNEL_DEVICE), config)
    }

    /// Open channel `config.number` through the channel selector at `device`.
    pub fn open_at(device: &Path, config: &ChannelConfig) -> Result<Self> {
        let number = config.number;
        if number == 0 || number > MAX_CHANNEL {
            return Err(Error::new(
                ErrorKind::InvalidConfig,
                format!("dahdi channel {number}: channel numbers run from 1 to {MAX_CHANNEL}"),
            ));
        }
        let gain = |db: f32, dir: &str| {
            gain_table(config.law, db).map_err(|e| {
                Error::new(
                    ErrorKind::InvalidConfig,
                    format!("dahdi channel {number}: {dir} gain"),
                )
                .with_source(e)
            })
        };
        let rx = gain(config.rx_gain_db, "receive")?;
        let tx = gain(config.tx_gain_db, "transmit")?;
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .custom_flags(libc::O_NONBLOCK)
            .open(device)
            .map_err(|e| {
                Error::from_io(format!("open {} for channel {number}", device.display()), e)
            })?;
        let mut ch = Self {
            file,
            path: device.to_path_buf(),
            info: ChannelInfo {
                number,
                law: config.law,
                signalling: Signalling::FxsKewlStart,
            },
            hook: HookState::default(),
            events: VecDeque::with_capacity(MAX_EVENTS),
            alarm: false,
            slips: 0,
            removed: false,
            unknown_events: 0,
            last_unknown_event: None,
        };
        // `number` is at most MAX_CHANNEL, so it fits.
        ch.ioctl_int("DAHDI_SPECIFY", sys::specify, number as c_int)?;
        ch.ioctl_int(
            "DAHDI_SET_BLOCKSIZE",
            sys::set_blocksize,
            FRAME_SAMPLES as c_int,
        )?;
        ch.ioctl_int("DAHDI_SETLAW", sys::set_law, law_code(config.law))?;
        let params = ch.params()?;
        ch.info.signalling = signalling_from_sigtype(params.sigtype).ok_or_else(|| {
            Error::new(
                ErrorKind::Unsupported,
                format!(
                    "dahdi channel {number}: signalling 0x{:x} is not an FXO port (configure fxs_ls or fxs_ks)",
                    params.sigtype
                ),
            )
        })?;
        if law_from_curlaw(params.curlaw) != Some(config.law) {
            return Err(Error::new(
                ErrorKind::Unsupported,
                format!(
                    "dahdi channel {number}: law {} requested, card runs law code {}",
                    law_name(config.law),
                    params.curlaw
                ),
            ));
        }
        ch.alarm = params.chan_alarms != 0;
        if config.rx_gain_db != 0.0 || config.tx_gain_db != 0.0 {
            let gains = DahdiGains {
                chan: 0,
                rxgain: rx,
                txgain: tx,
            };
            // SAFETY: `file` is an open fd owned by `ch`; `gains` is a live, properly laid out
            // `struct dahdi_gains` (checked against user.h) that the kernel only reads.
            unsafe { sys::set_gains(ch.file.as_raw_fd(), &gains) }
                .map_err(|e| ioctl_error("DAHDI_SETGAINS", &ch.path, number, e))?;
        }
        ch.ioctl_int("DAHDI_FLUSH", sys::flush, abi::DAHDI_FLUSH_ALL)?;
        Ok(ch)
    }

    fn ioctl_int(
        &self,
        what: &str,
        f: unsafe fn(c_int, *const c_int) -> nix::Result<c_int>,
        value: c_int,
    ) -> Result<()> {
        // SAFETY: every `f` passed here is one of the `sys` wrappers of an `_IOW(.., int)`
        // request; the kernel reads one int through the pointer, which points at a live local
        // for the duration of the call, and `file` is an open fd owned by `self`.
        unsafe { f(self.file.as_raw_fd(), &value) }
            .map(drop)
            .map_err(|e| ioctl_error(what, &self.path, self.info.number, e))
    }

    /// Current kernel parameters of the channel (`DAHDI_GET_PARAMS`).
    pub fn params(&self) -> Result<DahdiParams> {
        let mut p = DahdiParams::zeroed();
        // SAFETY: `p` is a live `struct dahdi_params` (layout checked against user.h) that the
        // kernel reads (`channo` 0: this fd's channel) and fills; `file` is an open fd.
        unsafe { sys::get_params(self.file.as_raw_fd(), &mut p) }
            .map_err(|e| ioctl_error("DAHDI_GET_PARAMS", &self.path, self.info.number, e))?;
        Ok(p)
    }

    /// Fetch one raw event code (0: none).
    fn get_event(&self) -> Result<c_int> {
        let mut code: c_int = 0;
        // SAFETY: `_IOR(.., int)`: the kernel writes one int to `code`, a live local;
        // `file` is an open fd owned by `self`.
        unsafe { sys::get_event(self.file.as_raw_fd(), &mut code) }
            .map_err(|e| ioctl_error("DAHDI_GETEVENT", &self.path, self.info.number, e))?;
        Ok(code)
    }

    /// Apply one raw event: returns the line event to report, if any.
    fn apply(&mut self, code: c_int) -> Option<LineEvent> {
        match map_event(code, &mut self.hook) {
            Mapped::Event(e) => {
                match e {
                    LineEvent::Alarm => self.alarm = true,
                    LineEvent::AlarmCleared => self.alarm = false,
                    _ => {}
                }
                Some(e)
            }
            Mapped::Slip => {
                self.slips += 1;
                None
            }
            Mapped::Ignored => None,
            Mapped::Removed => {
                self.removed = true;
                self.alarm = true;
                None
            }
            Mapped::Unknown(code) => {
                self.unknown_events += 1;
                self.last_unknown_event = Some(code);
                None
            }
        }
    }

    /// Move every event the kernel holds into our queue (a read or write returned `ELAST`, or
    /// poll reported an exception).
    pub(crate) fn drain_events(&mut self) -> Result<()> {
        for _ in 0..MAX_EVENTS {
            let code = self.get_event()?;
            if code == abi::DAHDI_EVENT_NONE {
                break;
            }
            if let Some(e) = self.apply(code) {
                if self.events.len() == MAX_EVENTS {
                    // Cannot happen with a kernel that queues at most MAX_EVENTS; keep the
                    // newest, which describe the line's current state.
                    self.events.pop_front();
                }
                self.events.push_back(e);
            }
        }
        self.check_removed()
    }

    /// One read or write of a frame (`what`), fetching the kernel's events whenever it answers
    /// `ELAST` and retrying after a signal. `Ok(None)`: the device had no room or no block.
    fn frame_io(
        &mut self,
        what: &str,
        mut op: impl FnMut(&mut File) -> std::io::Result<usize>,
    ) -> Result<Option<usize>> {
        for _ in 0..=MAX_EVENTS {
            match op(&mut self.file) {
                Ok(n) => return Ok(Some(n)),
                Err(e) if e.raw_os_error() == Some(abi::ELAST) => self.drain_events()?,
                Err(e) if e.kind() == IoKind::WouldBlock => return Ok(None),
                Err(e) if e.kind() == IoKind::Interrupted => {}
                Err(e) => {
                    return Err(Error::from_io(
                        format!("{what} dahdi channel {}", self.info.number),
                        e,
                    ));
                }
            }
        }
        Err(Error::new(
            ErrorKind::Io,
            format!(
                "{what} dahdi channel {}: events keep arriving",
                self.info.number
            ),
        ))
    }

    fn check_removed(&self) -> Result<()> {
        if self.removed {
            return Err(Error::new(
                ErrorKind::LineDown,
                format!(
                    "dahdi channel {}: card removed or driver unloaded",
                    self.info.number
                ),
            ));
        }
        Ok(())
    }

    /// Event codes seen that this back-end does not know, and the last such code.
    pub fn unknown_events(&self) -> (u64, Option<i32>) {
        (self.unknown_events, self.last_unknown_event)
    }

    /// Frames lost or padded on this channel since it opened.
    pub fn slips(&self) -> u64 {
        self.slips
    }

    /// The channel is in alarm.
    pub fn alarm(&self) -> bool {
        self.alarm
    }

    pub(crate) fn file(&self) -> &File {
        &self.file
    }
}

fn law_name(law: Law) -> &'static str {
    match law {
        Law::Alaw => "A-law",
        Law::Ulaw => "µ-law",
    }
}

impl Channel for DahdiChannel {
    fn info(&self) -> &ChannelInfo {
        &self.info
    }

    fn set_hook(&mut self, cmd: HookCommand) -> Result<()> {
        let value = match cmd {
            HookCommand::OnHook => abi::DAHDI_ONHOOK,
            HookCommand::OffHook => abi::DAHDI_OFFHOOK,
            HookCommand::Flash => abi::DAHDI_FLASH,
        };
        self.ioctl_int("DAHDI_HOOK", sys::hook, value)?;
        match cmd {
            // On FXS signalling the kernel changes the hook at once and reports no completion;
            // report it ourselves so callers see the same sequence on every back-end.
            HookCommand::OnHook | HookCommand::OffHook => {
                self.hook.offhook = cmd == HookCommand::OffHook;
                self.hook.ringing = false;
                self.hook.pending = None;
                self.events.push_back(LineEvent::HookComplete(cmd));
            }
            // A flash is timed by the kernel, which reports DAHDI_EVENT_HOOKCOMPLETE at its end.
            HookCommand::Flash => self.hook.pending = Some(cmd),
        }
        Ok(())
    }

    fn poll_event(&mut self) -> Result<Option<LineEvent>> {
        if let Some(e) = self.events.pop_front() {
            return Ok(Some(e));
        }
        self.check_removed()?;
        for _ in 0..MAX_EVENTS {
            let code = self.get_event()?;
            if code == abi::DAHDI_EVENT_NONE {
                return Ok(None);
            }
            if let Some(e) = self.apply(code) {
                return Ok(Some(e));
            }
            self.check_removed()?;
        }
        Ok(None)
    }

    fn read_frame(&mut self, frame: &mut AudioFrame) -> Result<()> {
        match self.frame_io("read", |f| f.read(&mut frame[..]))? {
            Some(n) if n >= frame.len() => {}
            // A short block, or none this tick (the card slipped): keep the line quiet.
            got => {
                frame[got.unwrap_or(0)..].fill(g711::silence(self.info.law));
                self.slips += 1;
            }
        }
        Ok(())
    }

    fn write_frame(&mut self, frame: &AudioFrame) -> Result<()> {
        match self.frame_io("write", |f| f.write(&frame[..]))? {
            Some(n) if n >= frame.len() => {}
            // Partly taken, or the kernel's transmit buffers are full: the rest is dropped.
            _ => self.slips += 1,
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_device_is_not_found_naming_the_path() {
        let path = Path::new("/nonexistent/dahdi/channel");
        let e = DahdiChannel::open_at(path, &ChannelConfig::new(1)).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::NotFound);
        assert!(e.to_string().contains("/nonexistent/dahdi/channel"), "{e}");
    }

    #[test]
    fn default_device_missing_here_is_not_found() {
        // This machine has no DAHDI driver loaded.
        if Path::new(DEFAULT_CHANNEL_DEVICE).exists() {
            return;
        }
        let e = DahdiChannel::open(&ChannelConfig::new(1)).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::NotFound);
        assert!(e.to_string().contains(DEFAULT_CHANNEL_DEVICE), "{e}");
    }

    #[test]
    fn a_device_that_is_not_dahdi_is_unsupported() {
        let e = DahdiChannel::open_at(Path::new("/dev/null"), &ChannelConfig::new(3)).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Unsupported);
        let msg = e.to_string();
        assert!(
            msg.contains("DAHDI_SPECIFY") && msg.contains("/dev/null") && msg.contains("channel 3"),
            "{msg}"
        );
    }

    #[test]
    fn bad_config_is_rejected_before_touching_the_device() {
        let p = Path::new("/nonexistent");
        let e = DahdiChannel::open_at(p, &ChannelConfig::new(0)).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidConfig);
        let e = DahdiChannel::open_at(p, &ChannelConfig::new(1025)).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidConfig);
        let cfg = ChannelConfig {
            rx_gain_db: 40.0,
            ..ChannelConfig::new(1)
        };
        let e = DahdiChannel::open_at(p, &cfg).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidConfig);
        assert!(e.to_string().contains("receive gain"), "{e}");
    }

    #[test]
    fn sigtype_and_law_mapping() {
        assert_eq!(
            signalling_from_sigtype(abi::DAHDI_SIG_FXSLS),
            Some(Signalling::FxsLoopStart)
        );
        assert_eq!(
            signalling_from_sigtype(abi::DAHDI_SIG_FXSKS),
            Some(Signalling::FxsKewlStart)
        );
        assert_eq!(
            signalling_from_sigtype((1 << 5) | (1 << 12)),
            None,
            "fxo_ks is an FXS port"
        );
        assert_eq!(signalling_from_sigtype(0), None, "unconfigured");
        assert_eq!(law_from_curlaw(abi::DAHDI_LAW_ALAW), Some(Law::Alaw));
        assert_eq!(law_from_curlaw(abi::DAHDI_LAW_MULAW), Some(Law::Ulaw));
        assert_eq!(law_from_curlaw(abi::DAHDI_LAW_DEFAULT), None);
        assert_eq!(law_code(Law::Alaw), abi::DAHDI_LAW_ALAW);
        assert_eq!(law_code(Law::Ulaw), abi::DAHDI_LAW_MULAW);
    }
}
