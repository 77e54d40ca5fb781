//! Pipit: a desktop POP3 mail reader. The library holds the engine; the
//! binary (`main.rs`) chooses a face: a command (`cli`) or the window (`app`).
//!
//! Arrows run one way:
//!
//! ```text
//! main ─► app ─┐
//!      └► cli ─┴► worker ─► sync ─► net ─► pop3
//!                            │
//!                            ├► store ─► mime
//!                            └► config, secrets
//! ```
//!
//! `discover` (an account's settings from an email address) and `doctor`
//! (a read-only examination of a server) serve the faces and stand on
//! `net` (the doctor on `sync`'s login too). `oauth` (signing in, the
//! tokens in the keychain) serves `secrets`, whose password for a signed-in
//! account is its access token. `setup` (accounts changed in the config and
//! the keychain together),
//! `html` and `portal` serve the faces, and `compose` (a reply or a
//! forward as a `mailto:` URI, pure, on `mime`'s fields) the window; `rules` (rules before download,
//! pure: what to do with a message judged on its headers) serves `config`,
//! `sync` and the faces; `reveal`, `dates`, `units` and
//! `failpoint` serve every room; `demo` runs a server of its own on
//! `pop3::server`. The two faces never import each other, and nothing below
//! them knows egui exists.

pub mod app;
pub mod attachment;
pub mod cli;
pub mod compose;
pub mod config;
pub mod dates;
pub mod demo;
pub mod discover;
pub mod doctor;
pub mod failpoint;
pub mod html;
pub mod mime;
pub mod net;
pub mod oauth;
pub mod paths;
pub mod pop3;
pub mod portal;
pub mod reveal;
pub mod rules;
pub mod secrets;
pub mod setup;
pub mod store;
pub mod sync;
pub mod units;
pub mod worker;
