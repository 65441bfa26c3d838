// A destructive action asked twice: the first press shows what will happen and a second
// button that does it. Inline rather than a browser dialog, so it reads and tabs like the page.

import { useEffect, useRef, useState } from "preact/hooks";

interface Props {
  label: string;
  /** What the second press will do, in a sentence. */
  question: string;
  confirmLabel: string;
  /** Shown while it runs; not every destructive action deletes something. */
  busyLabel?: string;
  onConfirm: () => Promise<void>;
}

export function ConfirmButton({ label, question, confirmLabel, busyLabel = "Deleting…", onConfirm }: Props) {
  const [asking, setAsking] = useState(false);
  const [busy, setBusy] = useState(false);
  const cancel = useRef<HTMLButtonElement>(null);
  useEffect(() => {
    if (asking) cancel.current?.focus();
  }, [asking]);
  if (!asking) {
    return (
      <button type="button" class="button button--danger-quiet button--small" onClick={() => setAsking(true)}>
        {label}
      </button>
    );
  }
  return (
    <div class="confirm" role="group" aria-label={question}>
      <span class="confirm-question">{question}</span>
      <button
        type="button"
        class="button button--danger button--small"
        disabled={busy}
        onClick={async () => {
          setBusy(true);
          try {
            await onConfirm();
          } finally {
            setBusy(false);
            setAsking(false);
          }
        }}
      >
        {busy ? busyLabel : confirmLabel}
      </button>
      <button ref={cancel} type="button" class="button button--small" disabled={busy} onClick={() => setAsking(false)}>
        Cancel
      </button>
    </div>
  );
}
