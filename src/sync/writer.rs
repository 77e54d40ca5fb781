//! The store writer: parses and stores downloaded messages on two threads of
//! their own, beside the socket, so network, parsing and disk overlap.

use std::path::Path;
use std::sync::mpsc;
use std::thread;

use crate::failpoint;
use crate::mime::{self, HeaderDigest};
use crate::store::{Download, Packed, Store};

use super::FetchError;

/// A batch of stored messages is committed once it holds this many bytes…
const BATCH_BYTES: usize = 16 * 1024 * 1024;
/// …or this many messages.
const BATCH_MESSAGES: usize = 128;

/// Downloaded bytes, from the message listed under `number`.
struct Job {
    number: u32,
    download: Download,
    raw: Vec<u8>,
}

struct Parsed {
    job: Job,
    fields: mime::Parsed,
    digest: HeaderDigest,
    packed: Packed,
}

/// A message whose bytes are durably stored: the one listed under `number`
/// is now `message` (which may be another than the one it was believed to
/// be: see [`crate::store::Batch::store_download`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Durable {
    pub number: u32,
    pub message: i64,
}

/// One thread parses (MIME decoding is the heavy part) and packs, another writes with
/// its own connection to the store. Batches commit durably; `finish` says
/// which messages are durable.
pub(super) struct StoreWriter {
    queue: Option<mpsc::SyncSender<Job>>,
    parser: Option<thread::JoinHandle<()>>,
    writer: Option<thread::JoinHandle<Result<Vec<Durable>, FetchError>>>,
}

impl StoreWriter {
    pub(super) fn spawn(path: &Path, now: i64) -> Result<StoreWriter, FetchError> {
        // Short queues: memory stays bounded by a few messages, not the mailbox.
        let (queue, incoming) = mpsc::sync_channel::<Job>(8);
        let (to_writer, parsed) = mpsc::sync_channel::<Parsed>(8);
        let parser = thread::Builder::new()
            .name("pipit-parser".into())
            .spawn(move || {
                for job in incoming {
                    failpoint::hit("parser");
                    let fields = mime::parse(&job.raw);
                    let digest = mime::header_digest(&job.raw);
                    // Packed here, beside the writer: it is the CPU's part of
                    // storing, and the writer's disk part is then smaller.
                    let packed = Packed::of(&job.raw);
                    if to_writer
                        .send(Parsed {
                            job,
                            fields,
                            digest,
                            packed,
                        })
                        .is_err()
                    {
                        return; // the writer stopped; `finish` reports why
                    }
                }
            })
            .map_err(|e| FetchError::Internal(format!("cannot start the parser thread: {e}")))?;
        let path = path.to_path_buf();
        let writer = thread::Builder::new()
            .name("pipit-store-writer".into())
            .spawn(move || {
                let mut store = Store::open(&path)?;
                store.for_bulk_writes()?;
                let mut durable = Vec::new();
                // Wait for a message outside any transaction, so a slow link
                // never holds the store's write lock; then take what is queued.
                while let Ok(first) = parsed.recv() {
                    failpoint::hit("writer");
                    let batch = store.batch()?;
                    let mut stored = Vec::new();
                    let mut bytes = 0;
                    let mut next = Some(first);
                    while let Some(p) = next.take() {
                        let message = batch.store_download_packed(
                            p.job.download,
                            &p.job.raw,
                            &p.packed,
                            &p.fields,
                            &p.digest,
                            now,
                        )?;
                        bytes += p.job.raw.len();
                        stored.push(Durable {
                            number: p.job.number,
                            message,
                        });
                        if stored.len() < BATCH_MESSAGES && bytes < BATCH_BYTES {
                            next = parsed.try_recv().ok();
                        }
                    }
                    batch.commit()?;
                    durable.extend(stored);
                }
                Ok(durable)
            })
            .map_err(|e| {
                FetchError::Internal(format!("cannot start the store writer thread: {e}"))
            })?;
        Ok(StoreWriter {
            queue: Some(queue),
            parser: Some(parser),
            writer: Some(writer),
        })
    }

    /// Queues a whole message; false if the writer has stopped (see `finish`).
    pub(super) fn send(&self, number: u32, download: Download, raw: Vec<u8>) -> bool {
        self.queue.as_ref().is_some_and(|q| {
            q.send(Job {
                number,
                download,
                raw,
            })
            .is_ok()
        })
    }

    /// Commits what is queued and returns the messages now durable, or why
    /// not. A thread that panicked is an internal error, never a store or
    /// server one: nothing it held is counted as durable.
    pub(super) fn finish(mut self) -> Result<Vec<Durable>, FetchError> {
        drop(self.queue.take());
        let parsed = self.parser.take().map(thread::JoinHandle::join);
        let written = self.writer.take().map(thread::JoinHandle::join);
        let durable = match written {
            Some(Ok(result)) => result?,
            Some(Err(panic)) => {
                return Err(FetchError::Internal(format!(
                    "the store writer stopped unexpectedly ({})",
                    failpoint::panic_text(&*panic)
                )));
            }
            None => Vec::new(),
        };
        if let Some(Err(panic)) = parsed {
            return Err(FetchError::Internal(format!(
                "the message parser stopped unexpectedly ({}); what it had parsed before is stored",
                failpoint::panic_text(&*panic)
            )));
        }
        Ok(durable)
    }
}
