// Tensor.In: the array typed or pasted as JSON, or loaded from a NumPy .npy (or .json) file.

import { useEffect, useRef, useState } from "preact/hooks";
import type { TensorIn } from "../../api/types";
import { titleOf } from "../../catalogue/kinds";
import { describeTensor, NpyError, parseTensorText, readNpy, Unparsed } from "../../catalogue/tensor";
import { aria, type InputProps } from "../types";

const LARGE = 200_000;

function show(v: unknown): string {
  if (v === null || v === undefined) return "";
  if (v instanceof Unparsed) return v.text;
  return JSON.stringify(v);
}

function bytes(file: File): Promise<ArrayBuffer> {
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => resolve(reader.result as ArrayBuffer);
    reader.onerror = () => reject(reader.error ?? new Error(`${file.name} could not be read`));
    reader.readAsArrayBuffer(file);
  });
}

export function TensorInput(p: InputProps<TensorIn, unknown>) {
  // The text is kept as typed; the value is what it parses to (or why it does not).
  const [text, setText] = useState(show(p.value));
  const [note, setNote] = useState("");
  const picker = useRef<HTMLInputElement>(null);
  useEffect(() => {
    if (!(p.value instanceof Unparsed) && show(p.value) !== text.trim()) setText(show(p.value));
  }, [p.value]);

  const load = async (file: File | undefined) => {
    if (!file) return;
    try {
      const buf = await bytes(file);
      const value = file.name.toLowerCase().endsWith(".json") ? JSON.parse(new TextDecoder().decode(buf)) : readNpy(buf);
      const shown = JSON.stringify(value);
      setNote(`Loaded ${file.name}.`);
      setText(shown.length > LARGE ? "" : shown);
      p.onChange(value);
    } catch (e) {
      setNote(e instanceof NpyError || e instanceof SyntaxError ? `${file.name}: ${e.message}` : String(e));
    }
  };

  const large = text === "" && p.value !== null && p.value !== undefined && !(p.value instanceof Unparsed);
  return (
    <div class="stack tensor-input">
      <p class="muted" id={`${p.id}-shape`}>
        An array of {describeTensor(p.c)}, as JSON
      </p>
      <textarea
        id={p.id}
        rows={5}
        spellcheck={false}
        value={text}
        placeholder={large ? "A large array was loaded from a file." : "[[0.1, 0.2], [0.3, 0.4]]"}
        disabled={p.disabled}
        {...aria(p)}
        onInput={(e) => {
          const t = e.currentTarget.value;
          setText(t);
          setNote("");
          p.onChange(parseTensorText(t));
        }}
      />
      {!p.disabled && (
        <div>
          <button type="button" class="button button--small" onClick={() => picker.current?.click()}>
            Load a .npy or .json file
          </button>
          <input
            ref={picker}
            type="file"
            accept=".npy,.json,application/json"
            class="visually-hidden"
            tabIndex={-1}
            aria-label={`File for ${titleOf(p.c)}`}
            onChange={(e) => void load(e.currentTarget.files?.[0])}
          />
        </div>
      )}
      {note && (
        <p class="muted" role="status">
          {note}
        </p>
      )}
    </div>
  );
}
