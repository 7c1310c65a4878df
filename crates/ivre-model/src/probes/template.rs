//! Version-info templates of a match line (`p/$1/ v/$P(2)/ cpe:/a:x:$1/`):
//! `$1`..`$9`, `$P(n)`, `$SUBST(n,"a","b")` and `$I(n,"<"|">")`, filled from
//! the groups a banner captured; captured values are encoded the Nmap way
//! (`\r`, `\n`, `\t`, `\\` and `\xHH` for other non-printable bytes).
use super::ServiceMatch;
use crate::escape;

/// The `p`, `v`, `i`, `h`, `o`, `d` and `cpe:` fields of a match line, as
/// written in the file.
#[derive(Debug, Default)]
pub(super) struct Templates {
    pub(super) product: Option<String>,
    pub(super) version: Option<String>,
    pub(super) extrainfo: Option<String>,
    pub(super) hostname: Option<String>,
    pub(super) ostype: Option<String>,
    pub(super) devicetype: Option<String>,
    pub(super) cpes: Vec<String>,
}

impl Templates {
    /// The match found by the line of `service` whose pattern captured
    /// `groups`: a field whose template refers to a group that did not take
    /// part in the match, or that comes out empty, is left out.
    pub(super) fn fill(&self, service: &str, soft: bool, groups: &[Option<&[u8]>]) -> ServiceMatch {
        let fill = |template: &Option<String>| {
            template
                .as_deref()
                .and_then(|template| format_template(template, groups))
                .filter(|value| !value.is_empty())
        };
        ServiceMatch {
            service_name: service.to_owned(),
            product: fill(&self.product),
            version: fill(&self.version),
            extrainfo: fill(&self.extrainfo),
            hostname: fill(&self.hostname),
            ostype: fill(&self.ostype),
            devicetype: fill(&self.devicetype),
            cpes: self
                .cpes
                .iter()
                .filter_map(|template| format_template(template, groups))
                .map(|cpe| format!("cpe:/{cpe}"))
                .collect(),
            soft,
        }
    }
}

/// Parses `N` then `,"a","b")`-style arguments for `$SUBST`/`$I`: returns
/// the group number, the quoted arguments and the length consumed after
/// the opening parenthesis.
fn parse_call(text: &str, nargs: usize) -> Option<(usize, Vec<&str>, usize)> {
    let bytes = text.as_bytes();
    let digits = bytes.iter().take_while(|b| b.is_ascii_digit()).count();
    let group: usize = text[..digits].parse().ok()?;
    let mut pos = digits;
    let mut args = Vec::with_capacity(nargs);
    for _ in 0..nargs {
        if bytes.get(pos) != Some(&b',') || bytes.get(pos + 1) != Some(&b'"') {
            return None;
        }
        let start = pos + 2;
        let end = text[start..].find('"')? + start;
        args.push(&text[start..end]);
        pos = end + 1;
    }
    if bytes.get(pos) != Some(&b')') {
        return None;
    }
    Some((group, args, pos + 1))
}

/// Applies `$N`, `$P(N)`, `$SUBST(N,"a","b")` and `$I(N,"<"|">")` to a
/// version-info template. `None` when a referenced group did not take part
/// in the match (IVRE then omits the field).
fn format_template(template: &str, groups: &[Option<&[u8]>]) -> Option<String> {
    if !template.contains('$') {
        return Some(template.to_owned());
    }
    let group = |num: usize| -> Option<Option<&[u8]>> {
        // Some(None): group exists but did not participate; None: no such group.
        if num == 0 {
            return None;
        }
        groups.get(num - 1).copied()
    };
    let mut out = String::with_capacity(template.len() + 16);
    let mut rest = template;
    while let Some(pos) = rest.find('$') {
        out.push_str(&rest[..pos]);
        let after = &rest[pos + 1..];
        let next = after.as_bytes().first().copied();
        if let Some(d @ b'1'..=b'9') = next {
            match group(usize::from(d - b'0')) {
                Some(Some(value)) => out.push_str(&escape::encode(value)),
                Some(None) => return None,
                None => {
                    out.push('$');
                    out.push(d as char);
                }
            }
            rest = &after[1..];
            continue;
        }
        let handled = if let Some(args) = after.strip_prefix("P(") {
            parse_call(args, 0).map(|(num, _, len)| (num, 2 + len, None))
        } else if let Some(args) = after.strip_prefix("SUBST(") {
            parse_call(args, 2).map(|(num, a, len)| (num, 6 + len, Some(("SUBST", a))))
        } else if let Some(args) = after.strip_prefix("I(") {
            parse_call(args, 1).map(|(num, a, len)| (num, 2 + len, Some(("I", a))))
        } else {
            None
        };
        let Some((num, consumed, call)) = handled else {
            out.push('$');
            rest = after;
            continue;
        };
        let value = match group(num) {
            Some(Some(value)) => value,
            Some(None) => return None,
            None => {
                // unknown group: keep the text as is
                out.push('$');
                out.push_str(&after[..consumed]);
                rest = &after[consumed..];
                continue;
            }
        };
        match call {
            None => {
                let printable: Vec<u8> = value
                    .iter()
                    .copied()
                    .filter(|b| (32..=126).contains(b))
                    .collect();
                out.push_str(&escape::encode(&printable));
            }
            Some(("SUBST", args)) => {
                out.push_str(&escape::encode(value).replace(args[0], args[1]));
            }
            Some((_, args)) => {
                let big_endian = match args[0] {
                    ">" => Some(true),
                    "<" => Some(false),
                    _ => None,
                };
                match big_endian {
                    Some(big_endian) if !value.is_empty() && value.len() <= 8 => {
                        let number = if big_endian {
                            value.iter().fold(0u64, |acc, &b| (acc << 8) | u64::from(b))
                        } else {
                            value
                                .iter()
                                .rev()
                                .fold(0u64, |acc, &b| (acc << 8) | u64::from(b))
                        };
                        out.push_str(&number.to_string());
                    }
                    _ => {
                        out.push('$');
                        out.push_str(&after[..consumed]);
                    }
                }
            }
        }
        rest = &after[consumed..];
    }
    out.push_str(rest);
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templates() {
        let groups: Vec<Option<&[u8]>> = vec![Some(b"a\r\x01b"), None, Some(b"\x01\x02")];
        assert_eq!(
            format_template("x $1 y", &groups).unwrap(),
            "x a\\r\\x01b y"
        );
        assert_eq!(format_template("$P(1)", &groups).unwrap(), "ab");
        assert_eq!(
            format_template("$SUBST(1,\"\\r\",\".\")", &groups).unwrap(),
            "a.\\x01b"
        );
        assert_eq!(format_template("$I(3,\">\")", &groups).unwrap(), "258");
        assert_eq!(format_template("$I(3,\"<\")", &groups).unwrap(), "513");
        assert_eq!(format_template("v$2", &groups), None);
        assert_eq!(format_template("$P(2)", &groups), None);
        assert_eq!(format_template("cost $5", &groups).unwrap(), "cost $5");
        assert_eq!(format_template("no subst", &groups).unwrap(), "no subst");
    }
}
