//! The `q=` keywords of the view's enrichment (spec §4.3, "gated": IVRE
//! applies them where the backend has the search): `country:CC[,CC]`
//! (`|` separates too; upper-cased; `UK` is `GB`, `EU` the member
//! states), `city:NAME`, `asnum:N[,N]` (`AS` prefix allowed) and
//! `asname:NAME` (both names: `/regex/` allowed), each negatable. They
//! become [`ViewLeaf`]s; every other clause is read as on `/scans` and
//! runs on the view's tables. The same values as `ivre-view --country`,
//! `--city`, `--asnum`, `--asname`.

use ivre_model::filter::query::{Clause, Keyword, Query, QueryError, Term, MAX_REGEX_LEN};
use ivre_model::filter::value::str2regexp;
use ivre_model::filter::view::{self as v, ViewFilter, ViewLeaf};
use ivre_model::filter::Filter;

fn invalid(c: &Clause, reason: impl ToString) -> QueryError {
    QueryError::Value {
        token: c.token.clone(),
        reason: reason.to_string(),
    }
}

/// The view filter of one enrichment clause; None for any other clause.
fn view_clause(c: &Clause) -> Result<Option<ViewFilter>, QueryError> {
    let Term::Keyword {
        keyword,
        sub: None,
        value,
    } = &c.term
    else {
        return Ok(None);
    };
    if !matches!(
        keyword,
        Keyword::Country | Keyword::City | Keyword::Asnum | Keyword::Asname
    ) {
        return Ok(None);
    }
    let value = match value.as_deref().map(str::trim) {
        Some(v) if !v.is_empty() => v,
        _ => return Err(invalid(c, "expected a value (country:CC, asnum:N, ...)")),
    };
    if value.starts_with('/') && value.len() > MAX_REGEX_LEN + 2 {
        return Err(invalid(
            c,
            format!("regular expression longer than {MAX_REGEX_LEN} characters"),
        ));
    }
    let f = match keyword {
        Keyword::Country => {
            let codes = if value.starts_with('/') {
                value.to_string()
            } else {
                value.replace('|', ",")
            };
            v::country(&codes).map_err(|e| invalid(c, e.0))?
        }
        Keyword::Asnum => v::asnum(&value.replace('|', ",")).map_err(|e| invalid(c, e.0))?,
        Keyword::City => Filter::leaf(ViewLeaf::City(
            str2regexp(value).map_err(|e| invalid(c, e.0))?,
        )),
        _ => Filter::leaf(ViewLeaf::AsName(
            str2regexp(value).map_err(|e| invalid(c, e.0))?,
        )),
    };
    Ok(Some(f.neg_if(c.neg)))
}

/// The view filter of a `q=` (and its `f=`): the enrichment clauses as
/// view leaves, ANDed with the rest read as scan clauses.
pub fn view_filter(q: &Query) -> Result<ViewFilter, QueryError> {
    let mut own = Vec::new();
    let mut rest = Vec::new();
    for c in &q.clauses {
        match view_clause(c)? {
            Some(f) => own.push(f),
            None => rest.push(c.clone()),
        }
    }
    let scan = Query {
        clauses: rest,
        ..q.clone()
    }
    .scan_filter()?;
    Ok(v::from_scan(scan).and(Filter::all(own)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use ivre_model::filter::value::Match;

    fn f(q: &str) -> Result<ViewFilter, QueryError> {
        view_filter(&Query::parse(q).unwrap())
    }

    #[test]
    fn enrichment_keywords() {
        assert_eq!(
            f("country:fr|de").unwrap(),
            Filter::leaf(ViewLeaf::Country(Match::AnyOf(vec![
                "DE".into(),
                "FR".into()
            ])))
        );
        assert_eq!(
            f("!asnum:AS3215").unwrap(),
            Filter::leaf(ViewLeaf::AsNum(vec![3215])).neg_if(true)
        );
        assert!(matches!(
            f("city:/^Lon/").unwrap(),
            Filter::Leaf(ViewLeaf::City(Match::Regex(_)))
        ));
        for bad in ["country:", "asnum:x", "asname", "country:/x/zz"] {
            let e = f(bad).unwrap_err();
            assert_eq!(e.token(), Some(bad), "{bad}");
        }
        // Scan keywords still work, ANDed.
        assert!(f("80 country:FR tag:CDN").is_ok());
        assert!(f("country:FR hostname:x").is_ok());
    }
}
