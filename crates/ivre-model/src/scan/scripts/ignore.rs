//! Scripts that IVRE drops at ingest: outputs that carry no information
//! (failures, timeouts, "nothing found" messages). Keeping them would only
//! make `--top script` and filters on script presence lie.

use regex::Regex;
use std::sync::OnceLock;

/// Outputs that mean "nothing" whatever the script.
const GENERIC: &[&str] = &[
    "",
    "\n",
    "\n\n",
    "Unable to open connection",
    "false",
    "TIMEOUT",
    "ERROR",
];

/// Per-script outputs that mean "nothing learned".
const PER_SCRIPT: &[(&str, &str)] = &[
    ("fcrdns", "FAIL (No PTR record)"),
    ("ssl-date", "TLS randomness does not represent time"),
    ("http-headers", "\n  (Request type: HEAD)\n"),
    ("http-headers", "\n  (Request type: GET)\n"),
    ("http-headers", "\n  \n  (Request type: HEAD)\n"),
    ("http-headers", "\n  \n  (Request type: GET)\n"),
    ("http-mobileversion-checker", "No mobile version detected."),
    (
        "http-referer-checker",
        "Couldn't find any cross-domain scripts.",
    ),
    ("http-email-harvest", "\nSpidering limited to: maxdepth=3; maxpagecount=20\n"),
    ("http-php-version", "Logo query returned unknown hash"),
    (
        "http-php-version",
        "Credits query returned unknown hash",
    ),
    (
        "http-php-version",
        "Logo query returned unknown hash\nCredits query returned unknown hash",
    ),
    ("http-stored-xss", "Couldn't find any stored XSS vulnerabilities."),
    ("http-dombased-xss", "Couldn't find any DOM based XSS."),
    ("http-csrf", "Couldn't find any CSRF vulnerabilities."),
    ("http-sql-injection", "Couldn't find any SQL injection."),
    ("http-git", "\n  ERROR: Could not parse /.git/HEAD\n"),
    (
        "http-default-accounts",
        "[ERROR] HTTP request table is empty. This should not happen since we at least made one request.",
    ),
    ("http-wordpress-plugins", "nothing found"),
    ("http-vhosts", "\n127 names had status 200"),
    ("mcafee-epo-agent", "ePO Agent not found"),
    ("ftp-bounce", "no banner"),
    (
        "telnet-encryption",
        "\n  ERROR: Failed to send packet: TIMEOUT",
    ),
    ("sip-methods", "ERROR: Failed to receive response"),
    ("smb-mbenum", "\n  ERROR: Failed to connect to browser service: No accounts left to try"),
    ("smb-os-discovery", "No accounts left to try"),
    ("smb-security-mode", "\n  ERROR: No accounts left to try"),
    ("ssl-known-key", "No keys found"),
    ("snmp-hh3c-logins", "\n  baseoid: 1.3.6.1.4.1.2011.10.2.12.1.1.1"),
];

fn generic_regexes() -> &'static [Regex] {
    static RE: OnceLock<Vec<Regex>> = OnceLock::new();
    RE.get_or_init(|| {
        [
            // The MD5 of empty content: a favicon or page that was empty.
            r"(?i)^\s*(Unknown favicon MD5: )?d41d8cd98f00b204e9800998ecf8427e\s*$",
            r"^\s*ERROR: ([^:\n]*: )?Failed to (connect to|receive response from|send)[^\n]*\s*$",
            r"^\s*ERROR: Script execution failed",
            r"^\s*(SMB|ERROR)[^\n]*TIMEOUT\s*$",
            r"^\s*ERROR: Failed to connect to [^\n]*\s*$",
        ]
        .iter()
        .map(|r| Regex::new(r).expect("static regex"))
        .collect()
    })
}

fn per_script_regexes() -> &'static [(&'static str, Regex)] {
    static RE: OnceLock<Vec<(&'static str, Regex)>> = OnceLock::new();
    RE.get_or_init(|| {
        [
            (
                "ms-sql-info",
                r"^\s*(ERROR: )?(Could not|Failed to|No login)[^\n]*\s*$",
            ),
            ("ms-sql-config", r"^\s*ERROR: Bad username or password\s*$"),
            ("ms-sql-dump-hashes", r"^\s*ERROR: [^\n]*\s*$"),
            ("ms-sql-empty-password", r"^\s*ERROR: [^\n]*\s*$"),
            ("ms-sql-hasdbaccess", r"^\s*ERROR: [^\n]*\s*$"),
            ("ms-sql-tables", r"^\s*ERROR: [^\n]*\s*$"),
            ("ms-sql-xp-cmdshell", r"^\s*ERROR: [^\n]*\s*$"),
            (
                "smtp-commands",
                r"^\s*(Couldn't establish connection on port \d+|Failed to connect)[^\n]*\s*$",
            ),
            (
                "smtp-open-relay",
                r"^\s*Server doesn't seem to be an open relay[^\n]*\s*$",
            ),
            ("dns-nsec-enum", r"^\s*No NSEC records found\s*$"),
            (
                "dns-nsec3-enum",
                r"^\s*(DNSSEC NSEC3 not supported|ERROR: [^\n]*)\s*$",
            ),
            ("http-vhosts", r"^\s*\d+ names? had status [^\n]*\s*$"),
            (
                "http-fileupload-exploiter",
                r"^\s*Couldn't find a file-type field\.\s*$",
            ),
            ("http-frontpage-login", r"^\s*$"),
            ("ssh2-enum-algos", r"^\s*ERROR: [^\n]*\s*$"),
            ("sshv1", r"^\s*Server does not support SSHv1\s*$"),
            ("ssl-cert", r"^\s*ERROR: [^\n]*\s*$"),
        ]
        .iter()
        .map(|(id, r)| (*id, Regex::new(r).expect("static regex")))
        .collect()
    })
}

/// True when IVRE drops this script at ingest. Screenshot scripts
/// (`*-screenshot`) are dropped too: the caller must extract their image first.
pub fn is_ignored(id: &str, output: &str) -> bool {
    if id.ends_with("-screenshot") {
        return true;
    }
    if GENERIC.contains(&output) {
        return true;
    }
    if PER_SCRIPT.iter().any(|(i, o)| *i == id && *o == output) {
        return true;
    }
    if generic_regexes().iter().any(|r| r.is_match(output)) {
        return true;
    }
    per_script_regexes()
        .iter()
        .any(|(i, r)| *i == id && r.is_match(output))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generic_and_specific() {
        assert!(is_ignored("banner", "TIMEOUT"));
        assert!(is_ignored("fcrdns", "FAIL (No PTR record)"));
        assert!(!is_ignored(
            "fcrdns",
            "\n  sso.tnu.edu.tw: \n    status: pass"
        ));
        assert!(is_ignored("http-headers", "\n  (Request type: HEAD)\n"));
        assert!(is_ignored(
            "http-favicon",
            "Unknown favicon MD5: D41D8CD98F00B204E9800998ECF8427E"
        ));
        assert!(is_ignored(
            "smb-mbenum",
            "\n  ERROR: Failed to connect to browser service: TIMEOUT"
        ));
        assert!(is_ignored("http-screenshot", "Saved to x.jpg"));
        assert!(!is_ignored(
            "smb-mbenum",
            "\n  ERROR: MSRPC: NetServerEnum2 call failed"
        ));
        assert!(!is_ignored(
            "smbv2-enabled",
            "Server supports SMBv2 protocol"
        ));
    }
}
