//! *Check server…*: the server doctor (`crate::doctor`) for one account,
//! run on a thread of its own, and its report check by check: the status,
//! the finding, and what Pipit does about it; *Copy report* puts the text a
//! postmaster reads on the clipboard.

use egui::RichText;

use super::dialogs::{Dialog, default_button, modal};
use super::{PipitApp, Said, words};
use crate::doctor::{Report, Status};
use crate::sync::FetchError;
use crate::worker::Promise;

/// A check of one account's server, under way or done.
pub struct CheckRun {
    pub account: String,
    /// The server, as the account's settings name it ("alice@pop.example.org:995").
    pub server: String,
    pub job: Option<Promise<Result<Report, FetchError>>>,
    pub result: Option<Result<Report, Said>>,
    /// The result has just come: the dialog opens again at the centre.
    recentre: bool,
    /// When the result came (Unix seconds): the dialog says so, so that
    /// *Check again* is seen to have run.
    pub done_at: Option<i64>,
    /// *Copy report* was pressed: the dialog says so (the footer's notice
    /// is under the dialog's shade).
    copied: bool,
    /// How many of the account's messages Pipit could not download at its
    /// last Get Mail (failed, not downloaded yet), read from the store on
    /// a thread of its own: the check reads one small message only, and
    /// calls a server healthy that these came through badly.
    stuck_job: Option<Promise<Stuck>>,
    stuck: Stuck,
}

/// The account's messages whose download failed, by kind.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Stuck {
    pub failed: usize,
    pub to_download: usize,
}

/// What the store says of `account`'s messages on the server that Pipit
/// could not download.
fn stuck(store: &std::path::Path, config: &crate::config::Config, account: &str) -> Stuck {
    use crate::sync::inventory::Kind;
    let Ok(store) = crate::store::Store::open(store) else {
        return Stuck::default();
    };
    let lines =
        crate::sync::inventory::lines(&store, config, Some(account), crate::dates::unix_now())
            .unwrap_or_default();
    let mut seen = std::collections::HashSet::new();
    let mut stuck = Stuck::default();
    for line in lines {
        if !seen.insert(line.copy.message) {
            continue;
        }
        match line.kind {
            Kind::Failed => stuck.failed += 1,
            Kind::ToDownload => stuck.to_download += 1,
            _ => {}
        }
    }
    stuck
}

impl CheckRun {
    pub fn running(&self) -> bool {
        self.result.is_none()
    }
}

impl PipitApp {
    /// Starts the server check of `account`, with its saved settings, and
    /// opens the dialog that shows it.
    pub fn check_server(&mut self, account: &str) {
        let Ok(account) = self.config.account(account).cloned() else {
            return;
        };
        let job = self
            .worker()
            .doctor(account.clone(), account.password_source());
        self.check_run = Some(CheckRun {
            account: account.name.clone(),
            server: format!("{}@{}:{}", account.user, account.host, account.port),
            job: Some(job),
            result: None,
            recentre: false,
            done_at: None,
            copied: false,
            stuck_job: Some(self.stuck_job(&account.name)),
            stuck: Stuck::default(),
        });
    }

    fn stuck_job(&self, account: &str) -> Promise<Stuck> {
        let store = self.paths.store.clone();
        let config = self.config.clone();
        let account = account.to_string();
        crate::worker::spawn_promise(
            "pipit-check-stuck",
            self.notify.clone(),
            move || stuck(&store, &config, &account),
            |_| Stuck::default(),
        )
    }

    /// Takes in the check's result, once its thread is done.
    pub(super) fn poll_check(&mut self) {
        let Some(run) = &mut self.check_run else {
            return;
        };
        if run.stuck_job.as_ref().is_some_and(|j| j.ready().is_some())
            && let Some(Ok(stuck)) = run.stuck_job.take().map(Promise::try_take)
        {
            run.stuck = stuck;
        }
        if run.job.as_ref().is_some_and(|j| j.ready().is_some())
            && let Some(Ok(result)) = run.job.take().map(Promise::try_take)
        {
            run.result = Some(result.map_err(|e| words::fetch_error(&e)));
            run.recentre = true;
            run.done_at = Some(crate::dates::unix_now());
        }
    }
}

/// Below the verdict, which checks to read: the report is taller than the
/// dialog, and a server that could not be reached had its reason at the
/// foot of fifteen lines of "not checked".
pub fn at_a_glance(report: &Report) -> Option<String> {
    let of = |status: Status| -> Vec<&str> {
        report
            .checks
            .iter()
            .filter(|c| c.status == status)
            .map(|c| c.id)
            .collect()
    };
    let (failed, warned) = (of(Status::Fail), of(Status::Warn));
    if let [only] = failed.as_slice()
        && warned.is_empty()
        && of(Status::Ok).is_empty()
        && let Some(check) = report.check(only)
    {
        return Some(format!(
            "Failed: {only} ({})",
            crate::doctor::shown(&check.detail)
        ));
    }
    let mut parts = Vec::new();
    if !failed.is_empty() {
        parts.push(format!("Failed: {}", failed.join(", ")));
    }
    if !warned.is_empty() {
        parts.push(format!("warnings: {}", warned.join(", ")));
    }
    (!parts.is_empty()).then(|| words::sentence(&parts.join("; ")))
}

/// The messages Pipit could not download, beside a report that reads one.
pub fn stuck_words(stuck: Stuck) -> Option<String> {
    let n = stuck.failed + stuck.to_download;
    if n == 0 {
        return None;
    }
    let mut kinds = Vec::new();
    if stuck.failed > 0 {
        kinds.push(format!("{} failed", stuck.failed));
    }
    if stuck.to_download > 0 {
        kinds.push(format!("{} not downloaded yet", stuck.to_download));
    }
    Some(format!(
        "Pipit could not download {n} of this account's messages at its last Get Mail ({}): \
On server says why for each. This check reads one small message only, so it does not look at \
them.",
        kinds.join(", ")
    ))
}

/// When the report was made, to the second: "checked at 12:03:15".
pub fn checked_words(at: i64) -> String {
    let c = crate::dates::local(at, &crate::dates::local_offset);
    format!("checked at {:02}:{:02}:{:02}", c.hour, c.minute, c.second)
}

/// The words of a status, as the report marks it.
fn mark_color(ui: &egui::Ui, status: Status) -> egui::Color32 {
    match status {
        Status::Ok => egui::Color32::from_rgb(0x2e, 0x8b, 0x57),
        Status::Warn => ui.visuals().warn_fg_color,
        Status::Fail => ui.visuals().error_fg_color,
        Status::Skip => ui.visuals().weak_text_color(),
    }
}

/// The report as text for a postmaster: when and by what it was made, then
/// the report `pipit doctor` prints.
pub fn report_text(report: &Report, now: i64) -> String {
    format!(
        "Server check by Pipit {} on {} UTC (read-only: no message was deleted)\n\n{}\n",
        env!("CARGO_PKG_VERSION"),
        crate::dates::Civil::from_unix(now).short(),
        report.human()
    )
}

pub fn ui(ctx: &egui::Context, app: &mut PipitApp) {
    app.poll_check();
    let Some(run) = &mut app.check_run else {
        return;
    };
    if std::mem::take(&mut run.recentre) {
        super::dialogs::recentre(ctx, Dialog::CheckServer.id());
    }
    let Some(run) = &app.check_run else {
        return;
    };
    let fresh = app.dialog_fresh;
    let mut close = false;
    let mut again = false;
    let mut copied = false;
    let enter = super::dialogs::enter_presses_default(ctx, app, Dialog::CheckServer);
    modal(ctx, Dialog::CheckServer.id(), |ui| {
        ui.set_width(640.0_f32.min(ctx.content_rect().width() - 60.0));
        ui.heading(format!("Check server: {}", run.account));
        let mut server = crate::reveal::field(&run.server).into_owned();
        if let Some(at) = run.done_at {
            server.push_str(&format!(" · {}", checked_words(at)));
        }
        ui.label(RichText::new(server).weak());
        ui.add_space(6.0);
        match &run.result {
            None => {
                ui.horizontal(|ui| {
                    ui.spinner();
                    ui.add(
                        egui::Label::new(
                            "Examining the server, read-only: nothing is deleted, and at most \
one small message is read. This takes a few seconds (longer during Get Mail, which it waits for).",
                        )
                        .wrap(),
                    );
                });
                ui.add_space(8.0);
                let cancel = default_button(ui, "Cancel").on_hover_text(
                    "Stop waiting for the report (Escape). The check itself, read-only, runs \
to its end within its timeouts; a Get Mail of this account waits for it meanwhile.",
                );
                if fresh {
                    cancel.request_focus();
                }
                if cancel.clicked() || enter {
                    close = true;
                }
            }
            Some(Err(said)) => {
                ui.colored_label(
                    ui.visuals().error_fg_color,
                    format!("The server could not be checked: {}", said.line()),
                );
                ui.label(RichText::new(&said.detail).monospace().weak());
                ui.add_space(8.0);
                ui.horizontal(|ui| {
                    let button = default_button(ui, "Close");
                    if fresh {
                        button.request_focus();
                    }
                    if button.clicked() || enter {
                        close = true;
                    }
                    if ui.button("Check again").clicked() {
                        again = true;
                    }
                });
            }
            Some(Ok(report)) => {
                report_ui(ui, report, run.stuck);
                ui.add_space(8.0);
                ui.horizontal(|ui| {
                    let button = default_button(ui, "Close");
                    if fresh {
                        button.request_focus();
                    }
                    if button.clicked() || enter {
                        close = true;
                    }
                    if ui
                        .button("Copy report")
                        .on_hover_text(
                            "Copy the report as text, to send to whoever runs the server",
                        )
                        .clicked()
                    {
                        ui.ctx()
                            .copy_text(report_text(report, crate::dates::unix_now()));
                        copied = true;
                    }
                    if ui
                        .button("Check again")
                        .on_hover_text("Examine the server once more")
                        .clicked()
                    {
                        again = true;
                    }
                    if run.copied {
                        // Wrapped: in a narrow window it must not widen the dialog.
                        ui.add(
                            egui::Label::new(
                                RichText::new(
                                    "Copied: paste it into a mail to whoever runs the server",
                                )
                                .weak(),
                            )
                            .wrap(),
                        );
                    }
                });
            }
        }
    });
    let account = run.account.clone();
    if copied {
        app.say("Report copied");
        if let Some(run) = &mut app.check_run {
            run.copied = true;
        }
        // Said at the next frame, which nothing else would bring.
        ctx.request_repaint();
    }
    if again {
        app.check_server(&account);
    } else if close {
        // A check still under way ends by its own timeouts; its answer is
        // dropped unread.
        app.check_run = None;
    }
}

/// The summary, the mailbox, and each check: its status and name, its
/// finding, and (for a warning or a failure) what Pipit does about it.
fn report_ui(ui: &mut egui::Ui, report: &Report, stuck: Stuck) {
    let verdict = if report.failed() {
        ui.visuals().error_fg_color
    } else if report.checks.iter().any(|c| c.status == Status::Warn) {
        ui.visuals().warn_fg_color
    } else {
        ui.visuals().text_color()
    };
    ui.label(RichText::new(report.summary()).strong().color(verdict));
    if let Some(text) = at_a_glance(report) {
        ui.add(egui::Label::new(RichText::new(text).color(verdict)).wrap());
    }
    let s = &report.server;
    let mut facts = Vec::new();
    if let (Some(n), Some(octets)) = (s.messages, s.octets) {
        facts.push(format!(
            "{n} message{} on the server, {}",
            if n == 1 { "" } else { "s" },
            crate::units::human_bytes(octets)
        ));
    }
    if let Some(i) = &s.implementation {
        facts.push(format!("server software: {}", crate::reveal::field(i)));
    }
    if !facts.is_empty() {
        ui.label(words::sentence(&facts.join("; ")));
    }
    if let Some(text) = stuck_words(stuck) {
        ui.add(egui::Label::new(RichText::new(text).color(ui.visuals().warn_fg_color)).wrap());
    }
    ui.add(
        egui::Label::new(
            RichText::new(
                "WARN: odd or costly, and Pipit copes (other programs may not). FAIL: the server \
loses, doubles or exposes mail, or stops a fetch. skip: nothing to check it on. Under each \
warning and failure, after →, what Pipit does about it.",
            )
            .weak(),
        )
        .wrap(),
    );
    ui.add_space(4.0);
    let width = report.checks.iter().map(|c| c.id.len()).max().unwrap_or(0);
    // As tall as the screen allows from the start: the dialog is centred
    // by the size it had, and a report that grew into a short dialog would
    // show three checks at a time.
    let height = (ui.ctx().content_rect().height() - 340.0).clamp(160.0, 640.0);
    egui::ScrollArea::vertical()
        .id_salt("check-server-report")
        .min_scrolled_height(height)
        .max_height(height)
        .show(ui, |ui| {
            egui::Grid::new("check-server-checks")
                .num_columns(2)
                .spacing([12.0, 6.0])
                .striped(true)
                .show(ui, |ui| {
                    for c in &report.checks {
                        // The mark and the check's name in one label, as
                        // the command line's report writes them.
                        ui.label(
                            RichText::new(format!("{:<4}  {:<width$}", c.status.mark(), c.id))
                                .monospace()
                                .color(mark_color(ui, c.status)),
                        );
                        ui.vertical(|ui| {
                            ui.add(
                                egui::Label::new(crate::doctor::shown(&c.detail).into_owned())
                                    .wrap(),
                            );
                            if !c.pipit.is_empty() && c.status != Status::Ok {
                                ui.add(
                                    egui::Label::new(
                                        RichText::new(format!(
                                            "→ {}",
                                            crate::doctor::shown(&c.pipit)
                                        ))
                                        .weak(),
                                    )
                                    .wrap(),
                                );
                            }
                        });
                        ui.end_row();
                    }
                });
        });
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::doctor::{Check, Server};

    #[test]
    fn a_failure_at_a_glance_writes_out_what_would_turn_it_around() {
        let report = Report {
            server: Server::default(),
            checks: vec![Check::fail(
                "capa",
                "the server broke off before the login: -ERR busy\u{202E}kcehc\u{200B}",
                "Pipit stops",
            )],
        };
        let glance = at_a_glance(&report).unwrap();
        assert!(!glance.contains('\u{202E}'), "{glance}");
        assert!(glance.contains("busy[U+202E]kcehc[U+200B]"), "{glance}");
    }
}
