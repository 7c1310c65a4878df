-- The "view" purpose: one consolidated record per address, the merge of
-- every scan result (scan_host) and passive observation (passive) about it,
-- enriched with GeoIP / AS data and automatic tags. Built by ivre-db2view.
--
-- The record has the shape of a scan host, so the view tables mirror the
-- scan_* ones (same child tables, same columns) and every scan filter,
-- --top field and output works on both. Differences: addr is unique,
-- source is a list, and a few infos keys are columns for the view filters.
--
-- Change tracking: the importers (and the deletions) of the scan and passive
-- purposes record the addresses they touched in view_pending, in the same
-- transaction as their change; an incremental ivre-db2view rebuilds those
-- addresses only, from all their records, and empties view_pending in its
-- own transaction.

CREATE SEQUENCE view_host_id_block INCREMENT BY 1024;
COMMENT ON SEQUENCE view_host_id_block IS 'Hands out blocks of 1024 view_host ids to ivre-db2view';

CREATE TABLE view_host (
    id bigint PRIMARY KEY,
    addr inet NOT NULL UNIQUE,
    source text[] NOT NULL DEFAULT '{}',
    categories text[] NOT NULL DEFAULT '{}',
    state text,
    state_reason text,
    state_reason_ttl integer,
    start_time timestamptz,
    end_time timestamptz,
    open_port_count integer NOT NULL DEFAULT 0,
    schema_version integer,
    country_code text,
    city text,
    as_num bigint,
    as_name text,
    built_at timestamptz NOT NULL DEFAULT now(),
    doc jsonb NOT NULL
);
CREATE INDEX view_host_addr ON view_host USING gist (addr inet_ops);
CREATE INDEX view_host_time ON view_host (start_time, end_time);
CREATE INDEX view_host_categories ON view_host USING gin (categories);
CREATE INDEX view_host_source ON view_host USING gin (source);
CREATE INDEX view_host_open_port_count ON view_host (open_port_count);
CREATE INDEX view_host_country ON view_host (country_code, city);
CREATE INDEX view_host_as_num ON view_host (as_num);
COMMENT ON TABLE view_host IS 'One consolidated record per address (IVRE view purpose): the merge of its scan and passive records, built by ivre-db2view';
COMMENT ON COLUMN view_host.id IS 'Record id (a new one each time the address is rebuilt)';
COMMENT ON COLUMN view_host.addr IS 'Host address; unique';
COMMENT ON COLUMN view_host.source IS 'Sources of the merged records (scan2db -s, passive sensors), sorted';
COMMENT ON COLUMN view_host.categories IS 'Categories of the merged records and db2view --view-category, sorted';
COMMENT ON COLUMN view_host.state IS 'Host state (up unless only DNS answers were seen)';
COMMENT ON COLUMN view_host.state_reason IS 'Why the host is up (syn-ack, passive, ...), from the most recent record';
COMMENT ON COLUMN view_host.state_reason_ttl IS 'TTL of the packet that showed the state';
COMMENT ON COLUMN view_host.start_time IS 'Earliest start of the merged records';
COMMENT ON COLUMN view_host.end_time IS 'Latest end of the merged records';
COMMENT ON COLUMN view_host.open_port_count IS 'Number of open ports (openports.count)';
COMMENT ON COLUMN view_host.schema_version IS 'IVRE record schema version';
COMMENT ON COLUMN view_host.country_code IS 'infos.country_code: ISO country of the address (MaxMind), when the GeoIP files were found';
COMMENT ON COLUMN view_host.city IS 'infos.city: city of the address (MaxMind)';
COMMENT ON COLUMN view_host.as_num IS 'infos.as_num: autonomous system number (MaxMind ASN)';
COMMENT ON COLUMN view_host.as_name IS 'infos.as_name: autonomous system organisation';
COMMENT ON COLUMN view_host.built_at IS 'When ivre-db2view wrote this record';
COMMENT ON COLUMN view_host.doc IS 'The whole record as IVRE JSON (what ivre-view --json prints)';

CREATE TABLE view_port (
    host_id bigint NOT NULL REFERENCES view_host (id) ON DELETE CASCADE,
    idx integer NOT NULL,
    protocol text,
    port integer NOT NULL,
    state text,
    state_reason text,
    state_reason_ttl integer,
    service_name text,
    service_product text,
    service_version text,
    service_extrainfo text,
    service_tunnel text,
    service_ostype text,
    service_devicetype text,
    service_hostname text,
    service_conf integer,
    PRIMARY KEY (host_id, idx)
);
CREATE INDEX view_port_port ON view_port (port, state);
CREATE INDEX view_port_service ON view_port (service_name);
CREATE INDEX view_port_product ON view_port (service_product);
COMMENT ON TABLE view_port IS 'Ports of the view records; port -1 holds host scripts';
COMMENT ON COLUMN view_port.host_id IS 'view_host.id';
COMMENT ON COLUMN view_port.idx IS 'Position in the record''s ports list';
COMMENT ON COLUMN view_port.protocol IS 'tcp, udp, sctp, ip (NULL for the host-script port -1)';
COMMENT ON COLUMN view_port.port IS 'Port number; -1 for host scripts';
COMMENT ON COLUMN view_port.state IS 'open, closed, filtered, open|filtered, ...';
COMMENT ON COLUMN view_port.state_reason IS 'syn-ack, reset, response, passive, ...';
COMMENT ON COLUMN view_port.state_reason_ttl IS 'TTL of the packet that showed the state';
COMMENT ON COLUMN view_port.service_name IS 'Service name (https is stored as http + tunnel ssl)';
COMMENT ON COLUMN view_port.service_product IS 'Product name';
COMMENT ON COLUMN view_port.service_version IS 'Product version';
COMMENT ON COLUMN view_port.service_extrainfo IS 'Extra service information';
COMMENT ON COLUMN view_port.service_tunnel IS 'ssl when the service runs over TLS';
COMMENT ON COLUMN view_port.service_ostype IS 'OS type from the service';
COMMENT ON COLUMN view_port.service_devicetype IS 'Device type from the service';
COMMENT ON COLUMN view_port.service_hostname IS 'Host name from the service';
COMMENT ON COLUMN view_port.service_conf IS 'Nmap confidence in the service (0-10)';

CREATE TABLE view_script (
    host_id bigint NOT NULL REFERENCES view_host (id) ON DELETE CASCADE,
    port_idx integer NOT NULL,
    idx integer NOT NULL,
    port integer NOT NULL,
    name text NOT NULL,
    output text NOT NULL,
    data jsonb,
    PRIMARY KEY (host_id, port_idx, idx)
);
CREATE INDEX view_script_name ON view_script (name);
CREATE INDEX view_script_data ON view_script USING gin (data jsonb_path_ops);
CREATE INDEX view_script_output_trgm ON view_script USING gin (output gin_trgm_ops);
COMMENT ON TABLE view_script IS 'Script results of the view records'' ports (merged per script id)';
COMMENT ON COLUMN view_script.host_id IS 'view_host.id';
COMMENT ON COLUMN view_script.port_idx IS 'view_port.idx of the port';
COMMENT ON COLUMN view_script.idx IS 'Position in the port''s scripts list';
COMMENT ON COLUMN view_script.port IS 'Port number (copy of view_port.port; -1 for host scripts)';
COMMENT ON COLUMN view_script.name IS 'Script id (ssl-cert, http-title, scanner, ...)';
COMMENT ON COLUMN view_script.output IS 'Human-readable output';
COMMENT ON COLUMN view_script.data IS 'Structured output as {key: value}, key being the script id or its alias (ls, vulns, ntlm-info, ...)';

CREATE TABLE view_hostname (
    host_id bigint NOT NULL REFERENCES view_host (id) ON DELETE CASCADE,
    idx integer NOT NULL,
    name text NOT NULL,
    type text,
    domains text[] NOT NULL DEFAULT '{}',
    PRIMARY KEY (host_id, idx)
);
CREATE INDEX view_hostname_name ON view_hostname (name);
CREATE INDEX view_hostname_domains ON view_hostname USING gin (domains);
COMMENT ON TABLE view_hostname IS 'Host names of the view records (unique by type and name)';
COMMENT ON COLUMN view_hostname.host_id IS 'view_host.id';
COMMENT ON COLUMN view_hostname.idx IS 'Position in the record''s hostnames list';
COMMENT ON COLUMN view_hostname.name IS 'Name, lower case, no trailing dot';
COMMENT ON COLUMN view_hostname.type IS 'user, PTR, A, AAAA, cert-subject-cn, cert-san-dns, ntlm, smb, service, ...';
COMMENT ON COLUMN view_hostname.domains IS 'The name and its parent domains (a.b.com, b.com, com)';

CREATE TABLE view_hop (
    host_id bigint NOT NULL REFERENCES view_host (id) ON DELETE CASCADE,
    trace_idx integer NOT NULL,
    idx integer NOT NULL,
    protocol text,
    port integer,
    ttl integer,
    ipaddr inet,
    rtt double precision,
    host text,
    domains text[],
    PRIMARY KEY (host_id, trace_idx, idx)
);
CREATE INDEX view_hop_ipaddr ON view_hop (ipaddr, ttl);
CREATE INDEX view_hop_domains ON view_hop USING gin (domains);
COMMENT ON TABLE view_hop IS 'Traceroute hops of the view records';
COMMENT ON COLUMN view_hop.host_id IS 'view_host.id';
COMMENT ON COLUMN view_hop.trace_idx IS 'Position of the trace in the record''s traces list';
COMMENT ON COLUMN view_hop.idx IS 'Position of the hop in the trace';
COMMENT ON COLUMN view_hop.protocol IS 'Protocol of the trace (tcp, udp, icmp)';
COMMENT ON COLUMN view_hop.port IS 'Port of the trace';
COMMENT ON COLUMN view_hop.ttl IS 'Hop TTL';
COMMENT ON COLUMN view_hop.ipaddr IS 'Hop address';
COMMENT ON COLUMN view_hop.rtt IS 'Round-trip time in ms (NULL when Nmap printed --)';
COMMENT ON COLUMN view_hop.host IS 'Hop host name';
COMMENT ON COLUMN view_hop.domains IS 'Hop host name and its parent domains';

CREATE TABLE view_osmatch (
    host_id bigint NOT NULL REFERENCES view_host (id) ON DELETE CASCADE,
    idx integer NOT NULL,
    name text NOT NULL,
    accuracy integer,
    PRIMARY KEY (host_id, idx)
);
CREATE INDEX view_osmatch_name ON view_osmatch (name);
COMMENT ON TABLE view_osmatch IS 'Nmap OS detection matches (os.osmatch) of the view records';
COMMENT ON COLUMN view_osmatch.host_id IS 'view_host.id';
COMMENT ON COLUMN view_osmatch.idx IS 'Position in os.osmatch';
COMMENT ON COLUMN view_osmatch.name IS 'OS name (Linux 5.0 - 5.14, ...)';
COMMENT ON COLUMN view_osmatch.accuracy IS 'Accuracy in percent';

CREATE TABLE view_osclass (
    host_id bigint NOT NULL REFERENCES view_host (id) ON DELETE CASCADE,
    idx integer NOT NULL,
    type text,
    vendor text,
    osfamily text,
    osgen text,
    accuracy integer,
    PRIMARY KEY (host_id, idx)
);
CREATE INDEX view_osclass_osfamily ON view_osclass (osfamily);
COMMENT ON TABLE view_osclass IS 'Nmap OS classes (os.osclass) of the view records';
COMMENT ON COLUMN view_osclass.host_id IS 'view_host.id';
COMMENT ON COLUMN view_osclass.idx IS 'Position in os.osclass';
COMMENT ON COLUMN view_osclass.type IS 'Device type (general purpose, router, ...)';
COMMENT ON COLUMN view_osclass.vendor IS 'OS vendor';
COMMENT ON COLUMN view_osclass.osfamily IS 'OS family (Linux, Windows, ...)';
COMMENT ON COLUMN view_osclass.osgen IS 'OS generation (5.X, 10, ...)';
COMMENT ON COLUMN view_osclass.accuracy IS 'Accuracy in percent';

CREATE TABLE view_cpe (
    host_id bigint NOT NULL REFERENCES view_host (id) ON DELETE CASCADE,
    idx integer NOT NULL,
    type text,
    vendor text,
    product text,
    version text,
    origins text[] NOT NULL DEFAULT '{}',
    PRIMARY KEY (host_id, idx)
);
CREATE INDEX view_cpe_product ON view_cpe (vendor, product, version);
COMMENT ON TABLE view_cpe IS 'CPEs of the view records (origins merged)';
COMMENT ON COLUMN view_cpe.host_id IS 'view_host.id';
COMMENT ON COLUMN view_cpe.idx IS 'Position in the record''s cpes list';
COMMENT ON COLUMN view_cpe.type IS 'a (application), o (OS), h (hardware)';
COMMENT ON COLUMN view_cpe.vendor IS 'CPE vendor';
COMMENT ON COLUMN view_cpe.product IS 'CPE product';
COMMENT ON COLUMN view_cpe.version IS 'CPE version (and what follows it)';
COMMENT ON COLUMN view_cpe.origins IS 'Where it was found: ports.port:N, scripts.id:X, os.osmatch.line:N';

CREATE TABLE view_tag (
    host_id bigint NOT NULL REFERENCES view_host (id) ON DELETE CASCADE,
    idx integer NOT NULL,
    value text NOT NULL,
    type text,
    info text[] NOT NULL DEFAULT '{}',
    PRIMARY KEY (host_id, idx)
);
CREATE INDEX view_tag_value ON view_tag (value);
COMMENT ON TABLE view_tag IS 'Tags of the view records (automatic tags: reserved addresses, honeypots, CDN, scanners, ...)';
COMMENT ON COLUMN view_tag.host_id IS 'view_host.id';
COMMENT ON COLUMN view_tag.idx IS 'Position in the record''s tags list';
COMMENT ON COLUMN view_tag.value IS 'Tag (CDN, TOR, Scanner, Honeypot, Reserved address, ...)';
COMMENT ON COLUMN view_tag.type IS 'info, warning or danger';
COMMENT ON COLUMN view_tag.info IS 'Details, sorted';

CREATE TABLE view_pending (
    addr inet PRIMARY KEY,
    since timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE view_pending IS 'Addresses whose scan or passive records changed since the last ivre-db2view (written by the importers and deletions in their own transaction)';
COMMENT ON COLUMN view_pending.addr IS 'Address to rebuild';
COMMENT ON COLUMN view_pending.since IS 'When it was first marked since the last build';

CREATE TABLE view_build (
    id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    kind text NOT NULL CHECK (kind IN ('full', 'incremental', 'partial')),
    started_at timestamptz NOT NULL,
    finished_at timestamptz NOT NULL DEFAULT now(),
    records_read bigint NOT NULL,
    hosts_written bigint NOT NULL,
    hosts_removed bigint NOT NULL
);
COMMENT ON TABLE view_build IS 'Runs of ivre-db2view that changed the view, one row each (emptied by ivre-view --init); an incremental run needs a full one since the last --init';
COMMENT ON COLUMN view_build.id IS 'Run number';
COMMENT ON COLUMN view_build.kind IS 'full (every address), incremental (the addresses of view_pending) or partial (records chosen by filters or one purpose, merged into the view)';
COMMENT ON COLUMN view_build.started_at IS 'When the run started';
COMMENT ON COLUMN view_build.finished_at IS 'When the run committed';
COMMENT ON COLUMN view_build.records_read IS 'Scan and passive records read';
COMMENT ON COLUMN view_build.hosts_written IS 'View records written';
COMMENT ON COLUMN view_build.hosts_removed IS 'View records removed (their address has no record left)';

