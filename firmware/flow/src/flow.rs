//! Flow files (TOML, `schema = 1`) and their validator. A [`Flow`] exists only after every
//! check passed, so nothing invalid can be activated or run. The validator reports every
//! problem at once, sorted by position, each with file, line, column and node id.
//!
//! This module reads files only through [`FlowFs`] (prompt/grammar existence, grammar text),
//! so tests and the daemon choose where flows live.

use crate::calendar::{self, Calendar};
use crate::expr::Expr;
use crate::slots::SlotKind;
use crate::template::{is_name, Template};
use serde::Deserialize;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use toml::Spanned;
use yingda_speech::grammar::Grammar;
use yingda_speech::recognizer::Lang;

/// The flow file schema this build reads.
pub const SCHEMA: u32 = 1;
/// Smallest and largest timeout accepted, in ms.
pub const TIMEOUT_RANGE_MS: (u64, u64) = (100, 120_000);

type S<T> = Spanned<T>;

/// The flow file as written (see `docs/flows.md`).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FlowFile {
    /// Format version; must be [`SCHEMA`].
    pub schema: S<u32>,
    /// Flow name (also the activation key).
    pub name: String,
    /// Numbers / DIDs this flow answers.
    pub did: Vec<String>,
    /// Starting language, `zh` or `en`.
    #[serde(default)]
    pub lang: Option<S<String>>,
    /// Local time offset from UTC, minutes (China: 480).
    #[serde(default = "default_offset")]
    pub utc_offset_minutes: i32,
    /// The first node.
    pub start: S<String>,
    /// Initial variables.
    #[serde(default)]
    pub vars: BTreeMap<String, String>,
    /// Named grammars.
    #[serde(default)]
    pub grammars: BTreeMap<String, GrammarDef>,
    /// Global handlers.
    #[serde(default)]
    pub global: GlobalDef,
    /// Nodes by id.
    pub nodes: BTreeMap<String, NodeDef>,
}

fn default_offset() -> i32 {
    480
}

/// A grammar: a file next to the flow or inline text, in `firmware/speech` grammar format.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GrammarDef {
    /// Path relative to the flow file.
    pub file: Option<S<String>>,
    /// Inline grammar text.
    pub inline: Option<S<String>>,
}

/// Global handlers.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GlobalDef {
    /// Where "人工"/"agent" or the agent digit go.
    pub agent: Option<S<String>>,
    /// Words that ask for a person.
    #[serde(default = "default_agent_words")]
    pub agent_words: Vec<String>,
    /// The DTMF digit that asks for a person.
    #[serde(default = "default_agent_digit")]
    pub agent_digit: String,
    /// After this many no-input/no-match in the whole call, go to `on_failures`.
    pub max_failures: Option<S<u32>>,
    /// Where repeated failures go (a transfer or a polite hang-up).
    pub on_failures: Option<S<String>>,
    /// Words of a complaining or angry caller (投诉, "complaint"): hearing one in speech that
    /// matched no option escalates the call.
    #[serde(default = "default_complaint_words")]
    pub complaint_words: Vec<String>,
    /// Where a complaint goes; without it, the `agent` handler.
    pub on_complaint: Option<S<String>>,
}

fn default_agent_words() -> Vec<String> {
    [
        "人工",
        "转人工",
        "人工服务",
        "agent",
        "operator",
        "representative",
    ]
    .map(String::from)
    .to_vec()
}
fn default_complaint_words() -> Vec<String> {
    [
        "投诉",
        "举报",
        "太差了",
        "什么破",
        "complaint",
        "complain",
        "ridiculous",
        "unacceptable",
    ]
    .map(String::from)
    .to_vec()
}
fn default_agent_digit() -> String {
    "0".into()
}

/// A prompt: a recorded file or TTS text (per language), with barge-in and endpoint settings.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PromptDef {
    /// WAV file relative to the flow file.
    pub file: Option<S<String>>,
    /// TTS template in Mandarin (or the only language).
    pub text: Option<S<String>>,
    /// TTS template in English.
    pub text_en: Option<S<String>>,
    /// Speech barge-in (default true).
    pub barge_in: Option<bool>,
    /// DTMF barge-in (default true).
    pub dtmf_barge_in: Option<bool>,
    /// Endpointer: silence that ends an utterance, ms.
    pub end_silence_ms: Option<S<u64>>,
    /// Endpointer: longest utterance, ms.
    pub max_speech_ms: Option<S<u64>>,
}

/// A menu / language option.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OptionDef {
    /// DTMF key.
    pub digit: Option<String>,
    /// Grammar label that selects it.
    pub label: Option<String>,
    /// Language node: the language chosen.
    pub lang: Option<S<String>>,
    /// Target.
    pub next: S<String>,
}

/// A branch case.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CaseDef {
    /// Condition.
    pub when: S<String>,
    /// Target when true.
    pub next: S<String>,
}

/// One node as written; which fields apply depends on `type` (see `docs/flows.md`).
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(missing_docs)]
pub struct NodeDef {
    #[serde(rename = "type")]
    pub kind: Option<S<String>>,
    pub prompt: Option<PromptDef>,
    pub next: Option<S<String>>,
    #[serde(default)]
    pub options: Vec<OptionDef>,
    pub grammar: Option<S<String>>,
    pub var: Option<S<String>>,
    #[serde(default)]
    pub secret: bool,
    pub slot: Option<S<String>>,
    pub min_digits: Option<usize>,
    pub max_digits: Option<usize>,
    pub terminator: Option<String>,
    pub first_digit_timeout_ms: Option<S<u64>>,
    pub inter_digit_timeout_ms: Option<S<u64>>,
    pub timeout_ms: Option<S<u64>>,
    pub retries: Option<u32>,
    pub on_fail: Option<S<String>>,
    pub yes: Option<S<String>>,
    pub no: Option<S<String>>,
    #[serde(default)]
    pub cases: Vec<CaseDef>,
    #[serde(default)]
    pub set: BTreeMap<String, S<String>>,
    pub method: Option<S<String>>,
    pub url: Option<S<String>>,
    #[serde(default)]
    pub headers: BTreeMap<String, S<String>>,
    pub body: Option<S<String>>,
    #[serde(default)]
    pub map: BTreeMap<String, String>,
    pub on_error: Option<S<String>>,
    pub circuit_failures: Option<u32>,
    pub circuit_open_ms: Option<S<u64>>,
    pub extension: Option<S<String>>,
    pub on_no_answer: Option<S<String>>,
    pub on_busy: Option<S<String>>,
    pub max_ms: Option<S<u64>>,
    pub on_decline: Option<S<String>>,
    pub calendar: Option<S<String>>,
    #[serde(default)]
    pub open: Vec<S<String>>,
    pub on_closed: Option<S<String>>,
}

/// Node types.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[allow(missing_docs)]
pub enum Kind {
    Play,
    Menu,
    Collect,
    Ask,
    Confirm,
    Branch,
    Set,
    Http,
    Transfer,
    Record,
    Hours,
    Language,
    Hangup,
}

impl Kind {
    /// All type names, as written in files.
    pub const NAMES: [&'static str; 13] = [
        "play", "menu", "collect", "ask", "confirm", "branch", "set", "http", "transfer", "record",
        "hours", "language", "hangup",
    ];

    fn from_name(s: &str) -> Option<Kind> {
        use Kind::*;
        let all = [
            Play, Menu, Collect, Ask, Confirm, Branch, Set, Http, Transfer, Record, Hours,
            Language, Hangup,
        ];
        Kind::NAMES.iter().position(|n| *n == s).map(|i| all[i])
    }

    /// Whether the node waits for caller input (and so needs `retries`).
    pub fn takes_input(self) -> bool {
        matches!(
            self,
            Kind::Menu | Kind::Collect | Kind::Ask | Kind::Confirm | Kind::Record | Kind::Language
        )
    }
}

/// One validation problem.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{file}:{line}:{column}: {}{message}", node.as_ref().map(|n| format!("node `{n}`: ")).unwrap_or_default())]
pub struct FlowError {
    /// The flow file.
    pub file: String,
    /// 1-based line.
    pub line: usize,
    /// 1-based column (characters).
    pub column: usize,
    /// The node, when the problem is inside one.
    pub node: Option<String>,
    /// What is wrong.
    pub message: String,
}

/// Where a validated flow's files are read from.
pub trait FlowFs {
    /// Whether a file exists.
    fn exists(&self, path: &Path) -> bool;
    /// A file's bytes.
    ///
    /// # Errors
    /// The I/O error.
    fn read(&self, path: &Path) -> std::io::Result<Vec<u8>>;
}

/// The real file system.
#[derive(Debug, Clone, Copy, Default)]
pub struct RealFs;

impl FlowFs for RealFs {
    fn exists(&self, path: &Path) -> bool {
        path.is_file()
    }
    fn read(&self, path: &Path) -> std::io::Result<Vec<u8>> {
        std::fs::read(path)
    }
}

/// A recorded prompt must be a WAV the line can play as it is: 8 kHz mono (16-bit PCM,
/// A-law or µ-law). `Err` completes "prompt file "x.wav" …".
fn check_prompt_file(fs: &dyn FlowFs, path: &Path) -> Result<(), String> {
    let bytes = match fs.read(path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Err("not found".into()),
        Err(e) => return Err(format!("cannot be read: {e}")),
    };
    let w = yingda_dsp::wav::parse(&bytes).map_err(|e| format!("is unusable: {e}"))?;
    if w.rate != 8000 || w.channels != 1 {
        return Err(format!(
            "is {} Hz, {} channel(s); recorded prompts must be 8000 Hz mono \
             (convert: sox IN.wav -r 8000 -c 1 -b 16 OUT.wav)",
            w.rate, w.channels
        ));
    }
    Ok(())
}

/// A validated, ready-to-run flow. Immutable; calls hold it in an `Arc`.
#[derive(Debug)]
pub struct Flow {
    /// The file as written.
    pub file: FlowFile,
    /// The source text (what activation stores).
    pub source: String,
    /// The directory prompt and grammar paths are relative to.
    pub base: PathBuf,
    /// Compiled grammars by name.
    pub grammars: BTreeMap<String, Arc<Grammar>>,
    /// Compiled templates by source text.
    pub templates: BTreeMap<String, Template>,
    /// Compiled expressions by source text.
    pub exprs: BTreeMap<String, Expr>,
    /// Node types by id.
    pub kinds: BTreeMap<String, Kind>,
    /// Calendars by name.
    pub calendars: BTreeMap<String, Calendar>,
    /// The starting language.
    pub lang: Lang,
}

impl Flow {
    /// The node definition and its type.
    pub fn node(&self, id: &str) -> Option<(&NodeDef, Kind)> {
        Some((self.file.nodes.get(id)?, *self.kinds.get(id)?))
    }
}

/// Variables every call has.
pub const BUILTIN_VARS: [&str; 5] = ["caller", "did", "lang", "today", "now_time"];

/// Parse a language code.
pub fn lang_from_code(s: &str) -> Option<Lang> {
    match s {
        "zh" => Some(Lang::Zh),
        "en" => Some(Lang::En),
        _ => None,
    }
}

struct Checker<'a> {
    file: String,
    src: &'a str,
    errors: Vec<(usize, FlowError)>,
}

impl Checker<'_> {
    fn at(&mut self, span: std::ops::Range<usize>, node: Option<&str>, message: String) {
        let start = span.start.min(self.src.len());
        let before = &self.src[..start];
        let line = before.matches('\n').count() + 1;
        let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
        self.errors.push((
            start,
            FlowError {
                file: self.file.clone(),
                line,
                column,
                node: node.map(String::from),
                message,
            },
        ));
    }

    /// The span of `[nodes.<id>]` (for problems with no field of their own).
    fn node_span(&self, id: &str) -> std::ops::Range<usize> {
        let needle = format!("[nodes.{id}]");
        let quoted = format!("[nodes.\"{id}\"]");
        self.src
            .find(&needle)
            .or_else(|| self.src.find(&quoted))
            .map_or(0..0, |s| s..s + needle.len())
    }
}

/// Validate flow text. `file` names it in errors; prompt and grammar paths are relative to
/// `base` and checked through `fs`.
///
/// # Errors
/// Every problem found, sorted by position.
pub fn validate(
    source: &str,
    file: &str,
    base: &Path,
    fs: &dyn FlowFs,
) -> Result<Flow, Vec<FlowError>> {
    let mut c = Checker {
        file: file.to_string(),
        src: source,
        errors: Vec::new(),
    };
    let parsed: FlowFile = match toml::from_str(source) {
        Ok(f) => f,
        Err(e) => {
            let msg = e.message().to_string();
            c.at(e.span().unwrap_or(0..0), None, msg);
            return Err(c.errors.into_iter().map(|(_, e)| e).collect());
        }
    };
    if *parsed.schema.get_ref() != SCHEMA {
        c.at(
            parsed.schema.span(),
            None,
            format!(
                "schema {} is not supported (this build reads {SCHEMA})",
                parsed.schema.get_ref()
            ),
        );
    }
    let lang = match &parsed.lang {
        None => Lang::Zh,
        Some(l) => lang_from_code(l.get_ref()).unwrap_or_else(|| {
            c.at(
                l.span(),
                None,
                format!("unknown language {:?} (zh or en)", l.get_ref()),
            );
            Lang::Zh
        }),
    };

    // Node types first: targets are checked against them.
    let mut kinds = BTreeMap::new();
    for (id, n) in &parsed.nodes {
        match &n.kind {
            None => {
                let span = c.node_span(id);
                c.at(span, Some(id), "missing `type`".into());
            }
            Some(k) => match Kind::from_name(k.get_ref()) {
                Some(kind) => {
                    kinds.insert(id.clone(), kind);
                }
                None => c.at(
                    k.span(),
                    Some(id),
                    format!(
                        "unknown node type {:?} (known: {})",
                        k.get_ref(),
                        Kind::NAMES.join(", ")
                    ),
                ),
            },
        }
    }

    // Defined variables: built-ins, initial vars, and every variable a node writes.
    let mut defined: BTreeSet<String> = BUILTIN_VARS.iter().map(|s| s.to_string()).collect();
    defined.extend(parsed.vars.keys().cloned());
    for n in parsed.nodes.values() {
        if let Some(v) = &n.var {
            defined.insert(v.get_ref().clone());
        }
        defined.extend(n.set.keys().cloned());
        defined.extend(n.map.keys().cloned());
    }

    let mut grammars = BTreeMap::new();
    for (name, g) in &parsed.grammars {
        let (text, span) = match (&g.file, &g.inline) {
            (Some(f), None) => {
                let path = base.join(f.get_ref());
                match fs.read(&path) {
                    Ok(b) => (b, f.span()),
                    Err(_) => {
                        c.at(
                            f.span(),
                            None,
                            format!("grammar `{name}`: file {:?} not found", f.get_ref()),
                        );
                        continue;
                    }
                }
            }
            (None, Some(t)) => (t.get_ref().as_bytes().to_vec(), t.span()),
            (Some(_), Some(_)) | (None, None) => {
                let span = g.file.as_ref().map_or(0..0, |f| f.span());
                c.at(
                    span,
                    None,
                    format!("grammar `{name}`: give exactly one of `file` and `inline`"),
                );
                continue;
            }
        };
        match Grammar::parse(&text) {
            Ok(gr) => {
                grammars.insert(name.clone(), Arc::new(gr));
            }
            Err(e) => c.at(span, None, format!("grammar `{name}`: {e}")),
        }
    }

    let mut templates = BTreeMap::new();
    let mut exprs = BTreeMap::new();
    let mut calendars = BTreeMap::new();
    let target_ok = |t: &S<String>, c: &mut Checker<'_>, id: &str| {
        if !parsed.nodes.contains_key(t.get_ref()) {
            c.at(
                t.span(),
                Some(id),
                format!("unknown target node `{}`", t.get_ref()),
            );
        }
    };
    let check_template = |t: &S<String>,
                          c: &mut Checker<'_>,
                          id: Option<&str>,
                          templates: &mut BTreeMap<String, Template>| {
        match Template::parse(t.get_ref()) {
            Ok(tp) => {
                for v in tp.vars() {
                    if !defined.contains(v) {
                        c.at(
                            t.span(),
                            id,
                            format!("undefined variable `{v}` in template"),
                        );
                    }
                }
                templates.insert(t.get_ref().clone(), tp);
            }
            Err(e) => c.at(t.span(), id, format!("bad template: {e}")),
        }
    };
    let check_expr =
        |t: &S<String>, c: &mut Checker<'_>, id: &str, exprs: &mut BTreeMap<String, Expr>| {
            match Expr::parse(t.get_ref()) {
                Ok(e) => {
                    for v in e.vars() {
                        if !defined.contains(v) {
                            c.at(
                                t.span(),
                                Some(id),
                                format!("undefined variable `{v}` in expression"),
                            );
                        }
                    }
                    exprs.insert(t.get_ref().clone(), e);
                }
                Err(e) => c.at(t.span(), Some(id), format!("bad expression: {e}")),
            }
        };
    let check_timeout = |t: &Option<S<u64>>, field: &str, c: &mut Checker<'_>, id: &str| {
        if let Some(t) = t {
            let v = *t.get_ref();
            if !(TIMEOUT_RANGE_MS.0..=TIMEOUT_RANGE_MS.1).contains(&v) {
                c.at(
                    t.span(),
                    Some(id),
                    format!(
                        "bad timeout: {field} = {v} ms is outside {}..={} ms",
                        TIMEOUT_RANGE_MS.0, TIMEOUT_RANGE_MS.1
                    ),
                );
            }
        }
    };

    target_ok(&parsed.start, &mut c, "");
    if let Some(e) = c.errors.last_mut() {
        if e.1.message.starts_with("unknown target") && e.1.node.as_deref() == Some("") {
            e.1.node = None;
        }
    }
    for t in [
        &parsed.global.agent,
        &parsed.global.on_failures,
        &parsed.global.on_complaint,
    ]
    .into_iter()
    .flatten()
    {
        if !parsed.nodes.contains_key(t.get_ref()) {
            c.at(
                t.span(),
                None,
                format!("unknown target node `{}`", t.get_ref()),
            );
        }
    }
    if parsed.global.max_failures.is_some() != parsed.global.on_failures.is_some() {
        let span = parsed
            .global
            .max_failures
            .as_ref()
            .map(|m| m.span())
            .or(parsed.global.on_failures.as_ref().map(|m| m.span()))
            .unwrap_or(0..0);
        c.at(
            span,
            None,
            "global `max_failures` and `on_failures` go together".into(),
        );
    }

    for (id, n) in &parsed.nodes {
        let Some(&kind) = kinds.get(id) else { continue };
        let node_span = n.kind.as_ref().map_or(0..0, |k| k.span());
        let require = |present: bool, field: &str, c: &mut Checker<'_>| {
            if !present {
                c.at(
                    node_span.clone(),
                    Some(id),
                    format!("{} node needs `{field}`", Kind::NAMES[kind as usize]),
                );
            }
        };
        // Targets.
        for t in target_spans(n) {
            target_ok(t, &mut c, id);
        }
        for cs in &n.cases {
            check_expr(&cs.when, &mut c, id, &mut exprs);
        }
        for v in n.set.values() {
            check_expr(v, &mut c, id, &mut exprs);
        }
        for k in n
            .set
            .keys()
            .chain(n.map.keys())
            .chain(n.var.as_ref().map(|v| v.get_ref()))
        {
            if !is_name(k) {
                c.at(
                    node_span.clone(),
                    Some(id),
                    format!("{k:?} is not a variable name"),
                );
            }
        }
        // Prompt.
        if let Some(p) = &n.prompt {
            if let Some(f) = &p.file {
                if let Err(why) = check_prompt_file(fs, &base.join(f.get_ref())) {
                    c.at(
                        f.span(),
                        Some(id),
                        format!("prompt file {:?} {why}", f.get_ref()),
                    );
                }
            }
            if p.file.is_none() && p.text.is_none() && p.text_en.is_none() {
                c.at(
                    node_span.clone(),
                    Some(id),
                    "prompt needs `file`, `text` or `text_en`".into(),
                );
            }
            for t in [&p.text, &p.text_en].into_iter().flatten() {
                check_template(t, &mut c, Some(id), &mut templates);
            }
            check_timeout(&p.end_silence_ms, "end_silence_ms", &mut c, id);
            check_timeout(&p.max_speech_ms, "max_speech_ms", &mut c, id);
        }
        check_timeout(
            &n.first_digit_timeout_ms,
            "first_digit_timeout_ms",
            &mut c,
            id,
        );
        check_timeout(
            &n.inter_digit_timeout_ms,
            "inter_digit_timeout_ms",
            &mut c,
            id,
        );
        check_timeout(&n.timeout_ms, "timeout_ms", &mut c, id);
        check_timeout(&n.circuit_open_ms, "circuit_open_ms", &mut c, id);
        check_timeout(&n.max_ms, "max_ms", &mut c, id);
        if let Some(g) = &n.grammar {
            if !parsed.grammars.contains_key(g.get_ref()) {
                c.at(
                    g.span(),
                    Some(id),
                    format!("unknown grammar `{}`", g.get_ref()),
                );
            }
        }
        if let Some(s) = &n.slot {
            if SlotKind::from_name(s.get_ref()).is_none() {
                c.at(
                    s.span(),
                    Some(id),
                    format!(
                        "unknown slot {:?} (known: {})",
                        s.get_ref(),
                        SlotKind::NAMES.join(", ")
                    ),
                );
            }
        }
        if kind.takes_input() {
            require(n.retries.is_some(), "retries", &mut c);
            require(n.on_fail.is_some(), "on_fail", &mut c);
        }
        match kind {
            Kind::Play | Kind::Set => {
                require(n.next.is_some(), "next", &mut c);
                if kind == Kind::Play {
                    require(n.prompt.is_some(), "prompt", &mut c);
                }
            }
            Kind::Menu | Kind::Language => {
                require(n.prompt.is_some(), "prompt", &mut c);
                require(!n.options.is_empty(), "options", &mut c);
                for o in &n.options {
                    if o.digit.is_none() && o.label.is_none() {
                        c.at(
                            o.next.span(),
                            Some(id),
                            "option needs `digit` or `label`".into(),
                        );
                    }
                    if o.label.is_some() && n.grammar.is_none() {
                        c.at(
                            o.next.span(),
                            Some(id),
                            "option with `label` needs the node's `grammar`".into(),
                        );
                    }
                    if let (Some(l), Some(g)) = (
                        &o.label,
                        n.grammar.as_ref().and_then(|g| grammars.get(g.get_ref())),
                    ) {
                        if !g.options.iter().any(|go| &go.label == l) {
                            c.at(
                                o.next.span(),
                                Some(id),
                                format!(
                                    "label {l:?} is not in grammar `{}`",
                                    n.grammar
                                        .as_ref()
                                        .map(|g| g.get_ref().as_str())
                                        .unwrap_or("")
                                ),
                            );
                        }
                    }
                    if kind == Kind::Language {
                        match &o.lang {
                            Some(l) if lang_from_code(l.get_ref()).is_none() => c.at(
                                l.span(),
                                Some(id),
                                format!("unknown language {:?} (zh or en)", l.get_ref()),
                            ),
                            None => c.at(
                                o.next.span(),
                                Some(id),
                                "language option needs `lang`".into(),
                            ),
                            _ => {}
                        }
                    }
                }
            }
            Kind::Collect => {
                require(n.var.is_some(), "var", &mut c);
                require(n.next.is_some(), "next", &mut c);
                require(n.max_digits.is_some(), "max_digits", &mut c);
                require(
                    n.first_digit_timeout_ms.is_some(),
                    "first_digit_timeout_ms",
                    &mut c,
                );
                require(
                    n.inter_digit_timeout_ms.is_some(),
                    "inter_digit_timeout_ms",
                    &mut c,
                );
                let (min, max) = (n.min_digits.unwrap_or(1), n.max_digits.unwrap_or(1));
                if min == 0 || min > max || max > 64 {
                    c.at(
                        node_span.clone(),
                        Some(id),
                        format!("need 1 <= min_digits <= max_digits <= 64, got {min} and {max}"),
                    );
                }
                if let Some(t) = &n.terminator {
                    if !matches!(t.as_str(), "#" | "*") {
                        c.at(
                            node_span.clone(),
                            Some(id),
                            format!("terminator {t:?} must be \"#\" or \"*\""),
                        );
                    }
                }
            }
            Kind::Ask => {
                require(n.var.is_some(), "var", &mut c);
                require(n.next.is_some(), "next", &mut c);
                require(n.prompt.is_some(), "prompt", &mut c);
            }
            Kind::Confirm => {
                require(n.prompt.is_some(), "prompt", &mut c);
                require(n.yes.is_some(), "yes", &mut c);
                require(n.no.is_some(), "no", &mut c);
            }
            Kind::Record => {
                require(n.prompt.is_some(), "prompt", &mut c);
                require(n.next.is_some(), "next", &mut c);
                require(n.on_decline.is_some(), "on_decline", &mut c);
                require(n.max_ms.is_some(), "max_ms", &mut c);
            }
            Kind::Branch => require(n.next.is_some(), "next", &mut c),
            Kind::Http => {
                require(n.url.is_some(), "url", &mut c);
                require(n.next.is_some(), "next", &mut c);
                require(n.on_error.is_some(), "on_error", &mut c);
                require(n.timeout_ms.is_some(), "timeout_ms", &mut c);
                if let Some(m) = &n.method {
                    if !matches!(m.get_ref().as_str(), "GET" | "POST" | "PUT" | "DELETE") {
                        c.at(
                            m.span(),
                            Some(id),
                            format!("method {:?} is not GET, POST, PUT or DELETE", m.get_ref()),
                        );
                    }
                }
                for t in [&n.url, &n.body]
                    .into_iter()
                    .flatten()
                    .chain(n.headers.values())
                {
                    check_template(t, &mut c, Some(id), &mut templates);
                }
                if let Some(b) = &n.body {
                    // The body must be JSON once every placeholder is replaced by a string.
                    let probe =
                        Template::parse(b.get_ref()).map(|t| t.render(Lang::En, |_| Some("x")));
                    if let Ok(p) = probe {
                        if let Err(e) = serde_json::from_str::<serde_json::Value>(&p) {
                            c.at(b.span(), Some(id), format!("body is not JSON: {e}"));
                        }
                    }
                }
                for (var, ptr) in &n.map {
                    if !ptr.is_empty() && !ptr.starts_with('/') {
                        c.at(
                            node_span.clone(),
                            Some(id),
                            format!("map `{var}`: {ptr:?} is not a JSON pointer"),
                        );
                    }
                }
            }
            Kind::Transfer => {
                require(n.extension.is_some(), "extension", &mut c);
                require(n.on_no_answer.is_some(), "on_no_answer", &mut c);
                require(n.on_busy.is_some(), "on_busy", &mut c);
                if let Some(e) = &n.extension {
                    if e.get_ref().is_empty()
                        || !e
                            .get_ref()
                            .chars()
                            .all(|ch| ch.is_ascii_digit() || ch == '*' || ch == '#')
                    {
                        c.at(
                            e.span(),
                            Some(id),
                            format!("extension {:?} is not a dial string", e.get_ref()),
                        );
                    }
                }
            }
            Kind::Hours => {
                require(n.next.is_some(), "next", &mut c);
                require(n.on_closed.is_some(), "on_closed", &mut c);
                require(!n.open.is_empty(), "open", &mut c);
                for w in &n.open {
                    if calendar::parse_window(w.get_ref()).is_none() {
                        c.at(
                            w.span(),
                            Some(id),
                            format!("opening hours {:?} are not HH:MM-HH:MM", w.get_ref()),
                        );
                    }
                }
                if let Some(cal) = &n.calendar {
                    match Calendar::shipped(cal.get_ref()) {
                        Some(k) => {
                            calendars.insert(cal.get_ref().clone(), k);
                        }
                        None => c.at(
                            cal.span(),
                            Some(id),
                            format!(
                                "unknown calendar {:?} (shipped: {})",
                                cal.get_ref(),
                                calendar::SHIPPED.join(", ")
                            ),
                        ),
                    }
                }
            }
            Kind::Hangup => {}
        }
    }

    // Graph checks: reachability from start and the global targets, then exits.
    let edges = |id: &str| -> Vec<String> { parsed.nodes.get(id).map(targets).unwrap_or_default() };
    let mut roots: Vec<String> = vec![parsed.start.get_ref().clone()];
    roots.extend(
        [
            &parsed.global.agent,
            &parsed.global.on_failures,
            &parsed.global.on_complaint,
        ]
        .into_iter()
        .flatten()
        .map(|t| t.get_ref().clone()),
    );
    let mut seen = BTreeSet::new();
    let mut stack = roots.clone();
    while let Some(n) = stack.pop() {
        if parsed.nodes.contains_key(&n) && seen.insert(n.clone()) {
            stack.extend(edges(&n));
        }
    }
    for id in parsed.nodes.keys() {
        if !seen.contains(id) {
            let span = c.node_span(id);
            c.at(
                span,
                Some(id),
                "unreachable node: no path from `start` or a global handler".into(),
            );
        }
    }
    // A node can end the call if it hangs up or transfers, or reaches one that does.
    let mut exits: BTreeSet<String> = kinds
        .iter()
        .filter(|(_, k)| matches!(k, Kind::Hangup | Kind::Transfer))
        .map(|(i, _)| i.clone())
        .collect();
    loop {
        let before = exits.len();
        for id in parsed.nodes.keys() {
            if !exits.contains(id) && edges(id).iter().any(|t| exits.contains(t)) {
                exits.insert(id.clone());
            }
        }
        if exits.len() == before {
            break;
        }
    }
    for id in seen.iter().filter(|i| kinds.contains_key(*i)) {
        if !exits.contains(id) {
            let span = c.node_span(id);
            c.at(
                span,
                Some(id),
                "loop without exit: no hang-up or transfer is reachable from here".into(),
            );
        }
    }

    // Variables set on every path to where they are read; secrets never spoken.
    for (span, id, message) in crate::dataflow::check(&parsed) {
        c.at(span, Some(&id), message);
    }

    if !c.errors.is_empty() {
        c.errors.sort_by_key(|(pos, e)| (*pos, e.message.clone()));
        return Err(c.errors.into_iter().map(|(_, e)| e).collect());
    }
    Ok(Flow {
        file: parsed,
        source: source.to_string(),
        base: base.to_path_buf(),
        grammars,
        templates,
        exprs,
        kinds,
        calendars,
        lang,
    })
}

/// Every target field of a node, with its position.
pub(crate) fn target_spans(n: &NodeDef) -> Vec<&S<String>> {
    let fields = [
        &n.next,
        &n.on_fail,
        &n.yes,
        &n.no,
        &n.on_error,
        &n.on_no_answer,
        &n.on_busy,
        &n.on_decline,
        &n.on_closed,
    ];
    let mut out: Vec<&S<String>> = fields.into_iter().flatten().collect();
    out.extend(n.options.iter().map(|o| &o.next));
    out.extend(n.cases.iter().map(|c| &c.next));
    out
}

/// Every node a node can go to.
pub fn targets(n: &NodeDef) -> Vec<String> {
    target_spans(n)
        .into_iter()
        .map(|t| t.get_ref().clone())
        .collect()
}

/// Validate a flow file on disk (paths relative to its directory).
///
/// # Errors
/// The validator's errors; an unreadable file is one error at 1:1.
pub fn validate_file(path: &Path) -> Result<Flow, Vec<FlowError>> {
    let name = path.display().to_string();
    let src = std::fs::read_to_string(path).map_err(|e| {
        vec![FlowError {
            file: name.clone(),
            line: 1,
            column: 1,
            node: None,
            message: format!("cannot read: {e}"),
        }]
    })?;
    validate(
        &src,
        &name,
        path.parent().unwrap_or(Path::new(".")),
        &RealFs,
    )
}
