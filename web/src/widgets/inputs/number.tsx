// Number.In and Slider: numbers typed or picked, given to the form as numbers (or null).

import { useEffect, useState } from "preact/hooks";
import type { NumberIn, Slider } from "../../api/types";
import { aria, type InputProps } from "../types";

const show = (v: number | null) => (v === null || Number.isNaN(v) ? "" : String(v));

export function NumberInput(p: InputProps<NumberIn, number | null>) {
  // The text is kept as typed ("1." or "-"), so the number is only read, never forced back.
  const [text, setText] = useState(show(p.value));
  useEffect(() => {
    if (Number(text) !== p.value && !(text === "" && p.value === null)) setText(show(p.value));
  }, [p.value]);
  const step = p.c.step ?? (p.c.integer ? 1 : "any");
  return (
    <input
      id={p.id}
      type="number"
      inputMode={p.c.integer ? "numeric" : "decimal"}
      value={text}
      min={p.c.min}
      max={p.c.max}
      step={step}
      disabled={p.disabled}
      {...aria(p)}
      onInput={(e) => {
        const t = e.currentTarget.value;
        setText(t);
        p.onChange(t.trim() === "" ? null : Number(t));
      }}
    />
  );
}

export function SliderInput(p: InputProps<Slider, number>) {
  return (
    <div class="slider">
      <input
        id={p.id}
        type="range"
        min={p.c.min}
        max={p.c.max}
        step={p.c.step ?? 1}
        value={p.value}
        disabled={p.disabled}
        {...aria(p)}
        onInput={(e) => p.onChange(Number(e.currentTarget.value))}
      />
      <output for={p.id} class="slider-value">
        {p.value}
      </output>
    </div>
  );
}
