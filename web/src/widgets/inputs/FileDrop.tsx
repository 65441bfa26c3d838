// A drop zone and file picker that refuses files of the wrong type or size before anything
// is uploaded, and lists what was chosen with previews of images.

import { useRef, useState } from "preact/hooks";
import {
  acceptAttr,
  describeTypes,
  formatBytes,
  type PendingFile,
  pending,
  refuseFile,
} from "../../catalogue/files";
import { aria } from "../types";
import { Preview } from "./Preview";

interface Props {
  id: string;
  types: readonly string[];
  maxSize: number;
  /** At most this many files; 1 makes a new file replace the old one. */
  maxFiles: number;
  files: PendingFile[];
  onFiles: (files: PendingFile[]) => void;
  invalid: boolean;
  describedBy: string | undefined;
  disabled?: boolean | undefined;
  /** The big preview of a single image. */
  large?: boolean;
}

export function FileDrop(p: Props) {
  const [refused, setRefused] = useState<string[]>([]);
  const [over, setOver] = useState(false);
  const input = useRef<HTMLInputElement>(null);
  const noteId = `${p.id}-refused`;

  const add = (list: FileList | null) => {
    if (!list || p.disabled) return;
    const why: string[] = [];
    const ok: PendingFile[] = [];
    for (const f of Array.from(list)) {
      const reason = refuseFile(f, p.types, p.maxSize);
      if (reason) why.push(reason);
      else ok.push(pending(f));
    }
    let next = p.maxFiles === 1 ? ok.slice(-1) : [...p.files, ...ok];
    if (p.maxFiles === 1 && ok.length === 0) next = p.files;
    if (next.length > p.maxFiles) {
      why.push(`At most ${p.maxFiles} files: ${next.length - p.maxFiles} left out`);
      next = next.slice(0, p.maxFiles);
    }
    setRefused(why);
    if (ok.length) p.onFiles(next);
  };

  const remove = (key: string) => {
    setRefused([]);
    p.onFiles(p.files.filter((f) => f.key !== key));
  };

  const hint = [
    p.types.length ? describeTypes(p.types) : "any type",
    `up to ${formatBytes(p.maxSize)}${p.maxFiles > 1 ? " each" : ""}`,
    p.maxFiles > 1 ? `${p.maxFiles} files at most` : null,
  ]
    .filter(Boolean)
    .join(" · ");
  const described = [p.describedBy, refused.length ? noteId : null].filter(Boolean).join(" ") || undefined;

  return (
    <div class="file-drop-wrap">
      <div
        class={`file-drop${over ? " file-drop--over" : ""}${p.disabled ? " file-drop--disabled" : ""}`}
        // The whole zone opens the picker; the input itself stays the focusable, labelled control.
        onClick={(e) => {
          if (e.target !== input.current) input.current?.click();
        }}
        onDragOver={(e) => {
          e.preventDefault();
          setOver(true);
        }}
        onDragLeave={() => setOver(false)}
        onDrop={(e) => {
          e.preventDefault();
          setOver(false);
          add(e.dataTransfer?.files ?? null);
        }}
      >
        <input
          ref={input}
          id={p.id}
          class="visually-hidden"
          type="file"
          accept={acceptAttr(p.types)}
          multiple={p.maxFiles > 1}
          disabled={p.disabled}
          {...aria({ invalid: p.invalid || refused.length > 0, describedBy: described })}
          onChange={(e) => {
            add(e.currentTarget.files);
            // The same file can be chosen again after it was removed.
            e.currentTarget.value = "";
          }}
        />
        <span class="file-drop-text" aria-hidden="true">
          <strong>Drop {p.maxFiles > 1 ? "files" : "a file"} here</strong> or <u>choose</u>
        </span>
        <span class="file-drop-hint">{hint}</span>
      </div>
      {refused.length > 0 && (
        <ul class="field-errors" id={noteId} role="alert">
          {refused.map((r, i) => (
            <li key={i}>{r}</li>
          ))}
        </ul>
      )}
      {p.files.length > 0 && (
        <ul class={`file-list${p.large ? " file-list--large" : ""}`}>
          {p.files.map((f) => (
            <li key={f.key} class="file-item">
              {f.file.type.startsWith("image/") && (
                <Preview file={f.file} alt={f.file.name} class={p.large ? "preview" : "thumb"} />
              )}
              <span class="file-name">{f.file.name}</span>
              <span class="file-size">{formatBytes(f.file.size)}</span>
              {!p.disabled && (
                <button type="button" class="link-button" onClick={() => remove(f.key)} aria-label={`Remove ${f.file.name}`}>
                  Remove
                </button>
              )}
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}
