//! One memory-mapped MaxMind DB file, made safe to query even when the file
//! is corrupt.
//!
//! The `maxminddb` 0.24 reader indexes its buffer without bounds checks and
//! follows data pointers recursively, so a corrupt file can make it panic (or
//! overflow the stack). This module checks:
//!
//! * at open time, that the metadata section is well formed and that the
//!   search tree announced by the metadata fits in the file;
//! * at lookup time, the path through the search tree (walked here, without
//!   allocation) and, the first time a data record is reached, the whole
//!   record (bounds, types, pointers, nesting depth). Checked records are
//!   remembered in a lock-free bitmap, so later lookups pay one atomic load.
//!
//! `maxminddb` opens the file (metadata) and, in the tests, decodes the
//! records the fast path of [`crate::records`] is compared with.

use std::fmt;
use std::fs::File;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use maxminddb::{MaxMindDBError, Mmap, Reader};
#[cfg(test)]
use serde::Deserialize;

use crate::records::Record;
use crate::GeoIpError;

const METADATA_MARKER: &[u8] = b"\xab\xcd\xefMaxMind.com";
const DATA_SEPARATOR: usize = 16;
/// Maximum nesting of maps/arrays/pointers accepted in a record.
const MAX_DEPTH: u32 = 32;
/// Maximum number of values visited when checking one record.
const MAX_STEPS: u32 = 1 << 20;

/// The bytes of a database: its file mapped in memory, or bytes given.
enum Bytes {
    Mapped(Mmap),
    Owned(Vec<u8>),
}

/// The bytes, shared between the `maxminddb` reader and our checks.
#[derive(Clone)]
struct SharedMap(Arc<Bytes>);

impl AsRef<[u8]> for SharedMap {
    fn as_ref(&self) -> &[u8] {
        match &*self.0 {
            Bytes::Mapped(m) => &m[..],
            Bytes::Owned(v) => v,
        }
    }
}

/// A checked, memory-mapped `.mmdb` file.
pub(crate) struct MmdbFile {
    path: PathBuf,
    map: SharedMap,
    reader: Reader<SharedMap>,
    node_count: usize,
    record_size: usize,
    ipv6_tree: bool,
    ipv4_start: usize,
    /// Data section bounds in the file.
    data_start: usize,
    data_end: usize,
    /// One bit per data-section byte offset: record already checked.
    checked: Box<[AtomicU64]>,
}

impl fmt::Debug for MmdbFile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MmdbFile")
            .field("path", &self.path)
            .field("database_type", &self.database_type())
            .field("node_count", &self.node_count)
            .finish()
    }
}

impl MmdbFile {
    pub(crate) fn open(path: &Path) -> Result<MmdbFile, GeoIpError> {
        let file = File::open(path).map_err(|source| GeoIpError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        // SAFETY: the file is mapped read-only; as with every mmap-based
        // reader, it must not be truncated while mapped (geoipupdate replaces
        // files by renaming new ones over them, which is safe).
        let mmap = unsafe { Mmap::map(&file) }.map_err(|source| GeoIpError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        MmdbFile::check(path, SharedMap(Arc::new(Bytes::Mapped(mmap))))
    }

    /// A database held in memory; `name` stands for its path in errors.
    pub(crate) fn from_bytes(name: &Path, bytes: Vec<u8>) -> Result<MmdbFile, GeoIpError> {
        MmdbFile::check(name, SharedMap(Arc::new(Bytes::Owned(bytes))))
    }

    /// Checks the metadata and the size of the search tree of `map`.
    fn check(path: &Path, map: SharedMap) -> Result<MmdbFile, GeoIpError> {
        let corrupt = |reason: String| GeoIpError::Corrupt {
            path: path.to_path_buf(),
            reason,
        };
        let buf = map.as_ref();
        let marker = rfind(buf, METADATA_MARKER).ok_or_else(|| {
            corrupt("no MaxMind DB metadata marker (not an .mmdb file, or truncated)".into())
        })?;
        let meta = &buf[marker + METADATA_MARKER.len()..];
        check_value(meta, 0, MAX_DEPTH, &mut MAX_STEPS.clone())
            .map_err(|e| corrupt(format!("invalid metadata section: {e}")))?;
        let node_count = meta_uint(meta, "node_count")
            .ok_or_else(|| corrupt("metadata without node_count".into()))?;
        let record_size = meta_uint(meta, "record_size")
            .ok_or_else(|| corrupt("metadata without record_size".into()))?;
        let ip_version = meta_uint(meta, "ip_version")
            .ok_or_else(|| corrupt("metadata without ip_version".into()))?;
        if !matches!(record_size, 24 | 28 | 32) {
            return Err(corrupt(format!("unsupported record size {record_size}")));
        }
        if !matches!(ip_version, 4 | 6) {
            return Err(corrupt(format!("unsupported IP version {ip_version}")));
        }
        let node_count = usize::try_from(node_count)
            .ok()
            .filter(|n| *n > 0 && *n <= u32::MAX as usize)
            .ok_or_else(|| corrupt(format!("invalid node count {node_count}")))?;
        let record_size = record_size as usize;
        let tree_size = node_count * record_size / 4;
        let data_start = tree_size + DATA_SEPARATOR;
        if data_start > marker {
            return Err(corrupt(format!(
                "search tree of {node_count} nodes ({tree_size} bytes) does not fit in the \
                 {} bytes before the metadata (wrong node count or truncated file)",
                marker
            )));
        }
        let reader = Reader::from_source(map.clone())
            .map_err(|e| corrupt(format!("cannot read metadata: {}", mm_err(&e))))?;
        let data_len = marker - data_start;
        let checked = (0..data_len.div_ceil(64))
            .map(|_| AtomicU64::new(0))
            .collect();
        let mut file = MmdbFile {
            path: path.to_path_buf(),
            map,
            reader,
            node_count,
            record_size,
            ipv6_tree: ip_version == 6,
            ipv4_start: 0,
            data_start,
            data_end: marker,
            checked,
        };
        if file.ipv6_tree {
            let mut node = 0;
            for _ in 0..96 {
                if node >= node_count {
                    break;
                }
                node = file.read_record(node, 0);
            }
            file.ipv4_start = node;
        }
        Ok(file)
    }

    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    pub(crate) fn database_type(&self) -> &str {
        &self.reader.metadata.database_type
    }

    /// Reads one record of a node; `node < node_count`, so the read is
    /// inside the search tree, which was checked to fit in the file.
    #[inline]
    fn read_record(&self, node: usize, bit: usize) -> usize {
        let buf = self.map.as_ref();
        match self.record_size {
            24 => {
                let o = node * 6 + bit * 3;
                (buf[o] as usize) << 16 | (buf[o + 1] as usize) << 8 | buf[o + 2] as usize
            }
            28 => {
                let o = node * 7;
                if bit == 0 {
                    ((buf[o + 3] as usize & 0xf0) << 20)
                        | (buf[o] as usize) << 16
                        | (buf[o + 1] as usize) << 8
                        | buf[o + 2] as usize
                } else {
                    ((buf[o + 3] as usize & 0x0f) << 24)
                        | (buf[o + 4] as usize) << 16
                        | (buf[o + 5] as usize) << 8
                        | buf[o + 6] as usize
                }
            }
            _ => {
                let o = node * 8 + bit * 4;
                u32::from_be_bytes([buf[o], buf[o + 1], buf[o + 2], buf[o + 3]]) as usize
            }
        }
    }

    /// Walks the search tree; returns the offset of the data record in the
    /// data section, `None` when the address is not in the database.
    fn find(&self, ip: IpAddr) -> Result<Option<usize>, String> {
        let (bits, nbits, mut node) = match ip {
            IpAddr::V4(a) => (u128::from(u32::from(a)) << 96, 32, self.ipv4_start),
            IpAddr::V6(a) => (u128::from(a), 128, 0),
        };
        let buf = self.map.as_ref();
        let count = self.node_count;
        let bit = |i: u32| ((bits >> (127 - i)) & 1) as usize;
        // One loop per record size, so that the reads are specialised.
        match self.record_size {
            24 => {
                for i in 0..nbits {
                    if node >= count {
                        break;
                    }
                    let r = &buf[node * 6 + bit(i) * 3..][..3];
                    node = (r[0] as usize) << 16 | (r[1] as usize) << 8 | r[2] as usize;
                }
            }
            28 => {
                for i in 0..nbits {
                    if node >= count {
                        break;
                    }
                    let r = &buf[node * 7..][..7];
                    node = if bit(i) == 0 {
                        (r[3] as usize & 0xf0) << 20
                            | (r[0] as usize) << 16
                            | (r[1] as usize) << 8
                            | r[2] as usize
                    } else {
                        (r[3] as usize & 0x0f) << 24
                            | (r[4] as usize) << 16
                            | (r[5] as usize) << 8
                            | r[6] as usize
                    };
                }
            }
            _ => {
                for i in 0..nbits {
                    if node >= count {
                        break;
                    }
                    let r = &buf[node * 8 + bit(i) * 4..][..4];
                    node = u32::from_be_bytes([r[0], r[1], r[2], r[3]]) as usize;
                }
            }
        }
        if node == self.node_count {
            return Ok(None);
        }
        if node < self.node_count {
            return Err("corrupt search tree (deeper than the address length)".into());
        }
        let offset = node - self.node_count;
        if offset < DATA_SEPARATOR || self.data_start + offset - DATA_SEPARATOR >= self.data_end {
            return Err(format!(
                "corrupt search tree (record {node} points outside the data section)"
            ));
        }
        Ok(Some(offset - DATA_SEPARATOR))
    }

    /// Checks the data record at `offset` (once: the result is cached).
    fn check_record(&self, offset: usize) -> Result<(), String> {
        let (word, bit) = (offset / 64, 1u64 << (offset % 64));
        if self.checked[word].load(Ordering::Relaxed) & bit != 0 {
            return Ok(());
        }
        let data = &self.map.as_ref()[self.data_start..self.data_end];
        check_value(data, offset, MAX_DEPTH, &mut MAX_STEPS.clone())
            .map_err(|e| format!("corrupt data record at offset {offset}: {e}"))?;
        self.checked[word].fetch_or(bit, Ordering::Relaxed);
        Ok(())
    }

    /// The address as this tree holds it (an IPv4 tree only has IPv4
    /// addresses, also reachable as IPv4-mapped IPv6 ones).
    fn tree_addr(&self, ip: IpAddr) -> Option<IpAddr> {
        match ip {
            IpAddr::V6(a) if !self.ipv6_tree => a.to_ipv4_mapped().map(IpAddr::V4),
            other => Some(other),
        }
    }

    fn lookup_err(&self, ip: IpAddr) -> impl Fn(String) -> GeoIpError + '_ {
        move |reason| GeoIpError::Lookup {
            path: self.path.clone(),
            addr: ip,
            reason,
        }
    }

    /// The (checked) data record of `ip`, if any.
    pub(crate) fn record(&self, ip: IpAddr) -> Result<Option<Record<'_>>, GeoIpError> {
        let Some(ip) = self.tree_addr(ip) else {
            return Ok(None);
        };
        let Some(offset) = self.find(ip).map_err(self.lookup_err(ip))? else {
            return Ok(None);
        };
        self.check_record(offset).map_err(self.lookup_err(ip))?;
        let data = &self.map.as_ref()[self.data_start..self.data_end];
        Ok(Some(Record::new(data, offset)))
    }

    /// Every IPv4 network of the tree that has a data record, in address
    /// order, as `(first, last, record)` (records checked as lookups check
    /// them). The walk is bounded by the node count, so a corrupt tree
    /// (shared or looping nodes) gives an error, not an endless walk.
    pub(crate) fn walk_v4(
        &self,
        mut leaf: impl FnMut(u32, u32, Record<'_>) -> Result<(), GeoIpError>,
    ) -> Result<(), GeoIpError> {
        let corrupt = |reason: String| GeoIpError::Corrupt {
            path: self.path.clone(),
            reason,
        };
        let root = if self.ipv6_tree { self.ipv4_start } else { 0 };
        if root > self.node_count {
            return Err(corrupt("no IPv4 subtree".into()));
        }
        // (node or record, depth, first address), right child pushed first
        // so that addresses come out in order.
        let mut stack: Vec<(usize, u32, u32)> = vec![(root, 0, 0)];
        let mut budget = 2 * self.node_count + 2;
        while let Some((node, depth, first)) = stack.pop() {
            budget = budget
                .checked_sub(1)
                .ok_or_else(|| corrupt("search tree has shared or looping nodes".into()))?;
            if node < self.node_count {
                if depth >= 32 {
                    return Err(corrupt("search tree deeper than 32 bits (IPv4)".into()));
                }
                let half = 1u32 << (31 - depth);
                stack.push((self.read_record(node, 1), depth + 1, first | half));
                stack.push((self.read_record(node, 0), depth + 1, first));
                continue;
            }
            if node == self.node_count {
                continue;
            }
            let offset = node - self.node_count;
            if offset < DATA_SEPARATOR || self.data_start + offset - DATA_SEPARATOR >= self.data_end
            {
                return Err(corrupt(format!(
                    "record {node} points outside the data section"
                )));
            }
            let offset = offset - DATA_SEPARATOR;
            self.check_record(offset).map_err(corrupt)?;
            let last = if depth >= 32 {
                first
            } else {
                first | (u32::MAX >> depth)
            };
            let data = &self.map.as_ref()[self.data_start..self.data_end];
            leaf(first, last, Record::new(data, offset))?;
        }
        Ok(())
    }

    /// Looks `ip` up and decodes its record with `maxminddb` (after the same
    /// checks as [`MmdbFile::record`]): the reference the fast path is
    /// tested against.
    #[cfg(test)]
    pub(crate) fn decode<'a, T: Deserialize<'a>>(
        &'a self,
        ip: IpAddr,
    ) -> Result<Option<T>, GeoIpError> {
        let Some(ip) = self.tree_addr(ip) else {
            return Ok(None);
        };
        if self.record(ip)?.is_none() {
            return Ok(None);
        }
        match self.reader.lookup::<T>(ip) {
            Ok(v) => Ok(Some(v)),
            Err(MaxMindDBError::AddressNotFoundError(_)) => Ok(None),
            Err(e) => Err(self.lookup_err(ip)(mm_err(&e))),
        }
    }

    /// Checks the whole file: every search tree node and every data record
    /// it points to. Returns the number of distinct data records.
    pub(crate) fn verify(&self) -> Result<usize, GeoIpError> {
        let corrupt = |reason: String| GeoIpError::Corrupt {
            path: self.path.clone(),
            reason,
        };
        // No path from the root may be longer than an address (which also
        // rules out loops): longest path by an iterative depth-first walk.
        let nbits = if self.ipv6_tree { 128 } else { 32 };
        const NEW: u8 = 0;
        const OPEN: u8 = 1;
        const DONE: u8 = 2;
        let mut state = vec![NEW; self.node_count];
        let mut height = vec![0u8; self.node_count];
        let mut stack = vec![0usize];
        while let Some(&node) = stack.last() {
            let children = [self.read_record(node, 0), self.read_record(node, 1)];
            if state[node] == NEW {
                state[node] = OPEN;
                for child in children.into_iter().filter(|c| *c < self.node_count) {
                    match state[child] {
                        NEW => stack.push(child),
                        OPEN => return Err(corrupt(format!("search tree loop at node {child}"))),
                        _ => {}
                    }
                }
                continue;
            }
            stack.pop();
            if state[node] == DONE {
                continue;
            }
            let h = children
                .into_iter()
                .filter(|c| *c < self.node_count)
                .map(|c| height[c])
                .max()
                .unwrap_or(0)
                + 1;
            if h as usize > nbits {
                return Err(corrupt(format!(
                    "search tree deeper than {nbits} bits below node {node}"
                )));
            }
            height[node] = h;
            state[node] = DONE;
        }
        let mut records = 0;
        for node in 0..self.node_count {
            for bit in 0..2 {
                let rec = self.read_record(node, bit);
                if rec <= self.node_count {
                    continue;
                }
                let offset = rec - self.node_count;
                if offset < DATA_SEPARATOR
                    || self.data_start + offset - DATA_SEPARATOR >= self.data_end
                {
                    return Err(corrupt(format!(
                        "node {node} record {bit} ({rec}) points outside the data section"
                    )));
                }
                let offset = offset - DATA_SEPARATOR;
                let (word, b) = (offset / 64, 1u64 << (offset % 64));
                if self.checked[word].load(Ordering::Relaxed) & b == 0 {
                    records += 1;
                }
                self.check_record(offset).map_err(corrupt)?;
            }
        }
        Ok(records)
    }
}

/// A readable message for a `maxminddb` error.
fn mm_err(e: &MaxMindDBError) -> String {
    match e {
        MaxMindDBError::AddressNotFoundError(m)
        | MaxMindDBError::InvalidDatabaseError(m)
        | MaxMindDBError::IoError(m)
        | MaxMindDBError::MapError(m)
        | MaxMindDBError::DecodingError(m)
        | MaxMindDBError::InvalidNetworkError(m) => m.clone(),
    }
}

fn rfind(hay: &[u8], needle: &[u8]) -> Option<usize> {
    if hay.len() < needle.len() {
        return None;
    }
    // The metadata is in the last 128 KiB of a valid file.
    let from = hay.len().saturating_sub(128 * 1024 + needle.len());
    (from..=hay.len() - needle.len())
        .rev()
        .find(|&i| &hay[i..i + needle.len()] == needle)
}

/// Control byte of a value: (type, size, offset after the control bytes).
fn ctrl(buf: &[u8], mut off: usize) -> Result<(u8, usize, usize), String> {
    let byte = |o: usize| {
        buf.get(o)
            .copied()
            .ok_or_else(|| "value past end of section".to_string())
    };
    let c = byte(off)?;
    off += 1;
    let mut ty = c >> 5;
    if ty == 1 {
        return Ok((1, (c & 0x1f) as usize, off));
    }
    if ty == 0 {
        let ext = byte(off)?;
        off += 1;
        if !(1..=8).contains(&ext) {
            return Err(format!("invalid extended type {}", ext as u16 + 7));
        }
        ty = ext + 7;
    }
    let mut size = (c & 0x1f) as usize;
    if size >= 29 {
        let n = size - 28;
        let bytes = buf
            .get(off..off + n)
            .ok_or_else(|| "size past end of section".to_string())?;
        let v = bytes.iter().fold(0usize, |a, &b| a << 8 | b as usize);
        size = match n {
            1 => 29 + v,
            2 => 285 + v,
            _ => 65_821 + v,
        };
        off += n;
    }
    Ok((ty, size, off))
}

/// Follows a pointer whose control byte was read; returns (target, offset after).
fn pointer(buf: &[u8], size: usize, off: usize) -> Result<(usize, usize), String> {
    if size > 28 {
        return Err("invalid pointer size".into());
    }
    let n = ((size >> 3) & 3) + 1;
    let bytes = buf
        .get(off..off + n)
        .ok_or_else(|| "pointer past end of section".to_string())?;
    let base = if n == 4 { 0 } else { size & 7 };
    let v = bytes.iter().fold(base, |a, &b| a << 8 | b as usize);
    let target = v + [0, 0, 2048, 526_336, 0][n];
    if target >= buf.len() {
        return Err(format!("pointer to {target} past end of section"));
    }
    Ok((target, off + n))
}

/// Checks the value at `off`; returns the offset just after it.
fn check_value(buf: &[u8], off: usize, depth: u32, steps: &mut u32) -> Result<usize, String> {
    if depth == 0 {
        return Err("values nested too deep (pointer loop?)".into());
    }
    *steps = steps.checked_sub(1).ok_or("record too large")?;
    let (ty, size, off) = ctrl(buf, off)?;
    let span = |len: usize| -> Result<usize, String> {
        if off + len <= buf.len() {
            Ok(off + len)
        } else {
            Err("value past end of section".into())
        }
    };
    match ty {
        1 => {
            let (target, next) = pointer(buf, size, off)?;
            if ctrl(buf, target)?.0 == 1 {
                return Err("pointer to a pointer".into());
            }
            check_value(buf, target, depth - 1, steps)?;
            Ok(next)
        }
        2 | 4 => span(size),
        3 if size == 8 => span(8),
        15 if size == 4 => span(4),
        5 if size <= 2 => span(size),
        6 | 8 if size <= 4 => span(size),
        9 if size <= 8 => span(size),
        10 if size <= 16 => span(size),
        14 if size <= 1 => Ok(off),
        7 => {
            let mut off = off;
            for _ in 0..size {
                // Keys are strings, possibly behind a pointer.
                let (kty, ksize, koff) = ctrl(buf, off)?;
                let kty = if kty == 1 {
                    let (target, _) = pointer(buf, ksize, koff)?;
                    ctrl(buf, target)?.0
                } else {
                    kty
                };
                if kty != 2 {
                    return Err("map key is not a string".into());
                }
                off = check_value(buf, off, depth - 1, steps)?;
                off = check_value(buf, off, depth - 1, steps)?;
            }
            Ok(off)
        }
        11 => {
            let mut off = off;
            for _ in 0..size {
                off = check_value(buf, off, depth - 1, steps)?;
            }
            Ok(off)
        }
        3 | 15 | 5 | 6 | 8 | 9 | 10 | 14 => Err(format!("invalid size {size} for type {ty}")),
        _ => Err(format!("unexpected data type {ty}")),
    }
}

/// Reads an unsigned integer from the (already checked) metadata map.
fn meta_uint(meta: &[u8], key: &str) -> Option<u64> {
    let resolve = |off: usize| -> Option<(u8, usize, usize)> {
        let (ty, size, next) = ctrl(meta, off).ok()?;
        if ty == 1 {
            let (target, _) = pointer(meta, size, next).ok()?;
            ctrl(meta, target).ok()
        } else {
            Some((ty, size, next))
        }
    };
    let (ty, count, mut off) = ctrl(meta, 0).ok()?;
    if ty != 7 {
        return None;
    }
    let mut steps = MAX_STEPS;
    for _ in 0..count {
        let (kty, ksize, kstart) = resolve(off)?;
        let is_key = kty == 2 && meta.get(kstart..kstart + ksize)? == key.as_bytes();
        off = check_value(meta, off, MAX_DEPTH, &mut steps).ok()?;
        if is_key {
            let (vty, vsize, vstart) = resolve(off)?;
            if !matches!(vty, 5 | 6 | 9 | 10) || vsize > 8 {
                return None;
            }
            let bytes = meta.get(vstart..vstart + vsize)?;
            return Some(bytes.iter().fold(0u64, |a, &b| a << 8 | u64::from(b)));
        }
        off = check_value(meta, off, MAX_DEPTH, &mut steps).ok()?;
    }
    None
}
