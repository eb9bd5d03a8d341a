//! The daemon's TOML configuration.
//!
//! The vocabulary follows DAHDI's `system.conf` and Asterisk's `chan_dahdi.conf` so that a
//! telephony admin recognises it: `channel`, `signalling`, `echocancel`, `busydetect`,
//! `busycount`, `cidsignalling`, `cidstart`, `rxgain`, `txgain`, `hanguponpolarityswitch`…
//!
//! Loading is all-or-nothing: any unknown key, bad value or inconsistency is an error naming
//! the file, the line and the field, and the daemon starts nothing.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use yingda_signaling::fxo::{self, FxoConfig};

/// Why a configuration file was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct ConfigError {
    /// The file.
    pub file: PathBuf,
    /// 1-based line of the offending field, when it can be located.
    pub line: Option<usize>,
    /// Dotted path of the field (`channels[0].busycount`).
    pub field: String,
    /// What is wrong and what is allowed.
    pub message: String,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file.display())?;
        if let Some(line) = self.line {
            write!(f, ":{line}")?;
        }
        if !self.field.is_empty() {
            write!(f, ": {}", self.field)?;
        }
        write!(f, ": {}", self.message)
    }
}

/// Whole configuration.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Box-wide settings.
    #[serde(default)]
    pub system: SystemConfig,
    /// Telephony cards.
    #[serde(default, rename = "span")]
    pub spans: Vec<SpanConfig>,
    /// Channel groups, as in `chan_dahdi.conf`.
    #[serde(default)]
    pub channels: Vec<ChannelGroup>,
    /// On-box speech recognition.
    #[serde(default)]
    pub speech: crate::speech::SpeechConfig,
    /// How flows reach their backend servers.
    #[serde(default)]
    pub backend: BackendSection,
}

/// `[backend]`: TLS trust and name resolution for flows' `http` nodes.
///
/// ```toml
/// [backend]
/// ca_bundle = "/etc/ssl/certs/ca-certificates.crt"
/// pinned = { "his.hospital.local" = "/etc/yingda/his-ca.pem" }   # only this CA for that host
/// resolve = { "his.hospital.local:443" = "10.1.2.3:443" }        # no DNS on the voice VLAN
/// ```
#[derive(Debug, Clone, Deserialize, PartialEq, Default)]
#[serde(deny_unknown_fields, default)]
pub struct BackendSection {
    /// PEM bundle of trusted CAs (default: the system bundle).
    pub ca_bundle: Option<PathBuf>,
    /// Host → PEM file of the only CA trusted for that host.
    pub pinned: BTreeMap<String, PathBuf>,
    /// `host:port` → `ip:port` used instead of DNS.
    pub resolve: BTreeMap<String, String>,
}

impl BackendSection {
    /// The client configuration.
    ///
    /// # Errors
    /// A `resolve` entry that is not `host:port` → `ip:port` (the message names it).
    pub fn client_config(&self) -> Result<yingda_backend::BackendConfig, String> {
        let mut c = yingda_backend::BackendConfig::default();
        if let Some(ca) = &self.ca_bundle {
            c.ca_bundle.clone_from(ca);
        }
        c.pinned.clone_from(&self.pinned);
        for (from, to) in &self.resolve {
            let bad = || format!("resolve: \"{from}\" = \"{to}\": use \"host:port\" = \"ip:port\"");
            let (host, port) = from.rsplit_once(':').ok_or_else(bad)?;
            let port: u16 = port.parse().map_err(|_| bad())?;
            let addr: std::net::SocketAddr = to.parse().map_err(|_| bad())?;
            c.resolve.insert((host.to_owned(), port), addr);
        }
        Ok(c)
    }
}

/// Box-wide settings.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct SystemConfig {
    /// Where the database lives.
    pub data_dir: PathBuf,
    /// Directory of prompt WAV files; default: the prompts shipped with the daemon.
    pub prompts_dir: Option<PathBuf>,
    /// Directory of flow files (`*.toml`, their prompts and grammars beside them). At start
    /// and on SIGHUP each file that differs from its flow's active version is validated and
    /// activated as a new version; an invalid file is logged with file, line and node and
    /// the active version keeps running.
    pub flows_dir: Option<PathBuf>,
    /// Log filter (`info`, `debug`, `yingda=debug`…).
    pub log_level: String,
    /// Hardware watchdog: `none`, `dev` (/dev/watchdog) or `sim`.
    pub watchdog: WatchdogKind,
    /// Watchdog timeout in seconds.
    pub watchdog_timeout_s: u32,
    /// Front-panel GPIO: `none`, `rpi` or `sim`.
    pub gpio: GpioKind,
    /// How long a shutdown waits for calls in progress to finish.
    pub shutdown_grace_s: u32,
}

impl Default for SystemConfig {
    fn default() -> Self {
        Self {
            data_dir: PathBuf::from("/var/lib/yingda"),
            prompts_dir: None,
            flows_dir: None,
            log_level: "info".into(),
            watchdog: WatchdogKind::None,
            watchdog_timeout_s: 30,
            gpio: GpioKind::None,
            shutdown_grace_s: 30,
        }
    }
}

/// Watchdog back-end.
#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum WatchdogKind {
    /// No watchdog.
    None,
    /// `/dev/watchdog`.
    Dev,
    /// Simulated.
    Sim,
}

/// GPIO back-end.
#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum GpioKind {
    /// No front panel.
    None,
    /// Raspberry Pi header.
    Rpi,
    /// Simulated.
    Sim,
}

/// Card back-end of a span.
#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum Backend {
    /// The simulated card.
    Sim,
    /// A DAHDI card.
    Dahdi,
    /// A local audio device (headset on the audio jack) as one line: lift and hang up with
    /// the front button or `SIGUSR1`.
    Alsa,
}

/// Companding law.
#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum LawName {
    /// A-law.
    Alaw,
    /// µ-law.
    Ulaw,
}

/// One telephony card.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct SpanConfig {
    /// Name used by channel groups and logs.
    pub name: String,
    /// Back-end.
    pub backend: Backend,
    /// Companding law (`alaw` in China).
    #[serde(default = "default_law")]
    pub law: LawName,
    /// Simulated card only: number of FXO ports.
    pub ports: Option<u32>,
    /// Simulated card: channel number of its first port; local audio line: its channel
    /// number (default: after the previous span's channels).
    pub first_channel: Option<u32>,
    /// Local audio line only: ALSA PCM for capture and playback (default `"default"`).
    pub device: Option<String>,
    /// Simulated card only: exchange behaviour and demo caller.
    #[serde(default)]
    pub sim: SimOptions,
}

fn default_law() -> LawName {
    LawName::Alaw
}

/// How the simulated exchange behaves.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct SimOptions {
    /// `realtime`, `manual` or `fast` (20x real time).
    pub pacing: String,
    /// Place a demo call at start.
    pub demo_call: bool,
    /// Place the demo call again this many seconds after the previous one ended.
    pub demo_repeat_s: Option<u32>,
    /// Demo caller's number.
    pub demo_caller: String,
    /// Digits the demo caller presses.
    pub demo_digits: String,
    /// Caller ID the exchange sends: `v23`, `bell` or `dtmf`.
    pub cid_format: String,
    /// Hybrid echo delay in ms; absent for no echo.
    pub echo_delay_ms: Option<u32>,
    /// Hybrid echo loss in dB.
    pub echo_loss_db: f32,
    /// Reverse polarity on answer.
    pub polarity_on_answer: bool,
    /// Reverse polarity when the far end hangs up.
    pub polarity_on_far_hangup: bool,
    /// Drop loop current when the far end hangs up.
    pub loop_drop_on_far_hangup: bool,
    /// Play busy tone after the far end hangs up (China exchanges do).
    pub busy_tone_after_far_hangup: bool,
}

impl Default for SimOptions {
    fn default() -> Self {
        Self {
            pacing: "realtime".into(),
            demo_call: false,
            demo_repeat_s: None,
            demo_caller: "13800138000".into(),
            demo_digits: "2024#".into(),
            cid_format: "dtmf".into(),
            echo_delay_ms: Some(6),
            echo_loss_db: 12.0,
            polarity_on_answer: false,
            polarity_on_far_hangup: false,
            loop_drop_on_far_hangup: false,
            busy_tone_after_far_hangup: true,
        }
    }
}

/// `echocancel = yes|no|<taps>`.
#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
#[serde(untagged)]
pub enum EchoCancel {
    /// `true` = 128 taps, `false` = off.
    Enabled(bool),
    /// Tap count (8 taps per ms of tail).
    Taps(u32),
}

impl EchoCancel {
    /// Taps, 0 when off.
    pub fn taps(self) -> u32 {
        match self {
            EchoCancel::Enabled(true) => 128,
            EchoCancel::Enabled(false) => 0,
            EchoCancel::Taps(n) => n,
        }
    }
}

/// A group of channels with common settings, like a block of `chan_dahdi.conf`.
///
/// The line-signalling keys (`signalling`, `answer_after_rings`, `cidsignalling`,
/// `cidstart`, `busydetect`, `busycount`, `hanguponpolarityswitch`, timers…) are those of
/// [`FxoConfig`]; every other key of the group is one of the fields here. Unknown keys are
/// rejected.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(try_from = "toml::Table")]
pub struct ChannelGroup {
    /// Channel numbers: `"1-4"`, `"1,3,5-8"`.
    pub channel: String,
    /// The span the channels are on.
    pub span: String,
    /// Call flow run on these channels: `demo` (the built-in demonstration), or the `name`
    /// of a flow activated on the box (from [`SystemConfig::flows_dir`] or the admin page).
    pub flow: String,
    /// Line echo canceller.
    pub echocancel: EchoCancel,
    /// Receive gain in dB.
    pub rxgain: f32,
    /// Transmit gain in dB.
    pub txgain: f32,
    /// Line signalling settings.
    pub fxo: FxoConfig,
}

/// The group's own keys, split off before the rest goes to [`FxoConfig`].
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct GroupKeys {
    channel: String,
    span: String,
    #[serde(default = "default_flow")]
    flow: String,
    #[serde(default = "default_echocancel")]
    echocancel: EchoCancel,
    #[serde(default)]
    rxgain: f32,
    #[serde(default)]
    txgain: f32,
}

impl TryFrom<toml::Table> for ChannelGroup {
    type Error = String;

    fn try_from(mut table: toml::Table) -> Result<Self, String> {
        let mut own = toml::Table::new();
        for key in ["channel", "span", "flow", "echocancel", "rxgain", "txgain"] {
            if let Some(v) = table.remove(key) {
                own.insert(key.to_owned(), v);
            }
        }
        let g: GroupKeys = own
            .try_into()
            .map_err(|e: toml::de::Error| e.message().to_owned())?;
        let fxo: FxoConfig = table
            .try_into()
            .map_err(|e: toml::de::Error| e.message().to_owned())?;
        Ok(Self {
            channel: g.channel,
            span: g.span,
            flow: g.flow,
            echocancel: g.echocancel,
            rxgain: g.rxgain,
            txgain: g.txgain,
            fxo,
        })
    }
}

fn default_flow() -> String {
    "demo".into()
}
fn default_echocancel() -> EchoCancel {
    EchoCancel::Enabled(true)
}

/// Span and flow names: letters, digits, `-` and `_`, not empty.
fn is_plain_name(s: &str) -> bool {
    !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

/// Parse a channel list such as `"1-4,6"`.
pub fn parse_channel_list(s: &str) -> Result<Vec<u32>, String> {
    let mut out = Vec::new();
    for part in s.split(',').map(str::trim) {
        let (a, b) = match part.split_once('-') {
            Some((a, b)) => (a.trim(), b.trim()),
            None => (part, part),
        };
        let a: u32 = a
            .parse()
            .map_err(|_| format!("'{part}' is not a channel number or range like 1-4"))?;
        let b: u32 = b
            .parse()
            .map_err(|_| format!("'{part}' is not a channel number or range like 1-4"))?;
        if a == 0 || b < a || b - a > 1023 {
            return Err(format!(
                "'{part}' is not a valid range (channels start at 1, low-high)"
            ));
        }
        out.extend(a..=b);
    }
    Ok(out)
}

impl Config {
    /// Read, parse and validate a configuration file.
    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|e| ConfigError {
            file: path.to_owned(),
            line: None,
            field: String::new(),
            message: format!("cannot read: {e}"),
        })?;
        Self::parse(path, &text)
    }

    /// Parse and validate configuration text; `path` is used in errors.
    pub fn parse(path: &Path, text: &str) -> Result<Self, ConfigError> {
        let config: Config = toml::from_str(text).map_err(|e| {
            // Through `#[serde(flatten)]` an unknown key loses its span; find it by name.
            let line = unknown_field(e.message())
                .and_then(|k| find_key_line(text, k))
                .or_else(|| e.span().map(|s| line_of(text, s.start)));
            ConfigError {
                file: path.to_owned(),
                line,
                field: String::new(),
                message: e.message().trim().to_owned(),
            }
        })?;
        if !(1..=8).contains(&config.speech.workers) {
            return Err(ConfigError {
                file: path.to_owned(),
                line: find_key_line(text, "workers"),
                field: "speech.workers".into(),
                message: format!("{} workers: use 1 to 8", config.speech.workers),
            });
        }
        if let Err(message) = config.backend.client_config() {
            return Err(ConfigError {
                file: path.to_owned(),
                line: find_key_line(text, "resolve"),
                field: "backend.resolve".into(),
                message,
            });
        }
        config
            .validate()
            .map_err(|(field_path, message)| ConfigError {
                file: path.to_owned(),
                line: locate(text, &field_path),
                field: display_path(&field_path),
                message,
            })?;
        Ok(config)
    }

    /// Channels of each span, in order: simulated spans own `ports` channels from
    /// `first_channel`; DAHDI spans own the channels their groups name.
    pub fn span_channels(&self) -> BTreeMap<String, Vec<u32>> {
        let mut next = 1;
        let mut map = BTreeMap::new();
        for s in &self.spans {
            let chans = match s.backend {
                Backend::Sim => {
                    let first = s.first_channel.unwrap_or(next);
                    let n = s.ports.unwrap_or(4);
                    next = first + n;
                    (first..first + n).collect()
                }
                Backend::Alsa => {
                    let n = s.first_channel.unwrap_or(next);
                    next = n + 1;
                    vec![n]
                }
                Backend::Dahdi => {
                    let mut v: Vec<u32> = self
                        .channels
                        .iter()
                        .filter(|g| g.span == s.name)
                        .flat_map(|g| parse_channel_list(&g.channel).unwrap_or_default())
                        .collect();
                    v.sort_unstable();
                    v
                }
            };
            map.insert(s.name.clone(), chans);
        }
        map
    }

    /// The group configuring `channel`, if any.
    pub fn group_of(&self, channel: u32) -> Option<&ChannelGroup> {
        self.channels
            .iter()
            .find(|g| parse_channel_list(&g.channel).is_ok_and(|v| v.contains(&channel)))
    }

    fn validate(&self) -> Result<(), (Vec<Seg>, String)> {
        use Seg::{Idx, Key};
        if self.spans.is_empty() {
            return Err((vec![], "no [[span]] configured: add at least one card (backend = \"sim\" for the simulated card)".into()));
        }
        for (i, s) in self.spans.iter().enumerate() {
            let at = |k: &str| vec![Key("span".into()), Idx(i), Key(k.into())];
            if !is_plain_name(&s.name) {
                return Err((
                    at("name"),
                    "span names are letters, digits, '-' and '_'".into(),
                ));
            }
            if self.spans[..i].iter().any(|o| o.name == s.name) {
                return Err((at("name"), format!("span name '{}' is used twice", s.name)));
            }
            match s.backend {
                Backend::Sim => {
                    if !(1..=256).contains(&s.ports.unwrap_or(4)) {
                        return Err((at("ports"), "a simulated card has 1 to 256 ports".into()));
                    }
                    if !["realtime", "manual", "fast"].contains(&s.sim.pacing.as_str()) {
                        return Err((
                            vec![
                                Key("span".into()),
                                Idx(i),
                                Key("sim".into()),
                                Key("pacing".into()),
                            ],
                            format!("'{}' is not one of realtime, manual, fast", s.sim.pacing),
                        ));
                    }
                    if !["v23", "bell", "dtmf"].contains(&s.sim.cid_format.as_str()) {
                        return Err((
                            vec![
                                Key("span".into()),
                                Idx(i),
                                Key("sim".into()),
                                Key("cid_format".into()),
                            ],
                            format!("'{}' is not one of v23, bell, dtmf", s.sim.cid_format),
                        ));
                    }
                    if s.sim.echo_delay_ms.is_some_and(|d| d > 64) {
                        return Err((
                            vec![
                                Key("span".into()),
                                Idx(i),
                                Key("sim".into()),
                                Key("echo_delay_ms".into()),
                            ],
                            "echo delay is 0 to 64 ms".into(),
                        ));
                    }
                }
                Backend::Alsa => {
                    if s.ports.is_some() {
                        return Err((
                            at("ports"),
                            "a local audio line has exactly one channel; set first_channel instead"
                                .into(),
                        ));
                    }
                    if s.device.as_deref().is_some_and(str::is_empty) {
                        return Err((
                            at("device"),
                            "name an ALSA PCM such as \"default\" or \"plughw:0\"".into(),
                        ));
                    }
                }
                Backend::Dahdi => {
                    if s.ports.is_some() {
                        return Err((at("ports"), "ports is for simulated cards; DAHDI spans take their channels from [[channels]]".into()));
                    }
                }
            }
        }
        let span_chans = self.span_channels();
        let mut seen: BTreeMap<u32, usize> = BTreeMap::new();
        for (i, g) in self.channels.iter().enumerate() {
            let at = |k: &str| vec![Key("channels".into()), Idx(i), Key(k.into())];
            let list = parse_channel_list(&g.channel).map_err(|m| (at("channel"), m))?;
            let Some(span) = self.spans.iter().find(|s| s.name == g.span) else {
                let names: Vec<_> = self.spans.iter().map(|s| s.name.as_str()).collect();
                return Err((
                    at("span"),
                    format!("no span named '{}' (spans: {})", g.span, names.join(", ")),
                ));
            };
            for c in &list {
                if let Some(prev) = seen.insert(*c, i) {
                    return Err((
                        at("channel"),
                        format!("channel {c} is already configured by channels[{prev}]"),
                    ));
                }
                if span.backend != Backend::Dahdi && !span_chans[&span.name].contains(c) {
                    return Err((
                        at("channel"),
                        format!(
                            "channel {c} is not on span '{}' (it has {:?})",
                            span.name, span_chans[&span.name]
                        ),
                    ));
                }
            }
            if !is_plain_name(&g.flow) {
                return Err((
                    at("flow"),
                    format!(
                        "'{}' is not a flow name: `demo`, or the `name` of a flow file (letters, digits, '-' and '_')",
                        g.flow
                    ),
                ));
            }
            let taps = g.echocancel.taps();
            if taps != 0 && !(taps.is_power_of_two() && (32..=1024).contains(&taps)) {
                return Err((
                    at("echocancel"),
                    format!("{taps} taps: use yes, no, or a power of two from 32 to 1024"),
                ));
            }
            if span.backend == Backend::Alsa {
                // A headset rings once when lifted and drops loop current when hung up.
                let local = g.fxo.signalling == fxo::LineSignalling::FxsKs
                    && g.fxo.answer_after_rings == 1
                    && !g.fxo.usecallerid;
                if !local {
                    return Err((
                        at("signalling"),
                        "a local audio line needs signalling = \"fxs_ks\", answer_after_rings = 1 and usecallerid = false".into(),
                    ));
                }
            }
            match g.fxo.validate() {
                Ok(()) => {}
                Err(e @ fxo::ConfigError::OutOfRange { field, .. }) => {
                    return Err((at(field), e.to_string()))
                }
                Err(e) => return Err((at("cidstart"), e.to_string())),
            }
            for (k, v) in [("rxgain", g.rxgain), ("txgain", g.txgain)] {
                if !(-24.0..=24.0).contains(&v) {
                    return Err((at(k), format!("{v} dB is outside -24..24 dB")));
                }
            }
        }
        Ok(())
    }
}

/// One step of a path into the TOML document.
#[derive(Debug, Clone)]
enum Seg {
    Key(String),
    Idx(usize),
}

fn display_path(path: &[Seg]) -> String {
    let mut s = String::new();
    for seg in path {
        match seg {
            Seg::Key(k) if s.is_empty() => s.push_str(k),
            Seg::Key(k) => {
                s.push('.');
                s.push_str(k);
            }
            Seg::Idx(i) => s.push_str(&format!("[{i}]")),
        }
    }
    s
}

fn line_of(text: &str, offset: usize) -> usize {
    text[..offset.min(text.len())]
        .bytes()
        .filter(|&b| b == b'\n')
        .count()
        + 1
}

fn unknown_field(message: &str) -> Option<&str> {
    let rest = message.split("unknown field `").nth(1)?;
    rest.split('`').next()
}

/// First line where `key` is assigned.
fn find_key_line(text: &str, key: &str) -> Option<usize> {
    text.lines()
        .position(|l| {
            l.trim_start()
                .strip_prefix(key)
                .is_some_and(|r| r.trim_start().starts_with('='))
        })
        .map(|i| i + 1)
}

/// Line of the field at `path`, or of the nearest enclosing table that exists.
fn locate(text: &str, path: &[Seg]) -> Option<usize> {
    let doc = toml_edit::Document::parse(text).ok()?;
    let mut item: &toml_edit::Item = doc.as_item();
    let mut best = None;
    for seg in path {
        let next = match seg {
            Seg::Key(k) => match item {
                toml_edit::Item::Table(t) => {
                    if let Some((key, _)) = t.get_key_value(k) {
                        best = key.span().or(best);
                    }
                    t.get(k)
                }
                toml_edit::Item::Value(toml_edit::Value::InlineTable(t)) => {
                    t.get(k).map(|_| &item[k.as_str()])
                }
                _ => None,
            },
            Seg::Idx(i) => match item {
                toml_edit::Item::ArrayOfTables(a) => match a.get(*i) {
                    Some(t) => {
                        best = t.span().or(best);
                        Some(&item[*i])
                    }
                    None => None,
                },
                _ => None,
            },
        };
        match next {
            Some(n) => {
                best = n.span().or(best);
                item = n;
            }
            None => break,
        }
    }
    best.map(|s| line_of(text, s.start))
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"
[system]
data_dir = "/tmp/x"

[[span]]
name = "sim0"
backend = "sim"
ports = 4

[[channels]]
channel = "1-4"
span = "sim0"
busycount = 4
"#;

    fn err(text: &str) -> ConfigError {
        Config::parse(Path::new("yingda.toml"), text).unwrap_err()
    }

    #[test]
    fn parses_a_good_file_with_defaults() {
        let c = Config::parse(Path::new("y.toml"), GOOD).unwrap();
        assert_eq!(c.spans[0].ports, Some(4));
        assert_eq!(c.channels[0].fxo.busycount, 4);
        assert_eq!(c.channels[0].echocancel.taps(), 128);
        assert_eq!(c.span_channels()["sim0"], vec![1, 2, 3, 4]);
        assert_eq!(c.group_of(3).unwrap().span, "sim0");
    }

    #[test]
    fn bad_value_names_file_line_and_field() {
        let e = err(&GOOD.replace("busycount = 4", "busycount = 40"));
        assert_eq!(e.field, "channels[0].busycount");
        assert_eq!(e.line, Some(13));
        assert_eq!(
            e.to_string(),
            "yingda.toml:13: channels[0].busycount: busycount = 40 is out of range 1..=20"
        );
    }

    #[test]
    fn unknown_key_is_an_error_with_its_line() {
        let e = err(&GOOD.replace("busycount = 4", "busycont = 4"));
        assert_eq!(e.line, Some(13));
        assert!(e.message.contains("busycont"), "{e}");
    }

    #[test]
    fn syntax_error_has_a_line() {
        let e = err("[[span]]\nname = \"a\nbackend = \"sim\"\n");
        assert_eq!(e.line, Some(2), "{e}");
    }

    #[test]
    fn inconsistencies_are_rejected() {
        assert!(err(&GOOD.replace("span = \"sim0\"", "span = \"sim9\""))
            .message
            .contains("no span named 'sim9'"));
        assert!(err(&GOOD.replace("channel = \"1-4\"", "channel = \"1-5\""))
            .message
            .contains("channel 5 is not on span"));
        assert!(err(&GOOD.replace("channel = \"1-4\"", "channel = \"4-1\""))
            .message
            .contains("not a valid range"));
        let dup = format!("{GOOD}\n[[channels]]\nchannel = \"4\"\nspan = \"sim0\"\n");
        let e = err(&dup);
        assert_eq!(
            (e.field.as_str(), e.line),
            ("channels[1].channel", Some(16))
        );
        assert!(err(&GOOD.replace("busycount = 4", "echocancel = 100"))
            .message
            .contains("power of two"));
        assert!(
            err(&GOOD.replace("busycount = 4", "signalling = \"pri_cpe\""))
                .message
                .contains("fxs_ks")
        );
        assert!(err("").message.contains("no [[span]]"));
    }

    #[test]
    fn flows_backend_and_workers_are_checked() {
        let e = err(&GOOD.replace("span = \"sim0\"", "span = \"sim0\"\nflow = \"../etc\""));
        assert_eq!(e.field, "channels[0].flow");
        assert!(e.message.contains("not a flow name"), "{e}");
        let with = |extra: &str| format!("{extra}\n{GOOD}");
        let ok = Config::parse(
            Path::new("y.toml"),
            &with("[backend]\nresolve = { \"his.local:443\" = \"10.1.2.3:8443\" }\npinned = { \"his.local\" = \"/etc/yingda/his.pem\" }\n"),
        )
        .unwrap();
        let client = ok.backend.client_config().unwrap();
        assert_eq!(
            client.resolve[&("his.local".to_owned(), 443)],
            "10.1.2.3:8443".parse().unwrap()
        );
        assert_eq!(client.pinned.len(), 1);
        let e = err(&with(
            "[backend]\nresolve = { \"his.local\" = \"10.1.2.3\" }\n",
        ));
        assert_eq!((e.field.as_str(), e.line), ("backend.resolve", Some(2)));
        assert!(e.message.contains("host:port"), "{e}");
        let e = err(&with("[speech]\nworkers = 0\n"));
        assert_eq!(e.field, "speech.workers");
    }

    #[test]
    fn local_audio_line_needs_local_signalling() {
        let local = "[[span]]\nname = \"jack\"\nbackend = \"alsa\"\ndevice = \"default\"\n\n[[channels]]\nchannel = \"1\"\nspan = \"jack\"\n";
        let e = err(local);
        assert_eq!(e.field, "channels[0].signalling");
        let ok = format!(
            "{local}signalling = \"fxs_ks\"\nanswer_after_rings = 1\nusecallerid = false\n"
        );
        let c = Config::parse(Path::new("y.toml"), &ok).unwrap();
        assert_eq!(c.span_channels()["jack"], vec![1]);
        assert!(err(&ok.replace("channel = \"1\"", "channel = \"2\""))
            .message
            .contains("not on span"));
    }

    #[test]
    fn channel_lists() {
        assert_eq!(parse_channel_list("1-3, 5").unwrap(), vec![1, 2, 3, 5]);
        assert!(parse_channel_list("0").is_err());
        assert!(parse_channel_list("a").is_err());
    }
}
