//! Every class of validator error, with exact messages and positions, all reported at once.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use yingda_dsp::wav;
use yingda_flow::flow::{validate, FlowFs};

struct MemFs(BTreeMap<PathBuf, Vec<u8>>);

impl FlowFs for MemFs {
    fn exists(&self, path: &Path) -> bool {
        self.0.contains_key(path)
    }
    fn read(&self, path: &Path) -> std::io::Result<Vec<u8>> {
        self.0
            .get(path)
            .cloned()
            .ok_or_else(|| std::io::Error::from(std::io::ErrorKind::NotFound))
    }
}

fn fs() -> MemFs {
    let mut m = BTreeMap::new();
    m.insert(
        PathBuf::from("/f/hello.wav"),
        wav::write(8000, wav::Encoding::Pcm16, &[0; 800]),
    );
    m.insert(
        PathBuf::from("/f/wide.wav"),
        wav::write(16000, wav::Encoding::Pcm16, &[0; 1600]),
    );
    m.insert(PathBuf::from("/f/junk.wav"), b"not a wave".to_vec());
    m.insert(
        PathBuf::from("/f/menu.txt"),
        "a: 甲\nb: 乙\n".as_bytes().to_vec(),
    );
    MemFs(m)
}

fn errors(src: &str) -> Vec<String> {
    match validate(src, "t.toml", Path::new("/f"), &fs()) {
        Ok(_) => vec![],
        Err(e) => e.iter().map(ToString::to_string).collect(),
    }
}

const HEAD: &str = "schema = 1\nname = \"t\"\ndid = [\"1\"]\nstart = \"a\"\n";

#[test]
fn a_minimal_flow_is_valid() {
    assert_eq!(
        errors(&format!("{HEAD}[nodes.a]\ntype = \"hangup\"\n")),
        Vec::<String>::new()
    );
}

#[test]
fn toml_syntax_error_has_a_position() {
    let e = errors("schema = 1\nname = \n");
    assert_eq!(e.len(), 1);
    assert!(e[0].starts_with("t.toml:2:8: "), "{e:?}");
}

#[test]
fn unknown_field_is_refused() {
    let e = errors(&format!("{HEAD}[nodes.a]\ntype = \"hangup\"\ncolour = 1\n"));
    assert_eq!(e.len(), 1);
    assert!(
        e[0].starts_with("t.toml:7:1: unknown field `colour`"),
        "{e:?}"
    );
}

#[test]
fn every_error_class_reported_at_once_in_order() {
    let src = format!(
        "{HEAD}\
[nodes.a]
type = \"menu\"
prompt = {{ file = \"missing.wav\" }}
options = [{{ digit = \"1\", next = \"nowhere\" }}]
timeout_ms = 5
[nodes.b]
type = \"dance\"
[nodes.c]
type = \"play\"
prompt = {{ text = \"hi {{{{who}}}}\" }}
next = \"c\"
[nodes.d]
type = \"branch\"
cases = [{{ when = \"x == \", next = \"a\" }}]
next = \"a\"
[nodes.e]
type = \"ask\"
prompt = {{ text = \"?\" }}
grammar = \"nope\"
var = \"v\"
next = \"a\"
retries = 1
on_fail = \"a\"
"
    );
    let e = errors(&src);
    let expected = [
        "t.toml:5:1: node `a`: loop without exit: no hang-up or transfer is reachable from here",
        "t.toml:6:8: node `a`: menu node needs `on_fail`",
        "t.toml:6:8: node `a`: menu node needs `retries`",
        "t.toml:7:19: node `a`: prompt file \"missing.wav\" not found",
        "t.toml:8:34: node `a`: unknown target node `nowhere`",
        "t.toml:9:14: node `a`: bad timeout: timeout_ms = 5 ms is outside 100..=120000 ms",
        "t.toml:10:1: node `b`: unreachable node: no path from `start` or a global handler",
        "t.toml:11:8: node `b`: unknown node type \"dance\" (known: play, menu, collect, ask, confirm, branch, set, http, transfer, record, hours, language, hangup)",
        "t.toml:12:1: node `c`: unreachable node: no path from `start` or a global handler",
        "t.toml:14:19: node `c`: undefined variable `who` in template",
        "t.toml:16:1: node `d`: unreachable node: no path from `start` or a global handler",
        "t.toml:18:19: node `d`: bad expression: expected a value at byte 5",
        "t.toml:20:1: node `e`: unreachable node: no path from `start` or a global handler",
        "t.toml:23:11: node `e`: unknown grammar `nope`",
    ];
    assert_eq!(e, expected);
}

#[test]
fn loop_without_exit_is_found_in_reachable_nodes() {
    // `n` is written by the set node itself, but read by it before the first write.
    let src = format!("{HEAD}[nodes.a]\ntype = \"set\"\nset = {{ n = \"n + 1\" }}\nnext = \"b\"\n[nodes.b]\ntype = \"branch\"\ncases = [{{ when = \"n > 3\", next = \"a\" }}]\nnext = \"a\"\n");
    assert_eq!(
        errors(&src),
        [
            "t.toml:5:1: node `a`: loop without exit: no hang-up or transfer is reachable from here",
            "t.toml:7:13: node `a`: variable `n` may have no value here (path a); set it before, or give it a default in [vars]",
            "t.toml:9:1: node `b`: loop without exit: no hang-up or transfer is reachable from here",
        ]
    );
}

#[test]
fn missing_retry_counts_and_bad_collect_settings() {
    let src = format!(
        "{HEAD}[nodes.a]\ntype = \"collect\"\nvar = \"pin\"\nmin_digits = 6\nmax_digits = 4\nfirst_digit_timeout_ms = 5000\ninter_digit_timeout_ms = 999999\nnext = \"h\"\nterminator = \"x\"\n[nodes.h]\ntype = \"hangup\"\n"
    );
    assert_eq!(
        errors(&src),
        [
            "t.toml:6:8: node `a`: collect node needs `on_fail`",
            "t.toml:6:8: node `a`: collect node needs `retries`",
            "t.toml:6:8: node `a`: need 1 <= min_digits <= max_digits <= 64, got 6 and 4",
            "t.toml:6:8: node `a`: terminator \"x\" must be \"#\" or \"*\"",
            "t.toml:11:26: node `a`: bad timeout: inter_digit_timeout_ms = 999999 ms is outside 100..=120000 ms",
        ]
    );
}

#[test]
fn grammar_problems_name_the_grammar() {
    let src = format!("{HEAD}[grammars.g]\nfile = \"gone.txt\"\n[grammars.h]\ninline = \"no colon here\"\n[nodes.a]\ntype = \"hangup\"\n");
    let e = errors(&src);
    assert_eq!(e.len(), 2, "{e:?}");
    assert_eq!(e[0], "t.toml:6:8: grammar `g`: file \"gone.txt\" not found");
    assert!(e[1].starts_with("t.toml:8:10: grammar `h`: "), "{e:?}");
}

#[test]
fn unsupported_schema_and_unknown_start() {
    let e =
        errors("schema = 2\nname = \"t\"\ndid = []\nstart = \"x\"\n[nodes.a]\ntype = \"hangup\"\n");
    assert_eq!(
        e,
        [
            "t.toml:1:10: schema 2 is not supported (this build reads 1)",
            "t.toml:4:9: unknown target node `x`",
            "t.toml:5:1: node `a`: unreachable node: no path from `start` or a global handler",
        ]
    );
}

#[test]
fn body_must_be_json_and_labels_must_exist() {
    let src = format!(
        "{HEAD}[grammars.m]\nfile = \"menu.txt\"\n[nodes.a]\ntype = \"menu\"\nprompt = {{ file = \"hello.wav\" }}\ngrammar = \"m\"\noptions = [{{ label = \"zzz\", next = \"h\" }}]\nretries = 1\non_fail = \"h\"\n[nodes.h]\ntype = \"http\"\nurl = \"https://x/{{{{caller}}}}\"\nbody = \"{{bad\"\ntimeout_ms = 1000\nnext = \"z\"\non_error = \"z\"\n[nodes.z]\ntype = \"hangup\"\n"
    );
    let e = errors(&src);
    assert_eq!(e.len(), 2, "{e:?}");
    assert_eq!(
        e[0],
        "t.toml:11:36: node `a`: label \"zzz\" is not in grammar `m`"
    );
    assert!(
        e[1].starts_with("t.toml:17:8: node `h`: body is not JSON: "),
        "{e:?}"
    );
}

#[test]
fn undefined_variable_in_a_condition() {
    let src = format!(
        "{HEAD}[nodes.a]\ntype = \"branch\"\ncases = [{{ when = \"zz == 1 && caller != \\\"\\\"\", next = \"h\" }}]\nnext = \"h\"\n[nodes.h]\ntype = \"hangup\"\n"
    );
    assert_eq!(
        errors(&src),
        ["t.toml:7:19: node `a`: undefined variable `zz` in expression"]
    );
}

/// A collect node whose failure edge skips the variable, then a prompt reading it.
fn collect_then_read(extra: &str) -> String {
    format!(
        "{HEAD}{extra}[nodes.a]\ntype = \"collect\"\nprompt = {{ text = \"请输入\" }}\nvar = \"acct\"\nmin_digits = 1\nmax_digits = 4\nfirst_digit_timeout_ms = 5000\ninter_digit_timeout_ms = 3000\nretries = 1\non_fail = \"b\"\nnext = \"b\"\n[nodes.b]\ntype = \"play\"\nprompt = {{ text = \"账号{{{{acct}}}}\" }}\nnext = \"c\"\n[nodes.c]\ntype = \"hangup\"\n"
    )
}

#[test]
fn a_variable_unset_on_one_path_is_reported_with_that_path() {
    assert_eq!(
        errors(&collect_then_read("")),
        ["t.toml:18:19: node `b`: variable `acct` may have no value here (path a → b); set it before, or give it a default in [vars]"]
    );
}

#[test]
fn a_default_in_vars_covers_every_path() {
    assert_eq!(
        errors(&collect_then_read("[vars]\nacct = \"\"\n")),
        Vec::<String>::new()
    );
}

#[test]
fn a_variable_set_on_every_path_is_accepted() {
    // Both branches set `x` before the join.
    let src = format!(
        "{HEAD}[nodes.a]\ntype = \"branch\"\ncases = [{{ when = 'caller == \"1\"', next = \"b\" }}]\nnext = \"c\"\n[nodes.b]\ntype = \"set\"\nset = {{ x = '\"one\"' }}\nnext = \"d\"\n[nodes.c]\ntype = \"set\"\nset = {{ x = '\"other\"' }}\nnext = \"d\"\n[nodes.d]\ntype = \"play\"\nprompt = {{ text = \"{{{{x}}}}\" }}\nnext = \"e\"\n[nodes.e]\ntype = \"hangup\"\n"
    );
    assert_eq!(errors(&src), Vec::<String>::new());
}

#[test]
fn a_global_handler_sees_only_the_defaults() {
    // The agent handler can be entered before `a` ran, so `who` may be unset there.
    let src = format!(
        "{HEAD}[global]\nagent = \"h\"\n[nodes.a]\ntype = \"set\"\nset = {{ who = '\"x\"' }}\nnext = \"h\"\n[nodes.h]\ntype = \"transfer\"\nextension = \"{{{{who}}}}\"\nprompt = {{ text = \"转{{{{who}}}}\" }}\nnext = \"z\"\non_no_answer = \"z\"\non_busy = \"z\"\n[nodes.z]\ntype = \"hangup\"\n"
    );
    let e = errors(&src);
    assert!(
        e.iter()
            .any(|m| m.contains("node `h`: variable `who` may have no value here (path h)")),
        "{e:?}"
    );
}

#[test]
fn a_secret_in_a_prompt_or_copied_out_is_rejected() {
    let src = format!(
        "{HEAD}[nodes.a]\ntype = \"collect\"\nprompt = {{ text = \"请输入密码\" }}\nvar = \"pin\"\nsecret = true\nmin_digits = 6\nmax_digits = 6\nfirst_digit_timeout_ms = 5000\ninter_digit_timeout_ms = 3000\nretries = 1\non_fail = \"z\"\nnext = \"b\"\n[nodes.b]\ntype = \"play\"\nprompt = {{ text = \"您的密码是{{{{pin}}}}\" }}\nnext = \"c\"\n[nodes.c]\ntype = \"set\"\nset = {{ copy = \"pin\" }}\nnext = \"z\"\n[nodes.z]\ntype = \"hangup\"\n"
    );
    assert_eq!(
        errors(&src),
        [
            "t.toml:19:19: node `b`: secret variable `pin` in a prompt: it would be spoken, cached and logged",
            "t.toml:23:16: node `c`: `copy` copies secret variable `pin` into a variable that is not secret",
        ]
    );
}

#[test]
fn recorded_prompts_must_be_8khz_mono_wav() {
    let flow = |file: &str| {
        format!("{HEAD}[nodes.a]\ntype = \"hangup\"\nprompt = {{ file = \"{file}\" }}\n")
    };
    assert_eq!(errors(&flow("hello.wav")), Vec::<String>::new());
    let e = errors(&flow("wide.wav"));
    assert_eq!(e.len(), 1, "{e:?}");
    assert!(
        e[0].starts_with("t.toml:7:19: node `a`: prompt file \"wide.wav\" is 16000 Hz, 1 channel(s); recorded prompts must be 8000 Hz mono"),
        "{e:?}"
    );
    let e = errors(&flow("junk.wav"));
    assert_eq!(e.len(), 1, "{e:?}");
    assert!(
        e[0].starts_with("t.toml:7:19: node `a`: prompt file \"junk.wav\" is unusable: "),
        "{e:?}"
    );
}
