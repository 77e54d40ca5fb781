//! Pipit: a desktop POP3 mail reader. The library holds the engine; the
//! binary is a thin face over it.

pub mod mime;
pub mod net;
pub mod pop3;
pub mod store;
