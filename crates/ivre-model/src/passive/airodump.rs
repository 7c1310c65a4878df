//! Reader for airodump-ng CSV files (`airodump-ng -w PREFIX --output-format
//! csv`), as `ivre airodump2db` imports them (spec 2.3), without IVRE's
//! comma bugs.
//!
//! The file has two sections, each introduced by a header row (and usually
//! preceded by a blank line): access points (`BSSID, First time seen, ...`)
//! then stations (`Station MAC, First time seen, ...`). Cells are read with
//! the `csv` crate (flexible, trimmed, no quoting), one line at a time so
//! that errors carry exact line numbers. Differences from IVRE:
//! * every probed ESSID of a station row is kept (IVRE keeps the first);
//! * an AP ESSID containing commas is rebuilt from its cells (checked
//!   against the `ID-length` column);
//! * a non-numeric cell is an error for that row only (IVRE crashes); a
//!   read error (I/O, decompression) ends the file;
//! * probed ESSIDs of stations that are `(not associated)` are kept (IVRE
//!   skips the whole row); no `WLAN_ASSOCIATED` record is written for them.
//!
//! Records (recontype `MAC_ADDRESS`, count 1, first/last seen from the row,
//! times read as UTC): per AP (value = BSSID, lower case) `WLAN_AP_ESSID`
//! (targetval ESSID, when not empty), `WLAN_AP_CHANNEL` (targetval channel,
//! unless -1), `WLAN_AP_LAN_IP` (addr = LAN IP, unless 0.0.0.0),
//! `WLAN_AP_PRIVACY` (targetval `Privacy[-Cipher][-Authentication]`, spaces
//! turned into `_`); per station (value = station MAC) `WLAN_ASSOCIATED`
//! (targetval = BSSID) and one `WLAN_PROBED_ESSID` per probed ESSID.

use std::io::BufRead;
use std::net::IpAddr;

use chrono::{DateTime, NaiveDateTime, TimeZone, Utc};

use super::error::{LineError, LineErrorKind};
use super::record::PassiveRecord;
use crate::reader::{Position, RecordReader};

/// What is wrong with a row of an airodump-ng CSV file.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AirodumpError {
    #[error("invalid time {0:?}")]
    Time(String),
    #[error("AP row with {0} cells, expected 15")]
    ApCells(usize),
    #[error("invalid channel {0:?}")]
    Channel(String),
    #[error("invalid LAN IP {0:?}")]
    LanIp(String),
    #[error("station row with {0} cells, expected 7")]
    StationCells(usize),
    #[error("data row before any header row")]
    RowBeforeHeader,
}

#[derive(Clone, Copy, PartialEq)]
enum Section {
    None,
    Ap,
    Station,
}

fn time(s: &str) -> Result<DateTime<Utc>, AirodumpError> {
    NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S")
        .map(|n| Utc.from_utc_datetime(&n))
        .map_err(|_| AirodumpError::Time(s.to_owned()))
}

fn rec(
    source: &str,
    value: &str,
    first: DateTime<Utc>,
    last: DateTime<Utc>,
    sensor: Option<&str>,
) -> PassiveRecord {
    let mut r = PassiveRecord::new("MAC_ADDRESS", value, first);
    r.lastseen = last;
    r.source = Some(source.into());
    r.sensor = sensor.map(str::to_owned);
    r
}

fn ap_row(cells: &[String], sensor: Option<&str>) -> Result<Vec<PassiveRecord>, AirodumpError> {
    if cells.len() < 14 {
        return Err(AirodumpError::ApCells(cells.len()));
    }
    let bssid = cells[0].to_lowercase();
    let (first, last) = (time(&cells[1])?, time(&cells[2])?);
    let channel: i64 = cells[3]
        .parse()
        .map_err(|_| AirodumpError::Channel(cells[3].clone()))?;
    let id_len: Option<usize> = cells[12].parse().ok();
    // The ESSID spans cells 13..len-1 (the last cell is the key) when it
    // contains commas.
    let essid_cells = if cells.len() > 15 {
        &cells[13..cells.len() - 1]
    } else {
        &cells[13..14]
    };
    let mut essid = essid_cells.join(",");
    if essid_cells.len() > 1 && id_len.is_some_and(|l| l != essid.len()) {
        let spaced = essid_cells.join(", ");
        if id_len == Some(spaced.len()) {
            essid = spaced;
        }
    }
    let mut out = Vec::with_capacity(4);
    if !essid.is_empty() {
        let mut r = rec("WLAN_AP_ESSID", &bssid, first, last, sensor);
        r.targetval = Some(essid);
        out.push(r);
    }
    if channel != -1 {
        let mut r = rec("WLAN_AP_CHANNEL", &bssid, first, last, sensor);
        r.targetval = Some(channel.to_string());
        out.push(r);
    }
    let lan_ip: String = cells[11].chars().filter(|c| !c.is_whitespace()).collect();
    if !lan_ip.is_empty() {
        let ip: IpAddr = lan_ip
            .parse()
            .map_err(|_| AirodumpError::LanIp(cells[11].clone()))?;
        if !ip.is_unspecified() {
            let mut r = rec("WLAN_AP_LAN_IP", &bssid, first, last, sensor);
            r.addr = Some(ip);
            out.push(r);
        }
    }
    let mut privacy = cells[5].replace(' ', "_");
    for extra in [&cells[6], &cells[7]] {
        if !extra.is_empty() {
            privacy.push('-');
            privacy.push_str(&extra.replace(' ', "_"));
        }
    }
    if !privacy.is_empty() {
        let mut r = rec("WLAN_AP_PRIVACY", &bssid, first, last, sensor);
        r.targetval = Some(privacy);
        out.push(r);
    }
    Ok(out)
}

fn station_row(
    cells: &[String],
    sensor: Option<&str>,
) -> Result<Vec<PassiveRecord>, AirodumpError> {
    if cells.len() < 6 {
        return Err(AirodumpError::StationCells(cells.len()));
    }
    let mac = cells[0].to_lowercase();
    let (first, last) = (time(&cells[1])?, time(&cells[2])?);
    let mut out = Vec::new();
    let bssid = &cells[5];
    if !bssid.eq_ignore_ascii_case("(not associated)") && !bssid.is_empty() {
        let mut r = rec("WLAN_ASSOCIATED", &mac, first, last, sensor);
        r.targetval = Some(bssid.to_lowercase());
        out.push(r);
    }
    for essid in cells.iter().skip(6).filter(|e| !e.is_empty()) {
        let mut r = rec("WLAN_PROBED_ESSID", &mac, first, last, sensor);
        r.targetval = Some(essid.clone());
        out.push(r);
    }
    Ok(out)
}

/// Splits one line into trimmed cells with the `csv` crate (flexible, no
/// quoting: airodump-ng never quotes).
fn cells(line: &[u8]) -> Vec<String> {
    let mut rdr = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .trim(csv::Trim::All)
        .quoting(false)
        .from_reader(line);
    let mut record = csv::ByteRecord::new();
    match rdr.read_byte_record(&mut record) {
        Ok(true) => record
            .iter()
            .map(|c| crate::escape::lossless_utf8(c).trim().to_owned())
            .collect(),
        _ => Vec::new(),
    }
}

/// Streaming reader of an airodump-ng CSV file, line by line: a row gives
/// its records one by one, or its error (1-based line number).
pub struct AirodumpReader<R> {
    input: R,
    line: u64,
    section: Section,
    sensor: Option<String>,
    buf: Vec<u8>,
    /// The records of the row read last not yet given.
    pending: std::vec::IntoIter<PassiveRecord>,
}

impl<R: BufRead> AirodumpReader<R> {
    /// A reader over `input`.
    pub fn new(input: R) -> Self {
        AirodumpReader {
            input,
            line: 0,
            section: Section::None,
            sensor: None,
            buf: Vec::new(),
            pending: Vec::new().into_iter(),
        }
    }

    /// Sets the sensor name written on every record.
    pub fn with_sensor(mut self, sensor: Option<String>) -> Self {
        self.sensor = sensor;
        self
    }

    /// The records of the next data row; `None` at the end of the input.
    fn next_row(&mut self) -> Option<Result<Vec<PassiveRecord>, LineError>> {
        loop {
            self.buf.clear();
            match self.input.read_until(b'\n', &mut self.buf) {
                Ok(0) => return None,
                Ok(_) => self.line += 1,
                Err(e) => return Some(Err(LineError::new(self.line + 1, LineErrorKind::Read(e)))),
            }
            let cells = cells(&self.buf);
            if cells.iter().all(|c| c.is_empty()) {
                continue;
            }
            match cells[0].as_str() {
                "BSSID" => {
                    self.section = Section::Ap;
                    continue;
                }
                "Station MAC" => {
                    self.section = Section::Station;
                    continue;
                }
                _ => {}
            }
            let sensor = self.sensor.as_deref();
            let result = match self.section {
                Section::Ap => ap_row(&cells, sensor),
                Section::Station => station_row(&cells, sensor),
                Section::None => Err(AirodumpError::RowBeforeHeader),
            };
            return Some(result.map_err(|error| LineError::new(self.line, error)));
        }
    }
}

impl<R: BufRead> RecordReader for AirodumpReader<R> {
    type Record = PassiveRecord;
    type Error = LineError;

    fn next_record(&mut self) -> Result<Option<PassiveRecord>, LineError> {
        loop {
            if let Some(record) = self.pending.next() {
                return Ok(Some(record));
            }
            match self.next_row() {
                None => return Ok(None),
                Some(row) => self.pending = row?.into_iter(),
            }
        }
    }

    /// A bad row is skipped; a read error ends the file.
    fn is_fatal(&self, error: &LineError) -> bool {
        error.is_read()
    }

    /// The line read last.
    fn position(&self) -> Position {
        Position {
            line: self.line,
            column: 1,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn random_bytes_never_panic() {
        let mut seed: u64 = 42;
        for _ in 0..200 {
            let mut data = b"\r\nBSSID, First time seen\r\n".to_vec();
            for _ in 0..(seed % 300) {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                let b = (seed % 256) as u8;
                data.push(match b % 5 {
                    0 => b',',
                    1 => b'\n',
                    _ => b,
                });
            }
            let _ = AirodumpReader::new(&data[..]).records().count();
        }
    }
}
