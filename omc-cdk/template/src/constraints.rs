//! The value constraints of the CloudFormation registry schemas (allowed values, patterns,
//! minimums and maximums, lengths, item counts) and their check of literal property values.
//!
//! The generated crate `omc-cfn` keeps them as text, one JSON object per type (the format is
//! described in `cfn/codegen/src/constraints.rs`); a type's text is parsed the first time a
//! resource of that type is checked, and a pattern is compiled the first time a value is
//! matched against it, so types and properties an app does not use cost nothing.
//!
//! Patterns are ECMAScript regexes; they are evaluated with `regex-lite` (small to compile, no
//! Unicode tables). Unicode classes (`\p{L}`, `\p{N}`, ...) are approximated: exact for ASCII,
//! and every non-ASCII character is taken to belong to them, so a pattern never refuses a value
//! it should accept. Patterns `regex-lite` cannot evaluate (look-arounds, backreferences, a
//! Unicode class inside a negated class) are skipped.
//!
//! Only literal values are checked: intrinsic functions (`Ref`, `Fn::*`, `Condition`) and
//! whatever is under them are skipped.

use std::fmt::Write as _;
use std::sync::OnceLock;

use serde_json::{Map, Value as Json};

/// The constraints of one resource type, as text; parsed on first use.
#[derive(Default)]
pub struct Constraints {
    text: &'static str,
    parsed: OnceLock<Option<Parsed>>,
}

impl Clone for Constraints {
    fn clone(&self) -> Constraints {
        Constraints::new(self.text)
    }
}

impl PartialEq for Constraints {
    fn eq(&self, other: &Constraints) -> bool {
        self.text == other.text
    }
}

impl Eq for Constraints {}

impl std::fmt::Debug for Constraints {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Constraints")
            .field("bytes", &self.text.len())
            .finish_non_exhaustive()
    }
}

/// What a value breaks.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ViolationKind {
    /// The value is not one of the allowed values.
    NotAllowed,
    /// The string does not match the pattern.
    Pattern,
    /// The number is below the minimum or above the maximum.
    Range,
    /// The string is too short or too long, or the list has too few or too many items.
    Length,
}

/// A literal value that breaks a constraint of its type's schema.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Violation {
    /// Where, below the resource's `Properties`: `BucketName`, `Rules[0].VisibilityConfig.MetricName`.
    pub property: String,
    /// What is broken.
    pub kind: ViolationKind,
    /// The property, the bad value and what is allowed: the whole message users read.
    pub message: String,
}

#[derive(Debug)]
struct Parsed {
    props: Props,
    defs: Vec<Props>,
}

/// Constraints by property name, sorted.
#[derive(Debug, Default)]
struct Props(Vec<(String, Rule)>);

impl Props {
    fn get(&self, name: &str) -> Option<&Rule> {
        self.0
            .binary_search_by(|(n, _)| n.as_str().cmp(name))
            .ok()
            .map(|i| &self.0[i].1)
    }
}

#[derive(Debug, Default)]
struct Rule {
    allowed: Vec<String>,
    pattern: Option<Pattern>,
    min: Option<f64>,
    max: Option<f64>,
    min_length: Option<u64>,
    max_length: Option<u64>,
    min_items: Option<u64>,
    max_items: Option<u64>,
    def: Option<usize>,
}

#[derive(Debug)]
struct Pattern {
    source: String,
    compiled: OnceLock<Option<Compiled>>,
}

/// A compiled pattern, and the literal prefix a leading `^(?!prefix)` refuses.
#[derive(Debug)]
struct Compiled {
    regex: regex_lite::Regex,
    refused_prefix: Option<String>,
    /// The pattern as a set of characters repeated, when it has that shape.
    class: Option<AsciiClass>,
}

/// A pattern of the shape `^[class]*$` (or `+`, `{m,n}`; the most common shape, as for
/// tags): for ASCII values, a table lookup per byte instead of the regex engine, which
/// keeps the check cheap on the values every resource repeats (tags).
#[derive(Debug)]
struct AsciiClass {
    /// Bit `b` set when ASCII byte `b` is in the class.
    allowed: u128,
    min: usize,
    max: Option<usize>,
}

impl AsciiClass {
    /// Whether an ASCII `value` matches.
    fn is_match(&self, value: &[u8]) -> bool {
        value.len() >= self.min
            && self.max.is_none_or(|max| value.len() <= max)
            && value
                .iter()
                .all(|&b| b < 128 && self.allowed & (1 << b) != 0)
    }

    /// `^[class]quantifier$`, optionally with the class and quantifier in a group.
    fn of(source: &str) -> Option<AsciiClass> {
        let body = source.strip_prefix('^')?;
        let (body, grouped) = match body.strip_prefix('(') {
            Some(rest) => (rest, true),
            None => (body, false),
        };
        let rest = body.strip_prefix('[')?;
        // The end of the class: the first `]` that is not escaped.
        let mut end = None;
        let mut escaped = false;
        for (i, c) in rest.char_indices() {
            match c {
                _ if escaped => escaped = false,
                '\\' => escaped = true,
                '[' => return None,
                ']' => {
                    end = Some(i);
                    break;
                }
                _ => {}
            }
        }
        let end = end?;
        let class = &rest[..end];
        let mut tail = &rest[end + 1..];
        let (min, max) = if let Some(t) = tail.strip_prefix('*') {
            tail = t;
            (0, None)
        } else if let Some(t) = tail.strip_prefix('+') {
            tail = t;
            (1, None)
        } else if let Some(t) = tail.strip_prefix('{') {
            let (counts, t) = t.split_once('}')?;
            tail = t;
            match counts.split_once(',') {
                Some((min, "")) => (min.parse().ok()?, None),
                Some((min, max)) => (min.parse().ok()?, Some(max.parse().ok()?)),
                None => {
                    let n = counts.parse().ok()?;
                    (n, Some(n))
                }
            }
        } else {
            return None;
        };
        if grouped {
            tail = tail.strip_prefix(')')?;
        }
        if !matches!(tail, "$" | "\\z" | "\\Z") {
            return None;
        }
        let one = compile(&format!("^[{class}]$"))?;
        let mut allowed = 0u128;
        let mut buf = [0u8; 4];
        for b in 0u8..128 {
            if one.is_match(char::from(b).encode_utf8(&mut buf)) {
                allowed |= 1 << b;
            }
        }
        Some(AsciiClass { allowed, min, max })
    }
}

impl Pattern {
    /// Whether `value` matches; `None` when the pattern cannot be evaluated.
    fn is_match(&self, value: &str) -> Option<bool> {
        self.compiled
            .get_or_init(|| compile_with_prefix(&self.source))
            .as_ref()
            .map(|c| {
                c.refused_prefix
                    .as_ref()
                    .is_none_or(|prefix| !value.starts_with(prefix.as_str()))
                    && match &c.class {
                        Some(class) if value.is_ascii() => class.is_match(value.as_bytes()),
                        _ => c.regex.is_match(value),
                    }
            })
    }
}

/// `^(?!aws:)rest`, the schemas' usual way of refusing a prefix, is `^rest` and a prefix
/// check; other look-arounds cannot be evaluated.
fn compile_with_prefix(source: &str) -> Option<Compiled> {
    if let Some(rest) = source.strip_prefix("^(?!")
        && let Some((prefix, rest)) = rest.split_once(')')
        && !prefix.is_empty()
        && prefix
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, ':' | '-' | '_' | '/' | '@'))
    {
        let rest = format!("^{rest}");
        return Some(Compiled {
            regex: compile(&rest)?,
            refused_prefix: Some(prefix.to_owned()),
            class: AsciiClass::of(&rest),
        });
    }
    Some(Compiled {
        regex: compile(source)?,
        refused_prefix: None,
        class: AsciiClass::of(source),
    })
}

impl Constraints {
    /// The constraints in `text`: one type's JSON object (empty for none).
    pub fn new(text: &'static str) -> Constraints {
        Constraints {
            text,
            parsed: OnceLock::new(),
        }
    }

    /// Whether there are no constraints.
    pub fn is_empty(&self) -> bool {
        self.text.is_empty()
    }

    fn parsed(&self) -> Option<&Parsed> {
        if self.text.is_empty() {
            return None;
        }
        self.parsed.get_or_init(|| parse(self.text)).as_ref()
    }

    /// Checks the literal values of a resource's `Properties` (of type `type_name`, named in
    /// the messages) and adds a [`Violation`] for each broken constraint.
    pub fn check(&self, type_name: &str, properties: &Map<String, Json>, out: &mut Vec<Violation>) {
        let Some(parsed) = self.parsed() else {
            return;
        };
        let mut walk = Walk {
            parsed,
            type_name,
            path: Vec::new(),
            out,
        };
        walk.object(&parsed.props, properties);
    }

    /// How many patterns the constraints have, and how many of them cannot be evaluated (for
    /// tests and reports; compiles every pattern).
    pub fn pattern_counts(&self) -> (usize, usize) {
        let Some(parsed) = self.parsed() else {
            return (0, 0);
        };
        let rules = parsed
            .props
            .0
            .iter()
            .chain(parsed.defs.iter().flat_map(|d| d.0.iter()));
        let mut total = 0;
        let mut skipped = 0;
        for (_, rule) in rules {
            if let Some(p) = &rule.pattern {
                total += 1;
                if p.is_match("").is_none() {
                    skipped += 1;
                }
            }
        }
        (total, skipped)
    }
}

fn parse(text: &str) -> Option<Parsed> {
    let json: Json = serde_json::from_str(text).ok()?;
    let defs_json = json.get("d").and_then(Json::as_object);
    let names: Vec<&String> = defs_json.map(|d| d.keys().collect()).unwrap_or_default();
    let def_index = |name: &str| names.iter().position(|n| n.as_str() == name);
    let props = |map: Option<&Map<String, Json>>| {
        let mut props: Vec<(String, Rule)> = map
            .into_iter()
            .flatten()
            .map(|(name, c)| (name.clone(), rule(c, &def_index)))
            .collect();
        props.sort_by(|a, b| a.0.cmp(&b.0));
        Props(props)
    };
    Some(Parsed {
        props: props(json.get("p").and_then(Json::as_object)),
        defs: defs_json
            .into_iter()
            .flatten()
            .map(|(_, d)| props(d.as_object()))
            .collect(),
    })
}

fn rule(c: &Json, def_index: &dyn Fn(&str) -> Option<usize>) -> Rule {
    let number = |key: &str| c.get(key).and_then(Json::as_f64);
    let count = |key: &str| c.get(key).and_then(Json::as_u64);
    Rule {
        allowed: c
            .get("e")
            .and_then(Json::as_array)
            .into_iter()
            .flatten()
            .filter_map(Json::as_str)
            .map(str::to_owned)
            .collect(),
        pattern: c.get("x").and_then(Json::as_str).map(|s| Pattern {
            source: s.to_owned(),
            compiled: OnceLock::new(),
        }),
        min: number("lo"),
        max: number("hi"),
        min_length: count("ll"),
        max_length: count("lh"),
        min_items: count("il"),
        max_items: count("ih"),
        def: c.get("r").and_then(Json::as_str).and_then(def_index),
    }
}

#[derive(Clone, Copy)]
enum Seg<'a> {
    Key(&'a str),
    Index(usize),
}

struct Walk<'a, 'o> {
    parsed: &'a Parsed,
    type_name: &'a str,
    path: Vec<Seg<'a>>,
    out: &'o mut Vec<Violation>,
}

/// `Ref`, `Condition` or `Fn::*`: not a literal.
fn is_intrinsic(value: &Json) -> bool {
    match value {
        Json::Object(map) if map.len() == 1 => map
            .keys()
            .next()
            .is_some_and(|k| k == "Ref" || k == "Condition" || k.starts_with("Fn::")),
        _ => false,
    }
}

impl<'a> Walk<'a, '_> {
    fn object(&mut self, props: &'a Props, map: &'a Map<String, Json>) {
        for (key, value) in map {
            if let Some(rule) = props.get(key) {
                self.path.push(Seg::Key(key));
                self.value(rule, value);
                self.path.pop();
            }
        }
    }

    fn value(&mut self, rule: &'a Rule, value: &'a Json) {
        if is_intrinsic(value) {
            return;
        }
        if let Json::Array(items) = value {
            if !items.iter().any(is_intrinsic) {
                self.items(rule, items.len());
            }
            for (i, item) in items.iter().enumerate() {
                self.path.push(Seg::Index(i));
                self.item(rule, item);
                self.path.pop();
            }
        } else {
            self.item(rule, value);
        }
    }

    fn item(&mut self, rule: &'a Rule, value: &'a Json) {
        match value {
            Json::Object(map) => {
                if let Some(def) = rule.def.and_then(|d| self.parsed.defs.get(d))
                    && !is_intrinsic(value)
                {
                    self.object(def, map);
                }
            }
            Json::String(s) => {
                if !rule.allowed.is_empty() && !rule.allowed.iter().any(|a| a == s) {
                    self.not_allowed(rule, &quoted(s));
                    return;
                }
                if let Some(pattern) = &rule.pattern
                    && pattern.is_match(s) == Some(false)
                {
                    let message = format!(
                        "{} is {}; {} allows only values that match {}",
                        self.name(),
                        quoted(s),
                        self.type_name,
                        pattern.source
                    );
                    self.push(ViolationKind::Pattern, message);
                }
                self.length(rule, s);
                if (rule.min.is_some() || rule.max.is_some())
                    && let Ok(n) = s.trim().parse::<f64>()
                {
                    self.range(rule, n, &quoted(s));
                }
            }
            Json::Number(n) => {
                let text = n.to_string();
                // Compared as numbers: 7.0 is the allowed 7.
                let allowed = |a: &String| {
                    *a == text
                        || a.parse::<f64>()
                            .ok()
                            .zip(n.as_f64())
                            .is_some_and(|(a, n)| a.total_cmp(&n).is_eq())
                };
                if !rule.allowed.is_empty() && !rule.allowed.iter().any(allowed) {
                    self.not_allowed(rule, &text);
                    return;
                }
                if let Some(f) = n.as_f64() {
                    self.range(rule, f, &text);
                }
            }
            Json::Bool(b) => {
                let text = b.to_string();
                if !rule.allowed.is_empty() && !rule.allowed.contains(&text) {
                    self.not_allowed(rule, &text);
                }
            }
            Json::Array(_) | Json::Null => {}
        }
    }

    fn not_allowed(&mut self, rule: &Rule, value: &str) {
        const SHOWN: usize = 20;
        let mut allowed = rule
            .allowed
            .iter()
            .take(SHOWN)
            .map(String::as_str)
            .collect::<Vec<_>>()
            .join(", ");
        if rule.allowed.len() > SHOWN {
            let _ = write!(allowed, ", ... ({} values)", rule.allowed.len());
        }
        let message = format!(
            "{} is {value}; {} allows one of {allowed}",
            self.name(),
            self.type_name
        );
        self.push(ViolationKind::NotAllowed, message);
    }

    fn range(&mut self, rule: &Rule, n: f64, shown: &str) {
        let low = rule.min.is_some_and(|min| n < min);
        let high = rule.max.is_some_and(|max| n > max);
        if !(low || high) {
            return;
        }
        let allowed = match (rule.min, rule.max) {
            (Some(min), Some(max)) => format!("at least {min} and at most {max}"),
            (Some(min), None) => format!("at least {min}"),
            (None, Some(max)) => format!("at most {max}"),
            (None, None) => return,
        };
        let message = format!(
            "{} is {shown}; {} allows {allowed}",
            self.name(),
            self.type_name
        );
        self.push(ViolationKind::Range, message);
    }

    fn length(&mut self, rule: &Rule, s: &str) {
        if rule.min_length.is_none() && rule.max_length.is_none() {
            return;
        }
        let n = s.chars().count() as u64;
        let short = rule.min_length.is_some_and(|min| n < min);
        let long = rule.max_length.is_some_and(|max| n > max);
        if !(short || long) {
            return;
        }
        let allowed = bounds(rule.min_length, rule.max_length, "character");
        let message = format!(
            "{} is {} ({n} character{}); {} allows {allowed}",
            self.name(),
            quoted(s),
            if n == 1 { "" } else { "s" },
            self.type_name
        );
        self.push(ViolationKind::Length, message);
    }

    fn items(&mut self, rule: &Rule, n: usize) {
        let n = n as u64;
        let few = rule.min_items.is_some_and(|min| n < min);
        let many = rule.max_items.is_some_and(|max| n > max);
        if !(few || many) {
            return;
        }
        let allowed = bounds(rule.min_items, rule.max_items, "item");
        let message = format!(
            "{} has {n} item{}; {} allows {allowed}",
            self.name(),
            if n == 1 { "" } else { "s" },
            self.type_name
        );
        self.push(ViolationKind::Length, message);
    }

    /// The property's name: the last key of the path.
    fn name(&self) -> &'a str {
        self.path
            .iter()
            .rev()
            .find_map(|s| match s {
                Seg::Key(k) => Some(*k),
                Seg::Index(_) => None,
            })
            .unwrap_or_default()
    }

    fn push(&mut self, kind: ViolationKind, message: String) {
        let mut property = String::new();
        for seg in &self.path {
            match seg {
                Seg::Key(k) => {
                    if !property.is_empty() {
                        property.push('.');
                    }
                    property.push_str(k);
                }
                Seg::Index(i) => {
                    let _ = write!(property, "[{i}]");
                }
            }
        }
        self.out.push(Violation {
            property,
            kind,
            message,
        });
    }
}

/// `3 to 63 characters`, `at least 1 item`, `at most 50 items`.
fn bounds(min: Option<u64>, max: Option<u64>, unit: &str) -> String {
    let plural = |n: u64| if n == 1 { "" } else { "s" };
    match (min, max) {
        (Some(min), Some(max)) => format!("{min} to {max} {unit}{}", plural(max)),
        (Some(min), None) => format!("at least {min} {unit}{}", plural(min)),
        (None, Some(max)) => format!("at most {max} {unit}{}", plural(max)),
        (None, None) => String::new(),
    }
}

/// A string as JSON writes it, shortened when long.
fn quoted(s: &str) -> String {
    const MAX: usize = 80;
    if s.chars().count() <= MAX {
        Json::from(s).to_string()
    } else {
        let head: String = s.chars().take(MAX).collect();
        format!("{}...", Json::from(head))
    }
}

/// Non-ASCII characters, which the approximated Unicode classes all include.
const NON_ASCII: &str = r"\x{80}-\x{D7FF}\x{E000}-\x{10FFFF}";

/// The ASCII members of a Unicode general category, as class items.
fn ascii_category(name: &str) -> Option<&'static str> {
    Some(match name {
        "L" | "Letter" => "A-Za-z",
        "Lu" => "A-Z",
        "Ll" => "a-z",
        "N" | "Nd" | "Number" => "0-9",
        "Z" | "Zs" => " ",
        "P" => r##"!"#%&'()*,\-./:;?@\[\\\]_{}"##,
        "S" => r"$+<=>\^`|~",
        "M" | "Mn" | "Lo" | "Lm" | "Lt" | "Nl" | "No" => "",
        "C" | "Cc" => r"\x00-\x1F\x7F",
        "Graph" => "!-~",
        "Print" => " -~",
        _ => return None,
    })
}

/// Translates an ECMAScript pattern for `regex-lite`, or `None` when it cannot be evaluated.
fn compile(source: &str) -> Option<regex_lite::Regex> {
    let mut out = String::with_capacity(source.len() + 16);
    let mut chars = source.chars().peekable();
    // Inside a character class, and whether it is negated.
    let mut class: Option<bool> = None;
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                let e = chars.next()?;
                match e {
                    'p' | 'P' => {
                        if class == Some(true) || (e == 'P' && class.is_some()) {
                            return None;
                        }
                        let name: String = if chars.peek() == Some(&'{') {
                            chars.next();
                            let name: String = chars.by_ref().take_while(|&c| c != '}').collect();
                            name
                        } else {
                            chars.next()?.to_string()
                        };
                        let name = name.strip_prefix("General_Category=").unwrap_or(&name);
                        if e == 'P' {
                            // Only "not a control character" is common: exact for ASCII, every
                            // non-ASCII character accepted.
                            if name != "C" && name != "Cc" {
                                return None;
                            }
                            let _ = write!(out, r"[\x20-\x7E{NON_ASCII}]");
                            continue;
                        }
                        if name == "ASCII" {
                            out.push_str(if class.is_some() {
                                r"\x00-\x7F"
                            } else {
                                r"[\x00-\x7F]"
                            });
                            continue;
                        }
                        let ascii = ascii_category(name)?;
                        if class.is_some() {
                            let _ = write!(out, "{ascii}{NON_ASCII}");
                        } else {
                            let _ = write!(out, "[{ascii}{NON_ASCII}]");
                        }
                    }
                    // Python's end of text, which some schemas use.
                    'Z' => out.push_str(r"\z"),
                    _ => {
                        out.push('\\');
                        out.push(e);
                    }
                }
            }
            '[' if class.is_none() => {
                let negated = chars.peek() == Some(&'^');
                class = Some(negated);
                out.push('[');
                if negated {
                    chars.next();
                    out.push('^');
                }
                // A `]` first in a class is a literal in most engines, but ends an empty
                // class in ECMAScript: refuse rather than guess.
                if chars.peek() == Some(&']') {
                    return None;
                }
            }
            '[' => out.push_str(r"\["),
            ']' if class.is_some() => {
                class = None;
                out.push(']');
            }
            _ => out.push(c),
        }
    }
    regex_lite::Regex::new(&out).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn violations(text: &'static str, properties: &Json) -> Vec<Violation> {
        let constraints = Constraints::new(text);
        let mut out = Vec::new();
        constraints.check("AWS::A::B", properties.as_object().unwrap(), &mut out);
        out
    }

    #[test]
    fn patterns_translate() {
        let tag = compile(r"^([\p{L}\p{Z}\p{N}_.:/=+\-@]*)$").unwrap();
        assert!(tag.is_match("team: data-1"));
        assert!(tag.is_match("équipe"));
        assert!(!tag.is_match("a,b"));
        let letters = compile(r"^\p{L}+$").unwrap();
        assert!(letters.is_match("abcÄ"));
        assert!(!letters.is_match("ab1"));
        let python = compile(r"^[a-z]{1,3}\Z").unwrap();
        assert!(python.is_match("abc"));
        assert!(!python.is_match("abcd"));
        assert!(compile(r"^arn:aws:\/\/x$").unwrap().is_match("arn:aws://x"));
        assert!(compile(r"^\u0041$").unwrap().is_match("A"));
        // Not evaluable: skipped.
        assert!(compile(r"^(?!aws:).*$").is_none());
        let tag_key = compile_with_prefix(r"^(?!aws:)[a-zA-Z+-=._:/]+$").unwrap();
        assert_eq!(tag_key.refused_prefix.as_deref(), Some("aws:"));
        assert!(tag_key.regex.is_match("team"));
        assert!(compile(r"^\P{C}+$").unwrap().is_match("a b"));
        assert!(!compile(r"^\P{C}+$").unwrap().is_match("a\tb"));
        assert!(!compile(r"^\p{ASCII}+$").unwrap().is_match("é"));
    }

    /// The table lookup agrees with the regex engine.
    #[test]
    fn character_class_patterns_take_the_fast_path() {
        let tag = compile_with_prefix(r"^([\p{L}\p{Z}\p{N}_.:/=+\-@]*)$").unwrap();
        let class = tag.class.as_ref().unwrap();
        let name = compile_with_prefix(r"^[a-z0-9\-]{3,5}\Z").unwrap();
        let names = name.class.as_ref().unwrap();
        for value in [
            "", "team", "a b", "a,b", "x-y_z", "abc", "ab", "abcdef", "ABC", "a-1",
        ] {
            assert_eq!(
                class.is_match(value.as_bytes()),
                tag.regex.is_match(value),
                "{value}"
            );
            assert_eq!(
                names.is_match(value.as_bytes()),
                name.regex.is_match(value),
                "{value}"
            );
        }
        let prefixed = compile_with_prefix(r"^(?!aws:)[a-zA-Z+-=._:/]+$").unwrap();
        assert!(prefixed.class.is_some());
        assert!(
            compile_with_prefix(r"^[a-z]+-[0-9]+$")
                .unwrap()
                .class
                .is_none()
        );
        assert!(compile_with_prefix(r"^[a-z]*").unwrap().class.is_none());
        assert!(compile(r"^(a)\1$").is_none());
        assert!(compile(r"^[^\p{L}]$").is_none());
        assert!(compile(r"^\P{L}$").is_none());
    }

    #[test]
    fn each_kind_of_constraint() {
        let text = r#"{"p":{"Tenancy":{"e":["default","dedicated","host"]},"Name":{"x":"^[a-z0-9.-]*$","ll":3,"lh":63},"Period":{"lo":1,"hi":86400},"Items":{"ih":2,"e":["a","b","c"]},"Config":{"r":"C"}},"d":{"C":{"MetricName":{"lh":5}}}}"#;
        let out = violations(
            text,
            &serde_json::json!({
                "Tenancy": "shared",
                "Name": "My",
                "Period": -60,
                "Items": ["a", "d", {"Ref": "X"}],
                "Config": {"MetricName": "toolong"},
                "Other": "x"
            }),
        );
        let messages: Vec<(&str, ViolationKind, &str)> = out
            .iter()
            .map(|v| (v.property.as_str(), v.kind, v.message.as_str()))
            .collect();
        assert_eq!(
            messages,
            [
                (
                    "Tenancy",
                    ViolationKind::NotAllowed,
                    r#"Tenancy is "shared"; AWS::A::B allows one of default, dedicated, host"#
                ),
                (
                    "Name",
                    ViolationKind::Pattern,
                    r#"Name is "My"; AWS::A::B allows only values that match ^[a-z0-9.-]*$"#
                ),
                (
                    "Name",
                    ViolationKind::Length,
                    r#"Name is "My" (2 characters); AWS::A::B allows 3 to 63 characters"#
                ),
                (
                    "Period",
                    ViolationKind::Range,
                    "Period is -60; AWS::A::B allows at least 1 and at most 86400"
                ),
                (
                    "Items[1]",
                    ViolationKind::NotAllowed,
                    r#"Items is "d"; AWS::A::B allows one of a, b, c"#
                ),
                (
                    "Config.MetricName",
                    ViolationKind::Length,
                    r#"MetricName is "toolong" (7 characters); AWS::A::B allows at most 5 characters"#
                ),
            ]
        );
        let days = r#"{"p":{"Days":{"e":["1","7"]}}}"#;
        assert!(violations(days, &serde_json::json!({"Days": 7.0})).is_empty());
        assert!(violations(days, &serde_json::json!({"Days": "7"})).is_empty());
        assert_eq!(
            violations(days, &serde_json::json!({"Days": 2}))[0].message,
            "Days is 2; AWS::A::B allows one of 1, 7"
        );
        let many = violations(text, &serde_json::json!({"Items": ["a", "b", "c"]}));
        assert_eq!(
            many[0].message,
            "Items has 3 items; AWS::A::B allows at most 2 items"
        );
        assert!(
            violations(
                text,
                &serde_json::json!({"Tenancy": {"Ref": "P"}, "Period": 60})
            )
            .is_empty()
        );
    }
}

#[cfg(test)]
mod generated {
    use super::*;

    /// The constraints `omc-cfn` carries all parse, and nearly all of their patterns compile.
    #[test]
    fn every_type_of_the_generated_data_parses() {
        let text: &'static str = include_str!("../../../cfn/bindings/src/constraints.txt");
        let (mut types, mut total, mut skipped) = (0, 0, 0);
        for line in text.lines() {
            let (_, json) = line.split_once('\t').unwrap();
            let constraints = Constraints::new(json);
            assert!(constraints.parsed().is_some(), "{line}");
            let (t, s) = constraints.pattern_counts();
            types += 1;
            total += t;
            skipped += s;
        }
        println!("{types} types, {total} patterns, {skipped} skipped");
        assert!(types > 1_500, "{types}");
        assert!(
            skipped * 20 < total,
            "{skipped} of {total} patterns skipped"
        );
    }
}
