//! The `pipit` binary: parse arguments, then either run a command headless
//! or open the window (with no command, or when a command asks for it), and
//! turn the outcome into an exit status and a message. This is the one place
//! that knows both faces.

use clap::Parser as _;
use pipit::app::{self, Startup};
use pipit::cli::{self, Cli, Then, exit};
use pipit::paths::Paths;

fn main() {
    let args = Cli::parse();
    let paths = match Paths::resolve(args.home.as_deref()) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("pipit: {e}");
            std::process::exit(exit::OTHER);
        }
    };
    let then = match args.command {
        None => Then::Window,
        Some(command) => match cli::run(&paths, command) {
            Ok(then) => then,
            Err(failure) => {
                if !failure.message.is_empty() {
                    eprintln!("pipit: {}", failure.message);
                }
                std::process::exit(failure.code);
            }
        },
    };
    let window = match then {
        Then::Exit => Ok(()),
        Then::Window => app::run(paths, Startup::default()),
        Then::OpenFile(file) => app::open_file(&file, &paths),
        Then::DemoWindow(demo) => app::run(
            demo.paths(),
            Startup {
                fetch_now: true,
                title_note: Some("demo".into()),
            },
        ),
    };
    if let Err(e) = window {
        eprintln!("pipit: {e}");
        std::process::exit(exit::OTHER);
    }
    std::process::exit(exit::OK);
}
