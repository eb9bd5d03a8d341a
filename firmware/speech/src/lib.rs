//! On-box speech for the IVR: everything between line audio and the flow engine's
//! "the caller said X".
//!
//! Nothing here sends audio, transcripts or numbers anywhere: this crate has no network code
//! and must never get any. Blocks that run per frame allocate nothing per frame.
#![forbid(unsafe_code)]
pub mod endpoint;
pub mod fuzzy;
pub mod grammar;
pub mod mel;
pub mod models;
pub mod numbers;
pub mod pinyin;
pub mod recognizer;
pub mod silero;
pub mod vad;
pub mod whisper;
