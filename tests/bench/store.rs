//! The store benchmark: a million messages (or `PIPIT_BENCH_MESSAGES`, or
//! a count as argument: `cargo bench --bench store -- 100000`). Through the
//! window itself (egui_kittest, the app's own code and threads): how soon
//! the list has its first screen, how long full-text searches and sorts by
//! each column take, how long a frame takes while the list scrolls (UI work
//! on the CPU, as egui lays it out; painting on the GPU comes on top),
//! opening a message, and the memory the process holds with the whole
//! list listed.
//!
//! The store is written straight into SQLite in large transactions (no
//! fetch). `PIPIT_BENCH_STORE=DIR` keeps it in DIR and uses it again on the
//! next run when it holds the same count (a million take a while to build);
//! `-- --build-only` builds it (there) and stops.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use egui_kittest::Harness;
use pipit::app::{Column, PipitApp, Reading, UiCommand};
use pipit::mime;
use pipit::paths::Paths;
use pipit::store::{Filter, MessageState, NewCopy, NewMessage, Sort, Store};

fn main() {
    let count: usize = std::env::var("PIPIT_BENCH_MESSAGES")
        .ok()
        .and_then(|v| v.replace('_', "").parse().ok())
        .or_else(|| std::env::args().skip(1).find_map(|a| a.parse().ok()))
        .unwrap_or(1_000_000);
    let temp = tempfile::tempdir().unwrap();
    let home =
        std::env::var_os("PIPIT_BENCH_STORE").map_or_else(|| temp.path().into(), PathBuf::from);
    let paths = Paths::under(&home);

    let held = Store::open(&paths.store)
        .ok()
        .and_then(|s| s.list_ids(&Filter::default(), Sort::default()).ok())
        .map_or(0, |ids| ids.len());
    if held == count {
        println!("using the store of {count} messages in {}", home.display());
    } else {
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", paths.store.display()));
        }
        let started = Instant::now();
        build_store(&paths, count);
        println!(
            "built a store of {count} messages in {:.1} s",
            started.elapsed().as_secs_f64()
        );
    }
    if std::env::args().any(|a| a == "--build-only") {
        // tests/bench/window.sh wants the store only.
        std::mem::forget(temp);
        return;
    }
    // The window starts as a new one would: newest first, default sizes.
    let _ = std::fs::remove_file(home.join("window.json"));
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    let mut table: Vec<(String, String, &str)> = Vec::new();

    // 1. From start to the first screen of the list, then to the whole
    // list known (its count in the footer).
    let started = Instant::now();
    let app = PipitApp::new(paths.clone(), None);
    let mut h = Harness::builder()
        .with_size(egui::vec2(1280.0, 800.0))
        .build_ui_state(|ui, app: &mut PipitApp| app.ui(ui), app);
    step_until(&mut h, |app| app.rows.first().is_some());
    h.step();
    let first_screen = started.elapsed();
    step_until(&mut h, |app| app.rows_loaded);
    h.step();
    let whole = started.elapsed();
    assert_eq!(h.state().rows.len(), count);
    table.push((
        "start to the list's first screen".into(),
        format!("{:.0} ms", ms(first_screen)),
        "< 300 ms",
    ));
    table.push((
        format!("start to the whole list counted ({count})"),
        format!("{:.0} ms", ms(whole)),
        "",
    ));

    // 2. Full-text queries as the window makes them: from the search box
    // changing to the list showing the first screen of matches, and to the
    // whole result known (its count). A rare word, common ones,
    // two words, a prefix as typed, accents folded, a sender, no match.
    for (q, what) in [
        ("higaga", "a rare word"),
        ("kalomi", "a common word"),
        ("kaloru kalopo", "two common words"),
        ("kalod", "a prefix, as typed"),
        ("koln cafe", "accents folded"),
        ("correspondent 42", "a sender"),
        ("nothingmatches", "no match"),
    ] {
        let t = Instant::now();
        let app = h.state_mut();
        app.search = q.to_string();
        app.rows_loaded = false;
        app.reload();
        step_until(&mut h, |app| app.list_is_current());
        h.step();
        let first = t.elapsed();
        step_until(&mut h, |app| app.rows_loaded);
        h.step();
        let n = h.state().rows.len();
        table.push((
            format!(
                "search, {what}: {q:?} ({:.0} %): first screen / all",
                100.0 * n as f64 / count as f64
            ),
            format!("{:.1} / {:.0} ms", ms(first), ms(t.elapsed())),
            "< 50 ms",
        ));
    }
    let app = h.state_mut();
    app.search.clear();
    app.rows_loaded = false;
    app.reload();
    step_until(&mut h, |app| app.rows_loaded);

    // 3. Sorts by each column, each way: from the click to the first
    // screen in the new order, and to the whole order known.
    for (column, name) in [
        (Column::From, "sender"),
        (Column::From, "sender"),
        (Column::Subject, "subject"),
        (Column::Subject, "subject"),
        (Column::Size, "size"),
        (Column::Size, "size"),
        (Column::Date, "date"),
        (Column::Date, "date"),
    ] {
        let t = Instant::now();
        let app = h.state_mut();
        app.rows_loaded = false;
        app.set_sort(column);
        let ascending = app.sort.ascending;
        step_until(&mut h, |app| {
            app.list_is_current() && app.rows.first().is_some()
        });
        h.step();
        let first = t.elapsed();
        step_until(&mut h, |app| app.rows_loaded);
        let all = t.elapsed();
        table.push((
            format!(
                "sort by {name}, {}: first screen / whole order",
                if ascending { "ascending" } else { "descending" }
            ),
            format!("{:.0} / {:.0} ms", ms(first), ms(all)),
            "< 300 ms",
        ));
    }
    // Back to newest first, untimed.
    h.state_mut().set_sort(Column::Date);
    step_until(&mut h, |app| app.list_is_current() && app.rows_loaded);
    assert_eq!(h.state().sort, Sort::default());

    // 4. Frames while scrolling with the wheel (rows come from the store
    // thread as they scroll into view).
    let mut frames = Vec::new();
    h.hover_at(egui::pos2(480.0, 300.0));
    for i in 0..300 {
        let delta = if i % 100 < 50 { -240.0 } else { 240.0 };
        h.event(egui::Event::MouseWheel {
            unit: egui::MouseWheelUnit::Point,
            delta: egui::vec2(0.0, delta),
            modifiers: egui::Modifiers::NONE,
            phase: egui::TouchPhase::Move,
            source: egui::MouseWheelSource::Wheel,
        });
        let t = Instant::now();
        h.step();
        frames.push(t.elapsed());
    }
    frames.sort();
    table.push((
        "frame while scrolling, median / 99th percentile".into(),
        format!(
            "{:.2} / {:.2} ms",
            ms(frames[frames.len() / 2]),
            ms(frames[frames.len() * 99 / 100])
        ),
        "< 8 ms",
    ));

    // 5. Opening a message: from the selection to the reader showing it;
    // then End, to the last of the million, drawn and shown.
    let id = h.state().rows.id(3).unwrap();
    let t = Instant::now();
    h.state_mut().select(id);
    step_until(&mut h, |app| matches!(app.reading, Some(Reading::Ready(_))));
    h.step();
    table.push((
        "open a message".into(),
        format!("{:.1} ms", ms(t.elapsed())),
        "< 100 ms",
    ));
    let t = Instant::now();
    h.state_mut().run_command(UiCommand::Last);
    step_until(&mut h, |app| {
        app.rows.get(count - 1).is_some() && matches!(app.reading, Some(Reading::Ready(_)))
    });
    h.step();
    table.push((
        "End: the last message shown and opened".into(),
        format!("{:.1} ms", ms(t.elapsed())),
        "< 100 ms",
    ));

    // 6. Memory of the process: the window with the whole list listed,
    // its store thread and SQLite's caches.
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let kb = |key: &str| {
        status
            .lines()
            .find(|l| l.starts_with(key))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    table.push((
        "memory with the whole list listed (resident)".into(),
        format!("{:.0} MB", kb("VmRSS:") / 1024.0),
        "< 500 MB",
    ));
    table.push((
        "memory, peak of the run".into(),
        format!("{:.0} MB", kb("VmHWM:") / 1024.0),
        "",
    ));

    println!();
    println!(
        "{count} messages, {} cores",
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );
    println!("{:<58} {:>16} {:>10}", "measure", "result", "target");
    for (what, result, target) in table {
        println!("{what:<58} {result:>16} {target:>10}");
    }
}

/// Steps the window until `done` holds: the store thread answers between frames.
fn step_until(h: &mut Harness<'_, PipitApp>, done: impl Fn(&PipitApp) -> bool) {
    let started = Instant::now();
    while !done(h.state()) {
        h.step();
        std::thread::sleep(Duration::from_micros(100));
        assert!(
            started.elapsed() < Duration::from_secs(120),
            "the window never showed the list"
        );
    }
}

/// Messages like an inbox's: 400 words of text (about 2.6 KB) each, the low
/// end of real mail, written 20,000 to a transaction.
fn build_store(paths: &Paths, count: usize) {
    let mut store = Store::open(&paths.store).unwrap();
    // A vocabulary of 3,000 made-up words used with a Zipf-like skew, as words
    // are in real mail: a few everywhere, most rare.
    let syllables = [
        "ka", "lo", "mi", "ne", "ru", "sa", "ti", "po", "de", "fu", "ga", "hi", "jo", "ve", "zu",
    ];
    let mut vocabulary: Vec<String> = Vec::new();
    'outer: for a in syllables {
        for b in syllables {
            for c in syllables {
                vocabulary.push(format!("{a}{b}{c}"));
                if vocabulary.len() == 3000 {
                    break 'outer;
                }
            }
        }
    }
    vocabulary[7] = "Köln".into();
    vocabulary[11] = "café".into();
    let mut state = 0x2545_f491_4f6c_dd1d_u64;
    // rank ~ 3000^u: the first words are everywhere, the last almost nowhere.
    let mut word = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        let u = (state % 1_000_000) as f64 / 1_000_000.0;
        (3000f64.powf(u) as usize).saturating_sub(1).min(2999)
    };
    const BATCH: usize = 20_000;
    for chunk in 0..count.div_ceil(BATCH) {
        let batch = store.batch().unwrap();
        for i in chunk * BATCH..((chunk + 1) * BATCH).min(count) {
            let subject: Vec<&str> = (0..6).map(|_| vocabulary[word()].as_str()).collect();
            let body: Vec<&str> = (0..400).map(|_| vocabulary[word()].as_str()).collect();
            let raw = format!(
                "From: Correspondent {} <c{}@example.org>\r\nSubject: {}\r\nDate: {}\r\n\r\n{}\r\n",
                i % 97,
                i % 97,
                subject.join(" "),
                pipit::dates::Civil::from_unix(1_700_000_000 + i as i64 * 600).rfc5322(),
                body.join(" ")
            );
            let parsed = mime::parse(raw.as_bytes());
            batch
                .insert(&NewMessage {
                    copy: NewCopy {
                        account: "bench",
                        uid: Some(&format!("uid-{i}")),
                        size: raw.len() as u64,
                        digest: Some(&mime::header_digest(raw.as_bytes())),
                        first_seen: 0,
                    },
                    raw: raw.as_bytes(),
                    state: MessageState::Full,
                    parsed: &parsed,
                    problem: "",
                })
                .unwrap();
        }
        batch.commit().unwrap();
        if count >= 200_000 && (chunk + 1) % 10 == 0 {
            eprintln!("  {} messages written", (chunk + 1) * BATCH);
        }
    }
}
