//! MFC/R2 (China variant) on E1 CAS timeslots: line signalling ([`line`]). Compelled MF
//! register signalling (groups I/II forward, A/B backward; ANI/DNIS) follows, with openr2 as
//! the peer.

pub mod line;
