//! The store benchmark: 100,000 messages. How soon the window's list has its
//! first screen, how long a full-text query takes, and how long a frame of
//! the window takes while the list scrolls (UI work on the CPU, as egui
//! lays it out; painting on the GPU comes on top).
//!
//! `cargo bench --bench store` (or `-- 20000` for another count).

use std::time::{Duration, Instant};

use egui_kittest::Harness;
use pipit::app::PipitApp;
use pipit::mime;
use pipit::paths::Paths;
use pipit::store::{MessageState, NewCopy, NewMessage, Store};

fn main() {
    let count: usize = std::env::args()
        .filter_map(|a| a.parse().ok())
        .next()
        .unwrap_or(100_000);
    let home = tempfile::tempdir().unwrap();
    let paths = Paths::under(home.path());

    let started = Instant::now();
    build_store(&paths, count);
    println!(
        "built a store of {count} messages in {:.1} s",
        started.elapsed().as_secs_f64()
    );

    // 1. From start to the first screen of the list.
    let started = Instant::now();
    let app = PipitApp::new(paths.clone(), None);
    let mut h = Harness::builder()
        .with_size(egui::vec2(1280.0, 800.0))
        .build_ui_state(|ui, app: &mut PipitApp| app.ui(ui), app);
    step_until(&mut h, |app| app.rows.len() == count);
    h.step();
    let first_screen = started.elapsed();

    // 2. Full-text queries as the window makes them: from the search box
    // changing to the list showing the matches.
    let mut query_times = Vec::new();
    // A rare word, a common one, two words, a prefix as typed, accents
    // folded, a sender, and no match.
    for q in [
        "higaga",
        "kalomi",
        "kaloru kalopo",
        "kalod",
        "koln cafe",
        "correspondent 42",
        "nothingmatches",
    ] {
        let t = Instant::now();
        let app = h.state_mut();
        app.search = q.to_string();
        app.rows_loaded = false;
        app.reload();
        step_until(&mut h, |app| app.rows_loaded);
        query_times.push((q, t.elapsed(), h.state().rows.len()));
    }
    let app = h.state_mut();
    app.search.clear();
    app.reload();
    step_until(&mut h, |app| app.rows.len() == count);

    // 3. Frames while scrolling.
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

    println!();
    println!(
        "{count} messages, {} cores",
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );
    println!("{:<44} {:>10} {:>10}", "measure", "result", "target");
    println!(
        "{:<44} {:>8.0} ms {:>10}",
        "start to the list's first screen",
        first_screen.as_secs_f64() * 1e3,
        "< 1000 ms"
    );
    for (q, t, n) in &query_times {
        println!(
            "{:<44} {:>8.1} ms {:>10}",
            format!("search {q:?} ({n} hits)"),
            t.as_secs_f64() * 1e3,
            "< 50 ms"
        );
    }
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    println!(
        "{:<44} {:>8.2} ms {:>10}",
        "frame while scrolling, median",
        ms(frames[frames.len() / 2]),
        "< 16 ms"
    );
    println!(
        "{:<44} {:>8.2} ms {:>10}",
        "frame while scrolling, 99th percentile",
        ms(frames[frames.len() * 99 / 100]),
        "< 16 ms"
    );
}

/// Steps the window until `done` holds: the store thread answers between frames.
fn step_until(h: &mut Harness<'_, PipitApp>, done: impl Fn(&PipitApp) -> bool) {
    let started = Instant::now();
    while !done(h.state()) {
        h.step();
        std::thread::sleep(Duration::from_micros(100));
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "the window never showed the list"
        );
    }
}

/// Messages like an inbox's: 400 words of text (about 2.6 KB) each, the low
/// end of real mail, so that building 100,000 takes well under a minute.
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
    for chunk in 0..count.div_ceil(5000) {
        let batch = store.batch().unwrap();
        for i in chunk * 5000..((chunk + 1) * 5000).min(count) {
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
    }
}
