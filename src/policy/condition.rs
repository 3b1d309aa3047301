//! IAM's `Condition` element for one request, as the IAM User Guide documents it: every operator
//! (String, Numeric, Date, Bool, Binary, IP address, ARN, `Null`), the `…IfExists` suffix, the
//! `ForAllValues`/`ForAnyValue` set qualifiers, negated operators on absent keys, and policy variables
//! (`${aws:username}`, `${*}`, defaults) in the values of string and ARN operators and in `Resource`.
//!
//! A key's value in the request is known, known to be absent, or unknown (`policy --check` cannot know
//! everything a request at run time will carry): a condition that needs an unknown value is
//! [`Holds::Unknown`], never a guess.

use std::collections::BTreeMap;
use std::net::IpAddr;

use serde_json::Value;

use super::advice;

/// What a request's context says of each condition key.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Context {
    /// Keys in lower case (IAM's key names are case-insensitive); an empty list is an absent key.
    values: BTreeMap<String, Vec<String>>,
    /// Keys not listed are unknown (`--check`) rather than absent (`simulate`, as AWS's simulator).
    unlisted_unknown: bool,
}

/// A key's value in the request context.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lookup<'a> {
    Known(&'a [String]),
    Absent,
    Unknown,
}

impl Context {
    /// A context where every key not given is absent from the request (AWS's simulator).
    pub fn absent_unless_given() -> Context {
        Context::default()
    }

    /// A context where every key not given may or may not be there (a static check).
    pub fn unknown_unless_given() -> Context {
        Context {
            values: BTreeMap::new(),
            unlisted_unknown: true,
        }
    }

    /// Sets `key` to `values` (none: known to be absent).
    pub fn set(&mut self, key: &str, values: Vec<String>) {
        self.values.insert(key.to_ascii_lowercase(), values);
    }

    pub fn get(&self, key: &str) -> Lookup<'_> {
        match self.values.get(&key.to_ascii_lowercase()) {
            Some(values) if values.is_empty() => Lookup::Absent,
            Some(values) => Lookup::Known(values),
            None if self.unlisted_unknown => Lookup::Unknown,
            None => Lookup::Absent,
        }
    }
}

/// Whether a condition (or a part of a statement) holds for the request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Holds {
    Yes,
    No,
    /// Depends on these keys' values, which the context does not know.
    Unknown(Vec<String>),
}

impl Holds {
    /// Both hold (IAM ANDs operators, keys, and a statement's parts).
    #[must_use]
    pub fn and(self, other: Holds) -> Holds {
        match (self, other) {
            (Holds::No, _) | (_, Holds::No) => Holds::No,
            (Holds::Yes, h) | (h, Holds::Yes) => h,
            (Holds::Unknown(mut a), Holds::Unknown(b)) => {
                for key in b {
                    if !a.contains(&key) {
                        a.push(key);
                    }
                }
                Holds::Unknown(a)
            }
        }
    }

    /// Either holds.
    #[must_use]
    pub fn or(self, other: Holds) -> Holds {
        match (self, other) {
            (Holds::Yes, _) | (_, Holds::Yes) => Holds::Yes,
            (Holds::No, h) | (h, Holds::No) => h,
            (Holds::Unknown(a), Holds::Unknown(b)) => Holds::Unknown(a).and(Holds::Unknown(b)),
        }
    }

    pub fn from_bool(b: bool) -> Holds {
        if b { Holds::Yes } else { Holds::No }
    }
}

/// A condition operator as written: `[ForAllValues:|ForAnyValue:]Base[IfExists]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Operator {
    set: Option<Set>,
    base: Base,
    if_exists: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Set {
    AllValues,
    AnyValue,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Base {
    String(StringOp),
    Numeric(Ordering, bool),
    Date(Ordering, bool),
    Bool,
    Binary,
    Ip { negated: bool },
    Arn { negated: bool },
    Null,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum StringOp {
    Equals { negated: bool, ignore_case: bool },
    Like { negated: bool },
}

/// A comparison of a request value with a policy value; `bool` beside it in [`Base`] is "negated".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Ordering {
    Equals,
    LessThan,
    LessThanEquals,
    GreaterThan,
    GreaterThanEquals,
}

impl Base {
    /// IAM documents every `Not` operator as true when the key is absent from the request.
    fn negated(self) -> bool {
        match self {
            Base::String(StringOp::Equals { negated, .. } | StringOp::Like { negated })
            | Base::Numeric(_, negated)
            | Base::Date(_, negated)
            | Base::Ip { negated }
            | Base::Arn { negated } => negated,
            Base::Bool | Base::Binary | Base::Null => false,
        }
    }

    /// Policy variables are replaced in string and ARN operators' values only.
    fn takes_variables(self) -> bool {
        matches!(self, Base::String(_) | Base::Arn { .. })
    }
}

impl Base {
    /// The operator `name` (without a set qualifier or `IfExists`), as the IAM User Guide writes it.
    fn named(name: &str) -> Option<Base> {
        let ordering = |name: &str| match name {
            "Equals" => Some((Ordering::Equals, false)),
            "NotEquals" => Some((Ordering::Equals, true)),
            "LessThan" => Some((Ordering::LessThan, false)),
            "LessThanEquals" => Some((Ordering::LessThanEquals, false)),
            "GreaterThan" => Some((Ordering::GreaterThan, false)),
            "GreaterThanEquals" => Some((Ordering::GreaterThanEquals, false)),
            _ => None,
        };
        let base = match name {
            "StringEquals" => Base::String(StringOp::Equals {
                negated: false,
                ignore_case: false,
            }),
            "StringNotEquals" => Base::String(StringOp::Equals {
                negated: true,
                ignore_case: false,
            }),
            "StringEqualsIgnoreCase" => Base::String(StringOp::Equals {
                negated: false,
                ignore_case: true,
            }),
            "StringNotEqualsIgnoreCase" => Base::String(StringOp::Equals {
                negated: true,
                ignore_case: true,
            }),
            "StringLike" => Base::String(StringOp::Like { negated: false }),
            "StringNotLike" => Base::String(StringOp::Like { negated: true }),
            "Bool" => Base::Bool,
            "BinaryEquals" => Base::Binary,
            "IpAddress" => Base::Ip { negated: false },
            "NotIpAddress" => Base::Ip { negated: true },
            "ArnEquals" | "ArnLike" => Base::Arn { negated: false },
            "ArnNotEquals" | "ArnNotLike" => Base::Arn { negated: true },
            "Null" => Base::Null,
            other => {
                if let Some((o, negated)) = other.strip_prefix("Numeric").and_then(ordering) {
                    Base::Numeric(o, negated)
                } else if let Some((o, negated)) = other.strip_prefix("Date").and_then(ordering) {
                    Base::Date(o, negated)
                } else {
                    return None;
                }
            }
        };
        Some(base)
    }
}

impl std::str::FromStr for Operator {
    /// Not an operator: what the validation says is `advice.rs`'s.
    type Err = ();

    /// The operators of the IAM User Guide's "IAM JSON policy elements: Condition operators"; the
    /// names are matched as written there.
    fn from_str(text: &str) -> Result<Operator, ()> {
        let (set, rest) = match text.split_once(':') {
            Some(("ForAllValues", rest)) => (Some(Set::AllValues), rest),
            Some(("ForAnyValue", rest)) => (Some(Set::AnyValue), rest),
            Some(_) => return Err(()),
            None => (None, text),
        };
        let (rest, if_exists) = match rest.strip_suffix("IfExists") {
            Some(base) => (base, true),
            None => (rest, false),
        };
        let base = match Base::named(rest) {
            Some(Base::Null) if set.is_some() || if_exists => return Err(()),
            Some(base) => base,
            None => return Err(()),
        };
        Ok(Operator {
            set,
            base,
            if_exists,
        })
    }
}

/// Every condition key a `Condition` element names (as written), with its operator.
pub fn keys(condition: &Value) -> impl Iterator<Item = &str> {
    let blocks = condition.as_object().into_iter().flat_map(|o| o.values());
    blocks.flat_map(|block| {
        block
            .as_object()
            .into_iter()
            .flat_map(|o| o.keys().map(String::as_str))
    })
}

/// Checks that `condition`, of the statement `at` (from 1), is a well-formed `Condition` element:
/// known operators, each with an object of keys to a value or a list of values.
pub fn validate(condition: &Value, at: usize) -> anyhow::Result<()> {
    let Some(blocks) = condition.as_object() else {
        return match condition {
            Value::Null => Ok(()),
            _ => Err(advice::condition_not_object(at)),
        };
    };
    for (operator, keys) in blocks {
        if operator.parse::<Operator>().is_err() {
            return Err(advice::unknown_condition_operator(at, operator));
        }
        let Some(keys) = keys.as_object() else {
            return Err(advice::condition_keys_not_object(at, operator));
        };
        for (key, values) in keys {
            let scalars = match values {
                Value::Array(items) => items.iter().all(is_scalar),
                one => is_scalar(one),
            };
            if !scalars {
                return Err(advice::condition_value(at, operator, key));
            }
        }
    }
    Ok(())
}

fn is_scalar(value: &Value) -> bool {
    matches!(value, Value::String(_) | Value::Number(_) | Value::Bool(_))
}

/// Every operator block must hold (AND), each key in it must hold (AND), any of a key's values may
/// match (OR) — IAM User Guide, "Condition element: evaluation logic for conditions with multiple
/// context keys or values". `variables` says whether the document's version replaces `${…}`.
pub fn holds(condition: &Value, context: &Context, variables: bool) -> Holds {
    let Some(blocks) = condition.as_object() else {
        return Holds::Yes;
    };
    let mut all = Holds::Yes;
    for (operator, keys) in blocks {
        let (Ok(operator), Some(keys)) = (operator.parse::<Operator>(), keys.as_object()) else {
            return Holds::No;
        };
        for (key, wanted) in keys {
            all = all.and(key_holds(operator, key, &texts(wanted), context, variables));
            if all == Holds::No {
                return Holds::No;
            }
        }
    }
    all
}

/// The text values of a single value or a list.
pub fn texts(value: &Value) -> Vec<String> {
    let one = |v: &Value| match v {
        Value::String(s) => Some(s.clone()),
        Value::Bool(b) => Some(b.to_string()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    };
    match value {
        Value::Array(items) => items.iter().filter_map(one).collect(),
        other => one(other).into_iter().collect(),
    }
}

/// One key of one operator block.
fn key_holds(
    operator: Operator,
    key: &str,
    wanted: &[String],
    context: &Context,
    variables: bool,
) -> Holds {
    let values = match context.get(key) {
        Lookup::Unknown => return Holds::Unknown(vec![key.to_owned()]),
        Lookup::Absent => None,
        Lookup::Known(values) => Some(values),
    };
    if operator.base == Base::Null {
        // `Null: true` holds when the key is absent, `false` when it is there.
        return Holds::from_bool(
            wanted
                .iter()
                .any(|w| w.eq_ignore_ascii_case("true") == values.is_none()),
        );
    }
    let Some(values) = values else {
        // An absent key: "…IfExists" holds; ForAllValues holds (every one of no values matches) and
        // ForAnyValue fails (none does), negated or not ("Single-valued vs. multivalued context
        // keys"); else a negated operator holds and any other fails ("Condition operators").
        return Holds::from_bool(match operator.set {
            _ if operator.if_exists => true,
            Some(Set::AllValues) => true,
            Some(Set::AnyValue) => false,
            None => operator.base.negated(),
        });
    };
    // The policy's values, with their variables replaced.
    let mut patterns = Vec::new();
    let mut unknown = Vec::new();
    for w in wanted {
        match pattern(w, context, variables && operator.base.takes_variables()) {
            Resolved::Pattern(p) => patterns.push(p),
            Resolved::Absent => {}
            Resolved::Unknown(key) => unknown.push(key),
        }
    }
    let one = |value: &str| -> bool {
        let matched = patterns.iter().any(|p| matches(operator.base, p, value));
        matched != operator.base.negated()
    };
    let verdict = match operator.set {
        Some(Set::AllValues) => values.iter().all(|v| one(v)),
        // A single-valued operator on several values: true when any value matches, as ForAnyValue.
        Some(Set::AnyValue) | None => values.iter().any(|v| one(v)),
    };
    if unknown.is_empty() {
        Holds::from_bool(verdict)
    } else {
        // A value not known yet could change the outcome either way.
        Holds::Unknown(unknown)
    }
}

/// A piece of a policy value once its variables are replaced.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Piece {
    Char(char),
    /// `*` as written: any run of characters.
    Any,
    /// `?` as written: any one character.
    One,
}

/// A policy value with its variables replaced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Resolved {
    Pattern(Vec<Piece>),
    /// It names a key the request does not carry and gives no default: it matches nothing.
    Absent,
    Unknown(String),
}

/// `text` as a pattern: `*` and `?` wildcards, and with `variables` each `${key}` replaced by the
/// key's value (`${key, 'default'}` by the default when the key is absent; `${*}`, `${?}`, `${$}` by
/// the literal character) — IAM User Guide, "IAM policy elements: Variables and tags".
pub fn pattern(text: &str, context: &Context, variables: bool) -> Resolved {
    let mut pieces = Vec::new();
    let mut rest = text;
    while let Some(c) = rest.chars().next() {
        if variables
            && rest.starts_with("${")
            && let Some(end) = rest.find('}')
        {
            match variable(&rest[2..end], context) {
                Resolved::Pattern(p) => pieces.extend(p),
                other => return other,
            }
            rest = &rest[end + 1..];
            continue;
        }
        pieces.push(match c {
            '*' => Piece::Any,
            '?' => Piece::One,
            c => Piece::Char(c),
        });
        rest = &rest[c.len_utf8()..];
    }
    Resolved::Pattern(pieces)
}

/// The keys a text's `${…}` variables name.
pub fn variable_keys(text: &str) -> Vec<String> {
    let mut keys = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find("${") {
        let Some(end) = rest[start..].find('}') else {
            break;
        };
        let inner = &rest[start + 2..start + end];
        let key = inner.split(',').next().unwrap_or(inner).trim();
        if !matches!(key, "*" | "?" | "$") {
            keys.push(key.to_owned());
        }
        rest = &rest[start + end + 1..];
    }
    keys
}

/// The value of one `${…}`, as literal characters.
fn variable(inner: &str, context: &Context) -> Resolved {
    let literal = |s: &str| Resolved::Pattern(s.chars().map(Piece::Char).collect());
    if matches!(inner, "*" | "?" | "$") {
        return literal(inner);
    }
    let (key, default) = match inner.split_once(',') {
        Some((key, default)) => {
            let default = default.trim();
            let quoted = default
                .strip_prefix('\'')
                .and_then(|d| d.strip_suffix('\''));
            (key.trim(), quoted)
        }
        None => (inner.trim(), None),
    };
    match (context.get(key), default) {
        // A multivalued key cannot be a variable: IAM User Guide, "Single-valued vs. multivalued
        // context keys".
        (Lookup::Known([one]), _) => literal(one),
        (Lookup::Known(_) | Lookup::Absent, Some(default)) => literal(default),
        (Lookup::Known(_) | Lookup::Absent, None) => Resolved::Absent,
        (Lookup::Unknown, _) => Resolved::Unknown(key.to_owned()),
    }
}

/// One request value against one policy value, by the operator's kind.
fn matches(base: Base, pattern: &[Piece], value: &str) -> bool {
    let text = || -> String {
        pattern
            .iter()
            .map(|p| match p {
                Piece::Char(c) => *c,
                Piece::Any => '*',
                Piece::One => '?',
            })
            .collect()
    };
    match base {
        Base::String(StringOp::Equals { ignore_case, .. }) => {
            let wanted = text();
            if ignore_case {
                wanted.to_lowercase() == value.to_lowercase()
            } else {
                wanted == value
            }
        }
        Base::String(StringOp::Like { .. }) => wild(pattern, &value.chars().collect::<Vec<_>>()),
        Base::Arn { .. } => arn_matches(pattern, value),
        Base::Bool => text().eq_ignore_ascii_case(value),
        Base::Binary => text() == value,
        Base::Numeric(ordering, _) => {
            match (text().trim().parse::<f64>(), value.trim().parse::<f64>()) {
                (Ok(wanted), Ok(value)) => compare(ordering, value.partial_cmp(&wanted)),
                _ => false,
            }
        }
        Base::Date(ordering, _) => match (date(&text()), date(value)) {
            (Some(wanted), Some(value)) => compare(ordering, value.partial_cmp(&wanted)),
            _ => false,
        },
        Base::Ip { .. } => in_cidr(&text(), value),
        Base::Null => false,
    }
}

fn compare(ordering: Ordering, found: Option<std::cmp::Ordering>) -> bool {
    use std::cmp::Ordering::{Equal, Greater, Less};
    let Some(found) = found else { return false };
    match ordering {
        Ordering::Equals => found == Equal,
        Ordering::LessThan => found == Less,
        Ordering::LessThanEquals => found != Greater,
        Ordering::GreaterThan => found == Greater,
        Ordering::GreaterThanEquals => found != Less,
    }
}

/// IAM's wildcards: `*` any run of characters, `?` any one.
pub fn wildcard(pattern: &str, text: &str) -> bool {
    let Resolved::Pattern(pieces) = self::pattern(pattern, &Context::default(), false) else {
        return false;
    };
    wild(&pieces, &text.chars().collect::<Vec<_>>())
}

/// `pattern` against `text`, with backtracking to the last `*`.
pub fn wild(pattern: &[Piece], text: &[char]) -> bool {
    let (mut pi, mut ti, mut star, mut mark) = (0, 0, None, 0);
    while ti < text.len() {
        match pattern.get(pi) {
            Some(Piece::One) => {
                pi += 1;
                ti += 1;
            }
            Some(Piece::Char(c)) if *c == text[ti] => {
                pi += 1;
                ti += 1;
            }
            Some(Piece::Any) => {
                star = Some(pi);
                mark = ti;
                pi += 1;
            }
            _ => match star {
                Some(s) => {
                    pi = s + 1;
                    mark += 1;
                    ti = mark;
                }
                None => return false,
            },
        }
    }
    pattern[pi..].iter().all(|p| *p == Piece::Any)
}

/// ARN operators compare the six colon-separated parts of an ARN one by one, each with wildcards —
/// IAM User Guide, "Condition operators", "Amazon Resource Name (ARN) condition operators"; a value
/// with fewer parts is no ARN and matches nothing.
fn arn_matches(pattern: &[Piece], value: &str) -> bool {
    let wanted = split_pieces(pattern);
    let parts: Vec<&str> = value.splitn(6, ':').collect();
    if wanted.len() != 6 || parts.len() != 6 {
        return false;
    }
    wanted
        .iter()
        .zip(&parts)
        .all(|(w, p)| wild(w, &p.chars().collect::<Vec<_>>()))
}

/// A pattern split at its first five colons.
fn split_pieces(pattern: &[Piece]) -> Vec<&[Piece]> {
    let mut parts = Vec::new();
    let mut start = 0;
    for (i, piece) in pattern.iter().enumerate() {
        if parts.len() < 5 && *piece == Piece::Char(':') {
            parts.push(&pattern[start..i]);
            start = i + 1;
        }
    }
    parts.push(&pattern[start..]);
    parts
}

/// Whether `ip` is in the block `cidr` (an address alone is its own block); IPv4 and IPv6 as the
/// "IP address condition operators" take them.
fn in_cidr(cidr: &str, ip: &str) -> bool {
    let (network, bits) = match cidr.trim().split_once('/') {
        Some((network, bits)) => (network, bits.parse::<u32>().ok()),
        None => (cidr.trim(), None),
    };
    let (Ok(network), Ok(ip)) = (network.parse::<IpAddr>(), ip.trim().parse::<IpAddr>()) else {
        return false;
    };
    let (network, ip, width) = match (network, ip) {
        (IpAddr::V4(n), IpAddr::V4(i)) => (u128::from(n.to_bits()), u128::from(i.to_bits()), 32),
        (IpAddr::V6(n), IpAddr::V6(i)) => (n.to_bits(), i.to_bits(), 128),
        _ => return false,
    };
    let bits = bits.unwrap_or(width);
    if bits > width {
        return false;
    }
    let shift = width - bits;
    bits == 0 || (network >> shift) == (ip >> shift)
}

/// A date as the "Date condition operators" take it: ISO 8601 (`2024-01-31`, `2024-01-31T12:00:00Z`,
/// with fractions or an offset) or seconds since the epoch; in seconds since the epoch.
#[allow(clippy::cast_precision_loss)] // seconds within ±285 million years are exact in an f64
pub fn date(text: &str) -> Option<f64> {
    let text = text.trim();
    if let Ok(seconds) = text.parse::<f64>() {
        return Some(seconds);
    }
    let number = |s: &str| -> Option<i64> {
        (!s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())).then(|| s.parse().ok())?
    };
    let (day, time) = match text.split_once(['T', 't']) {
        Some((day, time)) => (day, Some(time)),
        None => (text, None),
    };
    let mut ymd = day.split('-');
    let (year, month, day) = (
        number(ymd.next()?)?,
        number(ymd.next()?)?,
        number(ymd.next()?)?,
    );
    if ymd.next().is_some() || !(1..=12).contains(&month) || !(1..=31).contains(&day) {
        return None;
    }
    let mut seconds = days_from_civil(year, month, day) as f64 * 86_400.0;
    if let Some(time) = time {
        let (clock, offset) = if let Some(clock) = time.strip_suffix(['Z', 'z']) {
            (clock, 0)
        } else if let Some(at) = time.rfind(['+', '-']) {
            let (clock, zone) = time.split_at(at);
            let sign = if zone.starts_with('-') { -1 } else { 1 };
            let zone = zone[1..].replace(':', "");
            if zone.len() != 4 {
                return None;
            }
            let (hours, minutes) = (number(&zone[..2])?, number(&zone[2..])?);
            (clock, sign * (hours * 3600 + minutes * 60))
        } else {
            (time, 0)
        };
        let mut parts = clock.split(':');
        let hours = number(parts.next()?)?;
        let minutes = number(parts.next()?)?;
        let second: f64 = match parts.next() {
            Some(text) => text.parse().ok()?,
            None => 0.0,
        };
        if parts.next().is_some() || hours > 24 || minutes > 59 || !(0.0..61.0).contains(&second) {
            return None;
        }
        seconds += (hours * 3600 + minutes * 60 - offset) as f64 + second;
    }
    Some(seconds)
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's `days_from_civil`).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    /// The context of AWS's simulator: `given` and nothing else (a key not given is absent).
    fn context(given: &[(&str, &[&str])]) -> Context {
        let mut context = Context::absent_unless_given();
        for (key, values) in given {
            context.set(key, values.iter().map(|v| (*v).to_owned()).collect());
        }
        context
    }

    /// Whether `condition` holds in `given`, for a 2012-10-17 document.
    fn holds_in(condition: &Value, given: &[(&str, &[&str])]) -> Holds {
        holds(condition, &context(given), true)
    }

    const ABSENT: &[(&str, &[&str])] = &[];

    /// IAM User Guide, "IAM JSON policy elements: Condition operators", the box at the top: a key
    /// absent from the request fails a condition, except a negated one, which holds.
    #[test]
    fn absent_keys_fail_plain_operators_and_satisfy_negated_ones() {
        for (operator, value) in [
            ("StringNotEquals", "a"),
            ("StringNotEqualsIgnoreCase", "a"),
            ("StringNotLike", "a*"),
            ("NumericNotEquals", "1"),
            ("DateNotEquals", "2020-01-01T00:00:00Z"),
            ("NotIpAddress", "192.0.2.0/24"),
            ("ArnNotEquals", "arn:aws:iam::1:role/a"),
            ("ArnNotLike", "arn:aws:iam::*:role/*"),
        ] {
            let condition = json!({ operator: { "k:key": value } });
            assert_eq!(holds_in(&condition, ABSENT), Holds::Yes, "{operator}");
        }
        for (operator, value) in [
            ("StringEquals", "a"),
            ("StringLike", "*"),
            ("NumericLessThan", "1"),
            ("DateLessThan", "2020-01-01"),
            ("Bool", "false"),
            ("BinaryEquals", "QQ=="),
            ("IpAddress", "0.0.0.0/0"),
            ("ArnLike", "*:*:*:*:*:*"),
        ] {
            let condition = json!({ operator: { "k:key": value } });
            assert_eq!(holds_in(&condition, ABSENT), Holds::No, "{operator}");
        }
    }

    /// "…`IfExists` condition operators": true when the key is absent, the operator otherwise; a
    /// negated one with `IfExists` is true on an absent key too.
    #[test]
    fn if_exists_holds_on_absent_keys_and_judges_present_ones() {
        let condition =
            json!({"StringLikeIfExists": {"ec2:InstanceType": ["t1.*", "t2.*", "m3.*"]}});
        assert_eq!(holds_in(&condition, ABSENT), Holds::Yes);
        assert_eq!(
            holds_in(&condition, &[("ec2:InstanceType", &["t1.micro"])]),
            Holds::Yes
        );
        assert_eq!(
            holds_in(&condition, &[("ec2:InstanceType", &["m2.micro"])]),
            Holds::No
        );
        let negated = json!({"StringNotEqualsIfExists": {"aws:RequestTag/team": "api"}});
        assert_eq!(holds_in(&negated, ABSENT), Holds::Yes);
        assert!("NullIfExists".parse::<Operator>().is_err());
    }

    /// "Condition operator to check existence of condition keys": `true` — absent, `false` — present.
    #[test]
    fn null_tells_whether_a_key_is_there() {
        let absent = json!({"Null": {"aws:TokenIssueTime": "true"}});
        let present = json!({"Null": {"aws:TokenIssueTime": "false"}});
        let issued: &[(&str, &[&str])] = &[("aws:TokenIssueTime", &["2024-01-01T00:00:00Z"])];
        assert_eq!(holds_in(&absent, ABSENT), Holds::Yes);
        assert_eq!(holds_in(&absent, issued), Holds::No);
        assert_eq!(holds_in(&present, ABSENT), Holds::No);
        assert_eq!(holds_in(&present, issued), Holds::Yes);
    }

    /// "Amazon Resource Name (ARN) condition operators": the six parts compared one by one, each with
    /// wildcards, case-sensitively; `ArnEquals` takes wildcards as `ArnLike` does. `StringLike`'s `*`
    /// spans colons, an ARN operator's does not.
    #[test]
    fn arn_operators_compare_part_by_part() {
        let source: &[(&str, &[&str])] = &[(
            "aws:SourceArn",
            &["arn:aws:sns:us-east-1:123456789012:topic-1"],
        )];
        for operator in ["ArnLike", "ArnEquals"] {
            let like = json!({ operator: {"aws:SourceArn": "arn:aws:sns:*:123456789012:topic-?"} });
            assert_eq!(holds_in(&like, source), Holds::Yes, "{operator}");
            let other = json!({ operator: {"aws:SourceArn": "arn:aws:sns:*:210987654321:*"} });
            assert_eq!(holds_in(&other, source), Holds::No, "{operator}");
        }
        let across = json!({"ArnLike": {"aws:SourceArn": "arn:aws:sns:*"}});
        assert_eq!(holds_in(&across, source), Holds::No);
        let string = json!({"StringLike": {"aws:SourceArn": "arn:aws:sns:*"}});
        assert_eq!(holds_in(&string, source), Holds::Yes);
        let case =
            json!({"ArnEquals": {"aws:SourceArn": "arn:aws:SNS:us-east-1:123456789012:topic-1"}});
        assert_eq!(holds_in(&case, source), Holds::No);
    }

    /// "Numeric", "Date", "Boolean", "Binary" and "IP address condition operators".
    #[test]
    fn typed_operators_compare_as_their_type() {
        let keys: &[(&str, &[&str])] = &[("s3:max-keys", &["10"])];
        assert_eq!(
            holds_in(
                &json!({"NumericLessThanEquals": {"s3:max-keys": "10"}}),
                keys
            ),
            Holds::Yes
        );
        assert_eq!(
            holds_in(&json!({"NumericLessThan": {"s3:max-keys": "10"}}), keys),
            Holds::No
        );
        assert_eq!(
            holds_in(&json!({"NumericEquals": {"s3:max-keys": "10.0"}}), keys),
            Holds::Yes
        );
        let now: &[(&str, &[&str])] = &[("aws:CurrentTime", &["2020-05-01T12:00:00Z"])];
        let window = json!({"DateGreaterThan": {"aws:CurrentTime": "2020-04-01T00:00:00Z"},
            "DateLessThan": {"aws:CurrentTime": "2020-06-30T23:59:59Z"}});
        assert_eq!(holds_in(&window, now), Holds::Yes);
        // Epoch seconds and ISO 8601 are the same clock.
        let epoch = json!({"DateGreaterThan": {"aws:CurrentTime": "1588334399"}});
        assert_eq!(holds_in(&epoch, now), Holds::Yes);
        let secure = json!({"Bool": {"aws:SecureTransport": "false"}});
        assert_eq!(
            holds_in(&secure, &[("aws:SecureTransport", &["false"])]),
            Holds::Yes
        );
        assert_eq!(
            holds_in(&secure, &[("aws:SecureTransport", &["true"])]),
            Holds::No
        );
        let binary = json!({"BinaryEquals": {"k:key": "QmluYXJ5VmFsdWVJbkJhc2U2NA=="}});
        assert_eq!(
            holds_in(&binary, &[("k:key", &["QmluYXJ5VmFsdWVJbkJhc2U2NA=="])]),
            Holds::Yes
        );
        let ip =
            json!({"IpAddress": {"aws:SourceIp": ["203.0.113.0/24", "2001:DB8:1234:5678::/64"]}});
        for (address, inside) in [
            ("203.0.113.1", true),
            ("198.51.100.1", false),
            ("2001:db8:1234:5678::1", true),
            ("2001:db8:1234:5679::1", false),
        ] {
            let given: &[(&str, &[&str])] = &[("aws:SourceIp", &[address])];
            assert_eq!(holds_in(&ip, given), Holds::from_bool(inside), "{address}");
        }
        // An address without a prefix is a /32.
        let one = json!({"IpAddress": {"aws:SourceIp": "203.0.113.7"}});
        assert_eq!(
            holds_in(&one, &[("aws:SourceIp", &["203.0.113.8"])]),
            Holds::No
        );
    }

    /// "Single-valued vs. multivalued context keys", "Set operators for multivalued context keys":
    /// `ForAllValues` — every request value matches one of the policy's (true when the key is absent);
    /// `ForAnyValue` — at least one does (false when absent); with a negated operator, none / not all.
    #[test]
    fn set_operators_follow_the_tables() {
        let all =
            json!({"ForAllValues:StringEquals": {"aws:TagKeys": ["environment", "cost-center"]}});
        let any =
            json!({"ForAnyValue:StringEquals": {"aws:TagKeys": ["environment", "cost-center"]}});
        let none = json!({"ForAllValues:StringNotEquals": {"aws:TagKeys": ["environment"]}});
        let not_all = json!({"ForAnyValue:StringNotEquals": {"aws:TagKeys": ["environment"]}});
        for (tags, all_holds, any_holds, none_holds, not_all_holds) in [
            (&["environment"][..], true, true, false, false),
            (&["environment", "cost-center"][..], true, true, false, true),
            (&["environment", "dept"][..], false, true, false, true),
            (&["dept"][..], false, false, true, true),
            (&[][..], true, false, true, false),
        ] {
            let given: &[(&str, &[&str])] = &[("aws:TagKeys", tags)];
            assert_eq!(
                holds_in(&all, given),
                Holds::from_bool(all_holds),
                "{tags:?}"
            );
            assert_eq!(
                holds_in(&any, given),
                Holds::from_bool(any_holds),
                "{tags:?}"
            );
            assert_eq!(
                holds_in(&none, given),
                Holds::from_bool(none_holds),
                "{tags:?}"
            );
            assert_eq!(
                holds_in(&not_all, given),
                Holds::from_bool(not_all_holds),
                "{tags:?}"
            );
        }
    }

    /// "IAM policy elements: Variables and tags": `${key}` replaced by the request's value (key names
    /// in any case), `${key, 'default'}` when absent, `${*}` a literal `*`; a variable whose key is
    /// absent matches nothing, so a negated operator holds; before 2012-10-17 `${…}` is text.
    #[test]
    fn policy_variables_are_replaced_where_iam_replaces_them() {
        let home = json!({"StringLike": {"s3:prefix": ["home/", "home/${aws:username}/*"]}});
        let martha: &[(&str, &[&str])] = &[
            ("aws:username", &["martha"]),
            ("s3:prefix", &["home/martha/docs"]),
        ];
        assert_eq!(holds_in(&home, martha), Holds::Yes);
        assert_eq!(
            holds_in(&home, &[("s3:prefix", &["home/martha/docs"])]),
            Holds::No
        );
        assert_eq!(holds(&home, &context(martha), false), Holds::No);
        let cased = json!({"StringEquals": {"s3:prefix": "${AWS:UserName}"}});
        assert_eq!(
            holds_in(
                &cased,
                &[("aws:username", &["bob"]), ("s3:prefix", &["bob"])]
            ),
            Holds::Yes
        );
        let team = json!({"StringEquals": {"aws:ResourceTag/team": "${aws:PrincipalTag/team, 'company-wide'}"}});
        assert_eq!(
            holds_in(&team, &[("aws:ResourceTag/team", &["company-wide"])]),
            Holds::Yes
        );
        let star = json!({"StringEquals": {"s3:prefix": "a${*}"}});
        assert_eq!(holds_in(&star, &[("s3:prefix", &["a*"])]), Holds::Yes);
        let like_star = json!({"StringLike": {"s3:prefix": "a${*}"}});
        assert_eq!(holds_in(&like_star, &[("s3:prefix", &["ab"])]), Holds::No);
        let not =
            json!({"StringNotEquals": {"s3:ExistingObjectTag/Team": "${aws:PrincipalTag/Team}"}});
        assert_eq!(
            holds_in(&not, &[("s3:ExistingObjectTag/Team", &["blue"])]),
            Holds::Yes
        );
    }

    /// A static check: a key the context does not know makes the condition depend on it, unless
    /// another part already fails.
    #[test]
    fn unknown_keys_make_a_condition_depend() {
        let mut unknown = Context::unknown_unless_given();
        unknown.set("aws:RequestedRegion", vec!["eu-west-1".into()]);
        let depends = json!({"IpAddress": {"aws:SourceIp": "192.0.2.0/24"}});
        assert_eq!(
            holds(&depends, &unknown, true),
            Holds::Unknown(vec!["aws:SourceIp".into()])
        );
        let fails = json!({"IpAddress": {"aws:SourceIp": "192.0.2.0/24"},
            "StringEquals": {"aws:RequestedRegion": "us-east-1"}});
        assert_eq!(holds(&fails, &unknown, true), Holds::No);
    }

    #[test]
    fn dates_and_operators_parse_as_documented() {
        assert_eq!(date("1970-01-02"), Some(86_400.0));
        assert_eq!(date("2020-04-01T00:00:00Z"), Some(1_585_699_200.0));
        assert_eq!(
            date("2020-04-01T02:00:00+02:00"),
            date("2020-04-01T00:00:00Z")
        );
        assert_eq!(date("2020-04-01T00:00:00.5Z"), Some(1_585_699_200.5));
        assert_eq!(date("1585699200"), Some(1_585_699_200.0));
        assert_eq!(date("2020-13-01"), None);
        assert!(
            "ForAllValues:StringLikeIfExists"
                .parse::<Operator>()
                .is_ok()
        );
        assert!("StringEqual".parse::<Operator>().is_err());
        assert!("ForSomeValues:StringLike".parse::<Operator>().is_err());
    }
}
