//! The list of a large mailbox in the window: it holds every message's
//! place, reads the rows as they scroll into view, and, left alone, asks
//! for no frame at all (issue 17: the window's own costs).

use std::time::Duration;

use egui_kittest::Harness;
use egui_kittest::kittest::Queryable as _;
use pipit::app::{PipitApp, Reading, UiCommand};
use pipit::mime;
use pipit::store::{MessageState, NewCopy, NewMessage, Store};

use crate::support::Pipit;
use crate::support::window::{wait, window};

/// `count` small messages of account `home`, written straight to the store.
fn stored(home: &Pipit, count: usize) {
    let mut store = Store::open(&home.store_path()).unwrap();
    let batch = store.batch().unwrap();
    for i in 0..count {
        let raw = format!(
            "From: Sender {i} <s{i}@example.org>\r\nSubject: Message number {i}\r\nDate: {}\r\n\r\nText {i}\r\n",
            pipit::dates::Civil::from_unix(1_700_000_000 + i as i64 * 60).rfc5322()
        );
        batch
            .insert(&NewMessage {
                copy: NewCopy {
                    account: "home",
                    uid: Some(&format!("u{i}")),
                    size: raw.len() as u64,
                    digest: Some(&mime::header_digest(raw.as_bytes())),
                    first_seen: 0,
                },
                raw: raw.as_bytes(),
                state: MessageState::Full,
                parsed: &mime::parse(raw.as_bytes()),
                problem: "",
            })
            .unwrap();
    }
    batch.commit().unwrap();
}

/// Steps until egui asks for no frame soon (a repaint within a second).
fn settle(h: &mut Harness<'_, PipitApp>) {
    for _ in 0..200 {
        h.step();
        if h.output().viewport_output[&egui::ViewportId::ROOT].repaint_delay
            > Duration::from_secs(1)
        {
            return;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    panic!("the window keeps asking for frames while nothing happens");
}

#[test]
fn window_list_a_long_list_reads_its_rows_as_they_scroll_into_view() {
    let home = Pipit::new();
    home.add_account_named("home", "1");
    stored(&home, 1_000);
    let mut h = window(&home);
    wait(&mut h, "the whole list", |app| {
        app.rows_loaded && app.rows.len() == 1_000
    });
    h.get_by_label("1000 messages");
    // Newest first, and only the rows near the screen are read.
    assert_eq!(h.state().rows[0].subject.as_ref(), "Message number 999");
    assert!(h.state().rows.get(900).is_none(), "row 900 read unasked");
    // End: the last message, read as it comes into view, and opened.
    h.state_mut().run_command(UiCommand::Last);
    wait(&mut h, "the last row", |app| {
        app.rows.get(999).is_some() && matches!(app.reading, Some(Reading::Ready(_)))
    });
    assert_eq!(h.state().rows[999].subject.as_ref(), "Message number 0");
    assert_eq!(
        h.state().selected_row().map(|r| r.id),
        h.state().rows.id(999)
    );
    // Sorted by subject, A to Z: "Message number 0", "…1", "…10", …
    h.state_mut().set_sort(pipit::app::Column::Subject);
    wait(&mut h, "the list by subject", |app| {
        app.list_is_current() && app.rows_loaded
    });
    assert_eq!(h.state().rows[1].subject.as_ref(), "Message number 1");
    assert_eq!(h.state().rows[2].subject.as_ref(), "Message number 10");
}

/// A window left alone draws nothing: no frame is asked for, so it costs
/// no CPU (tests/bench/window.sh measures the real one under Xvfb).
#[test]
fn window_list_an_idle_window_asks_for_no_frame() {
    let home = Pipit::new();
    home.add_account_named("home", "1");
    stored(&home, 300);
    let mut h = window(&home);
    wait(&mut h, "the whole list", |app| {
        app.rows_loaded && app.rows.len() == 300
    });
    settle(&mut h);
    // A message opened, the list scrolled: then quiet again.
    let id = h.state().rows.id(2).unwrap();
    h.state_mut().select(id);
    wait(&mut h, "the message", |app| {
        matches!(app.reading, Some(Reading::Ready(_)))
    });
    h.state_mut().run_command(UiCommand::Last);
    wait(&mut h, "the last row", |app| app.rows.get(299).is_some());
    settle(&mut h);
    for _ in 0..5 {
        h.step();
        assert!(
            h.output().viewport_output[&egui::ViewportId::ROOT].repaint_delay
                > Duration::from_secs(1),
            "an idle window asked for a frame"
        );
    }
}

/// Page Down moves by the rows the window shows at its zoom: the window's
/// size is remembered unzoomed, and its rows are laid out zoomed.
#[test]
fn window_list_page_down_moves_a_page_at_the_zoom() {
    let home = Pipit::new();
    home.add_account_named("home", "1");
    stored(&home, 100);
    let mut h = window(&home);
    wait(&mut h, "the whole list", |app| {
        app.rows_loaded && app.rows.len() == 100
    });
    for _ in 0..5 {
        h.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::Plus);
        h.step();
        h.step();
    }
    assert_eq!(h.ctx.zoom_factor(), 1.5);
    // As egui-winit reports a 1200 × 760 window at 150 %: in zoomed points.
    h.input_mut()
        .viewports
        .entry(egui::ViewportId::ROOT)
        .or_default()
        .inner_rect = Some(egui::Rect::from_min_size(
        egui::Pos2::ZERO,
        egui::vec2(1200.0 / 1.5, 760.0 / 1.5),
    ));
    h.step();
    h.step();
    assert_eq!(h.state().layout.window, [1200.0, 760.0]);
    let first = h.state().rows.id(0).unwrap();
    h.state_mut().select(first);
    h.step();
    h.state_mut().run_command(UiCommand::PageDown);
    h.step();
    // (760 / 1.5 - 160) / 26 rows: 13, not the 23 of an unzoomed window.
    assert_eq!(h.state().selected, h.state().rows.id(13));
}
