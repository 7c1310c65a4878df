//! Passive input readers on fixture files: airodump-ng CSV, Zeek edge
//! cases, malformed lines, random bytes.

use ivre_model::passive::{
    airodump::AirodumpReader, normalize::NormalizeConfig, p0f::P0fReader, process, Aggregator,
    PassiveRecord, ZeekReader,
};
use ivre_model::reader::RecordReader;

const DATA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/data/passive");

fn find<'a>(recs: &'a [PassiveRecord], source: &str, value: &str) -> Vec<&'a PassiveRecord> {
    recs.iter()
        .filter(|r| r.source.as_deref() == Some(source) && r.value == value)
        .collect()
}

#[test]
fn airodump_keeps_every_probed_essid() {
    let f = std::fs::File::open(format!("{DATA}/airodump/airodump-01.csv")).unwrap();
    let recs: Vec<PassiveRecord> = AirodumpReader::new(std::io::BufReader::new(f))
        .with_sensor(Some("WLAN".into()))
        .records()
        .map(|r| r.expect("valid row"))
        .collect();
    assert!(recs.iter().all(|r| r.recontype == "MAC_ADDRESS"
        && r.count == 1
        && r.sensor.as_deref() == Some("WLAN")));
    let probes: Vec<_> = find(&recs, "WLAN_PROBED_ESSID", "aa:bb:cc:dd:ee:01")
        .iter()
        .map(|r| r.targetval.clone().unwrap())
        .collect();
    assert_eq!(probes, ["HomeWifi", "CafeNet", "Airport Free WiFi"]);
    let probes: Vec<_> = find(&recs, "WLAN_PROBED_ESSID", "aa:bb:cc:dd:ee:02")
        .iter()
        .map(|r| r.targetval.clone().unwrap())
        .collect();
    assert_eq!(probes, ["Guest", "Office-5G"]);
    assert!(find(&recs, "WLAN_ASSOCIATED", "aa:bb:cc:dd:ee:02").is_empty());
    let assoc = find(&recs, "WLAN_ASSOCIATED", "aa:bb:cc:dd:ee:01");
    assert_eq!(assoc[0].targetval.as_deref(), Some("00:14:6c:7e:40:80"));
    assert_eq!(assoc[0].firstseen.to_rfc3339(), "2023-05-01T10:01:00+00:00");
    assert_eq!(assoc[0].lastseen.to_rfc3339(), "2023-05-01T10:04:00+00:00");
    assert!(find(&recs, "WLAN_PROBED_ESSID", "aa:bb:cc:dd:ee:03").is_empty());
    // Access points.
    let essid = find(&recs, "WLAN_AP_ESSID", "a0:f3:c1:11:22:33");
    assert_eq!(essid[0].targetval.as_deref(), Some("Bob's, WiFi"));
    let privacy = find(&recs, "WLAN_AP_PRIVACY", "a0:f3:c1:11:22:33");
    assert_eq!(
        privacy[0].targetval.as_deref(),
        Some("WPA2_WPA-CCMP_TKIP-PSK")
    );
    let lan = find(&recs, "WLAN_AP_LAN_IP", "a0:f3:c1:11:22:33");
    assert_eq!(lan[0].addr.unwrap().to_string(), "192.168.1.1");
    assert!(find(&recs, "WLAN_AP_LAN_IP", "00:14:6c:7e:40:80").is_empty());
    let chan = find(&recs, "WLAN_AP_CHANNEL", "00:14:6c:7e:40:80");
    assert_eq!(chan[0].targetval.as_deref(), Some("6"));
    // Hidden AP: no ESSID, channel -1, no privacy.
    let hidden: Vec<_> = recs
        .iter()
        .filter(|r| r.value == "c4:6e:1f:aa:bb:cc")
        .collect();
    assert!(hidden.is_empty(), "{hidden:?}");
    let quoted = find(&recs, "WLAN_AP_ESSID", "d8:50:e6:01:02:03");
    assert_eq!(quoted[0].targetval.as_deref(), Some("Cafe \"Net\""));
    assert_eq!(
        find(&recs, "WLAN_AP_PRIVACY", "d8:50:e6:01:02:03")[0]
            .targetval
            .as_deref(),
        Some("OPN")
    );
}

#[test]
fn airodump_bad_rows_are_errors_with_line_numbers() {
    let csv = "\r\nBSSID, First time seen, Last time seen, channel, Speed, Privacy, Cipher, Authentication, Power, # beacons, # IV, LAN IP, ID-length, ESSID, Key\r\n00:14:6C:7E:40:80, yesterday, 2023-05-01 10:05:12,  6,  54, WPA2, CCMP, PSK, -45, 1, 0, 0.0.0.0, 1, A, \r\n00:14:6C:7E:40:81, 2023-05-01 10:00:00, 2023-05-01 10:05:12,  6,  54, WPA2, CCMP, PSK, -45, 1, 0, 0.0.0.0, 1, B, \r\n";
    let items: Vec<_> = AirodumpReader::new(csv.as_bytes()).records().collect();
    assert_eq!(items[0].as_ref().unwrap_err().line, 3);
    // the next row is read: its records, and nothing else
    assert!(items.len() > 1);
    assert!(items[1..]
        .iter()
        .all(|r| r.as_ref().unwrap().value == "00:14:6c:7e:40:81"));
}

#[test]
fn zeek_edge_cases_fixture() {
    let f = std::fs::File::open(format!("{DATA}/zeek/edge_cases.log")).unwrap();
    let items: Vec<_> = ZeekReader::new(std::io::BufReader::new(f))
        .records()
        .collect();
    let errors: Vec<u64> = items
        .iter()
        .filter_map(|i| i.as_ref().err().map(|e| e.line))
        .collect();
    // Malformed lines: wrong field count, bad ts, bad host, bad port,
    // missing value, invalid JSON.
    assert_eq!(errors, [12, 13, 14, 15, 16, 26]);
    let recs: Vec<PassiveRecord> = items.into_iter().filter_map(Result::ok).collect();
    // Escapes are kept as Zeek wrote them.
    assert_eq!(recs[0].value, "220 a\\x09b \\\\x41 \\xff\\x0d\\x0a");
    assert_eq!(recs[0].port, Some(21));
    // (empty) and -.
    assert_eq!(recs[1].value, "");
    assert_eq!(recs[1].source.as_deref(), Some("AUTHORIZATION"));
    assert_eq!(recs[2].source, None);
    assert_eq!(recs[2].targetval, None);
    // targetval is kept only without host.
    assert_eq!(recs[3].targetval.as_deref(), Some("b.example.net"));
    assert_eq!(recs[4].targetval, None);
    // After a second header block with other columns and separator.
    assert_eq!(recs[5].recontype, "SSH_SERVER");
    assert_eq!(recs[5].value, "SSH-2.0-OpenSSH_8.4");
    assert_eq!(recs[5].addr.unwrap().to_string(), "2001:db8::1");
    // JSON lines.
    assert_eq!(recs[6].recontype, "OPEN_PORT");
    assert_eq!(recs[6].firstseen.timestamp_subsec_micros(), 250_000);
    assert_eq!(recs.len(), 7);
    // The banner is canonicalised Nmap-style only when a rule applies.
    let out = process(recs[0].clone(), &NormalizeConfig::default(), None);
    assert_eq!(out[0].value, recs[0].value);
}

fn xorshift(seed: &mut u64) -> u8 {
    *seed ^= *seed << 13;
    *seed ^= *seed >> 7;
    *seed ^= *seed << 17;
    (*seed >> 24) as u8
}

#[test]
fn random_input_never_panics() {
    let recontypes = [
        "HTTP_CLIENT_HEADER",
        "HTTP_SERVER_HEADER",
        "TCP_SERVER_BANNER",
        "SSL_SERVER",
        "SSL_CLIENT",
        "SSH_SERVER_HOSTKEY",
        "DNS_ANSWER",
        "NTLM_CHALLENGE",
        "SMB",
        "SSH_CLIENT_HASSH",
    ];
    let sources = [
        "AUTHORIZATION",
        "WWW-AUTHENTICATE",
        "cert",
        "ja3",
        "ja3-x",
        "ja4",
        "SSHv2",
        "A-1.1.1.1-53",
        "USER-AGENT",
    ];
    let prefixes = [
        "NTLM TlRMTVNTUA",
        "Negotiate TlRMTVNTUAAC",
        "Digest ",
        "Basic ",
        "MII",
        "\\x00\\x00\\x00\\x07ssh-rsa",
        "1.2.3.4.zen.spamhaus.org",
        "t13d_",
        "",
    ];
    let cfg = NormalizeConfig::default();
    let mut seed = 0x1234_5678_9abc_def0u64;
    let mut agg = Aggregator::new();
    for i in 0..3000 {
        let len = xorshift(&mut seed) as usize;
        let tail: Vec<u8> = (0..len).map(|_| xorshift(&mut seed)).collect();
        let mut value = prefixes[i % prefixes.len()].to_owned();
        value.push_str(&String::from_utf8_lossy(&tail));
        let mut r = PassiveRecord::new(
            recontypes[i % recontypes.len()],
            value,
            chrono::DateTime::from_timestamp(i as i64, 0).unwrap(),
        );
        r.source = Some(sources[(i / 3) % sources.len()].to_owned());
        r.addr = Some("127.0.0.2".parse().unwrap());
        for out in process(r, &cfg, None) {
            agg.add(out);
        }
        // Readers.
        let _ = ZeekReader::new(&tail[..]).records().count();
        let _ = P0fReader::new(&tail[..]).records().count();
        let mut line = b"[2021/01/06 16:44:23] mod=syn|".to_vec();
        line.extend_from_slice(&tail);
        let _ = P0fReader::new(&line[..]).records().count();
        let _ = AirodumpReader::new(&tail[..]).records().count();
    }
    assert!(!agg.is_empty());
}

/// An input that gives `data`, then fails on every read (as a damaged
/// compressed file does).
struct FailingAfter<'a>(&'a [u8]);

impl std::io::Read for FailingAfter<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if self.0.is_empty() {
            return Err(std::io::Error::other("incomplete deflate stream"));
        }
        let n = self.0.len().min(buf.len());
        buf[..n].copy_from_slice(&self.0[..n]);
        self.0 = &self.0[n..];
        Ok(n)
    }
}

/// What a reader gives before and at a read error: it must end there.
fn until_read_error<R>(reader: R) -> (usize, Vec<String>)
where
    R: RecordReader<Record = PassiveRecord, Error = ivre_model::passive::LineError>,
{
    let items: Vec<_> = reader.records().take(1000).collect();
    assert!(items.len() < 1000, "the reader does not stop");
    let errors: Vec<String> = items
        .iter()
        .filter_map(|i| i.as_ref().err().map(|e| e.to_string()))
        .collect();
    (items.iter().filter(|i| i.is_ok()).count(), errors)
}

#[test]
fn a_read_error_ends_the_file_after_the_complete_lines() {
    use std::io::BufReader;
    let p0f = "[2021/01/06 16:44:23] mod=syn|cli=10.0.0.2/60746|srv=10.0.0.4/445|subj=cli|raw_sig=4:64\n[2021/01/06 16:44:2";
    let (records, errors) =
        until_read_error(P0fReader::new(BufReader::new(FailingAfter(p0f.as_bytes()))));
    assert_eq!(records, 1);
    assert_eq!(errors, ["line 2: read error: incomplete deflate stream"]);

    let zeek = "1.0\tC\t10.0.0.1\t80\tPassiveRecon::OPEN_PORT\tTCP\ttcp/80\t-\n2.0\tC\t10.0";
    let (records, errors) = until_read_error(ZeekReader::new(BufReader::new(FailingAfter(
        zeek.as_bytes(),
    ))));
    assert_eq!(records, 1);
    assert_eq!(errors, ["line 2: read error: incomplete deflate stream"]);

    let csv = "BSSID, First time seen, Last time seen, channel, Speed, Privacy, Cipher, Authentication, Power, # beacons, # IV, LAN IP, ID-length, ESSID, Key\n00:14:6C:7E:40:81, 2023-05-01 10:00:00, 2023-05-01 10:05:12,  6,  54, WPA2, CCMP, PSK, -45, 1, 0, 0.0.0.0, 1, B, \n00:14";
    let (records, errors) = until_read_error(AirodumpReader::new(BufReader::new(FailingAfter(
        csv.as_bytes(),
    ))));
    assert_eq!(records, 3);
    assert_eq!(errors, ["line 3: read error: incomplete deflate stream"]);
}
