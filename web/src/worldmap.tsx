// The world map of hosts: countries from world-atlas (bundled, no tiles),
// points from /PURPOSE/coordinates (GeoJSON), sized by host count.
import { useEffect, useMemo, useState } from "preact/hooks";
import { geoEqualEarth, geoPath } from "d3-geo";
import { feature } from "topojson-client";
import type { Topology, GeometryCollection } from "topojson-specification";
import world from "world-atlas/countries-110m.json";
import { getJson } from "./api";
import { errMsg } from "./util";

type Geo = { type: string; geometries: { type: string; coordinates: [number, number]; properties?: { count?: number } }[] };

const W = 720;
const H = 360;

export function WorldMap(props: { purpose: string; q: string; enabled?: boolean }) {
  const [geo, setGeo] = useState<Geo | null>(null);
  const [err, setErr] = useState("");
  const { land, projection } = useMemo(() => {
    const topo = world as unknown as Topology;
    const land = feature(topo, topo.objects.countries as GeometryCollection);
    const projection = geoEqualEarth().fitSize([W, H], { type: "Sphere" } as never);
    return { land, projection };
  }, []);
  const path = useMemo(() => geoPath(projection), [projection]);
  useEffect(() => {
    if (props.enabled === false) return;
    let live = true;
    setErr("");
    getJson<Geo>(`/${props.purpose}/coordinates`, { q: props.q })
      .then((g) => live && setGeo(g))
      .catch((e) => live && (setGeo(null), setErr(errMsg(e))));
    return () => {
      live = false;
    };
  }, [props.purpose, props.q, props.enabled]);
  const pts = geo?.geometries || [];
  const max = Math.max(1, ...pts.map((p) => p.properties?.count || 1));
  return (
    <section class="panel map">
      <h3>Map</h3>
      <p class="muted small" id="map-status">{err ? `No points: ${err}` : `${pts.length} location(s)`}</p>
      <svg id="worldmap" width="100%" viewBox={`0 0 ${W} ${H}`} role="img" aria-label="world map of hosts">
        <path d={path({ type: "Sphere" } as never) || ""} class="sphere" />
        {land.features.map((f, i) => (
          <path key={i} d={path(f) || ""} class="country">
            <title>{(f.properties as { name?: string })?.name || ""}</title>
          </path>
        ))}
        {pts.map((p, i) => {
          const xy = projection(p.coordinates);
          if (!xy) return null;
          const c = p.properties?.count || 1;
          return (
            <circle key={i} class="point" cx={xy[0]} cy={xy[1]} r={2 + 8 * Math.sqrt(c / max)}>
              <title>{`${p.coordinates[1]}, ${p.coordinates[0]}: ${c} host(s)`}</title>
            </circle>
          );
        })}
      </svg>
    </section>
  );
}
