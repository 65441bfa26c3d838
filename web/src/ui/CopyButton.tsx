// Copies a text to the clipboard and says so.

import { useState } from "preact/hooks";

export function CopyButton({ text, label = "Copy" }: { text: string; label?: string }) {
  const [done, setDone] = useState<"copied" | "failed" | null>(null);
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(text);
      setDone("copied");
    } catch {
      // Clipboard access needs a secure context; the text stays selectable.
      setDone("failed");
    }
    window.setTimeout(() => setDone(null), 2000);
  };
  return (
    <button type="button" class="button button--small" onClick={copy}>
      {done === "copied" ? "Copied" : done === "failed" ? "Select and copy" : label}
      <span class="visually-hidden" role="status">
        {done === "copied" ? "Copied to the clipboard" : ""}
      </span>
    </button>
  );
}
