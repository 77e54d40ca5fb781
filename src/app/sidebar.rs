//! The left panel: the views (All mail, each account, On server, Trash).

use super::{PipitApp, UiCommand, View};

pub fn ui(ui: &mut egui::Ui, app: &mut PipitApp) {
    ui.add_space(4.0);
    ui.heading("Pipit");
    ui.add_space(6.0);
    let mut views = vec![(View::All, "All mail".to_string())];
    for account in &app.config.accounts {
        views.push((
            View::Account(account.name.clone()),
            format!("  {}", account.name),
        ));
    }
    views.push((View::OnServer, "On server".into()));
    views.push((View::Trash, "Trash".into()));
    for (view, label) in views {
        if ui.selectable_label(app.view == view, label).clicked() {
            app.set_view(view);
        }
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
}
