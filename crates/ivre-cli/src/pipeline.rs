//! The passive import pipeline shared by passiverecon2db, p0f2db and
//! airodump2db: a reader thread parses observations while this thread
//! aggregates them by identity and hands each batch to a sink (the database
//! upsert, or the `--test` printer).
//!
//! A batch is committed when it holds `batch_size` distinct observations, when
//! `flush_every` has passed (for `--follow` on a live log or pipe), and at the
//! end of the input, so that at most one batch is lost if the process dies.

use anyhow::Result;
use ivre_model::passive::{IdentityKey, LineError, PassiveRecord};
use std::collections::HashMap;
use std::sync::mpsc::{self, RecvTimeoutError};
use std::time::{Duration, Instant};

/// How observations are batched.
#[derive(Debug, Clone)]
pub struct IngestOptions {
    /// Distinct observations per batch.
    pub batch_size: usize,
    /// Commit at least this often when input is slow (follow mode).
    pub flush_every: Option<Duration>,
}

impl Default for IngestOptions {
    fn default() -> Self {
        IngestOptions {
            batch_size: 100_000,
            flush_every: None,
        }
    }
}

/// What an import did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct IngestStats {
    /// Observations read (after the ignore rules).
    pub observations: u64,
    /// Observations skipped by the ignore rules.
    pub ignored: u64,
    /// Distinct observations merged, summed over batches.
    pub merged: u64,
    /// Lines that could not be read.
    pub errors: u64,
}

/// Items travel between the threads in chunks, to keep the channel cheap.
const CHUNK: usize = 1024;

/// Reads `records` on a thread of its own, aggregates them and gives each
/// batch of distinct observations to `sink`. `keep` decides which
/// observations to store (the ignore rules); `on_error` reports each
/// unreadable line and the import goes on.
pub fn ingest<I>(
    records: I,
    mut sink: impl FnMut(Vec<PassiveRecord>) -> Result<()>,
    opts: &IngestOptions,
    keep: impl Fn(&PassiveRecord) -> bool,
    mut on_error: impl FnMut(&LineError),
    mut on_progress: impl FnMut(u64),
) -> Result<IngestStats>
where
    I: Iterator<Item = Result<PassiveRecord, LineError>> + Send + 'static,
{
    let (tx, rx) = mpsc::sync_channel::<Vec<Result<PassiveRecord, LineError>>>(16);
    let reader = std::thread::spawn(move || {
        let mut chunk = Vec::with_capacity(CHUNK);
        for item in records {
            chunk.push(item);
            if chunk.len() == CHUNK {
                let full = std::mem::replace(&mut chunk, Vec::with_capacity(CHUNK));
                if tx.send(full).is_err() {
                    return;
                }
            }
        }
        let _ = tx.send(chunk);
    });

    let mut stats = IngestStats::default();
    let mut batch: HashMap<IdentityKey, PassiveRecord> = HashMap::new();
    let mut last_commit = Instant::now();
    let mut flush =
        |batch: &mut HashMap<IdentityKey, PassiveRecord>, stats: &mut IngestStats| -> Result<()> {
            stats.merged += batch.len() as u64;
            if !batch.is_empty() {
                sink(batch.drain().map(|(_, rec)| rec).collect())?;
            }
            Ok(())
        };
    loop {
        let received = match opts.flush_every {
            Some(every) => match rx.recv_timeout(every.saturating_sub(last_commit.elapsed())) {
                Ok(chunk) => Some(chunk),
                Err(RecvTimeoutError::Timeout) => {
                    flush(&mut batch, &mut stats)?;
                    last_commit = Instant::now();
                    continue;
                }
                Err(RecvTimeoutError::Disconnected) => None,
            },
            None => rx.recv().ok(),
        };
        let Some(chunk) = received else { break };
        for item in chunk {
            match item {
                Err(e) => {
                    stats.errors += 1;
                    on_error(&e);
                }
                Ok(rec) if !keep(&rec) => stats.ignored += 1,
                Ok(rec) => {
                    stats.observations += 1;
                    match batch.entry(rec.identity()) {
                        std::collections::hash_map::Entry::Occupied(mut e) => {
                            e.get_mut().merge(rec)
                        }
                        std::collections::hash_map::Entry::Vacant(e) => {
                            e.insert(rec);
                        }
                    }
                }
            }
        }
        on_progress(stats.observations);
        let due = opts
            .flush_every
            .is_some_and(|every| last_commit.elapsed() >= every);
        if batch.len() >= opts.batch_size || due {
            flush(&mut batch, &mut stats)?;
            last_commit = Instant::now();
        }
    }
    flush(&mut batch, &mut stats)?;
    reader
        .join()
        .map_err(|_| anyhow::anyhow!("the reader thread panicked"))?;
    Ok(stats)
}
