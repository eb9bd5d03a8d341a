//! A DAHDI span: the channels of one card, clocked by it.

use std::os::fd::AsFd;
use std::path::Path;
use std::time::{Duration, Instant};

use nix::errno::Errno;
use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
use yingda_hal::{Channel, Error, ErrorKind, Result, Span, SpanStatus};

use crate::channel::{ChannelConfig, DahdiChannel, DEFAULT_CHANNEL_DEVICE};

/// Most channels one span may hold (an E1 has 31 timeslots); poll sets live on the stack.
pub const MAX_SPAN_CHANNELS: usize = 32;

/// How long [`Span::wait_tick`] waits for the card before reporting [`ErrorKind::Timeout`]:
/// five 20 ms periods.
const TICK_TIMEOUT: Duration = Duration::from_millis(100);

/// The channels of one DAHDI card.
#[derive(Debug)]
pub struct DahdiSpan {
    name: String,
    channels: Vec<DahdiChannel>,
}

impl DahdiSpan {
    /// Open every channel in `configs` through [`DEFAULT_CHANNEL_DEVICE`].
    pub fn open(name: &str, configs: &[ChannelConfig]) -> Result<Self> {
        Self::open_at(name, Path::new(DEFAULT_CHANNEL_DEVICE), configs)
    }

    /// Open every channel in `configs` through the channel selector at `device`.
    pub fn open_at(name: &str, device: &Path, configs: &[ChannelConfig]) -> Result<Self> {
        if configs.is_empty() || configs.len() > MAX_SPAN_CHANNELS {
            return Err(Error::new(
                ErrorKind::InvalidConfig,
                format!(
                    "dahdi span {name}: needs 1 to {MAX_SPAN_CHANNELS} channels, got {}",
                    configs.len()
                ),
            ));
        }
        let channels = configs
            .iter()
            .map(|c| DahdiChannel::open_at(device, c))
            .collect::<Result<Vec<_>>>()?;
        Ok(Self {
            name: name.to_owned(),
            channels,
        })
    }
}

impl Span for DahdiSpan {
    type Channel = DahdiChannel;

    fn name(&self) -> &str {
        &self.name
    }

    fn status(&self) -> SpanStatus {
        SpanStatus {
            alarm: self.channels.iter().any(DahdiChannel::alarm),
            slips: self.channels.iter().map(DahdiChannel::slips).sum(),
        }
    }

    /// Wait until every channel has a block to read. Channels with events pending (the kernel
    /// flags them as exceptional) have their events moved to their queues on the way.
    fn wait_tick(&mut self) -> Result<()> {
        // Channels that have had a block to read during this call.
        let mut ready = [false; MAX_SPAN_CHANNELS];
        let deadline = Instant::now() + TICK_TIMEOUT;
        loop {
            let mut events_on = [false; MAX_SPAN_CHANNELS];
            {
                let mut set: heapless::Vec<PollFd<'_>, MAX_SPAN_CHANNELS> = heapless::Vec::new();
                let mut map = [0usize; MAX_SPAN_CHANNELS];
                for (i, c) in self.channels.iter().enumerate() {
                    if !ready[i] {
                        map[set.len()] = i;
                        // Cannot fail: there are at most MAX_SPAN_CHANNELS channels (checked at open).
                        let _ = set.push(PollFd::new(
                            c.file().as_fd(),
                            PollFlags::POLLIN | PollFlags::POLLPRI,
                        ));
                    }
                }
                if set.is_empty() {
                    return Ok(());
                }
                let left = deadline.saturating_duration_since(Instant::now());
                if left.is_zero() {
                    return Err(Error::new(
                        ErrorKind::Timeout,
                        format!(
                            "dahdi span {}: no audio block within {} ms",
                            self.name,
                            TICK_TIMEOUT.as_millis()
                        ),
                    ));
                }
                let timeout = PollTimeout::try_from(left).unwrap_or(PollTimeout::MAX);
                match poll(&mut set, timeout) {
                    Ok(_) => {}
                    Err(Errno::EINTR) => continue,
                    Err(e) => {
                        return Err(Error::new(
                            ErrorKind::Io,
                            format!("poll dahdi span {}", self.name),
                        )
                        .with_source(std::io::Error::from(e)))
                    }
                }
                for (k, fd) in set.iter().enumerate() {
                    let r = fd.revents().unwrap_or(PollFlags::empty());
                    let i = map[k];
                    if r.intersects(PollFlags::POLLERR | PollFlags::POLLHUP | PollFlags::POLLNVAL) {
                        return Err(Error::new(
                            ErrorKind::LineDown,
                            format!(
                                "dahdi span {}: channel {} failed ({r:?})",
                                self.name,
                                self.channels[i].info().number
                            ),
                        ));
                    }
                    if r.contains(PollFlags::POLLPRI) {
                        events_on[i] = true;
                    }
                    if r.contains(PollFlags::POLLIN) {
                        ready[i] = true;
                    }
                }
            }
            for (i, c) in self.channels.iter_mut().enumerate() {
                if events_on[i] {
                    c.drain_events()?;
                }
            }
        }
    }

    fn channels_mut(&mut self) -> &mut [DahdiChannel] {
        &mut self.channels
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn span_size_is_checked_before_opening() {
        let e = DahdiSpan::open_at("t", Path::new("/nonexistent"), &[]).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidConfig);
        let many: Vec<_> = (1..=33).map(ChannelConfig::new).collect();
        let e = DahdiSpan::open_at("t", Path::new("/nonexistent"), &many).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidConfig);
    }

    #[test]
    fn span_on_missing_device_is_not_found() {
        let e = DahdiSpan::open_at(
            "span1",
            Path::new("/nonexistent/dahdi/channel"),
            &[ChannelConfig::new(1)],
        )
        .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::NotFound);
        assert!(e.to_string().contains("/nonexistent/dahdi/channel"));
    }
}
