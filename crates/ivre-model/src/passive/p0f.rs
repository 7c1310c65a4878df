//! Reader for p0f v3 log files (`p0f -o FILE`), as `ivre p0f2db` imports
//! them (spec 2.2).
//!
//! Line format: `[YYYY/MM/DD HH:MM:SS] key=value|key=value|...` (the time is
//! read as UTC). Only `mod=syn` and `mod=syn+ack` lines give records; other
//! modules (`mtu`, `uptime`, `http request`, `http response`, `host change`,
//! `ip sharing`, ...) are skipped silently. A line that does not have the
//! bracket format, has a duplicated key, or is a SYN/SYN+ACK line without
//! `subj`, without the subject's `ip/port` key or without `raw_sig` is an
//! error item carrying its line number; reading goes on.
//!
//! Record: recontype `P0FV3_SYN` / `P0FV3_SYN+ACK`, source `P0FV3`, value =
//! `raw_sig`, addr = IP of the subject (`cli` or `srv`), port = the server
//! port (IVRE sets it for both SYN and SYN+ACK records, as the reference
//! data shows), infos: `os` (unless `???`), `app`, `dist`, `params` (unless
//! `none`).

use std::io::BufRead;
use std::net::IpAddr;

use chrono::{NaiveDateTime, TimeZone, Utc};
use serde_json::Value;

use super::escape::lossless_utf8;
use super::record::PassiveRecord;
use super::zeek::LineError;

/// Splits `ip/port` (IPv4 or IPv6) into its parts.
fn split_endpoint(s: &str) -> Option<(IpAddr, u16)> {
    let (ip, port) = s.rsplit_once('/')?;
    Some((ip.parse().ok()?, port.parse().ok()?))
}

/// Parses one p0f log line. `Ok(None)` for lines of unused modules.
pub fn parse_line(line: &str, sensor: Option<&str>) -> Result<Option<PassiveRecord>, String> {
    let line = line.trim_end_matches(['\r', '\n']);
    let rest = line
        .strip_prefix('[')
        .ok_or("line does not start with [date]")?;
    let (date, rest) = rest.split_once("] ").ok_or("missing ] after the date")?;
    let ts = NaiveDateTime::parse_from_str(date, "%Y/%m/%d %H:%M:%S")
        .map_err(|_| format!("invalid date {date:?}"))?;
    let ts = Utc.from_utc_datetime(&ts);
    let mut fields: Vec<(&str, &str)> = Vec::with_capacity(10);
    for part in rest.split('|') {
        let (k, v) = part
            .split_once('=')
            .ok_or_else(|| format!("field without '=': {part:?}"))?;
        if fields.iter().any(|(k2, _)| *k2 == k) {
            return Err(format!("duplicated key {k:?}"));
        }
        fields.push((k, v));
    }
    let get = |k: &str| fields.iter().find(|(k2, _)| *k2 == k).map(|(_, v)| *v);
    let module = get("mod").ok_or("missing mod")?;
    let recontype = match module {
        "syn" => "P0FV3_SYN",
        "syn+ack" => "P0FV3_SYN+ACK",
        _ => return Ok(None),
    };
    let subj = get("subj").ok_or("missing subj")?;
    if subj != "cli" && subj != "srv" {
        return Err(format!("invalid subj {subj:?}"));
    }
    let endpoint = get(subj).ok_or_else(|| format!("missing {subj}"))?;
    let (addr, _) =
        split_endpoint(endpoint).ok_or_else(|| format!("invalid {subj} {endpoint:?}"))?;
    let raw_sig = get("raw_sig").ok_or("missing raw_sig")?;
    let mut rec = PassiveRecord::new(recontype, raw_sig, ts);
    rec.addr = Some(addr);
    rec.source = Some("P0FV3".into());
    rec.sensor = sensor.map(str::to_owned);
    if let Some(srv) = get("srv") {
        let (_, port) = split_endpoint(srv).ok_or_else(|| format!("invalid srv {srv:?}"))?;
        rec.port = Some(port);
    }
    let infos = rec.infos_mut();
    if let Some(os) = get("os").filter(|v| *v != "???") {
        infos.insert("os".into(), Value::String(os.into()));
    }
    if let Some(app) = get("app") {
        infos.insert("app".into(), Value::String(app.into()));
    }
    if let Some(dist) = get("dist") {
        infos.insert("dist".into(), Value::String(dist.into()));
    }
    if let Some(params) = get("params").filter(|v| *v != "none") {
        infos.insert("params".into(), Value::String(params.into()));
    }
    if rec.infos.as_ref().is_some_and(|m| m.is_empty()) {
        rec.infos = None;
    }
    Ok(Some(rec))
}

/// Streaming reader of a p0f v3 log.
pub struct P0fReader<R> {
    input: R,
    line: u64,
    sensor: Option<String>,
    buf: Vec<u8>,
}

impl<R: BufRead> P0fReader<R> {
    /// A reader over `input`.
    pub fn new(input: R) -> Self {
        P0fReader {
            input,
            line: 0,
            sensor: None,
            buf: Vec::new(),
        }
    }

    /// Sets the sensor name written on every record.
    pub fn with_sensor(mut self, sensor: Option<String>) -> Self {
        self.sensor = sensor;
        self
    }
}

impl<R: BufRead> Iterator for P0fReader<R> {
    type Item = Result<PassiveRecord, LineError>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            self.buf.clear();
            match self.input.read_until(b'\n', &mut self.buf) {
                Ok(0) => return None,
                Ok(_) => self.line += 1,
                Err(e) => {
                    self.line += 1;
                    return Some(Err(LineError {
                        line: self.line,
                        message: format!("read error: {e}"),
                    }));
                }
            }
            let text = lossless_utf8(&self.buf);
            if text.trim().is_empty() {
                continue;
            }
            match parse_line(&text, self.sensor.as_deref()) {
                Ok(None) => continue,
                Ok(Some(rec)) => return Some(Ok(rec)),
                Err(message) => {
                    return Some(Err(LineError {
                        line: self.line,
                        message,
                    }))
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn syn_and_synack() {
        let log = "[2021/01/06 16:44:23] mod=syn|cli=10.255.255.2/60746|srv=10.1.4.4/445|subj=cli|os=Linux 2.2.x-3.x|dist=0|params=generic|raw_sig=4:64+0:0:1460:mss*44,7:mss,sok,ts,nop,ws:df,id+:0\n\
[2021/01/06 16:44:23] mod=mtu|cli=10.255.255.2/60746|srv=10.1.4.4/445|subj=cli|link=Ethernet or modem|raw_mtu=1500\n\
[2021/01/06 16:44:25] mod=syn+ack|cli=10.255.255.2/59182|srv=fc00::1/445|subj=srv|os=???|dist=0|params=none|raw_sig=4:128+0:0:1277:65535,8:mss:df,id+:0\n\
not a p0f line\n\
[2021/01/06 16:44:25] mod=syn|cli=1.2.3.4/1|cli=1.2.3.4/2|subj=cli|raw_sig=x\n\
[2021/01/06 16:44:25] mod=syn|cli=1.2.3.4/1|srv=1.2.3.5/2|subj=cli\n";
        let items: Vec<_> = P0fReader::new(log.as_bytes()).collect();
        assert_eq!(items.len(), 5);
        let a = items[0].as_ref().unwrap();
        assert_eq!(a.recontype, "P0FV3_SYN");
        assert_eq!(a.addr.unwrap().to_string(), "10.255.255.2");
        assert_eq!(a.port, Some(445));
        assert_eq!(a.infos.as_ref().unwrap().len(), 3);
        let b = items[1].as_ref().unwrap();
        assert_eq!(b.recontype, "P0FV3_SYN+ACK");
        assert_eq!(b.addr.unwrap().to_string(), "fc00::1");
        assert_eq!(serde_json::to_string(&b.infos).unwrap(), r#"{"dist":"0"}"#);
        assert_eq!(items[2].as_ref().unwrap_err().line, 4);
        assert!(items[3]
            .as_ref()
            .unwrap_err()
            .message
            .contains("duplicated"));
        assert_eq!(items[4].as_ref().unwrap_err().line, 6);
    }
}
