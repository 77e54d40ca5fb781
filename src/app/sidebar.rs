//! The left panel: the views (All mail, each account, On server, Trash,
//! and Deleted by rule where an account has rules);
//! each account with its settings and the mark of its last fetch, which
//! stays until its next fetch ends.

use egui::RichText;

use super::{AccountDraft, Checked, PipitApp, UiCommand, View};

/// The sidebar's views in order, with their names (Ctrl+1 … Ctrl+9 follow it).
pub fn views(app: &PipitApp) -> Vec<(View, String)> {
    let mut views = vec![(View::All, "All mail".to_string())];
    for account in &app.config.accounts {
        views.push((View::Account(account.name.clone()), account.name.clone()));
    }
    views.push((View::OnServer, "On server".into()));
    views.push((View::Trash, "Trash".into()));
    // Only where rules are (or were: a message a rule deleted is in view).
    if app.config.accounts.iter().any(|a| !a.rules.is_empty()) || app.view == View::DeletedByRule {
        views.push((View::DeletedByRule, "Deleted by rule".into()));
    }
    views
}

pub fn ui(ui: &mut egui::Ui, app: &mut PipitApp) {
    ui.add_space(4.0);
    ui.heading("Pipit");
    ui.add_space(6.0);
    for (i, (view, label)) in views(app).into_iter().enumerate() {
        let shortcut = if i < 9 {
            format!(" (Ctrl+{})", i + 1)
        } else {
            String::new()
        };
        ui.horizontal(|ui| {
            let account = match &view {
                View::Account(name) => Some(name.clone()),
                _ => None,
            };
            if account.is_some() {
                ui.add_space(10.0);
            }
            let selected = app.view == view;
            let entry = ui
                .selectable_label(selected, egui::Atom::from(label.clone()))
                .on_hover_text(format!("Show {label}{shortcut}"));
            if entry.clicked() {
                app.set_view(view.clone());
            }
            if let Some(name) = &account {
                account_menu(&entry, app, name);
            }
            if let Some(name) = account {
                account_marks(ui, app, &name);
            }
        });
    }
    ui.add_space(12.0);
    ui.separator();
    if ui
        .button(UiCommand::AddAccount.label())
        .on_hover_text(UiCommand::AddAccount.tooltip())
        .clicked()
    {
        app.run_command(UiCommand::AddAccount);
    }
    if let Some(account) = super::rules_dialog::RulesDraft::account_for(app)
        && ui
            .button("Rules…")
            .on_hover_text(format!(
                "Rules before download of {account}: keep, leave or delete mail on the server, judged on its headers before it is downloaded"
            ))
            .clicked()
    {
        app.rules_dialog = Some(super::rules_dialog::RulesDraft::new(app, &account));
    }
}

/// The account's right-click menu.
fn account_menu(entry: &egui::Response, app: &mut PipitApp, name: &str) {
    entry.context_menu(|ui| {
        if ui
            .button("Check server…")
            .on_hover_text(
                "Examine the server, read-only: what it does wrong, and what Pipit does about it",
            )
            .clicked()
        {
            app.check_server(name);
            ui.close();
        }
        if ui.button("Settings…").clicked() {
            if let Ok(account) = app.config.account(name) {
                app.account_dialog = Some(AccountDraft::edit(account));
            }
            ui.close();
        }
    });
}

/// The account's settings button and the mark of its last fetch.
fn account_marks(ui: &mut egui::Ui, app: &mut PipitApp, name: &str) {
    ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
        let settings = ui
            .add(egui::Button::new("⚙").frame(false).small())
            .on_hover_text(format!(
                "Settings of {name}: server, password, what to keep, remove"
            ));
        settings.widget_info(|| {
            egui::WidgetInfo::labeled(egui::Role::Button, true, format!("Settings of {name}"))
        });
        if settings.clicked()
            && let Ok(account) = app.config.account(name)
        {
            app.account_dialog = Some(AccountDraft::edit(account));
        }
        if app.fetching.contains(name) {
            super::calm_spinner(ui);
            return;
        }
        match app.checked.get(name).cloned() {
            Some(Checked::Failed { said, .. }) => {
                let mark = ui
                    .add(
                        egui::Button::new(RichText::new("⚠").color(ui.visuals().error_fg_color))
                            .frame(false)
                            .small(),
                    )
                    .on_hover_text(format!(
                        "The last Get Mail failed: {}\nClick for the details.",
                        app.advice_for(name, &said)
                    ));
                mark.widget_info(|| {
                    egui::WidgetInfo::labeled(
                        egui::Role::Button,
                        true,
                        format!("{name}: the last Get Mail failed; details"),
                    )
                });
                if mark.clicked() {
                    app.banner = app.failure_banner(&[name.to_string()]);
                }
            }
            Some(Checked::Fine { new, at }) => {
                let ago = at.elapsed().as_secs() / 60;
                ui.weak("✔").on_hover_text(format!(
                    "Checked {}: {}",
                    match ago {
                        0 => "just now".to_string(),
                        1 => "a minute ago".to_string(),
                        n => format!("{n} minutes ago"),
                    },
                    match new {
                        0 => "no new mail".to_string(),
                        1 => "1 new message".to_string(),
                        n => format!("{n} new messages"),
                    }
                ));
            }
            None => {}
        }
    });
}
