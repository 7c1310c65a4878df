//! The two sets of tables that hold host records of one shape: the scan
//! results (`scan_*`, one record per host per scan) and the view (`view_*`,
//! one record per address). The filter compiler, the queries, the `--top`
//! fields and the loader take their table names from [`HostTables`], so
//! every one of them works on both sets with the same SQL.

use crate::sql::LeafSql;

/// Which set of host tables a statement reads or writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HostTables {
    /// `scan_host` and its children (the nmap purpose).
    Scan,
    /// `view_host` and its children (the view purpose).
    View,
}

/// The names of one table in each set.
macro_rules! table_names {
    ($($(#[$doc:meta])* $method:ident => $scan:literal, $view:literal;)*) => {
        impl HostTables {
            $(
                $(#[$doc])*
                pub const fn $method(self) -> &'static str {
                    match self {
                        HostTables::Scan => $scan,
                        HostTables::View => $view,
                    }
                }
            )*
        }
    };
}

table_names! {
    /// The host records (aliased `h` in queries).
    host => "scan_host", "view_host";
    /// The host records with their alias: `scan_host h`.
    hosts => "scan_host h", "view_host h";
    port => "scan_port", "view_port";
    script => "scan_script", "view_script";
    hostname => "scan_hostname", "view_hostname";
    hop => "scan_hop", "view_hop";
    osmatch => "scan_osmatch", "view_osmatch";
    osclass => "scan_osclass", "view_osclass";
    cpe => "scan_cpe", "view_cpe";
    tag => "scan_tag", "view_tag";
    /// The sequence that hands out blocks of host ids to loaders.
    id_block => "scan_host_id_block", "view_host_id_block";
}

/// The whole IVRE JSON document of the host row `h` of a table set: the
/// stored document with the scripts lists of its ports put back from the
/// script table (`ivre_host_doc()`, `sql/0010_scan_scale.sql`).
macro_rules! doc_sql {
    ($script:literal) => {
        concat!(
            "ivre_host_doc(h.doc, (SELECT jsonb_object_agg(x.port_idx::text, x.l) FROM ",
            "(SELECT s.port_idx, jsonb_agg(jsonb_build_object('id', s.name, 'output', s.output) ",
            "|| coalesce(s.data, '{}') ORDER BY s.idx) AS l FROM ",
            $script,
            " s WHERE s.host_id = h.id GROUP BY s.port_idx) x))"
        )
    };
}

impl HostTables {
    /// The whole record (jsonb) of the host row `h`: the stored document
    /// with its scripts put back (what `--json` prints).
    pub const fn doc(self) -> &'static str {
        match self {
            HostTables::Scan => doc_sql!("scan_script"),
            HostTables::View => doc_sql!("view_script"),
        }
    }

    /// Whether `h.source` is a `text[]` (the view merges several sources)
    /// rather than one `text` (a scan record's `-s`).
    pub const fn source_is_list(self) -> bool {
        matches!(self, HostTables::View)
    }
}

/// A filter leaf compiled against one set of host tables: the leaf type
/// says which, so a filter cannot be run against the other set by mistake
/// (`ScanLeaf`: scan; the view's leaf: view).
pub trait HostLeaf: LeafSql {
    const TABLES: HostTables;
}
