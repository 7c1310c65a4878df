//! Compiles a [`ViewFilter`] on `view_host h`: the scan leaves through the
//! scan compiler on the view's tables, the enrichment leaves on the
//! `view_host` columns that hold `infos` keys (B-tree indexes).

use crate::scan::filter::leaf_in;
use crate::scan::{HostLeaf, HostTables};
use crate::sql::{LeafSql, SqlBuilder};
use ivre_model::filter::view::ViewLeaf;

impl LeafSql for ViewLeaf {
    fn leaf_sql(&self, b: &mut SqlBuilder) -> String {
        match self {
            ViewLeaf::Scan(l) => leaf_in(b, HostTables::View, l),
            ViewLeaf::Country(m) => b.text_match("h.country_code", m),
            ViewLeaf::City(m) => b.text_match("h.city", m),
            ViewLeaf::AsNum(nums) => format!("h.as_num = ANY({})", b.param(nums.clone(), "int8[]")),
            ViewLeaf::AsName(m) => b.text_match("h.as_name", m),
        }
    }
}

impl HostLeaf for ViewLeaf {
    const TABLES: HostTables = HostTables::View;
}

#[cfg(test)]
mod tests {
    use super::*;
    use ivre_model::filter::scan;
    use ivre_model::filter::value::Match;
    use ivre_model::filter::view::{self as v, ViewFilter};

    #[test]
    fn scan_leaves_read_the_view_tables() {
        let f: ViewFilter = v::from_scan(
            scan::script(Some(Match::exact("http-title")), None)
                .and(scan::hostname(Some(Match::exact("a.example")))),
        )
        .and(v::country("UK").unwrap());
        let mut b = SqlBuilder::new();
        let sql = b.filter(&f);
        assert!(sql.contains("FROM view_script s"), "{sql}");
        assert!(sql.contains("FROM view_hostname n"), "{sql}");
        assert!(!sql.contains("scan_"), "{sql}");
        assert!(sql.contains("h.country_code = ANY($3::text[])"), "{sql}");
    }
}
