-- Scan and view host tables at scale: one copy of each fact, summary arrays
-- for the common counts, and only the indexes a filter uses
-- (docs/indexes.md lists every index with the filters it serves).
--
-- One copy of each fact: the script results (the bulk of a rich record)
-- live in scan_script / view_script only. The loaders store the host
-- document without the `scripts` lists of its ports; the document is put
-- back together on read by ivre_host_doc() (the tools do it in SQL; psql
-- users read the view scan_record, or call ivre_host_doc() on view_host).
-- A port that still has its `scripts` key in the document (rows stored before this migration,
-- or a record whose scripts the rows would not give back exactly) is read
-- as stored, so existing databases need no rewrite.
--
-- Summary arrays on the host row, kept by the loaders and backfilled here
-- from the port rows: `--port`, `--service`, `--product` and their counts
-- are one GIN index lookup on the host table instead of a semi-join with
-- the port table.

CREATE FUNCTION ivre_host_doc(doc jsonb, scripts jsonb) RETURNS jsonb
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE
        WHEN scripts IS NULL OR jsonb_typeof(doc -> 'ports') IS DISTINCT FROM 'array' THEN doc
        ELSE jsonb_set(doc, '{ports}', coalesce((
            SELECT jsonb_agg(CASE
                WHEN jsonb_typeof(p) = 'object' AND NOT p ? 'scripts' AND scripts ? (o - 1)::text
                    THEN p || jsonb_build_object('scripts', scripts -> (o - 1)::text)
                ELSE p END ORDER BY o)
            FROM jsonb_array_elements(doc -> 'ports') WITH ORDINALITY AS x(p, o)), doc -> 'ports'))
    END
$$;
COMMENT ON FUNCTION ivre_host_doc(jsonb, jsonb) IS
    'A host record as IVRE JSON: the stored document (doc) with the scripts lists put back into its ports; scripts maps a port''s position (text) to its scripts list, built from scan_script or view_script; ports that kept their scripts key are left as stored';

-- The scripts of host h as ivre_host_doc() takes them.
CREATE FUNCTION scan_host_scripts(host bigint) RETURNS jsonb
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT jsonb_object_agg(x.port_idx::text, x.l) FROM (
        SELECT s.port_idx, jsonb_agg(jsonb_build_object('id', s.name, 'output', s.output)
            || coalesce(s.data, '{}') ORDER BY s.idx) AS l
        FROM scan_script s WHERE s.host_id = host GROUP BY s.port_idx) x
$$;
COMMENT ON FUNCTION scan_host_scripts(bigint) IS
    'The scripts lists of the scan record host (scan_host.id), keyed by port position, for ivre_host_doc() (single node only: on Citus, a function reading a distributed table cannot run inside a shard query; use the scan_record view)';
CREATE FUNCTION view_host_scripts(host bigint) RETURNS jsonb
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT jsonb_object_agg(x.port_idx::text, x.l) FROM (
        SELECT s.port_idx, jsonb_agg(jsonb_build_object('id', s.name, 'output', s.output)
            || coalesce(s.data, '{}') ORDER BY s.idx) AS l
        FROM view_script s WHERE s.host_id = host GROUP BY s.port_idx) x
$$;
COMMENT ON FUNCTION view_host_scripts(bigint) IS
    'The scripts lists of the view record host (view_host.id), keyed by port position, for ivre_host_doc() (single node only: on Citus, a function reading a distributed table cannot run inside a shard query)';

COMMENT ON COLUMN scan_host.doc IS 'The record as IVRE JSON without the scripts lists of its ports (they are in scan_script; see scan_record for the whole record, what scancli --json prints)';
COMMENT ON COLUMN view_host.doc IS 'The record as IVRE JSON without the scripts lists of its ports (they are in view_script; ivre_host_doc(doc, view_host_scripts(id)) is the whole record, what ivre-view --json prints)';

-- The subquery is written out rather than calling scan_host_scripts(): on
-- Citus a function that reads a distributed table cannot run inside a
-- shard's query, while this correlated subquery on the co-located script
-- table is pushed down with it (the tools use the same expression).
CREATE VIEW scan_record AS
    SELECT h.id, h.addr, ivre_host_doc(h.doc, (
        SELECT jsonb_object_agg(x.port_idx::text, x.l) FROM (
            SELECT s.port_idx, jsonb_agg(jsonb_build_object('id', s.name, 'output', s.output)
                || coalesce(s.data, '{}') ORDER BY s.idx) AS l
            FROM scan_script s WHERE s.host_id = h.id GROUP BY s.port_idx) x)) AS doc
    FROM scan_host h;
COMMENT ON VIEW scan_record IS 'Scan records as whole IVRE JSON documents (what ivre-scancli --json prints)';
COMMENT ON COLUMN scan_record.id IS 'scan_host.id';
COMMENT ON COLUMN scan_record.addr IS 'Host address';
COMMENT ON COLUMN scan_record.doc IS 'The whole record as IVRE JSON';
-- No such view on view_host: ivre-db2view --full replaces the table
-- (psql: SELECT ivre_host_doc(doc, view_host_scripts(id)) FROM view_host).

-- Summary arrays.
ALTER TABLE scan_host
    ADD COLUMN open_ports text[] NOT NULL DEFAULT '{}',
    ADD COLUMN services text[] NOT NULL DEFAULT '{}',
    ADD COLUMN products text[] NOT NULL DEFAULT '{}';
ALTER TABLE view_host
    ADD COLUMN open_ports text[] NOT NULL DEFAULT '{}',
    ADD COLUMN services text[] NOT NULL DEFAULT '{}',
    ADD COLUMN products text[] NOT NULL DEFAULT '{}';
COMMENT ON COLUMN scan_host.open_ports IS 'Open ports as protocol/port (tcp/80), distinct and sorted (from scan_port; GIN index for --port)';
COMMENT ON COLUMN scan_host.services IS 'Service names of the ports, any state, distinct and sorted (from scan_port; GIN index for --service)';
COMMENT ON COLUMN scan_host.products IS 'Product names of the ports, any state, distinct and sorted (from scan_port; GIN index for --product)';
COMMENT ON COLUMN view_host.open_ports IS 'Open ports as protocol/port (tcp/80), distinct and sorted (from view_port; GIN index for --port)';
COMMENT ON COLUMN view_host.services IS 'Service names of the ports, any state, distinct and sorted (from view_port; GIN index for --service)';
COMMENT ON COLUMN view_host.products IS 'Product names of the ports, any state, distinct and sorted (from view_port; GIN index for --product)';

UPDATE scan_host h SET
    open_ports = coalesce((SELECT array_agg(DISTINCT (coalesce(p.protocol, '') || '/' || p.port) COLLATE "C" ORDER BY (coalesce(p.protocol, '') || '/' || p.port) COLLATE "C")
        FROM scan_port p WHERE p.host_id = h.id AND p.port <> -1 AND p.state = 'open'), '{}'),
    services = coalesce((SELECT array_agg(DISTINCT p.service_name COLLATE "C" ORDER BY p.service_name COLLATE "C")
        FROM scan_port p WHERE p.host_id = h.id AND p.port <> -1 AND p.service_name IS NOT NULL), '{}'),
    products = coalesce((SELECT array_agg(DISTINCT p.service_product COLLATE "C" ORDER BY p.service_product COLLATE "C")
        FROM scan_port p WHERE p.host_id = h.id AND p.port <> -1 AND p.service_product IS NOT NULL), '{}')
WHERE EXISTS (SELECT 1 FROM scan_port p WHERE p.host_id = h.id);
UPDATE view_host h SET
    open_ports = coalesce((SELECT array_agg(DISTINCT (coalesce(p.protocol, '') || '/' || p.port) COLLATE "C" ORDER BY (coalesce(p.protocol, '') || '/' || p.port) COLLATE "C")
        FROM view_port p WHERE p.host_id = h.id AND p.port <> -1 AND p.state = 'open'), '{}'),
    services = coalesce((SELECT array_agg(DISTINCT p.service_name COLLATE "C" ORDER BY p.service_name COLLATE "C")
        FROM view_port p WHERE p.host_id = h.id AND p.port <> -1 AND p.service_name IS NOT NULL), '{}'),
    products = coalesce((SELECT array_agg(DISTINCT p.service_product COLLATE "C" ORDER BY p.service_product COLLATE "C")
        FROM view_port p WHERE p.host_id = h.id AND p.port <> -1 AND p.service_product IS NOT NULL), '{}')
WHERE EXISTS (SELECT 1 FROM view_port p WHERE p.host_id = h.id);

CREATE INDEX scan_host_open_ports ON scan_host USING gin (open_ports);
CREATE INDEX scan_host_services ON scan_host USING gin (services);
CREATE INDEX scan_host_products ON scan_host USING gin (products);
CREATE INDEX view_host_open_ports ON view_host USING gin (open_ports);
CREATE INDEX view_host_services ON view_host USING gin (services);
CREATE INDEX view_host_products ON view_host USING gin (products);

-- Indexes no filter needs any more (docs/indexes.md):
--   the GiST on addresses: the B-tree serves =, <<= (network ranges) and
--   BETWEEN; the view's addr is UNIQUE (a B-tree);
--   service / product B-trees of the port tables: the exact matches go
--   through the summary arrays, regexes never used a B-tree;
--   the trigram GIN on script output: most of the import time of rich
--   records; a regex on script output goes through the script name.
DROP INDEX scan_host_addr;
DROP INDEX view_host_addr;
DROP INDEX scan_port_service;
DROP INDEX scan_port_product;
DROP INDEX view_port_service;
DROP INDEX view_port_product;
DROP INDEX scan_script_output_trgm;
DROP INDEX view_script_output_trgm;
