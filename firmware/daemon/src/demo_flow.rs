//! The built-in demo flow, until the flow engine lands: answer, play a greeting, collect
//! digits, read them back, say goodbye, hang up.
//!
//! Sans-IO like everything above the HAL: inputs in, actions out, no clock inside; the
//! caller reports timer expiry with [`Input::Timer`].

/// What happened on the call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Input {
    /// The call is connected.
    Answered,
    /// The prompt queue drained.
    PromptsDone,
    /// The caller pressed a key.
    Digit(char),
    /// The timer from the last [`Action::StartTimer`] fired.
    Timer,
}

/// What the flow wants done.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Queue a prompt by name; `barge_in` lets a key press cut it short.
    Play {
        /// Prompt name (file stem in the prompts directory).
        prompt: String,
        /// Stop the prompt when the caller presses a key.
        barge_in: bool,
    },
    /// Stop and drop every queued prompt.
    StopPrompts,
    /// (Re)start the single flow timer.
    StartTimer(u32),
    /// Cancel the timer.
    CancelTimer,
    /// Hang up the call.
    HangUp,
}

/// Settings of the demo flow.
#[derive(Debug, Clone, Copy)]
pub struct DemoSettings {
    /// Time allowed for the first key after the greeting.
    pub first_digit_ms: u32,
    /// Time allowed between keys.
    pub interdigit_ms: u32,
    /// Most digits collected.
    pub max_digits: usize,
}

impl Default for DemoSettings {
    fn default() -> Self {
        Self {
            first_digit_ms: 8000,
            interdigit_ms: 4000,
            max_digits: 12,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum State {
    Waiting,
    Greeting,
    Collecting,
    ReadingBack,
    Closing,
    Done,
}

/// One call's run of the demo flow.
#[derive(Debug)]
pub struct DemoFlow {
    settings: DemoSettings,
    state: State,
    digits: String,
}

/// Every prompt the demo flow can ask for.
pub const PROMPTS: &[&str] = &[
    "greeting",
    "you_entered",
    "no_input",
    "goodbye",
    "digit_0",
    "digit_1",
    "digit_2",
    "digit_3",
    "digit_4",
    "digit_5",
    "digit_6",
    "digit_7",
    "digit_8",
    "digit_9",
    "digit_star",
    "digit_hash",
    "digit_A",
    "digit_B",
    "digit_C",
    "digit_D",
];

fn play(prompt: &str, barge_in: bool) -> Action {
    Action::Play {
        prompt: prompt.to_owned(),
        barge_in,
    }
}

fn digit_prompt(d: char) -> String {
    match d {
        '*' => "digit_star".into(),
        '#' => "digit_hash".into(),
        d => format!("digit_{d}"),
    }
}

impl DemoFlow {
    /// A flow waiting for the call to connect.
    pub fn new(settings: DemoSettings) -> Self {
        Self {
            settings,
            state: State::Waiting,
            digits: String::new(),
        }
    }

    /// Digits collected so far (without the terminating `#`).
    pub fn digits(&self) -> &str {
        &self.digits
    }

    /// Whether the flow has asked to hang up.
    pub fn is_done(&self) -> bool {
        self.state == State::Done
    }

    /// Feed one input; returns the actions to carry out in order.
    pub fn handle(&mut self, input: Input) -> Vec<Action> {
        match (&self.state, input) {
            (State::Waiting, Input::Answered) => {
                self.state = State::Greeting;
                vec![play("greeting", true)]
            }
            (State::Greeting, Input::PromptsDone) => {
                self.state = State::Collecting;
                vec![Action::StartTimer(self.settings.first_digit_ms)]
            }
            (State::Greeting | State::Collecting, Input::Digit(d)) => {
                let mut out = Vec::new();
                if self.state == State::Greeting {
                    out.push(Action::StopPrompts);
                    self.state = State::Collecting;
                }
                if d == '#' {
                    out.extend(self.read_back());
                } else {
                    self.digits.push(d);
                    if self.digits.len() >= self.settings.max_digits {
                        out.extend(self.read_back());
                    } else {
                        out.push(Action::StartTimer(self.settings.interdigit_ms));
                    }
                }
                out
            }
            (State::Collecting, Input::Timer) => self.read_back(),
            (State::ReadingBack, Input::PromptsDone) => {
                self.state = State::Closing;
                vec![play("goodbye", false)]
            }
            (State::Closing, Input::PromptsDone) => {
                self.state = State::Done;
                vec![Action::HangUp]
            }
            // Anything else (keys during read-back, late timers) changes nothing.
            _ => Vec::new(),
        }
    }

    fn read_back(&mut self) -> Vec<Action> {
        let mut out = vec![Action::CancelTimer];
        if self.digits.is_empty() {
            self.state = State::Closing;
            out.push(play("no_input", false));
            out.push(play("goodbye", false));
            return out;
        }
        self.state = State::ReadingBack;
        out.push(play("you_entered", false));
        out.extend(self.digits.chars().map(|d| play(&digit_prompt(d), false)));
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(actions: &[Action]) -> Vec<String> {
        actions
            .iter()
            .map(|a| match a {
                Action::Play { prompt, .. } => prompt.clone(),
                other => format!("{other:?}"),
            })
            .collect()
    }

    #[test]
    fn reads_back_digits_terminated_by_hash() {
        let mut f = DemoFlow::new(DemoSettings::default());
        assert_eq!(names(&f.handle(Input::Answered)), ["greeting"]);
        assert_eq!(names(&f.handle(Input::PromptsDone)), ["StartTimer(8000)"]);
        f.handle(Input::Digit('4'));
        f.handle(Input::Digit('2'));
        assert_eq!(
            names(&f.handle(Input::Digit('#'))),
            ["CancelTimer", "you_entered", "digit_4", "digit_2"]
        );
        assert_eq!(names(&f.handle(Input::PromptsDone)), ["goodbye"]);
        assert_eq!(f.handle(Input::PromptsDone), [Action::HangUp]);
        assert!(f.is_done());
        assert_eq!(f.digits(), "42");
    }

    #[test]
    fn key_during_greeting_barges_in() {
        let mut f = DemoFlow::new(DemoSettings::default());
        f.handle(Input::Answered);
        assert_eq!(
            names(&f.handle(Input::Digit('7'))),
            ["StopPrompts", "StartTimer(4000)"]
        );
        assert_eq!(
            names(&f.handle(Input::Timer)),
            ["CancelTimer", "you_entered", "digit_7"]
        );
    }

    #[test]
    fn no_input_says_so_and_hangs_up() {
        let mut f = DemoFlow::new(DemoSettings::default());
        f.handle(Input::Answered);
        f.handle(Input::PromptsDone);
        assert_eq!(
            names(&f.handle(Input::Timer)),
            ["CancelTimer", "no_input", "goodbye"]
        );
        assert_eq!(f.handle(Input::PromptsDone), [Action::HangUp]);
    }

    #[test]
    fn max_digits_ends_collection() {
        let mut f = DemoFlow::new(DemoSettings {
            max_digits: 2,
            ..Default::default()
        });
        f.handle(Input::Answered);
        f.handle(Input::Digit('1'));
        assert_eq!(
            names(&f.handle(Input::Digit('*'))),
            ["CancelTimer", "you_entered", "digit_1", "digit_star"]
        );
    }
}
