//! The rules editor: an account's rules before download, each with what it
//! matches among the messages on the server as of the last fetch, and a new
//! rule with a live "would match N messages on the server". A rule is
//! checked by the code that reads the config (`crate::rules`), and saved in
//! the config. A deleting rule is armed here only from its list of matches
//! (the window's dry run), as `pipit rules test` arms it; an edited rule is
//! a new rule, not armed.
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
use crate::rules::{self, Rule, RuleAction, RuleFields};
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

/// The dialog's state.
pub struct RulesDraft {
    pub account: String,
    pub name: String,
    pub from: String,
    pub to: String,
    pub subject: String,
    pub header: String,
    pub larger_than: String,
    pub smaller_than: String,
    pub action: RuleAction,
    /// Why the last Add did not work.
    pub error: Option<String>,
    on_server: Promise<Result<OnServer, String>>,
    /// An arming being written.
    arming: Option<Promise<Result<(String, String), String>>>,
    /// The config being written, after an Add (true) or a Remove.
    saving: Option<(bool, Promise<Result<Config, String>>)>,
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
            name: String::new(),
            from: String::new(),
            to: String::new(),
            subject: String::new(),
            header: String::new(),
            larger_than: String::new(),
            smaller_than: String::new(),
            action: RuleAction::HeadersOnly,
            error: None,
            on_server: load(app, account.to_string()),
            arming: None,
            saving: None,
        }
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

fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

pub fn ui(ctx: &egui::Context, app: &mut PipitApp) {
    let Some(mut draft) = app.rules_dialog.take() else {
        return;
    };
    let mut close = false;
    let mut add: Option<Rule> = None;
    let mut remove: Option<String> = None;
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
            }
            Err(e) => draft.error = Some(format!("The rule could not be armed: {e}")),
        }
        draft.arming = None;
    }
    let accounts: Vec<String> = app.config.accounts.iter().map(|a| a.name.clone()).collect();
    let fresh = app.dialog_fresh;
    modal(ctx, Dialog::Rules.id(), |ui| {
        // Within the window, however small or zoomed in: the rules and the
        // new rule's fields scroll, Add rule and Close stay in sight.
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
                let mut taken = vec![false; known.map_or(0, |k| k.messages.len())];
                for rule in &rules {
                    let matched: Vec<&Known> = known
                        .map(|k| {
                            k.messages
                                .iter()
                                .zip(taken.iter_mut())
                                .filter(|(m, taken)| !**taken && rule.matches(&m.message))
                                .map(|(m, taken)| {
                                    *taken = true;
                                    m
                                })
                                .collect()
                        })
                        .unwrap_or_default();
                    let acting = matched.iter().filter(|m| m.acts).count();
                    let armed = known
                        .is_some_and(|k| k.armed.get(rule.name.as_str()) == Some(&arming(rule)));
                    ui.separator();
                    ui.horizontal_wrapped(|ui| {
                        ui.label(RichText::new(rule.name.as_str()).strong());
                        ui.label(format!("{} → {}", rule.conditions(), rule.action.words()));
                        if ui
                            .add_enabled(
                                draft.saving.is_none(),
                                egui::Button::new(format!("Remove rule {}", rule.name)),
                            )
                            .clicked()
                        {
                            remove = Some(rule.name.to_string());
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

                // A new rule.
                ui.separator();
                ui.label(RichText::new("New rule").strong());
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
                        (Ok(rule), Some(k)) => {
                            // As it would be added: last, so what a rule above
                            // matches is not its, and only what is not stored
                            // whole is acted on.
                            let (mut n, mut acting, mut before) = (0, 0, 0);
                            for (m, taken) in k.messages.iter().zip(&taken) {
                                if !rule.matches(&m.message) {
                                    continue;
                                }
                                if *taken {
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
            if ui
                .add_enabled(draft.saving.is_none(), egui::Button::new("Add rule"))
                .clicked()
            {
                match draft.rule(true) {
                    Ok(rule) => add = Some(rule),
                    Err(e) => draft.error = Some(e),
                }
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

    if let Some((added, done)) = draft.saving.as_ref().map(|(a, p)| (*a, p.ready()))
        && let Some(done) = done
    {
        match done {
            Ok(config) => {
                app.config = config.clone();
                let account = draft.account.clone();
                if added {
                    draft = RulesDraft::new(app, &account);
                } else {
                    draft.saving = None;
                }
                draft.error = None;
            }
            Err(e) => {
                draft.error = Some(e.clone());
                draft.saving = None;
            }
        }
    }
    if (add.is_some() || remove.is_some()) && draft.saving.is_none() {
        let account = draft.account.clone();
        let path = app.paths().config.clone();
        let store = app.paths().store.clone();
        let added = add.is_some();
        draft.saving = Some((
            added,
            spawn(app, "pipit-save-rules", move || {
                let mut config = Config::load(&path).map_err(|e| e.to_string())?;
                let Some(a) = config.accounts.iter_mut().find(|a| a.name == account) else {
                    return Err(format!("there is no account named {account:?} any more"));
                };
                if let Some(rule) = add {
                    a.rules.push(rule).map_err(|e| e.problem)?;
                }
                if let Some(name) = &remove {
                    a.rules.remove(name);
                }
                config.save(&path).map_err(|e| e.to_string())?;
                if let Some(name) = &remove {
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
