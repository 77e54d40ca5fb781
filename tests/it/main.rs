//! Pipit's integration tests: the real `pipit` binary against a real Dovecot,
//! and against a scripted server for faults Dovecot will not produce.

mod cli;
mod demo;
mod discover;
mod doctor;
mod faults;
mod hostile;
mod identity;
mod keychain;
mod local_faults;
mod never_lost;
mod oauth2;
mod real_server;
mod round_trips;
mod rules;
mod sign_in;
mod support;
mod window;
mod window_compose;
mod window_discover;
mod window_inventory;
mod window_list;
mod window_mended;
mod window_review;
mod window_rules;
mod window_sign_in;
