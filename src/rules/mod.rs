//! Rules before download: what to do with a message on the server, judged
//! from its header block (`TOP n 0`) and its listed size before any body is
//! read. Pure: no IO, no clock, no store; the fetch and `pipit rules test`
//! carry the verdicts out.
//!
//! A rule is a set of conditions, all of which must hold, and an action. The
//! first rule of an account that matches a message decides; a message no
//! rule matches is downloaded as the account's settings say.
//!
//! - `from`, `to`, `subject`: the text, ignoring case, appears in the From
//!   header, in To or Cc, or in the Subject (decoded as the list shows them).
//! - `header = "Name: text"`: a header of that name (ignoring case) whose
//!   value holds the text, ignoring case (`X-Spam-Flag: YES`).
//! - `larger_than`, `smaller_than`: the size the server lists, in bytes.
//!
//! A deleting rule is *armed* only once the user has seen what it matches
//! in a dry run (`pipit rules test`); the store keeps the
//! [`Rules::fingerprint_of`] the rule as it was then (with the rules before it,
//! which decide first), so editing it or one before it disarms it. Until then it
//! acts as "leave on server".
//!
//! Every value is checked as it is read ([`Pattern`], [`HeaderMatch`],
//! [`RuleName`], [`RuleAction`] refuse bad text when deserialised, and a
//! [`Rule`] refuses a contradiction of its fields), so the config file and
//! `pipit rules add` share one validator, and the config's error names the
//! line and the field.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

#[cfg(test)]
mod tests;

/// The longest text a condition may hold.
const MAX_PATTERN: usize = 256;

/// How long the headers of a message a rule deleted stay in the store (the
/// "Deleted by rule" view), so a wrong rule is seen.
pub const DELETED_KEPT_SECS: i64 = 30 * 86_400;

/// What a matching rule does with a message.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum RuleAction {
    /// Download it whole (as if no rule matched; useful before a broader rule).
    Download,
    /// Keep its header block only; download it when asked (Download).
    HeadersOnly,
    /// Keep its header block only, and never delete it on the server by the
    /// account's policy, even once downloaded by hand.
    LeaveOnServer,
    /// Delete it on the server without downloading it; its header block
    /// stays in the store for 30 days ("Deleted by rule").
    Delete,
}

impl RuleAction {
    pub const ALL: [RuleAction; 4] = [
        RuleAction::Download,
        RuleAction::HeadersOnly,
        RuleAction::LeaveOnServer,
        RuleAction::Delete,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            RuleAction::Download => "download",
            RuleAction::HeadersOnly => "headers-only",
            RuleAction::LeaveOnServer => "leave-on-server",
            RuleAction::Delete => "delete",
        }
    }

    /// In words, for people.
    pub fn words(self) -> &'static str {
        match self {
            RuleAction::Download => "download",
            RuleAction::HeadersOnly => "keep headers only",
            RuleAction::LeaveOnServer => "leave on the server",
            RuleAction::Delete => "delete on the server without downloading",
        }
    }
}

impl FromStr for RuleAction {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        RuleAction::ALL
            .into_iter()
            .find(|a| a.as_str() == s)
            .ok_or_else(|| {
                format!(
                    "unknown action {s:?}: use download, headers-only, leave-on-server or delete"
                )
            })
    }
}

impl fmt::Display for RuleAction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl TryFrom<String> for RuleAction {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        s.parse()
    }
}

impl From<RuleAction> for String {
    fn from(a: RuleAction) -> String {
        a.as_str().to_string()
    }
}

/// A rule's name: how `pipit rules test NAME` and `remove NAME` find it.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct RuleName(String);

impl RuleName {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl FromStr for RuleName {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let hint = "give it a short name like spam or newsletters";
        if s.trim().is_empty() {
            return Err(format!("the rule's name is empty; {hint}"));
        }
        if s.chars().any(char::is_control) {
            return Err(format!("{s:?} has a control character; {hint}"));
        }
        if s.trim() != s {
            return Err(format!("{s:?} starts or ends with a space; {hint}"));
        }
        if s.starts_with('-') {
            return Err(format!(
                "{s:?} starts with '-', which the command line reads as an option; {hint}"
            ));
        }
        if s.chars().count() > 64 {
            return Err(format!(
                "the rule's name is longer than 64 characters; {hint}"
            ));
        }
        Ok(RuleName(s.to_string()))
    }
}

impl TryFrom<String> for RuleName {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        s.parse()
    }
}

impl From<RuleName> for String {
    fn from(n: RuleName) -> String {
        n.0
    }
}

impl fmt::Display for RuleName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Text a condition looks for: found anywhere in the field, ignoring case.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Pattern {
    text: String,
    folded: String,
}

impl Pattern {
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// Whether `haystack` holds this text, ignoring case.
    pub fn found_in(&self, haystack: &str) -> bool {
        fold(haystack).contains(&self.folded)
    }
}

fn fold(s: &str) -> String {
    s.to_lowercase()
}

impl FromStr for Pattern {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        if s.trim().is_empty() {
            return Err(
                "the text to look for is empty, and would match every message; give some text"
                    .into(),
            );
        }
        if s.chars().any(char::is_control) {
            return Err(format!(
                "{s:?} has a control character, which no header holds"
            ));
        }
        if s.chars().count() > MAX_PATTERN {
            return Err(format!(
                "the text to look for is longer than {MAX_PATTERN} characters"
            ));
        }
        Ok(Pattern {
            text: s.to_string(),
            folded: fold(s),
        })
    }
}

impl TryFrom<String> for Pattern {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        s.parse()
    }
}

impl From<Pattern> for String {
    fn from(p: Pattern) -> String {
        p.text
    }
}

/// `Name: text`: a header of that name whose value holds the text.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct HeaderMatch {
    pub name: String,
    pub value: Pattern,
}

impl FromStr for HeaderMatch {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let hint = "write it as Name: text, like \"X-Spam-Flag: YES\"";
        let Some((name, value)) = s.split_once(':') else {
            return Err(format!("{s:?} has no ':'; {hint}"));
        };
        let name = name.trim();
        if name.is_empty() {
            return Err(format!("{s:?} names no header before the ':'; {hint}"));
        }
        // RFC 5322's field name: printable ASCII but for the colon.
        if let Some(c) = name.chars().find(|c| !c.is_ascii_graphic()) {
            return Err(format!(
                "a header's name has no {c:?} in it (only letters, digits and marks such as -); {hint}"
            ));
        }
        let value: Pattern = value
            .trim()
            .parse()
            .map_err(|e| format!("after {name:?}: {e}; {hint}"))?;
        Ok(HeaderMatch {
            name: name.to_string(),
            value,
        })
    }
}

impl TryFrom<String> for HeaderMatch {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        s.parse()
    }
}

impl From<HeaderMatch> for String {
    fn from(h: HeaderMatch) -> String {
        format!("{}: {}", h.name, h.value.as_str())
    }
}

impl fmt::Display for HeaderMatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.name, self.value.as_str())
    }
}

/// One rule, as the config holds it (`[[account.rule]]`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "RuleFields", into = "RuleFields")]
pub struct Rule {
    pub name: RuleName,
    pub from: Option<Pattern>,
    pub to: Option<Pattern>,
    pub subject: Option<Pattern>,
    pub header: Option<HeaderMatch>,
    pub larger_than: Option<u64>,
    pub smaller_than: Option<u64>,
    pub action: RuleAction,
}

/// A rule's fields, each checked alone; [`Rule`] checks them together.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleFields {
    pub name: RuleName,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<Pattern>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to: Option<Pattern>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject: Option<Pattern>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub header: Option<HeaderMatch>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub larger_than: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub smaller_than: Option<u64>,
    pub action: RuleAction,
}

/// What is wrong with a rule, and which field says it.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("rule {rule:?}, {field}: {problem}")]
pub struct RuleError {
    pub rule: String,
    /// The field as the config file and `pipit rules add` name it.
    pub field: &'static str,
    pub problem: String,
}

impl TryFrom<RuleFields> for Rule {
    type Error = RuleError;
    fn try_from(f: RuleFields) -> Result<Rule, RuleError> {
        let err = |field, problem: &str| RuleError {
            rule: f.name.to_string(),
            field,
            problem: problem.to_string(),
        };
        let conditions = [
            f.from.is_some(),
            f.to.is_some(),
            f.subject.is_some(),
            f.header.is_some(),
            f.larger_than.is_some(),
            f.smaller_than.is_some(),
        ];
        if !conditions.contains(&true) {
            return Err(err(
                "from",
                "the rule has no condition, so it would match every message; give at least one of \
from, to, subject, header, larger_than, smaller_than",
            ));
        }
        if f.smaller_than == Some(0) {
            return Err(err(
                "smaller_than",
                "no message is smaller than 0 bytes; give a size of at least 1",
            ));
        }
        if let (Some(large), Some(small)) = (f.larger_than, f.smaller_than)
            && large.saturating_add(1) >= small
        {
            return Err(err(
                "smaller_than",
                &format!(
                    "no message is larger than {large} and smaller than {small} bytes; the rule would never match"
                ),
            ));
        }
        Ok(Rule {
            name: f.name,
            from: f.from,
            to: f.to,
            subject: f.subject,
            header: f.header,
            larger_than: f.larger_than,
            smaller_than: f.smaller_than,
            action: f.action,
        })
    }
}

impl From<Rule> for RuleFields {
    fn from(r: Rule) -> RuleFields {
        RuleFields {
            name: r.name,
            from: r.from,
            to: r.to,
            subject: r.subject,
            header: r.header,
            larger_than: r.larger_than,
            smaller_than: r.smaller_than,
            action: r.action,
        }
    }
}

/// An account's rules, in order: the first that matches decides. Two rules
/// of one name are refused.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "Vec<Rule>", into = "Vec<Rule>")]
pub struct Rules(Vec<Rule>);

impl Rules {
    pub fn new(rules: Vec<Rule>) -> Result<Rules, RuleError> {
        for (i, r) in rules.iter().enumerate() {
            if rules[..i].iter().any(|o| o.name == r.name) {
                return Err(RuleError {
                    rule: r.name.to_string(),
                    field: "name",
                    problem: "another rule of this account has this name; give each its own".into(),
                });
            }
        }
        Ok(Rules(rules))
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn iter(&self) -> std::slice::Iter<'_, Rule> {
        self.0.iter()
    }

    pub fn get(&self, name: &str) -> Option<&Rule> {
        self.0.iter().find(|r| r.name.as_str() == name)
    }

    /// Adds a rule at the end (where it decides only what the others do not).
    pub fn push(&mut self, rule: Rule) -> Result<(), RuleError> {
        let mut all = self.0.clone();
        all.push(rule);
        *self = Rules::new(all)?;
        Ok(())
    }

    /// Removes the rule of this name; returns it.
    pub fn remove(&mut self, name: &str) -> Option<Rule> {
        let i = self.0.iter().position(|r| r.name.as_str() == name)?;
        Some(self.0.remove(i))
    }

    /// Puts `rule` in the place of the rule named `name` (its name may
    /// change); returns the rule it replaced, or `None` (and changes
    /// nothing) if there is no rule of that name. A name another rule has is
    /// refused, as [`Rules::new`] refuses it.
    pub fn replace(&mut self, name: &str, rule: Rule) -> Result<Option<Rule>, RuleError> {
        let Some(i) = self.0.iter().position(|r| r.name.as_str() == name) else {
            return Ok(None);
        };
        let mut all = self.0.clone();
        let old = std::mem::replace(&mut all[i], rule);
        *self = Rules::new(all)?;
        Ok(Some(old))
    }

    /// Moves the rule named `name` one place earlier (`up`) or later.
    /// `None`: no rule of that name; `Some(false)`: it is first (or last)
    /// already, and nothing changed.
    pub fn move_rule(&mut self, name: &str, up: bool) -> Option<bool> {
        let i = self.0.iter().position(|r| r.name.as_str() == name)?;
        let j = if up { i.checked_sub(1) } else { Some(i + 1) };
        match j {
            Some(j) if j < self.0.len() => {
                self.0.swap(i, j);
                Some(true)
            }
            _ => Some(false),
        }
    }

    /// The deleting rules of `self` whose fingerprint is not what it was in
    /// `before` (edited, renamed, added, or with the rules before them
    /// changed): any arming they had is gone, and they need a dry run again.
    pub fn disarmed_since(&self, before: &Rules) -> Vec<&Rule> {
        self.0
            .iter()
            .filter(|r| r.action == RuleAction::Delete)
            .filter(|r| {
                before
                    .get(r.name.as_str())
                    .is_none_or(|old| before.fingerprint_of(old) != self.fingerprint_of(r))
            })
            .collect()
    }

    /// Whether any rule needs to see a message's headers before its body is
    /// read (one that does not download).
    pub fn hold_anything(&self) -> bool {
        self.0.iter().any(|r| r.action != RuleAction::Download)
    }

    /// The fingerprint a deleting rule is armed with: of the rule and of
    /// every rule before it, since those decide first what reaches it (the
    /// dry run showed what it matched behind them). Removing, editing,
    /// moving or adding a rule before it disarms it; a rule after it does not.
    pub fn fingerprint_of(&self, rule: &Rule) -> Fingerprint {
        let decides: Vec<RuleFields> = self
            .0
            .iter()
            .take_while(|r| r.name != rule.name)
            .chain(std::iter::once(rule))
            .cloned()
            .map(RuleFields::from)
            .collect();
        fingerprint(&decides)
    }

    /// The first rule that matches, if any.
    pub fn first_match(&self, message: &Message<'_>) -> Option<&Rule> {
        self.deciding(message).map(|i| &self.0[i])
    }

    /// Where the rule that decides for `message` stands (the first that
    /// matches), if any.
    pub fn deciding(&self, message: &Message<'_>) -> Option<usize> {
        self.0.iter().position(|r| r.matches(message))
    }
}

impl TryFrom<Vec<Rule>> for Rules {
    type Error = RuleError;
    fn try_from(rules: Vec<Rule>) -> Result<Rules, RuleError> {
        Rules::new(rules)
    }
}

/// Checks the rules in a config file's text, each rule alone and each
/// account's together, naming the line of the rule at fault. (A field's own
/// error is named by its line when the file is read; a rule's fields that
/// contradict each other, or two rules of one name, only here.)
pub fn check_config_text(text: &str) -> Result<(), String> {
    #[derive(Deserialize)]
    struct File {
        #[serde(default)]
        account: Vec<AccountRules>,
    }
    #[derive(Deserialize)]
    struct AccountRules {
        #[serde(default)]
        rule: Vec<toml::Spanned<RuleFields>>,
    }
    let file: File = toml::from_str(text).map_err(|e| e.to_string())?;
    let line = |at: usize| text[..at.min(text.len())].matches('\n').count() + 1;
    // The line of `field` within the rule's table (up to the next table's
    // header), else the table's first.
    let line_of = |span: std::ops::Range<usize>, field: &str| {
        let table = text.get(span.start..).unwrap_or_default();
        let mut at = 0;
        for (i, l) in table.split_inclusive('\n').enumerate() {
            if i > 0 && l.trim_start().starts_with('[') {
                break;
            }
            if l.trim_start()
                .strip_prefix(field)
                .is_some_and(|rest| rest.trim_start().starts_with('='))
            {
                return line(span.start + at);
            }
            at += l.len();
        }
        line(span.start)
    };
    for account in file.account {
        let mut rules = Vec::new();
        for spanned in account.rule {
            let span = spanned.span();
            let rule = Rule::try_from(spanned.into_inner())
                .map_err(|e| format!("line {}: {e}", line_of(span.clone(), e.field)))?;
            rules.push(rule);
            Rules::new(rules.clone())
                .map_err(|e| format!("line {}: {e}", line_of(span.clone(), e.field)))?;
        }
    }
    Ok(())
}

impl From<Rules> for Vec<Rule> {
    fn from(r: Rules) -> Vec<Rule> {
        r.0
    }
}

impl<'a> IntoIterator for &'a Rules {
    type Item = &'a Rule;
    type IntoIter = std::slice::Iter<'a, Rule>;
    fn into_iter(self) -> Self::IntoIter {
        self.0.iter()
    }
}

/// The fingerprint of a rule's content (name, conditions, action) and of
/// the rules before it, kept with its arming: a rule edited since its dry
/// run, or put behind other rules, no longer has it.
pub type Fingerprint = String;

fn fingerprint(fields: &impl Serialize) -> Fingerprint {
    let text = serde_json::to_vec(fields).unwrap_or_default();
    let digest = ring::digest::digest(&ring::digest::SHA256, &text);
    digest.as_ref().iter().map(|b| format!("{b:02x}")).collect()
}

impl Rule {
    /// Whether every condition holds for `message`.
    pub fn matches(&self, m: &Message<'_>) -> bool {
        let found = |p: &Option<Pattern>, fields: &[&str]| {
            p.as_ref()
                .is_none_or(|p| fields.iter().any(|f| p.found_in(f)))
        };
        found(&self.from, &[&m.from])
            && found(&self.to, &[&m.to, &m.cc])
            && found(&self.subject, &[&m.subject])
            && self.header.as_ref().is_none_or(|h| {
                m.fields.iter().any(|(name, value)| {
                    name.eq_ignore_ascii_case(&h.name) && h.value.found_in(value)
                })
            })
            && self.larger_than.is_none_or(|n| m.size > n)
            && self.smaller_than.is_none_or(|n| m.size < n)
    }

    /// The conditions, in words: `subject has "sale", larger than 1000 bytes`.
    pub fn conditions(&self) -> String {
        let mut parts = Vec::new();
        let has = |label: &str, p: &Option<Pattern>, parts: &mut Vec<String>| {
            if let Some(p) = p {
                parts.push(format!("{label} has {:?}", p.as_str()));
            }
        };
        has("from", &self.from, &mut parts);
        has("to or cc", &self.to, &mut parts);
        has("subject", &self.subject, &mut parts);
        if let Some(h) = &self.header {
            parts.push(format!("header {} has {:?}", h.name, h.value.as_str()));
        }
        if let Some(n) = self.larger_than {
            parts.push(format!("larger than {n} bytes"));
        }
        if let Some(n) = self.smaller_than {
            parts.push(format!("smaller than {n} bytes"));
        }
        parts.join(", ")
    }
}

/// What the rules see of a message: its header fields and listed size.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Message<'a> {
    pub from: std::borrow::Cow<'a, str>,
    pub to: std::borrow::Cow<'a, str>,
    pub cc: std::borrow::Cow<'a, str>,
    pub subject: std::borrow::Cow<'a, str>,
    /// Every header field, name and unfolded value, as written.
    pub fields: Vec<(String, String)>,
    /// The size the server lists.
    pub size: u64,
}

impl Message<'static> {
    /// Reads a header block (or a whole message: only its header block is
    /// looked at).
    pub fn from_header_block(raw: &[u8], size: u64) -> Message<'static> {
        let block = crate::mime::header_block(raw);
        let parsed = crate::mime::parse(block);
        Message {
            from: parsed.from.into(),
            to: parsed.to.into(),
            cc: parsed.cc.into(),
            subject: parsed.subject.into(),
            fields: header_fields(block),
            size,
        }
    }
}

/// The header fields of a header block, unfolded: `(name, value)`.
pub fn header_fields(block: &[u8]) -> Vec<(String, String)> {
    let mut fields: Vec<(String, String)> = Vec::new();
    for line in block.split(|&b| b == b'\n') {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if line.is_empty() {
            break;
        }
        let text = String::from_utf8_lossy(line);
        if line[0] == b' ' || line[0] == b'\t' {
            if let Some((_, value)) = fields.last_mut() {
                value.push(' ');
                value.push_str(text.trim());
            }
            continue;
        }
        if let Some((name, value)) = text.split_once(':') {
            fields.push((name.trim().to_string(), value.trim().to_string()));
        }
    }
    fields
}

/// What the rules decide for one message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// No rule holds it back: download as the account says.
    Download,
    /// Keep only its header block (the rule's action, or a deleting rule not
    /// armed yet: see `unarmed`).
    Hold {
        rule: RuleName,
        action: RuleAction,
        /// A deleting rule that has not been armed by a dry run: it leaves
        /// the message on the server instead.
        unarmed: bool,
    },
    /// Delete it on the server, unread, by this armed rule.
    Delete { rule: RuleName },
}

impl Verdict {
    /// Whether the message's body may be downloaded.
    pub fn downloads(&self) -> bool {
        matches!(self, Verdict::Download)
    }

    /// The rule that decided, if any held the message back.
    pub fn rule(&self) -> Option<&RuleName> {
        match self {
            Verdict::Download => None,
            Verdict::Hold { rule, .. } | Verdict::Delete { rule } => Some(rule),
        }
    }

    /// Whether the account's policy must leave the message on the server.
    pub fn keeps_on_server(&self) -> bool {
        matches!(
            self,
            Verdict::Hold {
                action: RuleAction::LeaveOnServer | RuleAction::Delete,
                ..
            }
        )
    }
}

/// Judges one message: the first matching rule decides. A deleting rule
/// deletes only if `armed` says the user has seen it in a dry run as it is
/// now; otherwise it leaves the message on the server.
pub fn judge(rules: &Rules, message: &Message<'_>, armed: impl Fn(&Rule) -> bool) -> Verdict {
    let Some(rule) = rules.first_match(message) else {
        return Verdict::Download;
    };
    match rule.action {
        RuleAction::Download => Verdict::Download,
        RuleAction::Delete if armed(rule) => Verdict::Delete {
            rule: rule.name.clone(),
        },
        action => Verdict::Hold {
            rule: rule.name.clone(),
            unarmed: action == RuleAction::Delete,
            action,
        },
    }
}
