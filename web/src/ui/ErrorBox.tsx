// An error as a readable box: what happened, the server's message, and the traceback folded
// away for those who want it.

import { describeError } from "../api/describe";
import { runHref } from "../router";

export function ErrorBox({ error, children }: { error: unknown; children?: preact.ComponentChildren }) {
  const d = describeError(error);
  return (
    <div class="error-box" role="alert">
      <p class="error-title">{d.title}</p>
      <p class="error-message">{d.message}</p>
      {d.traceback && (
        <details>
          <summary>Traceback (shown to the model's owner)</summary>
          <pre class="log">{d.traceback}</pre>
        </details>
      )}
      {d.run && (
        <p>
          <a href={runHref(d.run)}>Open the run</a>
        </p>
      )}
      {children}
    </div>
  );
}
