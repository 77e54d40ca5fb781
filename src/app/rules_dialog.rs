//! The rules editor: an account's rules before download, each with what it
//! matches among the messages on the server as of the last fetch, and a new
//! rule with a live "would match N messages on the server". A rule is
//! checked by the code that reads the config (`crate::rules`), and saved in
//! the config. A rule is edited in place (the same form, filled with it)
//! and moved up or down (the first that matches decides). A deleting rule
//! is armed here only from its list of matches (the window's dry run), as
//! `pipit rules test` arms it; an edited rule is a new rule, not armed, and
//! so is a deleting rule whose rules before it were edited or moved: the
//! window says which.
//!
//! The messages on the server and the armings are read from the store on a
//! thread of their own (a `Promise`); matching them is pure and quick.

use std::collections::HashMap;

use egui::RichText;
use poll_promise::Promise;

use super::dialogs::{Dialog, default_button, modal};
use super::{PipitApp, View};
use crate::config::Config;
use crate::dates::unix_now;
use crate::rules::{self, Rule, RuleAction, RuleFields, Rules};
use crate::store::{MessageState, Store};

/// Matches listed under a rule, at most.
const SHOWN_MATCHES: usize = 8;

/// What the store knows of the account's server, for the rules to look at.
pub struct OnServer {
    messages: Vec<Known>,
    /// Rule name → the fingerprint it was armed with.
    armed: HashMap<String, String>,
    /// A fetch has shown what is on the server: only then can a rule be
    /// seen to match, and be armed.
    fetched: bool,
}

struct Known {
    message: rules::Message<'static>,
    subject: String,
    /// The rules act on it (not stored whole, not the user's choice).
    acts: bool,
}

/// A change to the account's rules, saved in the config.
#[derive(Clone, Debug)]
enum Change {
    Add(Rule),
    Remove(String),
    /// The rule named so, replaced at its place.
    Replace(String, Rule),
    /// The rule named so, one place up (true) or down.
    Move(String, bool),
}

impl Change {
    /// Applies it to `rules`, checked as the config's rules are.
    fn apply(&self, rules: &mut Rules) -> Result<(), String> {
        let gone = |name: &str| format!("there is no rule named {name:?} any more");
        match self {
            Change::Add(rule) => rules
                .push(rule.clone())
                .map_err(|e| format!("Name: {}", e.problem)),
            // Gone already (removed elsewhere): what was asked is done.
            Change::Remove(name) => {
                rules.remove(name);
                Ok(())
            }
            Change::Replace(name, rule) => rules
                .replace(name, rule.clone())
                .map_err(|e| format!("Name: {}", e.problem))?
                .map(|_| ())
                .ok_or_else(|| gone(name)),
            Change::Move(name, up) => rules
                .move_rule(name, *up)
                .map(|_| ())
                .ok_or_else(|| gone(name)),
        }
    }

    /// A rule name whose arming the store should forget: a removed rule,
    /// or an edited rule's old name.
    fn forgets(&self) -> Option<&str> {
        match self {
            Change::Remove(name) => Some(name),
            Change::Replace(name, rule) if rule.name.as_str() != name => Some(name),
            _ => None,
        }
    }
}

/// The dialog's state.
pub struct RulesDraft {
    pub account: String,
    /// The rule being edited (its name as saved), else the form adds one.
    pub editing: Option<String>,
    pub name: String,
    pub from: String,
    pub to: String,
    pub subject: String,
    pub header: String,
    pub larger_than: String,
    pub smaller_than: String,
    pub action: RuleAction,
    /// Why the last Add or Save did not work.
    pub error: Option<String>,
    /// What the last change did to the deleting rules' arming.
    pub notice: Option<String>,
    on_server: Promise<Result<OnServer, String>>,
    /// An arming being written.
    arming: Option<Promise<Result<(String, String), String>>>,
    /// The config being written, after this change.
    saving: Option<(Change, Promise<Result<Config, String>>)>,
    /// Edit was pressed: the form scrolls into sight in the next frame
    /// (below a long list of rules it would be out of sight).
    show_form: bool,
}

/// Runs `job` off the UI thread; the window repaints when it is done.
fn spawn<T: Send + 'static>(
    app: &PipitApp,
    name: &str,
    job: impl FnOnce() -> Result<T, String> + Send + 'static,
) -> Promise<Result<T, String>> {
    crate::worker::spawn_promise(name, app.notify.clone(), job, |e| {
        Err(format!("no thread could be started: {e}"))
    })
}

fn load(app: &PipitApp, account: String) -> Promise<Result<OnServer, String>> {
    let store = app.paths().store.clone();
    spawn(app, "pipit-rules", move || {
        let store = Store::open(&store).map_err(|e| e.to_string())?;
        let messages = store
            .on_server_headers(&account)
            .map_err(|e| e.to_string())?
            .into_iter()
            .map(|m| Known {
                message: rules::Message::from_header_block(&m.header_block, m.size),
                acts: m.state == MessageState::Headers && !m.users_choice,
                subject: m.subject,
            })
            .collect();
        let armed = store.armed_rules(&account).map_err(|e| e.to_string())?;
        let fetched = store
            .account_state(&account)
            .map_err(|e| e.to_string())?
            .last_login
            .is_some();
        Ok(OnServer {
            messages,
            armed,
            fetched,
        })
    })
}

impl RulesDraft {
    pub fn new(app: &PipitApp, account: &str) -> RulesDraft {
        RulesDraft {
            account: account.to_string(),
            editing: None,
            name: String::new(),
            from: String::new(),
            to: String::new(),
            subject: String::new(),
            header: String::new(),
            larger_than: String::new(),
            smaller_than: String::new(),
            action: RuleAction::HeadersOnly,
            error: None,
            notice: None,
            on_server: load(app, account.to_string()),
            arming: None,
            saving: None,
            show_form: false,
        }
    }

    /// Fills the form with `rule`, to edit it in place.
    fn edit(&mut self, rule: &Rule) {
        let text = |p: &Option<rules::Pattern>| {
            p.as_ref()
                .map(|p| p.as_str().to_string())
                .unwrap_or_default()
        };
        let number = |n: Option<u64>| n.map(|n| n.to_string()).unwrap_or_default();
        self.editing = Some(rule.name.to_string());
        self.name = rule.name.to_string();
        self.from = text(&rule.from);
        self.to = text(&rule.to);
        self.subject = text(&rule.subject);
        self.header = rule
            .header
            .as_ref()
            .map(|h| h.to_string())
            .unwrap_or_default();
        self.larger_than = number(rule.larger_than);
        self.smaller_than = number(rule.smaller_than);
        self.action = rule.action;
        self.error = None;
        self.show_form = true;
    }

    /// Empties the form, for a new rule.
    fn clear(&mut self) {
        self.editing = None;
        for field in [
            &mut self.name,
            &mut self.from,
            &mut self.to,
            &mut self.subject,
            &mut self.header,
            &mut self.larger_than,
            &mut self.smaller_than,
        ] {
            field.clear();
        }
        self.action = RuleAction::HeadersOnly;
        self.error = None;
    }

    /// The account a Rules… button means: the one in view, else the first.
    pub fn account_for(app: &PipitApp) -> Option<String> {
        match &app.view {
            View::Account(name) if app.config.account(name).is_ok() => Some(name.clone()),
            _ => app.config.accounts.first().map(|a| a.name.clone()),
        }
    }

    /// The new rule as typed, checked as the config file's rules are; with
    /// no name yet, a stand-in (so the count shows while typing).
    fn rule(&self, named: bool) -> Result<Rule, String> {
        fn opt<T: std::str::FromStr<Err = String>>(
            label: &str,
            text: &str,
        ) -> Result<Option<T>, String> {
            let text = text.trim();
            if text.is_empty() {
                return Ok(None);
            }
            text.parse().map(Some).map_err(|e| format!("{label}: {e}"))
        }
        fn bytes(label: &str, text: &str) -> Result<Option<u64>, String> {
            let text = text.trim();
            if text.is_empty() {
                return Ok(None);
            }
            text.parse()
                .map(Some)
                .map_err(|_| format!("{label}: give a number of bytes, like 100000"))
        }
        let name = if !named && self.name.trim().is_empty() {
            "new rule".parse()
        } else {
            self.name.trim().parse()
        };
        let fields = RuleFields {
            name: name.map_err(|e| format!("Name: {e}"))?,
            from: opt("From", &self.from)?,
            to: opt("To or Cc", &self.to)?,
            subject: opt("Subject", &self.subject)?,
            header: opt("Header", &self.header)?,
            larger_than: bytes("Larger than", &self.larger_than)?,
            smaller_than: bytes("Smaller than", &self.smaller_than)?,
            action: self.action,
        };
        Rule::try_from(fields).map_err(|e| e.problem)
    }
}

/// What a saved change did to the deleting rules' arming, in words: an
/// edited deleting rule needs its dry run again, and so does an armed one
/// whose rules before it changed (edited, moved, removed).
fn disarmed_notice(
    change: &Change,
    before: &crate::config::Account,
    after: &crate::config::Account,
    armed: &HashMap<String, String>,
) -> Option<String> {
    let edited = match change {
        Change::Replace(_, rule) => Some(rule.name.as_str()),
        _ => None,
    };
    let was_armed = |name: &str| {
        before
            .rules
            .get(name)
            .is_some_and(|r| armed.get(name) == Some(&before.arming_fingerprint(r)))
    };
    let mut said = Vec::new();
    let disarmed = after.rules.disarmed_since(&before.rules);
    if let Some(name) = edited
        && disarmed.iter().any(|r| r.name.as_str() == name)
    {
        said.push("Edited: run a dry run (Arm) again before it deletes.".to_string());
    }
    let others: Vec<String> = disarmed
        .iter()
        .map(|r| r.name.as_str())
        .filter(|name| Some(*name) != edited && was_armed(name))
        .map(|name| format!("\u{201c}{name}\u{201d}"))
        .collect();
    if !others.is_empty() {
        let (is, it, them, its, deletes) = if others.len() == 1 {
            ("is", "it", "it", "its", "deletes")
        } else {
            ("are", "they", "them", "their", "delete")
        };
        said.push(format!(
            "{} {is} no longer armed, as the rules before {them} changed: arm {them} again \
from {its} matches before {it} {deletes}.",
            others.join(", "),
        ));
    }
    (!said.is_empty()).then(|| said.join(" "))
}

fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

pub fn ui(ctx: &egui::Context, app: &mut PipitApp) {
    let Some(mut draft) = app.rules_dialog.take() else {
        return;
    };
    let mut close = false;
    let mut change: Option<Change> = None;
    let mut edit: Option<Rule> = None;
    let mut arm: Option<(String, String)> = None;
    let account = app.config.account(&draft.account).ok().cloned();
    let rules = account
        .as_ref()
        .map(|a| a.rules.clone())
        .unwrap_or_default();
    // What arming is kept with (the rule, those before it, this server).
    let arming = |rule: &Rule| {
        account
            .as_ref()
            .map(|a| a.arming_fingerprint(rule))
            .unwrap_or_default()
    };
    if let Some(done) = draft.arming.as_ref().and_then(|p| p.ready()) {
        match done {
            Ok((name, fingerprint)) => {
                if let Some(Ok(on)) = draft.on_server.ready_mut() {
                    on.armed.insert(name.clone(), fingerprint.clone());
                }
                // What an edit or a move disarmed is armed again, or shown
                // as not armed under its rule.
                draft.notice = None;
            }
            Err(e) => draft.error = Some(format!("The rule could not be armed: {e}")),
        }
        draft.arming = None;
    }
    let accounts: Vec<String> = app.config.accounts.iter().map(|a| a.name.clone()).collect();
    let fresh = app.dialog_fresh;
    modal(ctx, Dialog::Rules.id(), |ui| {
        // Within the window, however small or zoomed in: the rules and the
        // rule's fields scroll, the buttons and Close stay in sight.
        let screen = ui.ctx().content_rect();
        ui.set_max_width(620.0_f32.min(screen.width() - 60.0).max(200.0));
        let room = (screen.height() - 110.0).max(120.0);
        egui::ScrollArea::vertical()
            .id_salt("rules-scroll")
            .max_height(room)
            .show(ui, |ui| {
                ui.heading(format!("Rules of {}", draft.account));
                if accounts.len() > 1 {
                    ui.horizontal_wrapped(|ui| {
                        ui.label("Account:");
                        for name in &accounts {
                            if ui.selectable_label(*name == draft.account, name).clicked()
                                && *name != draft.account
                            {
                                draft = RulesDraft::new(app, name);
                            }
                        }
                    });
                }
                ui.label(
                "Rules decide from a message's headers, before its body is downloaded. The first \
that matches decides; mail no rule matches is downloaded as the account says.",
            );
                ui.add_space(6.0);
                let on_server = draft.on_server.ready();
                match on_server {
                    None => {
                        ui.horizontal(|ui| {
                            ui.spinner();
                            ui.label("Reading what is on the server…");
                        });
                    }
                    Some(Err(e)) => {
                        ui.colored_label(ui.visuals().error_fg_color, e);
                    }
                    Some(Ok(_)) => {}
                }
                let known = on_server.and_then(|r| r.as_ref().ok());

                // The rules there are, each with what it matches now.
                if rules.is_empty() {
                    ui.weak("No rules yet.");
                }
                // Which rule decides for each message (the first that matches).
                let decided: Vec<(&Known, Option<usize>)> = known
                    .map(|k| {
                        k.messages
                            .iter()
                            .map(|m| (m, rules.deciding(&m.message)))
                            .collect()
                    })
                    .unwrap_or_default();
                let count = rules.iter().count();
                for (index, rule) in rules.iter().enumerate() {
                    let matched: Vec<&Known> = decided
                        .iter()
                        .filter(|(_, d)| *d == Some(index))
                        .map(|(m, _)| *m)
                        .collect();
                    let acting = matched.iter().filter(|m| m.acts).count();
                    let armed = known
                        .is_some_and(|k| k.armed.get(rule.name.as_str()) == Some(&arming(rule)));
                    ui.separator();
                    ui.horizontal_wrapped(|ui| {
                        ui.label(RichText::new(rule.name.as_str()).strong());
                        ui.label(format!("{} → {}", rule.conditions(), rule.action.words()));
                    });
                    ui.horizontal_wrapped(|ui| {
                        let idle = draft.saving.is_none();
                        let editing = draft.editing.as_deref() == Some(rule.name.as_str());
                        if ui
                            .add_enabled(
                                idle && !editing,
                                egui::Button::new(format!("Edit rule {}", rule.name)),
                            )
                            .clicked()
                        {
                            edit = Some(rule.clone());
                        }
                        let order = "The first rule that matches decides. A deleting rule that \
changes place, or that a rule passes, is no longer armed until you arm it again.";
                        if ui
                            .add_enabled(
                                idle && index > 0,
                                egui::Button::new(format!("Move {} up", rule.name)),
                            )
                            .on_hover_text(order)
                            .clicked()
                        {
                            change = Some(Change::Move(rule.name.to_string(), true));
                        }
                        if ui
                            .add_enabled(
                                idle && index + 1 < count,
                                egui::Button::new(format!("Move {} down", rule.name)),
                            )
                            .on_hover_text(order)
                            .clicked()
                        {
                            change = Some(Change::Move(rule.name.to_string(), false));
                        }
                        if ui
                            .add_enabled(
                                idle,
                                egui::Button::new(format!("Remove rule {}", rule.name)),
                            )
                            .clicked()
                        {
                            change = Some(Change::Remove(rule.name.to_string()));
                        }
                    });
                    if known.is_some() {
                        ui.label(format!(
                            "Matches {} on the server; acts on {acting}",
                            plural(matched.len(), "message", "messages")
                        ));
                        for m in matched.iter().take(SHOWN_MATCHES) {
                            ui.weak(format!(
                                "  {}{}",
                                crate::reveal::field(&m.subject),
                                if m.acts {
                                    ""
                                } else {
                                    " (stored whole: left alone)"
                                }
                            ));
                        }
                        if matched.len() > SHOWN_MATCHES {
                            ui.weak(format!("  …and {} more", matched.len() - SHOWN_MATCHES));
                        }
                    }
                    if rule.action == RuleAction::Delete {
                        if armed {
                            ui.label(
                                "Armed: it deletes what it matches, unread, at each Get Mail.",
                            );
                        } else {
                            ui.label(
                                "Not armed: it leaves what it matches on the server until you have \
seen its matches above and armed it.",
                            );
                            let label = format!("Arm {}: delete what it matches", rule.name);
                            if ui
                                .add_enabled(
                                    known.is_some_and(|k| k.fetched) && draft.arming.is_none(),
                                    egui::Button::new(label),
                                )
                                .clicked()
                            {
                                arm = Some((rule.name.to_string(), arming(rule)));
                            }
                        }
                    }
                }

                if let Some(notice) = &draft.notice {
                    ui.separator();
                    ui.colored_label(ui.visuals().warn_fg_color, notice);
                }

                // A new rule, or the rule being edited.
                ui.separator();
                let heading = match &draft.editing {
                    Some(name) => format!("Editing {name}"),
                    None => "New rule".to_string(),
                };
                let heading = ui.label(RichText::new(heading).strong());
                if std::mem::take(&mut draft.show_form) {
                    heading.scroll_to_me(Some(egui::Align::TOP));
                }
                egui::Grid::new("new-rule").num_columns(2).show(ui, |ui| {
                    let text = |ui: &mut egui::Ui, label: &str, value: &mut String, hint: &str| {
                        let l = ui.label(label);
                        ui.add(
                            egui::TextEdit::singleline(value)
                                .hint_text(hint)
                                .desired_width(300.0),
                        )
                        .labelled_by(l.id);
                        ui.end_row();
                    };
                    text(ui, "Name", &mut draft.name, "spam");
                    text(ui, "From", &mut draft.from, "text in the sender");
                    text(ui, "To or Cc", &mut draft.to, "text in the recipients");
                    text(ui, "Subject", &mut draft.subject, "text in the subject");
                    text(ui, "Header", &mut draft.header, "X-Spam-Flag: YES");
                    text(ui, "Larger than (bytes)", &mut draft.larger_than, "");
                    text(ui, "Smaller than (bytes)", &mut draft.smaller_than, "");
                    ui.label("Action");
                    ui.horizontal_wrapped(|ui| {
                        for (action, label) in [
                            (RuleAction::HeadersOnly, "Headers only"),
                            (RuleAction::LeaveOnServer, "Leave on server"),
                            (RuleAction::Delete, "Delete on server"),
                            (RuleAction::Download, "Download"),
                        ] {
                            ui.radio_value(&mut draft.action, action, label)
                                .on_hover_text(action.words());
                        }
                    });
                    ui.end_row();
                });
                let typed = [
                    &draft.from,
                    &draft.to,
                    &draft.subject,
                    &draft.header,
                    &draft.larger_than,
                    &draft.smaller_than,
                ]
                .iter()
                .any(|t| !t.trim().is_empty());
                if typed {
                    match (draft.rule(false), known) {
                        (Ok(rule), Some(_)) => {
                            // As the rule would stand: what a rule above it matches
                            // is not its (the first that matches decides), and only
                            // what is not stored whole is acted on.
                            // Where it stands: in its place when edited, else last.
                            let place = draft
                                .editing
                                .as_deref()
                                .and_then(|name| rules.iter().position(|r| r.name.as_str() == name))
                                .unwrap_or(count);
                            let (mut n, mut acting, mut before) = (0, 0, 0);
                            for (m, d) in &decided {
                                if !rule.matches(&m.message) {
                                    continue;
                                }
                                if d.is_some_and(|i| i < place) {
                                    before += 1;
                                    continue;
                                }
                                n += 1;
                                if m.acts {
                                    acting += 1;
                                }
                            }
                            let mut said = format!(
                                "Would match {} on the server; would act on {acting}",
                                plural(n, "message", "messages")
                            );
                            if before > 0 {
                                said.push_str(&format!(
                                    " ({before} more matched first by a rule above)"
                                ));
                            }
                            ui.label(said);
                        }
                        (Ok(_), None) => {}
                        (Err(e), _) => {
                            ui.colored_label(ui.visuals().error_fg_color, e);
                        }
                    }
                }
                if let Some(e) = &draft.error {
                    ui.colored_label(ui.visuals().error_fg_color, e);
                }
            });
        ui.add_space(6.0);
        ui.horizontal(|ui| {
            let label = if draft.editing.is_some() {
                "Save rule"
            } else {
                "Add rule"
            };
            if ui
                .add_enabled(draft.saving.is_none(), egui::Button::new(label))
                .clicked()
            {
                let wanted = draft.rule(true).and_then(|rule| {
                    let wanted = match &draft.editing {
                        Some(name) => Change::Replace(name.clone(), rule),
                        None => Change::Add(rule),
                    };
                    // Checked here too, so a clash shows at once.
                    wanted.apply(&mut rules.clone())?;
                    Ok(wanted)
                });
                match wanted {
                    Ok(wanted) => change = Some(wanted),
                    Err(e) => draft.error = Some(e),
                }
            }
            if draft.editing.is_some() && ui.button("Cancel").clicked() {
                draft.clear();
            }
            let close_button = default_button(ui, "Close");
            if fresh {
                close_button.request_focus();
            }
            if close_button.clicked() {
                close = true;
            }
        });
    });

    if let Some(rule) = edit {
        draft.edit(&rule);
    }
    if let Some((done, result)) = draft
        .saving
        .as_ref()
        .and_then(|(c, p)| p.ready().map(|r| (c.clone(), r.clone())))
    {
        draft.saving = None;
        match result {
            Ok(config) => {
                let armed = draft
                    .on_server
                    .ready()
                    .and_then(|r| r.as_ref().ok())
                    .map(|k| k.armed.clone())
                    .unwrap_or_default();
                let notice = match (
                    app.config.account(&draft.account).ok(),
                    config.account(&draft.account).ok(),
                ) {
                    (Some(before), Some(after)) => disarmed_notice(&done, before, after, &armed),
                    _ => None,
                };
                app.config = config;
                match &done {
                    Change::Add(_) => {
                        let account = draft.account.clone();
                        draft = RulesDraft::new(app, &account);
                    }
                    Change::Replace(..) => draft.clear(),
                    Change::Remove(name) if draft.editing.as_ref() == Some(name) => draft.clear(),
                    Change::Remove(_) | Change::Move(..) => {}
                }
                if let Some(name) = done.forgets()
                    && let Some(Ok(on)) = draft.on_server.ready_mut()
                {
                    on.armed.remove(name);
                }
                draft.error = None;
                draft.notice = notice;
            }
            Err(e) => draft.error = Some(e),
        }
    }
    if let Some(change) = change
        && draft.saving.is_none()
    {
        let account = draft.account.clone();
        let path = app.paths().config.clone();
        let store = app.paths().store.clone();
        let job = change.clone();
        draft.saving = Some((
            change,
            spawn(app, "pipit-save-rules", move || {
                let mut config = Config::load(&path).map_err(|e| e.to_string())?;
                let Some(a) = config.accounts.iter_mut().find(|a| a.name == account) else {
                    return Err(format!("there is no account named {account:?} any more"));
                };
                job.apply(&mut a.rules)?;
                config.save(&path).map_err(|e| e.to_string())?;
                if let Some(name) = job.forgets() {
                    // A rule added again later is tested again before it deletes.
                    Store::open(&store)
                        .and_then(|s| s.disarm_rule(&account, name))
                        .map_err(|e| e.to_string())?;
                }
                Ok(config)
            }),
        ));
    }
    if let Some((name, fingerprint)) = arm {
        let store = app.paths().store.clone();
        let account = draft.account.clone();
        draft.arming = Some(spawn(app, "pipit-arm", move || {
            let store = Store::open(&store).map_err(|e| e.to_string())?;
            store
                .arm_rule(&account, &name, &fingerprint, unix_now())
                .map_err(|e| e.to_string())?;
            Ok((name, fingerprint))
        }));
    }
    if !close {
        app.rules_dialog = Some(draft);
    }
}
