// The users a private model is shared with: each can be taken off, and another added by name.

import { useId, useState } from "preact/hooks";
import { grantModel, listGrants, ungrantModel } from "../api/endpoints";
import { useAsync } from "../hooks/useAsync";
import { ErrorBox } from "../ui/ErrorBox";
import { Busy } from "../ui/Spinner";

export function GrantList({ owner, name }: { owner: string; name: string }) {
  const grants = useAsync(() => listGrants(owner, name), [owner, name]);
  const [user, setUser] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const input = useId();
  const change = async (send: () => Promise<void>) => {
    setError(null);
    setBusy(true);
    try {
      await send();
      grants.reload();
      return true;
    } catch (e) {
      setError(e);
      return false;
    } finally {
      setBusy(false);
    }
  };
  if (grants.error) return <ErrorBox error={grants.error} />;
  if (!grants.data) return <Busy text="Loading who it is shared with…" />;
  return (
    <div class="grants">
      <h3 class="grants-title">Shared with</h3>
      {grants.data.length === 0 ? (
        <p class="muted">Nobody yet.</p>
      ) : (
        <ul class="grant-list">
          {grants.data.map((g) => (
            <li key={g.user} class="grant-item">
              <span class="grant-user">{g.user}</span>
              <span class="muted grant-meta">
                since {new Date(g.created_at).toLocaleDateString()}
                {g.granted_by !== owner && ` by ${g.granted_by}`}
              </span>
              <button
                type="button"
                class="button button--small button--danger-quiet"
                aria-label={`Stop sharing with ${g.user}`}
                disabled={busy}
                onClick={() => change(() => ungrantModel(owner, name, g.user))}
              >
                Remove
              </button>
            </li>
          ))}
        </ul>
      )}
      <form
        class="grant-form"
        onSubmit={async (e) => {
          e.preventDefault();
          const to = user.trim();
          if (to && (await change(() => grantModel(owner, name, to)))) setUser("");
        }}
      >
        <label class="field-title" for={input}>
          Share with user
        </label>
        <div class="grant-form-row">
          <input
            id={input}
            type="text"
            autoComplete="off"
            spellcheck={false}
            value={user}
            onInput={(e) => setUser(e.currentTarget.value)}
          />
          <button type="submit" class="button button--small" disabled={busy || !user.trim()}>
            Share
          </button>
        </div>
      </form>
      {error !== null && <ErrorBox error={error} />}
    </div>
  );
}
