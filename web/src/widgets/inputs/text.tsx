// Text.In: one field, or `num_inputs` of them.

import type { TextIn } from "../../api/types";
import { titleOf } from "../../catalogue/kinds";
import { aria, type InputProps } from "../types";

type Props = InputProps<TextIn, string | string[]>;

function Box(p: { c: TextIn; id: string; value: string; set: (s: string) => void; label?: string } & Omit<Props, "c" | "value" | "onChange" | "id">) {
  const common = {
    id: p.id,
    value: p.value,
    placeholder: p.c.placeholder || undefined,
    maxLength: p.c.max_chars,
    disabled: p.disabled,
    "aria-label": p.label,
    onInput: (e: Event) => p.set((e.currentTarget as HTMLInputElement).value),
    ...aria(p),
  };
  return p.c.multiline ? <textarea rows={4} {...common} /> : <input type="text" {...common} />;
}

export function TextInput(p: Props) {
  const n = p.c.num_inputs ?? 1;
  if (n === 1 || !Array.isArray(p.value)) {
    return <Box {...p} value={typeof p.value === "string" ? p.value : ""} set={p.onChange} />;
  }
  const list = p.value;
  return (
    <div class="stack">
      {list.map((v, i) => (
        <Box
          key={i}
          {...p}
          id={`${p.id}-${i}`}
          value={v}
          label={`${titleOf(p.c)} ${i + 1}`}
          set={(s) => p.onChange(list.map((x, j) => (j === i ? s : x)))}
        />
      ))}
    </div>
  );
}
