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
    ("ipinfo", "query the passive purpose"),
    (
        "iphost",
        "passive DNS: names seen for an address, addresses seen for a name",
    ),
    (
        "db",
        "the private PostgreSQL cluster: status, start, stop, psql, destroy",
    ),
];
