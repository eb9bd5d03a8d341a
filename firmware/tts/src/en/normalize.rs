//! IVR readings misaki does not give, as a rewrite of the text before phonemization.
//!
//! misaki already reads cardinals, ordinals ("3rd"), decimals, `$`/`£`/`€` amounts,
//! percentages, years and acronyms; this module only rewrites what an IVR needs read
//! differently, into plain text misaki's rules then read as intended:
//!
//! | written | read as (text handed on) |
//! |---|---|
//! | `¥30`, `RMB 30`, `30 RMB`, `CNY 30`, `30元` | `30 yuan`; `¥12.50` → `12 yuan and 50 fen` |
//! | `USD 30`, `US$30` | `$30` |
//! | `8:30 am`, `8:30pm`, `5 PM` | `8:30 a.m.`, `5 p.m.` (misaki reads a bare "am" as the verb) |
//! | `4:05 pm`, `10:00`, `10:00 am` | `4 oh 5 p.m.`, `10 o'clock`, `10 a.m.` |
//! | `November 22` | `November 22nd` |
//! | `95588`, `0212`, `138 1234 5678`, `400-820-8820` | digit by digit, groups separated by commas |
//! | `#`, `*` (keys) | `pound`, `star` |
//!
//! Digit strings are read one digit at a time when they have five or more digits, start with
//! 0, or come in groups (phone, card and account numbers); with
//! [`super::EnOptions::double_digits`] a pair reads "double 5" and a triple "triple 5".
//! Four-digit numbers ("ends in 4321", "extension 2301") keep misaki's reading ("forty-three
//! twenty-one").

const MONTHS: [&str; 12] = [
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
];

#[derive(Debug, Clone)]
struct Chunk {
    pre: String,
    core: String,
    post: String,
}

fn is_lead(c: char) -> bool {
    "\"“‘'([{".contains(c)
}

fn is_trail(c: char) -> bool {
    ",!?;:\"”’')]}".contains(c) || c == '.'
}

fn split(word: &str) -> Chunk {
    let mut s = word;
    let mut pre = String::new();
    while let Some(c) = s.chars().next() {
        if s.len() > c.len_utf8() && is_lead(c) {
            pre.push(c);
            s = &s[c.len_utf8()..];
        } else {
            break;
        }
    }
    let mut end = s.len();
    while let Some(c) = s[..end].chars().last() {
        if end > c.len_utf8() && is_trail(c) {
            end -= c.len_utf8();
        } else {
            break;
        }
    }
    Chunk {
        pre,
        core: s[..end].to_string(),
        post: s[end..].to_string(),
    }
}

fn all_digits(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())
}

/// `1,234`, `30`, `12.50`: an amount with at most two decimals.
fn amount(s: &str) -> Option<(String, u32)> {
    let (int, frac) = s.split_once('.').unwrap_or((s, ""));
    let plain: String = int.chars().filter(|&c| c != ',').collect();
    if !all_digits(&plain) || (!frac.is_empty() && (!all_digits(frac) || frac.len() > 2)) {
        return None;
    }
    if int.contains(',') && !int.split(',').skip(1).all(|g| g.len() == 3) {
        return None;
    }
    if s.ends_with('.') {
        return None;
    }
    let cents = match frac.len() {
        0 => 0,
        1 => frac.parse::<u32>().ok()? * 10,
        _ => frac.parse::<u32>().ok()?,
    };
    Some((int.to_string(), cents))
}

fn yuan(int: &str, cents: u32) -> String {
    let zero = int.chars().all(|c| c == '0' || c == ',');
    match (zero, cents) {
        (_, 0) => format!("{int} yuan"),
        (true, c) => format!("{c} fen"),
        (false, c) => format!("{int} yuan and {c} fen"),
    }
}

fn is_yuan_word(s: &str) -> bool {
    matches!(s, "RMB" | "rmb" | "Rmb" | "CNY" | "元")
}

/// `am`, `pm`, `a.m.`, `P.M.` → Some('a'|'p').
fn meridiem(s: &str) -> Option<char> {
    let l: String = s.to_lowercase().chars().filter(|&c| c != '.').collect();
    match l.as_str() {
        "am" => Some('a'),
        "pm" => Some('p'),
        _ => None,
    }
}

/// `8:30` → (8, 30).
fn clock(s: &str) -> Option<(u32, u32)> {
    let (h, m) = s.split_once(':')?;
    if h.is_empty() || h.len() > 2 || m.len() != 2 || !all_digits(h) || !all_digits(m) {
        return None;
    }
    let (h, m) = (h.parse().ok()?, m.parse().ok()?);
    (h <= 24 && m < 60).then_some((h, m))
}

fn time_words(h: u32, m: u32, mer: Option<char>) -> String {
    let mut s = match m {
        0 if mer.is_none() => format!("{h} o'clock"),
        0 => h.to_string(),
        1..=9 => format!("{h} oh {m}"),
        _ => format!("{h}:{m:02}"),
    };
    if let Some(c) = mer {
        s.push_str(&format!(" {c}.m."));
    }
    s
}

fn digits_words(digits: &str, double: bool) -> String {
    let cs: Vec<char> = digits.chars().collect();
    let mut out: Vec<String> = Vec::new();
    let mut i = 0;
    while i < cs.len() {
        let mut run = 1;
        while i + run < cs.len() && cs[i + run] == cs[i] {
            run += 1;
        }
        if double && run == 2 {
            out.push(format!("double {}", cs[i]));
        } else if double && run == 3 {
            out.push(format!("triple {}", cs[i]));
        } else {
            out.extend(std::iter::repeat_n(cs[i].to_string(), run));
        }
        i += run;
    }
    out.join(" ")
}

fn ordinal_suffix(n: u32) -> &'static str {
    if (11..=13).contains(&(n % 100)) {
        return "th";
    }
    match n % 10 {
        1 => "st",
        2 => "nd",
        3 => "rd",
        _ => "th",
    }
}

/// Rewrites one sentence for reading. `double` reads "55" as "double 5" in digit strings.
pub(crate) fn normalize(text: &str, double: bool) -> String {
    let chunks: Vec<Chunk> = text.split_whitespace().map(split).collect();
    let n = chunks.len();
    let mut out: Vec<String> = Vec::with_capacity(n);
    let mut i = 0;
    while i < n {
        let c = &chunks[i];
        let core = c.core.as_str();
        let next = chunks.get(i + 1);
        let joined = |core: String, post: &str| format!("{}{}{}", c.pre, core, post);
        // Yuan: ¥30, ￥30, RMB30, 30元
        let yuan_amt = core
            .strip_prefix('¥')
            .or_else(|| core.strip_prefix('￥'))
            .or_else(|| core.strip_prefix("RMB"))
            .or_else(|| core.strip_prefix("CNY"))
            .or_else(|| core.strip_suffix('元'))
            .and_then(amount);
        if let Some((int, cents)) = yuan_amt {
            out.push(joined(yuan(&int, cents), &c.post));
            i += 1;
            continue;
        }
        // RMB 30 / CNY 30
        if is_yuan_word(core) && c.post.is_empty() {
            if let Some((nx, (int, cents))) = next.and_then(|nx| amount(&nx.core).map(|a| (nx, a)))
            {
                if nx.pre.is_empty() {
                    out.push(format!("{}{}{}", c.pre, yuan(&int, cents), nx.post));
                    i += 2;
                    continue;
                }
            }
        }
        // 30 RMB
        if let (Some((int, cents)), Some(nx)) = (amount(core), next) {
            if c.post.is_empty() && nx.pre.is_empty() && is_yuan_word(&nx.core) {
                out.push(format!("{}{}{}", c.pre, yuan(&int, cents), nx.post));
                i += 2;
                continue;
            }
        }
        // USD 30, US$30
        if let Some(rest) = core.strip_prefix("US$") {
            out.push(joined(format!("${rest}"), &c.post));
            i += 1;
            continue;
        }
        if core == "USD" && c.post.is_empty() {
            if let Some(nx) = next.filter(|nx| nx.pre.is_empty() && amount(&nx.core).is_some()) {
                out.push(format!("{}${}{}", c.pre, nx.core, nx.post));
                i += 2;
                continue;
            }
        }
        // Times: 8:30, 8:30am, 5pm, 5 pm.
        let attached = ["am", "pm", "AM", "PM", "a.m.", "p.m.", "A.M.", "P.M."]
            .iter()
            .find_map(|m| core.strip_suffix(m).map(|h| (h, meridiem(m))));
        let (hm, mer_attached) = match attached {
            Some((h, mer)) if !h.is_empty() => (h, mer),
            _ => (core, None),
        };
        let hm_clock = clock(hm).or_else(|| {
            (all_digits(hm) && hm.len() <= 2)
                .then(|| hm.parse::<u32>().ok())
                .flatten()
                .filter(|&h| (1..=12).contains(&h))
                .map(|h| (h, 0))
        });
        if let Some((h, m)) = hm_clock {
            let is_clock = clock(hm).is_some();
            let (mer, consumed, post) = if let Some(mer) = mer_attached {
                (Some(mer), 1, c.post.clone())
            } else if let Some(mer) = next
                .filter(|nx| c.post.is_empty() && nx.pre.is_empty())
                .and_then(|nx| meridiem(&nx.core))
            {
                (
                    Some(mer),
                    2,
                    next.map(|nx| nx.post.clone()).unwrap_or_default(),
                )
            } else {
                (None, 1, c.post.clone())
            };
            if mer.is_some() || is_clock {
                let mut s = format!("{}{}", c.pre, time_words(h, m, mer));
                // "p.m." ending the sentence keeps the sentence's full stop as well.
                let post = if mer.is_some() {
                    let trimmed = post.trim_start_matches('.');
                    if i + consumed == n || post.starts_with('.') {
                        format!(".{trimmed}")
                    } else {
                        trimmed.to_string()
                    }
                } else {
                    post
                };
                s.push_str(&post);
                out.push(s);
                i += consumed;
                continue;
            }
        }
        // Dates: November 22 → November 22nd
        if MONTHS.contains(&core.to_lowercase().as_str()) && c.post.is_empty() {
            if let Some(nx) =
                next.filter(|nx| nx.pre.is_empty() && all_digits(&nx.core) && nx.core.len() <= 2)
            {
                let d: u32 = nx.core.parse().unwrap_or(0);
                let year_follows = nx.post == ","
                    && chunks
                        .get(i + 2)
                        .is_some_and(|y| all_digits(&y.core) && y.core.len() == 4);
                if (1..=31).contains(&d)
                    && (nx.post.is_empty()
                        || nx.post.starts_with(['.', ',', '!', '?', ';'])
                        || year_follows)
                {
                    out.push(format!(
                        "{}{}{} {}{}{}",
                        c.pre,
                        c.core,
                        c.post,
                        d,
                        ordinal_suffix(d),
                        nx.post
                    ));
                    i += 2;
                    continue;
                }
            }
        }
        // Digit groups: 138 1234 5678 / 6222 0212 3456 7890 / 400-820-8820
        let group_of = |ch: &Chunk| -> Option<Vec<String>> {
            let parts: Vec<&str> = ch.core.split('-').collect();
            if parts.iter().all(|p| all_digits(p)) {
                Some(parts.into_iter().map(String::from).collect())
            } else {
                None
            }
        };
        if c.pre.is_empty() || c.pre == "(" {
            let mut groups: Vec<String> = Vec::new();
            let mut j = i;
            let mut post = String::new();
            while j < n {
                let ch = &chunks[j];
                if j > i && !ch.pre.is_empty() {
                    break;
                }
                let Some(g) = group_of(ch) else { break };
                groups.extend(g);
                j += 1;
                if !ch.post.is_empty() {
                    post = ch.post.clone();
                    break;
                }
            }
            let total: usize = groups.iter().map(String::len).sum();
            let phone_like = groups.len() >= 2 && total >= 6 && groups.iter().all(|g| g.len() >= 3);
            if phone_like {
                let words: Vec<String> = groups.iter().map(|g| digits_words(g, double)).collect();
                out.push(format!("{}{}{}", c.pre, words.join(", "), post));
                i = j;
                continue;
            }
        }
        // Long or zero-led digit strings.
        let money_before = c.pre.ends_with(['$', '£', '€']);
        let unit_after = next.is_some_and(|nx| {
            matches!(
                nx.core.to_lowercase().as_str(),
                "yuan" | "dollars" | "dollar" | "points" | "percent" | "rmb"
            )
        });
        if all_digits(core)
            && !money_before
            && !unit_after
            && (core.len() >= 5 || (core.len() >= 2 && core.starts_with('0')))
        {
            out.push(joined(digits_words(core, double), &c.post));
            i += 1;
            continue;
        }
        // Keys.
        match core {
            "#" => {
                out.push(joined("pound".into(), &c.post));
                i += 1;
                continue;
            }
            "*" => {
                out.push(joined("star".into(), &c.post));
                i += 1;
                continue;
            }
            _ => {}
        }
        out.push(format!("{}{}{}", c.pre, c.core, c.post));
        i += 1;
    }
    out.join(" ")
}

#[cfg(test)]
mod tests {
    use super::normalize;

    #[test]
    fn ivr_readings() {
        assert_eq!(
            normalize("Your balance is ¥30.", false),
            "Your balance is 30 yuan."
        );
        assert_eq!(
            normalize("It is RMB 200 now.", false),
            "It is 200 yuan now."
        );
        assert_eq!(normalize("¥12.50", false), "12 yuan and 50 fen");
        assert_eq!(normalize("¥0.5", false), "50 fen");
        assert_eq!(
            normalize("Our hours are 8:30 am to 5 pm.", false),
            "Our hours are 8:30 a.m. to 5 p.m.."
        );
        assert_eq!(
            normalize("at 4:05pm, please", false),
            "at 4 oh 5 p.m., please"
        );
        assert_eq!(normalize("at 10:00.", false), "at 10 o'clock.");
        assert_eq!(normalize("on November 22.", false), "on November 22nd.");
        assert_eq!(normalize("Call 95588.", false), "Call 9 5 5 8 8.");
        assert_eq!(normalize("Call 95588.", true), "Call 9 double 5 double 8.");
        assert_eq!(
            normalize("Call 400-820-8820.", false),
            "Call 4 0 0, 8 2 0, 8 8 2 0."
        );
        assert_eq!(
            normalize("is 138 1234 5678.", false),
            "is 1 3 8, 1 2 3 4, 5 6 7 8."
        );
        assert_eq!(normalize("Press # now", false), "Press pound now");
        assert_eq!(normalize("between 7 and 10", false), "between 7 and 10");
        assert_eq!(normalize("ends in 4321.", false), "ends in 4321.");
        assert_eq!(normalize("$10000 limit", false), "$10000 limit");
    }
}
