// IVRE's web UI: the shell (section nav, theme toggle, sign-in) and the
// hash routes #/view (default), #/active, #/passive, #/dns, #/flow.
import { render } from "preact";
import { useEffect, useState } from "preact/hooks";
import "./style.css";
import { apiKey, AuthError, getConfig, getJson, getText, Me, onAuthNeeded, setApiKey } from "./api";
import { useRoute } from "./route";
import { HostsPage } from "./hosts";
import { DnsPage, PassivePage } from "./passive";
import { FlowPage } from "./flow";
import { AdminPage, KeysPage } from "./keys";
import { errMsg } from "./util";

const PAGES: [string, string][] = [
  ["view", "View"],
  ["active", "Active"],
  ["passive", "Passive"],
  ["dns", "DNS"],
  ["flow", "Flow"],
];

function applyTheme(t: string | null) {
  if (t) document.documentElement.dataset.theme = t;
  else delete document.documentElement.dataset.theme;
}

function SignIn(props: { onDone: () => void; onCancel?: () => void }) {
  const [key, setKey] = useState("");
  const [err, setErr] = useState("");
  const [busy, setBusy] = useState(false);
  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setErr("");
    try {
      await getText("/view/count", { q: "limit:1" }, key.trim());
      setApiKey(key.trim());
      props.onDone();
    } catch (x) {
      setErr(x instanceof AuthError ? "This key is refused." : errMsg(x));
    } finally {
      setBusy(false);
    }
  };
  return (
    <div class="modal-back">
      <form class="modal" role="dialog" aria-label="sign in" id="signin" onSubmit={submit}>
        <h2>Sign in</h2>
        <p>This server needs an API key (ask its administrator: <code>ivre-httpd keys add NAME</code>).</p>
        <input id="apikey" type="password" autofocus aria-label="API key" placeholder="API key" value={key} onInput={(e) => setKey((e.target as HTMLInputElement).value)} />
        {err && (
          <p class="error" role="alert" id="signin-error">
            {err}
          </p>
        )}
        <div class="row">
          <button type="submit" disabled={busy || !key.trim()}>
            Sign in
          </button>
          {props.onCancel && (
            <button type="button" onClick={props.onCancel}>
              Cancel
            </button>
          )}
        </div>
      </form>
    </div>
  );
}

function App() {
  const route = useRoute();
  const [needAuth, setNeedAuth] = useState(false);
  const [gen, setGen] = useState(0);
  const [cfg, setCfg] = useState<Record<string, unknown>>({});
  const [theme, setTheme] = useState<string | null>(localStorage.getItem("ivre-theme"));
  const [me, setMe] = useState<Me | null>(null);
  useEffect(() => {
    onAuthNeeded(() => setNeedAuth(true));
    getConfig()
      .then(setCfg)
      .catch(() => {});
    if (apiKey())
      getJson<Me>("/auth/me")
        .then(setMe)
        .catch(() => setMe({ authenticated: false }));
    else setMe({ authenticated: false });
  }, [gen]);
  useEffect(() => applyTheme(theme), [theme]);
  const dark = theme ? theme === "dark" : matchMedia("(prefers-color-scheme: dark)").matches;
  const limit = typeof cfg.dflt_limit === "number" && cfg.dflt_limit > 0 ? (cfg.dflt_limit as number) : 10;
  let body;
  switch (route.page) {
    case "view":
      body = <HostsPage key={"v" + gen} route={route} purpose="view" page="view" defaultLimit={limit} />;
      break;
    case "active":
      body = <HostsPage key={"a" + gen} route={route} purpose="scans" page="active" defaultLimit={limit} />;
      break;
    case "passive":
      body = <PassivePage key={"p" + gen} route={route} defaultLimit={limit} />;
      break;
    case "dns":
      body = <DnsPage key={"d" + gen} route={route} />;
      break;
    case "flow":
      body = <FlowPage key={"f" + gen} route={route} />;
      break;
    case "api-keys":
      body = <KeysPage key={"k" + gen} me={me} />;
      break;
    case "admin":
      body = <AdminPage key={"ad" + gen} me={me} />;
      break;
    default:
      body = <p class="main">No such page.</p>;
  }
  return (
    <>
      <header class="topbar">
        <a class="brand" href="#/view">
          IVRE
        </a>
        <nav aria-label="sections">
          {PAGES.map(([id, name]) => (
            <a key={id} href={`#/${id}`} class={route.page === id ? "current" : ""} aria-current={route.page === id ? "page" : undefined}>
              {name}
            </a>
          ))}
        </nav>
        <span class="spacer" />
        {typeof cfg.version === "string" && <span class="muted small">v{cfg.version}</span>}
        {me?.authenticated && (
          <nav aria-label="account">
            <a href="#/api-keys" id="nav-api-keys" class={route.page === "api-keys" ? "current" : ""} aria-current={route.page === "api-keys" ? "page" : undefined}>
              API keys
            </a>
            {me.is_admin && (
              <a href="#/admin" id="nav-admin" class={route.page === "admin" ? "current" : ""} aria-current={route.page === "admin" ? "page" : undefined}>
                Admin
              </a>
            )}
          </nav>
        )}
        {apiKey() ? (
          <button
            onClick={() => {
              setApiKey(null);
              setGen(gen + 1);
            }}
          >
            Sign out
          </button>
        ) : (
          cfg.auth_enabled === true && <button onClick={() => setNeedAuth(true)}>Sign in</button>
        )}
        <button id="theme-toggle" aria-label="toggle dark mode" title="toggle dark mode" onClick={() => {
          const t = dark ? "light" : "dark";
          localStorage.setItem("ivre-theme", t);
          setTheme(t);
        }}>
          {dark ? "☀" : "☾"}
        </button>
      </header>
      {body}
      {needAuth && (
        <SignIn
          onDone={() => {
            setNeedAuth(false);
            setGen(gen + 1);
          }}
          onCancel={apiKey() ? () => setNeedAuth(false) : undefined}
        />
      )}
    </>
  );
}

render(<App />, document.getElementById("app")!);
