-- Passive imports at scale: fewer, cheaper indexes on `passive`, and room
-- for heap-only updates.
--
-- Every observation an import brings is either a new row (inserted into
-- every index) or a known one whose count and times are updated. An update
-- that changes no indexed column, on a page with room for the new version,
-- is heap-only (HOT): no index is touched. So:
--
-- * the table keeps 20 % of each page free (fillfactor 80) for the new
--   versions of its rows;
-- * `lastseen`, which nearly every update changes, is no longer indexed
--   (its B-tree made every update write a new entry into all the indexes);
--   `firstseen` keeps its B-tree: an update changes it only when an earlier
--   observation arrives, which logs read in order never bring;
-- * the address index is a B-tree instead of a GiST: it serves `=`, `<<=`
--   (PostgreSQL turns it into a range), `BETWEEN` and the view build's
--   `ORDER BY addr`, for about half the insertion cost;
-- * the indexes of columns or expressions that most rows leave NULL
--   (`targetval`, `infos`, `infos -> 'domain'`, `infos -> 'domaintarget'`)
--   hold only the rows where they are not NULL: every filter on them is a
--   strict condition, which PostgreSQL knows implies the index predicate.
--
-- docs/indexes.md ("passive") lists each index with the filters it serves.

ALTER TABLE passive SET (fillfactor = 80);

DROP INDEX passive_lastseen;

DROP INDEX passive_addr;
CREATE INDEX passive_addr ON passive (addr);

DROP INDEX passive_targetval;
CREATE INDEX passive_targetval ON passive (left(targetval, 256)) WHERE targetval IS NOT NULL;

DROP INDEX passive_infos;
CREATE INDEX passive_infos ON passive USING gin (infos jsonb_path_ops) WHERE infos IS NOT NULL;

DROP INDEX passive_infos_domain;
CREATE INDEX passive_infos_domain ON passive USING gin ((infos -> 'domain'))
    WHERE (infos -> 'domain') IS NOT NULL;

DROP INDEX passive_infos_domaintarget;
CREATE INDEX passive_infos_domaintarget ON passive USING gin ((infos -> 'domaintarget'))
    WHERE (infos -> 'domaintarget') IS NOT NULL;

COMMENT ON INDEX passive_identity IS 'Identity of an observation (key_hash): the conflict target of the import''s merge';
COMMENT ON INDEX passive_addr IS 'Address filters (host, net, range) and the view build''s ORDER BY addr';
COMMENT ON INDEX passive_recontype_source IS 'Recon type and source filters (--recontype, --source, --dns, --cert, ...)';
COMMENT ON INDEX passive_sensor IS 'Sensor filter (--sensor)';
COMMENT ON INDEX passive_firstseen IS 'First-seen time filters (--timeago/--newer on firstseen); not changed by updates of logs read in order';
COMMENT ON INDEX passive_value IS 'Exact value filters (prefix of 256 characters, the full comparison follows)';
COMMENT ON INDEX passive_targetval IS 'Exact targetval filters (prefix of 256 characters), rows with a targetval only';
COMMENT ON INDEX passive_infos IS 'Exact infos filters (containment), rows with infos only';
COMMENT ON INDEX passive_infos_domain IS 'DNS name filters on infos.domain, rows with domains only';
COMMENT ON INDEX passive_infos_domaintarget IS 'DNS target name filters on infos.domaintarget, rows with target domains only';
