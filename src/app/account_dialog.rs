//! Setting up an account: the first-start dialog (and "Add account…"), with
//! "Test connection" on the worker and "Trust this certificate" for a
//! self-signed server; and re-entering a refused password.

use egui::{Id, Modal, RichText};

use super::PipitApp;
use crate::config::{Account, AuthMethod, Policy};
use crate::net::{NetError, Security};
use crate::secrets::{Password, PasswordSource};
use crate::sync::{FetchError, ServerInfo};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PolicyChoice {
    Delete,
    KeepDays,
    Keep,
}

/// Where "Test connection" stands.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TestStatus {
    Idle,
    Testing,
    Passed(String),
    Failed(String),
    /// The server's certificate is not trusted; the user may trust it.
    Untrusted {
        fingerprint: String,
        reason: String,
        /// Subject, issuer and validity, when the certificate could be read.
        about: Option<String>,
    },
}

/// The dialog's fields, as typed.
#[derive(Clone, Debug)]
pub struct AccountDraft {
    pub first_start: bool,
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
    pub error: Option<String>,
}

impl AccountDraft {
    pub fn new(first_start: bool) -> AccountDraft {
        AccountDraft {
            first_start,
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
        }
    }

    /// The account these fields describe, or what is wrong with them: the
    /// numbers are read here, and the account is then checked as the command
    /// line checks it (`Account::validate`).
    pub fn to_account(&self) -> Result<Account, String> {
        let host = self.host.trim();
        let user = self.user.trim();
        let port: u16 = self
            .port
            .trim()
            .parse()
            .map_err(|_| format!("Port: {:?} is not a number from 1 to 65535.", self.port))?;
        let policy = match self.policy {
            PolicyChoice::Keep => Policy::Keep,
            PolicyChoice::Delete => Policy::Delete,
            PolicyChoice::KeepDays => {
                Policy::KeepDays(self.keep_days.trim().parse().map_err(|_| {
                    format!("Keep for: {:?} is not a number of days.", self.keep_days)
                })?)
            }
        };
        let max_size = match self.max_size_mb.trim() {
            "" => None,
            mb => Some(
                mb.parse::<f64>()
                    .ok()
                    .filter(|m| m.is_finite() && *m > 0.0)
                    .map(|m| (m * 1_000_000.0) as u64)
                    .ok_or_else(|| format!("Size limit: {mb:?} is not a size in MB."))?,
            ),
        };
        let check_every_minutes = match self.check_minutes.trim() {
            "" | "0" => None,
            m => Some(
                m.parse()
                    .map_err(|_| format!("Check every: {m:?} is not a number of minutes."))?,
            ),
        };
        let name = if self.name.trim().is_empty() {
            format!("{user}@{host}")
        } else {
            self.name.trim().to_string()
        };
        let account = Account {
            name,
            host: host.to_string(),
            port,
            security: self.security,
            user: user.to_string(),
            auth: AuthMethod::Auto,
            password_command: (!self.password_command.trim().is_empty())
                .then(|| self.password_command.trim().to_string()),
            policy,
            max_size,
            trust_fingerprint: self.trust_fingerprint.clone(),
            ca_file: None,
            timeout_secs: 30,
            check_every_minutes,
        };
        account
            .validate()
            .map_err(|e| format!("{}: {e}.", e.setting.label()))?;
        Ok(account)
    }

    fn password_source(&self) -> PasswordSource {
        if self.password_command.trim().is_empty() {
            PasswordSource::Given(Password::new(self.password.clone()))
        } else {
            PasswordSource::Command(self.password_command.trim().to_string())
        }
    }
}

/// A labelled one-line text field (labelled for screen readers and tests too).
fn field(
    ui: &mut egui::Ui,
    label: &str,
    value: &mut String,
    hint: &str,
    password: bool,
) -> egui::Response {
    let l = ui.label(label);
    let r = ui
        .add(
            egui::TextEdit::singleline(value)
                .hint_text(hint)
                .password(password)
                .desired_width(260.0),
        )
        .labelled_by(l.id);
    ui.end_row();
    r
}

pub fn ui(ctx: &egui::Context, app: &mut PipitApp) {
    let Some(mut draft) = app.account_dialog.take() else {
        return;
    };
    let mut keep_open = true;
    let mut save = false;
    let mut test = false;
    Modal::new(Id::unique("account-dialog")).show(ctx, |ui| {
        ui.set_width(440.0);
        ui.heading(if draft.first_start { "Welcome to Pipit" } else { "Add an account" });
        if draft.first_start {
            ui.label("Pipit downloads your mail over POP3 so you can read it offline. Tell it where your mail is.");
        }
        ui.add_space(6.0);
        egui::Grid::new("account-fields").num_columns(2).spacing([10.0, 6.0]).show(ui, |ui| {
            field(ui, "User name", &mut draft.user, "you@example.org", false);
            field(ui, "Password", &mut draft.password, "kept in your OS keychain", true);
            field(ui, "Server", &mut draft.host, "pop.example.org", false);
            let l = ui.label("Security");
            let before = draft.security;
            egui::ComboBox::from_id_salt("security")
                .selected_text(match draft.security {
                    Security::Tls => "TLS (port 995)",
                    Security::Starttls => "STARTTLS (port 110)",
                    Security::Plain => "None: plain text",
                })
                .show_ui(ui, |ui| {
                    ui.selectable_value(&mut draft.security, Security::Tls, "TLS (port 995)");
                    ui.selectable_value(&mut draft.security, Security::Starttls, "STARTTLS (port 110)");
                    ui.selectable_value(&mut draft.security, Security::Plain, "None: plain text");
                })
                .response
                .labelled_by(l.id);
            ui.end_row();
            // The port follows the security choice unless the user changed it.
            if draft.security != before && draft.port.trim() == before.default_port().to_string() {
                draft.port = draft.security.default_port().to_string();
            }
            field(ui, "Port", &mut draft.port, "995", false);
            field(ui, "Account name", &mut draft.name, "optional: Home, Work…", false);
        });
        ui.add_space(6.0);
        ui.label(RichText::new("On the server").strong());
        ui.radio_value(&mut draft.policy, PolicyChoice::Delete, "Delete after downloading");
        ui.horizontal(|ui| {
            ui.radio_value(&mut draft.policy, PolicyChoice::KeepDays, "Keep for");
            let l = ui.label("days");
            ui.add(egui::TextEdit::singleline(&mut draft.keep_days).desired_width(40.0))
                .labelled_by(l.id);
        });
        ui.radio_value(&mut draft.policy, PolicyChoice::Keep, "Keep until deleted here");
        ui.add_space(4.0);
        egui::CollapsingHeader::new("More settings").show(ui, |ui| {
            egui::Grid::new("account-more").num_columns(2).spacing([10.0, 6.0]).show(ui, |ui| {
                field(ui, "Size limit (MB)", &mut draft.max_size_mb, "larger mail stays on the server", false);
                field(ui, "Check every (minutes)", &mut draft.check_minutes, "0: only by hand", false);
                field(ui, "Password command", &mut draft.password_command, "instead of the keychain", false);
            });
        });
        ui.add_space(6.0);
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
            TestStatus::Failed(text) => {
                ui.colored_label(ui.visuals().error_fg_color, text);
            }
            TestStatus::Untrusted { fingerprint, reason, about } => {
                ui.colored_label(ui.visuals().error_fg_color, format!("The server's certificate is not trusted: {reason}."));
                if let Some(about) = about {
                    ui.label(about);
                }
                ui.label("If this is your own server, compare this SHA-256 fingerprint with its certificate's:");
                ui.label(RichText::new(fingerprint).monospace());
                if ui.button("Trust this certificate").clicked() {
                    draft.trust_fingerprint = Some(fingerprint.clone());
                    test = true;
                }
            }
        }
        if let Some(e) = &draft.error {
            ui.colored_label(ui.visuals().error_fg_color, e);
        }
        ui.add_space(6.0);
        ui.horizontal(|ui| {
            if ui.button("Test connection").clicked() {
                test = true;
            }
            if ui.button("Save").clicked() {
                save = true;
            }
            if !draft.first_start && ui.button("Cancel").clicked() {
                keep_open = false;
            }
        });
    });
    if test {
        match draft.to_account() {
            Ok(account) => {
                draft.error = None;
                draft.status = TestStatus::Testing;
                app.worker()
                    .test_connection(account, draft.password_source());
            }
            Err(e) => draft.error = Some(e),
        }
    }
    if save {
        match save_account(app, &draft) {
            Ok(()) => {
                keep_open = false;
                app.get_mail();
            }
            Err(e) => draft.error = Some(e),
        }
    }
    if keep_open {
        app.account_dialog = Some(draft);
    }
}

fn save_account(app: &mut PipitApp, draft: &AccountDraft) -> Result<(), String> {
    let account = draft.to_account()?;
    if app.config.accounts.iter().any(|a| a.name == account.name) {
        return Err(format!(
            "An account named {:?} exists already: choose another name.",
            account.name
        ));
    }
    if account.password_command.is_none() {
        if draft.password.is_empty() {
            return Err("Enter the password (or a password command under More settings).".into());
        }
        account
            .keychain_entry()
            .set(&Password::new(draft.password.clone()))
            .map_err(|e| e.to_string())?;
    }
    app.config.accounts.push(account);
    if let Err(e) = app.save_config() {
        app.config.accounts.pop();
        return Err(e);
    }
    app.reload();
    Ok(())
}

/// "Test connection" came back.
pub fn tested(app: &mut PipitApp, _account: &str, result: Result<ServerInfo, FetchError>) {
    let Some(draft) = app.account_dialog.as_mut() else {
        return;
    };
    draft.status = match result {
        Ok(info) => TestStatus::Passed(format!(
            "Connected{}: {} message{} ({}) on the server.",
            info.implementation
                .map(|i| format!(" to {i}"))
                .unwrap_or_default(),
            info.messages,
            if info.messages == 1 { "" } else { "s" },
            crate::cli::human_bytes(info.bytes)
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
        Err(e) => TestStatus::Failed(e.to_string()),
    };
}

/// Re-entering a password the server refused.
pub fn ui_password(ctx: &egui::Context, app: &mut PipitApp) {
    let Some((account_name, mut password)) = app.password_dialog.take() else {
        return;
    };
    let mut keep_open = true;
    let mut save = false;
    Modal::new(Id::unique("password-dialog")).show(ctx, |ui| {
        ui.heading("Enter the password again");
        ui.label(format!(
            "The server refused the password of {account_name}."
        ));
        egui::Grid::new("password-fields")
            .num_columns(2)
            .show(ui, |ui| {
                let r = field(ui, "New password", &mut password, "", true);
                if r.lost_focus() && ui.input(|i| i.key_pressed(egui::Key::Enter)) {
                    save = true;
                }
            });
        ui.horizontal(|ui| {
            if ui.button("Save and get mail").clicked() {
                save = true;
            }
            if ui.button("Cancel").clicked() {
                keep_open = false;
            }
        });
    });
    if save {
        let result = app
            .config
            .account(&account_name)
            .map_err(|e| e.to_string())
            .and_then(|a| {
                a.keychain_entry()
                    .set(&Password::new(password.clone()))
                    .map_err(|e| e.to_string())
            });
        match result {
            Ok(()) => {
                keep_open = false;
                app.banner = None;
                app.get_mail();
            }
            Err(e) => app.show_error("The password could not be stored", e),
        }
    }
    if keep_open {
        app.password_dialog = Some((account_name, password));
    }
}
