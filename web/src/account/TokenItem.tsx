// One token: its label, its first characters, what it may do and whether it still signs in.
// Revoking the token this browser signs in with signs the person out, since every next call
// would be refused anyway.

import { useState } from "preact/hooks";
import { revokeToken } from "../api/endpoints";
import type { TokenInfo } from "../api/types";
import { signOut } from "../session";
import { ConfirmButton } from "../ui/ConfirmButton";
import { ErrorBox } from "../ui/ErrorBox";

export const day = (iso: string) => new Date(iso).toLocaleDateString();

/** How the token's state reads, and whether it still signs in. */
export function tokenState(t: TokenInfo, now = Date.now()): { text: string; live: boolean } {
  if (t.revoked_at) return { text: `revoked ${day(t.revoked_at)}`, live: false };
  if (t.expires_at && Date.parse(t.expires_at) <= now) return { text: "expired", live: false };
  if (t.expires_at) return { text: `expires ${day(t.expires_at)}`, live: true };
  return { text: "active", live: true };
}

interface Props {
  t: TokenInfo;
  /** The token this browser signs in with. */
  current: boolean;
  onRevoked: () => void;
}

export function TokenItem({ t, current, onRevoked }: Props) {
  const [error, setError] = useState<unknown>(null);
  const state = tokenState(t);
  const name = t.label ?? `${t.prefix}…`;
  return (
    <li class={`token-item${state.live ? "" : " token-item--dead"}`}>
      <div class="token-row">
        <span class="token-label">{t.label ?? <span class="muted">No label</span>}</span>
        <code class="token-prefix">{t.prefix}…</code>
        {current && <span class="muted">(this session)</span>}
        <span class={state.live ? "badge badge--ok" : "badge"}>{state.text}</span>
      </div>
      <div class="token-row">
        <ul class="tags" aria-label="Scopes">
          {t.scopes.map((s) => (
            <li key={s} class="tag">
              {s}
            </li>
          ))}
        </ul>
        <span class="muted token-meta">created {day(t.created_at)}</span>
        {state.live && (
          <span class="token-actions">
            <ConfirmButton
              label="Revoke"
              question={
                current
                  ? "Revoke the token this browser signs in with? You will be signed out."
                  : `Revoke ${name}? Whatever uses it is refused from now on.`
              }
              confirmLabel="Revoke the token"
              busyLabel="Revoking…"
              onConfirm={async () => {
                setError(null);
                try {
                  await revokeToken(t.id);
                  if (current) signOut();
                  else onRevoked();
                } catch (e) {
                  setError(e);
                }
              }}
            />
          </span>
        )}
      </div>
      {error !== null && <ErrorBox error={error} />}
    </li>
  );
}
