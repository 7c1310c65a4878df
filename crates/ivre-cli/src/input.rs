//! Opening inputs: files, directories (recursively) or `-` for stdin, with
//! gzip, bzip2, xz and zstd recognised by their magic bytes, whatever the
//! file name says.

use anyhow::{Context, Result};
use std::fs::File;
use std::io::{self, BufRead, BufReader, Read};
use std::path::{Path, PathBuf};

/// Compression formats recognised by their first bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compression {
    None,
    Gzip,
    Bzip2,
    Xz,
    Zstd,
}

impl Compression {
    pub fn detect(head: &[u8]) -> Compression {
        match head {
            [0x1f, 0x8b, ..] => Compression::Gzip,
            [b'B', b'Z', b'h', ..] => Compression::Bzip2,
            [0xfd, b'7', b'z', b'X', b'Z', 0x00, ..] => Compression::Xz,
            [0x28, 0xb5, 0x2f, 0xfd, ..] => Compression::Zstd,
            _ => Compression::None,
        }
    }
}

/// An input being read: its display name and a buffered, decompressed reader.
pub struct Input {
    pub name: String,
    pub reader: Box<dyn BufRead + Send>,
}

/// Opens `path` (`-` is stdin) and decompresses it if needed.
pub fn open(path: &str) -> Result<Input> {
    open_through(path, |raw| raw)
}

/// As [`open`], the raw bytes going through `through` before decompression
/// (a progress bar counting the bytes read: see [`size`]).
pub fn open_through(
    path: &str,
    through: impl FnOnce(Box<dyn Read + Send>) -> Box<dyn Read + Send>,
) -> Result<Input> {
    let raw: Box<dyn Read + Send> = if path == "-" {
        Box::new(io::stdin())
    } else {
        Box::new(File::open(path).with_context(|| format!("cannot open {path}"))?)
    };
    let reader = decompress(through(raw)).with_context(|| format!("cannot read {path}"))?;
    Ok(Input {
        name: if path == "-" {
            "<stdin>".into()
        } else {
            path.into()
        },
        reader,
    })
}

/// The size in bytes of a regular file (as stored: compressed if it is);
/// none for stdin, pipes and devices.
pub fn size(path: &str) -> Option<u64> {
    if path == "-" {
        return None;
    }
    std::fs::metadata(path)
        .ok()
        .filter(|m| m.is_file())
        .map(|m| m.len())
}

/// Opens `path` for `--follow`: a regular file is read like `tail -f` (at its
/// end, wait for more); stdin and pipes are read until they close.
pub fn open_follow(path: &str) -> Result<Input> {
    if path == "-" {
        return open(path);
    }
    let file = File::open(path).with_context(|| format!("cannot open {path}"))?;
    if !file.metadata()?.is_file() {
        return open(path);
    }
    Ok(Input {
        name: path.into(),
        reader: Box::new(BufReader::with_capacity(256 * 1024, Tail(file))),
    })
}

/// A file that never ends: at EOF, poll for appended data.
struct Tail(File);

impl Read for Tail {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        loop {
            match self.0.read(buf)? {
                0 => std::thread::sleep(std::time::Duration::from_millis(250)),
                n => return Ok(n),
            }
        }
    }
}

/// Wraps `raw` in the decompressor its first bytes call for.
pub fn decompress(raw: Box<dyn Read + Send>) -> io::Result<Box<dyn BufRead + Send>> {
    let mut buffered = BufReader::with_capacity(256 * 1024, raw);
    let head = buffered.fill_buf()?;
    let reader: Box<dyn BufRead + Send> = match Compression::detect(head) {
        Compression::None => Box::new(buffered),
        Compression::Gzip => Box::new(BufReader::with_capacity(
            256 * 1024,
            flate2::bufread::MultiGzDecoder::new(buffered),
        )),
        Compression::Bzip2 => Box::new(BufReader::with_capacity(
            256 * 1024,
            bzip2::bufread::MultiBzDecoder::new(buffered),
        )),
        Compression::Xz => Box::new(BufReader::with_capacity(
            256 * 1024,
            xz2::bufread::XzDecoder::new_multi_decoder(buffered),
        )),
        Compression::Zstd => Box::new(BufReader::with_capacity(
            256 * 1024,
            zstd::stream::read::Decoder::with_buffer(buffered)?,
        )),
    };
    Ok(reader)
}

/// Expands the command-line operands into the files to read: `-` stays,
/// directories are walked when `recursive` (sorted, for a stable order) and
/// refused otherwise. No operand means stdin.
pub fn expand(operands: &[String], recursive: bool) -> Result<Vec<String>> {
    if operands.is_empty() {
        return Ok(vec!["-".into()]);
    }
    let mut files = Vec::new();
    for op in operands {
        let path = Path::new(op);
        if op != "-" && path.is_dir() {
            anyhow::ensure!(
                recursive,
                "{op} is a directory (use -r to read directories)"
            );
            walk(path, &mut files)?;
        } else {
            files.push(op.clone());
        }
    }
    Ok(files)
}

/// Appends the files under `dir`; an error names the directory it is about.
fn walk(dir: &Path, out: &mut Vec<String>) -> Result<()> {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .and_then(|entries| entries.map(|e| e.map(|e| e.path())).collect())
        .with_context(|| format!("cannot list {}", dir.display()))?;
    entries.sort();
    for p in entries {
        if p.is_dir() {
            walk(&p, out)?;
        } else if p.is_file() {
            out.push(p.to_string_lossy().into_owned());
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn roundtrip(compressed: Vec<u8>) -> String {
        let mut out = String::new();
        decompress(Box::new(io::Cursor::new(compressed)))
            .unwrap()
            .read_to_string(&mut out)
            .unwrap();
        out
    }

    #[test]
    fn every_compression_is_recognised_by_magic() {
        let text = "<nmaprun>\n";
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(text.as_bytes()).unwrap();
        assert_eq!(roundtrip(gz.finish().unwrap()), text);
        let mut bz = bzip2::write::BzEncoder::new(Vec::new(), bzip2::Compression::fast());
        bz.write_all(text.as_bytes()).unwrap();
        assert_eq!(roundtrip(bz.finish().unwrap()), text);
        let mut xz = xz2::write::XzEncoder::new(Vec::new(), 1);
        xz.write_all(text.as_bytes()).unwrap();
        assert_eq!(roundtrip(xz.finish().unwrap()), text);
        assert_eq!(
            roundtrip(zstd::encode_all(text.as_bytes(), 1).unwrap()),
            text
        );
        assert_eq!(roundtrip(text.as_bytes().to_vec()), text);
        assert_eq!(roundtrip(Vec::new()), "");
    }

    #[test]
    fn directories_need_recursive() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("sub")).unwrap();
        std::fs::write(dir.path().join("sub/b.xml"), "x").unwrap();
        std::fs::write(dir.path().join("a.xml"), "x").unwrap();
        let d = dir.path().to_string_lossy().into_owned();
        assert!(expand(std::slice::from_ref(&d), false).is_err());
        let files = expand(&[d], true).unwrap();
        assert_eq!(files.len(), 2);
        assert!(files[0].ends_with("a.xml") && files[1].ends_with("sub/b.xml"));
        assert_eq!(expand(&[], false).unwrap(), vec!["-"]);
    }
}
