//! Our Q.921 frames and Q.931 messages against libpri (Debian libpri-dev), the ISDN stack
//! Asterisk uses, running as the network side of a EuroISDN E1 PRI
//! (`tests/peers/c/libpri_net.c`). The test plays the user side by hand with our codec: it
//! brings the link up, takes a call from the network, places one to it, and clears both.
//! Every frame libpri sends is parsed by us, and libpri must accept every one we encode.
//! The first tests keep N(S)/N(R) by hand; the last runs our LAPD machine ([`Lapd`])
//! against libpri's, in real time, through a dead D channel and back.

use std::io::{BufRead, BufReader, Write};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use yingda_signaling::isdn::lapd::{Lapd, LapdConfig, LinkEvent, LinkState};
use yingda_signaling::isdn::q921::{Control, Frame, Kind, Side, SAPI_CALL_CONTROL, TEI_PRI};
use yingda_signaling::isdn::q931::{
    BearerCapability, CallRef, Cause, ChannelId, Ie, Message, MessageType, PartyNumber,
};

struct Network {
    child: Child,
    stdin: ChildStdin,
    lines: mpsc::Receiver<String>,
    events: Vec<String>,
    /// Our V(S) and V(R).
    vs: u8,
    vr: u8,
}

impl Network {
    fn start() -> Network {
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

    fn cmd(&mut self, line: &str) {
        writeln!(self.stdin, "{line}").unwrap();
        self.stdin.flush().unwrap();
    }

    fn send(&mut self, f: &Frame) {
        let hex: String = f
            .encode(Side::User)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        self.cmd(&format!("F {hex}"));
    }

    /// The next frame libpri sends (events seen on the way are kept).
    fn frame(&mut self) -> Frame {
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
    fn event(&mut self, what: &str) -> String {
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
    fn message(&mut self) -> Message {
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

    fn send_message(&mut self, m: &Message) {
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

    fn link_up(&mut self) {
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

fn frame(kind: Kind, control: Control) -> Frame {
    Frame {
        sapi: SAPI_CALL_CONTROL,
        tei: TEI_PRI,
        kind,
        control,
        info: Vec::new(),
    }
}

fn number(ton: u8, digits: &str) -> PartyNumber {
    PartyNumber {
        ton,
        plan: 1,
        presentation: None,
        screening: None,
        digits: digits.into(),
    }
}

fn channel(n: u8) -> Ie {
    Ie::ChannelId(ChannelId {
        exclusive: true,
        d_channel: false,
        channel: Some(n),
    })
}

#[test]
fn a_call_from_the_network_is_decoded_answered_and_cleared() {
    let mut net = Network::start();
    net.link_up();
    net.cmd("CALL 5 13800138000 4008100100");
    let setup = net.message();
    assert_eq!(setup.mtype, MessageType::Setup);
    assert!(!setup.cref.flag, "the network allocated the reference");
    assert_eq!(
        setup.channel(),
        Some(&ChannelId {
            exclusive: true,
            d_channel: false,
            channel: Some(5)
        })
    );
    let find = |f: fn(&Ie) -> Option<&PartyNumber>| setup.ies.iter().find_map(f).cloned();
    let calling = find(|ie| match ie {
        Ie::CallingNumber(n) => Some(n),
        _ => None,
    })
    .expect("calling number");
    let called = find(|ie| match ie {
        Ie::CalledNumber(n) => Some(n),
        _ => None,
    })
    .expect("called number");
    assert_eq!((calling.digits.as_str(), calling.ton), ("13800138000", 2));
    assert_eq!(calling.presentation, Some(0));
    assert_eq!(called.digits, "4008100100");
    assert!(setup.ies.iter().any(|ie| matches!(
        ie,
        Ie::BearerCapability(BearerCapability {
            capability: 0,
            layer1: Some(3),
            ..
        })
    )));

    let ours = CallRef::new(setup.cref.value, true);
    for t in [MessageType::CallProceeding, MessageType::Alerting] {
        net.send_message(&Message::new(ours, t).with(channel(5)));
    }
    net.event("E PROCEEDING");
    net.event("E RINGING");
    net.send_message(&Message::new(ours, MessageType::Connect).with(channel(5)));
    net.event("E ANSWER");
    assert_eq!(net.message().mtype, MessageType::ConnectAck);

    // The network clears: DISCONNECT with its cause, our RELEASE, its RELEASE COMPLETE.
    net.cmd("HANGUP 16");
    let disc = net.message();
    assert_eq!(disc.mtype, MessageType::Disconnect);
    assert_eq!(disc.cause().map(|c| c.value), Some(16));
    net.send_message(
        &Message::new(ours, MessageType::Release).with(Ie::Cause(Cause {
            location: 0,
            value: 16,
            diagnostics: vec![],
        })),
    );
    assert_eq!(net.message().mtype, MessageType::ReleaseComplete);
}

#[test]
fn a_call_to_the_network_is_accepted_and_our_disconnect_cause_arrives() {
    let mut net = Network::start();
    net.link_up();
    let cref = CallRef::new(0x0123, false);
    net.send_message(
        &Message::new(cref, MessageType::Setup)
            .with(Ie::BearerCapability(BearerCapability::speech_alaw()))
            .with(channel(3))
            .with(Ie::CallingNumber(PartyNumber {
                presentation: Some(0),
                screening: Some(0),
                ..number(2, "4008100100")
            }))
            .with(Ie::CalledNumber(number(0, "13900139000")))
            .with(Ie::SendingComplete),
    );
    let ring = net.event("E RING");
    assert!(
        ring.contains("channel=3")
            && ring.contains("calling=4008100100")
            && ring.contains("called=13900139000"),
        "{ring}"
    );
    let proceeding = net.message();
    assert_eq!(proceeding.mtype, MessageType::CallProceeding);
    assert_eq!(
        proceeding.cref,
        CallRef::new(0x0123, true),
        "flag set by the network"
    );
    net.cmd("ANSWER");
    let connect = net.message();
    assert_eq!(connect.mtype, MessageType::Connect);
    net.send_message(&Message::new(cref, MessageType::ConnectAck));

    // We clear with "user busy" (17): libpri reports that cause and releases.
    net.send_message(
        &Message::new(cref, MessageType::Disconnect).with(Ie::Cause(Cause {
            location: 0,
            value: 17,
            diagnostics: vec![],
        })),
    );
    let req = net.event("E HANGUP_REQ");
    assert!(req.contains("cause=17"), "{req}");
    let release = net.message();
    assert_eq!(release.mtype, MessageType::Release);
    net.send_message(&Message::new(cref, MessageType::ReleaseComplete));
    net.event("E HANGUP");
}

#[test]
fn a_restart_from_the_network_names_the_channel() {
    let mut net = Network::start();
    net.link_up();
    net.cmd("RESTART 7");
    let m = net.message();
    assert_eq!(m.mtype, MessageType::Restart);
    assert_eq!(m.cref.value, 0, "the global call reference");
    assert_eq!(m.channel().and_then(|c| c.channel), Some(7));
    assert!(m.ies.contains(&Ie::RestartIndicator(0)));
    let ack = Message::new(CallRef::new(0, true), MessageType::RestartAck)
        .with(channel(7))
        .with(Ie::RestartIndicator(0));
    net.send_message(&ack);
    let ev = net.event("E RESTART_ACK");
    assert!(ev.contains("channel=7"), "{ev}");
}

/// Our LAPD machine on one side, libpri on the other, in real time.
struct Link {
    net: Network,
    lapd: Lapd,
    t0: std::time::Instant,
}

impl Link {
    fn now(&self) -> u64 {
        self.t0.elapsed().as_millis() as u64
    }

    /// Move frames both ways and run our timers until `done` says so (or 10 s pass).
    fn pump(&mut self, what: &str, mut done: impl FnMut(&[LinkEvent], &[String]) -> bool) {
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

#[test]
fn our_lapd_keeps_the_link_with_libpri_through_a_dead_d_channel() {
    let mut link = Link {
        net: Network::start(),
        lapd: Lapd::new(LapdConfig {
            t200_ms: 300,
            ..LapdConfig::default()
        }),
        t0: std::time::Instant::now(),
    };
    // libpri establishes; our machine answers.
    link.pump("link up", |ev, lines| {
        ev.contains(&LinkEvent::Up) && lines.iter().any(|l| l == "E DCHAN_UP")
    });
    // Layer 3 traffic both ways through the machine.
    link.net.cmd("RESTART 9");
    let mut restart = None;
    link.pump("RESTART", |ev, _| {
        restart = ev.iter().find_map(|e| match e {
            LinkEvent::Data(d) => Message::parse(d).ok(),
            _ => None,
        });
        restart.is_some()
    });
    let restart = restart.unwrap();
    assert_eq!(restart.mtype, MessageType::Restart);
    let ack = Message::new(CallRef::new(0, true), MessageType::RestartAck)
        .with(channel(9))
        .with(Ie::RestartIndicator(0));
    let now = link.now();
    link.lapd.send(now, ack.encode());
    link.pump("RESTART ACK", |_, lines| {
        lines.iter().any(|l| l == "E RESTART_ACK channel=9")
    });

    // The D channel dies: our frame goes unanswered, enquiries go unanswered, the link is
    // reported down and establishment starts over.
    link.net.cmd("MUTE");
    let now = link.now();
    link.lapd.send(now, ack.encode());
    link.pump("link down", |ev, _| {
        ev.contains(&LinkEvent::Down("peer silent (N200 exceeded)"))
    });
    assert_eq!(link.lapd.state(), LinkState::Establishing);
    // It comes back: our SABME is answered and the link is up again.
    link.net.cmd("UNMUTE");
    link.pump("link up again", |ev, _| ev.contains(&LinkEvent::Up));
    assert_eq!(link.lapd.state(), LinkState::Up);
}

use yingda_signaling::isdn::call::{cause, CallEvent, CallKey, CallTimers, Pri};

/// The box's whole D-channel stack (our LAPD + our Q.931 call control) against libpri.
struct Cpe {
    link: Link,
    pri: Pri,
    calls: Vec<CallEvent>,
    lines: Vec<String>,
}

impl Cpe {
    fn start(timers: CallTimers) -> Cpe {
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
    fn until(&mut self, what: &str, mut done: impl FnMut(&[CallEvent], &[String], usize) -> bool) {
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
    fn answered_incoming(&mut self, channel: u8) -> CallKey {
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

#[test]
fn calls_both_ways_through_our_call_control_against_libpri() {
    let mut cpe = Cpe::start(CallTimers::default());
    // The network calls; we answer; the network clears with each of several causes.
    for c in [
        cause::NORMAL_CLEARING,
        cause::USER_BUSY,
        19, // no answer
        cause::NO_CIRCUIT,
    ] {
        let key = cpe.answered_incoming(5);
        cpe.link.net.cmd(&format!("HANGUP {c}"));
        cpe.until("network clear", |calls, l, _| {
            calls.iter().any(|e| {
                matches!(e, CallEvent::Cleared { key: k, cause, channel: Some(5), .. } if *k == key && *cause == c)
            }) && l.iter().any(|x| x.starts_with("E HANGUP"))
        });
        cpe.until("released", |_, _, active| active == 0);
        assert_eq!(cpe.pri.active_calls(), 0, "cause {c}");
    }
    // We call the network; it answers; we clear with "normal clearing".
    let now = cpe.link.now();
    let key = cpe
        .pri
        .place_call(now, 3, Some(number(2, "4008100100")), "13900139000")
        .unwrap();
    cpe.until("proceeding", |c, l, _| {
        c.contains(&CallEvent::Proceeding(key))
            && l.iter()
                .any(|x| x.contains("RING channel=3") && x.contains("called=13900139000"))
    });
    cpe.link.net.cmd("ANSWER");
    cpe.until("answered", |c, _, _| c.contains(&CallEvent::Connected(key)));
    let now = cpe.link.now();
    cpe.pri.hangup(now, key, cause::NORMAL_CLEARING).unwrap();
    cpe.until("we clear", |c, l, _| {
        c.iter()
            .any(|e| matches!(e, CallEvent::Cleared { key: k, cause: 16, .. } if *k == key))
            && l.iter().any(|x| x == "E HANGUP_REQ cause=16")
    });
    cpe.until("released", |_, _, active| active == 0);
    assert_eq!(cpe.pri.active_calls(), 0);
}

#[test]
fn a_restart_clears_the_call_on_its_channel() {
    let mut cpe = Cpe::start(CallTimers::default());
    let key = cpe.answered_incoming(7);
    cpe.link.net.cmd("RESTART 7");
    cpe.until("restart", |c, l, _| {
        c.contains(&CallEvent::Restarted(Some(7)))
            && c.iter()
                .any(|e| matches!(e, CallEvent::Cleared { key: k, .. } if *k == key))
            && l.iter().any(|x| x == "E RESTART_ACK channel=7")
    });
    assert_eq!(cpe.pri.active_calls(), 0);
}

#[test]
fn a_setup_the_network_never_answers_is_given_up_after_t303_twice() {
    let mut cpe = Cpe::start(CallTimers {
        t303_ms: 400,
        ..CallTimers::default()
    });
    cpe.link.net.cmd("MUTE");
    let now = cpe.link.now();
    let key = cpe.pri.place_call(now, 2, None, "110").unwrap();
    let t0 = cpe.link.now();
    cpe.until("T303", |c, _, _| {
        c.iter()
            .any(|e| matches!(e, CallEvent::Cleared { key: k, cause: 18, .. } if *k == key))
    });
    assert!(cpe.link.now() - t0 >= 800, "two T303 periods");
    assert_eq!(cpe.pri.active_calls(), 0);
}
