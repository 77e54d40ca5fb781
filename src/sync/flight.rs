//! Pipelining: commands kept in flight within a window that adapts to the
//! replies' sizes, each reply handed back with the item it answers.

use std::sync::atomic::{AtomicBool, Ordering};

use crate::net::Session;
use crate::pop3::{Command, Reply};

use super::FetchError;

/// Commands kept in flight when the server advertises PIPELINING: enough for
/// a long round trip full of small messages. At about 12 bytes a command
/// they stay well within any TCP window, as RFC 2449 asks.
pub(super) const PIPELINE_WINDOW: usize = 1024;
/// Reply bytes (by the server's LIST sizes) asked for ahead of those being
/// read: more than a fast link carries in a long round trip (1 Gbit/s over
/// 50 ms is 6 MB), so large messages still stream back to back, yet a cancel
/// or a broken store waits for a few messages at most, not for 1,024 of them.
pub(super) const FLIGHT_BYTES: u64 = 8 * 1024 * 1024;
/// What a header block (TOP n 0) is expected to weigh, for the same budget.
pub(super) const HEADER_BYTES: u64 = 4 * 1024;

/// Sends one command per item, keeping up to `window` in flight, and hands
/// each reply to `each` as it arrives, in order. Stops between replies when
/// cancelled, or when `each` fails.
pub(super) fn pipeline<T>(
    session: &mut Session,
    items: &[T],
    window: usize,
    cancel: &AtomicBool,
    command: impl Fn(&T) -> Command,
    each: impl FnMut(&T, Reply, u64) -> Result<(), FetchError>,
) -> Result<(), FetchError> {
    let flight = Flight::new(window, u64::MAX);
    let mut each = each;
    pipeline_then(
        session,
        items,
        flight,
        cancel,
        None,
        command,
        |_| 0,
        |item, reply, bytes| each(item, reply?, bytes),
    )
}

/// [`pipeline`] within `flight`, where `expected` tells how many reply
/// bytes an item's command will bring, and with `trailer` sent right behind
/// the last item's command; its reply is left for the caller to read. A
/// reply that breaks the session reaches `each` as an error, so the caller
/// knows which item it was; `each` returning it ends the flight.
#[allow(clippy::too_many_arguments)] // each is one part of the flight; a struct would only rename them
pub(super) fn pipeline_then<T>(
    session: &mut Session,
    items: &[T],
    mut flight: Flight,
    cancel: &AtomicBool,
    mut trailer: Option<Command>,
    command: impl Fn(&T) -> Command,
    expected: impl Fn(&T) -> u64,
    mut each: impl FnMut(&T, Result<Reply, FetchError>, u64) -> Result<(), FetchError>,
) -> Result<(), FetchError> {
    let mut sent = 0;
    if items.is_empty()
        && let Some(t) = trailer.take()
    {
        session.send(&t)?;
    }
    for item in items {
        if cancel.load(Ordering::Relaxed) {
            return Err(FetchError::Cancelled);
        }
        while let Some(next) = items.get(sent) {
            let bytes = expected(next);
            if !flight.may_send(bytes) {
                break;
            }
            session.send(&command(next))?;
            flight.sent(bytes);
            sent += 1;
            if sent == items.len()
                && let Some(t) = trailer.take()
            {
                session.send(&t)?;
            }
        }
        let reply = session.read_reply().map_err(FetchError::from);
        flight.answered(expected(item));
        each(item, reply, session.bytes_received())?;
    }
    Ok(())
}

/// The commands in flight, and how many reply bytes they will bring: the
/// pipelining window adapts to the messages' sizes, many small ones in
/// flight at once, a few large ones.
#[derive(Clone, Copy, Debug)]
pub(super) struct Flight {
    max_commands: usize,
    max_bytes: u64,
    commands: usize,
    bytes: u64,
}

impl Flight {
    pub(super) fn new(max_commands: usize, max_bytes: u64) -> Flight {
        Flight {
            max_commands: max_commands.max(1),
            max_bytes,
            commands: 0,
            bytes: 0,
        }
    }

    /// Whether a command expected to bring `bytes` may go now. With nothing
    /// in flight one always may, however large its reply.
    pub(super) fn may_send(&self, bytes: u64) -> bool {
        self.commands == 0
            || (self.commands < self.max_commands
                && self.bytes.saturating_add(bytes) <= self.max_bytes)
    }

    pub(super) fn sent(&mut self, bytes: u64) {
        self.commands += 1;
        self.bytes = self.bytes.saturating_add(bytes);
    }

    pub(super) fn answered(&mut self, bytes: u64) {
        self.commands -= 1;
        self.bytes = self.bytes.saturating_sub(bytes);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_flight_holds_many_small_messages_and_few_large_ones() {
        let mut flight = Flight::new(1024, FLIGHT_BYTES);
        let mut small = 0;
        while flight.may_send(2_000) {
            flight.sent(2_000);
            small += 1;
        }
        assert_eq!(
            small, 1024,
            "small messages: the command window is the limit"
        );

        let mut flight = Flight::new(1024, FLIGHT_BYTES);
        let mut large = 0;
        while flight.may_send(3_000_000) {
            flight.sent(3_000_000);
            large += 1;
        }
        assert_eq!(large, 2, "large ones: the byte budget is");
        flight.answered(3_000_000);
        assert!(flight.may_send(3_000_000), "an answer makes room");

        // A message larger than the whole budget still goes, alone.
        let mut flight = Flight::new(1024, FLIGHT_BYTES);
        assert!(flight.may_send(50_000_000));
        flight.sent(50_000_000);
        assert!(!flight.may_send(1));

        // Without pipelining: one command at a time, whatever its size.
        let mut flight = Flight::new(1, u64::MAX);
        assert!(flight.may_send(0));
        flight.sent(0);
        assert!(!flight.may_send(0));
    }
}
