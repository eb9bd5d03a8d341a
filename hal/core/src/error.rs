//! The one error type every HAL back-end returns.

use std::fmt;

/// What went wrong, in terms a caller can act on.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorKind {
    /// The line or span has lost its physical connection or is in alarm.
    LineDown,
    /// Received audio was lost because it was not read in time.
    Overrun,
    /// Audio to send ran dry before the device needed it.
    Underrun,
    /// The far end went away while an operation was in progress.
    Hangup,
    /// The device, channel or pin named in config does not exist.
    NotFound,
    /// The process lacks the rights to open or drive the device.
    PermissionDenied,
    /// The device is held by another process or is mid-operation.
    Busy,
    /// The request is not supported by this device or back-end.
    Unsupported,
    /// A configuration value is out of range for this device.
    InvalidConfig,
    /// The device stopped answering within its deadline.
    Timeout,
    /// Any other operating-system level failure.
    Io,
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = match self {
            ErrorKind::LineDown => "line down",
            ErrorKind::Overrun => "receive overrun",
            ErrorKind::Underrun => "transmit underrun",
            ErrorKind::Hangup => "far end hung up",
            ErrorKind::NotFound => "device not found",
            ErrorKind::PermissionDenied => "permission denied",
            ErrorKind::Busy => "device busy",
            ErrorKind::Unsupported => "unsupported",
            ErrorKind::InvalidConfig => "invalid device configuration",
            ErrorKind::Timeout => "device timeout",
            ErrorKind::Io => "I/O error",
        };
        f.write_str(s)
    }
}

/// A HAL error: a kind, what was being done, and the underlying cause if any.
#[derive(Debug, thiserror::Error)]
#[error("{context}: {kind}")]
pub struct Error {
    kind: ErrorKind,
    context: String,
    #[source]
    source: Option<Box<dyn std::error::Error + Send + Sync + 'static>>,
}

impl Error {
    /// A new error of `kind` while doing `context` (e.g. "open /dev/dahdi/channel 3").
    pub fn new(kind: ErrorKind, context: impl Into<String>) -> Self {
        Self {
            kind,
            context: context.into(),
            source: None,
        }
    }

    /// Attach the underlying cause.
    pub fn with_source(mut self, source: impl std::error::Error + Send + Sync + 'static) -> Self {
        self.source = Some(Box::new(source));
        self
    }

    /// What went wrong.
    pub fn kind(&self) -> ErrorKind {
        self.kind
    }

    /// What was being done.
    pub fn context(&self) -> &str {
        &self.context
    }

    /// Map an `std::io::Error` to the closest kind.
    pub fn from_io(context: impl Into<String>, e: std::io::Error) -> Self {
        use std::io::ErrorKind as K;
        let kind = match e.kind() {
            K::NotFound => ErrorKind::NotFound,
            K::PermissionDenied => ErrorKind::PermissionDenied,
            K::WouldBlock | K::ResourceBusy => ErrorKind::Busy,
            K::TimedOut => ErrorKind::Timeout,
            K::Unsupported => ErrorKind::Unsupported,
            K::InvalidInput => ErrorKind::InvalidConfig,
            _ => ErrorKind::Io,
        };
        Self::new(kind, context).with_source(e)
    }
}

/// Result with the HAL [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
