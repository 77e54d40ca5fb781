//! `pipit demo`: the built-in server serves, the real CLI fetches from it,
//! and the window shows its mail under Xvfb (the README's screenshot). Also
//! the desktop packaging files validate.

use std::io::{BufRead as _, BufReader};
use std::process::{Command, Stdio};

use crate::support::{Pipit, describe, require_tool};

/// Kills the demo server when the test ends, however it ends.
struct Running(std::process::Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn the_headless_demo_serves_and_the_cli_fetches_every_message() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_pipit"))
        .args(["demo", "--headless"])
        .env_remove("DBUS_SESSION_BUS_ADDRESS")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let _demo = Running(child);
    let first = lines.next().unwrap().unwrap();
    let second = lines.next().unwrap().unwrap();
    let port: u16 = first
        .rsplit(':')
        .next()
        .unwrap()
        .parse()
        .expect("the first line names the port");
    let fingerprint = second.rsplit(' ').next().unwrap().to_string();
    assert!(second.contains("user demo, password demo"), "{second}");
    let rest: Vec<String> = lines.by_ref().take(8).map(Result::unwrap).collect();
    assert!(
        rest.iter().any(|l| l.contains("account add demo")),
        "{rest:?}"
    );

    let pipit = Pipit::new();
    pipit.ok(&[
        "account",
        "add",
        "demo",
        "--host",
        "127.0.0.1",
        "--port",
        &port.to_string(),
        "--user",
        "demo",
        "--password-command",
        "printf demo",
        "--trust-fingerprint",
        &fingerprint,
        "--max-size",
        "1000000",
    ]);
    let report = pipit.fetch_ok();
    assert_eq!(report["new"], 19, "{report:#}");
    assert_eq!(report["downloaded"], 16);
    assert_eq!(
        report["headers_only"], 3,
        "the large ones stay on the server"
    );
    let list = pipit.list();
    assert_eq!(list.len(), 19);
    assert!(list.iter().any(|m| m["subject"] == "東京からこんにちは"));
    let big = list.iter().find(|m| m["state"] == "headers").unwrap();
    let preview = pipit.run(&["preview", &big["id"].to_string(), "--lines", "3"]);
    assert_eq!(preview.status.code(), Some(0), "{}", describe(&preview));
    assert!(String::from_utf8_lossy(&preview.stdout).contains("Content-Type: multipart/mixed"));
    assert_eq!(pipit.fetch_ok()["downloaded"], 0);
}

#[test]
fn the_demo_window_shows_mail_under_xvfb() {
    for tool in ["xvfb-run", "xauth", "xdotool", "import", "convert"] {
        require_tool(tool);
    }
    let shot = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("demo.png");
    let _ = std::fs::remove_file(&shot);
    let out = Command::new(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/screenshot.sh"))
        .arg(env!("CARGO_BIN_EXE_pipit"))
        .arg(&shot)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", describe(&out));
    let said = String::from_utf8_lossy(&out.stdout);
    let deviation: f64 = said
        .rsplit("deviation ")
        .next()
        .and_then(|d| d.trim().trim_end_matches(')').parse().ok())
        .unwrap_or(0.0);
    assert!(
        deviation > 0.12,
        "the window looks empty (deviation {deviation}): {}",
        shot.display()
    );
    println!("screenshot of the demo window: {}", shot.display());
}

#[test]
fn the_desktop_entry_and_appstream_metadata_validate() {
    require_tool("desktop-file-validate");
    require_tool("appstreamcli");
    let root = env!("CARGO_MANIFEST_DIR");
    let out = Command::new("desktop-file-validate")
        .arg(format!("{root}/packaging/org.pipit.Pipit.desktop"))
        .output()
        .unwrap();
    assert!(
        out.status.success() && out.stdout.is_empty(),
        "{}",
        describe(&out)
    );
    let out = Command::new("appstreamcli")
        .args(["validate", "--no-net"])
        .arg(format!("{root}/packaging/org.pipit.Pipit.metainfo.xml"))
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", describe(&out));
}
