//! Driving libpri (`tests/peers/c/libpri_net.c`) as the network side of a PRI from Rust:
//! the process and its frame pipe ([`Network`]), our LAPD machine against it ([`Link`]),
//! and our whole D-channel stack against it ([`Cpe`]). Shared by `tests/isdn_libpri.rs`
//! and `benches/pri_span.rs`.
#![allow(dead_code, unreachable_pub)]

use std::io::{BufRead, BufReader, Write};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use yingda_signaling::isdn::call::{CallEvent, CallKey, CallTimers, Pri};
use yingda_signaling::isdn::lapd::{Lapd, LapdConfig, LinkEvent};
use yingda_signaling::isdn::q921::{Control, Frame, Kind, Side, SAPI_CALL_CONTROL, TEI_PRI};
use yingda_signaling::isdn::q931::{ChannelId, Ie, Message, PartyNumber};

pub struct Network {
    pub child: Child,
    pub stdin: ChildStdin,
    pub lines: mpsc::Receiver<String>,
    pub events: Vec<String>,
    /// Our V(S) and V(R).
    pub vs: u8,
    pub vr: u8,
}

impl Network {
    pub fn start() -> Network {
        let exe = yingda_testpeers::build("libpri_net", &[], &["-lpri"]);
        let mut child = Command::new(exe)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            // LIBPRI_DEBUG=1 shows libpri's own decoding of every message.
            .stderr(if std::env::var_os("LIBPRI_DEBUG").is_some() {
                Stdio::inherit()
            } else {
                Stdio::null()
            })
            .spawn()
            .expect("start the libpri harness");
        let stdin = child.stdin.take().unwrap();
        let out = child.stdout.take().unwrap();
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for l in BufReader::new(out).lines().map_while(Result::ok) {
                let _ = tx.send(l);
            }
        });
        Network {
            child,
            stdin,
            lines,
            events: Vec::new(),
            vs: 0,
            vr: 0,
        }
    }

    pub fn cmd(&mut self, line: &str) {
        writeln!(self.stdin, "{line}").unwrap();
        self.stdin.flush().unwrap();
    }

    pub fn send(&mut self, f: &Frame) {
        let hex: String = f
            .encode(Side::User)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        self.cmd(&format!("F {hex}"));
    }

    /// The next frame libpri sends (events seen on the way are kept).
    pub fn frame(&mut self) -> Frame {
        loop {
            // Frames that arrived while waiting for an event come first, in order.
            let stashed = self.events.iter().position(|e| e.starts_with("F "));
            let l = match stashed {
                Some(i) => self.events.remove(i),
                None => self
                    .lines
                    .recv_timeout(Duration::from_secs(5))
                    .unwrap_or_else(|_| panic!("no frame from libpri; events {:?}", self.events)),
            };
            if let Some(hex) = l.strip_prefix("F ") {
                let bytes: Vec<u8> = (0..hex.len() / 2)
                    .map(|i| u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).unwrap())
                    .collect();
                return Frame::parse(&bytes, Side::Network)
                    .unwrap_or_else(|e| panic!("libpri frame {hex}: {e}"));
            }
            self.events.push(l);
        }
    }

    /// Wait for an event line starting with `what`.
    pub fn event(&mut self, what: &str) -> String {
        if let Some(i) = self.events.iter().position(|e| e.starts_with(what)) {
            return self.events.remove(i);
        }
        let deadline = std::time::Instant::now() + Duration::from_secs(5);
        while let Some(left) = deadline.checked_duration_since(std::time::Instant::now()) {
            let Ok(l) = self.lines.recv_timeout(left) else {
                break;
            };
            if l.starts_with(what) {
                return l;
            }
            self.events.push(l);
        }
        panic!("no {what}; seen {:?}", self.events)
    }

    /// The next Q.931 message from libpri, acknowledged with RR.
    pub fn message(&mut self) -> Message {
        loop {
            let f = self.frame();
            match f.control {
                Control::I { ns, .. } => {
                    assert_eq!(ns, self.vr, "libpri's N(S) in sequence");
                    self.vr = (self.vr + 1) % 128;
                    let vr = self.vr;
                    self.send(&frame(Kind::Response, Control::Rr { nr: vr, pf: false }));
                    return Message::parse(&f.info)
                        .unwrap_or_else(|e| panic!("libpri message {:02x?}: {e}", f.info));
                }
                // Its acknowledgements and polls.
                Control::Rr { pf: true, .. } if f.kind == Kind::Command => {
                    let vr = self.vr;
                    self.send(&frame(Kind::Response, Control::Rr { nr: vr, pf: true }));
                }
                _ => {}
            }
        }
    }

    pub fn send_message(&mut self, m: &Message) {
        let f = Frame {
            info: m.encode(),
            ..frame(
                Kind::Command,
                Control::I {
                    ns: self.vs,
                    nr: self.vr,
                    p: false,
                },
            )
        };
        self.vs = (self.vs + 1) % 128;
        self.send(&f);
    }

    pub fn link_up(&mut self) {
        let f = self.frame();
        assert_eq!(f.control, Control::Sabme { p: true }, "{f}");
        assert_eq!(
            (f.sapi, f.tei, f.kind),
            (SAPI_CALL_CONTROL, TEI_PRI, Kind::Command)
        );
        self.send(&frame(Kind::Response, Control::Ua { f: true }));
        self.event("E DCHAN_UP");
    }
}

impl Drop for Network {
    fn drop(&mut self) {
        let _ = writeln!(self.stdin, "QUIT");
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn frame(kind: Kind, control: Control) -> Frame {
    Frame {
        sapi: SAPI_CALL_CONTROL,
        tei: TEI_PRI,
        kind,
        control,
        info: Vec::new(),
    }
}

pub fn number(ton: u8, digits: &str) -> PartyNumber {
    PartyNumber {
        ton,
        plan: 1,
        presentation: None,
        screening: None,
        digits: digits.into(),
    }
}

pub fn channel(n: u8) -> Ie {
    Ie::ChannelId(ChannelId {
        exclusive: true,
        d_channel: false,
        channel: Some(n),
    })
}

/// Our LAPD machine on one side, libpri on the other, in real time.
pub struct Link {
    pub net: Network,
    pub lapd: Lapd,
    pub t0: std::time::Instant,
}

impl Link {
    pub fn now(&self) -> u64 {
        self.t0.elapsed().as_millis() as u64
    }

    /// Move frames both ways and run our timers until `done` says so (or 10 s pass).
    pub fn pump(&mut self, what: &str, mut done: impl FnMut(&[LinkEvent], &[String]) -> bool) {
        let mut events = Vec::new();
        let mut lines = Vec::new();
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        while std::time::Instant::now() < deadline {
            let now = self.now();
            self.lapd.tick(now);
            for f in self.lapd.take_frames() {
                let hex: String = f.iter().map(|b| format!("{b:02x}")).collect();
                self.net.cmd(&format!("F {hex}"));
            }
            events.extend(self.lapd.take_events());
            if done(&events, &lines) {
                return;
            }
            if let Ok(l) = self.net.lines.recv_timeout(Duration::from_millis(20)) {
                if let Some(hex) = l.strip_prefix("F ") {
                    let bytes: Vec<u8> = (0..hex.len() / 2)
                        .map(|i| u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).unwrap())
                        .collect();
                    let now = self.now();
                    self.lapd.receive(now, &bytes).unwrap();
                } else {
                    lines.push(l);
                }
            }
        }
        panic!("{what}: timed out; link events {events:?}, libpri {lines:?}");
    }
}

/// The box's whole D-channel stack (our LAPD + our Q.931 call control) against libpri.
pub struct Cpe {
    pub link: Link,
    pub pri: Pri,
    pub calls: Vec<CallEvent>,
    pub lines: Vec<String>,
}

impl Cpe {
    pub fn start(timers: CallTimers) -> Cpe {
        let mut cpe = Cpe {
            link: Link {
                net: Network::start(),
                lapd: Lapd::new(LapdConfig {
                    t200_ms: 300,
                    ..LapdConfig::default()
                }),
                t0: std::time::Instant::now(),
            },
            pri: Pri::new(timers),
            calls: Vec::new(),
            lines: Vec::new(),
        };
        cpe.until("link up", |_, l, _| l.iter().any(|l| l == "E DCHAN_UP"));
        cpe
    }

    /// Run both stacks until `done` holds over the call events and libpri's event lines
    /// seen since the last call.
    pub fn until(
        &mut self,
        what: &str,
        mut done: impl FnMut(&[CallEvent], &[String], usize) -> bool,
    ) {
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        loop {
            let now = self.link.now();
            self.pri.tick(now);
            for m in self.pri.take_messages() {
                self.link.lapd.send(now, m);
            }
            self.link.lapd.tick(now);
            for f in self.link.lapd.take_frames() {
                let hex: String = f.iter().map(|b| format!("{b:02x}")).collect();
                self.link.net.cmd(&format!("F {hex}"));
            }
            for e in self.link.lapd.take_events() {
                match e {
                    LinkEvent::Data(d) => self.pri.receive(now, &d).unwrap(),
                    LinkEvent::Down(_) => self.pri.link_down(),
                    LinkEvent::Up => {}
                }
            }
            self.calls.extend(self.pri.take_events());
            // Answers to what just arrived go out on the next turn of the loop.
            if done(&self.calls, &self.lines, self.pri.active_calls()) {
                self.calls.clear();
                self.lines.clear();
                return;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "{what}: timed out; calls {:?}, libpri {:?}",
                self.calls,
                self.lines
            );
            if let Ok(l) = self.link.net.lines.recv_timeout(Duration::from_millis(10)) {
                if let Some(hex) = l.strip_prefix("F ") {
                    let bytes: Vec<u8> = (0..hex.len() / 2)
                        .map(|i| u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).unwrap())
                        .collect();
                    let now = self.link.now();
                    self.link.lapd.receive(now, &bytes).unwrap();
                } else {
                    self.lines.push(l);
                }
            }
        }
    }

    /// An incoming call from libpri on `channel`, answered; returns its key.
    pub fn answered_incoming(&mut self, channel: u8) -> CallKey {
        self.link
            .net
            .cmd(&format!("CALL {channel} 13800138000 4008100100"));
        let mut key = None;
        self.until("SETUP", |c, _, _| {
            key = c.iter().find_map(|e| match e {
                CallEvent::Incoming {
                    key,
                    channel: ch,
                    calling,
                    called,
                } => {
                    assert_eq!(*ch, channel);
                    assert_eq!(
                        calling.as_ref().map(|n| n.digits.as_str()),
                        Some("13800138000")
                    );
                    assert_eq!(called, "4008100100");
                    Some(*key)
                }
                _ => None,
            });
            key.is_some()
        });
        let key = key.unwrap();
        let now = self.link.now();
        self.pri.proceed(key).unwrap();
        self.pri.alert(key).unwrap();
        self.pri.answer(now, key).unwrap();
        self.until("answered", |c, l, _| {
            c.contains(&CallEvent::Connected(key))
                && ["E PROCEEDING", "E RINGING", "E ANSWER"]
                    .iter()
                    .all(|w| l.iter().any(|x| x.starts_with(w)))
        });
        key
    }
}
