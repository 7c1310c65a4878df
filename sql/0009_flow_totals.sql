-- The flow purpose, restructured for bulk loads and whole-table queries.
--
-- Before: one row per flow and month in `flow`, merged on every batch by
-- `INSERT … ON CONFLICT DO UPDATE` with set unions of the source ports,
-- codes, time slots and metadata (each update rewrote a wide row), and
-- every query merged the months of every flow (view flow_total).
--
-- Now:
--   - flow_key carries each flow's totals (counters summed, first / last
--     seen): one upsert per batch of scalar columns, in the transaction of
--     the batch; counts, top values and graphs read flow_key alone;
--   - flow is append-only: each batch adds one row per flow and month it
--     saw (its counters and the sets it saw), without conflict handling;
--     a flow's sets are the union of its rows, computed when a query asks
--     for them (index flow_key_id);
--   - flow has no foreign key to flow_key (its check on every row would
--     double the cost of a batch): the loader, the cleanup and --init keep
--     them consistent.
--
-- Forgetting a month: SELECT flow_forget_month('2014-01-01') detaches and
-- drops the month's partition and recomputes the totals (a raw DETACH
-- PARTITION leaves them stale until SELECT flow_refresh_totals()).

ALTER TABLE flow DROP CONSTRAINT flow_pkey;
ALTER TABLE flow DROP CONSTRAINT flow_key_id_fkey;
CREATE INDEX flow_key_id ON flow (key_id);
COMMENT ON TABLE flow IS 'What was observed of each flow, per calendar month (UTC) of the observations'' start times, one row per import batch that saw the flow in that month (append-only: a flow''s sets are the union of its rows); partitioned by month (flow_yYYYYmMM, created on demand): SELECT flow_forget_month(month) to forget one';
COMMENT ON COLUMN flow.key_id IS 'The flow (flow_key.id; no foreign key, kept consistent by the loader)';
COMMENT ON COLUMN flow.count IS 'Connections / NetFlow / Argus / iptables records of this batch and month; NULL when only protocol logs touched the flow';
COMMENT ON COLUMN flow.sports IS 'Client ports seen (tcp and udp) by this row, a sorted set';
COMMENT ON COLUMN flow.codes IS 'ICMP codes seen (icmp) by this row, a sorted set';
COMMENT ON COLUMN flow.times IS 'Time slots during which the flow was active in this row ([start, start + precision), hour by default), a sorted set';
COMMENT ON COLUMN flow.meta IS 'Protocol metadata of this row: {"<log>": {"count": n, "<key>": [distinct values], "<counter>": sum}}';

ALTER TABLE flow_key
    ADD COLUMN count bigint,
    ADD COLUMN cspkts bigint NOT NULL DEFAULT 0,
    ADD COLUMN scpkts bigint NOT NULL DEFAULT 0,
    ADD COLUMN csbytes bigint NOT NULL DEFAULT 0,
    ADD COLUMN scbytes bigint NOT NULL DEFAULT 0,
    ADD COLUMN firstseen timestamptz,
    ADD COLUMN lastseen timestamptz;
-- Room on each page for the updated versions of its rows (HOT updates:
-- the totals are not indexed).
ALTER TABLE flow_key SET (fillfactor = 70);
COMMENT ON TABLE flow_key IS 'Flows (aggregated conversations), one row per (client, server, protocol, port or ICMP type): the identity and stable id of a flow and its totals over every month; the sets are in flow';
COMMENT ON COLUMN flow_key.count IS 'Records merged, every month (NULL: protocol logs only)';
COMMENT ON COLUMN flow_key.cspkts IS 'Packets client to server, every month';
COMMENT ON COLUMN flow_key.scpkts IS 'Packets server to client, every month';
COMMENT ON COLUMN flow_key.csbytes IS 'Bytes client to server, every month';
COMMENT ON COLUMN flow_key.scbytes IS 'Bytes server to client, every month';
COMMENT ON COLUMN flow_key.firstseen IS 'Earliest observation start, every month';
COMMENT ON COLUMN flow_key.lastseen IS 'Latest observation end, every month';

-- The totals of flow_key recomputed from flow (after partitions were
-- detached by hand); flows left without rows are removed. Returns the
-- number of flows whose totals changed.
CREATE FUNCTION flow_refresh_totals() RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
    n bigint;
BEGIN
    DELETE FROM flow_key k WHERE NOT EXISTS (SELECT 1 FROM flow f WHERE f.key_id = k.id);
    UPDATE flow_key k
    SET count = a.count, cspkts = a.cspkts, scpkts = a.scpkts,
        csbytes = a.csbytes, scbytes = a.scbytes,
        firstseen = a.firstseen, lastseen = a.lastseen
    FROM (SELECT f.key_id, sum(f.count)::bigint AS count,
                 sum(f.cspkts)::bigint AS cspkts, sum(f.scpkts)::bigint AS scpkts,
                 sum(f.csbytes)::bigint AS csbytes, sum(f.scbytes)::bigint AS scbytes,
                 min(f.firstseen) AS firstseen, max(f.lastseen) AS lastseen
          FROM flow f GROUP BY f.key_id) a
    WHERE a.key_id = k.id
      AND (k.count, k.cspkts, k.scpkts, k.csbytes, k.scbytes, k.firstseen, k.lastseen)
          IS DISTINCT FROM
          (a.count, a.cspkts, a.scpkts, a.csbytes, a.scbytes, a.firstseen, a.lastseen);
    GET DIAGNOSTICS n = ROW_COUNT;
    RETURN n;
END $$;
COMMENT ON FUNCTION flow_refresh_totals() IS 'Recomputes the totals of flow_key from flow and removes the flows left without rows (after partitions were detached by hand); returns the flows updated';

-- Forgets a month: its partition detached and dropped, the totals
-- recomputed. Returns whether the month had a partition.
CREATE FUNCTION flow_forget_month(month date) RETURNS boolean
LANGUAGE plpgsql AS $$
DECLARE
    name text := format('flow_y%sm%s', to_char(month, 'YYYY'), to_char(month, 'MM'));
BEGIN
    IF to_regclass(name) IS NULL THEN
        RETURN false;
    END IF;
    EXECUTE format('ALTER TABLE flow DETACH PARTITION %I', name);
    EXECUTE format('DROP TABLE %I', name);
    PERFORM flow_refresh_totals();
    RETURN true;
END $$;
COMMENT ON FUNCTION flow_forget_month(date) IS 'Detaches and drops the partition of flow of a month (any day of it) and recomputes the totals of flow_key';

-- The existing flows' totals.
SELECT flow_refresh_totals();
ALTER TABLE flow_key ALTER COLUMN firstseen SET NOT NULL, ALTER COLUMN lastseen SET NOT NULL;

-- Flows as IVRE shows them: totals from flow_key, sets united over the
-- rows of flow (one sort per set, not one union per row), only when a
-- query reads them (a query on the key and the counters reads flow_key
-- alone). An empty set is NULL, as before.
DROP VIEW flow_total;
CREATE VIEW flow_total AS
SELECT k.id, k.src, k.dst, k.proto, k.dport, k.type, k.schema_version,
       k.count, k.cspkts, k.scpkts, k.csbytes, k.scbytes, k.firstseen, k.lastseen,
       (SELECT array_agg(DISTINCT v ORDER BY v) FROM flow f, unnest(f.sports) v
        WHERE f.key_id = k.id) AS sports,
       (SELECT array_agg(DISTINCT v ORDER BY v) FROM flow f, unnest(f.codes) v
        WHERE f.key_id = k.id) AS codes,
       (SELECT array_agg(DISTINCT v ORDER BY v) FROM flow f, unnest(f.times) v
        WHERE f.key_id = k.id) AS times,
       (SELECT flow_meta_set(f.meta) FROM flow f WHERE f.key_id = k.id) AS meta
FROM flow_key k;
COMMENT ON VIEW flow_total IS 'Flows as IVRE shows them: each flow_key with its totals and the sets of its rows of flow united (what ivre-flowcli and the query API read)';
COMMENT ON COLUMN flow_total.id IS 'Flow id';
COMMENT ON COLUMN flow_total.src IS 'Client address';
COMMENT ON COLUMN flow_total.dst IS 'Server address';
COMMENT ON COLUMN flow_total.proto IS 'Protocol';
COMMENT ON COLUMN flow_total.dport IS 'Server port (tcp, udp)';
COMMENT ON COLUMN flow_total.type IS 'ICMP type';
COMMENT ON COLUMN flow_total.schema_version IS 'Flow schema version';
COMMENT ON COLUMN flow_total.count IS 'Records merged (NULL: protocol logs only)';
COMMENT ON COLUMN flow_total.cspkts IS 'Packets client to server';
COMMENT ON COLUMN flow_total.scpkts IS 'Packets server to client';
COMMENT ON COLUMN flow_total.csbytes IS 'Bytes client to server';
COMMENT ON COLUMN flow_total.scbytes IS 'Bytes server to client';
COMMENT ON COLUMN flow_total.firstseen IS 'Earliest observation start';
COMMENT ON COLUMN flow_total.lastseen IS 'Latest observation end';
COMMENT ON COLUMN flow_total.sports IS 'Client ports seen, sorted set';
COMMENT ON COLUMN flow_total.codes IS 'ICMP codes seen, sorted set';
COMMENT ON COLUMN flow_total.times IS 'Time slots, sorted set';
COMMENT ON COLUMN flow_total.meta IS 'Protocol metadata, merged';
