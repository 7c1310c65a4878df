-- Compaction of the flow rows: one row per flow and month.
--
-- Since 0009, each import batch appends one row per flow and month it saw
-- (no set union at write time), so a flow seen by several batches or
-- imports has several rows in a month, and every query of its sets reads
-- them all. flow_compact(month, keys) merges the rows of each of these
-- flows in that month into one (counters summed, first / last seen
-- min / max, sets united and sorted, metadata merged): what the flow
-- shows does not change, its rows do. The importers call it at the end of
-- each file for the flows the file touched (flow_key totals are already
-- sums: they do not change either).

-- Concatenation of arrays over rows (the sets of a flow's rows, before
-- they are sorted and made distinct).
CREATE AGGREGATE flow_array_cat(anycompatiblearray) (SFUNC = array_cat, STYPE = anycompatiblearray);
COMMENT ON AGGREGATE flow_array_cat(anycompatiblearray) IS 'Concatenation of arrays over rows (NULLs skipped): the set elements of a flow''s rows before they are sorted and made distinct';

-- Merges the rows of each flow of `keys` (NULL: every flow) in the month
-- of `month` (any day of it) into one row. Returns the rows removed.
-- Rows appended by a concurrent import after the function started are
-- left as they are (compacted by a later call).
CREATE FUNCTION flow_compact(month date, keys bigint[] DEFAULT NULL) RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
    p date := date_trunc('month', month)::date;
    removed bigint;
    added bigint;
BEGIN
    WITH multi AS (
        SELECT f.key_id FROM flow f
        WHERE f.period = p AND (keys IS NULL OR f.key_id IN (SELECT unnest(keys)))
        GROUP BY f.key_id HAVING count(*) > 1),
    gone AS (
        DELETE FROM flow f USING multi m
        WHERE f.period = p AND f.key_id = m.key_id
        RETURNING f.*),
    merged AS (
        INSERT INTO flow (key_id, period, count, cspkts, scpkts, csbytes, scbytes,
                          firstseen, lastseen, sports, codes, times, meta)
        SELECT g.key_id, p, sum(g.count)::bigint, sum(g.cspkts)::bigint, sum(g.scpkts)::bigint,
               sum(g.csbytes)::bigint, sum(g.scbytes)::bigint, min(g.firstseen), max(g.lastseen),
               (SELECT array_agg(DISTINCT v ORDER BY v) FROM unnest(flow_array_cat(g.sports)) v),
               (SELECT array_agg(DISTINCT v ORDER BY v) FROM unnest(flow_array_cat(g.codes)) v),
               (SELECT array_agg(DISTINCT v ORDER BY v) FROM unnest(flow_array_cat(g.times)) v),
               flow_meta_set(g.meta)
        FROM gone g GROUP BY g.key_id
        RETURNING 1)
    SELECT (SELECT count(*) FROM gone), (SELECT count(*) FROM merged) INTO removed, added;
    RETURN removed - added;
END $$;
COMMENT ON FUNCTION flow_compact(date, bigint[]) IS 'Merges the rows of flow of each flow of keys (NULL: every flow) in a month into one row (what the flows show does not change); returns the rows removed';

COMMENT ON TABLE flow IS 'What was observed of each flow, per calendar month (UTC) of the observations'' start times: one row per import batch that saw the flow in that month until flow_compact merges them into one (the importers do at the end of each file; a flow''s sets are the union of its rows); partitioned by month (flow_yYYYYmMM, created on demand): SELECT flow_forget_month(month) to forget one';
