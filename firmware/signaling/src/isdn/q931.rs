//! Q.931 messages (EuroISDN, ETSI EN 300 403 on an E1 PRI): protocol discriminator, call
//! reference, message type and information elements, parsed from and encoded to the
//! information field of a Q.921 I frame.
//!
//! Information elements the call control uses are decoded into types; every other one is
//! kept as [`Ie::Other`] (codeset, identifier, contents) and re-encoded unchanged. Parsing
//! never panics: a malformed message is a [`MessageError`] naming what is wrong.

/// Q.931's protocol discriminator.
pub const PROTOCOL_Q931: u8 = 0x08;

/// Message types (Q.931 Table 4-2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum MessageType {
    /// ALERTING.
    Alerting,
    /// CALL PROCEEDING.
    CallProceeding,
    /// PROGRESS.
    Progress,
    /// SETUP.
    Setup,
    /// CONNECT.
    Connect,
    /// SETUP ACKNOWLEDGE.
    SetupAck,
    /// CONNECT ACKNOWLEDGE.
    ConnectAck,
    /// DISCONNECT.
    Disconnect,
    /// RESTART.
    Restart,
    /// RELEASE.
    Release,
    /// RESTART ACKNOWLEDGE.
    RestartAck,
    /// RELEASE COMPLETE.
    ReleaseComplete,
    /// FACILITY.
    Facility,
    /// NOTIFY.
    Notify,
    /// STATUS ENQUIRY.
    StatusEnquiry,
    /// INFORMATION.
    Information,
    /// STATUS.
    Status,
}

impl MessageType {
    const TABLE: [(MessageType, u8); 17] = [
        (MessageType::Alerting, 0x01),
        (MessageType::CallProceeding, 0x02),
        (MessageType::Progress, 0x03),
        (MessageType::Setup, 0x05),
        (MessageType::Connect, 0x07),
        (MessageType::SetupAck, 0x0d),
        (MessageType::ConnectAck, 0x0f),
        (MessageType::Disconnect, 0x45),
        (MessageType::Restart, 0x46),
        (MessageType::Release, 0x4d),
        (MessageType::RestartAck, 0x4e),
        (MessageType::ReleaseComplete, 0x5a),
        (MessageType::Facility, 0x62),
        (MessageType::Notify, 0x6e),
        (MessageType::StatusEnquiry, 0x75),
        (MessageType::Information, 0x7b),
        (MessageType::Status, 0x7d),
    ];

    /// The octet.
    pub fn code(self) -> u8 {
        Self::TABLE
            .iter()
            .find(|(t, _)| *t == self)
            .map_or(0, |(_, c)| *c)
    }

    /// The type of an octet, if Q.931 defines it.
    pub fn from_code(c: u8) -> Option<MessageType> {
        Self::TABLE.iter().find(|(_, x)| *x == c).map(|(t, _)| *t)
    }
}

/// A call reference (two octets on a PRI).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct CallRef {
    /// The value, 0..=0x7fff; 0 with `len == 0` is the dummy call reference.
    pub value: u16,
    /// The flag: set in messages sent by the side that did *not* allocate the reference.
    pub flag: bool,
    /// Length in octets (0, 1 or 2).
    pub len: u8,
}

impl CallRef {
    /// The global call reference (RESTART).
    pub const GLOBAL: CallRef = CallRef {
        value: 0,
        flag: false,
        len: 2,
    };

    /// A PRI call reference.
    pub fn new(value: u16, flag: bool) -> CallRef {
        CallRef {
            value: value & 0x7fff,
            flag,
            len: 2,
        }
    }
}

/// Bearer capability (the parts a voice call uses).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BearerCapability {
    /// Information transfer capability (0 speech, 8 unrestricted digital, 0x10 3.1 kHz audio).
    pub capability: u8,
    /// Transfer mode and rate octet (0x10: circuit, 64 kbit/s).
    pub rate: u8,
    /// Layer 1 protocol (2 µ-law, 3 A-law), if given.
    pub layer1: Option<u8>,
}

impl BearerCapability {
    /// Speech over A-law at 64 kbit/s.
    pub fn speech_alaw() -> Self {
        Self {
            capability: 0,
            rate: 0x10,
            layer1: Some(3),
        }
    }
}

/// Channel identification on a primary rate interface.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChannelId {
    /// Only this channel is acceptable (else preferred).
    pub exclusive: bool,
    /// The D channel itself is indicated.
    pub d_channel: bool,
    /// B channel number (timeslot numbering of the PRI: 1..=15, 17..=31), if one is given.
    pub channel: Option<u8>,
}

/// Calling or called party number.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartyNumber {
    /// Type of number (0 unknown, 1 international, 2 national, 4 subscriber).
    pub ton: u8,
    /// Numbering plan (1 ISDN/E.164, 0 unknown).
    pub plan: u8,
    /// Presentation (calling number only): 0 allowed, 1 restricted, 2 not available.
    pub presentation: Option<u8>,
    /// Screening (calling number only).
    pub screening: Option<u8>,
    /// The digits (IA5).
    pub digits: String,
}

/// Cause.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cause {
    /// Location (0 user, 1 private network serving the local user, 2 public network…).
    pub location: u8,
    /// Cause value (16 normal clearing, 17 user busy, 19 no answer, 34 no circuit…).
    pub value: u8,
    /// Diagnostics, as sent.
    pub diagnostics: Vec<u8>,
}

/// Progress indicator.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProgressIndicator {
    /// Location.
    pub location: u8,
    /// Description (1 not end-to-end ISDN, 2 destination non-ISDN, 8 in-band info available).
    pub description: u8,
}

/// An information element.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Ie {
    /// Bearer capability (0x04).
    BearerCapability(BearerCapability),
    /// Cause (0x08).
    Cause(Cause),
    /// Call state (0x14): the state number.
    CallState(u8),
    /// Channel identification (0x18).
    ChannelId(ChannelId),
    /// Progress indicator (0x1e).
    Progress(ProgressIndicator),
    /// Display (0x28): IA5 text.
    Display(String),
    /// Calling party number (0x6c).
    CallingNumber(PartyNumber),
    /// Called party number (0x70).
    CalledNumber(PartyNumber),
    /// Restart indicator (0x79): class (0 indicated channels, 7 all interfaces).
    RestartIndicator(u8),
    /// Sending complete (single octet 0xa1).
    SendingComplete,
    /// Any other element, kept as received.
    Other {
        /// Active codeset (0 unless shifted).
        codeset: u8,
        /// Identifier octet.
        id: u8,
        /// Contents (empty for single-octet elements).
        body: Vec<u8>,
    },
}

/// A Q.931 message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    /// Call reference.
    pub cref: CallRef,
    /// Message type.
    pub mtype: MessageType,
    /// Information elements in order.
    pub ies: Vec<Ie>,
}

/// Why bytes are not a Q.931 message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum MessageError {
    /// Fewer octets than the header needs.
    #[error("message of {0} octet(s) is too short")]
    TooShort(usize),
    /// Not Q.931.
    #[error("protocol discriminator {0:#04x} is not Q.931 (0x08)")]
    Protocol(u8),
    /// Call reference length above 2 (or its high bits set).
    #[error("call reference length octet {0:#04x} is invalid")]
    CallRefLength(u8),
    /// A message type Q.931 does not define.
    #[error("unknown message type {0:#04x}")]
    UnknownType(u8),
    /// An element runs past the end of the message.
    #[error("information element {id:#04x} at octet {at} runs past the end")]
    Truncated {
        /// Element identifier.
        id: u8,
        /// Offset of the element.
        at: usize,
    },
    /// An element's contents are invalid.
    #[error("information element {id:#04x}: {why}")]
    BadIe {
        /// Element identifier.
        id: u8,
        /// What is wrong.
        why: &'static str,
    },
}

/// An element's octet groups: each ends at an octet with the extension bit set.
fn ext_groups(body: &[u8]) -> Vec<&[u8]> {
    let mut out = Vec::new();
    let mut start = 0;
    for (i, b) in body.iter().enumerate() {
        if b & 0x80 != 0 {
            out.push(&body[start..=i]);
            start = i + 1;
        }
    }
    if start < body.len() {
        out.push(&body[start..]);
    }
    out
}

fn parse_number(id: u8, body: &[u8], calling: bool) -> Result<PartyNumber, MessageError> {
    let bad = |why| MessageError::BadIe { id, why };
    let o3 = *body.first().ok_or(bad("empty"))?;
    let mut n = PartyNumber {
        ton: (o3 >> 4) & 7,
        plan: o3 & 0x0f,
        presentation: None,
        screening: None,
        digits: String::new(),
    };
    let mut rest = &body[1..];
    if o3 & 0x80 == 0 {
        if !calling {
            return Err(bad("octet 3a only exists in a calling party number"));
        }
        let o3a = *rest.first().ok_or(bad("octet 3a missing"))?;
        n.presentation = Some((o3a >> 5) & 3);
        n.screening = Some(o3a & 3);
        rest = &rest[1..];
    }
    if rest.iter().any(|&d| !(0x20..0x7f).contains(&d)) {
        return Err(bad("digits are not IA5"));
    }
    n.digits = rest.iter().map(|&d| char::from(d)).collect();
    Ok(n)
}

/// A single-octet element other than a shift.
fn single(id: u8, codeset: u8) -> Ie {
    if id == 0xa1 && codeset == 0 {
        Ie::SendingComplete
    } else {
        Ie::Other {
            codeset,
            id,
            body: Vec::new(),
        }
    }
}

fn parse_ie(codeset: u8, id: u8, body: &[u8]) -> Result<Ie, MessageError> {
    if codeset != 0 {
        return Ok(Ie::Other {
            codeset,
            id,
            body: body.to_vec(),
        });
    }
    let bad = |why| MessageError::BadIe { id, why };
    Ok(match id {
        0x04 => {
            let g = ext_groups(body);
            let cap = g
                .first()
                .and_then(|o| o.first())
                .ok_or(bad("octet 3 missing"))?;
            let rate = g
                .get(1)
                .and_then(|o| o.first())
                .ok_or(bad("octet 4 missing"))?;
            // Octet 5 (layer 1) follows the rate group; a 4a/4b multirate group is not used
            // on voice calls.
            let layer1 = g
                .get(2)
                .and_then(|o| o.first())
                .filter(|b| (*b >> 5) & 3 == 1)
                .map(|b| b & 0x1f);
            Ie::BearerCapability(BearerCapability {
                capability: cap & 0x1f,
                rate: rate & 0x7f,
                layer1,
            })
        }
        0x08 => {
            let g = ext_groups(body);
            let o3 = g.first().ok_or(bad("octet 3 missing"))?;
            let location = o3[0] & 0x0f;
            let o4 = g
                .get(1)
                .and_then(|o| o.first())
                .ok_or(bad("cause value missing"))?;
            let used: usize = g.iter().take(2).map(|o| o.len()).sum();
            Ie::Cause(Cause {
                location,
                value: o4 & 0x7f,
                diagnostics: body[used..].to_vec(),
            })
        }
        0x14 => Ie::CallState(body.first().ok_or(bad("empty"))? & 0x3f),
        0x18 => {
            let o3 = *body.first().ok_or(bad("empty"))?;
            if o3 & 0x40 != 0 {
                return Err(bad("explicit interface identifiers are not supported"));
            }
            if o3 & 0x20 == 0 {
                return Err(bad(
                    "basic-rate channel identification on a primary rate interface",
                ));
            }
            let exclusive = o3 & 0x08 != 0;
            let d_channel = o3 & 0x04 != 0;
            let sel = o3 & 0x03;
            let channel = match sel {
                0 => None,
                1 => {
                    let o32 = *body.get(1).ok_or(bad("octet 3.2 missing"))?;
                    if o32 & 0x10 != 0 {
                        return Err(bad("slot maps are not supported"));
                    }
                    let o33 = *body.get(2).ok_or(bad("channel number missing"))?;
                    Some(o33 & 0x7f)
                }
                _ => return Err(bad("channel selection is reserved or 'any channel'")),
            };
            Ie::ChannelId(ChannelId {
                exclusive,
                d_channel,
                channel,
            })
        }
        0x1e => {
            let (o3, o4) = (
                *body.first().ok_or(bad("octet 3 missing"))?,
                *body.get(1).ok_or(bad("octet 4 missing"))?,
            );
            Ie::Progress(ProgressIndicator {
                location: o3 & 0x0f,
                description: o4 & 0x7f,
            })
        }
        0x28 => {
            if body.iter().any(|&c| c & 0x80 != 0) {
                return Err(bad("display text is not IA5"));
            }
            Ie::Display(body.iter().map(|&c| char::from(c)).collect())
        }
        0x6c => Ie::CallingNumber(parse_number(id, body, true)?),
        0x70 => Ie::CalledNumber(parse_number(id, body, false)?),
        0x79 => Ie::RestartIndicator(body.first().ok_or(bad("empty"))? & 0x07),
        _ => Ie::Other {
            codeset,
            id,
            body: body.to_vec(),
        },
    })
}

impl Message {
    /// A message with no elements.
    pub fn new(cref: CallRef, mtype: MessageType) -> Message {
        Message {
            cref,
            mtype,
            ies: Vec::new(),
        }
    }

    /// Add an element.
    #[must_use]
    pub fn with(mut self, ie: Ie) -> Message {
        self.ies.push(ie);
        self
    }

    /// Parse a message.
    ///
    /// # Errors
    /// Any malformed message.
    pub fn parse(b: &[u8]) -> Result<Message, MessageError> {
        if b.len() < 2 {
            return Err(MessageError::TooShort(b.len()));
        }
        if b[0] != PROTOCOL_Q931 {
            return Err(MessageError::Protocol(b[0]));
        }
        let len = b[1];
        if len > 2 {
            return Err(MessageError::CallRefLength(len));
        }
        let l = usize::from(len);
        if b.len() < 3 + l {
            return Err(MessageError::TooShort(b.len()));
        }
        let cref = match len {
            0 => CallRef {
                value: 0,
                flag: false,
                len: 0,
            },
            1 => CallRef {
                value: u16::from(b[2] & 0x7f),
                flag: b[2] & 0x80 != 0,
                len: 1,
            },
            _ => CallRef {
                value: (u16::from(b[2] & 0x7f) << 8) | u16::from(b[3]),
                flag: b[2] & 0x80 != 0,
                len: 2,
            },
        };
        let t = b[2 + l];
        let mtype = MessageType::from_code(t).ok_or(MessageError::UnknownType(t))?;
        let mut ies = Vec::new();
        let mut i = 3 + l;
        let mut codeset = 0u8;
        while i < b.len() {
            let id = b[i];
            if id & 0x80 != 0 {
                // Single-octet elements.
                match id & 0xf0 {
                    0x90 => {
                        // Shift: locking unless bit 4 is set (non-locking, next element only).
                        let to = id & 0x07;
                        if id & 0x08 == 0 {
                            codeset = to;
                        } else if let Some(&next) = b.get(i + 1) {
                            let (ie, used) = Self::one(b, i + 1, next, to)?;
                            ies.push(ie);
                            i += 1 + used;
                            continue;
                        }
                    }
                    _ => ies.push(single(id, codeset)),
                }
                i += 1;
                continue;
            }
            let (ie, used) = Self::one(b, i, id, codeset)?;
            ies.push(ie);
            i += used;
        }
        Ok(Message { cref, mtype, ies })
    }

    /// One variable-length element at `b[i]`; returns it and the octets used.
    fn one(b: &[u8], i: usize, id: u8, codeset: u8) -> Result<(Ie, usize), MessageError> {
        if id & 0xf0 == 0x90 {
            return Err(MessageError::BadIe {
                id,
                why: "a shift cannot follow a non-locking shift",
            });
        }
        if id & 0x80 != 0 {
            return Ok((single(id, codeset), 1));
        }
        let len = usize::from(*b.get(i + 1).ok_or(MessageError::Truncated { id, at: i })?);
        let body = b
            .get(i + 2..i + 2 + len)
            .ok_or(MessageError::Truncated { id, at: i })?;
        Ok((parse_ie(codeset, id, body)?, 2 + len))
    }

    /// The message's octets.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = vec![PROTOCOL_Q931, self.cref.len];
        let f = if self.cref.flag { 0x80 } else { 0 };
        match self.cref.len {
            0 => {}
            1 => out.push(f | (self.cref.value as u8 & 0x7f)),
            _ => out.extend([
                f | ((self.cref.value >> 8) as u8 & 0x7f),
                self.cref.value as u8,
            ]),
        }
        out.push(self.mtype.code());
        let mut codeset = 0;
        for ie in &self.ies {
            let (cs, id, body) = encode_ie(ie);
            if cs != codeset {
                // Non-locking shift for this element only.
                out.push(0x98 | cs);
            }
            out.push(id);
            if id & 0x80 == 0 {
                out.push(body.len() as u8);
                out.extend(body);
            }
            codeset = 0;
        }
        out
    }

    /// The first element matching `f`.
    pub fn find<T>(&self, f: impl Fn(&Ie) -> Option<&T>) -> Option<&T> {
        self.ies.iter().find_map(f)
    }

    /// Cause, if present.
    pub fn cause(&self) -> Option<&Cause> {
        self.find(|ie| match ie {
            Ie::Cause(c) => Some(c),
            _ => None,
        })
    }

    /// Channel identification, if present.
    pub fn channel(&self) -> Option<&ChannelId> {
        self.find(|ie| match ie {
            Ie::ChannelId(c) => Some(c),
            _ => None,
        })
    }
}

fn encode_number(n: &PartyNumber) -> Vec<u8> {
    let o3 = ((n.ton & 7) << 4) | (n.plan & 0x0f);
    let mut v = match (n.presentation, n.screening) {
        (None, None) => vec![0x80 | o3],
        (p, s) => vec![
            o3,
            0x80 | ((p.unwrap_or(0) & 3) << 5) | (s.unwrap_or(0) & 3),
        ],
    };
    v.extend(n.digits.bytes());
    v
}

fn encode_ie(ie: &Ie) -> (u8, u8, Vec<u8>) {
    match ie {
        Ie::BearerCapability(b) => {
            let mut v = vec![0x80 | (b.capability & 0x1f), 0x80 | (b.rate & 0x7f)];
            if let Some(l1) = b.layer1 {
                v.push(0x80 | 0x20 | (l1 & 0x1f));
            }
            (0, 0x04, v)
        }
        Ie::Cause(c) => {
            let mut v = vec![0x80 | (c.location & 0x0f), 0x80 | (c.value & 0x7f)];
            v.extend(&c.diagnostics);
            (0, 0x08, v)
        }
        Ie::CallState(s) => (0, 0x14, vec![s & 0x3f]),
        Ie::ChannelId(c) => {
            let o3 = 0x80
                | 0x20
                | if c.exclusive { 0x08 } else { 0 }
                | if c.d_channel { 0x04 } else { 0 }
                | u8::from(c.channel.is_some());
            let mut v = vec![o3];
            if let Some(ch) = c.channel {
                v.extend([0x83, 0x80 | (ch & 0x7f)]);
            }
            (0, 0x18, v)
        }
        Ie::Progress(p) => (
            0,
            0x1e,
            vec![0x80 | (p.location & 0x0f), 0x80 | (p.description & 0x7f)],
        ),
        Ie::Display(t) => (0, 0x28, t.bytes().collect()),
        Ie::CallingNumber(n) => (0, 0x6c, encode_number(n)),
        Ie::CalledNumber(n) => (0, 0x70, encode_number(n)),
        Ie::RestartIndicator(c) => (0, 0x79, vec![0x80 | (c & 7)]),
        Ie::SendingComplete => (0, 0xa1, Vec::new()),
        Ie::Other { codeset, id, body } => (*codeset, *id, body.clone()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn setup() -> Message {
        Message::new(CallRef::new(0x1234, false), MessageType::Setup)
            .with(Ie::BearerCapability(BearerCapability::speech_alaw()))
            .with(Ie::ChannelId(ChannelId {
                exclusive: true,
                d_channel: false,
                channel: Some(5),
            }))
            .with(Ie::Progress(ProgressIndicator {
                location: 0,
                description: 3,
            }))
            .with(Ie::CallingNumber(PartyNumber {
                ton: 2,
                plan: 1,
                presentation: Some(0),
                screening: Some(3),
                digits: "13800138000".into(),
            }))
            .with(Ie::CalledNumber(PartyNumber {
                ton: 0,
                plan: 1,
                presentation: None,
                screening: None,
                digits: "4008100100".into(),
            }))
            .with(Ie::SendingComplete)
    }

    #[test]
    fn a_setup_has_the_octets_libpri_sends() {
        let b = setup().encode();
        assert_eq!(&b[..5], [0x08, 0x02, 0x12, 0x34, 0x05]);
        assert_eq!(
            &b[5..10],
            [0x04, 0x03, 0x80, 0x90, 0xa3],
            "speech, 64k, A-law"
        );
        assert_eq!(&b[10..15], [0x18, 0x03, 0xa9, 0x83, 0x85], "exclusive B5");
        assert_eq!(&b[15..19], [0x1e, 0x02, 0x80, 0x83]);
        assert_eq!(&b[19..23], [0x6c, 0x0d, 0x21, 0x83]);
        assert_eq!(*b.last().unwrap(), 0xa1);
        assert_eq!(Message::parse(&b).unwrap(), setup());
    }

    #[test]
    fn cause_restart_and_shifted_elements_round_trip() {
        let m = Message::new(CallRef::new(7, true), MessageType::Disconnect)
            .with(Ie::Cause(Cause {
                location: 2,
                value: 17,
                diagnostics: vec![],
            }))
            .with(Ie::Other {
                codeset: 5,
                id: 0x2c,
                body: vec![1, 2],
            });
        let b = m.encode();
        assert_eq!(&b[..5], [0x08, 0x02, 0x80, 0x07, 0x45]);
        assert_eq!(&b[5..9], [0x08, 0x02, 0x82, 0x91]);
        assert_eq!(
            &b[9..],
            [0x9d, 0x2c, 0x02, 1, 2],
            "non-locking shift to codeset 5"
        );
        assert_eq!(Message::parse(&b).unwrap(), m);
        assert_eq!(Message::parse(&b).unwrap().cause().unwrap().value, 17);

        let r = Message::new(CallRef::GLOBAL, MessageType::Restart).with(Ie::RestartIndicator(7));
        assert_eq!(r.encode(), [0x08, 0x02, 0x00, 0x00, 0x46, 0x79, 0x01, 0x87]);
        assert_eq!(Message::parse(&r.encode()).unwrap(), r);
        // A locking shift applies to every element after it.
        let locked = [0x08, 0x01, 0x01, 0x7d, 0x96, 0x2c, 0x01, 9, 0x2d, 0x00];
        let m = Message::parse(&locked).unwrap();
        assert!(m
            .ies
            .iter()
            .all(|ie| matches!(ie, Ie::Other { codeset: 6, .. })));
    }

    #[test]
    fn malformed_messages_are_errors_naming_the_fault() {
        use MessageError::*;
        assert_eq!(Message::parse(&[0x08]), Err(TooShort(1)));
        assert_eq!(Message::parse(&[0x09, 0, 5]), Err(Protocol(0x09)));
        assert_eq!(
            Message::parse(&[0x08, 3, 0, 0, 0, 5]),
            Err(CallRefLength(3))
        );
        assert_eq!(Message::parse(&[0x08, 2, 0, 1]), Err(TooShort(4)));
        assert_eq!(
            Message::parse(&[0x08, 2, 0, 1, 0x99]),
            Err(UnknownType(0x99))
        );
        assert_eq!(
            Message::parse(&[0x08, 2, 0, 1, 0x05, 0x70, 0x05, 0x81, b'1']),
            Err(Truncated { id: 0x70, at: 5 })
        );
        assert!(matches!(
            Message::parse(&[0x08, 2, 0, 1, 0x05, 0x18, 0x01, 0x81]),
            Err(BadIe { id: 0x18, .. })
        ));
        assert!(matches!(
            Message::parse(&[0x08, 2, 0, 1, 0x05, 0x70, 0x02, 0x81, 0xff]),
            Err(BadIe { id: 0x70, .. })
        ));
        assert!(matches!(
            Message::parse(&[0x08, 2, 0, 1, 0x45, 0x08, 0x01, 0x82]),
            Err(BadIe { id: 0x08, .. })
        ));
        assert!(matches!(
            Message::parse(&[0x08, 2, 0x80, 1, 0x02, 0x98, 0x90]),
            Err(BadIe { id: 0x90, .. })
        ));
    }
}
