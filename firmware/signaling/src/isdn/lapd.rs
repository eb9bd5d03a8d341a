//! Q.921 data link procedures for one PRI D channel (SAPI 0, TEI 0), modulo 128:
//! establishment and release, numbered information with acknowledgement, the T200/N200
//! retransmission and timer-recovery procedure, T203 link supervision, RR/RNR/REJ, and
//! re-establishment after a protocol error or a silent peer.
//!
//! Sans-IO like the other machines: frames in ([`Lapd::receive`]) and requests in
//! ([`Lapd::establish`], [`Lapd::send`], [`Lapd::release`]) with the current time, timers
//! run by [`Lapd::tick`]; frames to send and events for layer 3 are taken out with
//! [`Lapd::take_frames`] and [`Lapd::take_events`]. Time is milliseconds of an injected clock.

use std::collections::VecDeque;

use super::q921::{Control, Frame, FrameError, Kind, Side, SAPI_CALL_CONTROL, TEI_PRI};

/// Timers and window (Q.921 §5.9 defaults).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LapdConfig {
    /// Our side of the interface.
    pub side: Side,
    /// Largest number of unacknowledged I frames (k; 7 on a PRI).
    pub k: u8,
    /// Retransmission timer T200, ms.
    pub t200_ms: u64,
    /// Retransmissions before giving up (N200).
    pub n200: u8,
    /// Idle supervision timer T203, ms.
    pub t203_ms: u64,
    /// While the link is down (not released by us), establishment is tried again after this
    /// long: a PRI's D channel must come back by itself. `None`: only on request.
    pub retry_ms: Option<u64>,
}

impl Default for LapdConfig {
    fn default() -> Self {
        Self {
            side: Side::User,
            k: 7,
            t200_ms: 1000,
            n200: 3,
            t203_ms: 10_000,
            retry_ms: Some(5_000),
        }
    }
}

/// Link states (Q.921 SDL states 4–8).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkState {
    /// TEI assigned, no multiple-frame operation (4).
    Down,
    /// SABME sent, waiting for UA (5).
    Establishing,
    /// DISC sent, waiting for UA (6).
    Releasing,
    /// Multiple-frame established (7).
    Up,
    /// Timer recovery (8): an enquiry is outstanding.
    TimerRecovery,
}

/// What the link tells layer 3.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LinkEvent {
    /// Multiple-frame operation established (DL-ESTABLISH indication/confirm).
    Up,
    /// The link went down (DL-RELEASE), with why.
    Down(&'static str),
    /// An I frame's information arrived in sequence (DL-DATA indication).
    Data(Vec<u8>),
}

/// One D-channel data link.
#[derive(Debug)]
pub struct Lapd {
    cfg: LapdConfig,
    state: LinkState,
    vs: u8,
    va: u8,
    vr: u8,
    rc: u8,
    t200: Option<u64>,
    t203: Option<u64>,
    /// When to try establishing again while down.
    retry: Option<u64>,
    peer_busy: bool,
    reject_exception: bool,
    /// Not yet sent.
    queue: VecDeque<Vec<u8>>,
    /// Sent, not acknowledged: N(S) = V(A) + index.
    unacked: VecDeque<Vec<u8>>,
    frames: Vec<Vec<u8>>,
    events: Vec<LinkEvent>,
}

fn add(a: u8, b: u8) -> u8 {
    (a + b) % 128
}

fn sub(a: u8, b: u8) -> u8 {
    (a + 128 - b) % 128
}

impl Lapd {
    /// A link in state [`LinkState::Down`].
    pub fn new(cfg: LapdConfig) -> Self {
        Self {
            cfg,
            state: LinkState::Down,
            vs: 0,
            va: 0,
            vr: 0,
            rc: 0,
            t200: None,
            t203: None,
            retry: None,
            peer_busy: false,
            reject_exception: false,
            queue: VecDeque::new(),
            unacked: VecDeque::new(),
            frames: Vec::new(),
            events: Vec::new(),
        }
    }

    /// Current state.
    pub fn state(&self) -> LinkState {
        self.state
    }

    /// Frames to transmit, in order.
    pub fn take_frames(&mut self) -> Vec<Vec<u8>> {
        std::mem::take(&mut self.frames)
    }

    /// Events for layer 3, in order.
    pub fn take_events(&mut self) -> Vec<LinkEvent> {
        std::mem::take(&mut self.events)
    }

    /// When [`Lapd::tick`] must next be called.
    pub fn next_deadline(&self) -> Option<u64> {
        [self.t200, self.t203, self.retry]
            .into_iter()
            .flatten()
            .min()
    }

    fn emit(&mut self, kind: Kind, control: Control, info: Vec<u8>) {
        let f = Frame {
            sapi: SAPI_CALL_CONTROL,
            tei: TEI_PRI,
            kind,
            control,
            info,
        };
        self.frames.push(f.encode(self.cfg.side));
    }

    fn start_t200(&mut self, now: u64) {
        self.t200 = Some(now + self.cfg.t200_ms);
        self.t203 = None;
    }

    fn start_t203(&mut self, now: u64) {
        self.t200 = None;
        self.t203 = Some(now + self.cfg.t203_ms);
    }

    /// Ask for multiple-frame operation (DL-ESTABLISH request): SABME, retried per T200.
    pub fn establish(&mut self, now: u64) {
        if matches!(self.state, LinkState::Up | LinkState::TimerRecovery) {
            return;
        }
        self.retry = None;
        self.state = LinkState::Establishing;
        self.rc = 0;
        self.emit(Kind::Command, Control::Sabme { p: true }, Vec::new());
        self.start_t200(now);
    }

    /// Release the link (DL-RELEASE request): DISC, retried per T200.
    pub fn release(&mut self, now: u64) {
        if self.state == LinkState::Down {
            return;
        }
        self.state = LinkState::Releasing;
        self.retry = None;
        self.rc = 0;
        self.queue.clear();
        self.unacked.clear();
        self.emit(Kind::Command, Control::Disc { p: true }, Vec::new());
        self.start_t200(now);
    }

    /// Send a layer 3 message (DL-DATA request). Queued while the link is not up (and
    /// establishment is started if it is down).
    pub fn send(&mut self, now: u64, info: Vec<u8>) {
        self.queue.push_back(info);
        if self.state == LinkState::Down {
            self.establish(now);
        }
        self.transmit(now);
    }

    fn transmit(&mut self, now: u64) {
        if self.state != LinkState::Up || self.peer_busy {
            return;
        }
        while sub(self.vs, self.va) < self.cfg.k {
            let Some(info) = self.queue.pop_front() else {
                break;
            };
            let (ns, nr) = (self.vs, self.vr);
            self.emit(Kind::Command, Control::I { ns, nr, p: false }, info.clone());
            self.unacked.push_back(info);
            self.vs = add(self.vs, 1);
            if self.t200.is_none() {
                self.start_t200(now);
            }
        }
    }

    fn reset_counters(&mut self) {
        self.vs = 0;
        self.va = 0;
        self.vr = 0;
        self.rc = 0;
        self.peer_busy = false;
        self.reject_exception = false;
    }

    fn up(&mut self, now: u64) {
        let was = self.state;
        self.reset_counters();
        // Unacknowledged frames are sent again on the new link (Q.921 §5.5.3.2 leaves
        // this to layer 3; a message lost here would hang a call).
        while let Some(f) = self.unacked.pop_back() {
            self.queue.push_front(f);
        }
        self.state = LinkState::Up;
        self.start_t203(now);
        if was != LinkState::Up && was != LinkState::TimerRecovery {
            self.events.push(LinkEvent::Up);
        }
        self.transmit(now);
    }

    fn down(&mut self, why: &'static str) {
        let was = self.state;
        self.state = LinkState::Down;
        self.t200 = None;
        self.t203 = None;
        if was != LinkState::Down {
            self.events.push(LinkEvent::Down(why));
        }
    }

    /// The link went down without our asking: try again later.
    fn lost(&mut self, now: u64, why: &'static str) {
        self.down(why);
        self.retry = self.cfg.retry_ms.map(|ms| now + ms);
    }

    /// Re-establish after an error: report the link down and send SABME.
    fn reestablish(&mut self, now: u64, why: &'static str) {
        self.down(why);
        self.establish(now);
    }

    /// N(R) acknowledges frames up to but not including it; valid if V(A) ≤ N(R) ≤ V(S).
    fn ack(&mut self, nr: u8) -> bool {
        if sub(nr, self.va) > sub(self.vs, self.va) {
            return false;
        }
        while self.va != nr {
            self.unacked.pop_front();
            self.va = add(self.va, 1);
        }
        true
    }

    /// Retransmit everything not acknowledged, from V(A).
    fn go_back(&mut self, now: u64) {
        while let Some(f) = self.unacked.pop_back() {
            self.queue.push_front(f);
        }
        self.vs = self.va;
        self.transmit(now);
    }

    /// A frame from the peer.
    ///
    /// # Errors
    /// The frame does not parse; it is ignored (Q.921 §5.8.4) and the link state is
    /// unchanged.
    pub fn receive(&mut self, now: u64, bytes: &[u8]) -> Result<(), FrameError> {
        let f = Frame::parse(bytes, self.cfg.side.peer())?;
        if f.sapi != SAPI_CALL_CONTROL || f.tei != TEI_PRI {
            return Ok(());
        }
        let established = matches!(self.state, LinkState::Up | LinkState::TimerRecovery);
        match f.control {
            Control::Sabme { p } => {
                self.emit(Kind::Response, Control::Ua { f: p }, Vec::new());
                if self.state == LinkState::Releasing {
                    return Ok(());
                }
                self.up(now);
            }
            Control::Disc { p } => {
                if self.state == LinkState::Down {
                    self.emit(Kind::Response, Control::Dm { f: p }, Vec::new());
                } else {
                    self.emit(Kind::Response, Control::Ua { f: p }, Vec::new());
                    self.queue.clear();
                    self.unacked.clear();
                    self.lost(now, "peer released the link (DISC)");
                }
            }
            Control::Ua { .. } => match self.state {
                LinkState::Establishing => self.up(now),
                LinkState::Releasing => {
                    self.state = LinkState::Down;
                    self.t200 = None;
                    self.events.push(LinkEvent::Down("released"));
                }
                _ => {}
            },
            Control::Dm { f } => match self.state {
                LinkState::Establishing if f => self.lost(now, "peer refused the link (DM)"),
                LinkState::Releasing if f => {
                    self.state = LinkState::Down;
                    self.t200 = None;
                    self.events.push(LinkEvent::Down("released"));
                }
                LinkState::Up | LinkState::TimerRecovery if !f => {
                    self.reestablish(now, "peer in disconnected mode (DM)");
                }
                _ => {}
            },
            Control::Frmr { .. } if established => {
                self.reestablish(now, "peer rejected a frame (FRMR)");
            }
            Control::I { ns, nr, p } => {
                if !established {
                    if self.state == LinkState::Down {
                        self.emit(Kind::Response, Control::Dm { f: p }, Vec::new());
                    }
                    return Ok(());
                }
                if ns == self.vr {
                    self.vr = add(self.vr, 1);
                    self.reject_exception = false;
                    self.events.push(LinkEvent::Data(f.info));
                    let vr = self.vr;
                    self.emit(Kind::Response, Control::Rr { nr: vr, pf: p }, Vec::new());
                } else if !self.reject_exception {
                    self.reject_exception = true;
                    let vr = self.vr;
                    self.emit(Kind::Response, Control::Rej { nr: vr, pf: p }, Vec::new());
                } else if p {
                    let vr = self.vr;
                    self.emit(Kind::Response, Control::Rr { nr: vr, pf: true }, Vec::new());
                }
                self.acknowledged(now, nr, false, false);
            }
            Control::Rr { nr, pf } | Control::Rnr { nr, pf } | Control::Rej { nr, pf } => {
                if !established {
                    return Ok(());
                }
                self.peer_busy = matches!(f.control, Control::Rnr { .. });
                let command = f.kind == Kind::Command;
                if command && pf {
                    let vr = self.vr;
                    self.emit(Kind::Response, Control::Rr { nr: vr, pf: true }, Vec::new());
                }
                let final_response = !command && pf;
                let reject = matches!(f.control, Control::Rej { .. });
                self.acknowledged(now, nr, final_response, reject);
            }
            _ => {}
        }
        Ok(())
    }

    /// Handle an N(R) (and, for supervisory frames, F=1 or REJ).
    fn acknowledged(&mut self, now: u64, nr: u8, final_response: bool, reject: bool) {
        if !self.ack(nr) {
            self.reestablish(now, "N(R) error from the peer");
            return;
        }
        match self.state {
            LinkState::Up => {
                if reject {
                    self.go_back(now);
                } else if self.va == self.vs {
                    self.start_t203(now);
                } else {
                    self.start_t200(now);
                }
                self.transmit(now);
            }
            LinkState::TimerRecovery if final_response => {
                // The answer to our enquiry: back to normal, resend what is missing.
                self.state = LinkState::Up;
                self.rc = 0;
                self.start_t203(now);
                self.go_back(now);
                if self.va != self.vs {
                    self.start_t200(now);
                }
            }
            _ => {}
        }
    }

    /// Run the timers due at `now`.
    pub fn tick(&mut self, now: u64) {
        if self.retry.is_some_and(|t| now >= t) && self.state == LinkState::Down {
            self.establish(now);
        }
        if self.t200.is_some_and(|t| now >= t) {
            self.t200 = None;
            self.t200_expired(now);
        }
        if self.t203.is_some_and(|t| now >= t) {
            self.t203 = None;
            if self.state == LinkState::Up {
                self.state = LinkState::TimerRecovery;
                self.rc = 0;
                self.enquire(now);
            }
        }
    }

    fn enquire(&mut self, now: u64) {
        let vr = self.vr;
        self.emit(Kind::Command, Control::Rr { nr: vr, pf: true }, Vec::new());
        self.rc += 1;
        self.start_t200(now);
    }

    fn t200_expired(&mut self, now: u64) {
        match self.state {
            LinkState::Establishing => {
                if self.rc < self.cfg.n200 {
                    self.rc += 1;
                    self.emit(Kind::Command, Control::Sabme { p: true }, Vec::new());
                    self.start_t200(now);
                } else {
                    self.lost(now, "no answer to SABME (N200 exceeded)");
                }
            }
            LinkState::Releasing => {
                if self.rc < self.cfg.n200 {
                    self.rc += 1;
                    self.emit(Kind::Command, Control::Disc { p: true }, Vec::new());
                    self.start_t200(now);
                } else {
                    self.down("released (no answer to DISC)");
                }
            }
            LinkState::Up => {
                self.state = LinkState::TimerRecovery;
                self.rc = 0;
                self.enquire(now);
            }
            LinkState::TimerRecovery => {
                if self.rc < self.cfg.n200 {
                    self.enquire(now);
                } else {
                    self.reestablish(now, "peer silent (N200 exceeded)");
                }
            }
            LinkState::Down => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The network's frames, encoded as it would send them.
    fn net(kind: Kind, control: Control, info: &[u8]) -> Vec<u8> {
        Frame {
            sapi: 0,
            tei: 0,
            kind,
            control,
            info: info.to_vec(),
        }
        .encode(Side::Network)
    }

    fn sent(l: &mut Lapd) -> Vec<Control> {
        l.take_frames()
            .iter()
            .map(|b| Frame::parse(b, Side::User).unwrap().control)
            .collect()
    }

    fn up() -> Lapd {
        let mut l = Lapd::new(LapdConfig::default());
        l.establish(0);
        assert_eq!(sent(&mut l), [Control::Sabme { p: true }]);
        l.receive(10, &net(Kind::Response, Control::Ua { f: true }, &[]))
            .unwrap();
        assert_eq!(l.take_events(), [LinkEvent::Up]);
        l
    }

    #[test]
    fn sabme_is_retried_n200_times_then_the_link_is_down() {
        let mut l = Lapd::new(LapdConfig::default());
        l.establish(0);
        assert_eq!(sent(&mut l), [Control::Sabme { p: true }]);
        for t in [1000, 2000, 3000] {
            l.tick(t - 1);
            assert!(l.take_frames().is_empty(), "not before T200");
            l.tick(t);
            assert_eq!(sent(&mut l), [Control::Sabme { p: true }], "at {t}");
        }
        l.tick(4000);
        assert_eq!(l.state(), LinkState::Down);
        assert_eq!(
            l.take_events(),
            [LinkEvent::Down("no answer to SABME (N200 exceeded)")]
        );
        // A PRI's D channel comes back by itself: SABME again after retry_ms.
        assert_eq!(l.next_deadline(), Some(9000));
        l.tick(9000);
        assert_eq!(sent(&mut l), [Control::Sabme { p: true }]);
        assert_eq!(l.state(), LinkState::Establishing);
        // Released on request: no retry.
        l.receive(9010, &net(Kind::Response, Control::Ua { f: true }, &[]))
            .unwrap();
        l.release(9020);
        l.receive(9030, &net(Kind::Response, Control::Ua { f: true }, &[]))
            .unwrap();
        assert_eq!(l.state(), LinkState::Down);
        assert_eq!(l.next_deadline(), None);
    }

    #[test]
    fn i_frames_are_numbered_acknowledged_and_delivered() {
        let mut l = up();
        l.send(20, b"setup".to_vec());
        l.send(20, b"info".to_vec());
        assert_eq!(
            sent(&mut l),
            [
                Control::I {
                    ns: 0,
                    nr: 0,
                    p: false
                },
                Control::I {
                    ns: 1,
                    nr: 0,
                    p: false
                }
            ]
        );
        assert_eq!(
            l.next_deadline(),
            Some(1020),
            "T200 runs while frames are unacked"
        );
        // The network answers with an I frame acknowledging both.
        l.receive(
            30,
            &net(
                Kind::Command,
                Control::I {
                    ns: 0,
                    nr: 2,
                    p: false,
                },
                b"proc",
            ),
        )
        .unwrap();
        assert_eq!(l.take_events(), [LinkEvent::Data(b"proc".to_vec())]);
        assert_eq!(sent(&mut l), [Control::Rr { nr: 1, pf: false }]);
        assert_eq!(l.next_deadline(), Some(10_030), "all acked: T203");
    }

    #[test]
    fn window_of_k_frames_then_wait_for_acks() {
        let mut l = up();
        for i in 0..9u8 {
            l.send(20, vec![i]);
        }
        assert_eq!(sent(&mut l).len(), 7, "k = 7");
        l.receive(
            30,
            &net(Kind::Response, Control::Rr { nr: 3, pf: false }, &[]),
        )
        .unwrap();
        assert_eq!(
            sent(&mut l),
            [
                Control::I {
                    ns: 7,
                    nr: 0,
                    p: false
                },
                Control::I {
                    ns: 8,
                    nr: 0,
                    p: false
                }
            ]
        );
    }

    #[test]
    fn a_silent_peer_gets_enquiries_then_the_link_is_reestablished() {
        let mut l = up();
        l.send(0, b"x".to_vec());
        sent(&mut l);
        l.tick(1000);
        assert_eq!(l.state(), LinkState::TimerRecovery);
        assert_eq!(sent(&mut l), [Control::Rr { nr: 0, pf: true }]);
        l.tick(2000);
        l.tick(3000);
        assert_eq!(sent(&mut l).len(), 2);
        l.tick(4000);
        assert_eq!(
            l.take_events(),
            [LinkEvent::Down("peer silent (N200 exceeded)")]
        );
        assert_eq!(sent(&mut l), [Control::Sabme { p: true }]);
        assert_eq!(l.state(), LinkState::Establishing);
        // The peer comes back: the unacknowledged frame is sent again on the new link.
        l.receive(4100, &net(Kind::Response, Control::Ua { f: true }, &[]))
            .unwrap();
        assert_eq!(l.take_events(), [LinkEvent::Up]);
        assert_eq!(
            sent(&mut l),
            [Control::I {
                ns: 0,
                nr: 0,
                p: false
            }]
        );
    }

    #[test]
    fn an_enquiry_answer_resends_what_was_lost() {
        let mut l = up();
        l.send(0, b"a".to_vec());
        l.send(0, b"b".to_vec());
        sent(&mut l);
        l.tick(1000);
        sent(&mut l);
        // Only "a" got through.
        l.receive(
            1100,
            &net(Kind::Response, Control::Rr { nr: 1, pf: true }, &[]),
        )
        .unwrap();
        assert_eq!(l.state(), LinkState::Up);
        assert_eq!(
            sent(&mut l),
            [Control::I {
                ns: 1,
                nr: 0,
                p: false
            }]
        );
    }

    #[test]
    fn idle_link_is_supervised_by_t203() {
        let mut l = up();
        l.tick(10_010);
        assert_eq!(sent(&mut l), [Control::Rr { nr: 0, pf: true }]);
        l.receive(
            10_050,
            &net(Kind::Response, Control::Rr { nr: 0, pf: true }, &[]),
        )
        .unwrap();
        assert_eq!(l.state(), LinkState::Up);
        assert_eq!(l.next_deadline(), Some(20_050));
    }

    #[test]
    fn out_of_sequence_i_frames_get_one_reject() {
        let mut l = up();
        let i = |ns| {
            net(
                Kind::Command,
                Control::I {
                    ns,
                    nr: 0,
                    p: false,
                },
                b"m",
            )
        };
        l.receive(10, &i(1)).unwrap();
        l.receive(11, &i(2)).unwrap();
        assert_eq!(sent(&mut l), [Control::Rej { nr: 0, pf: false }]);
        assert!(l.take_events().is_empty());
        l.receive(12, &i(0)).unwrap();
        assert_eq!(l.take_events(), [LinkEvent::Data(b"m".to_vec())]);
    }

    #[test]
    fn peer_sabme_disc_and_dm() {
        let mut l = Lapd::new(LapdConfig::default());
        // An I frame while down: DM.
        l.receive(
            0,
            &net(
                Kind::Command,
                Control::I {
                    ns: 0,
                    nr: 0,
                    p: true,
                },
                b"m",
            ),
        )
        .unwrap();
        assert_eq!(sent(&mut l), [Control::Dm { f: true }]);
        // The network establishes.
        l.receive(1, &net(Kind::Command, Control::Sabme { p: true }, &[]))
            .unwrap();
        assert_eq!(sent(&mut l), [Control::Ua { f: true }]);
        assert_eq!(l.take_events(), [LinkEvent::Up]);
        // A bad N(R) re-establishes.
        l.receive(
            2,
            &net(Kind::Response, Control::Rr { nr: 5, pf: false }, &[]),
        )
        .unwrap();
        assert_eq!(
            l.take_events(),
            [LinkEvent::Down("N(R) error from the peer")]
        );
        assert_eq!(sent(&mut l), [Control::Sabme { p: true }]);
        l.receive(3, &net(Kind::Response, Control::Ua { f: true }, &[]))
            .unwrap();
        l.take_events();
        // DISC: UA and down.
        l.receive(4, &net(Kind::Command, Control::Disc { p: true }, &[]))
            .unwrap();
        assert_eq!(sent(&mut l), [Control::Ua { f: true }]);
        assert_eq!(
            l.take_events(),
            [LinkEvent::Down("peer released the link (DISC)")]
        );
        // Garbage is an error and changes nothing.
        assert!(l.receive(5, &[0xff]).is_err());
        assert_eq!(l.state(), LinkState::Down);
    }
}
