//! `pipit rules list|add|edit|move|remove|test|deleted`: an account's rules
//! before download. The rules live in the config; `add` and `edit` check a
//! rule with the very code that reads the config (`crate::rules`). `test` is the dry run
//! that arms a deleting rule: it reads the store only (what the server held
//! at the last fetch), connects to nothing, and writes nothing but the
//! arming.

use clap::{Args, Subcommand};
use serde::Serialize;

use super::{Failure, exit, human_bytes};
use crate::config::{Account, Config, ConfigError};
use crate::dates::unix_now;
use crate::paths::Paths;
use crate::reveal;
use crate::rules::{self, Rule, RuleAction, RuleFields, RuleName};
use crate::store::{MessageState, Store};

#[derive(Subcommand, Debug)]
pub enum RulesCommand {
    /// The account's rules, in the order they are tried.
    List {
        #[command(flatten)]
        which: Which,
        #[arg(long)]
        json: bool,
    },
    /// Add a rule at the end (the first rule that matches a message decides).
    Add(Box<AddArgs>),
    /// Change a rule at its place: each option given replaces that field
    /// ("" removes a condition); the others stay. An edited deleting rule
    /// deletes nothing until `pipit rules test` shows it again.
    Edit(Box<EditArgs>),
    /// Move a rule one place up or down (the first rule that matches
    /// decides); a deleting rule it passes needs `pipit rules test` again.
    Move {
        name: String,
        #[command(flatten)]
        which: Which,
        /// One place earlier.
        #[arg(long, conflicts_with = "down", required_unless_present = "down")]
        up: bool,
        /// One place later.
        #[arg(long)]
        down: bool,
    },
    /// Remove a rule.
    Remove {
        name: String,
        #[command(flatten)]
        which: Which,
    },
    /// Dry run: what the rules would do to the messages on the server as of
    /// the last fetch. Changes nothing on the server or in the mail; arms
    /// the deleting rules it shows, as they are now.
    Test {
        /// Only this rule (default: all).
        name: Option<String>,
        #[command(flatten)]
        which: Which,
        #[arg(long)]
        json: bool,
    },
    /// The messages rules deleted on the server (their headers are kept 30 days).
    Deleted {
        #[command(flatten)]
        which: Which,
        #[arg(long)]
        json: bool,
    },
}

#[derive(Args, Debug)]
pub struct Which {
    /// The account (default: the only one).
    #[arg(long)]
    pub account: Option<String>,
}

#[derive(Args, Debug)]
pub struct AddArgs {
    pub name: String,
    #[command(flatten)]
    pub which: Which,
    /// Text in the From header (ignoring case).
    #[arg(long, value_name = "TEXT")]
    pub from: Option<String>,
    /// Text in To or Cc (ignoring case).
    #[arg(long, value_name = "TEXT")]
    pub to: Option<String>,
    /// Text in the Subject (ignoring case).
    #[arg(long, value_name = "TEXT")]
    pub subject: Option<String>,
    /// A header and text in its value, as "Name: text" (e.g. "X-Spam-Flag: YES").
    #[arg(long, value_name = "NAME: TEXT")]
    pub header: Option<String>,
    /// Only messages the server lists as larger than BYTES.
    #[arg(long, value_name = "BYTES")]
    pub larger_than: Option<u64>,
    /// Only messages the server lists as smaller than BYTES.
    #[arg(long, value_name = "BYTES")]
    pub smaller_than: Option<u64>,
    /// download, headers-only, leave-on-server or delete (a deleting rule
    /// acts only once `pipit rules test` has shown what it matches).
    #[arg(long)]
    pub action: String,
}

#[derive(Args, Debug)]
pub struct EditArgs {
    /// The rule to change.
    pub name: String,
    #[command(flatten)]
    pub which: Which,
    /// A new name for it.
    #[arg(long = "name", value_name = "NEW")]
    pub new_name: Option<String>,
    /// Text in the From header ("" for none).
    #[arg(long, value_name = "TEXT")]
    pub from: Option<String>,
    /// Text in To or Cc ("" for none).
    #[arg(long, value_name = "TEXT")]
    pub to: Option<String>,
    /// Text in the Subject ("" for none).
    #[arg(long, value_name = "TEXT")]
    pub subject: Option<String>,
    /// "Name: text" ("" for none).
    #[arg(long, value_name = "NAME: TEXT")]
    pub header: Option<String>,
    /// Only messages listed as larger than BYTES ("" for any size).
    #[arg(long, value_name = "BYTES")]
    pub larger_than: Option<String>,
    /// Only messages listed as smaller than BYTES ("" for any size).
    #[arg(long, value_name = "BYTES")]
    pub smaller_than: Option<String>,
    /// download, headers-only, leave-on-server or delete.
    #[arg(long)]
    pub action: Option<String>,
}

fn usage(message: impl Into<String>) -> Failure {
    Failure::new(exit::USAGE, message)
}

/// The command line's name for a rule's field.
fn option(field: &str) -> String {
    format!("--{}", field.replace('_', "-"))
}

pub fn run(paths: &Paths, command: RulesCommand) -> Result<(), Failure> {
    match command {
        RulesCommand::List { which, json } => list(paths, &which, json),
        RulesCommand::Add(args) => add(paths, *args),
        RulesCommand::Edit(args) => edit(paths, *args),
        RulesCommand::Move {
            name,
            which,
            up,
            down: _,
        } => move_rule(paths, &which, &name, up),
        RulesCommand::Remove { name, which } => remove(paths, &which, &name),
        RulesCommand::Test { name, which, json } => test(paths, &which, name.as_deref(), json),
        RulesCommand::Deleted { which, json } => deleted(paths, &which, json),
    }
}

/// The account meant: the one named, else the only one.
fn account<'c>(config: &'c Config, which: &Which) -> Result<&'c Account, Failure> {
    match &which.account {
        Some(name) => Ok(config.account(name)?),
        None => match config.accounts.as_slice() {
            [one] => Ok(one),
            [] => Err(ConfigError::NoAccounts.into()),
            _ => Err(usage("say which account: --account NAME")),
        },
    }
}

#[derive(Serialize)]
struct RuleLine<'a> {
    #[serde(flatten)]
    rule: &'a Rule,
    /// For a deleting rule: armed by a dry run of it as it is now.
    #[serde(skip_serializing_if = "Option::is_none")]
    armed: Option<bool>,
}

fn armed_rules(
    paths: &Paths,
    account: &str,
) -> Result<std::collections::HashMap<String, String>, Failure> {
    if !paths.store.exists() {
        return Ok(Default::default());
    }
    Ok(Store::open(&paths.store)?.armed_rules(account)?)
}

fn list(paths: &Paths, which: &Which, json: bool) -> Result<(), Failure> {
    let config = Config::load(&paths.config)?;
    let account = account(&config, which)?;
    let armed = armed_rules(paths, &account.name)?;
    let is_armed = |r: &Rule| armed.get(r.name.as_str()) == Some(&account.arming_fingerprint(r));
    if json {
        let lines: Vec<RuleLine<'_>> = account
            .rules
            .iter()
            .map(|r| RuleLine {
                rule: r,
                armed: (r.action == RuleAction::Delete).then(|| is_armed(r)),
            })
            .collect();
        super::emit(&serde_json::to_string_pretty(&lines).expect("rules serialise"));
        return Ok(());
    }
    if account.rules.is_empty() {
        eprintln!(
            "Account {:?} has no rules: every message is downloaded as its settings say. Add one with: pipit rules add NAME --header \"X-Spam-Flag: YES\" --action delete",
            account.name
        );
        return Ok(());
    }
    let mut out = String::new();
    for (i, r) in account.rules.iter().enumerate() {
        let state = match r.action {
            RuleAction::Delete if is_armed(r) => " (armed)",
            RuleAction::Delete => {
                " (not armed: leaves them on the server until `pipit rules test`)"
            }
            _ => "",
        };
        out.push_str(&format!(
            "{}. {}: {} → {}{state}\n",
            i + 1,
            reveal::field(r.name.as_str()),
            reveal::field(&r.conditions()),
            r.action.words()
        ));
    }
    super::emit(out.trim_end_matches('\n'));
    Ok(())
}

/// A value typed on the command line, checked as the config file's is.
fn parsed<T: std::str::FromStr<Err = String>>(
    field: &str,
    value: Option<String>,
) -> Result<Option<T>, Failure> {
    value
        .map(|v| {
            v.parse()
                .map_err(|e| usage(format!("{}: {e}", option(field))))
        })
        .transpose()
}

/// A rule's fields checked together, as the config file's are.
fn checked(fields: RuleFields) -> Result<Rule, Failure> {
    Rule::try_from(fields).map_err(|e| {
        let field = if e.field == "from" && e.problem.contains("no condition") {
            "--from, --to, --subject, --header, --larger-than or --smaller-than".to_string()
        } else {
            option(e.field)
        };
        usage(format!("{field}: {}", e.problem))
    })
}

/// What a change did to the deleting rules' arming, for people: `edited`
/// (by its new name) needs its dry run again if it deletes and changed, and
/// so does an armed rule whose rules before it changed.
fn disarmed_words(
    paths: &Paths,
    before: &Account,
    after: &Account,
    edited: Option<&str>,
) -> Result<String, Failure> {
    let armed = armed_rules(paths, &before.name)?;
    let name = &after.name;
    let mut out = String::new();
    for rule in after.rules.disarmed_since(&before.rules) {
        let rule = rule.name.as_str();
        let was_armed = before
            .rules
            .get(rule)
            .is_some_and(|r| armed.get(rule) == Some(&before.arming_fingerprint(r)));
        if Some(rule) == edited {
            out.push_str(&format!(
                " It deletes nothing until you have seen what it matches again: run pipit rules test {rule} --account {name}"
            ));
        } else if was_armed {
            out.push_str(&format!(
                " Rule {rule:?} is no longer armed, as the rules before it changed: run pipit rules test {rule} --account {name}"
            ));
        }
    }
    Ok(out)
}

fn edit(paths: &Paths, args: EditArgs) -> Result<(), Failure> {
    let mut config = Config::load(&paths.config)?;
    let before = account(&config, &args.which)?.clone();
    let Some(old) = before.rules.get(&args.name) else {
        return Err(Failure::new(
            exit::OTHER,
            format!(
                "account {:?} has no rule named {:?} (see `pipit rules list`)",
                before.name, args.name
            ),
        ));
    };
    let given = [
        &args.new_name,
        &args.from,
        &args.to,
        &args.subject,
        &args.header,
        &args.larger_than,
        &args.smaller_than,
        &args.action,
    ];
    if given.iter().all(|o| o.is_none()) {
        return Err(usage(
            "say what to change: --name, --from, --to, --subject, --header, --larger-than, --smaller-than or --action",
        ));
    }
    // A field given replaces the rule's; "" removes a condition.
    fn text<T: std::str::FromStr<Err = String>>(
        field: &str,
        value: Option<String>,
        old: Option<T>,
    ) -> Result<Option<T>, Failure> {
        match value {
            None => Ok(old),
            Some(v) if v.is_empty() => Ok(None),
            v => parsed(field, v),
        }
    }
    fn bytes(field: &str, value: Option<String>, old: Option<u64>) -> Result<Option<u64>, Failure> {
        match value {
            None => Ok(old),
            Some(v) if v.is_empty() => Ok(None),
            Some(v) => v.trim().parse().map(Some).map_err(|_| {
                usage(format!(
                    "{}: {v:?} is not a number of bytes; give one like 100000, or \"\" for any size",
                    option(field)
                ))
            }),
        }
    }
    let old = old.clone();
    let fields = RuleFields {
        name: match args.new_name {
            Some(n) => n.parse().map_err(|e| usage(format!("--name: {e}")))?,
            None => old.name.clone(),
        },
        from: text("from", args.from, old.from.clone())?,
        to: text("to", args.to, old.to.clone())?,
        subject: text("subject", args.subject, old.subject.clone())?,
        header: text("header", args.header, old.header.clone())?,
        larger_than: bytes("larger_than", args.larger_than, old.larger_than)?,
        smaller_than: bytes("smaller_than", args.smaller_than, old.smaller_than)?,
        action: match args.action {
            Some(a) => a.parse().map_err(|e| usage(format!("--action: {e}")))?,
            None => old.action,
        },
    };
    let rule = checked(fields)?;
    let name = before.name.clone();
    let Some(account) = config.accounts.iter_mut().find(|a| a.name == name) else {
        return Err(ConfigError::NoSuchAccount(name).into());
    };
    account
        .rules
        .replace(old.name.as_str(), rule.clone())
        .map_err(|e| usage(format!("--name: {}", e.problem)))?;
    let after = account.clone();
    config.save(&paths.config)?;
    if rule.name != old.name && paths.store.exists() {
        Store::open(&paths.store)?.disarm_rule(&name, old.name.as_str())?;
    }
    let then = disarmed_words(paths, &before, &after, Some(rule.name.as_str()))?;
    eprintln!(
        "Changed rule {:?} of account {name:?}: {} → {}.{then}",
        rule.name.as_str(),
        rule.conditions(),
        rule.action.words()
    );
    Ok(())
}

fn move_rule(paths: &Paths, which: &Which, rule: &str, up: bool) -> Result<(), Failure> {
    let mut config = Config::load(&paths.config)?;
    let before = account(&config, which)?.clone();
    let name = before.name.clone();
    let Some(account) = config.accounts.iter_mut().find(|a| a.name == name) else {
        return Err(ConfigError::NoSuchAccount(name).into());
    };
    let count = account.rules.iter().count();
    match account.rules.move_rule(rule, up) {
        None => {
            return Err(Failure::new(
                exit::OTHER,
                format!("account {name:?} has no rule named {rule:?} (see `pipit rules list`)"),
            ));
        }
        Some(false) => {
            eprintln!(
                "Rule {rule:?} is {} already; nothing changed.",
                if up { "first" } else { "last" }
            );
            return Ok(());
        }
        Some(true) => {}
    }
    let after = account.clone();
    let place = after
        .rules
        .iter()
        .position(|r| r.name.as_str() == rule)
        .unwrap_or_default()
        + 1;
    config.save(&paths.config)?;
    let then = disarmed_words(paths, &before, &after, None)?;
    eprintln!(
        "Moved rule {rule:?} of account {name:?} {}: it is now rule {place} of {count}.{then}",
        if up { "up" } else { "down" }
    );
    Ok(())
}

fn add(paths: &Paths, args: AddArgs) -> Result<(), Failure> {
    let name: RuleName = args.name.parse().map_err(|e| usage(format!("NAME: {e}")))?;
    let fields = RuleFields {
        name,
        from: parsed("from", args.from)?,
        to: parsed("to", args.to)?,
        subject: parsed("subject", args.subject)?,
        header: parsed("header", args.header)?,
        larger_than: args.larger_than,
        smaller_than: args.smaller_than,
        action: args
            .action
            .parse()
            .map_err(|e| usage(format!("--action: {e}")))?,
    };
    let rule = checked(fields)?;
    let mut config = Config::load(&paths.config)?;
    let name = account(&config, &args.which)?.name.clone();
    let Some(account) = config.accounts.iter_mut().find(|a| a.name == name) else {
        return Err(ConfigError::NoSuchAccount(name).into());
    };
    account
        .rules
        .push(rule.clone())
        .map_err(|e| usage(format!("NAME: {}", e.problem)))?;
    config.save(&paths.config)?;
    let then = if rule.action == RuleAction::Delete {
        format!(
            " It deletes nothing until you have seen what it matches: run pipit rules test {} --account {name}",
            rule.name
        )
    } else {
        String::new()
    };
    eprintln!(
        "Added rule {:?} to account {name:?}: {} → {}.{then}",
        rule.name.as_str(),
        rule.conditions(),
        rule.action.words()
    );
    Ok(())
}

fn remove(paths: &Paths, which: &Which, rule: &str) -> Result<(), Failure> {
    let mut config = Config::load(&paths.config)?;
    let name = account(&config, which)?.name.clone();
    let Some(account) = config.accounts.iter_mut().find(|a| a.name == name) else {
        return Err(ConfigError::NoSuchAccount(name).into());
    };
    if account.rules.remove(rule).is_none() {
        return Err(Failure::new(
            exit::OTHER,
            format!("account {name:?} has no rule named {rule:?} (see `pipit rules list`)"),
        ));
    }
    config.save(&paths.config)?;
    if paths.store.exists() {
        Store::open(&paths.store)?.disarm_rule(&name, rule)?;
    }
    eprintln!("Removed rule {rule:?} from account {name:?}.");
    Ok(())
}

/// One message a rule matches in a dry run.
#[derive(Serialize)]
struct Match {
    message: i64,
    uid: Option<String>,
    from: String,
    subject: String,
    size: u64,
    state: MessageState,
    /// Whether the rule would act on it at the next fetch (else the store
    /// has it whole, or the user chose for it: rules leave it alone).
    acts: bool,
}

#[derive(Serialize)]
struct Tested {
    name: String,
    action: RuleAction,
    conditions: String,
    /// A deleting rule: armed by this dry run.
    armed: bool,
    matches: Vec<Match>,
}

#[derive(Serialize)]
struct TestReport {
    account: String,
    /// Messages on the server as of the last fetch.
    on_server: usize,
    last_fetch: Option<i64>,
    rules: Vec<Tested>,
}

fn test(paths: &Paths, which: &Which, only: Option<&str>, json: bool) -> Result<(), Failure> {
    let config = Config::load(&paths.config)?;
    let account = account(&config, which)?;
    if let Some(name) = only
        && account.rules.get(name).is_none()
    {
        return Err(Failure::new(
            exit::OTHER,
            format!(
                "account {:?} has no rule named {name:?} (see `pipit rules list`)",
                account.name
            ),
        ));
    }
    let store = Store::open(&paths.store)?;
    let last_fetch = store.account_state(&account.name)?.last_login;
    let on_server = store.on_server_headers(&account.name)?;
    let mut report = TestReport {
        account: account.name.clone(),
        on_server: on_server.len(),
        last_fetch,
        rules: account
            .rules
            .iter()
            .filter(|r| only.is_none_or(|n| r.name.as_str() == n))
            .map(|r| Tested {
                name: r.name.to_string(),
                action: r.action,
                conditions: r.conditions(),
                armed: false,
                matches: Vec::new(),
            })
            .collect(),
    };
    for m in &on_server {
        let message = rules::Message::from_header_block(&m.header_block, m.size);
        // The first rule that matches decides, as at a fetch.
        let Some(rule) = account.rules.first_match(&message) else {
            continue;
        };
        let Some(tested) = report
            .rules
            .iter_mut()
            .find(|t| t.name == rule.name.as_str())
        else {
            continue;
        };
        tested.matches.push(Match {
            message: m.message,
            uid: m.uid.clone(),
            from: m.from.clone(),
            subject: m.subject.clone(),
            size: m.size,
            state: m.state,
            acts: m.state == MessageState::Headers && !m.users_choice,
        });
    }
    // Arming: the one thing a dry run writes; not before a fetch has shown
    // what is on the server.
    let now = unix_now();
    for t in report.rules.iter_mut().filter(|_| last_fetch.is_some()) {
        if let Some(rule) = account.rules.get(&t.name)
            && rule.action == RuleAction::Delete
        {
            store.arm_rule(
                &account.name,
                &t.name,
                &account.arming_fingerprint(rule),
                now,
            )?;
            t.armed = true;
        }
    }
    if json {
        super::emit(&serde_json::to_string_pretty(&report).expect("report serialises"));
        return Ok(());
    }
    let mut out = match last_fetch {
        Some(at) => format!(
            "Dry run of account {:?}'s rules on the {} messages on its server at the last fetch ({}): nothing on the server or in your mail is changed; the deleting rules shown are armed.\n",
            account.name,
            report.on_server,
            crate::dates::Civil::from_unix(at).short()
        ),
        None => format!(
            "Account {:?} has not been fetched yet, so Pipit knows no message on its server and arms no rule: fetch first (a deleting rule not armed only leaves what it matches on the server), then test again.\n",
            account.name
        ),
    };
    if report.rules.is_empty() {
        out.push_str("It has no rules.\n");
    }
    for t in &report.rules {
        let acting = t.matches.iter().filter(|m| m.acts).count();
        let verb = match t.action {
            RuleAction::Delete => "would delete on the server",
            RuleAction::HeadersOnly => "would keep as headers only",
            RuleAction::LeaveOnServer => "would leave on the server",
            RuleAction::Download => "would download",
        };
        out.push_str(&format!(
            "\nrule {}: {} → {}\n  matches {} message{}; {verb}: {acting}",
            reveal::field(&t.name),
            reveal::field(&t.conditions),
            t.action.words(),
            t.matches.len(),
            if t.matches.len() == 1 { "" } else { "s" },
        ));
        if acting < t.matches.len() {
            out.push_str(&format!(
                " ({} stored whole or chosen by you: rules leave those to the account's policy)",
                t.matches.len() - acting
            ));
        }
        out.push('\n');
        for m in &t.matches {
            out.push_str(&format!(
                "  {:>6}  {:<30.30}  {}  {}{}\n",
                m.message,
                reveal::field(&m.from),
                reveal::field(&m.subject),
                human_bytes(m.size),
                if m.acts { "" } else { "  (left alone)" }
            ));
        }
        if t.armed {
            out.push_str(
                "  armed: from the next fetch it deletes what it matches, unread (headers kept 30 days: pipit rules deleted); editing the rule disarms it\n",
            );
        }
    }
    super::emit(out.trim_end_matches('\n'));
    Ok(())
}

fn deleted(paths: &Paths, which: &Which, json: bool) -> Result<(), Failure> {
    let config = Config::load(&paths.config)?;
    let account = match &which.account {
        Some(_) => Some(account(&config, which)?.name.clone()),
        None => None,
    };
    let store = Store::open(&paths.store)?;
    let deleted = store.deleted_by_rule(account.as_deref())?;
    if json {
        super::emit(&serde_json::to_string_pretty(&deleted).expect("list serialises"));
        return Ok(());
    }
    if deleted.is_empty() {
        eprintln!("No message was deleted by a rule in the last 30 days.");
        return Ok(());
    }
    let mut out = String::new();
    for d in &deleted {
        out.push_str(&format!(
            "{:>6}  {}  rule {:<12}  {:<30.30}  {}  {}{}\n",
            d.summary.id,
            crate::dates::Civil::from_unix(d.at).short(),
            reveal::field(&d.rule),
            reveal::field(&d.summary.from),
            reveal::field(&d.summary.subject),
            human_bytes(d.summary.size),
            if d.summary.on_server {
                "  (DELE not confirmed yet: still on the server)"
            } else {
                ""
            }
        ));
    }
    super::emit(out.trim_end_matches('\n'));
    Ok(())
}
