// Makes a token for a script, a machine or another browser. The server keeps only its hash, so
// the secret is shown here once, right after it is made, and nowhere ever again.

import { useEffect, useRef, useState } from "preact/hooks";
import { createToken } from "../api/endpoints";
import type { CreatedToken, Me, NewToken, Scope } from "../api/types";
import { CopyButton } from "../ui/CopyButton";
import { ErrorBox } from "../ui/ErrorBox";
import { day } from "./TokenItem";

const ALL: Scope[] = ["publish", "run", "admin"];

const isAdmin = (me: Me) => me.role === "admin" && me.scopes.includes("admin");

/** The scopes a new token may get: the server refuses any this session's token lacks. */
export function offeredScopes(me: Me): Scope[] {
  // An admin acting as one may give any scope, as the server allows.
  return isAdmin(me) ? ALL : ALL.filter((s) => me.scopes.includes(s));
}

function Secret({ created, onDone }: { created: CreatedToken; onDone: () => void }) {
  const box = useRef<HTMLDivElement>(null);
  // Whoever pressed Create should land on the secret, not on a form that was just emptied.
  useEffect(() => box.current?.focus(), [created]);
  return (
    <div class="new-token" ref={box} tabIndex={-1} aria-labelledby="new-token-title">
      <p class="new-token-title" id="new-token-title">
        New token{created.label ? ` “${created.label}”` : ""}
      </p>
      <p>Copy it now: it will not be shown again. Only its first characters are kept, to tell it apart.</p>
      <div class="new-token-secret">
        <code>{created.token}</code>
        <CopyButton text={created.token} />
      </div>
      <button type="button" class="link-button" onClick={onDone}>
        Done, hide it
      </button>
    </div>
  );
}

export function NewTokenForm({ me, onCreated }: { me: Me; onCreated: () => void }) {
  const offered = offeredScopes(me);
  // Admin is left for the person to choose: a token with it can do anything.
  const [scopes, setScopes] = useState<Scope[]>(() => offered.filter((s) => s !== "admin"));
  const [label, setLabel] = useState("");
  const [days, setDays] = useState("");
  const [created, setCreated] = useState<CreatedToken | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const toggle = (s: Scope, on: boolean) =>
    setScopes(on ? ALL.filter((x) => x === s || scopes.includes(x)) : scopes.filter((x) => x !== s));
  // The server caps a new token's life at the caller's, admins apart.
  const limit = isAdmin(me) ? null : me.expires_at;
  return (
    <div class="new-token-area">
      <h3>Create a token</h3>
      {created && <Secret created={created} onDone={() => setCreated(null)} />}
      <form
        class="token-form"
        onSubmit={async (e) => {
          e.preventDefault();
          setError(null);
          setBusy(true);
          const req: NewToken = { scopes };
          if (label.trim()) req.label = label.trim();
          if (days.trim()) req.expires_in_days = Number(days);
          try {
            setCreated(await createToken(req));
            setLabel("");
            setDays("");
            onCreated();
          } catch (err) {
            setError(err);
          } finally {
            setBusy(false);
          }
        }}
      >
        <div class="field">
          <label class="field-title" for="token-label">
            Label <span class="optional">(optional, such as the machine it is for)</span>
          </label>
          <input id="token-label" type="text" maxLength={100} value={label} onInput={(e) => setLabel(e.currentTarget.value)} />
        </div>
        <fieldset class="field">
          <legend class="field-title">It may</legend>
          <div class="choices">
            {offered.map((s) => (
              <label key={s} class="choice">
                <input type="checkbox" checked={scopes.includes(s)} onChange={(e) => toggle(s, e.currentTarget.checked)} />
                {s}
              </label>
            ))}
          </div>
        </fieldset>
        <div class="field">
          <label class="field-title" for="token-days">
            Expires in days <span class="optional">(optional)</span>
          </label>
          <p class="field-help" id="token-days-help">
            {limit
              ? `Left empty, it expires with this session's token, on ${day(limit)}.`
              : "Left empty, it does not expire."}
          </p>
          <input
            id="token-days"
            class="token-days"
            type="number"
            min={1}
            max={3650}
            step={1}
            aria-describedby="token-days-help"
            value={days}
            onInput={(e) => setDays(e.currentTarget.value)}
          />
        </div>
        {error !== null && <ErrorBox error={error} />}
        <div class="form-actions">
          <button class="button button--primary" type="submit" disabled={busy || scopes.length === 0}>
            {busy ? "Creating…" : "Create token"}
          </button>
        </div>
      </form>
    </div>
  );
}
