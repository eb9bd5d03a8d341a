//! Our Q.921 frames and Q.931 messages against libpri (Debian libpri-dev), the ISDN stack
//! Asterisk uses, running as the network side of a EuroISDN E1 PRI
//! (`tests/peers/c/libpri_net.c`). The test plays the user side by hand with our codec: it
//! brings the link up, takes a call from the network, places one to it, and clears both.
//! Every frame libpri sends is parsed by us, and libpri must accept every one we encode.
//! The first tests keep N(S)/N(R) by hand; the last runs our LAPD machine ([`Lapd`])
//! against libpri's, in real time, through a dead D channel and back; the rest run our whole
//! stack (LAPD + call control) through calls, clearing causes, RESTART and T303.

mod libpri;

use libpri::{channel, number, Cpe, Link, Network};
use yingda_signaling::isdn::call::{cause, CallEvent, CallTimers};
use yingda_signaling::isdn::lapd::{Lapd, LapdConfig, LinkEvent, LinkState};
use yingda_signaling::isdn::q931::{
    BearerCapability, CallRef, Cause, ChannelId, Ie, Message, MessageType, PartyNumber,
};

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
