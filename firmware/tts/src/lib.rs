//! On-box speech synthesis: text in, 8 kHz line audio out.
//!
//! Text front ends turn Mandarin and English text into the phoneme symbols of a voice;
//! voices (Kokoro-82M, Piper) run under tract from the converted models installed by
//! `tools/models/install.py`. Nothing here sends text or audio anywhere: this crate has no
//! network code and must never get any. espeak-ng (GPL-3) is never linked or called here.
#![forbid(unsafe_code)]

pub mod en;
pub mod kokoro;
pub mod piper;
pub mod synth;
pub mod zh;
