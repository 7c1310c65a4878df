// The API key pages: #/api-keys (the keys of the signed-in key's owner:
// create, shown once; revoke) and #/admin (every key; revoke). Plain forms
// and buttons: every action works with the keyboard alone; a revocation
// asks for a second, explicit confirmation.
import { useEffect, useRef, useState } from "preact/hooks";
import { getJson, Me, send } from "./api";
import { errMsg } from "./util";

export type Key = {
  key_hash: string;
  key_prefix: string;
  user_email: string;
  name: string;
  created_at: string;
  revoked_at: string | null;
  permissions: string[];
  base_filter: string | null;
};

type Created = Key & { key: string };

function KeyTable(props: { keys: Key[]; showOwner: boolean; onRevoke: (k: Key) => Promise<void> }) {
  const [confirm, setConfirm] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const confirmRef = useRef<HTMLButtonElement>(null);
  useEffect(() => confirmRef.current?.focus(), [confirm]);
  if (!props.keys.length) return <p class="muted">No keys.</p>;
  return (
    <table class="keys" id="keys-table">
      <thead>
        <tr>
          <th>Name</th>
          {props.showOwner && <th>Owner</th>}
          <th>Prefix</th>
          <th>Permissions</th>
          <th>Base filter</th>
          <th>Created</th>
          <th>State</th>
        </tr>
      </thead>
      <tbody>
        {props.keys.map((k) => (
          <tr key={k.key_hash} data-id={k.key_hash} data-name={k.name} class={k.revoked_at ? "revoked" : ""}>
            <td>{k.name}</td>
            {props.showOwner && <td>{k.user_email}</td>}
            <td class="mono">{k.key_prefix}…</td>
            <td>{k.permissions.join(", ")}</td>
            <td class="mono">{k.base_filter || <span class="muted">all records</span>}</td>
            <td class="small">{k.created_at.replace("T", " ").replace("Z", "")}</td>
            <td>
              {k.revoked_at ? (
                <span class="muted state-revoked">revoked {k.revoked_at.slice(0, 10)}</span>
              ) : confirm === k.key_hash ? (
                <span class="row">
                  <button
                    ref={confirmRef}
                    class="danger confirm-revoke"
                    disabled={busy}
                    onClick={async () => {
                      setBusy(true);
                      try {
                        await props.onRevoke(k);
                      } finally {
                        setBusy(false);
                        setConfirm(null);
                      }
                    }}
                  >
                    Revoke {k.name}
                  </button>
                  <button onClick={() => setConfirm(null)}>Cancel</button>
                </span>
              ) : (
                <button class="revoke" aria-label={`revoke ${k.name}`} onClick={() => setConfirm(k.key_hash)}>
                  Revoke
                </button>
              )}
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function useKeys(path: string) {
  const [keys, setKeys] = useState<Key[] | null>(null);
  const [err, setErr] = useState("");
  const [gen, setGen] = useState(0);
  useEffect(() => {
    getJson<Key[]>(path)
      .then((k) => {
        setKeys(k);
        setErr("");
      })
      .catch((e) => setErr(errMsg(e)));
  }, [path, gen]);
  return { keys, err, reload: () => setGen((g) => g + 1), setErr };
}

function NeedKey() {
  return (
    <main class="main narrow">
      <h2>API keys</h2>
      <p>Sign in with an API key to manage the keys of its owner.</p>
    </main>
  );
}

export function KeysPage(props: { me: Me | null }) {
  const { keys, err, reload, setErr } = useKeys("/auth/api-keys");
  const [name, setName] = useState("");
  const [perms, setPerms] = useState<string[]>(["read"]);
  const [filter, setFilter] = useState("");
  const [created, setCreated] = useState<Created | null>(null);
  const [busy, setBusy] = useState(false);
  const mine = props.me?.permissions || [];
  const isAdmin = props.me?.is_admin === true;
  if (props.me && !props.me.authenticated) return <NeedKey />;
  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    try {
      const k = await send<Created>("POST", "/auth/api-keys", {
        name: name.trim(),
        permissions: perms,
        base_filter: filter.trim() || undefined,
      });
      setCreated(k);
      setName("");
      setFilter("");
      setErr("");
      reload();
    } catch (x) {
      setErr(errMsg(x));
    } finally {
      setBusy(false);
    }
  };
  return (
    <main class="main narrow" id="keys-page">
      <h2>API keys{props.me?.email ? ` of ${props.me.email}` : ""}</h2>
      {err && (
        <p class="error" role="alert" id="keys-error">
          {err}
        </p>
      )}
      {created && (
        <div class="panel" role="status" id="new-key">
          <h3>New key “{created.name}”</h3>
          <p>Copy it now: it is shown only once.</p>
          <input class="mono secret" readOnly value={created.key} aria-label="the new API key" size={52} onFocus={(e) => (e.target as HTMLInputElement).select()} />
          <div class="row">
            <button onClick={() => navigator.clipboard?.writeText(created.key).catch(() => {})}>Copy</button>
            <button onClick={() => setCreated(null)}>Done</button>
          </div>
        </div>
      )}
      <form class="panel" id="key-create" onSubmit={submit} aria-label="create a key">
        <h3>Create a key</h3>
        <div class="row">
          <label>
            Name <input id="key-name" value={name} required onInput={(e) => setName((e.target as HTMLInputElement).value)} />
          </label>
          {["read", "upload", "admin"]
            .filter((p) => isAdmin || mine.includes(p))
            .map((p) => (
              <label key={p}>
                <input
                  type="checkbox"
                  name={`perm-${p}`}
                  checked={perms.includes(p)}
                  onChange={(e) => {
                    const on = (e.target as HTMLInputElement).checked;
                    setPerms(on ? [...perms, p] : perms.filter((x) => x !== p));
                  }}
                />{" "}
                {p}
              </label>
            ))}
          <label>
            Base filter <input id="key-filter" class="mono" placeholder="e.g. category:PROD" value={filter} onInput={(e) => setFilter((e.target as HTMLInputElement).value)} />
          </label>
          <button type="submit" disabled={busy || !name.trim() || !perms.length}>
            Create
          </button>
        </div>
        {!isAdmin && props.me?.base_filter && (
          <p class="muted small">
            Keys you create see at most what this key sees: <code>{props.me.base_filter}</code> is ANDed to their filter.
          </p>
        )}
      </form>
      {keys ? (
        <KeyTable
          keys={keys}
          showOwner={false}
          onRevoke={async (k) => {
            try {
              await send("DELETE", `/auth/api-keys/${encodeURIComponent(k.key_hash)}`);
              reload();
            } catch (x) {
              setErr(errMsg(x));
            }
          }}
        />
      ) : (
        !err && <p class="loading">Loading…</p>
      )}
    </main>
  );
}

export function AdminPage(props: { me: Me | null }) {
  const { keys, err, reload, setErr } = useKeys("/auth/admin/api-keys");
  const [owner, setOwner] = useState("");
  if (props.me && !props.me.authenticated) return <NeedKey />;
  const shown = keys && owner ? keys.filter((k) => k.user_email.includes(owner) || k.name.includes(owner)) : keys;
  return (
    <main class="main narrow" id="admin-page">
      <h2>Every API key</h2>
      {err && (
        <p class="error" role="alert" id="keys-error">
          {err}
        </p>
      )}
      <label class="row">
        Owner or name <input id="admin-search" value={owner} onInput={(e) => setOwner((e.target as HTMLInputElement).value)} />
      </label>
      {shown ? (
        <KeyTable
          keys={shown}
          showOwner={true}
          onRevoke={async (k) => {
            try {
              await send("DELETE", `/auth/admin/api-keys/${encodeURIComponent(k.key_hash)}`);
              reload();
            } catch (x) {
              setErr(errMsg(x));
            }
          }}
        />
      ) : (
        !err && <p class="loading">Loading…</p>
      )}
    </main>
  );
}
