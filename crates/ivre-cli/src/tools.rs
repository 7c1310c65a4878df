//! The tools of the suite, as `ivre help` lists them.

/// `(name without the ivre- prefix, one-line description)`.
pub const TOOLS: &[(&str, &str)] = &[
    (
        "scan2db",
        "import Nmap / Masscan XML and IVRE JSON scan results",
    ),
    (
        "scancli",
        "query the scan results (filters, counts, top values, exports)",
    ),
    (
        "runscans",
        "run Nmap over networks, ranges, files or random routable addresses",
    ),
    (
        "db2view",
        "build the view: one record per address from scans and passive data",
    ),
    (
        "view",
        "query the view (every scancli filter and output, --country, --asnum)",
    ),
    (
        "ipdata",
        "look up addresses in MaxMind GeoIP databases (country, city, AS)",
    ),
    (
        "passiverecon2db",
        "import Zeek passive_recon logs into the passive purpose",
    ),
    ("p0f2db", "import p0f v3 logs into the passive purpose"),
    (
        "airodump2db",
        "import airodump-ng CSV files into the passive purpose",
    ),
    (
        "weblog2db",
        "import Apache / Nginx access logs (user agents) into the passive purpose",
    ),
    (
        "arp2db",
        "import the ARP packets of pcap captures (IP-MAC pairs) into the passive purpose",
    ),
    ("ipinfo", "query the passive purpose"),
    (
        "iphost",
        "passive DNS: names seen for an address, addresses seen for a name",
    ),
    (
        "zeek2db",
        "import Zeek logs (conn.log and protocol logs) into the flow purpose",
    ),
    (
        "flow2db",
        "import NetFlow (nfdump), Argus and iptables flows into the flow purpose",
    ),
    (
        "flowcli",
        "query the flows (counts, listings, top values, graphs)",
    ),
    (
        "auditdom",
        "audit DNS domains (zone transfers, consistency, MX, TLS-RPT) as XML / JSON for scan2db",
    ),
    (
        "getmoduli",
        "RSA moduli of the stored TLS certificates and SSH host keys (batch GCD input)",
    ),
    (
        "httpd",
        "serve IVRE's web API (/cgi/...) with API keys and access control",
    ),
    (
        "ipcalc",
        "convert between addresses, ranges, networks (CIDR) and integers",
    ),
    ("sort", "sort lines by IP address"),
    (
        "macinfo",
        "MAC addresses seen by the passive purpose, and their vendors",
    ),
    (
        "rirlookup",
        "RIR whois dumps (RPSL): the registered range of an address, searches",
    ),
    (
        "iprange",
        "addresses of a country, an AS, a network, a range or a file (CIDRs, ranges, counts)",
    ),
    (
        "db",
        "the private PostgreSQL cluster: status, start, stop, psql, destroy",
    ),
];
