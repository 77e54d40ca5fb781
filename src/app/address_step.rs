//! The first step of a new account: an email address and a password. Pipit
//! looks up the server (`crate::discover`: its presets, the provider's
//! autoconfig document, the ISPDB, DNS, then probing), shows what it found
//! and where from, and fills in the account dialog's fields for a Test
//! connection and Save. *Manual setup* goes straight to the fields; a
//! provider that wants a sign-in leads to *Sign in*.

use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex};

use egui::RichText;

use super::account_dialog::{AccountDraft, Field, field};
use super::sign_in::{ProviderChoice, SignInDraft};
use super::{PipitApp, dialogs, words};
use crate::discover::{self, DiscoverError, Discovery, Found, Progress};
use crate::worker::{CancelOnDrop, Promise};

/// Where a new account's dialog stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stage {
    /// The address and the password, before the lookup.
    Address,
    /// Every field (found, or typed by hand).
    Fields,
}

/// A lookup under way; dropped, it stops.
pub struct Looking {
    result: Promise<Result<Discovery, DiscoverError>>,
    /// What each source has said so far, for the user.
    said: Arc<Mutex<Vec<String>>>,
    _cancel: CancelOnDrop,
}

/// What the lookup found, said above the fields.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FoundNote {
    pub text: String,
    /// Something to weigh before saving (plain text, another domain's server).
    pub caution: Option<String>,
    /// The found server is saved only once the user says to use it (plain
    /// text, or a server outside the address's domain): never silently.
    pub needs_word: bool,
    /// The user said so.
    pub agreed: bool,
    /// The server it speaks of (host, port as typed, security): edited to
    /// another, the note goes (what the user types is theirs).
    pub server: (String, String, crate::net::Security),
}

/// Draws the address step; what it decides is done here (the dialog moves
/// on to its fields, or to the sign-in).
pub fn ui(ctx: &egui::Context, app: &mut PipitApp, mut draft: AccountDraft) {
    if let Some(looking) = &draft.looking
        && looking.result.ready().is_some()
        && let Some(looking) = draft.looking.take()
    {
        let result = looking.result.block_and_take();
        if let Some(sign_in) = found(&mut draft, result)
            && app.sign_in_dialog.is_none()
        {
            // Above this dialog, which stays for a Cancel to come back to.
            app.sign_in_dialog = Some(sign_in);
        }
    }
    let mut keep_open = true;
    let mut search = false;
    let mut manual = false;
    let mut sign_in = false;
    let searching = draft.looking.is_some();
    dialogs::modal(ctx, dialogs::Dialog::Account.id(), |ui| {
        ui.set_width(470.0);
        ui.heading(draft.heading());
        ui.label("Your email address and password: Pipit finds your mail server.");
        ui.add_space(6.0);
        ui.add_enabled_ui(!searching, |ui| {
            egui::Grid::new("address-fields")
                .num_columns(2)
                .spacing([10.0, 6.0])
                .show(ui, |ui| {
                    let error = draft.email_error.clone();
                    let r = field(
                        ui,
                        "Email address",
                        &mut draft.email,
                        "you@example.org",
                        false,
                        error,
                    );
                    if r.changed() {
                        draft.email_error = None;
                    }
                    if r.lost_focus() && ui.input(|i| i.key_pressed(egui::Key::Enter)) {
                        search = true;
                    }
                    if draft.focus == Some(Field::User) {
                        r.request_focus();
                        draft.focus = None;
                    }
                    let r = field(
                        ui,
                        "Password",
                        &mut draft.password,
                        "kept in your OS keychain",
                        true,
                        None,
                    );
                    if r.lost_focus() && ui.input(|i| i.key_pressed(egui::Key::Enter)) {
                        search = true;
                    }
                });
        });
        ui.label(
            RichText::new(
                "To find it, Pipit asks your provider's web server, Thunderbird's ISPDB and your DNS \
resolver, and may knock at pop., pop3. and mail. of your domain: they see your address or its \
domain, never your password.",
            )
            .weak()
            .small(),
        );
        if let Some(looking) = &draft.looking {
            ui.horizontal(|ui| {
                ui.spinner();
                ui.label(format!(
                    "Looking up the settings for {}…",
                    domain_of(&draft.email)
                ));
            });
            for line in looking
                .said
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .iter()
            {
                ui.label(RichText::new(crate::reveal::field(line)).small());
            }
        }
        ui.add_space(6.0);
        ui.horizontal(|ui| {
            if searching {
                if ui.button("Stop looking").clicked() {
                    draft.looking = None;
                }
                return;
            }
            if ui.button("Continue").clicked() {
                search = true;
            }
            if ui
                .button("Manual setup")
                .on_hover_text("Enter the server and the rest yourself")
                .clicked()
            {
                manual = true;
            }
            if ui.button("Cancel").clicked() {
                keep_open = false;
            }
        });
        ui.horizontal(|ui| {
            ui.label("Microsoft, Google, or a mailbox that wants a sign-in?");
            if ui.button("Sign in instead…").clicked() {
                sign_in = true;
            }
        });
    });
    if search && !searching {
        start(app, &mut draft);
    }
    if manual {
        draft.user = draft.email.trim().to_string();
        draft.stage = Stage::Fields;
        draft.focus = Some(Field::User);
    }
    if sign_in {
        // The lookup is not wanted any more: it must not take over later.
        draft.looking = None;
        let mut sign_in = SignInDraft::new();
        sign_in.address = draft.email.trim().to_string();
        app.sign_in_dialog = Some(sign_in);
    }
    if keep_open {
        app.account_dialog = Some(draft);
    }
}

fn domain_of(address: &str) -> &str {
    address.rsplit_once('@').map_or(address, |(_, d)| d.trim())
}

/// Starts the lookup on a thread of its own.
fn start(app: &mut PipitApp, draft: &mut AccountDraft) {
    let address = draft.email.trim().to_string();
    if !address.contains('@') {
        draft.email_error =
            Some("Email address: write it whole, like you@example.org.".to_string());
        return;
    }
    let said = Arc::new(Mutex::new(Vec::new()));
    let cancel = Arc::new(AtomicBool::new(false));
    let (job_said, job_cancel, notify) = (said.clone(), cancel.clone(), app.notify.clone());
    let result = crate::worker::spawn_promise(
        "pipit-discover",
        app.notify.clone(),
        move || {
            let mut progress = |p: Progress| {
                if let Progress::Answered(a) = p {
                    job_said
                        .lock()
                        .unwrap_or_else(|e| e.into_inner())
                        .push(format!(
                            "{}: {}",
                            words::capitalized(a.source.describe()),
                            a.outcome
                        ));
                    notify();
                }
            };
            discover::discover(&address, &mut progress, &job_cancel)
        },
        |e| Err(DiscoverError::System(e.to_string())),
    );
    draft.looking = Some(Looking {
        result,
        said,
        _cancel: CancelOnDrop(cancel),
    });
}

/// Takes in the lookup's answer: the fields filled in from the best
/// settings (or left for the user, saying why), or the sign-in.
fn found(
    draft: &mut AccountDraft,
    result: Result<Discovery, DiscoverError>,
) -> Option<SignInDraft> {
    let discovery = match result {
        Ok(d) => d,
        Err(DiscoverError::Cancelled) => return None,
        Err(DiscoverError::BadAddress(why)) => {
            draft.email_error = Some(format!("Email address: {why}."));
            return None;
        }
        Err(e) => {
            draft.email_error = Some(format!(
                "Pipit could not look the settings up ({e}): try again, or use Manual setup."
            ));
            return None;
        }
    };
    if let Some(best) = discovery.best().filter(|b| b.flags.oauth_required) {
        // The address step stays beneath, for the sign-in's Cancel.
        let mut sign_in = SignInDraft::new();
        sign_in.address = draft.email.trim().to_string();
        sign_in.provider = ProviderChoice::of(best.oauth_provider.as_deref().unwrap_or_default());
        return Some(sign_in);
    }
    draft.user = draft.email.trim().to_string();
    draft.stage = Stage::Fields;
    let Some(best) = discovery.best().cloned() else {
        draft.found = Some(FoundNote {
            text: format!(
                "No settings were found for {}: enter the server (your provider's help pages name it).",
                discovery.domain
            ),
            caution: None,
            needs_word: false,
            agreed: false,
            server: (String::new(), draft.port.clone(), draft.security),
        });
        draft.focus = Some(Field::Host);
        return None;
    };
    fill(draft, &best);
    None
}

/// The fields from what was found, and the note that says so.
fn fill(draft: &mut AccountDraft, best: &Found) {
    draft.user = best.user.clone();
    draft.host = best.host.clone();
    draft.port = best.port.to_string();
    draft.security = best.security;
    let flags = &best.flags;
    // Every caution that applies, not just the first.
    let mut cautions = Vec::new();
    if flags.plain_text {
        cautions.push("This server offers only plain text: your password and mail would cross the network readable. Use it only on a network you trust.".to_string());
    }
    if flags.needs_confirmation {
        cautions.push(format!(
            "This server is not in your address's domain. Use it only if you know your mail is there ({}).",
            crate::reveal::field(&best.from)
        ));
    }
    if let Some(fp) = &flags.untrusted_certificate {
        cautions.push(format!(
            "Pipit does not trust this server's certificate (SHA-256 {fp}). Test connection shows it: trust it only if you know it."
        ));
    }
    let caution = (!cautions.is_empty()).then(|| cautions.join(" "));
    let mut text = format!(
        "Found by {}: {}, port {}, {}.",
        best.source.describe(),
        crate::reveal::field(&best.host),
        best.port,
        super::account_dialog::security_label(best.security)
    );
    for note in &best.notes {
        text.push(' ');
        text.push_str(&crate::reveal::field(note));
    }
    draft.found = Some(FoundNote {
        text,
        caution,
        needs_word: flags.plain_text || flags.needs_confirmation,
        agreed: false,
        server: (best.host.clone(), best.port.to_string(), best.security),
    });
    // Test connection is the next step.
    draft.focus = None;
}
