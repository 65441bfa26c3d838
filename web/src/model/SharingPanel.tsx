// Who may see a model: everyone, or only its owner, the users it is shared with, and admins.

import { useState } from "preact/hooks";
import { setVisibility } from "../api/endpoints";
import type { Model } from "../api/types";
import { ErrorBox } from "../ui/ErrorBox";
import { GrantList } from "./GrantList";

type Visibility = NonNullable<Model["visibility"]>;

interface Props {
  owner: string;
  name: string;
  visibility: Visibility;
  /** Called with the visibility the server now has. */
  onChanged: (v: Visibility) => void;
}

export function SharingPanel({ owner, name, visibility, onChanged }: Props) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const isPrivate = visibility === "private";
  const next: Visibility = isPrivate ? "public" : "private";
  return (
    <div class="sharing">
      <div class="sharing-row">
        <span>
          {isPrivate ? (
            <>
              <strong>Private</strong>: seen only by you, the users you share it with, and admins.
            </>
          ) : (
            <>
              <strong>Public</strong>: anyone can find it and run it.
            </>
          )}
        </span>
        <button
          type="button"
          class="button button--small"
          disabled={busy}
          onClick={async () => {
            setError(null);
            setBusy(true);
            try {
              const m = await setVisibility(owner, name, next);
              onChanged(m.visibility ?? next);
            } catch (e) {
              setError(e);
            } finally {
              setBusy(false);
            }
          }}
        >
          {busy ? "Saving…" : isPrivate ? "Make public" : "Make private"}
        </button>
      </div>
      {error !== null && <ErrorBox error={error} />}
      {/* Shares matter only while the model is private: listed on a public one, they would
          suggest a limit that is not there. The server keeps them, so they return with privacy,
          and a public model costs no request for them. */}
      {isPrivate && <GrantList owner={owner} name={name} />}
    </div>
  );
}
