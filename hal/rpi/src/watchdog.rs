//! The kernel watchdog device (`/dev/watchdog`).
//!
//! Opening the device arms it. [`Watchdog::kick`] sends `WDIOC_KEEPALIVE`;
//! [`Watchdog::disarm`] writes the magic character `'V'` and closes the device, which stops
//! drivers that allow it. Dropping a `DevWatchdog` without disarming closes the device without
//! the magic character, so the countdown keeps running: if the daemon dies the box resets.
//!
//! Provenance of the ioctl numbers: `include/uapi/linux/watchdog.h` of Linux (`WATCHDOG_IOCTL_BASE`
//! `'W'`, `WDIOC_KEEPALIVE` `_IOR('W', 5, int)`, `WDIOC_SETTIMEOUT` `_IOWR('W', 6, int)`,
//! `WDIOC_GETTIMEOUT` `_IOR('W', 7, int)`), checked against the installed header by
//! `tests/watchdog_abi.rs` through `tests/peers/c/watchdog_abi.c`.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::mem::size_of;
use std::os::fd::AsRawFd;
use std::path::{Path, PathBuf};
use std::time::Duration;

use libc::c_int;
use nix::errno::Errno;
use nix::sys::ioctl::ioctl_num_type;
use yingda_hal::{Error, ErrorKind, Result, Watchdog};

/// The standard watchdog device.
pub const DEFAULT_WATCHDOG_DEVICE: &str = "/dev/watchdog";

/// `WATCHDOG_IOCTL_BASE`.
pub const WATCHDOG_IOCTL_BASE: u8 = b'W';
/// `WDIOC_KEEPALIVE`: `_IOR('W', 5, int)`.
pub const WDIOC_KEEPALIVE: ioctl_num_type =
    nix::request_code_read!(WATCHDOG_IOCTL_BASE, 5, size_of::<c_int>());
/// `WDIOC_SETTIMEOUT`: `_IOWR('W', 6, int)`; seconds in, the timeout the driver chose out.
pub const WDIOC_SETTIMEOUT: ioctl_num_type =
    nix::request_code_readwrite!(WATCHDOG_IOCTL_BASE, 6, size_of::<c_int>());
/// `WDIOC_GETTIMEOUT`: `_IOR('W', 7, int)`; seconds.
pub const WDIOC_GETTIMEOUT: ioctl_num_type =
    nix::request_code_read!(WATCHDOG_IOCTL_BASE, 7, size_of::<c_int>());

/// Longest timeout accepted: the Linux watchdog API counts seconds in an int, but no SoC
/// watchdog goes beyond minutes.
pub const MAX_TIMEOUT: Duration = Duration::from_secs(3600);

mod sys {
    use libc::c_int;

    nix::ioctl_read_bad!(keepalive, super::WDIOC_KEEPALIVE, c_int);
    nix::ioctl_readwrite_bad!(set_timeout, super::WDIOC_SETTIMEOUT, c_int);
    nix::ioctl_read_bad!(get_timeout, super::WDIOC_GETTIMEOUT, c_int);
}

/// Every ioctl number and constant above by its C name, for the header check.
pub fn constants() -> Vec<(&'static str, i64)> {
    let req = |r: ioctl_num_type| i64::from(r as u32);
    vec![
        ("WATCHDOG_IOCTL_BASE", i64::from(WATCHDOG_IOCTL_BASE)),
        ("WDIOC_KEEPALIVE", req(WDIOC_KEEPALIVE)),
        ("WDIOC_SETTIMEOUT", req(WDIOC_SETTIMEOUT)),
        ("WDIOC_GETTIMEOUT", req(WDIOC_GETTIMEOUT)),
    ]
}

fn ioctl_error(what: &str, path: &Path, e: Errno) -> Error {
    let kind = match e {
        Errno::ENOTTY | Errno::EOPNOTSUPP => ErrorKind::Unsupported,
        Errno::EINVAL => ErrorKind::InvalidConfig,
        Errno::EBUSY => ErrorKind::Busy,
        Errno::EPERM | Errno::EACCES => ErrorKind::PermissionDenied,
        _ => ErrorKind::Io,
    };
    let hint = if e == Errno::ENOTTY {
        " (not a watchdog device)"
    } else {
        ""
    };
    Error::new(kind, format!("{what} on {}{hint}", path.display()))
        .with_source(std::io::Error::from(e))
}

/// The kernel watchdog.
#[derive(Debug)]
pub struct DevWatchdog {
    file: Option<File>,
    path: PathBuf,
    timeout: Duration,
}

impl DevWatchdog {
    /// Open and arm [`DEFAULT_WATCHDOG_DEVICE`]; see [`DevWatchdog::open_at`].
    pub fn open(timeout: Option<Duration>) -> Result<Self> {
        Self::open_at(Path::new(DEFAULT_WATCHDOG_DEVICE), timeout)
    }

    /// Open and arm the watchdog at `path`, set its timeout if given (whole seconds, at least
    /// one) and read back the timeout the driver actually uses.
    pub fn open_at(path: &Path, timeout: Option<Duration>) -> Result<Self> {
        let want = match timeout {
            None => None,
            Some(t) if t < Duration::from_secs(1) || t > MAX_TIMEOUT => {
                return Err(Error::new(
                    ErrorKind::InvalidConfig,
                    format!(
                        "watchdog {}: timeout {t:?} is outside 1 s..=1 h",
                        path.display()
                    ),
                ))
            }
            // At most 3600: fits.
            Some(t) => Some(t.as_secs() as c_int),
        };
        let file = OpenOptions::new()
            .write(true)
            .open(path)
            .map_err(|e| Error::from_io(format!("open watchdog {}", path.display()), e))?;
        let fd = file.as_raw_fd();
        if let Some(mut secs) = want {
            // SAFETY: `_IOWR(.., int)`: the kernel reads and writes one int through a pointer
            // to a live local; `fd` is open for the duration of the call.
            unsafe { sys::set_timeout(fd, &mut secs) }
                .map_err(|e| ioctl_error("WDIOC_SETTIMEOUT", path, e))?;
        }
        let mut secs: c_int = 0;
        // SAFETY: `_IOR(.., int)`: the kernel writes one int to a live local; `fd` is open.
        unsafe { sys::get_timeout(fd, &mut secs) }
            .map_err(|e| ioctl_error("WDIOC_GETTIMEOUT", path, e))?;
        let secs = u64::try_from(secs).map_err(|_| {
            Error::new(
                ErrorKind::Io,
                format!(
                    "watchdog {}: driver reports timeout {secs} s",
                    path.display()
                ),
            )
        })?;
        Ok(Self {
            file: Some(file),
            path: path.to_path_buf(),
            timeout: Duration::from_secs(secs),
        })
    }

    /// The device path.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Watchdog for DevWatchdog {
    fn kick(&mut self) -> Result<()> {
        let Some(file) = &self.file else {
            return Err(Error::new(
                ErrorKind::Unsupported,
                format!("kick watchdog {}: it was disarmed", self.path.display()),
            ));
        };
        let mut dummy: c_int = 0;
        // SAFETY: `_IOR(.., int)`: the kernel may write one int to a live local; the fd is
        // open as long as `file` lives.
        unsafe { sys::keepalive(file.as_raw_fd(), &mut dummy) }
            .map(drop)
            .map_err(|e| ioctl_error("WDIOC_KEEPALIVE", &self.path, e))
    }

    fn timeout(&self) -> Duration {
        self.timeout
    }

    fn disarm(&mut self) -> Result<()> {
        let Some(file) = &mut self.file else {
            return Ok(());
        };
        // Magic close: 'V' then close. Drivers built with nowayout ignore it and keep counting.
        // If the 'V' does not get through, the device stays open: it is still counting, and
        // the daemon must still be able to kick it.
        file.write_all(b"V").map_err(|e| {
            Error::from_io(
                format!("magic close of watchdog {}", self.path.display()),
                e,
            )
        })?;
        self.file = None;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_device_is_not_found_naming_the_path() {
        let e = DevWatchdog::open_at(Path::new("/nonexistent/watchdog"), None).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::NotFound);
        assert!(e.to_string().contains("/nonexistent/watchdog"), "{e}");
    }

    #[test]
    fn a_file_that_is_no_watchdog_is_unsupported() {
        let f = tempfile::NamedTempFile::new().unwrap();
        let e = DevWatchdog::open_at(f.path(), Some(Duration::from_secs(15))).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Unsupported);
        assert!(e.to_string().contains("WDIOC_SETTIMEOUT"), "{e}");
        let e = DevWatchdog::open_at(f.path(), None).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Unsupported);
        assert!(e.to_string().contains("WDIOC_GETTIMEOUT"), "{e}");
    }

    #[test]
    fn a_failed_magic_close_leaves_the_watchdog_kickable() {
        // A read-only fd: writing the magic 'V' fails with EBADF.
        let mut wd = DevWatchdog {
            file: Some(File::open("/dev/null").unwrap()),
            path: PathBuf::from("/dev/null"),
            timeout: Duration::from_secs(15),
        };
        assert!(wd.disarm().is_err());
        assert!(wd.file.is_some(), "still open, so still counting");
        let e = wd.kick().unwrap_err();
        assert!(
            e.to_string().contains("WDIOC_KEEPALIVE"),
            "the kick reached the device: {e}"
        );
    }

    #[test]
    fn timeouts_out_of_range_are_rejected_before_opening() {
        for t in [Duration::from_millis(500), Duration::from_secs(7200)] {
            let e = DevWatchdog::open_at(Path::new("/nonexistent"), Some(t)).unwrap_err();
            assert_eq!(e.kind(), ErrorKind::InvalidConfig);
        }
    }
}
