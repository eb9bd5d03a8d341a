//! systemd service notification (`sd_notify`).
//!
//! Under systemd with `Type=notify`, `$NOTIFY_SOCKET` names a unix datagram socket — a path,
//! or an abstract name written with a leading `@` — to which the service sends `KEY=value`
//! lines: `READY=1` once it serves calls, `WATCHDOG=1` as keep-alive when `WatchdogSec=` is
//! set, `STATUS=...` for `systemctl status`, `STOPPING=1` on shutdown. `$WATCHDOG_USEC` gives
//! the systemd watchdog period; we ping at half of it, as sd_watchdog_enabled(3) recommends.
//!
//! Outside systemd (no `$NOTIFY_SOCKET`) every call is a no-op. This module never reads the
//! environment except in [`Notifier::from_env`] and [`watchdog_interval_from_env`].

use std::os::unix::net::{SocketAddr, UnixDatagram};
use std::time::Duration;

use yingda_hal::{Error, ErrorKind, Result};

/// Sends notifications to systemd.
#[derive(Debug)]
pub struct Notifier {
    target: Option<(UnixDatagram, SocketAddr, String)>,
}

/// The socket address for a `$NOTIFY_SOCKET` value.
fn parse_address(value: &str) -> Result<SocketAddr> {
    let bad = |why: &str| {
        Error::new(
            ErrorKind::InvalidConfig,
            format!("NOTIFY_SOCKET={value:?}: {why}"),
        )
    };
    if let Some(name) = value.strip_prefix('@') {
        #[cfg(any(target_os = "linux", target_os = "android"))]
        {
            #[cfg(target_os = "android")]
            use std::os::android::net::SocketAddrExt;
            #[cfg(target_os = "linux")]
            use std::os::linux::net::SocketAddrExt;
            return SocketAddr::from_abstract_name(name.as_bytes())
                .map_err(|e| bad("bad abstract name").with_source(e));
        }
        #[cfg(not(any(target_os = "linux", target_os = "android")))]
        {
            let _ = name;
            return Err(Error::new(
                ErrorKind::Unsupported,
                format!("NOTIFY_SOCKET={value:?}: abstract sockets need Linux"),
            ));
        }
    }
    if value.starts_with('/') {
        return SocketAddr::from_pathname(value).map_err(|e| bad("bad socket path").with_source(e));
    }
    Err(bad("neither an absolute path nor an @abstract name"))
}

impl Notifier {
    /// A notifier for `$NOTIFY_SOCKET`, or a no-op one when it is unset or empty.
    pub fn from_env() -> Result<Self> {
        Self::new(std::env::var("NOTIFY_SOCKET").ok().as_deref())
    }

    /// A notifier for the socket `address` (`NOTIFY_SOCKET` syntax), or a no-op one for `None`
    /// or an empty string.
    pub fn new(address: Option<&str>) -> Result<Self> {
        let Some(address) = address.filter(|a| !a.is_empty()) else {
            return Ok(Self { target: None });
        };
        let addr = parse_address(address)?;
        let socket = UnixDatagram::unbound().map_err(|e| {
            Error::from_io(format!("create socket for NOTIFY_SOCKET={address:?}"), e)
        })?;
        Ok(Self {
            target: Some((socket, addr, address.to_owned())),
        })
    }

    /// Whether messages go anywhere.
    pub fn enabled(&self) -> bool {
        self.target.is_some()
    }

    /// Send raw `KEY=value` lines.
    pub fn notify(&self, state: &str) -> Result<()> {
        let Some((socket, addr, name)) = &self.target else {
            return Ok(());
        };
        socket
            .send_to_addr(state.as_bytes(), addr)
            .map(drop)
            .map_err(|e| Error::from_io(format!("notify systemd at {name:?}"), e))
    }

    /// `READY=1`: the service is up.
    pub fn ready(&self) -> Result<()> {
        self.notify("READY=1")
    }

    /// `WATCHDOG=1`: keep-alive for the systemd watchdog.
    pub fn watchdog(&self) -> Result<()> {
        self.notify("WATCHDOG=1")
    }

    /// `STOPPING=1`: orderly shutdown has begun.
    pub fn stopping(&self) -> Result<()> {
        self.notify("STOPPING=1")
    }

    /// `STATUS=...`: one line for `systemctl status`. Line breaks would end the field and
    /// start a new assignment, so they are replaced by spaces.
    pub fn status(&self, text: &str) -> Result<()> {
        if self.target.is_none() {
            return Ok(());
        }
        let one_line: String = text
            .chars()
            .map(|c| if c == '\n' || c == '\r' { ' ' } else { c })
            .collect();
        self.notify(&format!("STATUS={one_line}"))
    }
}

/// How often to send `WATCHDOG=1`, from `$WATCHDOG_USEC` and `$WATCHDOG_PID` as systemd sets
/// them: half the period, or `None` if the systemd watchdog is off or meant for another
/// process. A malformed value is an [`ErrorKind::InvalidConfig`] error.
pub fn watchdog_interval(
    usec: Option<&str>,
    pid: Option<&str>,
    own_pid: u32,
) -> Result<Option<Duration>> {
    let Some(usec) = usec.filter(|u| !u.is_empty()) else {
        return Ok(None);
    };
    if let Some(pid) = pid.filter(|p| !p.is_empty()) {
        let pid: u32 = pid.parse().map_err(|_| {
            Error::new(
                ErrorKind::InvalidConfig,
                format!("WATCHDOG_PID={pid:?} is not a process id"),
            )
        })?;
        if pid != own_pid {
            return Ok(None);
        }
    }
    let us: u64 = usec.parse().map_err(|_| {
        Error::new(
            ErrorKind::InvalidConfig,
            format!("WATCHDOG_USEC={usec:?} is not a number"),
        )
    })?;
    if us == 0 {
        return Ok(None);
    }
    Ok(Some(Duration::from_micros(us / 2)))
}

/// [`watchdog_interval`] for this process's environment.
pub fn watchdog_interval_from_env() -> Result<Option<Duration>> {
    let usec = std::env::var("WATCHDOG_USEC").ok();
    let pid = std::env::var("WATCHDOG_PID").ok();
    watchdog_interval(usec.as_deref(), pid.as_deref(), std::process::id())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn recv(sock: &UnixDatagram) -> String {
        let mut buf = [0u8; 512];
        let n = sock.recv(&mut buf).unwrap();
        String::from_utf8(buf[..n].to_vec()).unwrap()
    }

    #[test]
    fn messages_reach_a_path_socket() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("notify.sock");
        let server = UnixDatagram::bind(&path).unwrap();
        server
            .set_read_timeout(Some(Duration::from_secs(5)))
            .unwrap();
        let n = Notifier::new(Some(path.to_str().unwrap())).unwrap();
        assert!(n.enabled());
        n.ready().unwrap();
        n.status("2 lines up\n1 in alarm").unwrap();
        n.watchdog().unwrap();
        n.stopping().unwrap();
        assert_eq!(recv(&server), "READY=1");
        assert_eq!(recv(&server), "STATUS=2 lines up 1 in alarm");
        assert_eq!(recv(&server), "WATCHDOG=1");
        assert_eq!(recv(&server), "STOPPING=1");
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn messages_reach_an_abstract_socket() {
        use std::os::linux::net::SocketAddrExt;
        let name = format!("yingda-notify-test-{}", std::process::id());
        let server =
            UnixDatagram::bind_addr(&SocketAddr::from_abstract_name(name.as_bytes()).unwrap())
                .unwrap();
        server
            .set_read_timeout(Some(Duration::from_secs(5)))
            .unwrap();
        let n = Notifier::new(Some(&format!("@{name}"))).unwrap();
        n.ready().unwrap();
        assert_eq!(recv(&server), "READY=1");
    }

    #[test]
    fn no_socket_is_a_no_op() {
        for addr in [None, Some("")] {
            let n = Notifier::new(addr).unwrap();
            assert!(!n.enabled());
            n.ready().unwrap();
            n.status("x").unwrap();
            n.watchdog().unwrap();
            n.stopping().unwrap();
        }
    }

    #[test]
    fn bad_addresses_are_errors() {
        let e = Notifier::new(Some("relative/path")).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidConfig);
        // A socket nobody listens on: sending fails with an error naming the socket.
        let n = Notifier::new(Some("/nonexistent/notify.sock")).unwrap();
        let e = n.ready().unwrap_err();
        assert_eq!(e.kind(), ErrorKind::NotFound);
        assert!(e.to_string().contains("/nonexistent/notify.sock"), "{e}");
    }

    #[test]
    fn watchdog_interval_is_half_the_period_for_us_only() {
        assert_eq!(
            watchdog_interval(Some("30000000"), None, 7).unwrap(),
            Some(Duration::from_secs(15))
        );
        assert_eq!(
            watchdog_interval(Some("30000000"), Some("7"), 7).unwrap(),
            Some(Duration::from_secs(15))
        );
        assert_eq!(
            watchdog_interval(Some("30000000"), Some("8"), 7).unwrap(),
            None
        );
        assert_eq!(watchdog_interval(None, Some("7"), 7).unwrap(), None);
        assert_eq!(watchdog_interval(Some(""), None, 7).unwrap(), None);
        assert_eq!(watchdog_interval(Some("0"), None, 7).unwrap(), None);
        assert_eq!(
            watchdog_interval(Some("x"), None, 7).unwrap_err().kind(),
            ErrorKind::InvalidConfig
        );
        assert_eq!(
            watchdog_interval(Some("1"), Some("-1"), 7)
                .unwrap_err()
                .kind(),
            ErrorKind::InvalidConfig
        );
    }
}
