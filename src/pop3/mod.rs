//! POP3 without IO: the protocol engine of a connection (`connection`), the
//! commands and the reply reader it frames with, CAPA, listings, the
//! credential computations, and a server's side for the servers Pipit runs
//! itself. Nothing here touches a socket; `net` does.

pub mod auth;
pub mod capa;
pub mod client;
pub mod command;
pub mod connection;
pub mod listing;
pub mod reply;
pub mod server;
pub mod stuffing;

pub use capa::Capabilities;
pub use client::Client;
pub use command::{Command, Limits, ReplyShape, UnsafeArgument, check_argument, check_sasl_field};
pub use connection::{Connection, Event, Handle, Method, Options};
pub use reply::{Indicator, ProtocolError, Reply, RespCode};
pub use stuffing::dot_stuff;
