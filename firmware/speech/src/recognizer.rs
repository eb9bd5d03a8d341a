//! The recogniser interface the flow layer uses, independent of the model behind it.
//!
//! A [`Recognizer`] starts one [`Utterance`] per caller turn. The caller's audio (8 kHz line
//! samples, from just before the speech start to the endpoint) is pushed as it arrives;
//! [`Utterance::pause`] says the caller has gone quiet (a good moment for speculative work,
//! so that little is left when the endpoint confirms the end), [`Utterance::resume`] that
//! they spoke again, and [`Utterance::finish`] gives the [`Recognition`].
//!
//! Whisper ([`crate::whisper::recognizer::WhisperRecognizer`]) is the built-in one; a
//! customer-supplied CTC or transducer pack (Paraformer, SenseVoice, Zipformer) implements
//! the same two traits and the flow layer does not change.

use std::sync::Arc;

use crate::grammar::Grammar;
pub use crate::whisper::Lang;

/// What the prompt expects the caller to say.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum Mode {
    /// Free speech: the transcript is the result (messages, open questions, transcripts).
    Open,
    /// One of a menu's options: the result is the option's label, or no match.
    Grammar(Arc<Grammar>),
    /// A spoken digit string (card, phone, ID number): 幺/一, 两/二, "double five"… are
    /// normalised to ASCII digits; `X` is accepted last when `id_check_char` is set.
    Digits {
        /// Accept a final `X` (resident ID check character).
        id_check_char: bool,
    },
}

/// One recognition request.
#[derive(Debug, Clone)]
pub struct Request {
    /// The language to recognise, or `None` to detect Mandarin or English.
    pub lang: Option<Lang>,
    /// What is expected.
    pub mode: Mode,
    /// Grammar matches below this confidence become no-match. 0…1; default 0.5.
    pub min_confidence: f32,
}

impl Request {
    /// Open transcription in `lang`.
    pub fn open(lang: Option<Lang>) -> Self {
        Self {
            lang,
            mode: Mode::Open,
            min_confidence: 0.5,
        }
    }

    /// A menu choice from `grammar` in `lang`.
    pub fn grammar(lang: Option<Lang>, grammar: Arc<Grammar>) -> Self {
        Self {
            lang,
            mode: Mode::Grammar(grammar),
            min_confidence: 0.5,
        }
    }

    /// A digit string in `lang`.
    pub fn digits(lang: Option<Lang>) -> Self {
        Self {
            lang,
            mode: Mode::Digits {
                id_check_char: false,
            },
            min_confidence: 0.5,
        }
    }
}

/// The outcome of one utterance.
#[derive(Debug, Clone, PartialEq)]
pub struct Recognition {
    /// What the recogniser heard (empty when it heard no speech).
    pub text: String,
    /// How sure it is, 0…1: of the match in grammar mode, of the transcript otherwise.
    pub confidence: f32,
    /// Grammar mode: the label of the option said, `None` for no match. Always `None` in
    /// other modes.
    pub label: Option<String>,
    /// Digit mode: the digits said, `None` when the speech was not a digit string.
    pub digits: Option<String>,
    /// The language recognised.
    pub lang: Lang,
    /// Probability that there was no speech at all.
    pub no_speech_prob: f32,
}

/// Why recognition failed (the flow treats it as no-input and may fall back to DTMF).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AsrError {
    /// The model could not run.
    #[error(transparent)]
    Whisper(#[from] crate::whisper::WhisperError),
    /// The front end rejected the audio.
    #[error(transparent)]
    Mel(#[from] crate::mel::MelError),
    /// The utterance is too short to recognise.
    #[error("utterance of {samples} samples is too short to recognise")]
    TooShort {
        /// Samples pushed.
        samples: usize,
    },
    /// The request asks for a language this recogniser does not have.
    #[error("language {0:?} is not supported by this recogniser")]
    Language(Lang),
}

/// A speech recogniser shared by all calls.
pub trait Recognizer: Send + Sync {
    /// A short name for logs and the admin page (`whisper-base`).
    fn name(&self) -> &str;

    /// Languages it recognises.
    fn languages(&self) -> &[Lang];

    /// Begins one caller turn.
    fn start(&self, request: Request) -> Box<dyn Utterance>;

    /// Recognises a whole utterance at once (tools, tests).
    fn recognize(&self, audio: &[i16], request: Request) -> Result<Recognition, AsrError> {
        let mut u = self.start(request);
        u.push(audio);
        u.finish()
    }
}

/// One caller turn in progress.
pub trait Utterance: Send {
    /// Appends 8 kHz line audio.
    fn push(&mut self, audio: &[i16]);

    /// The caller has gone quiet: do speculative work on the audio so far. Audio pushed
    /// after this counts as trailing silence unless [`Self::resume`] is called.
    fn pause(&mut self) -> Result<(), AsrError>;

    /// The caller spoke again after [`Self::pause`]; the speculation is discarded.
    fn resume(&mut self);

    /// The endpoint: the final result.
    fn finish(self: Box<Self>) -> Result<Recognition, AsrError>;
}
