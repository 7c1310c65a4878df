//! Reading the few values IVRE needs straight from a data record.
//!
//! Decoding a whole record with `maxminddb`'s serde decoder validates and
//! visits every string of every language (about 4 µs for the three
//! databases on a hit); here a lookup follows the keys it needs and skips
//! the rest, and only the returned strings are validated. Every read is
//! bounds-checked (`get`), so even an unchecked record cannot cause a
//! panic; records are checked by [`crate::mmdb`] before they get here
//! anyway. The result is compared with `maxminddb`'s decoding in the tests.

/// Languages of the `names` maps of MaxMind databases.
pub(crate) const LANGS: [&str; 8] = ["de", "en", "es", "fr", "ja", "pt-BR", "ru", "zh-CN"];

/// Depth limit when skipping nested values.
const MAX_DEPTH: u32 = 32;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Lang(pub(crate) &'static str);

impl Default for Lang {
    fn default() -> Self {
        Lang("en")
    }
}

impl Lang {
    pub(crate) fn from_code(code: &str) -> Option<Lang> {
        LANGS.iter().find(|l| **l == code).map(|l| Lang(l))
    }
}

/// A data section and the offset of one record in it.
#[derive(Clone, Copy)]
pub(crate) struct Record<'a> {
    data: &'a [u8],
    pub(crate) root: usize,
}

/// Control byte(s) of the value at `off`: (type, size, payload offset).
fn ctrl(data: &[u8], mut off: usize) -> Option<(u8, usize, usize)> {
    let c = *data.get(off)?;
    off += 1;
    let mut ty = c >> 5;
    if ty == 1 {
        return Some((1, (c & 0x1f) as usize, off));
    }
    if ty == 0 {
        ty = data.get(off)?.checked_add(7)?;
        off += 1;
    }
    let mut size = (c & 0x1f) as usize;
    if size >= 29 {
        let n = size - 28;
        let v = data
            .get(off..off + n)?
            .iter()
            .fold(0usize, |a, &b| a << 8 | b as usize);
        size = [0, 29, 285, 65_821][n] + v;
        off += n;
    }
    Some((ty, size, off))
}

impl<'a> Record<'a> {
    pub(crate) fn new(data: &'a [u8], root: usize) -> Record<'a> {
        Record { data, root }
    }

    /// The value at `off`, through one pointer: (type, size, payload offset).
    fn resolve(&self, off: usize) -> Option<(u8, usize, usize)> {
        let (ty, size, payload) = ctrl(self.data, off)?;
        if ty != 1 {
            return Some((ty, size, payload));
        }
        let n = ((size >> 3) & 3) + 1;
        let base = if n == 4 { 0 } else { size & 7 };
        let v = self
            .data
            .get(payload..payload + n)?
            .iter()
            .fold(base, |a, &b| a << 8 | b as usize);
        let (ty, size, payload) = ctrl(self.data, v + [0, 0, 2048, 526_336, 0][n])?;
        (ty != 1).then_some((ty, size, payload))
    }

    /// Offset just after the value at `off` (a pointer is not followed).
    fn skip(&self, off: usize, depth: u32) -> Option<usize> {
        let (ty, size, payload) = ctrl(self.data, off)?;
        match ty {
            1 => Some(payload + ((size >> 3) & 3) + 1),
            7 | 11 => {
                let depth = depth.checked_sub(1)?;
                let items = if ty == 7 { size * 2 } else { size };
                (0..items).try_fold(payload, |o, _| self.skip(o, depth))
            }
            14 => Some(payload),
            _ => Some(payload + size),
        }
    }

    /// The value of `key` in the map at `off`.
    pub(crate) fn get(&self, off: usize, key: &str) -> Option<usize> {
        let (ty, count, mut o) = self.resolve(off)?;
        if ty != 7 {
            return None;
        }
        for _ in 0..count {
            let (kty, klen, kstart) = self.resolve(o)?;
            let value = self.skip(o, MAX_DEPTH)?;
            if kty == 2 && self.data.get(kstart..kstart + klen)? == key.as_bytes() {
                return Some(value);
            }
            o = self.skip(value, MAX_DEPTH)?;
        }
        None
    }

    /// The values of several keys of the map at `off`, in one pass.
    pub(crate) fn fields<const N: usize>(&self, off: usize, keys: [&str; N]) -> [Option<usize>; N] {
        let mut out = [None; N];
        let Some((7, count, mut o)) = self.resolve(off) else {
            return out;
        };
        for _ in 0..count {
            let Some((kty, klen, kstart)) = self.resolve(o) else {
                break;
            };
            let Some(value) = self.skip(o, MAX_DEPTH) else {
                break;
            };
            if kty == 2 {
                if let Some(key) = self.data.get(kstart..kstart + klen) {
                    if let Some(i) = keys.iter().position(|k| k.as_bytes() == key) {
                        out[i] = Some(value);
                    }
                }
            }
            match self.skip(value, MAX_DEPTH) {
                Some(next) => o = next,
                None => break,
            }
        }
        out
    }

    /// The value at the end of a path of keys from `off`.
    pub(crate) fn path(&self, off: usize, keys: &[&str]) -> Option<usize> {
        keys.iter().try_fold(off, |o, k| self.get(o, k))
    }

    pub(crate) fn str(&self, off: usize) -> Option<&'a str> {
        match self.resolve(off)? {
            (2, len, start) => std::str::from_utf8(self.data.get(start..start + len)?).ok(),
            _ => None,
        }
    }

    pub(crate) fn uint(&self, off: usize) -> Option<u64> {
        match self.resolve(off)? {
            (5 | 6 | 9 | 10, len, start) if len <= 8 => Some(
                self.data
                    .get(start..start + len)?
                    .iter()
                    .fold(0u64, |a, &b| a << 8 | u64::from(b)),
            ),
            _ => None,
        }
    }

    pub(crate) fn f64(&self, off: usize) -> Option<f64> {
        match self.resolve(off)? {
            (3, 8, start) => Some(f64::from_be_bytes(
                self.data.get(start..start + 8)?.try_into().ok()?,
            )),
            (15, 4, start) => {
                Some(f32::from_be_bytes(self.data.get(start..start + 4)?.try_into().ok()?) as f64)
            }
            _ => None,
        }
    }

    /// Offsets of the elements of the array at `off`.
    pub(crate) fn array(&self, off: usize) -> impl Iterator<Item = usize> + '_ {
        let (count, mut next) = match self.resolve(off) {
            Some((11, count, start)) => (count, Some(start)),
            _ => (0, None),
        };
        (0..count).map_while(move |_| {
            let cur = next?;
            next = self.skip(cur, MAX_DEPTH);
            Some(cur)
        })
    }

    /// A non-empty map at `off` (Python's truth value of a dict).
    pub(crate) fn is_nonempty_map(&self, off: usize) -> bool {
        matches!(self.resolve(off), Some((7, n, _)) if n > 0)
    }
}

/// A non-empty string at a path (IVRE ignores empty values).
pub(crate) fn text<'a>(r: &Record<'a>, off: usize, keys: &[&str]) -> Option<&'a str> {
    r.path(off, keys)
        .and_then(|o| r.str(o))
        .filter(|s| !s.is_empty())
}
