//! Hostile mail (support/hostile.rs) through every path a message takes: a
//! real fetch from Dovecot, the store, `list`, `show`, `show --raw`, the
//! window's reader, Save and `export`. For each message: no panic, no hang
//! (every command runs under a deadline), bounded memory (every command runs
//! under an address-space cap), Save writes only into its folder, nothing a
//! message says can pass one thing for another, and the message is still
//! stored byte-exact and readable raw.

use std::path::Path;
use std::time::{Duration, Instant};

use egui_kittest::Harness;
use egui_kittest::kittest::{By, NodeT as _, Queryable as _};
use pipit::app::{PipitApp, Reading};
use pipit::paths::Paths;

use crate::support::dovecot::Dovecot;
use crate::support::hostile::{self, Hostile};
use crate::support::{Pipit, describe, invariant, run_bounded};

/// The address space each command may use. A debug build maps about 190 MB
/// of its own; a fetch of the whole corpus peaks near 165 MB resident.
/// Inflating the bomb (1 GiB) could not fit.
const MEMORY_MIB: u64 = 512;

/// The address space of a fetch of one 50 MB message.
const LARGE_FETCH_MEMORY_MIB: u64 = 768;

/// The address space of the copy of this test binary that reads the corpus
/// in the window: about 150 MB of its own, the window, and the messages.
const READER_MEMORY_MIB: u64 = 640;

/// Tell a copy of this test binary to read the corpus in the window: the
/// home to read from, and the ids of the messages, in corpus order.
const READER_HOME: &str = "PIPIT_HOSTILE_READER_HOME";
const READER_IDS: &str = "PIPIT_HOSTILE_READER_IDS";

/// The longest any one command or reader step may take, on a slow machine
/// with a debug build. Each takes well under a few seconds here.
const DEADLINE: Duration = Duration::from_secs(60);

#[test]
fn hostile_mail_is_fetched_stored_shown_read_saved_and_exported_safely() {
    let corpus = hostile::fetchable();
    if reading_in_a_capped_copy(&corpus) {
        return;
    }
    let raws: Vec<Vec<u8>> = corpus.iter().map(|h| h.raw.clone()).collect();
    let server = Dovecot::start(&raws);
    let pipit = Pipit::new();
    server.account_for(&pipit, &[]);

    let out = run(&pipit, &["fetch", "--json"]);
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["downloaded"], corpus.len(), "{report:#}");
    assert_eq!(report["errors"].as_array().map(Vec::len), Some(0));

    // Stored byte-exact.
    let mut stored = invariant::stored_messages(&pipit.store_path());
    stored.sort();
    let mut expected = raws.clone();
    expected.sort();
    assert!(
        stored == expected,
        "the store holds other bytes than were sent"
    );

    let ids = list_ids(&pipit, &corpus);
    for (h, id) in corpus.iter().zip(&ids) {
        shown_raw_and_safely(&pipit, h, *id);
    }
    exported_byte_exact(&pipit, &raws);
    read_in_a_capped_copy(
        "hostile::hostile_mail_is_fetched_stored_shown_read_saved_and_exported_safely",
        &pipit,
        &ids,
    );
}

/// A 50 MB header block is over the 1 MiB Pipit reads with TOP: that is the
/// message's problem, not the mailbox's. It is named in the report and
/// downloaded whole (it is within the bound for a message), the other
/// message is fetched as usual, and then it goes down every other path.
#[test]
fn a_fifty_megabyte_header_is_fetched_stored_shown_read_and_exported_safely() {
    let huge = Hostile {
        name: "a 50 MB header",
        raw: hostile::huge_header(50_000_000),
        subject: "Huge",
    };
    if reading_in_a_capped_copy(std::slice::from_ref(&huge)) {
        return;
    }
    let plain = b"From: Ana <ana@example.org>\r\nSubject: plain\r\n\r\nhello\r\n".to_vec();
    let raws = vec![huge.raw.clone(), plain];
    let server = Dovecot::start(&raws);
    let pipit = Pipit::new();
    server.account_for(&pipit, &[]);
    // A message this large takes a few copies of itself on its way to
    // disk (the reply, the parse, SQLite's own): its fetch gets more room.
    let (out, took) = pipit.run_bounded(&["fetch", "--json"], LARGE_FETCH_MEMORY_MIB, DEADLINE);
    assert_eq!(
        out.status.code(),
        Some(0),
        "the fetch failed after {took:?} (under a {LARGE_FETCH_MEMORY_MIB} MiB cap):\n{}",
        describe(&out)
    );
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["downloaded"], 2, "{report:#}");
    let errors = report["errors"].to_string();
    assert!(
        errors.contains("message 1 (50.0 MB): its header block")
            && errors.contains("downloaded whole instead"),
        "{report:#}"
    );
    let mut stored = invariant::stored_messages(&pipit.store_path());
    stored.sort();
    let mut expected = raws.clone();
    expected.sort();
    assert!(
        stored == expected,
        "the store holds other bytes than were sent"
    );

    let ids = list_ids(&pipit, std::slice::from_ref(&huge));
    shown_raw_and_safely(&pipit, &huge, ids[0]);
    exported_byte_exact(&pipit, &raws);
    read_in_a_capped_copy(
        "hostile::a_fifty_megabyte_header_is_fetched_stored_shown_read_and_exported_safely",
        &pipit,
        &ids,
    );
}

/// Runs `test` again in a copy of this test binary whose address space is
/// capped (`ulimit -v`, as for the commands), where it only reads the
/// messages of `pipit`'s home in the window: the reader decodes every
/// attachment, and must do so in bounded memory too.
fn read_in_a_capped_copy(test: &str, pipit: &Pipit, ids: &[i64]) {
    let ids: Vec<String> = ids.iter().map(i64::to_string).collect();
    let mut copy = std::process::Command::new(std::env::current_exe().unwrap());
    copy.args([test, "--exact", "--nocapture", "--test-threads=1"])
        .env(READER_HOME, pipit.home())
        // The cap is on address space: glibc reserves 64 MiB of it for each
        // thread's malloc arena, and the window starts threads of its own
        // (the store, the desktop portal's look-up), which is not memory
        // used. Two arenas measure what the reading takes.
        .env("MALLOC_ARENA_MAX", "2")
        .env(READER_IDS, ids.join(","));
    let (out, took) = run_bounded(&copy, READER_MEMORY_MIB, DEADLINE * 2);
    assert!(
        out.status.success() && String::from_utf8_lossy(&out.stdout).contains("1 passed"),
        "reading in the window, under a {READER_MEMORY_MIB} MiB cap, failed after {took:?}:\n{}",
        describe(&out)
    );
}

/// In the copy `read_in_a_capped_copy` starts: reads the messages in the
/// window and says so. Elsewhere: false.
fn reading_in_a_capped_copy(corpus: &[Hostile]) -> bool {
    let (Some(home), Ok(ids)) = (std::env::var_os(READER_HOME), std::env::var(READER_IDS)) else {
        return false;
    };
    let ids: Vec<i64> = ids.split(',').map(|id| id.parse().unwrap()).collect();
    read_in_the_window(Path::new(&home), corpus, &ids);
    true
}

/// Runs `pipit args…` under the memory cap and the deadline; insists on success.
fn run(pipit: &Pipit, args: &[&str]) -> std::process::Output {
    let (out, took) = pipit.run_bounded(args, MEMORY_MIB, DEADLINE);
    assert_eq!(
        out.status.code(),
        Some(0),
        "pipit {args:?} failed after {took:?} (under a {MEMORY_MIB} MiB cap):\n{}",
        describe(&out)
    );
    out
}

/// The list's ids of the corpus, in its order; `list` itself is terminal-safe.
fn list_ids(pipit: &Pipit, corpus: &[Hostile]) -> Vec<i64> {
    let listed: Vec<serde_json::Value> =
        serde_json::from_slice(&run(pipit, &["list", "--json"]).stdout).unwrap();
    let text = run(pipit, &["list"]).stdout;
    assert_terminal_safe("pipit list", &text);
    corpus
        .iter()
        .map(|h| {
            let found: Vec<i64> = listed
                .iter()
                .filter(|m| m["subject"].as_str().unwrap().contains(h.subject))
                .map(|m| m["id"].as_i64().unwrap())
                .collect();
            assert_eq!(found.len(), 1, "{}: {listed:?}", h.name);
            found[0]
        })
        .collect()
}

/// `show --raw` gives the bytes back; `show` gives text a terminal can print.
fn shown_raw_and_safely(pipit: &Pipit, h: &Hostile, id: i64) {
    let id = id.to_string();
    assert!(
        run(pipit, &["show", &id, "--raw"]).stdout == h.raw,
        "{}: show --raw differs from the message",
        h.name
    );
    let shown = run(pipit, &["show", &id]).stdout;
    assert_terminal_safe(h.name, &shown);
    let shown = String::from_utf8(shown).unwrap();
    match h.subject {
        "Controls" => {
            assert!(shown.contains("Ev[U+0000]il [U+001B][2J"), "{shown}");
            assert!(shown.contains("Body with [U+001B][5mblink"), "{shown}");
            assert!(
                shown.contains("report.pdf[U+000A]second.exe"),
                "one attachment, its line break shown: {shown}"
            );
        }
        "Spoof" => {
            assert!(shown.contains("invoice[U+202E]fdp.exe"), "{shown}");
            assert!(
                shown.contains(
                    "Caution: the sender has Latin and Cyrillic letters mixed in one word"
                ),
                "{shown}"
            );
            assert!(shown.contains("re[U+200B]ady [U+2066]isolated[U+2069]"));
        }
        "Huge" => {
            let subject = shown.lines().find(|l| l.starts_with("Subject:")).unwrap();
            assert!(
                subject.len() < 10_000 && subject.ends_with("[…]"),
                "{subject}"
            );
        }
        "Names" => assert!(
            shown.contains(" […]"),
            "a 10,000-character name cut: {shown}"
        ),
        _ => {}
    }
}

/// What a terminal would act on: control characters other than line breaks
/// and tabs (escape sequences, bells, a bare carriage return, C1 controls),
/// and direction overrides and invisible characters.
fn assert_terminal_safe(what: &str, bytes: &[u8]) {
    let text = String::from_utf8_lossy(bytes);
    for (i, c) in text.char_indices() {
        let line_end = c == '\r' && text[i + 1..].starts_with('\n');
        assert!(
            c == '\n' || c == '\t' || line_end || !pipit::reveal::hides(c),
            "{what}: {c:?} reaches the terminal: {:?}",
            &text[i.saturating_sub(60)..(i + 60).min(text.len())]
        );
    }
}

/// `export --mbox` writes mboxrd; read back, it gives every message exactly.
fn exported_byte_exact(pipit: &Pipit, raws: &[Vec<u8>]) {
    let mbox = pipit.home().join("export.mbox");
    run(pipit, &["export", "--mbox", mbox.to_str().unwrap()]);
    let bytes = std::fs::read(&mbox).unwrap();
    let mut messages: Vec<Vec<u8>> = Vec::new();
    for line in bytes.split_inclusive(|&b| b == b'\n') {
        if line.starts_with(b"From ") {
            messages.push(Vec::new());
            continue;
        }
        let quoted = line.starts_with(b">")
            && line[line.iter().position(|&b| b != b'>').unwrap_or(0)..].starts_with(b"From ");
        let body = messages.last_mut().expect("mbox starts with a From line");
        body.extend_from_slice(if quoted { &line[1..] } else { line });
    }
    for m in &mut messages {
        // Each message is followed by one blank line; every one here ends in a line break.
        assert_eq!(m.pop(), Some(b'\n'));
    }
    messages.sort();
    let mut expected = raws.to_vec();
    expected.sort();
    assert!(messages == expected, "the mbox gives other bytes back");
}

fn window(home: &Path, save_dir: &Path) -> Harness<'static, PipitApp> {
    let app = PipitApp::new(Paths::under(home), None);
    {
        let mut folders = app.attachment_folders.lock().unwrap();
        folders.save_dir = Some(save_dir.to_path_buf());
        // No file chooser: Save writes into the chosen folder.
        folders.chooser = pipit::attachment::Chooser::Off;
        // Were an attachment opened, nothing would start.
        folders.opener = "true".into();
    }
    // Hostile mail has characters no font here has: they show as boxes.
    Harness::builder()
        .with_size(egui::vec2(1280.0, 800.0))
        .allow_missing_glyphs()
        .build_ui_state(|ui, app: &mut PipitApp| app.ui(ui), app)
}

/// Steps the window until `done` holds, within the deadline.
fn step_until(h: &mut Harness<'_, PipitApp>, what: &str, done: impl Fn(&PipitApp) -> bool) {
    let started = Instant::now();
    loop {
        h.step();
        if done(h.state()) {
            h.step();
            return;
        }
        assert!(started.elapsed() < DEADLINE, "timed out: {what}");
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Every message in the reader: it opens in bounded time, nothing it shows
/// hides a character, programs cannot be opened, and Save writes each
/// attachment into the chosen folder and nowhere else.
fn read_in_the_window(home: &Path, corpus: &[Hostile], ids: &[i64]) {
    let root = tempfile::tempdir().unwrap();
    let save_dir = root.path().join("chosen");
    std::fs::create_dir(&save_dir).unwrap();
    let climbed = Path::new("/tmp/pipit-climbed");
    let _ = std::fs::remove_file(climbed);
    let mut h = window(home, &save_dir);
    step_until(&mut h, "the list", |app| app.rows.len() >= corpus.len());
    let mut saved = 0;
    let mut opened_in = None;
    for (message, &id) in corpus.iter().zip(ids) {
        h.state_mut().select(id);
        step_until(&mut h, message.name, |app| {
            matches!(app.reading, Some(Reading::Ready(_)))
        });
        // A frame with the message in it takes bounded time too.
        let frame = Instant::now();
        h.step();
        assert!(
            frame.elapsed() < Duration::from_secs(10),
            "{}: a frame took {:?}",
            message.name,
            frame.elapsed()
        );
        nothing_hidden_on_screen(&h, message.name);
        let attachments = match &h.state().reading {
            Some(Reading::Ready(opened)) => opened.attachments.clone(),
            _ => unreachable!(),
        };
        // Only the rows in view are laid out: the first 16 or 17.
        let rows = h.query_all(By::new().label("Save…")).count();
        assert!(
            rows >= attachments.len().min(16) && rows <= attachments.len(),
            "{}: {rows} rows",
            message.name
        );
        let programs = attachments[..rows]
            .iter()
            .filter(|a| pipit::attachment::runnable(a).is_some())
            .count();
        let disabled = h
            .query_all(By::new().label("Open"))
            .filter(|n| n.accesskit_node().is_disabled())
            .count();
        assert_eq!(
            disabled, programs,
            "{}: Open is off for programs only",
            message.name
        );
        match message.subject {
            "Spoof" => {
                assert_eq!(programs, 7, "all but notes.txt and the PDF would run");
                let row = h.get_by_label_contains("Attachment: invoice[U+202E]fdp.exe (");
                let row = text_of(&row);
                assert!(row.ends_with(" — a program: Save only"), "{row}");
                h.get_by_label_contains("Attachment: notes.txt");
                h.get_by_label_contains(
                    "nvoice.pdf (9 B) — caution: Latin and Cyrillic letters mixed in one word",
                );
                h.get_by_label_contains(
                    "Caution: the sender has Latin and Cyrillic letters mixed in one word",
                );
                h.get_by_label_contains(
                    "Caution: the subject has characters that change how it reads",
                );
                // One that is not a program opens, from a private folder.
                h.state_mut().banner = None;
                h.query_all(By::new().label("Open"))
                    .find(|n| !n.accesskit_node().is_disabled())
                    .unwrap()
                    .click();
                step_until(&mut h, "Open to answer", |app| app.banner.is_some());
                let banner = h.state().banner.clone().unwrap();
                let private = h
                    .state()
                    .attachment_folders
                    .lock()
                    .unwrap()
                    .private_folder()
                    .unwrap()
                    .to_path_buf();
                assert_eq!(
                    banner.text,
                    format!("Opened {}", private.join("notes.txt").display())
                );
                opened_in = Some(private.to_path_buf());
            }
            "Parts" => {
                h.get_by_label("50000 attachments");
                h.get_by_label_contains("The text goes on for");
            }
            "Deep" => {
                h.get_by_label_contains("The bottom of the well.");
            }
            "Bomb" => {
                // Saved as it came: 6.8 MB of gzip, never the gibibyte it inflates to.
                let gz = &attachments[0];
                assert_eq!(gz.name, "zeros.gz");
                h.get_by_label_contains("Attachment: zeros.gz (6.8 MB)");
            }
            "Huge" => {
                let shown = h.query_all(By::new().label_contains("Huge header x-x-x"));
                assert!(shown.count() >= 2, "in the list and the reader");
            }
            _ => {}
        }
        // Save every attachment (the first 16 of 50,000 parts: those in full view).
        for i in 0..attachments.len().min(16) {
            h.state_mut().banner = None;
            h.query_all(By::new().label("Save…"))
                .nth(i)
                .unwrap()
                .click();
            step_until(&mut h, "Save to answer", |app| app.banner.is_some());
            assert!(
                h.state().banner.as_ref().is_some_and(|b| !b.error),
                "{}: Save said {:?}",
                message.name,
                h.state().banner
            );
            saved += 1;
        }
        if message.subject == "Names" {
            saved_names_stay_in_the_folder(&save_dir, &attachments);
        }
    }
    assert!(
        !climbed.exists(),
        "an attachment climbed out to {climbed:?}"
    );
    drop(h);
    if let Some(private) = opened_in {
        assert!(!private.exists(), "the private folder outlived the window");
    }
    let beside: Vec<_> = std::fs::read_dir(root.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(beside, ["chosen"], "Save wrote beside its folder");
    let files: Vec<_> = std::fs::read_dir(&save_dir).unwrap().collect();
    assert_eq!(files.len(), saved, "one file for each Save, in the folder");
}

/// What a node says: its label, or for a text label, its value.
fn text_of(node: &egui_kittest::Node<'_>) -> String {
    let node = node.accesskit_node();
    node.label()
        .or(node.value())
        .unwrap_or_default()
        .to_string()
}

/// No label or value on screen holds a character that hides.
fn nothing_hidden_on_screen(h: &Harness<'_, PipitApp>, what: &str) {
    for node in h.query_all(By::new().predicate(|_| true)) {
        let node = node.accesskit_node();
        for text in [node.label(), node.value()].into_iter().flatten() {
            assert!(
                !text.char_indices().any(|(i, c)| pipit::reveal::hides(c)
                    && c != '\n'
                    && c != '\t'
                    && !(c == '\r' && text[i + 1..].starts_with('\n'))),
                "{what}: the window shows {text:?}"
            );
        }
    }
}

/// Each saved file is directly in the folder, with its content, under the
/// name Pipit makes safe.
fn saved_names_stay_in_the_folder(dir: &Path, attachments: &[pipit::mime::Attachment]) {
    for a in attachments {
        let name = pipit::attachment::safe_file_name(&a.name);
        let path = dir.join(&name);
        assert_eq!(path.parent(), Some(dir), "{name:?}");
        assert_eq!(
            std::fs::read(&path).unwrap_or_else(|e| panic!("{name:?} ({:?}): {e}", a.name)),
            b"content of an attachment",
            "{name:?}"
        );
    }
    let names: Vec<String> = hostile::climbing_attachment_names();
    assert_eq!(attachments.len(), names.len());
}
