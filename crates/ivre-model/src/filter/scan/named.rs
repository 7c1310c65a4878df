//! IVRE's named scan searches: structured script data (certificates, SSH
//! keys, HASSH, HTTP headers, file listings, vulnerabilities, ...) and the
//! canned queries (`--anonftp`, `--owa`, `--webmin`, ...).

use super::{
    data_script, devicetype, keys, port_cond, port_state, product, script, script_cond, DataCond,
    PortCond, ScanFilter, ScanLeaf, ScriptCond, ScriptPort,
};
use crate::filter::addr::AddrCond;
use crate::filter::cert::CertQuery;
use crate::filter::search::CommonSearch;
use crate::filter::service::ServiceQuery;
use crate::filter::value::{ex, path, re, regex_escape, rei, Match, Regex, ValueCond};
use crate::filter::{Filter, FilterError};

pub fn netdev() -> ScanFilter {
    devicetype(Match::AnyOf(
        [
            "bridge",
            "broadband router",
            "firewall",
            "hub",
            "load balancer",
            "proxy server",
            "router",
            "switch",
            "WAP",
        ]
        .map(String::from)
        .to_vec(),
    ))
}

pub fn phonedev() -> ScanFilter {
    devicetype(Match::AnyOf(
        ["PBX", "phone", "telecom-misc", "VoIP adapter", "VoIP phone"]
            .map(String::from)
            .to_vec(),
    ))
}

pub fn webcam() -> ScanFilter {
    devicetype(ex("webcam"))
}

pub fn cert(q: CertQuery) -> ScanFilter {
    let script_id = if q.cacert { "ssl-cacert" } else { "ssl-cert" };
    let conds = q
        .conditions()
        .into_iter()
        .map(|(p, c)| (path(p), c))
        .collect();
    data_script(script_id, ScriptPort::Any, "ssl-cert[]", conds)
}

/// A certificate hash, the kind chosen by its length.
pub fn cert_hash(h: &str, cacert: bool) -> Result<ScanFilter, FilterError> {
    Ok(cert(CertQuery::for_hash(h, cacert)?))
}

/// Certificates issued by what TOR uses (`www.<random>.net|com` subjects and issuers).
pub fn torcert() -> ScanFilter {
    cert(CertQuery {
        subject: Some(re("^commonName=www\\.[a-z2-7]{8,20}\\.net$")),
        issuer: Some(re("^commonName=www\\.[a-z2-7]{8,20}\\.(com|net)$")),
        ..Default::default()
    })
}

pub fn sshkey(
    fingerprint: Option<Match>,
    key: Option<Match>,
    keytype: Option<Match>,
    bits: Option<i64>,
) -> ScanFilter {
    let mut conds = Vec::new();
    if let Some(f) = fingerprint {
        let f = match f {
            Match::Exact(s) => Match::Exact(s.replace(':', "").to_lowercase()),
            m => m,
        };
        conds.push((path(&["fingerprint"]), ValueCond::Str(f)));
    }
    if let Some(k) = key {
        conds.push((path(&["key"]), ValueCond::Str(k)));
    }
    if let Some(t) = keytype {
        let t = match t {
            Match::Exact(s) if !s.starts_with("ssh-") && !s.starts_with("ecdsa") => {
                Match::Exact(format!("ssh-{s}"))
            }
            m => m,
        };
        conds.push((path(&["type"]), ValueCond::Str(t)));
    }
    if let Some(b) = bits {
        conds.push((path(&["bits"]), ValueCond::Int(b)));
    }
    data_script("ssh-hostkey", ScriptPort::Any, "ssh-hostkey[]", conds)
}

/// `searchhassh(value, server)`: a raw HASSH string (MD5-hashed when it is
/// not a hash), an MD5/SHA-1/SHA-256 hash, or a regex on the raw value.
/// `server`: Some(true) = a real port, Some(false) = a host script (client).
pub fn hassh(value: Option<Match>, server: Option<bool>) -> ScanFilter {
    let port = match server {
        None => ScriptPort::Any,
        Some(true) => ScriptPort::Service,
        Some(false) => ScriptPort::Host,
    };
    let cond = match value {
        None => (path(&[]), ValueCond::Exists),
        Some(Match::Exact(v)) => {
            let lower = v.to_lowercase();
            let is_hex = !lower.is_empty() && lower.bytes().all(|b| b.is_ascii_hexdigit());
            match (is_hex, lower.len()) {
                (true, 32) => (path(&["md5"]), ValueCond::Str(Match::Exact(lower))),
                (true, 40) => (path(&["sha1"]), ValueCond::Str(Match::Exact(lower))),
                (true, 64) => (path(&["sha256"]), ValueCond::Str(Match::Exact(lower))),
                _ => (path(&["raw"]), ValueCond::Str(Match::Exact(v))),
            }
        }
        Some(m) => (path(&["raw"]), ValueCond::Str(m)),
    };
    data_script("ssh2-enum-algos", port, "ssh2-enum-algos.hassh", vec![cond])
}

/// `--httphdr [NAME[:VALUE]]` (the name is lower-cased).
pub fn httphdr(name: Option<Match>, value: Option<Match>) -> ScanFilter {
    let mut conds = Vec::new();
    if let Some(n) = name {
        conds.push((path(&["name"]), ValueCond::Str(n.lowercase())));
    }
    if let Some(v) = value {
        conds.push((path(&["value"]), ValueCond::Str(v)));
    }
    if conds.is_empty() {
        return script(Some(ex("http-headers")), None);
    }
    data_script("http-headers", ScriptPort::Any, "http-headers[]", conds)
}

pub fn httpapp(name: Option<Match>, version: Option<Match>) -> ScanFilter {
    let mut conds = Vec::new();
    if let Some(n) = name {
        conds.push((path(&["application"]), ValueCond::Str(n)));
    }
    if let Some(v) = version {
        conds.push((path(&["version"]), ValueCond::Str(v)));
    }
    if conds.is_empty() {
        return script(Some(ex("http-app")), None);
    }
    data_script("http-app", ScriptPort::Any, "http-app[]", conds)
}

pub fn httptitle(m: Match) -> ScanFilter {
    script(
        Some(Match::AnyOf(vec!["http-title".into(), "html-title".into()])),
        Some(m),
    )
}

pub fn cookie(name: &str) -> ScanFilter {
    script(
        Some(ex("http-headers")),
        Some(Match::Regex(Regex {
            pattern: format!("^ *Set-Cookie: {}=", regex_escape(name)),
            flags: "mi".into(),
        })),
    )
}

/// ls-style file listings (ftp-anon, http-ls, nfs-ls, smb-ls, afp-ls).
pub fn file(name: Option<Match>, scripts: Option<Vec<String>>) -> ScanFilter {
    let conds = match name {
        Some(m) => vec![(path(&["filename"]), ValueCond::Str(m))],
        None => vec![(path(&["filename"]), ValueCond::Exists)],
    };
    script_cond(ScriptCond {
        name: scripts.map(Match::AnyOf),
        output: None,
        port: ScriptPort::Any,
        data: Some(DataCond {
            path: keys("ls.volumes[].files[]"),
            conds,
        }),
    })
}

/// Files typical of a web application in listings (readable or writable web
/// files often lead to code execution).
pub fn webfiles() -> ScanFilter {
    file(
        Some(rei(
            "vhost|www|web\\.config|\\.htaccess|\\.([aj]sp|php|html?|js|css)",
        )),
        None,
    )
}

pub fn vuln(id: Option<Match>, state: Option<Match>) -> ScanFilter {
    let mut conds = Vec::new();
    if let Some(i) = id {
        conds.push((path(&["id"]), ValueCond::Str(i)));
    }
    if let Some(s) = state {
        conds.push((path(&["state"]), ValueCond::Str(s)));
    }
    if conds.is_empty() {
        conds.push((path(&["id"]), ValueCond::Exists));
    }
    script_cond(ScriptCond {
        data: Some(DataCond {
            path: keys("vulns[]"),
            conds,
        }),
        ..Default::default()
    })
}

// ----- the canned queries --------------------------------------------------

pub fn anonftp() -> ScanFilter {
    script(
        Some(ex("ftp-anon")),
        Some(re("^Anonymous FTP login allowed")),
    )
}

pub fn anonldap() -> ScanFilter {
    port_cond(PortCond {
        extrainfo: Some(ex("Anonymous bind OK")),
        ..Default::default()
    })
}

/// HTTP default credentials found (http-default-accounts).
pub fn authhttp() -> ScanFilter {
    script(
        Some(ex("http-default-accounts")),
        Some(re("credentials found")),
    )
}

pub fn authbypassvnc() -> ScanFilter {
    script(Some(ex("realvnc-auth-bypass")), None)
}

/// NIS servers (ypserv in the RPC listing).
pub fn nis() -> ScanFilter {
    script(Some(ex("rpcinfo")), Some(re("ypserv")))
}

/// NFS servers (nfs in the RPC listing).
pub fn nfs() -> ScanFilter {
    script(Some(ex("rpcinfo")), Some(re("nfs")))
}

/// X11 servers that do not deny access.
pub fn x11() -> ScanFilter {
    port_cond(PortCond {
        service: Some(ex("X11")),
        extrainfo: Some(Match::NotExact("access denied".into())),
        ..Default::default()
    })
}

/// X11 servers granting access (x11-access).
pub fn x11access() -> ScanFilter {
    script(
        Some(ex("x11-access")),
        Some(ex("X server access is granted")),
    )
}

/// Windows XP hosts with 445/tcp open.
pub fn xp445() -> ScanFilter {
    port_state("tcp", 445, Some("open")).and(script(
        Some(ex("smb-os-discovery")),
        Some(re("Windows 5\\.1")),
    ))
}

/// Outlook Web Access: OWA paths or headers in HTTP scripts, or its title.
pub fn owa() -> ScanFilter {
    script(
        Some(Match::AnyOf(
            [
                "http-headers",
                "http-auth-finder",
                "http-title",
                "html-title",
            ]
            .map(String::from)
            .to_vec(),
        )),
        Some(rei("[ /](owa|exchweb)|X-OWA-Version|Outlook Web A")),
    )
}

/// phpMyAdmin (its cookie).
pub fn phpmyadmin() -> ScanFilter {
    cookie("phpMyAdmin")
}

/// Webmin's MiniServ on an http port that Nmap did not label "Webmin httpd".
pub fn webmin() -> ScanFilter {
    port_cond(PortCond {
        service: Some(ex("http")),
        product: Some(ex("MiniServ")),
        extrainfo: Some(Match::NotExact("Webmin httpd".into())),
        ..Default::default()
    })
}

pub fn vsftpdbackdoor() -> ScanFilter {
    product(Some(ex("vsftpd")), Some(ex("2.3.4")), None, None).or(script(
        Some(ex("ftp-vsftpd-backdoor")),
        Some(re("VULNERABLE")),
    ))
}

/// Boa web server 0.93 to 0.94.11 (Intersil).
pub fn vuln_boa() -> ScanFilter {
    product(
        Some(ex("Boa HTTPd")),
        Some(re("^0\\.9(3([^0-9]|$)|4\\.([0-9]|1[01])$)")),
        None,
        None,
    )
}

pub fn geovision() -> ScanFilter {
    product(Some(re("^GeoVision")), None, None, None)
}

pub fn mssqlemptypwd() -> ScanFilter {
    script(Some(ex("ms-sql-empty-password")), Some(re("Login Success")))
}

pub fn mysqlemptypwd() -> ScanFilter {
    script(
        Some(ex("mysql-empty-password")),
        Some(re("account has empty password")),
    )
}

/// A banner (Masscan or Nmap `banner` script) matching.
pub fn banner(m: Match) -> ScanFilter {
    script(Some(ex("banner")), Some(m))
}

pub fn jarm(m: Option<Match>) -> ScanFilter {
    script(Some(ex("ssl-jarm")), m)
}

pub fn useragent(m: Option<Match>) -> ScanFilter {
    script(Some(ex("http-user-agent")), m)
}

pub fn smb(key: &str, value: Match) -> ScanFilter {
    data_script(
        "smb-os-discovery",
        ScriptPort::Any,
        "smb-os-discovery",
        vec![(path(&[key]), ValueCond::Str(value))],
    )
}

pub fn ntlm(key: &str, value: Match) -> ScanFilter {
    data_script(
        "ntlm-info",
        ScriptPort::Any,
        "ntlm-info",
        vec![(path(&[key]), ValueCond::Str(value))],
    )
}

impl CommonSearch for ScanLeaf {
    fn addr(c: AddrCond) -> ScanLeaf {
        ScanLeaf::Addr(c)
    }
    fn id(ids: Vec<i64>) -> ScanFilter {
        Filter::Leaf(ScanLeaf::Id(ids))
    }
    fn schema_version(v: i64) -> ScanFilter {
        Filter::Leaf(ScanLeaf::SchemaVersion(v))
    }
    fn category(m: Match) -> ScanFilter {
        super::category(m)
    }
    fn port(spec: &str) -> Result<ScanFilter, FilterError> {
        super::port(spec)
    }
    fn service(q: ServiceQuery) -> Result<ScanFilter, FilterError> {
        Ok(super::service_query(q))
    }
    fn svchostname(m: Match) -> ScanFilter {
        super::svchostname(m)
    }
    fn useragent(m: Option<Match>) -> ScanFilter {
        useragent(m)
    }
    fn cert_hash(hash: &str, cacert: bool) -> Result<ScanFilter, FilterError> {
        cert_hash(hash, cacert)
    }
    fn torcert() -> ScanFilter {
        torcert()
    }
    fn sshkey(fingerprint: Match) -> ScanFilter {
        sshkey(Some(fingerprint), None, None, None)
    }
    fn hassh(m: Option<Match>, server: Option<bool>) -> ScanFilter {
        hassh(m, server)
    }
    fn banner(m: Match) -> ScanFilter {
        banner(m)
    }
    fn timeago(seconds: f64) -> ScanFilter {
        super::timeago(seconds)
    }
}
