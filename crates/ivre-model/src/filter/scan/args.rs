//! IVRE's argument syntax of the scan flags (`--product [SVC:]PROD[:PORT]`,
//! `--script ID[:OUTPUT]`, `--cpe`, `--httphdr`, `--file`, positional
//! addresses), parsed into scan filters.

use super::named::{file, httphdr};
use super::{cpe, script, service_query, CpeCond, ScanFilter};
use crate::filter::addr::AddrCond;
use crate::filter::service::ServiceQuery;
use crate::filter::value::{split_colons, str2regexp, Match};
use crate::filter::FilterError;

/// A positional address argument: `IP`, `A-B`, `CIDR` or an integer.
pub fn address_arg(s: &str) -> Result<ScanFilter, FilterError> {
    Ok(super::addr_cond(AddrCond::parse_arg(s)?))
}

/// `--service SVC[:PORT]`.
pub fn service_arg(s: &str) -> Result<ScanFilter, FilterError> {
    Ok(service_query(ServiceQuery::service_arg(s)?))
}

/// `--product [SVC:]PROD[:PORT]`.
pub fn product_arg(s: &str) -> Result<ScanFilter, FilterError> {
    Ok(service_query(ServiceQuery::product_arg(s)?))
}

/// `--prodversion VERSION | PROD:VERSION | SVC:PROD:VERSION[:PORT]`.
pub fn version_arg(s: &str) -> Result<ScanFilter, FilterError> {
    Ok(service_query(ServiceQuery::version_arg(s)?))
}

/// `cpe:TYPE:VENDOR:PRODUCT:VERSION` (any prefix, `cpe:/` accepted, each part str2regexp).
pub fn cpe_arg(s: &str) -> Result<ScanFilter, FilterError> {
    let s = s
        .strip_prefix("cpe:/")
        .or_else(|| s.strip_prefix("cpe:2.3:"))
        .or_else(|| s.strip_prefix("cpe:"))
        .unwrap_or(s);
    let parts = split_colons(s);
    let get = |i: usize| -> Result<Option<Match>, FilterError> {
        parts
            .get(i)
            .filter(|p| !p.is_empty() && **p != "*")
            .map(|p| str2regexp(p))
            .transpose()
    };
    Ok(cpe(CpeCond {
        cpe_type: get(0)?,
        vendor: get(1)?,
        product: get(2)?,
        version: get(3)?,
    }))
}

/// `--script ID[:OUTPUT]`, both parts str2regexp.
pub fn script_arg(s: &str) -> Result<ScanFilter, FilterError> {
    let parts = split_colons(s);
    let (name, out) = match parts.len() {
        1 => (parts[0], None),
        _ => (parts[0], Some(s[parts[0].len() + 1..].to_string())),
    };
    Ok(script(
        Some(str2regexp(name)?),
        out.map(|o| str2regexp(&o)).transpose()?,
    ))
}

pub fn httphdr_arg(s: Option<&str>) -> Result<ScanFilter, FilterError> {
    let Some(s) = s.filter(|s| !s.is_empty()) else {
        return Ok(httphdr(None, None));
    };
    let parts = split_colons(s);
    let name = str2regexp(parts[0])?;
    let value = if parts.len() > 1 {
        Some(str2regexp(&s[parts[0].len() + 1..])?)
    } else {
        None
    };
    Ok(httphdr(Some(name), value))
}

/// `--file [SCRIPTS:]NAME`.
pub fn file_arg(s: &str) -> Result<ScanFilter, FilterError> {
    let parts = split_colons(s);
    Ok(match parts.as_slice() {
        [n] => file(Some(str2regexp(n)?), None),
        [sc, n] => file(
            Some(str2regexp(n)?),
            Some(sc.split(',').map(str::to_string).collect()),
        ),
        _ => return Err(FilterError(format!("invalid file filter {s:?}"))),
    })
}

#[cfg(test)]
mod tests {
    use super::super::ScanLeaf;
    use super::*;
    use crate::filter::value::{ex, re, rei};
    use crate::filter::Filter;

    #[test]
    fn product_syntax() {
        let f = product_arg("http:Apache httpd:80").unwrap();
        let Filter::Leaf(ScanLeaf::Port(c)) = f else {
            panic!()
        };
        assert_eq!(c.service, Some(ex("http")));
        assert_eq!(c.product, Some(ex("Apache httpd")));
        assert_eq!(c.port, Some(80));
        let f = product_arg("/^apa/i").unwrap();
        let Filter::Leaf(ScanLeaf::Port(c)) = f else {
            panic!()
        };
        assert_eq!(c.product, Some(rei("^apa")));
        assert_eq!(c.service, None);
    }

    #[test]
    fn script_syntax() {
        let f = script_arg("http-robots.txt:/cgi-bin/").unwrap();
        let Filter::Leaf(ScanLeaf::Script(c)) = f else {
            panic!()
        };
        assert_eq!(c.name, Some(ex("http-robots.txt")));
        assert_eq!(c.output, Some(re("cgi-bin")));
    }

    #[test]
    fn addresses() {
        assert!(matches!(
            address_arg("10.0.0.1-10.0.0.9").unwrap(),
            Filter::Leaf(ScanLeaf::Addr(AddrCond::Range(..)))
        ));
        assert!(matches!(
            address_arg("10.0.0.0/8").unwrap(),
            Filter::Leaf(ScanLeaf::Addr(AddrCond::Net(_, 8)))
        ));
        assert!(matches!(
            address_arg("::1").unwrap(),
            Filter::Leaf(ScanLeaf::Addr(AddrCond::Host(_)))
        ));
        assert!(address_arg("10.0.0.0/33").is_err());
    }
}
