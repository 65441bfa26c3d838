// The signed-in user's tokens, newest first: which still sign in, which one this browser uses,
// revoking them, and making new ones.

import { ApiError } from "../api/client";
import { getMe, listTokens } from "../api/endpoints";
import { useAsync } from "../hooks/useAsync";
import { ErrorBox } from "../ui/ErrorBox";
import { Busy } from "../ui/Spinner";
import { NewTokenForm } from "./NewTokenForm";
import { TokenItem } from "./TokenItem";

function Tokens() {
  const me = useAsync(() => getMe(), []);
  const tokens = useAsync(listTokens, []);
  const error = me.error ?? tokens.error;
  if (error !== undefined) {
    // A server from before accounts has neither route: its tokens live in its command line only.
    if (error instanceof ApiError && error.status === 404) {
      return (
        <p class="muted">
          This server manages tokens with <code>feather token</code> only.
        </p>
      );
    }
    return <ErrorBox error={error} />;
  }
  if (!me.data || !tokens.data) return <Busy text="Loading your tokens…" />;
  const current = me.data.token;
  return (
    <>
      <ul class="token-list">
        {tokens.data.map((t) => (
          <TokenItem key={t.id} t={t} current={t.id === current} onRevoked={tokens.reload} />
        ))}
      </ul>
      <NewTokenForm me={me.data} onCreated={tokens.reload} />
    </>
  );
}

export function TokensPanel() {
  return (
    <section class="card tokens" aria-labelledby="tokens-title">
      <h2 id="tokens-title">Tokens</h2>
      <p class="muted">
        A token signs in as you from a script, a machine or a browser. A revoked token is refused at once.
      </p>
      <Tokens />
    </section>
  );
}
