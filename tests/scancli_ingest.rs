//! IVRE's expected values for its ten sample files (spec scans.md §5.2 and
//! §5 item 12), over the records our own `ivre-scan2db --port -c TEST -s
//! SOURCE` stores for those files (tests/scancli.rs checks the same values
//! over IVRE's golden records). One test per value.

use crate::common::*;
use std::sync::OnceLock;

fn ingested() -> &'static TestDb {
    static DB: OnceLock<TestDb> = OnceLock::new();
    DB.get_or_init(|| {
        let db = TestDb::new();
        let out = import_samples(&db);
        assert!(out.status.success(), "{}", stderr(&out));
        db
    })
}

fn count(args: &[&str]) -> i64 {
    let mut a = vec!["--count"];
    a.extend_from_slice(args);
    let out = tool("ivre-scancli", ingested(), &a, None);
    assert!(out.status.success(), "{a:?}: {}", stderr(&out));
    stdout(&out).trim().parse().expect("a number")
}

macro_rules! expect_count {
    ($($name:ident: [$($arg:expr),*] => $n:expr;)*) => {
        $(
            #[test]
            fn $name() {
                assert_eq!(count(&[$($arg),*]), $n);
            }
        )*
    };
}

expect_count! {
    records_945: [] => 945;
    port_80_is_299: ["--port", "80"] => 299;
    neither_80_nor_443_is_562: ["--not-port", "80", "--not-port", "443"] => 562;
    service_http_is_445: ["--service", "http"] => 445;
    service_ssh_is_200: ["--service", "ssh"] => 200;
    service_imap_is_10: ["--service", "imap"] => 10;
    service_imap_or_ssh_is_207: ["--service", "/^(imap|ssh)$/"] => 207;
    robots_txt_is_52: ["--script", "http-robots.txt"] => 52;
    robots_txt_cgi_bin_is_4: ["--script", "http-robots.txt:/cgi-bin/"] => 4;
    robots_or_ftp_anon_is_72: ["--script", "/^(http-robots\\.txt|ftp-anon)$/"] => 72;
    anonymous_ftp_is_20: ["--anonftp"] => 20;
    countports_20_20_is_1: ["--countports", "20", "20"] => 1;
    countports_10_100_is_118: ["--countports", "10", "100"] => 118;
    domain_com_is_64: ["--domain", "com"] => 64;
    not_domain_com_is_881: ["--no-domain", "com"] => 881;
    neither_com_nor_net_is_795: ["--no-domain", "com", "--no-domain", "net"] => 795;
    domain_lab_is_15: ["--domain", "lab"] => 15;
    httphdr_is_450: ["--httphdr"] => 450;
    httphdr_content_type_is_435: ["--httphdr", "content-type"] => 435;
    httphdr_text_plain_is_13: ["--httphdr", "content-type:text/plain"] => 13;
    httphdr_plain_regex_is_14: ["--httphdr", "content-type:/plain/i"] => 14;
    hassh_is_121: ["--hassh"] => 121;
    hassh_server_is_121: ["--hassh-server"] => 121;
    hassh_client_is_0: ["--hassh-client"] => 0;
    hassh_server_diffie_hellman_is_89: ["--hassh-server", "/^diffie-hellman/"] => 89;
    http_title_is_438: ["--script", "http-title"] => 438;
    s7_info_is_43: ["--script", "s7-info"] => 43;
}

#[test]
fn short_lists_926_addresses() {
    let out = tool("ivre-scancli", ingested(), &["--short"], None);
    assert!(out.status.success());
    assert_eq!(stdout(&out).lines().count(), 926);
}

/// 106: the old IVRE JSON file is migrated like IVRE's schema 20, which
/// removes the fake port 443 of two SYN-ACK honeypots (989 open ports each).
#[test]
fn ports_80_and_443_is_106() {
    assert_eq!(count(&["--port", "80", "--port", "443"]), 106);
    assert_eq!(count(&["--tag", "Honeypot"]), 3);
}
