//! Pipit: a desktop POP3 mail reader. The library holds the engine; the
//! binary is a thin face over it.
//!
//! Arrows run one way: `pop3` ← `net` ← `sync` ← `worker` ← `app` / `cli`;
//! `store`, `mime`, `secrets` and `config` serve `sync` and the faces;
//! `setup` (accounts changed in the config and the keychain together),
//! `html`, `portal` and `dates` serve the faces, which never import each
//! other.

pub mod app;
pub mod attachment;
pub mod cli;
pub mod config;
pub mod dates;
pub mod demo;
pub mod failpoint;
pub mod html;
pub mod mime;
pub mod net;
pub mod paths;
pub mod pop3;
pub mod portal;
pub mod reveal;
pub mod secrets;
pub mod setup;
pub mod store;
pub mod sync;
pub mod units;
pub mod worker;
