//! Setting up an account: the first-start dialog, "Add account…", and each
//! account's settings (every field, plus Remove), with "Test connection"
//! and "Trust this certificate" for a self-signed server; and re-entering a
//! refused password. Test connection, keychain writes and the config file
//! are each a job on a thread of its own behind a promise; a new test drops
//! the old, and a result shows only for the settings it tested.

use super::address_step::{FoundNote, Looking, Stage};
use super::sign_in::SignInDraft;
use egui::RichText;

use super::{Confirm, PipitApp, words};
use crate::config::{Account, AuthMethod, Config, Policy, Setting};
use crate::net::{NetError, Security};
use crate::secrets::{Password, PasswordSource};
use crate::setup::{self, SetupError};
use crate::sync::{FetchError, ServerInfo};
use crate::worker::Promise;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PolicyChoice {
    Delete,
    KeepDays,
    Keep,
}

/// A field of the dialog, for errors shown beside it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Field {
    Name,
    User,
    Password,
    Host,
    Port,
    KeepDays,
    MaxSize,
    CheckMinutes,
    PasswordCommand,
}

impl Field {
    fn of(setting: Setting) -> Field {
        match setting {
            Setting::Name => Field::Name,
            Setting::Host => Field::Host,
            Setting::Port => Field::Port,
            Setting::User => Field::User,
            Setting::MaxSize => Field::MaxSize,
            Setting::Timeout => Field::Port,
            Setting::PasswordCommand | Setting::Auth => Field::PasswordCommand,
        }
    }
}

/// Room kept above and below a dialog: its frame, and a little screen.
const DIALOG_MARGIN: f32 = 24.0;

/// Where "Test connection" stands.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TestStatus {
    Idle,
    Testing,
    Passed(String),
    /// What failed and what to do; the engine's words, for Details.
    Failed {
        text: String,
        detail: String,
    },
    /// The server's certificate is not trusted; the user may trust it.
    Untrusted {
        fingerprint: String,
        reason: String,
        /// Subject, issuer and validity, when the certificate could be read.
        about: Option<String>,
    },
}

/// Whether the dialog adds an account or changes one.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Purpose {
    FirstStart,
    Add,
    /// The settings of the account of this name.
    Edit(Box<Account>),
}

/// The dialog's fields, as typed.
pub struct AccountDraft {
    pub purpose: Purpose,
    pub name: String,
    pub user: String,
    pub host: String,
    pub port: String,
    pub security: Security,
    pub password: String,
    pub password_command: String,
    pub policy: PolicyChoice,
    pub keep_days: String,
    pub max_size_mb: String,
    pub check_minutes: String,
    pub trust_fingerprint: Option<String>,
    pub status: TestStatus,
    /// A problem not tied to one field (the config file, say).
    pub error: Option<String>,
    /// The engine's words for `error` or a field's error, one click away.
    pub detail: Option<String>,
    /// Save or Test was tried: errors show beside their fields from now on.
    pub checked: bool,
    /// The keychain refused the password: said beside the Password field.
    pub password_error: Option<String>,
    /// The fields, as typed, that the last test was of.
    tested: Option<Typed>,
    /// The server and password source the running or last test used.
    tested_with: Option<words::Tested>,
    test: Option<Promise<Result<ServerInfo, FetchError>>>,
    saving: Option<Promise<Result<Config, SetupError>>>,
    /// The last test of these settings failed and Save was pressed: say
    /// so, and save only on a second word.
    pub save_despite_test: bool,
    /// Another account reads the same mailbox (its name), as the fields
    /// were typed when Save said so: a second Save saves them anyway.
    same_mailbox: Option<(String, Typed)>,
    /// More settings was just opened: keep it in sight while it unfolds.
    reveal_more: u8,
    /// How far More settings was open, as last drawn.
    more_openness: f32,
    /// The height of what is below the fields, as last drawn.
    below: f32,
    /// The field to take the keyboard when it is next drawn (the one a
    /// failure points to); "More settings" opens to show it.
    pub focus: Option<Field>,
    /// Every field as it was when the dialog opened, to tell edits apart.
    opened_as: Option<Snapshot>,
    /// A new account starts from its address; the fields come after.
    pub stage: Stage,
    pub email: String,
    pub email_error: Option<String>,
    /// The lookup of the address's settings, while it runs.
    pub(super) looking: Option<Looking>,
    /// What the lookup found (or did not), said above the fields.
    pub found: Option<FoundNote>,
}

impl std::fmt::Debug for AccountDraft {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AccountDraft")
            .field("purpose", &self.purpose)
            .field("host", &self.host)
            .field("status", &self.status)
            .field("error", &self.error)
            .field("problems", &self.account().err())
            .finish_non_exhaustive()
    }
}

impl AccountDraft {
    /// "Add account…".
    pub fn new() -> AccountDraft {
        AccountDraft {
            purpose: Purpose::Add,
            name: String::new(),
            user: String::new(),
            host: String::new(),
            port: "995".into(),
            security: Security::Tls,
            password: String::new(),
            password_command: String::new(),
            policy: PolicyChoice::Keep,
            keep_days: "14".into(),
            max_size_mb: String::new(),
            check_minutes: "10".into(),
            trust_fingerprint: None,
            status: TestStatus::Idle,
            error: None,
            detail: None,
            checked: false,
            password_error: None,
            tested: None,
            tested_with: None,
            test: None,
            saving: None,
            save_despite_test: false,
            same_mailbox: None,
            reveal_more: 0,
            more_openness: 0.0,
            below: 80.0,
            // The first field has the keyboard when the dialog opens.
            focus: Some(Field::User),
            opened_as: None,
            stage: Stage::Address,
            email: String::new(),
            email_error: None,
            looking: None,
            found: None,
        }
    }

    /// The dialog Pipit opens by itself when no account is set up.
    pub fn first_start() -> AccountDraft {
        AccountDraft {
            purpose: Purpose::FirstStart,
            ..AccountDraft::new()
        }
    }

    /// The settings of an existing account, its fields filled in.
    pub fn edit(account: &Account) -> AccountDraft {
        let (policy, keep_days) = match account.policy {
            Policy::Keep => (PolicyChoice::Keep, "14".to_string()),
            Policy::Delete => (PolicyChoice::Delete, "14".to_string()),
            Policy::KeepDays(n) => (PolicyChoice::KeepDays, n.to_string()),
        };
        AccountDraft {
            purpose: Purpose::Edit(Box::new(account.clone())),
            name: account.name.clone(),
            user: account.user.clone(),
            host: account.host.clone(),
            port: account.port.to_string(),
            security: account.security,
            password_command: account.password_command.clone().unwrap_or_default(),
            policy,
            keep_days,
            max_size_mb: account
                .max_size
                .map(|b| format!("{}", b as f64 / 1_000_000.0))
                .unwrap_or_default(),
            check_minutes: account
                .check_every_minutes
                .map(|m| m.to_string())
                .unwrap_or_else(|| "0".into()),
            trust_fingerprint: account.trust_fingerprint.clone(),
            stage: Stage::Fields,
            ..AccountDraft::new()
        }
    }

    /// The dialog's title.
    pub(super) fn heading(&self) -> String {
        match &self.purpose {
            Purpose::FirstStart => "Welcome to Pipit".to_string(),
            Purpose::Add => "Add an account".to_string(),
            Purpose::Edit(a) => format!("Account settings: {}", a.name),
        }
    }

    fn editing(&self) -> Option<&Account> {
        match &self.purpose {
            Purpose::Edit(a) => Some(a),
            _ => None,
        }
    }

    /// The account these fields describe, or the first thing wrong with them.
    pub fn to_account(&self) -> Result<Account, String> {
        self.account().map_err(|errors| {
            errors
                .into_iter()
                .next()
                .map(|(_, e)| e)
                .unwrap_or_default()
        })
    }

    /// The account these fields describe, or every field's problem. The
    /// numbers are read here; the account is then checked as the command
    /// line checks it (`Account::validate`).
    pub fn account(&self) -> Result<Account, Vec<(Field, String)>> {
        let mut errors = Vec::new();
        let host = self.host.trim();
        let user = self.user.trim();
        let port: u16 = self.port.trim().parse().unwrap_or_else(|_| {
            errors.push((
                Field::Port,
                format!(
                    "Port: {:?} is not a number from 1 to 65535 (usually {} for {}).",
                    self.port,
                    self.security.default_port(),
                    security_label(self.security)
                ),
            ));
            self.security.default_port()
        });
        let policy = match self.policy {
            PolicyChoice::Keep => Policy::Keep,
            PolicyChoice::Delete => Policy::Delete,
            PolicyChoice::KeepDays => {
                Policy::KeepDays(self.keep_days.trim().parse().unwrap_or_else(|_| {
                    errors.push((
                        Field::KeepDays,
                        format!("Keep for: {:?} is not a number of days.", self.keep_days),
                    ));
                    14
                }))
            }
        };
        let max_size = match self.max_size_mb.trim() {
            "" => None,
            mb => mb
                .parse::<f64>()
                .ok()
                .filter(|m| m.is_finite() && *m > 0.0)
                .map(|m| ((m * 1_000_000.0) as u64).max(1))
                .or_else(|| {
                    errors.push((
                        Field::MaxSize,
                        format!(
                            "Size limit: {mb:?} is not a size in MB; leave it empty for no limit."
                        ),
                    ));
                    None
                }),
        };
        let check_every_minutes = match self.check_minutes.trim() {
            "" | "0" => None,
            m => m.parse().map(Some).unwrap_or_else(|_| {
                errors.push((
                    Field::CheckMinutes,
                    format!("Check every: {m:?} is not a number of minutes (0: only by hand)."),
                ));
                None
            }),
        };
        let name = match self.editing() {
            Some(old) => old.name.clone(),
            None if self.name.trim().is_empty() => format!("{user}@{host}"),
            None => self.name.trim().to_string(),
        };
        let old = self.editing();
        let mut account = Account {
            name,
            host: host.to_string(),
            port,
            security: self.security,
            user: user.to_string(),
            auth: old.map_or(AuthMethod::Auto, |a| a.auth),
            password_command: (!self.password_command.trim().is_empty())
                .then(|| self.password_command.trim().to_string()),
            policy,
            max_size,
            trust_fingerprint: self.trust_fingerprint.clone(),
            ca_file: old.and_then(|a| a.ca_file.clone()),
            timeout_secs: old.map_or(30, |a| a.timeout_secs),
            check_every_minutes,
            oauth: old.and_then(|a| a.oauth.clone()),
            // Rules are edited apart; an edit of the account keeps them.
            rules: old.map(|a| a.rules.clone()).unwrap_or_default(),
        };
        // Every field's problem, not just the first: each one found is set
        // aside with a value that passes, and the rest checked again.
        let good = account.clone();
        let mut probe = account.clone();
        for _ in 0..8 {
            match probe.validate() {
                Ok(()) => break,
                Err(e) => {
                    errors.push((Field::of(e.setting), format!("{}: {e}.", e.setting.label())));
                    match e.setting {
                        Setting::Name => probe.name = "x".into(),
                        Setting::Host => probe.host = "example.org".into(),
                        Setting::Port => probe.port = 995,
                        Setting::User => probe.user = "x".into(),
                        Setting::MaxSize => probe.max_size = None,
                        Setting::Timeout => probe.timeout_secs = 30,
                        Setting::PasswordCommand => probe.password_command = None,
                        Setting::Auth => probe.auth = AuthMethod::XOAuth2,
                    }
                }
            }
        }
        if account.password_command.is_none()
            && account.oauth.is_none()
            && self.password.is_empty()
            && self
                .editing()
                .is_none_or(|old| old.password_command.is_some())
        {
            errors.push((
                Field::Password,
                "Password: enter it (or a password command under More settings).".into(),
            ));
        }
        if errors.is_empty() {
            account = good;
            Ok(account)
        } else {
            Err(errors)
        }
    }

    /// Where the password for a test comes from: as typed, the command, or
    /// (changing an account, the password left empty) the keychain.
    fn password_source(&self, account: &Account) -> PasswordSource {
        if !self.password_command.trim().is_empty() {
            PasswordSource::Command(self.password_command.trim().to_string())
        } else if self.password.is_empty()
            && let Some(old) = self.editing()
        {
            old.password_source()
        } else {
            let _ = account;
            PasswordSource::Given(Password::new(self.password.clone()))
        }
    }

    /// The error beside `field`, once Save or Test was tried.
    fn error_of(&self, field: Field, errors: &[(Field, String)]) -> Option<String> {
        if field == Field::Password
            && let Some(e) = &self.password_error
        {
            return Some(e.clone());
        }
        if !self.checked {
            return None;
        }
        errors
            .iter()
            .find(|(f, _)| *f == field)
            .map(|(_, e)| e.clone())
    }
}

impl Default for AccountDraft {
    fn default() -> Self {
        AccountDraft::new()
    }
}

pub(super) fn security_label(security: Security) -> &'static str {
    match security {
        Security::Tls => "TLS",
        Security::Starttls => "STARTTLS",
        Security::Plain => "None (plain text)",
    }
}

/// Every field of the dialog, as typed.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Snapshot(Typed, [String; 4], PolicyChoice);

impl AccountDraft {
    fn snapshot(&self) -> Snapshot {
        Snapshot(
            self.typed(),
            [
                &self.name,
                &self.keep_days,
                &self.max_size_mb,
                &self.check_minutes,
            ]
            .map(String::clone),
            self.policy,
        )
    }

    /// Whether anything was typed or chosen since the dialog opened.
    pub fn edited(&self) -> bool {
        !self.email.trim().is_empty()
            || self
                .opened_as
                .as_ref()
                .is_some_and(|opened| *opened != self.snapshot())
    }
}

/// The fields a connection test depends on, as typed: a test's result
/// stands for exactly these, and any edit of one takes it away, even while
/// the field is not yet valid. (The name and the policy do not change how
/// Pipit connects, so editing them keeps the result.)
#[derive(Clone, Debug, PartialEq, Eq)]
struct Typed([String; 5], Security, Option<String>);

impl AccountDraft {
    fn typed(&self) -> Typed {
        Typed(
            [
                &self.user,
                &self.host,
                &self.port,
                &self.password,
                &self.password_command,
            ]
            .map(String::clone),
            self.security,
            self.trust_fingerprint.clone(),
        )
    }
}

/// Gives `field`'s text box the keyboard if the dialog asked for it.
fn take_focus(draft_focus: &mut Option<Field>, field: Field, response: &egui::Response) {
    if *draft_focus == Some(field) {
        response.request_focus();
        *draft_focus = None;
    }
}

/// A labelled one-line text field (labelled for screen readers and tests
/// too), with its error below it.
pub(super) fn field(
    ui: &mut egui::Ui,
    label: &str,
    value: &mut String,
    hint: &str,
    password: bool,
    error: Option<String>,
) -> egui::Response {
    field_enabled(ui, label, value, hint, password, error, true)
}

/// [`field`], greyed out and not editable unless `enabled`.
fn field_enabled(
    ui: &mut egui::Ui,
    label: &str,
    value: &mut String,
    hint: &str,
    password: bool,
    error: Option<String>,
    enabled: bool,
) -> egui::Response {
    let l = ui.label(label);
    let r = ui
        .vertical(|ui| {
            let r = ui
                .add_enabled(
                    enabled,
                    egui::TextEdit::singleline(value)
                        .hint_text(hint)
                        .password(password)
                        .desired_width(260.0),
                )
                .labelled_by(l.id);
            if let Some(error) = error {
                ui.add(
                    egui::Label::new(RichText::new(error).color(ui.visuals().error_fg_color))
                        .wrap(),
                );
            }
            r
        })
        .inner;
    ui.end_row();
    r
}

pub fn ui(ctx: &egui::Context, app: &mut PipitApp) {
    let Some(mut draft) = app.account_dialog.take() else {
        return;
    };
    if poll(app, &mut draft) {
        return; // saved: the dialog closes
    }
    if draft.opened_as.is_none() {
        draft.opened_as = Some(draft.snapshot());
    }
    if draft.stage == Stage::Address {
        return super::address_step::ui(ctx, app, draft);
    }
    let mut keep_open = true;
    let mut save = false;
    let mut test = false;
    let mut remove = false;
    let mut check = false;
    let mut sign_in = None;
    let signs_in = draft.editing().is_some_and(|a| a.oauth.is_some());
    let errors = draft.account().err().unwrap_or_default();
    let busy = draft.saving.is_some();
    // Enter in a field (or with nothing focused) presses Save, the default;
    // a button with the keyboard is pressed by Enter itself.
    let enter =
        !busy && super::dialogs::enter_presses_default(ctx, app, super::dialogs::Dialog::Account);
    super::dialogs::modal(ctx, super::dialogs::Dialog::Account.id(), |ui| {
        ui.set_width(470.0);
        ui.heading(draft.heading());
        // A found server edited to another: its note and its question go.
        if draft.found.as_ref().is_some_and(|f| {
            !f.server.0.is_empty()
                && f.server
                    != (
                        draft.host.trim().to_string(),
                        draft.port.trim().to_string(),
                        draft.security,
                    )
        }) {
            draft.found = None;
        }
        if let Some(found) = &mut draft.found {
            ui.add(egui::Label::new(found.text.as_str()).wrap());
            if let Some(caution) = &found.caution {
                ui.add(
                    egui::Label::new(
                        RichText::new(caution.as_str()).color(ui.visuals().warn_fg_color),
                    )
                    .wrap(),
                );
            }
            if found.needs_word {
                ui.checkbox(&mut found.agreed, "Use this server anyway");
            }
        } else if draft.purpose == Purpose::FirstStart {
            ui.label("Pipit downloads your mail over POP3 so you can read it offline. Tell it where your mail is.");
        }
        match draft.editing() {
            None => {
                ui.horizontal(|ui| {
                    ui.label("Microsoft, Google, or a mailbox that wants a sign-in?");
                    if ui.button("Sign in instead…").clicked() {
                        let mut s = SignInDraft::new();
                        s.address = draft.user.trim().to_string();
                        sign_in = Some(s);
                    }
                });
            }
            Some(old) if signs_in => {
                ui.horizontal(|ui| {
                    ui.label("This account signs in with OAuth2: it has no password here.");
                    if ui.button("Sign in again…").clicked() {
                        sign_in = Some(SignInDraft::again(old));
                    }
                });
            }
            Some(_) => {}
        }
        ui.add_space(6.0);
        // The fields scroll in what the window leaves once the dialog's
        // top and its bottom (results, errors, buttons: as tall as last
        // drawn) are in sight, so the buttons never fall off a small screen.
        let above = ui.min_rect().height();
        let room = ui.ctx().content_rect().height() - 2.0 * DIALOG_MARGIN - above - draft.below;
        egui::ScrollArea::vertical()
            .max_height(room.max(120.0))
            .show(ui, |ui| {
                egui::Grid::new("account-fields")
                    .num_columns(2)
                    .spacing([10.0, 6.0])
                    .show(ui, |ui| {
                        let e = draft.error_of(Field::User, &errors);
                        let r = field(
                            ui,
                            "User name",
                            &mut draft.user,
                            "you@example.org",
                            false,
                            e,
                        );
                        take_focus(&mut draft.focus, Field::User, &r);
                        // A Password command gives the password: one typed
                        // here would be ignored, so none can be while it is
                        // set; the keychain's is kept only if there is one.
                        let command = !draft.password_command.trim().is_empty();
                        if command {
                            draft.password.clear();
                        }
                        let hint = if command {
                            "from its Password command (More settings)"
                        } else if draft
                            .editing()
                            .is_some_and(|a| a.password_command.is_none())
                        {
                            "leave empty to keep the stored one"
                        } else {
                            "kept in your OS keychain"
                        };
                        if !signs_in {
                            let e = draft.error_of(Field::Password, &errors);
                            let r = field_enabled(
                                ui,
                                "Password",
                                &mut draft.password,
                                hint,
                                true,
                                e,
                                !command,
                            );
                            if r.changed() {
                                draft.password_error = None;
                            }
                            take_focus(&mut draft.focus, Field::Password, &r);
                        }
                        let e = draft.error_of(Field::Host, &errors);
                        let r = field(ui, "Server", &mut draft.host, "pop.example.org", false, e);
                        take_focus(&mut draft.focus, Field::Host, &r);
                        let l = ui.label("Security");
                        let before = draft.security;
                        ui.vertical(|ui| {
                            egui::ComboBox::from_id_salt("security")
                                .selected_text(security_label(draft.security))
                                .show_ui(ui, |ui| {
                                    for s in [Security::Tls, Security::Starttls, Security::Plain] {
                                        ui.selectable_value(
                                            &mut draft.security,
                                            s,
                                            security_label(s),
                                        );
                                    }
                                })
                                .response
                                .labelled_by(l.id);
                            if draft.security == Security::Plain {
                                ui.add(egui::Label::new(RichText::new(
                        "Plain text: your password and your mail cross the network unencrypted, \
for anyone on the way to read. Use it only with a server on this computer or a network you trust.",
                    ).color(ui.visuals().warn_fg_color)).wrap());
                            }
                        });
                        ui.end_row();
                        // The port follows the security choice unless the user changed it.
                        if draft.security != before
                            && draft.port.trim() == before.default_port().to_string()
                        {
                            draft.port = draft.security.default_port().to_string();
                        }
                        let hint = draft.security.default_port().to_string();
                        let e = draft.error_of(Field::Port, &errors);
                        let r = field(ui, "Port", &mut draft.port, &hint, false, e);
                        take_focus(&mut draft.focus, Field::Port, &r);
                        if let Some(old) = draft.editing() {
                            ui.label("Account name");
                            ui.label(&old.name).on_hover_text(
                                "The name files the account's mail; it stays as it was.",
                            );
                            ui.end_row();
                        } else {
                            let e = draft.error_of(Field::Name, &errors);
                            field(
                                ui,
                                "Account name",
                                &mut draft.name,
                                "optional: Home, Work…",
                                false,
                                e,
                            );
                        }
                    });
                ui.add_space(6.0);
                ui.label(RichText::new("On the server").strong());
                ui.radio_value(
                    &mut draft.policy,
                    PolicyChoice::Delete,
                    "Delete after downloading",
                );
                ui.horizontal(|ui| {
                    ui.radio_value(&mut draft.policy, PolicyChoice::KeepDays, "Keep for");
                    let days = ui
                        .add(egui::TextEdit::singleline(&mut draft.keep_days).desired_width(40.0));
                    let l = ui.label("days");
                    days.labelled_by(l.id);
                });
                if let Some(e) = draft.error_of(Field::KeepDays, &errors) {
                    ui.colored_label(ui.visuals().error_fg_color, e);
                }
                ui.radio_value(
                    &mut draft.policy,
                    PolicyChoice::Keep,
                    "Keep until deleted here",
                );
                ui.add_space(4.0);
                // Opened to show the field a failure points to.
                let more_open = draft
                    .focus
                    .is_some_and(|f| {
                        matches!(
                            f,
                            Field::MaxSize | Field::CheckMinutes | Field::PasswordCommand
                        )
                    })
                    .then_some(true);
                let more = egui::CollapsingHeader::new("More settings")
                    .open(more_open)
                    .show(ui, |ui| {
                        egui::Grid::new("account-more")
                            .num_columns(2)
                            .spacing([10.0, 6.0])
                            .show(ui, |ui| {
                                let e = draft.error_of(Field::MaxSize, &errors);
                                let r = field(
                                    ui,
                                    "Size limit (MB)",
                                    &mut draft.max_size_mb,
                                    "larger mail stays on the server",
                                    false,
                                    e,
                                );
                                take_focus(&mut draft.focus, Field::MaxSize, &r);
                                let e = draft.error_of(Field::CheckMinutes, &errors);
                                let r = field(
                                    ui,
                                    "Check every (minutes)",
                                    &mut draft.check_minutes,
                                    "0: only by hand",
                                    false,
                                    e,
                                );
                                take_focus(&mut draft.focus, Field::CheckMinutes, &r);
                                let e = draft.error_of(Field::PasswordCommand, &errors);
                                let r = field(
                                    ui,
                                    "Password command",
                                    &mut draft.password_command,
                                    "instead of the keychain",
                                    false,
                                    e,
                                );
                                take_focus(&mut draft.focus, Field::PasswordCommand, &r);
                            });
                    });
                // Opened in a dialog taller than the window (a small screen,
                // errors under the fields): scrolled into sight as it opens,
                // not left below the fold.
                // (A few frames more once open: the scroll area knows the
                // new height of its contents only a frame later.)
                if more.header_response.clicked() && draft.more_openness < 0.5 {
                    draft.reveal_more = 3;
                }
                draft.more_openness = more.openness;
                if draft.reveal_more > 0 {
                    match &more.body_response {
                        Some(body) => body.scroll_to_me(Some(egui::Align::Max)),
                        None if more.openness <= 0.0 => draft.reveal_more = 0,
                        None => {}
                    }
                    if more.openness >= 1.0 {
                        draft.reveal_more -= 1;
                        ui.ctx().request_repaint();
                    }
                }
            });
        let below_from = ui.min_rect().bottom();
        ui.add_space(6.0);
        status_ui(ui, &mut draft, &mut test);
        if let Some(e) = &draft.error {
            ui.colored_label(ui.visuals().error_fg_color, e);
        }
        if let Some(detail) = &draft.detail {
            details_ui(ui, "account-detail", detail);
        }
        if let Some((other, _)) = &draft.same_mailbox {
            ui.add(
                egui::Label::new(
                    RichText::new(format!(
                        "The account \u{201c}{other}\u{201d} already reads this mailbox (the \
same user on the same server and port): with both, every message shows twice. Save anyway?"
                    ))
                    .color(ui.visuals().warn_fg_color),
                )
                .wrap(),
            );
        }
        if draft.save_despite_test && matches!(draft.status, TestStatus::Failed { .. }) {
            // The failure itself is said just above, once.
            ui.colored_label(
                ui.visuals().warn_fg_color,
                "The last test of these settings failed (above). Save them anyway?",
            );
        }
        ui.add_space(6.0);
        // A found server that needs the user's word gets no password, by a
        // test or a save, before it.
        let unagreed = draft
            .found
            .as_ref()
            .is_some_and(|f| f.needs_word && !f.agreed);
        ui.horizontal(|ui| {
            if ui
                .add_enabled(!busy && !unagreed, egui::Button::new("Test connection"))
                .clicked()
            {
                test = true;
            }
            let save_label = if draft.save_despite_test || draft.same_mailbox.is_some() {
                "Save anyway"
            } else {
                "Save"
            };
            let saved = ui
                .add_enabled_ui(!busy && !unagreed, |ui| {
                    super::dialogs::default_button(ui, save_label)
                })
                .inner;
            let enter = enter && !unagreed;
            if saved.clicked() || enter {
                save = true;
            }
            if ui
                .button("Cancel")
                .on_hover_text("Close without saving (Escape)")
                .clicked()
            {
                keep_open = false;
            }
            if busy {
                ui.spinner();
            }
        });
        // What acts on the saved account, on a row of its own: beside the
        // dialog's answers there is no room for it, and it was drawn over
        // Cancel.
        if draft.editing().is_some() {
            ui.horizontal(|ui| {
                if ui
                    .button("Check server…")
                    .on_hover_text(
                        "Examine the server of the saved settings, read-only: what it does \
wrong, and what Pipit does about it",
                    )
                    .clicked()
                {
                    check = true;
                }
                ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
                    if ui
                        .button(RichText::new("Remove account…").color(ui.visuals().error_fg_color))
                        .on_hover_text("Forget this account (asks first; its mail stays)")
                        .clicked()
                    {
                        remove = true;
                    }
                });
            });
        }
        draft.below = ui.min_rect().bottom() - below_from;
    });
    // A result shows only for the settings it tested: any edit, valid or
    // not yet, takes it away at once.
    // The same for the word on another account reading the same mailbox.
    if draft
        .same_mailbox
        .as_ref()
        .is_some_and(|(_, t)| *t != draft.typed())
    {
        draft.same_mailbox = None;
    }
    if draft.tested.as_ref().is_some_and(|t| *t != draft.typed()) {
        draft.tested = None;
        draft.test = None;
        draft.status = TestStatus::Idle;
        draft.save_despite_test = false;
    }
    if test {
        draft.checked = true;
        match draft.account() {
            Ok(account) => {
                draft.error = None;
                draft.detail = None;
                draft.status = TestStatus::Testing;
                let source = draft.password_source(&account);
                draft.tested_with = Some(words::Tested {
                    host: account.host.clone(),
                    port: account.port,
                    security: account.security,
                    command: matches!(source, PasswordSource::Command(_)),
                });
                // A new test drops the old one, whose answer is never shown.
                draft.test = Some(app.worker().test_connection(account, source));
                draft.tested = Some(draft.typed());
            }
            Err(_) => draft.status = TestStatus::Idle,
        }
    }
    if save {
        draft.checked = true;
        start_saving(app, &mut draft);
    }
    if check && let Some(old) = draft.editing() {
        app.check_server(&old.name.clone());
    }
    if remove && let Some(old) = draft.editing() {
        app.confirm = Some(Confirm::RemoveAccount {
            name: old.name.clone(),
        });
    }
    if let Some(sign_in) = sign_in {
        // The sign-in opens above this dialog, which stays as typed: its
        // Cancel comes back here.
        app.sign_in_dialog = Some(sign_in);
    }
    if keep_open {
        app.account_dialog = Some(draft);
    }
}

/// The engine's own words, one click away.
fn details_ui(ui: &mut egui::Ui, salt: &str, detail: &str) {
    egui::CollapsingHeader::new("Details")
        .id_salt(salt)
        .show(ui, |ui| {
            ui.add(egui::Label::new(RichText::new(detail).monospace()).wrap());
        });
}

fn status_ui(ui: &mut egui::Ui, draft: &mut AccountDraft, test: &mut bool) {
    match &draft.status {
        TestStatus::Idle => {}
        TestStatus::Testing => {
            ui.horizontal(|ui| {
                ui.spinner();
                ui.label("Testing the connection…");
            });
        }
        TestStatus::Passed(text) => {
            ui.colored_label(egui::Color32::from_rgb(40, 140, 60), text);
        }
        TestStatus::Failed { text, detail } => {
            ui.add(egui::Label::new(RichText::new(text).color(ui.visuals().error_fg_color)).wrap());
            details_ui(ui, "test-detail", detail);
        }
        TestStatus::Untrusted {
            fingerprint,
            reason,
            about,
        } => {
            let fingerprint = fingerprint.clone();
            ui.colored_label(
                ui.visuals().error_fg_color,
                format!("The server's certificate is not trusted: {reason}."),
            );
            if let Some(about) = about {
                ui.label(about);
            }
            ui.label("If this is your own server, compare this SHA-256 fingerprint with its certificate's:");
            ui.label(RichText::new(&fingerprint).monospace());
            if ui.button("Trust this certificate").clicked() {
                draft.trust_fingerprint = Some(fingerprint);
                *test = true;
            }
        }
    }
}

/// Saves on a thread: the keychain first, then the config file.
fn start_saving(app: &mut PipitApp, draft: &mut AccountDraft) {
    let account = match draft.account() {
        Ok(a) => a,
        Err(_) => return,
    };
    if let Some(old) = draft.editing()
        && old.name != account.name
    {
        return;
    }
    if draft.editing().is_none() && app.config.accounts.iter().any(|a| a.name == account.name) {
        draft.error = Some(format!(
            "An account named {:?} exists already: choose another name.",
            account.name
        ));
        return;
    }
    let test_failed = matches!(draft.status, TestStatus::Failed { .. })
        && draft.tested.as_ref().is_some_and(|t| *t == draft.typed());
    if test_failed && !draft.save_despite_test {
        draft.save_despite_test = true;
        return;
    }
    // Two accounts on one mailbox show every message twice: said, and
    // saved only on a second word.
    let editing = draft.editing().map(|a| a.name.clone());
    if draft.same_mailbox.is_none()
        && let Some(other) = app
            .config
            .reading_same_mailbox(&account, editing.as_deref())
    {
        draft.same_mailbox = Some((other.name.clone(), draft.typed()));
        return;
    }
    draft.error = None;
    draft.detail = None;
    let password = (!draft.password.is_empty() && account.password_command.is_none())
        .then(|| Password::new(draft.password.clone()));
    let config_path = app.paths().config.clone();
    let old_name = draft.editing().map(|a| a.name.clone());
    // The keychain is D-Bus and the config a file: neither on the UI thread.
    draft.saving = Some(crate::worker::spawn_promise(
        "pipit-save-account",
        app.notify.clone(),
        move || match old_name {
            Some(old) => setup::edit(&config_path, &old, account, password.as_ref())
                .map(|(config, _)| config),
            None => setup::add(&config_path, account, password.as_ref()),
        },
        |e| {
            Err(SetupError::Config(crate::config::ConfigError::Write {
                path: "(a thread for saving)".into(),
                source: e,
            }))
        },
    ));
}

/// Takes in the test's and the save's answers, if they have come; true
/// once the settings are saved.
fn poll(app: &mut PipitApp, draft: &mut AccountDraft) -> bool {
    if draft.test.as_ref().is_some_and(|p| p.ready().is_some())
        && let Some(Ok(result)) = draft.test.take().map(Promise::try_take)
    {
        draft.status = tested(result, draft.tested_with.as_ref());
    }
    if draft.saving.as_ref().is_some_and(|p| p.ready().is_some())
        && let Some(Ok(result)) = draft.saving.take().map(Promise::try_take)
    {
        match result {
            Ok(config) => {
                let added = draft.editing().is_none();
                if let Some(old) = draft.editing() {
                    app.forget_result(&old.name);
                }
                app.config = config;
                app.reload();
                if added {
                    app.get_mail();
                } else {
                    app.say("Settings saved");
                }
                return true;
            }
            Err(SetupError::Keychain(e)) => {
                let said = words::in_the_settings(words::secret_error(&e, "store"));
                draft.password_error = Some(said.line());
                draft.detail = Some(said.detail);
            }
            Err(SetupError::NotMoved(e)) => {
                let said = words::in_the_settings(words::secret_error(&e, "move"));
                draft.password_error = Some(format!(
                    "{} Enter the password here to store it again.",
                    said.line()
                ));
                draft.detail = Some(said.detail);
            }
            Err(SetupError::Invalid(e)) => {
                draft.error = Some(format!("{}: {e}.", e.setting.label()));
            }
            Err(SetupError::Config(e)) => {
                draft.error = Some(
                    "The settings could not be saved: the config file could not be written. \
The detail says where and why."
                        .into(),
                );
                draft.detail = Some(e.to_string());
            }
        }
    }
    false
}

/// "Test connection" came back: what to show.
fn tested(result: Result<ServerInfo, FetchError>, with: Option<&words::Tested>) -> TestStatus {
    match result {
        Ok(info) => TestStatus::Passed(format!(
            "Connected{}: {} message{} ({}) on the server.",
            info.implementation
                .map(|i| format!(" to {}", crate::reveal::field(&i)))
                .unwrap_or_default(),
            info.messages,
            if info.messages == 1 { "" } else { "s" },
            crate::units::human_bytes(info.bytes)
        )),
        Err(FetchError::Net(NetError::Certificate(cert)))
            if cert.pinned.is_none() && cert.seen.is_some() =>
        {
            TestStatus::Untrusted {
                fingerprint: cert
                    .seen
                    .as_ref()
                    .map(ToString::to_string)
                    .unwrap_or_default(),
                reason: cert.reason.clone(),
                about: cert.summary.as_ref().map(|s| {
                    format!(
                        "Certificate for {}, issued by {}, valid from {} to {}.",
                        s.subject, s.issuer, s.not_before, s.not_after
                    )
                }),
            }
        }
        Err(e) => {
            let said = match with {
                Some(with) => words::test_error(&e, with),
                None => words::fetch_error(&e),
            };
            TestStatus::Failed {
                text: said.line(),
                detail: said.detail,
            }
        }
    }
}

/// Removes an account, once confirmed: its settings and keychain password
/// go, on a thread; its mail stays.
pub fn remove_account(app: &mut PipitApp, name: &str) {
    let config_path = app.paths().config.clone();
    let name = name.to_string();
    app.spawn_job("pipit-remove-account", move || {
        let result = setup::remove(&config_path, &name);
        Box::new(move |app: &mut PipitApp| match result {
            Ok((config, removed)) => {
                app.config = config;
                app.account_dialog = None;
                app.forget_result(&name);
                if app.view == super::View::Account(name.clone()) {
                    app.set_view(super::View::All);
                }
                let password = match removed.password {
                    Ok(true) => " Its password was removed from the keychain.",
                    Ok(false) => "",
                    Err(_) => " Its password may still be in the keychain.",
                };
                app.say(format!(
                    "Removed account {name}. Its mail stays in All mail.{password}"
                ));
            }
            Err(e) => app.show_error(
                "The account could not be removed; nothing was changed.",
                e.to_string(),
            ),
        })
    });
}

/// Entering a password the server refused, or the keychain did not have.
#[derive(Clone, Debug)]
pub struct PasswordDraft {
    pub account: String,
    /// The server refused the one in the keychain (else there was none).
    pub refused: bool,
    pub password: String,
    pub error: Option<String>,
    pub detail: Option<String>,
    saving: bool,
    /// Drawn once: the field has had the keyboard.
    focused: bool,
}

impl PasswordDraft {
    pub fn new(account: &str, refused: bool) -> PasswordDraft {
        PasswordDraft {
            account: account.to_string(),
            refused,
            password: String::new(),
            error: None,
            detail: None,
            saving: false,
            focused: false,
        }
    }
}

pub fn ui_password(ctx: &egui::Context, app: &mut PipitApp) {
    let Some(mut draft) = app.password_dialog.take() else {
        return;
    };
    let mut keep_open = true;
    let mut save = false;
    super::dialogs::modal(ctx, super::dialogs::Dialog::Password.id(), |ui| {
        if draft.refused {
            ui.heading("Enter the password again");
            ui.label(format!(
                "The server refused the password of {}.",
                draft.account
            ));
        } else {
            ui.heading("Enter the password");
            ui.label(format!(
                "The keychain holds no password for {}. Pipit keeps the one you enter there.",
                draft.account
            ));
        }
        egui::Grid::new("password-fields")
            .num_columns(2)
            .show(ui, |ui| {
                let error = draft.error.clone();
                let label = if draft.refused {
                    "New password"
                } else {
                    "Password"
                };
                let r = field(ui, label, &mut draft.password, "", true, error);
                if r.changed() {
                    draft.error = None;
                }
                if !draft.focused {
                    r.request_focus();
                    draft.focused = true;
                }
                if r.lost_focus() && ui.input(|i| i.key_pressed(egui::Key::Enter)) {
                    save = true;
                }
            });
        if let Some(detail) = &draft.detail {
            egui::CollapsingHeader::new("Details").show(ui, |ui| {
                ui.add(egui::Label::new(RichText::new(detail).monospace()).wrap());
            });
        }
        ui.horizontal(|ui| {
            if ui
                .add_enabled_ui(!draft.saving, |ui| {
                    super::dialogs::default_button(ui, "Save and get mail")
                })
                .inner
                .clicked()
            {
                save = true;
            }
            if ui.button("Cancel").clicked() {
                keep_open = false;
            }
            if draft.saving {
                ui.spinner();
            }
        });
    });
    if save && !draft.saving && draft.password.is_empty() {
        // Nothing typed is not a password: the keychain's is left alone.
        draft.error = Some("Enter the password.".into());
        draft.detail = None;
    } else if save && !draft.saving {
        match app.config.account(&draft.account).cloned() {
            Ok(account) => {
                draft.saving = true;
                let password = Password::new(draft.password.clone());
                let name = draft.account.clone();
                // The keychain is D-Bus: never on the UI thread.
                app.spawn_job("pipit-keychain", move || {
                    let result = account.keychain_entry().set(&password);
                    Box::new(move |app: &mut PipitApp| match result {
                        Ok(()) => {
                            app.password_dialog = None;
                            app.banner = None;
                            app.get_mail();
                        }
                        Err(e) => {
                            let said = words::secret_error(&e, "store");
                            if let Some(d) =
                                app.password_dialog.as_mut().filter(|d| d.account == name)
                            {
                                d.saving = false;
                                d.error = Some(said.line());
                                d.detail = Some(said.detail);
                            }
                        }
                    })
                });
            }
            Err(e) => {
                draft.error = Some(e.to_string());
            }
        }
    }
    if keep_open {
        app.password_dialog = Some(draft);
    }
}
