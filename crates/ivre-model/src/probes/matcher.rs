//! Banner matching: each match line's regex is compiled lazily, once, on
//! first use (most patterns are anchored literals, so a cheap literal-prefix
//! check spares compiling the vast majority of them); a pattern that the
//! `regex` crate refuses or that exceeds the size limit is skipped, never a
//! panic.
//!
//! Probe order: the first hard `match` wins, whatever the probe; otherwise the
//! first `softmatch` met is returned (Nmap's choice; IVRE's Python code lets
//! later softmatches of the same probe overwrite it, which only matters when
//! several softmatches of one probe match the same banner).
use std::sync::OnceLock;

use regex::bytes::{Regex, RegexBuilder};

use super::pcre::{Translated, UnsupportedPattern};
use super::template::Templates;
use super::{Protocol, ServiceMatch, ServiceProbes};

/// Compiled-program size limit per pattern: generous (real patterns need far
/// less) but bounded, so that a pathological pattern is skipped.
const REGEX_SIZE_LIMIT: usize = 4 * 1024 * 1024;
/// Lazy DFA cache limit per pattern.
const REGEX_DFA_SIZE_LIMIT: usize = 1024 * 1024;
/// Maximum depth when following `fallback` directives.
const MAX_FALLBACK_DEPTH: usize = 4;

/// One `match` / `softmatch` line.
#[derive(Debug)]
pub(super) struct MatchRule {
    pub(super) service: String,
    pub(super) soft: bool,
    pub(super) line: usize,
    /// Translated pattern, or why it is unsupported.
    pub(super) pattern: Result<Translated, UnsupportedPattern>,
    pub(super) case_insensitive: bool,
    pub(super) dot_all: bool,
    /// Compiled on first use; `None` when the `regex` crate refuses it.
    pub(super) regex: OnceLock<Option<Regex>>,
    pub(super) templates: Templates,
}

impl MatchRule {
    pub(super) fn regex(&self) -> Option<&Regex> {
        self.regex
            .get_or_init(|| {
                let translated = self.pattern.as_ref().ok()?;
                RegexBuilder::new(&translated.pattern)
                    .unicode(false)
                    .case_insensitive(self.case_insensitive)
                    .dot_matches_new_line(self.dot_all)
                    .size_limit(REGEX_SIZE_LIMIT)
                    .dfa_size_limit(REGEX_DFA_SIZE_LIMIT)
                    .build()
                    .ok()
            })
            .as_ref()
    }

    /// Cheap pre-check: can the data possibly match?
    fn may_match(&self, data: &[u8]) -> bool {
        match &self.pattern {
            Err(_) => false,
            Ok(translated) => {
                let prefix = &translated.prefix;
                if prefix.is_empty() {
                    return true;
                }
                if data.len() < prefix.len() {
                    return false;
                }
                let head = &data[..prefix.len()];
                if self.case_insensitive {
                    head.eq_ignore_ascii_case(prefix)
                } else {
                    head == prefix.as_slice()
                }
            }
        }
    }

    /// Inlined into the loop over a probe's lines (the hot path of banner
    /// matching): left out of line, the prefix check and the regex search
    /// each cost a call per line, about a third more instructions per match.
    /// `always`: a plain hint was dropped whenever code elsewhere in the
    /// crate changed how the compiler split it.
    #[inline(always)]
    fn try_match(&self, data: &[u8]) -> Option<ServiceMatch> {
        if !self.may_match(data) {
            return None;
        }
        let regex = self.regex()?;
        // Most lines do not match: `is_match` answers without allocating
        // the capture slots that `captures` allocates on every call.
        if !regex.is_match(data) {
            return None;
        }
        let caps = regex.captures(data)?;
        let groups: Vec<Option<&[u8]>> = caps
            .iter()
            .skip(1)
            .map(|group| group.map(|m| m.as_bytes()))
            .collect();
        Some(self.templates.fill(&self.service, self.soft, &groups))
    }
}

impl ServiceProbes {
    /// Matches `banner` (the data received after sending each probe; IVRE
    /// uses `NULL` for plain banners and `GetRequest` for HTTP responses)
    /// against the match lines of the probes `probe_names`, in that order,
    /// following `fallback` directives. The first hard `match` wins; if there
    /// is none, the first `softmatch` is returned (with `soft: true`).
    ///
    /// `protocol` is `"tcp"` or `"udp"` (anything else gives `None`). `port`
    /// is only used when `probe_names` is empty: then `NULL` (TCP) and the
    /// probes whose `ports`/`sslports` include `port` are tried, in file
    /// order.
    pub fn match_banner(
        &self,
        probe_names: &[&str],
        protocol: &str,
        port: u16,
        banner: &[u8],
    ) -> Option<ServiceMatch> {
        let protocol = Protocol::parse(protocol)?;
        let defaults;
        let names: &[&str] = if probe_names.is_empty() {
            defaults = self.default_probes(protocol, port);
            &defaults
        } else {
            probe_names
        };
        let mut soft = None;
        for name in names {
            match self.match_probe(protocol, name, banner, 0) {
                Some(found) if !found.soft => return Some(found),
                Some(found) => {
                    soft.get_or_insert(found);
                }
                None => {}
            }
        }
        soft
    }

    fn default_probes(&self, protocol: Protocol, port: u16) -> Vec<&str> {
        self.probes
            .iter()
            .filter(|probe| {
                probe.protocol == protocol && (probe.name == "NULL" || probe.has_port(port))
            })
            .map(|probe| probe.name.as_str())
            .collect()
    }

    fn match_probe(
        &self,
        protocol: Protocol,
        name: &str,
        banner: &[u8],
        depth: usize,
    ) -> Option<ServiceMatch> {
        let probe = self.probe(protocol, name)?;
        let mut soft = None;
        for rule in &probe.rules {
            // As IVRE does: this NULL-probe fingerprint is only a size check
            // on supposedly random data, too many false positives.
            if name == "NULL" && rule.service == "landesk-rc" && distinct_bytes(banner) < 100 {
                continue;
            }
            if soft.is_some() && rule.soft {
                continue;
            }
            if let Some(found) = rule.try_match(banner) {
                if !found.soft {
                    return Some(found);
                }
                soft = Some(found);
            }
        }
        if depth < MAX_FALLBACK_DEPTH {
            for fallback in &probe.fallbacks {
                // Nothing in the file gives the protocol of a fallback probe;
                // as IVRE does, `XTCP` falls back to the UDP probe `X`.
                let fb_protocol = match name.strip_suffix("TCP") {
                    Some(base) if protocol == Protocol::Tcp && base == fallback => Protocol::Udp,
                    _ => protocol,
                };
                match self.match_probe(fb_protocol, fallback, banner, depth + 1) {
                    Some(found) if !found.soft => return Some(found),
                    Some(found) => {
                        soft.get_or_insert(found);
                    }
                    None => {}
                }
            }
        }
        soft
    }
}

fn distinct_bytes(data: &[u8]) -> usize {
    let mut seen = [false; 256];
    data.iter().for_each(|&b| seen[b as usize] = true);
    seen.iter().filter(|&&b| b).count()
}

#[cfg(test)]
mod tests {
    use super::super::tests::{probes, PROBES_PATH};
    use serde_json::Map;

    use super::super::{banner_first_line, CompileStats};
    use super::*;

    fn null(banner: &[u8]) -> Option<ServiceMatch> {
        probes().match_banner(&["NULL"], "tcp", 0, banner)
    }

    #[test]
    fn ssh_openssh_debian() {
        let m = null(b"SSH-2.0-OpenSSH_7.4p1 Debian-10+deb9u7\r\n").unwrap();
        assert_eq!(m.service_name, "ssh");
        assert_eq!(m.product.as_deref(), Some("OpenSSH"));
        assert_eq!(m.version.as_deref(), Some("7.4p1 Debian 10+deb9u7"));
        assert_eq!(m.extrainfo.as_deref(), Some("protocol 2.0"));
        assert_eq!(m.ostype.as_deref(), Some("Linux"));
        assert!(!m.soft);
        assert_eq!(
            m.cpes,
            [
                "cpe:/a:openbsd:openssh:7.4p1",
                "cpe:/o:debian:debian_linux",
                "cpe:/o:linux:linux_kernel"
            ]
        );
    }

    #[test]
    fn ftp_vsftpd() {
        let m = null(b"220 (vsFTPd 3.0.3)\r\n").unwrap();
        assert_eq!(m.service_name, "ftp");
        assert_eq!(m.product.as_deref(), Some("vsftpd"));
        assert_eq!(m.version.as_deref(), Some("3.0.3"));
        assert_eq!(m.cpes, ["cpe:/a:vsftpd:vsftpd:3.0.3"]);
    }

    #[test]
    fn http_apache_get_request() {
        let banner = b"HTTP/1.1 200 OK\r\nDate: Mon, 01 Jan 2024 00:00:00 GMT\r\n\
Server: Apache/2.4.29 (Ubuntu)\r\nContent-Length: 10\r\n\
Content-Type: text/html\r\n\r\n<html></html>";
        let m = probes()
            .match_banner(&["GetRequest"], "tcp", 80, banner)
            .unwrap();
        assert_eq!(m.service_name, "http");
        assert_eq!(m.product.as_deref(), Some("Apache httpd"));
        assert_eq!(m.version.as_deref(), Some("2.4.29"));
        assert_eq!(m.extrainfo.as_deref(), Some("(Ubuntu)"));
        assert!(m
            .cpes
            .contains(&"cpe:/a:apache:http_server:2.4.29".to_owned()));
        // NULL finds nothing specific for an HTTP response
        let mut port = Map::new();
        m.apply_to_port(&mut port);
        assert_eq!(port["service_name"], "http");
        assert_eq!(port["service_product"], "Apache httpd");
        assert!(!port.contains_key("service_tunnel"));
    }

    #[test]
    fn smtp() {
        let m = null(b"220 mx.example.org ESMTP Exim 4.92 Tue, 01 Jan 2019 00:00:00 +0000\r\n")
            .unwrap();
        assert_eq!(m.service_name, "smtp");
        assert_eq!(m.product.as_deref(), Some("Exim smtpd"));
        assert_eq!(m.version.as_deref(), Some("4.92"));
        assert_eq!(m.hostname.as_deref(), Some("mx.example.org"));
        assert_eq!(m.cpes, ["cpe:/a:exim:exim:4.92"]);
        // as in Nmap, the first matching line wins, and its capture keeps the
        // separator (`^220([\s-]\S+) ESMTP Postfix`)
        let m = null(b"220 mail.example.com ESMTP Postfix (Debian/GNU)\r\n").unwrap();
        assert_eq!(m.product.as_deref(), Some("Postfix smtpd"));
        assert_eq!(m.hostname.as_deref(), Some(" mail.example.com"));
        assert_eq!(m.cpes, ["cpe:/a:postfix:postfix"]);
    }

    #[test]
    fn garbage_no_match() {
        assert_eq!(null(b"\x01\x02\x03garbage \xff\xfe nothing here"), None);
        assert_eq!(null(b""), None);
        assert_eq!(
            probes().match_banner(&["NULL"], "sctp", 22, b"SSH-2.0-OpenSSH_7.4\r\n"),
            None
        );
        assert_eq!(
            probes().match_banner(&["NoSuchProbe"], "tcp", 22, b"SSH-2.0-OpenSSH_7.4\r\n"),
            None
        );
    }
    #[test]
    fn unsupported_and_pathological_patterns_are_skipped() {
        let file = b"Probe TCP NULL q||\n\
match look m|^abc(?!d)| p/lookahead/\n\
match back m|^(a)\\1| p/backref/\n\
match huge m|^x(?:.{1,1000}){1,1000}y|s p/huge/\n\
match poss m|^a++b| p/possessive/\n\
match ok m|a| p/fallback/\n";
        let probes = ServiceProbes::from_reader(&file[..]).unwrap();
        assert_eq!(probes.stats().unsupported, 3);
        let compiled = probes.compile_all();
        assert_eq!(
            compiled,
            CompileStats {
                compiled: 1,
                failed: 1,
                unsupported: 3
            }
        );
        let m = probes.match_banner(&["NULL"], "tcp", 1, b"abce").unwrap();
        assert_eq!(m.service_name, "ok");
        let m = probes.match_banner(&["NULL"], "tcp", 1, b"xay").unwrap();
        assert_eq!(m.service_name, "ok");
    }

    #[test]
    fn softmatch_and_ssl_tunnel() {
        let file = b"Probe TCP NULL q||\n\
softmatch ftp m|^220 |\n\
match ssl/http m|^HTTPS (\\d+)| p/Secure/ v/$1/\n\
Probe TCP Other q|x|\n\
match ftp m|^220 (\\w+) ready| p/$1 ftpd/\n";
        let probes = ServiceProbes::from_reader(&file[..]).unwrap();
        let m = probes
            .match_banner(&["NULL"], "tcp", 21, b"220 hi")
            .unwrap();
        assert!(m.soft);
        assert_eq!(m.service_name, "ftp");
        // a hard match in a later probe wins over the soft one
        let m = probes
            .match_banner(&["NULL", "Other"], "tcp", 21, b"220 Foo ready")
            .unwrap();
        assert!(!m.soft);
        assert_eq!(m.product.as_deref(), Some("Foo ftpd"));
        let m = probes
            .match_banner(&["NULL"], "tcp", 443, b"HTTPS 12")
            .unwrap();
        assert_eq!(m.name_and_tunnel(), ("http", Some("ssl")));
        let fields = m.port_fields();
        assert_eq!(fields["service_name"], "http");
        assert_eq!(fields["service_tunnel"], "ssl");
        assert_eq!(fields["service_version"], "12");
        assert_eq!(fields["service_product"], "Secure");
    }

    #[test]
    fn fallback_probe() {
        let file = b"Probe TCP GetRequest q|GET|\n\
match http m|^HTTP/1\\.[01] \\d+| p/generic/\n\
Probe TCP Other q|x|\n\
fallback GetRequest\n";
        let probes = ServiceProbes::from_reader(&file[..]).unwrap();
        let m = probes
            .match_banner(&["Other"], "tcp", 1, b"HTTP/1.1 200 OK\r\n")
            .unwrap();
        assert_eq!(m.product.as_deref(), Some("generic"));
    }
    #[test]
    fn ivre_trailing_newline() {
        // the pattern ends in \r?\n but masscan keeps the first line only
        let m = null(b"SSH-2.0-OpenSSH_6.0p1 Debian-4+deb7u2").unwrap();
        assert_eq!(m.version.as_deref(), Some("6.0p1 Debian 4+deb7u2"));
    }

    /// Masscan banners from the IVRE test samples (test-T22.xml), with the
    /// values IVRE stored for them (golden ivre-nmap-records.jsonl).
    #[test]
    fn masscan_golden_ssh() {
        // banner, product, version, extrainfo, ostype
        type Case<'a> = (&'a [u8], &'a str, Option<&'a str>, &'a str, Option<&'a str>);
        let cases: [Case; 3] = [
            // 178.32.164.34
            (
                b"SSH-2.0-OpenSSH_5.9p1 Debian-5ubuntu1.4",
                "OpenSSH",
                Some("5.9p1 Debian 5ubuntu1.4"),
                "Ubuntu Linux; protocol 2.0",
                Some("Linux"),
            ),
            // 109.164.41.134
            (
                b"SSH-2.0-dropbear_2014.63",
                "Dropbear sshd",
                Some("2014.63"),
                "protocol 2.0",
                Some("Linux"),
            ),
            // 93.170.75.80 (binary KEXINIT data follows the banner line; the
            // start of it, as in the sample)
            (
                b"SSH-2.0-OpenSSH_5.1p1 FreeBSD-20080901\r\n\x00\x00\x03\x04\x0a\x14\xd3\xd6C\x02\xdd\xe8\x8f\xda\x1e`\xfc\x9e\xc8\xa0",
                "OpenSSH",
                Some("5.1p1"),
                "FreeBSD 20080901; protocol 2.0",
                Some("FreeBSD"),
            ),
        ];
        for (banner, product, version, extrainfo, ostype) in cases {
            let m = null(banner).unwrap();
            assert_eq!(m.service_name, "ssh");
            assert_eq!(m.product.as_deref(), Some(product));
            assert_eq!(m.version.as_deref(), version);
            assert_eq!(m.extrainfo.as_deref(), Some(extrainfo));
            assert_eq!(m.ostype.as_deref(), ostype);
        }
    }

    /// Masscan keeps what follows the SSH banner line (binary KEXINIT);
    /// IVRE matches the first line, newline included (184.75.120.122 and
    /// 85.169.59.149 in test-T22.xml).
    #[test]
    fn masscan_first_line() {
        let banner = b"SSH-1.99-Cisco-1.25\n\0\0\x01\x14\x04\x14~\t\xb5Q";
        let line = banner_first_line(banner);
        assert_eq!(line, b"SSH-1.99-Cisco-1.25\n");
        let m = null(line).unwrap();
        assert_eq!(m.product.as_deref(), Some("Cisco SSH"));
        assert_eq!(m.version.as_deref(), Some("1.25"));
        assert_eq!(m.ostype.as_deref(), Some("IOS"));
        assert_eq!(m.cpes, ["cpe:/a:cisco:ssh:1.25", "cpe:/o:cisco:ios"]);
        // the whole banner (and a banner without its newline) only softmatch
        for banner in [&banner[..], b"SSH-1.99-Cisco-1.25"] {
            let m = null(banner).unwrap();
            assert!(m.soft);
            assert_eq!(m.service_name, "ssh");
            assert_eq!(m.extrainfo.as_deref(), Some("protocol 1.99"));
            assert_eq!(m.product, None);
        }
        assert_eq!(banner_first_line(b"no newline"), b"no newline");
    }

    /// Passive records (golden ivre-passive-records.jsonl): TCP server
    /// banners against NULL, HTTP `Server:` headers against GetRequest.
    #[test]
    fn passive_golden() {
        let m = null(
            b"J\x00\x00\x00\n5.7.21\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\
\xff\xff\x08\x02\x00\xff\xc1\x15\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\
\x00\x00\x00\x00\x00\x00\x00\x00mysql_native_password\x00",
        )
        .unwrap();
        assert_eq!(m.service_name, "mysql");
        assert_eq!(m.product.as_deref(), Some("MySQL"));
        assert_eq!(m.version.as_deref(), Some("5.7.21"));
        let m = null(
            b"* OK Microsoft Exchange IMAP4rev1 server version 5.5.2650.23 (umr-mail02) ready\r\n",
        )
        .unwrap();
        assert_eq!(m.service_name, "imap");
        assert_eq!(m.product.as_deref(), Some("Microsoft Exchange imapd"));
        assert_eq!(m.version.as_deref(), Some("5.5.2650.23"));
        assert_eq!(m.ostype.as_deref(), Some("Windows"));
        let m = probes()
            .match_banner(
                &["GetRequest"],
                "tcp",
                8080,
                b"HTTP/1.1 200 OK\r\nServer: nginx/1.6.2\r\n\r\n",
            )
            .unwrap();
        assert_eq!(m.service_name, "http");
        assert_eq!(m.product.as_deref(), Some("nginx"));
        assert_eq!(m.version.as_deref(), Some("1.6.2"));
    }

    /// `cargo test -p ivre-model --release -- --ignored --nocapture probes_timing`
    #[test]
    #[ignore]
    fn probes_timing() {
        let start = std::time::Instant::now();
        let probes = ServiceProbes::load(PROBES_PATH).unwrap();
        let load = start.elapsed();
        let start = std::time::Instant::now();
        let m = probes.match_banner(&["NULL"], "tcp", 22, b"SSH-2.0-OpenSSH_7.4\r\n");
        let first = start.elapsed();
        assert!(m.is_some());
        let start = std::time::Instant::now();
        for _ in 0..1000 {
            probes.match_banner(&["NULL"], "tcp", 22, b"SSH-2.0-OpenSSH_7.4\r\n");
        }
        let thousand = start.elapsed();
        let start = std::time::Instant::now();
        let compiled = probes.compile_all();
        let compile = start.elapsed();
        let start = std::time::Instant::now();
        for _ in 0..100 {
            probes.match_banner(&["NULL", "GetRequest"], "tcp", 22, b"\x01garbage\x02");
        }
        let garbage = start.elapsed();
        println!(
            "stats {:?}\ncompile {compiled:?}\nload {load:?}, first SSH match {first:?}, \
             1000 SSH matches {thousand:?}, compile_all {compile:?}, \
             100 garbage NULL+GetRequest misses {garbage:?}",
            probes.stats()
        );
    }
}
