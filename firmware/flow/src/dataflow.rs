//! Path checks on a flow's variables, run by the validator after the per-node checks:
//!
//! - **Set on every path.** A variable used by a node (prompt text, URL, headers, body,
//!   branch conditions, `set` expressions) must have a value on *every* path that reaches
//!   the node, not merely be written somewhere in the file: otherwise a caller who took the
//!   other path hears an empty slot read out or the backend gets an empty field. A node's
//!   `var` (collect, ask, record), its `map` (http) and its `set` count only on its `next`
//!   edge: the failure edges (`on_fail`, `on_error`, …) leave them unset. Global handlers
//!   can be entered from anywhere, so they start with the built-ins and `[vars]` only. The
//!   error names one path on which the variable has no value and suggests a default in
//!   `[vars]`.
//! - **Secrets stay unspoken.** A `secret` variable (a PIN, an ID number) must not appear in
//!   a prompt — it would be spoken, synthesised into the prompt cache and written to the
//!   call's log — nor be copied by `set` into a variable that is not secret.
//!
//! The analysis is the classic "definitely assigned" data flow: the set of variables with a
//! value on entry to a node is the intersection over its incoming edges, iterated to a
//! fixed point from "everything" (so loops converge to the largest consistent answer).

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::ops::Range;

use crate::expr::Expr;
use crate::flow::{target_spans, FlowFile, NodeDef, BUILTIN_VARS};
use crate::template::Template;

/// One problem: where, which node, what.
pub(crate) type Problem = (Range<usize>, String, String);

/// A variable read by a node, and the span of the field that reads it.
struct Read {
    var: String,
    span: Range<usize>,
    /// Read by a spoken prompt (the secret check applies).
    spoken: bool,
}

fn reads(n: &NodeDef) -> Vec<Read> {
    let mut out = Vec::new();
    let mut template = |t: &toml::Spanned<String>, spoken: bool| {
        if let Ok(tp) = Template::parse(t.get_ref()) {
            for v in tp.vars() {
                out.push(Read {
                    var: v.to_string(),
                    span: t.span(),
                    spoken,
                });
            }
        }
    };
    if let Some(p) = &n.prompt {
        for t in [&p.text, &p.text_en].into_iter().flatten() {
            template(t, true);
        }
    }
    for t in [&n.url, &n.body]
        .into_iter()
        .flatten()
        .chain(n.headers.values())
    {
        template(t, false);
    }
    let exprs = n.cases.iter().map(|c| &c.when).chain(n.set.values());
    for e in exprs {
        if let Ok(ex) = Expr::parse(e.get_ref()) {
            for v in ex.vars() {
                out.push(Read {
                    var: v.to_string(),
                    span: e.span(),
                    spoken: false,
                });
            }
        }
    }
    out
}

/// Variables a node gives a value to on its `next` edge.
fn writes(n: &NodeDef) -> BTreeSet<String> {
    let mut w: BTreeSet<String> = n.set.keys().cloned().collect();
    w.extend(n.map.keys().cloned());
    if let Some(v) = &n.var {
        w.insert(v.get_ref().clone());
    }
    w
}

/// Outgoing edges: (target, whether the node's writes hold on it — only `next` does).
fn edges(n: &NodeDef) -> Vec<(String, bool)> {
    target_spans(n)
        .into_iter()
        .map(|t| {
            let on_next = n.next.as_ref().is_some_and(|next| std::ptr::eq(t, next));
            (t.get_ref().clone(), on_next)
        })
        .collect()
}

/// Run both checks; `roots` are the start node and the global handlers' targets.
pub(crate) fn check(file: &FlowFile) -> Vec<Problem> {
    let base: BTreeSet<String> = BUILTIN_VARS
        .iter()
        .map(|s| s.to_string())
        .chain(file.vars.keys().cloned())
        .collect();
    let start = file.start.get_ref().clone();
    let globals: Vec<String> = [
        &file.global.agent,
        &file.global.on_failures,
        &file.global.on_complaint,
    ]
    .into_iter()
    .flatten()
    .map(|t| t.get_ref().clone())
    .collect();
    let nodes = &file.nodes;

    // IN sets: None = not reached yet ("everything").
    let mut entry: BTreeMap<&str, Option<BTreeSet<String>>> =
        nodes.keys().map(|k| (k.as_str(), None)).collect();
    let mut queue: VecDeque<&str> = VecDeque::new();
    for root in std::iter::once(&start).chain(&globals) {
        if let Some((id, _)) = nodes.get_key_value(root) {
            entry.insert(id.as_str(), Some(base.clone()));
            queue.push_back(id.as_str());
        }
    }
    while let Some(id) = queue.pop_front() {
        let (Some(n), Some(Some(here))) = (nodes.get(id), entry.get(id).cloned()) else {
            continue;
        };
        let written = writes(n);
        for (to, carries) in edges(n) {
            let Some((to_id, _)) = nodes.get_key_value(&to) else {
                continue;
            };
            let mut out = here.clone();
            if carries {
                out.extend(written.iter().cloned());
            }
            let slot = entry.entry(to_id.as_str()).or_insert(None);
            let new = match slot.as_ref() {
                None => out,
                Some(old) => old.intersection(&out).cloned().collect(),
            };
            if slot.as_ref() != Some(&new) {
                *slot = Some(new);
                queue.push_back(to_id.as_str());
            }
        }
    }

    let secrets: BTreeSet<&str> = nodes
        .values()
        .filter(|n| n.secret)
        .filter_map(|n| n.var.as_ref().map(|v| v.get_ref().as_str()))
        .collect();
    let defined_anywhere: BTreeSet<String> = nodes
        .values()
        .flat_map(writes)
        .chain(base.iter().cloned())
        .collect();

    let mut problems = Vec::new();
    for (id, n) in nodes {
        let Some(Some(here)) = entry.get(id.as_str()) else {
            continue; // unreachable: reported elsewhere
        };
        let mut seen = BTreeSet::new();
        for r in reads(n) {
            if r.spoken && secrets.contains(r.var.as_str()) {
                problems.push((
                    r.span.clone(),
                    id.clone(),
                    format!(
                        "secret variable `{}` in a prompt: it would be spoken, cached and logged",
                        r.var
                    ),
                ));
            }
            // Variables written nowhere are reported as undefined by the validator.
            if here.contains(&r.var)
                || !defined_anywhere.contains(&r.var)
                || !seen.insert(r.var.clone())
            {
                continue;
            }
            let path = unset_path(file, &base, &globals, id, &r.var);
            problems.push((
                r.span,
                id.clone(),
                format!(
                    "variable `{}` may have no value here (path {}); set it before, or give it a default in [vars]",
                    r.var,
                    path.join(" → ")
                ),
            ));
        }
        for (k, v) in &n.set {
            if secrets.contains(k.as_str()) {
                continue;
            }
            if let Ok(ex) = Expr::parse(v.get_ref()) {
                if let Some(s) = ex.vars().into_iter().find(|x| secrets.contains(x)) {
                    problems.push((
                        v.span(),
                        id.clone(),
                        format!(
                            "`{k}` copies secret variable `{s}` into a variable that is not secret"
                        ),
                    ));
                }
            }
        }
    }
    problems
}

/// A shortest path from a root to `target` on which `var` is never written (for the
/// message); the roots alone when none is found.
fn unset_path(
    file: &FlowFile,
    base: &BTreeSet<String>,
    globals: &[String],
    target: &str,
    var: &str,
) -> Vec<String> {
    let start = file.start.get_ref();
    let mut prev: BTreeMap<String, Option<String>> = BTreeMap::new();
    let mut queue = VecDeque::new();
    if base.contains(var) {
        return vec![start.clone()];
    }
    for root in std::iter::once(start).chain(globals) {
        if file.nodes.contains_key(root) && !prev.contains_key(root) {
            prev.insert(root.clone(), None);
            queue.push_back(root.clone());
        }
    }
    while let Some(id) = queue.pop_front() {
        if id == target {
            let mut path = vec![id.clone()];
            let mut cur = id;
            while let Some(Some(p)) = prev.get(&cur) {
                path.push(p.clone());
                cur = p.clone();
            }
            path.reverse();
            return path;
        }
        let Some(n) = file.nodes.get(&id) else {
            continue;
        };
        let written = writes(n).contains(var);
        for (to, carries) in edges(n) {
            if (carries && written) || prev.contains_key(&to) || !file.nodes.contains_key(&to) {
                continue;
            }
            prev.insert(to.clone(), Some(id.clone()));
            queue.push_back(to);
        }
    }
    vec![start.clone()]
}
