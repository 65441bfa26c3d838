// The signed-in user's models, with their versions, environments, sharing and deletion, and
// their tokens; or the sign-in form when nobody is signed in.

import { useState } from "preact/hooks";
import { TokensPanel } from "../account/TokensPanel";
import { ApiError } from "../api/client";
import { getMe, searchModels } from "../api/endpoints";
import type { Model } from "../api/types";
import { useAsync } from "../hooks/useAsync";
import { useTitle } from "../hooks/useTitle";
import { SharingPanel } from "../model/SharingPanel";
import { VersionsPanel } from "../model/VersionsPanel";
import { modelHref } from "../router";
import { type Session, signIn, signOut, useSession } from "../session";
import { ErrorBox } from "../ui/ErrorBox";
import { Busy } from "../ui/Spinner";

/** The user a token belongs to: asked of the server, else the name the person typed. */
async function resolveUser(token: string, typed: string): Promise<string> {
  try {
    return (await getMe(token)).user;
  } catch (e) {
    // A server without GET /api/v1/me answers 404: then the typed name is all there is.
    if (e instanceof ApiError && e.status === 404 && typed) return typed;
    if (e instanceof ApiError && e.status === 404) {
      throw new ApiError(400, "user_needed", "this server cannot tell whose token it is: type your user name too");
    }
    throw e;
  }
}

function SignIn() {
  const [token, setToken] = useState("");
  const [user, setUser] = useState("");
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  return (
    <section class="card sign-in" aria-labelledby="sign-in">
      <h2 id="sign-in">Sign in with a token</h2>
      <p class="muted">
        Create a token with <code>feather token create --user NAME</code>. It stays in this browser and is sent only to
        this server.
      </p>
      <form
        class="stack"
        onSubmit={async (e) => {
          e.preventDefault();
          setError(null);
          setBusy(true);
          try {
            const t = token.trim();
            const s: Session = { token: t, user: await resolveUser(t, user.trim()) };
            signIn(s);
          } catch (err) {
            setError(err);
          } finally {
            setBusy(false);
          }
        }}
      >
        <div class="field">
          <label class="field-title" for="token">
            Token
          </label>
          <input
            id="token"
            type="password"
            autoComplete="off"
            spellcheck={false}
            placeholder="ftr_…"
            required
            value={token}
            onInput={(e) => setToken(e.currentTarget.value)}
          />
        </div>
        <div class="field">
          <label class="field-title" for="user">
            User name <span class="optional">(if the server does not know it from the token)</span>
          </label>
          <input id="user" type="text" autoComplete="username" value={user} onInput={(e) => setUser(e.currentTarget.value)} />
        </div>
        {error !== null && <ErrorBox error={error} />}
        <div class="form-actions">
          <button class="button button--primary" type="submit" disabled={busy || !token.trim()}>
            {busy ? "Signing in…" : "Sign in"}
          </button>
        </div>
      </form>
    </section>
  );
}

interface MyModelProps {
  m: Model;
  onDeleted: () => void;
  onVisibility: (v: NonNullable<Model["visibility"]>) => void;
}

function MyModel({ m, onDeleted, onVisibility }: MyModelProps) {
  return (
    <li class="card my-model">
      <h2 class="model-card-title">
        <a href={modelHref(m.owner, m.name)}>{m.title || m.name}</a>{" "}
        <span class="muted model-ref">
          {m.owner}/{m.name}
        </span>{" "}
        {m.visibility === "private" && (
          <span class="badge badge--warn" title="Seen only by its owner, the users it is shared with, and admins">
            private
          </span>
        )}
      </h2>
      {/* A server from before accounts says nothing of visibility, and has no sharing to manage. */}
      {m.visibility && (
        <SharingPanel owner={m.owner} name={m.name} visibility={m.visibility} onChanged={onVisibility} />
      )}
      <VersionsPanel owner={m.owner} name={m.name} canDelete onModelDeleted={onDeleted} />
    </li>
  );
}

function MyModels({ user }: { user: string }) {
  const models = useAsync(() => searchModels({ owner: user, per_page: 100 }), [user]);
  if (models.error) return <ErrorBox error={models.error} />;
  if (!models.data) return <Busy text="Loading your models…" />;
  const page = models.data;
  const list = page.models;
  // The server answered with the model's new state: no need to load the whole list again.
  const changed = (name: string, visibility: Model["visibility"]) =>
    models.set({ ...page, models: list.map((x) => (x.name === name ? { ...x, visibility } : x)) });
  return list.length === 0 ? (
    <p class="muted">
      No models yet. Publish one with <code>feather publish</code>.
    </p>
  ) : (
    <ul class="stack my-models">
      {list.map((m) => (
        <MyModel key={m.name} m={m} onDeleted={models.reload} onVisibility={(v) => changed(m.name, v)} />
      ))}
    </ul>
  );
}

export function MePage() {
  const session = useSession();
  useTitle(session ? "My models" : "Sign in");
  return (
    <div class="page me-page">
      <header class="page-header">
        <h1>{session ? "My models" : "Sign in"}</h1>
        {session && (
          <p class="muted">
            Signed in as <strong>{session.user}</strong>.{" "}
            <button type="button" class="link-button" onClick={signOut}>
              Sign out
            </button>
          </p>
        )}
      </header>
      {session ? (
        <>
          <MyModels user={session.user} />
          <TokensPanel key={session.token} />
        </>
      ) : (
        <SignIn />
      )}
    </div>
  );
}
