//! Streaming reader of Nmap and Masscan XML (`-oX`), one host at a time
//! (spec scans.md §2.3 and §2.4).
//!
//! * Only `up` hosts are yielded (a missing `<status>` counts as up, as in
//!   Masscan output). `<hosthint>`, `<prescript>` and `<postscript>` are skipped.
//! * Every script goes through the catalogue, and what it reports (hostnames,
//!   CPEs, MACs) is applied to the host ([`crate::scan::assemble`]).
//! * A DOCTYPE is allowed (and never fetched); entity declarations and custom
//!   entity references are refused with a [`ParseErrorKind::Entity`] error.
//! * Input cut short yields the complete hosts, then one
//!   [`ParseErrorKind::Truncated`] error.
//! * Errors about one host's content ([`ParseErrorKind::Format`]) do not stop
//!   the iteration; syntax, entity, I/O and truncation errors end it.

use super::nmap_host::HostBuilder;
use super::xml_events::{attr, attrs_map, Ev, XmlEvents};
use super::{HostReader, ScanInfo};
use crate::reader::{Position, RecordReader};
use crate::scan::error::{ParseError, ParseErrorKind};
use crate::scan::record::{epoch_to_datetime, Host};
use std::io::BufRead;

/// Streaming Nmap / Masscan XML reader. Memory does not depend on the file size.
pub struct NmapXmlReader<R: BufRead> {
    xml: XmlEvents<R>,
    info: ScanInfo,
    started: bool,
}

impl<R: BufRead> NmapXmlReader<R> {
    pub fn new(input: R) -> Self {
        NmapXmlReader {
            xml: XmlEvents::new(input),
            info: ScanInfo::default(),
            started: false,
        }
    }

    fn is_masscan(&self) -> bool {
        self.info.scanner.as_deref() == Some("masscan")
    }

    /// Reads until the next up host, the end, or an error.
    fn next_host(&mut self) -> Result<Option<Host>, ParseError> {
        loop {
            match self.xml.next()? {
                Ev::Start(name, attrs) => {
                    if !self.started {
                        if name != "nmaprun" {
                            return Err(self.error_here(
                                ParseErrorKind::Format,
                                format!(
                                    "not an Nmap or Masscan XML document (root element <{name}>)"
                                ),
                            ));
                        }
                        self.started = true;
                        self.read_nmaprun(&attrs);
                        continue;
                    }
                    match name.as_str() {
                        "host" => {
                            if let Some(h) = self.read_host(&attrs)? {
                                return Ok(Some(h));
                            }
                        }
                        "hosthint" | "prescript" | "postscript" | "output" => {
                            self.xml.skip_element()?
                        }
                        "scaninfo" => self.info.scaninfo.push(attrs_map(&attrs)),
                        "finished" => {
                            self.info.end = attr(&attrs, "time")
                                .and_then(|t| t.parse().ok())
                                .and_then(epoch_to_datetime);
                            self.info.elapsed = attr(&attrs, "elapsed").map(String::from);
                            self.info.exit = attr(&attrs, "exit").map(String::from);
                            self.info.summary = attr(&attrs, "summary").map(String::from);
                        }
                        "hosts" => {
                            let n = |k| attr(&attrs, k).and_then(|v| v.parse().ok());
                            self.info.hosts_up = n("up");
                            self.info.hosts_down = n("down");
                            self.info.hosts_total = n("total");
                        }
                        // verbose, debugging, taskbegin, taskend, taskprogress, runstats, target...
                        _ => {}
                    }
                }
                Ev::End(name) => {
                    if name == "nmaprun" {
                        self.info.complete = true;
                    }
                }
                Ev::Text(t) => {
                    if !self.started && !t.trim().is_empty() {
                        return Err(self.error_here(
                            ParseErrorKind::Format,
                            "not an XML scan result (text before the root element)",
                        ));
                    }
                }
                Ev::Eof => {
                    if !self.started {
                        return Err(self.error_here(
                            ParseErrorKind::Truncated,
                            "input cut short before the <nmaprun> element",
                        ));
                    }
                    if !self.info.complete {
                        return Err(self.error_here(
                            ParseErrorKind::Truncated,
                            "input cut short: no </nmaprun>",
                        ));
                    }
                    return Ok(None);
                }
            }
        }
    }

    fn read_nmaprun(&mut self, attrs: &[(String, String)]) {
        let get = |k| attr(attrs, k).map(String::from);
        self.info.scanner = get("scanner");
        self.info.version = get("version");
        self.info.args = get("args");
        self.info.xmloutputversion = get("xmloutputversion");
        self.info.start = attr(attrs, "start")
            .and_then(|t| t.parse().ok())
            .and_then(epoch_to_datetime);
    }

    /// Reads one `<host>` element (its start tag was just read). Returns
    /// `None` for hosts that are not up.
    fn read_host(&mut self, attrs: &[(String, String)]) -> Result<Option<Host>, ParseError> {
        let mut b = HostBuilder::new(self.is_masscan());
        // Errors about the content are reported once the whole element is
        // read, so that the iteration can go on with the next host.
        let mut error: Option<ParseError> = None;
        if let Err(e) = b.host_attributes(attrs) {
            error = Some(self.error_here(ParseErrorKind::Format, e.to_string()));
        }
        let mut depth = 1usize;
        loop {
            match self.xml.next()? {
                Ev::Start(name, attrs) => {
                    depth += 1;
                    if let Err(e) = b.start(&name, &attrs) {
                        error.get_or_insert_with(|| {
                            self.error_here(ParseErrorKind::Format, e.to_string())
                        });
                    }
                }
                Ev::End(name) => {
                    depth -= 1;
                    if depth == 0 {
                        break;
                    }
                    b.end(&name);
                }
                Ev::Text(t) => b.text(&t),
                Ev::Eof => {
                    return Err(self.error_here(
                        ParseErrorKind::Truncated,
                        "input cut short inside a <host> element",
                    ))
                }
            }
        }
        if let Some(e) = error {
            return Err(e);
        }
        Ok(b.finish())
    }
}

impl<R: BufRead> RecordReader for NmapXmlReader<R> {
    type Record = Host;
    type Error = ParseError;

    fn next_record(&mut self) -> Result<Option<Host>, ParseError> {
        self.next_host()
    }

    /// Errors about one host's content only skip that host, unless the root
    /// element was not read yet (then the input is no scan result at all).
    fn is_fatal(&self, error: &ParseError) -> bool {
        error.kind != ParseErrorKind::Format || !self.started
    }

    fn position(&self) -> Position {
        self.xml.position()
    }
}

impl<R: BufRead> HostReader for NmapXmlReader<R> {
    fn scan_info(&self) -> Option<&ScanInfo> {
        Some(&self.info)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reader::Records;
    use serde_json::json;

    const DOC: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE nmaprun>
<?xml-stylesheet href="file:///usr/share/nmap/nmap.xsl" type="text/xsl"?>
<nmaprun scanner="nmap" args="nmap -A -&#45;script x 192.0.2.0/30" start="1610228563" version="7.94" xmloutputversion="1.05">
<scaninfo type="syn" protocol="tcp" numservices="2" services="22,443"/>
<verbose level="0"/>
<prescript><script id="broadcast-x" output="ignored"/></prescript>
<hosthint><status state="up" reason="arp-response" reason_ttl="0"/>
<address addr="192.0.2.9" addrtype="ipv4"/><hostnames><hostname name="hint.example.com" type="PTR"/></hostnames></hosthint>
<host starttime="1610228563" endtime="1610228584" comment="hello"><status state="up" reason="echo-reply" reason_ttl="52"/>
<address addr="192.0.2.1" addrtype="ipv4"/>
<address addr="00:15:5D:06:8F:11" addrtype="mac" vendor="Microsoft"/>
<hostnames><hostname name="WWW.Example.com" type="PTR"/><hostname name="www.example.com" type="user"/></hostnames>
<ports><extraports state="filtered" count="997">
<extrareasons reason="no-responses" count="990"/><extrareasons reason="host-unreach" count="7"/>
</extraports>
<port protocol="tcp" portid="22"><state state="open" reason="syn-ack" reason_ttl="52"/><service name="ssh" product="OpenSSH" version="8.9p1" extrainfo="protocol 2.0" ostype="Linux" method="probed" conf="10"><cpe>cpe:/a:openbsd:openssh:8.9p1</cpe><cpe>cpe:/o:linux:linux_kernel</cpe></service><script id="ssh-hostkey" output="&#xa;  256 aa:bb (ED25519)"><table>
<elem key="type">ssh-ed25519</elem>
<elem key="bits">256</elem>
</table>
</script></port>
<port protocol="tcp" portid="443"><state state="open" reason="syn-ack" reason_ttl="52"/><service name="https" method="probed" conf="10"/><script id="x.y" output="o"><elem key="a.b">1</elem><table key="list"><elem>x</elem><elem>y</elem></table><table key="empty"></table></script><script id="xmpp-info" output="mixed"><elem key="a">1</elem><elem>2</elem></script></port>
<port protocol="udp" portid="53"><state state="closed" reason="port-unreach" reason_ttl="52"/><service name="domain" method="table" conf="3"/></port>
<port protocol="tcp" portid="113"><state state="open" reason="syn-ack" reason_ttl="52"/><owner name="root"/><service name="ident" method="probed" conf="10" rpcnum="100000" lowver="2" highver="4" proto="rpc"/></port>
</ports>
<os><portused state="open" proto="tcp" portid="22"/><portused state="closed" proto="udp" portid="31337"/>
<osmatch name="Linux 5.0 - 5.14" accuracy="95" line="67890">
<osclass type="general purpose" vendor="Linux" osfamily="Linux" osgen="5.X" accuracy="95"><cpe>cpe:/o:linux:linux_kernel:5</cpe></osclass>
<osclass type="general purpose" vendor="Linux" osfamily="Linux" osgen="4.X" accuracy="95"/>
</osmatch>
<osfingerprint fingerprint="OS:SCAN(V=7.94)"/>
</os>
<uptime seconds="1234" lastboot="Sat Jan  9 22:22:09 2021"/>
<distance value="11"/>
<tcpsequence index="262" difficulty="Good luck!" values="1,2"/>
<ipidsequence class="All zeros" values="0,0"/>
<tcptssequence class="1000HZ" values="A,B"/>
<hostscript><script id="fcrdns" output="www.example.com (PTR)"/><script id="smb-os-discovery" output="x"/></hostscript>
<trace port="443" proto="tcp">
<hop ttl="1" ipaddr="198.51.100.1" rtt="0.41" host="gw.example.net"/>
<hop ttl="2" ipaddr="198.51.100.2" rtt="--"/>
</trace>
<times srtt="109626" rttvar="36470" to="255506"/>
</host>
<host starttime="1610228563" endtime="1610228584"><status state="down" reason="no-response" reason_ttl="0"/>
<address addr="192.0.2.2" addrtype="ipv4"/></host>
<host><address addr="2001:DB8::0001" addrtype="ipv6"/><hostnames/></host>
<postscript><script id="y" output="ignored"/></postscript>
<runstats><finished time="1610228584" timestr="x" summary="done" elapsed="21.50" exit="success"/><hosts up="2" down="1" total="3"/>
</runstats>
</nmaprun>
"#;

    fn parse(doc: &str) -> (Vec<Result<Host, ParseError>>, ScanInfo) {
        let mut r = Records::new(NmapXmlReader::new(doc.as_bytes()));
        let out: Vec<_> = r.by_ref().collect();
        (out, r.reader().info.clone())
    }

    #[test]
    fn full_nmap_document() {
        let (hosts, info) = parse(DOC);
        assert_eq!(hosts.len(), 2, "{hosts:?}");
        let h = hosts[0].as_ref().unwrap();
        let v = serde_json::to_value(h).unwrap();
        assert_eq!(v["addr"], "192.0.2.1");
        assert_eq!(v["comment"], "hello");
        assert_eq!(v["state_reason_ttl"], 52);
        assert_eq!(v["starttime"], "2021-01-09 21:42:43");
        assert_eq!(v["addresses"], json!({"mac": ["00:15:5d:06:8f:11"]}));
        assert_eq!(
            v["hostnames"],
            json!([{"type": "PTR", "name": "www.example.com", "domains": ["www.example.com", "example.com", "com"]},
                   {"type": "user", "name": "www.example.com", "domains": ["www.example.com", "example.com", "com"]}])
        );
        assert_eq!(
            v["extraports"],
            json!({"filtered": {"total": 997, "reasons": {"no-responses": 990, "host-unreach": 7}}})
        );
        let ports = v["ports"].as_array().unwrap();
        assert_eq!(ports.len(), 5);
        assert_eq!(ports[0]["service_product"], "OpenSSH");
        assert_eq!(ports[0]["service_conf"], 10);
        assert_eq!(
            ports[0]["scripts"][0]["ssh-hostkey"],
            json!([{"type": "ssh-ed25519", "bits": 256}])
        );
        assert_eq!(ports[1]["service_name"], "http");
        assert_eq!(ports[1]["service_tunnel"], "ssl");
        assert_eq!(
            ports[1]["scripts"][0]["x.y"],
            json!({"a_b": "1", "list": ["x", "y"], "empty": []})
        );
        assert_eq!(
            ports[1]["scripts"][1],
            json!({"id": "xmpp-info", "output": "mixed"})
        );
        // method="table" discarded
        assert_eq!(ports[2].get("service_name"), None);
        assert_eq!(ports[3]["owner"], "root");
        assert_eq!(ports[3]["service_rpcnum"], 100000);
        assert_eq!(ports[3]["service_highver"], 4);
        assert_eq!(ports[4]["port"], -1);
        assert_eq!(ports[4].get("protocol"), None);
        assert_eq!(ports[4]["scripts"].as_array().unwrap().len(), 2);
        assert_eq!(
            v["openports"],
            json!({"count": 3, "tcp": {"count": 3, "ports": [22, 113, 443]}})
        );
        assert_eq!(
            v["os"],
            json!({"osmatch": [{"name": "Linux 5.0 - 5.14", "accuracy": "95", "line": "67890"}],
                   "osclass": [{"type": "general purpose", "vendor": "Linux", "osfamily": "Linux", "osgen": "5.X", "accuracy": "95"},
                               {"type": "general purpose", "vendor": "Linux", "osfamily": "Linux", "osgen": "4.X", "accuracy": "95"}],
                   "portused": {"port": "udp_31337", "state": "closed"},
                   "fingerprint": "OS:SCAN(V=7.94)"})
        );
        assert_eq!(
            v["cpes"],
            json!([{"type": "a", "vendor": "openbsd", "product": "openssh", "version": "8.9p1", "origins": ["ports.port:22"]},
                   {"type": "o", "vendor": "linux", "product": "linux_kernel", "version": "", "origins": ["ports.port:22"]},
                   {"type": "o", "vendor": "linux", "product": "linux_kernel", "version": "5", "origins": ["os.osmatch.line:67890"]}])
        );
        assert_eq!(
            v["traces"],
            json!([{"protocol": "tcp", "port": 443, "hops": [
                {"ttl": 1, "ipaddr": "198.51.100.1", "rtt": 0.41, "host": "gw.example.net", "domains": ["gw.example.net", "example.net", "net"]},
                {"ttl": 2, "ipaddr": "198.51.100.2", "rtt": "--"}]}])
        );
        assert_eq!(
            v["uptime"],
            json!({"seconds": 1234, "lastboot": "Sat Jan  9 22:22:09 2021"})
        );
        assert_eq!(v["distance"], 11);
        assert_eq!(v["tcpsequence"]["index"], 262);
        assert_eq!(v["ipidsequence"]["class"], "All zeros");
        assert_eq!(v["tcptssequence"]["values"], "A,B");
        assert_eq!(v["times"]["srtt"], "109626");
        assert_eq!(v["schema_version"], 22);
        // the IPv6 host with no status: up, canonical address, no ports
        let h2 = hosts[1].as_ref().unwrap();
        assert_eq!(h2.addr, "2001:db8::1");
        assert_eq!(h2.state.as_deref(), Some("up"));
        assert!(h2.ports.is_none());
        assert_eq!(h2.hostnames.as_deref(), Some(&[][..]));
        // scan-level information
        assert_eq!(info.scanner.as_deref(), Some("nmap"));
        assert_eq!(info.version.as_deref(), Some("7.94"));
        assert_eq!(
            info.args.as_deref(),
            Some("nmap -A --script x 192.0.2.0/30")
        );
        assert_eq!(info.xmloutputversion.as_deref(), Some("1.05"));
        assert_eq!(
            info.start.map(|d| d.to_string()).as_deref(),
            Some("2021-01-09 21:42:43")
        );
        assert_eq!(
            info.end.map(|d| d.to_string()).as_deref(),
            Some("2021-01-09 21:43:04")
        );
        assert_eq!(info.hosts_total, Some(3));
        assert_eq!(info.scaninfo.len(), 1);
        assert!(info.complete);
    }

    #[test]
    fn masscan_document() {
        let doc = r#"<?xml version="1.0"?>
<!-- masscan v1.0 scan -->
<nmaprun scanner="masscan" start="1524396448" version="1.0-BETA"  xmloutputversion="1.03">
<scaninfo type="syn" protocol="tcp" />
<host endtime="1524396450"><address addr="192.0.2.1" addrtype="ipv4"/><ports><port protocol="tcp" portid="22"><state state="open" reason="response" reason_ttl="114" /><service name="ssh" banner="SSH-2.0-OpenSSH_8.4\x0d\x0a\x00\x01"></service></port></ports></host>
<host endtime="1524396451"><address addr="192.0.2.1" addrtype="ipv4"/><ports><port protocol="tcp" portid="443"><state state="open" reason="response" reason_ttl="114" /><service name="X509" banner="MIIB"></service></port></ports></host>
<host endtime="1524396452"><address addr="192.0.2.1" addrtype="ipv4"/><ports><port protocol="tcp" portid="139"><state state="open" reason="response" reason_ttl="114" /><service name="smb" banner="SMBv1 x"></service></port></ports></host>
<runstats>
<finished time="1524396460" timestr="2018-04-22 13:27:40" elapsed="12" />
<hosts up="3" down="0" total="3" />
</runstats>
</nmaprun>
"#;
        let (hosts, info) = parse(doc);
        assert_eq!(info.scanner.as_deref(), Some("masscan"));
        let hosts: Vec<Host> = hosts.into_iter().map(Result::unwrap).collect();
        assert_eq!(hosts.len(), 3);
        assert_eq!(hosts[0].starttime, hosts[0].endtime);
        assert_eq!(hosts[0].state.as_deref(), Some("up"));
        let v = serde_json::to_value(&hosts[0]).unwrap();
        assert_eq!(
            v["ports"][0]["scripts"][0],
            json!({"id": "banner", "output": "SSH-2.0-OpenSSH_8.4",
                   "masscan": {"raw": "U1NILTIuMC1PcGVuU1NIXzguNA0KAAE=", "encoded": "SSH-2.0-OpenSSH_8.4\\x0d\\x0a\\x00\\x01"}})
        );
        let v = serde_json::to_value(&hosts[1]).unwrap();
        assert_eq!(v["ports"][0]["service_tunnel"], "ssl");
        assert_eq!(v["ports"][0]["scripts"][0]["id"], "ssl-cert");
        assert_eq!(v["ports"][0]["scripts"][0]["output"], "MIIB");
        let v = serde_json::to_value(&hosts[2]).unwrap();
        assert_eq!(v["ports"][0]["service_name"], "netbios-ssn");
        assert_eq!(v["ports"][0]["scripts"][0]["id"], "smb-os-discovery");
    }

    #[test]
    fn entities_are_refused() {
        let bomb = r#"<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
]>
<nmaprun scanner="nmap"><host><address addr="192.0.2.1" addrtype="ipv4"/><hostnames><hostname name="&lol2;"/></hostnames></host></nmaprun>"#;
        let (out, _) = parse(bomb);
        assert_eq!(out.len(), 1);
        let e = out[0].as_ref().unwrap_err();
        assert_eq!(e.kind, ParseErrorKind::Entity);
        assert_eq!(e.line, 2);
        // a custom entity reference without a declaration
        let doc = "<nmaprun scanner=\"nmap\">\n<host><address addr=\"192.0.2.1\" addrtype=\"ipv4\"/>\n<hostnames><hostname name=\"&ext;\"/></hostnames></host></nmaprun>";
        let (out, _) = parse(doc);
        let e = out[0].as_ref().unwrap_err();
        assert_eq!(e.kind, ParseErrorKind::Entity, "{e}");
        assert_eq!(e.line, 3, "{e}");
        // in text
        let doc = "<nmaprun scanner=\"nmap\"><host><address addr=\"192.0.2.1\" addrtype=\"ipv4\"/><ports><port protocol=\"tcp\" portid=\"1\"><script id=\"x\" output=\"\"><elem>&ext;</elem></script></port></ports></host></nmaprun>";
        let (out, _) = parse(doc);
        assert_eq!(out[0].as_ref().unwrap_err().kind, ParseErrorKind::Entity);
        // predefined and character references are fine
        let doc = "<nmaprun scanner=\"nmap\"><host><address addr=\"192.0.2.1\" addrtype=\"ipv4\"/><ports><port protocol=\"tcp\" portid=\"1\"><script id=\"x\" output=\"a&amp;b&#xa;&lt;\"/></port></ports></host></nmaprun>";
        let (out, _) = parse(doc);
        let h = out[0].as_ref().unwrap();
        assert_eq!(
            h.ports.as_ref().unwrap()[0].scripts.as_ref().unwrap()[0].output,
            "a&b\n<"
        );
    }

    #[test]
    fn errors_have_places() {
        let doc = "<nmaprun scanner=\"nmap\">\n<host>\n  <address addr=\"192.0.2.1\" addrtype=\"ipv4\"/>\n  <ports><port protocol=\"tcp\" portid=\"1\"></ports>\n</host></nmaprun>";
        let (out, _) = parse(doc);
        let e = out.last().unwrap().as_ref().unwrap_err();
        assert_eq!(e.kind, ParseErrorKind::Syntax, "{e}");
        assert_eq!(e.line, 4, "{e}");
        let (out, _) = parse("<foo/>");
        assert_eq!(out[0].as_ref().unwrap_err().kind, ParseErrorKind::Format);
        let (out, _) = parse("<nmaprun scanner=\"nmap\"><host><address addr=\"192.0.2.1\" addrtype=\"ipv4\"/></host>");
        assert!(out[0].is_ok());
        assert_eq!(out[1].as_ref().unwrap_err().kind, ParseErrorKind::Truncated);
        let (out, _) = parse("<nmaprun scanner=\"nmap\"><host><address addr=\"192.0.2.1\" addrt");
        assert_eq!(out[0].as_ref().unwrap_err().kind, ParseErrorKind::Truncated);
        // a bad time or address is an error about that host only
        let (out, _) = parse("<nmaprun scanner=\"nmap\"><host starttime=\"x\"><address addr=\"192.0.2.2\" addrtype=\"ipv4\"/></host><host><address addr=\"192.0.2.1\" addrtype=\"ipv4\"/></host></nmaprun>");
        assert_eq!(out.len(), 2);
        assert_eq!(out[0].as_ref().unwrap_err().kind, ParseErrorKind::Format);
        assert_eq!(out[1].as_ref().unwrap().addr, "192.0.2.1");
        let (out, _) = parse("<nmaprun scanner=\"nmap\"><host><address addr=\"x\" addrtype=\"ipv4\"/></host><host><address addr=\"192.0.2.1\" addrtype=\"ipv4\"/></host></nmaprun>");
        assert_eq!(out.len(), 2);
        assert_eq!(out[0].as_ref().unwrap_err().kind, ParseErrorKind::Format);
        assert!(out[1].is_ok());
    }
}
