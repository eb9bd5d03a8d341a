//! Q.921 (LAPD) frames: address, control field (modulo 128) and information, as carried on
//! an E1 PRI D channel (timeslot 16). Flags, bit stuffing and the FCS belong to the HDLC
//! layer below (the card, or DAHDI's HDLC fd) and are not part of a [`Frame`].
//!
//! Parsing never panics: every malformed frame is a [`FrameError`].

use std::fmt;

/// SAPI of call control (Q.931).
pub const SAPI_CALL_CONTROL: u8 = 0;
/// SAPI of layer 2 management (TEI assignment).
pub const SAPI_MANAGEMENT: u8 = 63;
/// The TEI a PRI uses (point to point).
pub const TEI_PRI: u8 = 0;
/// Largest information field (N201).
pub const N201: usize = 260;

/// Who sent a frame: the C/R bit means "command" with opposite values for the two sides
/// (Q.921 §3.3.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    /// The user side (the box, CPE).
    User,
    /// The network side (the exchange).
    Network,
}

impl Side {
    /// The other side.
    pub fn peer(self) -> Side {
        match self {
            Side::User => Side::Network,
            Side::Network => Side::User,
        }
    }
}

/// Command or response.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A command (P bit).
    Command,
    /// A response (F bit).
    Response,
}

/// The control field and what it carries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Control {
    /// Numbered information.
    I {
        /// N(S).
        ns: u8,
        /// N(R).
        nr: u8,
        /// Poll bit.
        p: bool,
    },
    /// Receive ready.
    Rr {
        /// N(R).
        nr: u8,
        /// Poll/final bit.
        pf: bool,
    },
    /// Receive not ready.
    Rnr {
        /// N(R).
        nr: u8,
        /// Poll/final bit.
        pf: bool,
    },
    /// Reject.
    Rej {
        /// N(R).
        nr: u8,
        /// Poll/final bit.
        pf: bool,
    },
    /// Set asynchronous balanced mode extended (command).
    Sabme {
        /// Poll bit.
        p: bool,
    },
    /// Disconnected mode (response).
    Dm {
        /// Final bit.
        f: bool,
    },
    /// Unnumbered information.
    Ui {
        /// Poll bit.
        p: bool,
    },
    /// Disconnect (command).
    Disc {
        /// Poll bit.
        p: bool,
    },
    /// Unnumbered acknowledgement (response).
    Ua {
        /// Final bit.
        f: bool,
    },
    /// Frame reject (response).
    Frmr {
        /// Final bit.
        f: bool,
    },
    /// Exchange identification.
    Xid {
        /// Poll/final bit.
        pf: bool,
    },
}

/// One LAPD frame.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Frame {
    /// Service access point.
    pub sapi: u8,
    /// Terminal endpoint.
    pub tei: u8,
    /// Command or response.
    pub kind: Kind,
    /// Control field.
    pub control: Control,
    /// Information field (I, UI, FRMR, XID), else empty.
    pub info: Vec<u8>,
}

/// Why bytes are not a LAPD frame.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum FrameError {
    /// Shorter than address + control.
    #[error("frame of {0} byte(s) is shorter than address and control")]
    TooShort(usize),
    /// The address extension bits are wrong (EA0 must be 0, EA1 must be 1).
    #[error("bad address extension bits in {0:02x} {1:02x}")]
    BadAddress(u8, u8),
    /// A control field Q.921 does not define.
    #[error("undefined control field {0:02x}")]
    UndefinedControl(u8),
    /// An information field where the frame type has none, or a missing one.
    #[error("{what} frame with {len}-byte information field")]
    BadInfo {
        /// Frame type.
        what: &'static str,
        /// Length found.
        len: usize,
    },
    /// Longer than N201.
    #[error("information field of {0} bytes exceeds N201 = 260")]
    TooLong(usize),
}

impl Frame {
    /// Parse a frame received from `from`.
    ///
    /// # Errors
    /// Any malformed frame.
    pub fn parse(bytes: &[u8], from: Side) -> Result<Frame, FrameError> {
        if bytes.len() < 3 {
            return Err(FrameError::TooShort(bytes.len()));
        }
        let (a0, a1) = (bytes[0], bytes[1]);
        if a0 & 1 != 0 || a1 & 1 != 1 {
            return Err(FrameError::BadAddress(a0, a1));
        }
        let sapi = a0 >> 2;
        let cr = a0 & 2 != 0;
        let tei = a1 >> 1;
        // User-sent commands carry C/R = 0, network-sent commands C/R = 1.
        let kind = match (from, cr) {
            (Side::User, false) | (Side::Network, true) => Kind::Command,
            _ => Kind::Response,
        };
        let c0 = bytes[2];
        let (control, rest) = if c0 & 1 == 0 {
            // I frame: two control octets.
            let c1 = *bytes.get(3).ok_or(FrameError::TooShort(bytes.len()))?;
            (
                Control::I {
                    ns: c0 >> 1,
                    nr: c1 >> 1,
                    p: c1 & 1 != 0,
                },
                &bytes[4..],
            )
        } else if c0 & 3 == 1 {
            let c1 = *bytes.get(3).ok_or(FrameError::TooShort(bytes.len()))?;
            let (nr, pf) = (c1 >> 1, c1 & 1 != 0);
            let control = match c0 {
                0x01 => Control::Rr { nr, pf },
                0x05 => Control::Rnr { nr, pf },
                0x09 => Control::Rej { nr, pf },
                _ => return Err(FrameError::UndefinedControl(c0)),
            };
            (control, &bytes[4..])
        } else {
            let pf = c0 & 0x10 != 0;
            let control = match c0 & !0x10 {
                0x6f => Control::Sabme { p: pf },
                0x0f => Control::Dm { f: pf },
                0x03 => Control::Ui { p: pf },
                0x43 => Control::Disc { p: pf },
                0x63 => Control::Ua { f: pf },
                0x87 => Control::Frmr { f: pf },
                0xaf => Control::Xid { pf },
                _ => return Err(FrameError::UndefinedControl(c0)),
            };
            (control, &bytes[3..])
        };
        let name = control.name();
        let allows_info = matches!(
            control,
            Control::I { .. } | Control::Ui { .. } | Control::Frmr { .. } | Control::Xid { .. }
        );
        if !allows_info && !rest.is_empty() {
            return Err(FrameError::BadInfo {
                what: name,
                len: rest.len(),
            });
        }
        if matches!(control, Control::I { .. } | Control::Ui { .. }) && rest.is_empty() {
            return Err(FrameError::BadInfo { what: name, len: 0 });
        }
        if rest.len() > N201 {
            return Err(FrameError::TooLong(rest.len()));
        }
        // Commands and responses: SABME/DISC/UI/I are commands only, UA/DM/FRMR responses.
        let wrong_kind = match control {
            Control::I { .. } | Control::Sabme { .. } | Control::Disc { .. } => {
                kind == Kind::Response
            }
            Control::Ua { .. } | Control::Dm { .. } | Control::Frmr { .. } => kind == Kind::Command,
            _ => false,
        };
        if wrong_kind {
            return Err(FrameError::UndefinedControl(c0));
        }
        Ok(Frame {
            sapi,
            tei,
            kind,
            control,
            info: rest.to_vec(),
        })
    }

    /// The bytes of this frame as sent by `from`.
    pub fn encode(&self, from: Side) -> Vec<u8> {
        let cr = matches!(
            (from, self.kind),
            (Side::User, Kind::Response) | (Side::Network, Kind::Command)
        );
        let mut out = vec![(self.sapi << 2) | (u8::from(cr) << 1), (self.tei << 1) | 1];
        let bit = |b: bool, v: u8| if b { v } else { 0 };
        match self.control {
            Control::I { ns, nr, p } => out.extend([ns << 1, (nr << 1) | u8::from(p)]),
            Control::Rr { nr, pf } => out.extend([0x01, (nr << 1) | u8::from(pf)]),
            Control::Rnr { nr, pf } => out.extend([0x05, (nr << 1) | u8::from(pf)]),
            Control::Rej { nr, pf } => out.extend([0x09, (nr << 1) | u8::from(pf)]),
            Control::Sabme { p } => out.push(0x6f | bit(p, 0x10)),
            Control::Dm { f } => out.push(0x0f | bit(f, 0x10)),
            Control::Ui { p } => out.push(0x03 | bit(p, 0x10)),
            Control::Disc { p } => out.push(0x43 | bit(p, 0x10)),
            Control::Ua { f } => out.push(0x63 | bit(f, 0x10)),
            Control::Frmr { f } => out.push(0x87 | bit(f, 0x10)),
            Control::Xid { pf } => out.push(0xaf | bit(pf, 0x10)),
        }
        out.extend_from_slice(&self.info);
        out
    }
}

impl Control {
    /// The frame type's name, as in Q.921.
    pub fn name(&self) -> &'static str {
        match self {
            Control::I { .. } => "I",
            Control::Rr { .. } => "RR",
            Control::Rnr { .. } => "RNR",
            Control::Rej { .. } => "REJ",
            Control::Sabme { .. } => "SABME",
            Control::Dm { .. } => "DM",
            Control::Ui { .. } => "UI",
            Control::Disc { .. } => "DISC",
            Control::Ua { .. } => "UA",
            Control::Frmr { .. } => "FRMR",
            Control::Xid { .. } => "XID",
        }
    }
}

impl fmt::Display for Frame {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} sapi={} tei={} {:?}",
            self.control.name(),
            self.sapi,
            self.tei,
            self.kind
        )?;
        match self.control {
            Control::I { ns, nr, p } => write!(f, " N(S)={ns} N(R)={nr} P={}", u8::from(p)),
            Control::Rr { nr, pf } | Control::Rnr { nr, pf } | Control::Rej { nr, pf } => {
                write!(f, " N(R)={nr} P/F={}", u8::from(pf))
            }
            _ => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(kind: Kind, control: Control, info: &[u8]) -> Frame {
        Frame {
            sapi: SAPI_CALL_CONTROL,
            tei: TEI_PRI,
            kind,
            control,
            info: info.to_vec(),
        }
    }

    #[test]
    fn known_octets_from_q921() {
        // User → network SABME with P=1: SAPI 0, C/R 0 (command from the user), TEI 0.
        let sabme = frame(Kind::Command, Control::Sabme { p: true }, &[]);
        assert_eq!(sabme.encode(Side::User), [0x00, 0x01, 0x7f]);
        // The network's UA with F=1: C/R 0 (response from the network).
        let ua = frame(Kind::Response, Control::Ua { f: true }, &[]);
        assert_eq!(ua.encode(Side::Network), [0x00, 0x01, 0x73]);
        assert_eq!(
            Frame::parse(&[0x00, 0x01, 0x73], Side::Network).unwrap(),
            ua
        );
        // Network RR command with P=1, N(R)=5: C/R 1.
        let rr = frame(Kind::Command, Control::Rr { nr: 5, pf: true }, &[]);
        assert_eq!(rr.encode(Side::Network), [0x02, 0x01, 0x01, 0x0b]);
        // I frame from the user: N(S)=3 N(R)=4, carrying a Q.931 octet.
        let i = frame(
            Kind::Command,
            Control::I {
                ns: 3,
                nr: 4,
                p: false,
            },
            &[0x08],
        );
        assert_eq!(i.encode(Side::User), [0x00, 0x01, 0x06, 0x08, 0x08]);
    }

    #[test]
    fn every_frame_type_round_trips_from_both_sides() {
        let all = [
            (
                Kind::Command,
                Control::I {
                    ns: 127,
                    nr: 0,
                    p: true,
                },
                vec![1u8, 2, 3],
            ),
            (Kind::Command, Control::Rr { nr: 64, pf: false }, vec![]),
            (Kind::Response, Control::Rr { nr: 1, pf: true }, vec![]),
            (Kind::Response, Control::Rnr { nr: 2, pf: true }, vec![]),
            (Kind::Command, Control::Rej { nr: 3, pf: false }, vec![]),
            (Kind::Command, Control::Sabme { p: true }, vec![]),
            (Kind::Response, Control::Dm { f: true }, vec![]),
            (Kind::Command, Control::Ui { p: false }, vec![0x0f, 1]),
            (Kind::Command, Control::Disc { p: true }, vec![]),
            (Kind::Response, Control::Ua { f: false }, vec![]),
            (
                Kind::Response,
                Control::Frmr { f: true },
                vec![1, 2, 3, 4, 5],
            ),
            (Kind::Command, Control::Xid { pf: false }, vec![]),
        ];
        for (kind, control, info) in all {
            for side in [Side::User, Side::Network] {
                let f = frame(kind, control.clone(), &info);
                assert_eq!(Frame::parse(&f.encode(side), side), Ok(f.clone()), "{f}");
            }
        }
    }

    #[test]
    fn malformed_frames_are_errors() {
        use FrameError::*;
        let p = |b: &[u8]| Frame::parse(b, Side::Network);
        assert_eq!(p(&[0x00, 0x01]), Err(TooShort(2)));
        assert_eq!(p(&[0x01, 0x01, 0x7f]), Err(BadAddress(0x01, 0x01)));
        assert_eq!(p(&[0x00, 0x00, 0x7f]), Err(BadAddress(0x00, 0x00)));
        assert_eq!(p(&[0x00, 0x01, 0x0d, 0x00]), Err(UndefinedControl(0x0d)));
        assert_eq!(
            p(&[0x00, 0x01, 0x00]),
            Err(TooShort(3)),
            "I frame cut short"
        );
        assert!(matches!(
            p(&[0x00, 0x01, 0x73, 9]),
            Err(BadInfo { what: "UA", .. })
        ));
        assert!(matches!(
            p(&[0x02, 0x01, 0x00, 0x00]),
            Err(BadInfo { what: "I", len: 0 })
        ));
        let mut long = vec![0x02, 0x01, 0x00, 0x00];
        long.extend([0; 261]);
        assert_eq!(p(&long), Err(TooLong(261)));
        // A SABME marked as a response.
        assert_eq!(p(&[0x00, 0x01, 0x7f]), Err(UndefinedControl(0x7f)));
    }
}
