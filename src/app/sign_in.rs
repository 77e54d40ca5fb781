//! Signing in with OAuth2 from the window: a new account at Microsoft,
//! Google or another provider, or an account whose sign-in has expired.
//! The browser (or a code on another device) does the signing in; the
//! dialog waits with Cancel, shows the address to open by hand, logs in to
//! the mail server with the new token, and only then keeps the account.

use egui::RichText;

use super::account_dialog::field;
use super::{PipitApp, words};
use crate::config::{Account, AuthMethod, Policy};
use crate::net::Security;
use crate::oauth::{self, Flow, OAuthConfig, Provider};
use crate::worker::{SignInJob, SignInPrompt, SignedIn};

/// Whom to sign in with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ProviderChoice {
    Microsoft,
    Google,
    /// Another provider, named by its issuer's address.
    Other,
}

impl ProviderChoice {
    /// The choice for a provider as the config (or a lookup) names it:
    /// `microsoft`, `google`, or anything else (an issuer).
    pub fn of(key: &str) -> ProviderChoice {
        match Provider::parse(key) {
            Ok(Provider::Microsoft) => ProviderChoice::Microsoft,
            Ok(Provider::Google) => ProviderChoice::Google,
            _ => ProviderChoice::Other,
        }
    }
}

/// What the dialog is for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Purpose {
    /// A new account.
    Add,
    /// The account of this name signs in again.
    Again(String),
}

/// The sign-in dialog's state.
pub struct SignInDraft {
    pub purpose: Purpose,
    pub provider: ProviderChoice,
    pub address: String,
    pub issuer: String,
    pub host: String,
    pub client_id: String,
    pub client_secret: String,
    pub error: Option<String>,
    pub detail: Option<String>,
    job: Option<SignInJob>,
    /// The account the sign-in under way is for.
    signing: Option<Account>,
    saving: bool,
    focused: bool,
}

impl SignInDraft {
    pub fn new() -> SignInDraft {
        SignInDraft {
            purpose: Purpose::Add,
            provider: ProviderChoice::Microsoft,
            address: String::new(),
            issuer: String::new(),
            host: String::new(),
            client_id: String::new(),
            client_secret: String::new(),
            error: None,
            detail: None,
            job: None,
            signing: None,
            saving: false,
            focused: false,
        }
    }

    /// For an account whose sign-in expired or was revoked.
    pub fn again(account: &Account) -> SignInDraft {
        SignInDraft {
            purpose: Purpose::Again(account.name.clone()),
            provider: ProviderChoice::of(
                account.oauth.as_ref().map_or("", |o| o.provider.as_str()),
            ),
            ..SignInDraft::new()
        }
    }

    /// Whether the sign-in is under way (waiting for the user).
    pub fn waiting(&self) -> bool {
        self.job.is_some()
    }

    /// What the user is asked to do, while the sign-in waits.
    pub fn prompt(&self) -> Option<SignInPrompt> {
        self.job.as_ref().and_then(SignInJob::prompt)
    }

    /// What the user has typed and chosen.
    fn typed(&self) -> (ProviderChoice, [String; 5]) {
        (
            self.provider,
            [
                &self.address,
                &self.issuer,
                &self.host,
                &self.client_id,
                &self.client_secret,
            ]
            .map(String::clone),
        )
    }

    fn provider_name(&self) -> &str {
        match self.provider {
            ProviderChoice::Microsoft => "Microsoft",
            ProviderChoice::Google => "Google",
            ProviderChoice::Other => "your provider",
        }
    }

    /// The account these fields describe, or what is wrong with them.
    fn account(&self, app: &PipitApp) -> Result<Account, String> {
        if let Purpose::Again(name) = &self.purpose {
            return app.config.account(name).cloned().map_err(|e| e.to_string());
        }
        let address = self.address.trim();
        if address.is_empty() {
            return Err("Sign in as: enter the email address you sign in with.".into());
        }
        let provider = match self.provider {
            ProviderChoice::Microsoft => Provider::Microsoft,
            ProviderChoice::Google => Provider::Google,
            ProviderChoice::Other => {
                Provider::parse(&self.issuer).map_err(|e| format!("Provider address: {e}."))?
            }
        };
        let (host, port) = match provider.pop3_server() {
            Some((host, port)) => (host.to_string(), port),
            None if self.host.trim().is_empty() => {
                return Err("Mail server: enter the POP3 server's name.".into());
            }
            None => server_and_port(self.host.trim())?,
        };
        let config = OAuthConfig {
            provider: provider.key().to_string(),
            client_id: Some(self.client_id.trim().to_string()).filter(|c| !c.is_empty()),
            client_secret: Some(self.client_secret.trim().to_string()).filter(|c| !c.is_empty()),
            scope: None,
            key: oauth::new_key(),
        };
        provider.client(&config).map_err(|_| {
            format!(
                "Client id: Pipit has no registration of its own with {}: fill in the client id you registered \
(the README's \"Signing in with OAuth2\" says how).",
                self.provider_name()
            )
        })?;
        let account = Account {
            name: address.to_string(),
            host,
            port,
            security: Security::Tls,
            user: address.to_string(),
            auth: AuthMethod::XOAuth2,
            password_command: None,
            policy: Policy::Keep,
            max_size: None,
            trust_fingerprint: None,
            ca_file: None,
            timeout_secs: 30,
            check_every_minutes: None,
            oauth: Some(Box::new(config)),
            rules: Default::default(),
        };
        account
            .validate()
            .map_err(|e| format!("{}: {e}.", e.setting.label()))?;
        if let Some(other) = app.config.reading_same_mailbox(&account, None) {
            return Err(format!(
                "The account \u{201c}{}\u{201d} already reads this mailbox ({} on {}): a second one would show every message twice. To sign it in again, use its settings.",
                other.name, account.user, account.host
            ));
        }
        if app.config.accounts.iter().any(|a| a.name == account.name) {
            return Err(format!(
                "An account named {:?} exists already: to sign it in again, use its settings.",
                account.name
            ));
        }
        Ok(account)
    }
}

/// "pop.example.org" or "pop.example.org:995": the server, and its port
/// (995, TLS, unless given).
fn server_and_port(text: &str) -> Result<(String, u16), String> {
    match text.rsplit_once(':') {
        Some((host, port)) if !host.contains(':') => port
            .parse()
            .map(|port| (host.to_string(), port))
            .map_err(|_| format!("Mail server: {port:?} is not a port number from 1 to 65535.")),
        _ => Ok((text.to_string(), Security::Tls.default_port())),
    }
}

impl Default for SignInDraft {
    fn default() -> Self {
        SignInDraft::new()
    }
}

/// Draws the sign-in dialog, if open.
pub fn ui(ctx: &egui::Context, app: &mut PipitApp) {
    let Some(mut draft) = app.sign_in_dialog.take() else {
        return;
    };
    poll(app, &mut draft);
    let mut keep_open = true;
    let mut start = None;
    // Enter in a field presses the default: Sign in in the browser.
    let enter = !draft.waiting()
        && !draft.saving
        && super::dialogs::enter_presses_default(ctx, app, super::dialogs::Dialog::SignIn);
    if enter {
        start = Some(Flow::Browser);
    }
    let typed = draft.typed();
    super::dialogs::modal(ctx, super::dialogs::Dialog::SignIn.id(), |ui| {
        ui.set_width(470.0);
        match &draft.purpose {
            Purpose::Add => ui.heading("Sign in to your mailbox"),
            Purpose::Again(name) => ui.heading(format!("Sign in again: {name}")),
        };
        if let Purpose::Again(_) = draft.purpose {
            ui.label("The sign-in has expired or was revoked. Sign in again in your browser; your mail stays as it is.");
        } else {
            ui.label(
                "For mailboxes that take no password over POP3 (Microsoft, Google, or a server with its own sign-in). \
Your browser does the signing in; Pipit never sees your password.",
            );
        }
        ui.add_space(6.0);
        let busy = draft.waiting() || draft.saving;
        ui.add_enabled_ui(!busy, |ui| fields(ui, &mut draft));
        if let Some(error) = &draft.error {
            ui.add(
                egui::Label::new(RichText::new(error).color(ui.visuals().error_fg_color)).wrap(),
            );
        }
        if let Some(detail) = &draft.detail {
            egui::CollapsingHeader::new("Details").show(ui, |ui| {
                ui.add(egui::Label::new(RichText::new(detail).monospace()).wrap());
            });
        }
        if let Some(job) = &draft.job {
            waiting(ui, job);
        }
        ui.add_space(6.0);
        ui.horizontal(|ui| {
            if draft.waiting() {
                if ui.button("Cancel").clicked() {
                    // Dropping the job stops its wait.
                    draft.job = None;
                }
                ui.spinner();
                return;
            }
            let label = format!("Sign in with {}", draft.provider_name());
            if ui
                .add_enabled_ui(!draft.saving, |ui| super::dialogs::default_button(ui, label))
                .inner
                .clicked()
            {
                start = Some(Flow::Browser);
            }
            if ui
                .add_enabled(!draft.saving, egui::Button::new("Use a code on another device"))
                .on_hover_text("For a computer without a browser: you sign in on your phone or another computer.")
                .clicked()
            {
                start = Some(Flow::Device);
            }
            if ui.button("Cancel").clicked() {
                keep_open = false;
            }
            if draft.saving {
                ui.spinner();
            }
        });
    });
    // An edit, or another provider, takes the old error away.
    if draft.typed() != typed && draft.job.is_none() {
        draft.error = None;
        draft.detail = None;
    }
    if let Some(flow) = start {
        match draft.account(app) {
            Ok(account) => {
                draft.error = None;
                draft.detail = None;
                // The browser the window opens links with.
                let folders = app.attachment_folders.clone();
                let open = move |url: &str| {
                    let folders = folders.lock().unwrap_or_else(|e| e.into_inner());
                    folders.open_link(url).map_err(|e| e.to_string())
                };
                draft.job = Some(app.worker().sign_in(account.clone(), flow, open));
                draft.signing = Some(account);
            }
            Err(e) => draft.error = Some(e),
        }
    }
    if keep_open && app.sign_in_dialog.is_none() {
        app.sign_in_dialog = Some(draft);
    }
}

/// The fields of a new sign-in (an account signing in again has none).
fn fields(ui: &mut egui::Ui, draft: &mut SignInDraft) {
    if draft.purpose != Purpose::Add {
        return;
    }
    ui.horizontal(|ui| {
        ui.label("Sign in with");
        ui.radio_value(&mut draft.provider, ProviderChoice::Microsoft, "Microsoft");
        ui.radio_value(&mut draft.provider, ProviderChoice::Google, "Google");
        ui.radio_value(
            &mut draft.provider,
            ProviderChoice::Other,
            "Another provider",
        );
    });
    egui::Grid::new("sign-in-fields")
        .num_columns(2)
        .spacing([10.0, 6.0])
        .show(ui, |ui| {
            let r = field(
                ui,
                "Sign in as",
                &mut draft.address,
                "you@example.org",
                false,
                None,
            );
            if !draft.focused {
                r.request_focus();
                draft.focused = true;
            }
            if draft.provider == ProviderChoice::Other {
                field(
                    ui,
                    "Provider address",
                    &mut draft.issuer,
                    "https://id.example.org",
                    false,
                    None,
                );
                field(
                    ui,
                    "Mail server",
                    &mut draft.host,
                    "pop.example.org",
                    false,
                    None,
                );
            }
            field(
                ui,
                "Client id",
                &mut draft.client_id,
                "your registration with the provider",
                false,
                None,
            );
            if draft.provider != ProviderChoice::Microsoft {
                field(
                    ui,
                    "Client secret",
                    &mut draft.client_secret,
                    "if the provider gave one",
                    false,
                    None,
                );
            }
        });
}

/// What the user is to do while the sign-in waits.
fn waiting(ui: &mut egui::Ui, job: &SignInJob) {
    match job.prompt() {
        None => {
            ui.label("Finding where to sign in…");
        }
        Some(SignInPrompt::Browser { url, opened }) => {
            match opened {
                None => ui.label("Opening your browser…"),
                Some(Ok(())) => {
                    ui.label("Waiting for the browser… Finish signing in there, then come back.")
                }
                Some(Err(why)) => ui.colored_label(
                    ui.visuals().warn_fg_color,
                    format!(
                        "Pipit could not open a browser ({}). Open this address yourself:",
                        crate::reveal::field(&why)
                    ),
                ),
            };
            ui.horizontal(|ui| {
                ui.add(
                    egui::Label::new(
                        RichText::new(crate::reveal::field(&url))
                            .monospace()
                            .small(),
                    )
                    .truncate(),
                )
                .on_hover_text("The sign-in page's address");
                if ui.button("Copy address").clicked() {
                    ui.ctx().copy_text(url.clone());
                }
            });
        }
        Some(SignInPrompt::Device(code)) => {
            ui.label(format!(
                "On your phone or another computer, open {} and enter this code:",
                crate::reveal::field(&code.verification_uri)
            ));
            ui.horizontal(|ui| {
                ui.label(
                    RichText::new(crate::reveal::field(&code.user_code))
                        .monospace()
                        .size(22.0)
                        .strong(),
                );
                if ui.button("Copy code").clicked() {
                    ui.ctx().copy_text(code.user_code.clone());
                }
            });
            ui.label("Waiting for you to sign in there…");
        }
    }
}

/// Takes in the sign-in's answer and, once it worked, keeps it (on a
/// thread: the keychain and the config are not for the UI thread).
fn poll(app: &mut PipitApp, draft: &mut SignInDraft) {
    let Some(job) = &draft.job else {
        return;
    };
    if job.result.ready().is_none() {
        return;
    }
    let Some(job) = draft.job.take() else {
        return;
    };
    let result = match job.result.block_and_take() {
        Ok(signed_in) => signed_in,
        Err(e) => {
            let said = words::fetch_error(&e);
            draft.error = Some(said.line());
            draft.detail = Some(said.detail);
            return;
        }
    };
    let Some(account) = draft.signing.take() else {
        return;
    };
    draft.saving = true;
    let config_path = app.paths().config.clone();
    let purpose = draft.purpose.clone();
    app.spawn_job("pipit-save-sign-in", move || {
        let SignedIn { grant, info } = result;
        let saved = match &purpose {
            Purpose::Add => crate::setup::add_signed_in(&config_path, account.clone(), &grant)
                .map(Some)
                .map_err(|e| e.to_string()),
            Purpose::Again(_) => grant
                .save(&account)
                .map(|()| None)
                .map_err(|e| e.to_string()),
        };
        Box::new(move |app: &mut PipitApp| match saved {
            Ok(config) => {
                if let Some(config) = config {
                    app.config = config;
                    app.reload();
                    // The account dialog it was opened from is done with.
                    app.account_dialog = None;
                }
                app.forget_result(&account.name);
                app.sign_in_dialog = None;
                app.banner = None;
                app.say(format!(
                    "Signed in to {} ({} message{} on the server)",
                    account.name,
                    info.messages,
                    if info.messages == 1 { "" } else { "s" }
                ));
                app.get_mail();
            }
            Err(e) => {
                if let Some(d) = app.sign_in_dialog.as_mut() {
                    d.saving = false;
                    d.error = Some("Signed in, but Pipit could not keep the sign-in.".into());
                    d.detail = Some(e);
                }
            }
        })
    });
}
