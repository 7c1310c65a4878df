//! The passive import pipeline shared by passiverecon2db, p0f2db and
//! airodump2db: a reader thread parses observations while this thread
//! aggregates them by identity and hands each batch to a sink (the database
//! upsert, or the `--test` printer).
//!
//! Three threads: the reader parses, normalises and hashes observations;
//! the aggregator (the calling thread) folds them by identity; the storer
//! sinks each full batch while the next one is being aggregated.
//!
//! A batch is committed when it holds `batch_size` distinct observations or
//! `batch_bytes` of them (an estimate of the memory they take), when
//! `flush_every` has passed (for `--follow` on a live log or pipe), and at the
//! end of the input, so that at most two batches (one being stored, one being
//! aggregated) are lost if the process dies.
//!
//! Every observation comes with the input line it was read from (the
//! reader's position, non-decreasing), and a full batch is cut only where
//! that line changes: each batch is handed over with the number of lines
//! it completes, so that an import resumed after them reads exactly the
//! observations no committed batch holds (`passive_file`). The periodic
//! commit of `--follow` cuts anywhere: a live feed is not resumable.

use anyhow::Result;
use ivre_model::passive::{LineError, PassiveRecord};
use ivre_pg::passive::{record_key, StagedRow};
use std::collections::hash_map::Entry;
use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hash, Hasher};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::time::{Duration, Instant};

/// How observations are batched.
#[derive(Debug, Clone)]
pub struct IngestOptions {
    /// Distinct observations per batch.
    pub batch_size: usize,
    /// Memory the distinct observations of a batch may take (estimated by
    /// [`Slot::size`]): at most two batches exist at once (one being
    /// stored, one being aggregated), so this bounds the memory of an
    /// import whatever the size of its values.
    pub batch_bytes: usize,
    /// Commit at least this often when input is slow (follow mode).
    pub flush_every: Option<Duration>,
}

impl Default for IngestOptions {
    fn default() -> Self {
        IngestOptions {
            batch_size: 500_000,
            batch_bytes: DEFAULT_BATCH_BYTES,
            flush_every: None,
        }
    }
}

/// Default of [`IngestOptions::batch_bytes`].
pub const DEFAULT_BATCH_BYTES: usize = 32 << 20;

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
    /// The input line of the last observation or error read: the lines
    /// the import went through.
    pub lines: u64,
}

/// Items travel between the threads in chunks, to keep the channel cheap.
const CHUNK: usize = 1024;

/// The identity of an observation: the SHA-256 the database keys it by
/// ([`record_key`]), computed once on the reader thread and used both for
/// the in-memory aggregation and as the stored `key_hash`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Key(pub [u8; 32]);

impl Hash for Key {
    fn hash<H: Hasher>(&self, state: &mut H) {
        // Already a cryptographic hash: 8 of its bytes are a good hash.
        let mut word = [0u8; 8];
        word.copy_from_slice(&self.0[..8]);
        state.write_u64(u64::from_le_bytes(word));
    }
}

/// Hasher for [`Key`]: passes its 64 bits through.
#[derive(Default)]
struct KeyHasher(u64);

impl Hasher for KeyHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(b);
        }
    }

    fn write_u64(&mut self, v: u64) {
        self.0 = v;
    }
}

/// What the aggregator keeps of each distinct observation.
pub trait Slot: Send {
    /// The first observation of an identity, completed by `finish` (the
    /// tool's last step, e.g. computing the infos).
    fn first(rec: PassiveRecord, finish: &dyn Fn(&mut PassiveRecord)) -> Self;
    /// Folds a further observation of the same identity into the slot.
    fn fold(&mut self, rec: PassiveRecord, finish: &dyn Fn(&mut PassiveRecord));
    /// The memory the slot takes, itself included (an estimate).
    fn size(&self) -> usize;
}

/// The whole record (for printing: `--test`).
impl Slot for PassiveRecord {
    fn first(mut rec: PassiveRecord, finish: &dyn Fn(&mut PassiveRecord)) -> Self {
        finish(&mut rec);
        rec
    }

    fn fold(&mut self, mut rec: PassiveRecord, finish: &dyn Fn(&mut PassiveRecord)) {
        // `merge` takes the infos of `rec` only when the stored one has
        // none: only then are they worth computing.
        if self.infos.is_none() {
            finish(&mut rec);
        }
        self.merge(rec)
    }

    fn size(&self) -> usize {
        let text = |s: &Option<String>| s.as_ref().map_or(0, String::len);
        std::mem::size_of::<Self>()
            + self.recontype.len()
            + self.value.len()
            + text(&self.sensor)
            + text(&self.source)
            + text(&self.targetval)
            // A rough figure: this slot is only used to print (`--test`).
            + self.infos.as_ref().map_or(0, |m| 128 * m.len())
    }
}

/// The COPY text of the record (for the database: compact).
impl Slot for StagedRow {
    fn first(mut rec: PassiveRecord, finish: &dyn Fn(&mut PassiveRecord)) -> Self {
        finish(&mut rec);
        StagedRow::new(&rec)
    }

    fn fold(&mut self, mut rec: PassiveRecord, finish: &dyn Fn(&mut PassiveRecord)) {
        if !self.has_infos() {
            finish(&mut rec);
        }
        self.merge(&rec)
    }

    fn size(&self) -> usize {
        StagedRow::size(self)
    }
}

/// A batch of distinct observations with their keys, as given to the sink.
pub type Batch<S> = Vec<(Key, S)>;

/// What a reader gives the pipeline: an observation (or a bad line) with
/// the input line it was read from.
pub type LinedRecord = (u64, Result<PassiveRecord, LineError>);

type BatchMap<S> = HashMap<Key, S, BuildHasherDefault<KeyHasher>>;

/// Reads `records` on a thread of its own (parsing, normalisation and the
/// identity hash happen there), aggregates them on this thread, and gives
/// each batch of distinct observations to `sink` with the number of input
/// lines it completes (see the module doc), which runs on a third
/// thread so that storing a batch overlaps reading the next one (at most
/// one batch waits for the sink). `keep` decides which observations to
/// store (the ignore rules); `finish` completes an observation that is kept
/// in the batch (e.g. computes its infos: done once per distinct
/// observation, not once per line); `on_error` reports each unreadable line
/// and the import goes on.
pub fn ingest<I, S: Slot>(
    records: I,
    mut sink: impl FnMut(Batch<S>, u64) -> Result<()> + Send,
    opts: &IngestOptions,
    keep: impl Fn(&PassiveRecord) -> bool,
    finish: impl Fn(&mut PassiveRecord),
    mut on_error: impl FnMut(&LineError),
    mut on_progress: impl FnMut(u64),
) -> Result<IngestStats>
where
    I: Iterator<Item = LinedRecord> + Send + 'static,
{
    type Item = (u64, Result<(Key, PassiveRecord), LineError>);
    let (tx, rx) = mpsc::sync_channel::<Vec<Item>>(16);
    // A live feed (--follow) may pause for long: pass each observation on at
    // once, so that the periodic commit sees it.
    let chunk_size = if opts.flush_every.is_some() { 1 } else { CHUNK };
    let reader = std::thread::spawn(move || {
        let mut chunk = Vec::with_capacity(chunk_size);
        for (line, item) in records {
            chunk.push((line, item.map(|r| (Key(record_key(&r)), r))));
            if chunk.len() == chunk_size {
                let full = std::mem::replace(&mut chunk, Vec::with_capacity(chunk_size));
                if tx.send(full).is_err() {
                    return;
                }
            }
        }
        let _ = tx.send(chunk);
    });

    let mut stats = IngestStats::default();
    let result = std::thread::scope(|scope| -> Result<()> {
        let (batch_tx, batch_rx) = mpsc::sync_channel::<(Batch<S>, u64)>(0);
        let storer = scope.spawn(move || -> Result<()> {
            for (batch, lines) in batch_rx {
                sink(batch, lines)?;
            }
            Ok(())
        });
        // Hands a batch to the storer, with the lines it completes (those
        // of the observations aggregated so far); on failure, the storer's
        // error.
        let hand_over =
            |batch: &mut BatchMap<S>, bytes: &mut usize, stats: &mut IngestStats| -> bool {
                stats.merged += batch.len() as u64;
                *bytes = 0;
                batch.is_empty()
                    || batch_tx
                        .send((batch.drain().collect(), stats.lines))
                        .is_ok()
            };
        let mut batch = BatchMap::<S>::default();
        // What the batch's slots take (Slot::size), and their keys.
        let mut bytes = 0usize;
        let mut last_commit = Instant::now();
        let mut alive = true;
        loop {
            let received = match opts.flush_every {
                Some(every) => match rx.recv_timeout(every.saturating_sub(last_commit.elapsed())) {
                    Ok(chunk) => Some(chunk),
                    Err(RecvTimeoutError::Timeout) => {
                        alive = hand_over(&mut batch, &mut bytes, &mut stats);
                        last_commit = Instant::now();
                        if !alive {
                            break;
                        }
                        continue;
                    }
                    Err(RecvTimeoutError::Disconnected) => None,
                },
                None => rx.recv().ok(),
            };
            let Some(chunk) = received else { break };
            for (line, item) in chunk {
                let full = batch.len() >= opts.batch_size || bytes >= opts.batch_bytes;
                if line != stats.lines && full {
                    alive = hand_over(&mut batch, &mut bytes, &mut stats);
                    last_commit = Instant::now();
                    if !alive {
                        break;
                    }
                }
                stats.lines = line;
                match item {
                    Err(e) => {
                        stats.errors += 1;
                        on_error(&e);
                    }
                    Ok((_, rec)) if !keep(&rec) => stats.ignored += 1,
                    Ok((key, rec)) => {
                        stats.observations += 1;
                        match batch.entry(key) {
                            Entry::Occupied(mut e) => {
                                let slot = e.get_mut();
                                let before = slot.size();
                                slot.fold(rec, &finish);
                                bytes = (bytes + slot.size()).saturating_sub(before);
                            }
                            Entry::Vacant(e) => {
                                let slot = S::first(rec, &finish);
                                bytes += std::mem::size_of::<Key>() + slot.size();
                                e.insert(slot);
                            }
                        }
                    }
                }
            }
            if !alive {
                break;
            }
            on_progress(stats.observations);
            let due = opts
                .flush_every
                .is_some_and(|every| last_commit.elapsed() >= every);
            if due {
                alive = hand_over(&mut batch, &mut bytes, &mut stats);
                last_commit = Instant::now();
                if !alive {
                    break;
                }
            }
        }
        if alive {
            hand_over(&mut batch, &mut bytes, &mut stats);
        }
        drop(batch_tx);
        storer
            .join()
            .map_err(|_| anyhow::anyhow!("the storing thread panicked"))?
    });
    // On a storing error, stop the reader (it ends when its channel closes).
    drop(rx);
    reader
        .join()
        .map_err(|_| anyhow::anyhow!("the reader thread panicked"))?;
    result.map(|()| stats)
}
