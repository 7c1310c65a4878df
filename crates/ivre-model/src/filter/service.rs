//! The service search (IVRE's `searchservice` / `searchproduct`), one shape
//! for every purpose, and the syntax of `--service SVC[:PORT]`, `--product
//! [SVC:]PROD[:PORT]` and `--prodversion [[SVC:]PROD:]VERSION[:PORT]`.

use super::addr::{parse_port, PortSpec};
use super::value::{split_colons, str2regexpnone, Match};
use super::FilterError;

/// Conditions on one service: all hold on the same port.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ServiceQuery {
    pub service: Option<Match>,
    pub product: Option<Match>,
    pub version: Option<Match>,
    pub port: Option<PortSpec>,
}

impl ServiceQuery {
    /// `--service SVC[:PORT]`.
    pub fn service_arg(s: &str) -> Result<ServiceQuery, FilterError> {
        let (svc, port) = split_port_suffix(s)?;
        Ok(ServiceQuery {
            service: Some(str2regexpnone(svc)?),
            port,
            ..Default::default()
        })
    }

    /// `--product [SVC:]PROD[:PORT]`.
    pub fn product_arg(s: &str) -> Result<ServiceQuery, FilterError> {
        let (rest, port) = split_port_suffix(s)?;
        let parts = split_colons(rest);
        let (svc, prod) = match parts.as_slice() {
            [p] => (None, *p),
            [s, p] => (Some(*s), *p),
            _ => {
                return Err(FilterError(format!(
                    "invalid product {s:?}: [SERVICE:]PRODUCT[:PORT]"
                )))
            }
        };
        Ok(ServiceQuery {
            service: svc.map(str2regexpnone).transpose()?,
            product: Some(str2regexpnone(prod)?),
            version: None,
            port,
        })
    }

    /// `--prodversion VERSION | PROD:VERSION | SVC:PROD:VERSION[:PORT]`.
    pub fn version_arg(s: &str) -> Result<ServiceQuery, FilterError> {
        let (rest, port) = split_port_suffix(s)?;
        let parts = split_colons(rest);
        let (svc, prod, ver) = match parts.as_slice() {
            [v] => (None, None, *v),
            [p, v] => (None, Some(*p), *v),
            [s, p, v] => (Some(*s), Some(*p), *v),
            _ => return Err(FilterError(format!("invalid version {s:?}"))),
        };
        Ok(ServiceQuery {
            service: svc.map(str2regexpnone).transpose()?,
            product: prod.map(str2regexpnone).transpose()?,
            version: Some(str2regexpnone(ver)?),
            port,
        })
    }
}

/// Splits a trailing `:PORT` (digits only) off, unless inside a regex.
fn split_port_suffix(s: &str) -> Result<(&str, Option<PortSpec>), FilterError> {
    if let Some((head, tail)) = s.rsplit_once(':') {
        let regex_open = head.starts_with('/') && !head[1..].contains('/');
        if !regex_open && !tail.is_empty() && tail.bytes().all(|b| b.is_ascii_digit()) {
            return Ok((head, Some(parse_port(tail)?)));
        }
    }
    Ok((s, None))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn product_syntax() {
        let q = ServiceQuery::product_arg("http:Apache httpd:80").unwrap();
        assert_eq!(q.service, Some(Match::exact("http")));
        assert_eq!(q.product, Some(Match::exact("Apache httpd")));
        assert_eq!(q.port, Some(("tcp".into(), 80)));
        let q = ServiceQuery::product_arg("/^apa/i").unwrap();
        assert!(matches!(q.product, Some(Match::Regex(r)) if r.pattern == "^apa"));
        assert_eq!(q.service, None);
        let q = ServiceQuery::version_arg("/a:b/:2.4").unwrap();
        assert!(q.product.is_some() && q.version == Some(Match::exact("2.4")));
    }
}
