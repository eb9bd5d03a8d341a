//! ISDN primary rate (EuroISDN E1): Q.921 LAPD frames and Q.931 messages.
//!
//! These run on the control plane (one D channel per span, a few messages per call), so
//! unlike the FXO machine they allocate: a message's elements are a `Vec`. Parsers never
//! panic; every malformed frame or message is an error naming the fault
//! (`tests/isdn_parse_fuzz.rs` feeds them random and mutated input).

pub mod call;
pub mod lapd;
pub mod q921;
pub mod q931;
