//! Reads a scan result (any supported format, gzip/bzip2 allowed) from a file
//! or stdin and prints IVRE JSON lines, like `ivre scan2db --test`.
//! Usage: cargo run -p ivre-model --example scan2json -- [FILE]

use ivre_model::scan::{sniff_compression, Compression, ReadOptions, ScanReader};
use std::io::{BufRead, BufReader, BufWriter, Read, Write};

fn main() {
    let path = std::env::args().nth(1);
    let raw: Box<dyn Read> = match &path {
        Some(p) => Box::new(std::fs::File::open(p).expect("cannot open the file")),
        None => Box::new(std::io::stdin()),
    };
    let mut raw = BufReader::with_capacity(1 << 16, raw);
    let input: Box<dyn BufRead> = match sniff_compression(raw.fill_buf().expect("read error")) {
        Compression::Gzip => Box::new(BufReader::new(flate2::read::MultiGzDecoder::new(raw))),
        Compression::Bzip2 => Box::new(BufReader::new(bzip2::read::MultiBzDecoder::new(raw))),
        Compression::None => Box::new(raw),
        other => panic!("{other:?} input is not handled by this example"),
    };
    let name = path.as_deref().unwrap_or("-");
    let reader = match ScanReader::open(input, &ReadOptions::default()) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("{name}: {e}");
            std::process::exit(1);
        }
    };
    let out = std::io::stdout();
    let mut out = BufWriter::new(out.lock());
    let mut status = 0;
    for r in reader {
        match r {
            Ok(h) => {
                serde_json::to_writer(&mut out, &h).unwrap();
                out.write_all(b"\n").unwrap();
            }
            Err(e) if e.is_truncated() => eprintln!("{name}: warning: {e}"),
            Err(e) => {
                eprintln!("{name}: {e}");
                status = 1;
            }
        }
    }
    out.flush().unwrap();
    std::process::exit(status);
}
