//! `ivre-getmoduli` over the Masscan X.509 sample (IVRE corpus) and the
//! Zeek passive fixture: moduli match `openssl x509 -modulus`, keys shared
//! by several servers are grouped, the source flags select.

use crate::common::{data, sample, stderr, stdout, tool, TestDb};

/// `openssl x509 -noout -modulus` (OpenSSL 3) of the certificate the
/// sample holds for 81.5.150.60:443, lower-cased.
const MODULUS_81_5_150_60: &str = "9314693441d1dfc3178630a92eb45d3f5439e65668db2b670a6b8118af0635fa7b8f7543f3d4cd5c559463c7e6a2452235e7d08d7d5608b77511da89c5b7cb191ebed4082daff28f73ad155a8bb2f317428276dafa37f441e40e8e53bb2659ef9c49baf48c0962ac855139293fdfc18eadee5c33d7260af28a39de5f5a50418d671b998741cb583abb549aa44ef17636acac4a61ee972d5bff13145095b0a22d28002e29cc15f5bf456b58fc51810d242905099734637ac8ee24d718b918227f7bc3192b1b44f48f3a06a2e829928eb4ab5ce9bf9d1a1c8c57daeb43db19ba4e2f40781be9283cf57dacf928e773ba2fb3fbb1cd6e42eb84bbc42f6d0dcc1cc7";

fn imported() -> TestDb {
    let db = TestDb::new();
    let out = tool(
        "ivre-scan2db",
        &db,
        &["-c", "T", "-s", "S", &sample("test-T443.xml.bz2")],
        None,
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let log = data("passive/zeek/passive_recon.log");
    let out = tool(
        "ivre-passiverecon2db",
        &db,
        &["-s", "TEST", log.to_str().unwrap()],
        None,
    );
    assert!(out.status.success(), "{}", stderr(&out));
    db
}

fn lines(db: &TestDb, args: &[&str]) -> Vec<String> {
    let out = tool("ivre-getmoduli", db, args, None);
    assert!(out.status.success(), "{}", stderr(&out));
    stdout(&out).lines().map(str::to_owned).collect()
}

#[test]
fn moduli_of_certificates_and_ssh_keys() {
    let db = imported();
    let active = lines(&db, &["-a"]);
    // 48 certificates, 38 distinct keys.
    assert_eq!(active.len(), 38);
    let total: usize = active
        .iter()
        .map(|l| l.split(' ').nth(1).unwrap().parse::<usize>().unwrap())
        .sum();
    assert_eq!(total, 48);
    assert!(
        active.contains(&format!("{MODULUS_81_5_150_60} 1 81.5.150.60:443")),
        "{active:?}"
    );
    assert!(active.iter().any(|l| l.ends_with(
        " 4 187.139.59.18:443,187.220.9.150:443,187.233.158.27:443,189.177.130.25:443"
    )));
    let mut sorted = active.clone();
    sorted.sort();
    assert_eq!(sorted, active, "modulus order");
    assert_eq!(lines(&db, &["-p"]).len(), 11);
    let ssh = lines(&db, &["-s", "--json"]);
    assert_eq!(ssh.len(), 1);
    let v: serde_json::Value = serde_json::from_str(&ssh[0]).unwrap();
    assert_eq!(v["servers"][0]["source"], "passive-ssh");
    // The key's infos say 1024 bits.
    assert_eq!(v["modulus"].as_str().unwrap().len() * 4, 1024);
    assert!(lines(&db, &["-A"]).is_empty());
    assert_eq!(lines(&db, &[]).len(), 50);
    let only = lines(&db, &["--moduli-only", "-a"]);
    assert_eq!(only.len(), 38);
    assert!(only
        .iter()
        .all(|m| m.bytes().all(|b| b.is_ascii_hexdigit())));
}
