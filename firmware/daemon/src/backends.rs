//! Opening the real hardware back-ends named in the configuration.

use anyhow::Context as _;
use yingda_hal::Law;
use yingda_hal_alsa::{AlsaDevice, LocalLine, LocalLineHandle, LocalSpan};
use yingda_hal_dahdi::{ChannelConfig, DahdiSpan};

use crate::config::{Config, LawName, SpanConfig};

/// Open the DAHDI channels of span `s`. Gains are applied by DAHDI's tables, so the line
/// engines of these channels run with 0 dB (see [`software_gains`]).
pub fn open_dahdi(config: &Config, s: &SpanConfig, channels: &[u32]) -> anyhow::Result<DahdiSpan> {
    let law = if s.law == LawName::Ulaw {
        Law::Ulaw
    } else {
        Law::Alaw
    };
    let configs: Vec<ChannelConfig> = channels
        .iter()
        .map(|&n| {
            let g = config.group_of(n);
            ChannelConfig {
                number: n,
                law,
                rx_gain_db: g.map_or(0.0, |g| g.rxgain),
                tx_gain_db: g.map_or(0.0, |g| g.txgain),
            }
        })
        .collect();
    DahdiSpan::open(&s.name, &configs)
        .with_context(|| format!("open DAHDI span '{}' channels {channels:?}", s.name))
}

/// Open the local audio line of span `s` (a headset on the audio jack) as channel `number`.
pub fn open_local_line(
    s: &SpanConfig,
    number: u32,
    law: Law,
) -> anyhow::Result<(LocalSpan<AlsaDevice>, LocalLineHandle)> {
    let pcm = s.device.as_deref().unwrap_or("default");
    let device = AlsaDevice::open(pcm, pcm)
        .with_context(|| format!("open ALSA PCM '{pcm}' for span '{}'", s.name))?;
    let line = LocalLine::new(device, number, law);
    let handle = line.handle();
    Ok((LocalSpan::new(&s.name, line), handle))
}

/// Whether the line engines apply `rxgain`/`txgain` themselves (the simulated card and
/// local audio have no gain tables; DAHDI does).
pub fn software_gains(s: &SpanConfig) -> bool {
    s.backend != crate::config::Backend::Dahdi
}
