//! The `pipit` binary: parse arguments, run a subcommand (or, with none, the
//! window), and turn the outcome into an exit status and a message.

use clap::Parser as _;
use pipit::cli::{self, Cli, exit};
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
    let Some(command) = args.command else {
        if let Err(e) = pipit::app::run(paths, pipit::app::Startup::default()) {
            eprintln!("pipit: {e}");
            std::process::exit(exit::OTHER);
        }
        std::process::exit(exit::OK);
    };
    match cli::run(&paths, command) {
        Ok(()) => std::process::exit(exit::OK),
        Err(failure) => {
            if !failure.message.is_empty() {
                eprintln!("pipit: {}", failure.message);
            }
            std::process::exit(failure.code);
        }
    }
}
