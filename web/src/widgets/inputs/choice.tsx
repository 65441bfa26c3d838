// Checkbox, List.SelectOne and List.SelectMulti, in their radio, checkbox or dropdown styles.

import type { Checkbox, SelectMulti, SelectOne } from "../../api/types";
import { aria, type InputProps } from "../types";

export function CheckboxInput(p: InputProps<Checkbox, boolean>) {
  return (
    <input
      id={p.id}
      type="checkbox"
      checked={p.value}
      disabled={p.disabled}
      {...aria(p)}
      onChange={(e) => p.onChange(e.currentTarget.checked)}
    />
  );
}

export function SelectOneInput(p: InputProps<SelectOne, string | null>) {
  if (p.c.style === "dropdown") {
    return (
      <select
        id={p.id}
        value={p.value ?? ""}
        disabled={p.disabled}
        {...aria(p)}
        onChange={(e) => p.onChange(e.currentTarget.value || null)}
      >
        <option value="" disabled>
          Choose…
        </option>
        {p.c.items.map((item) => (
          <option key={item} value={item}>
            {item}
          </option>
        ))}
      </select>
    );
  }
  return (
    <div class="choices" role="radiogroup" id={p.id}>
      {p.c.items.map((item, i) => (
        <label key={item} class="choice">
          <input
            type="radio"
            name={p.id}
            id={`${p.id}-${i}`}
            value={item}
            checked={p.value === item}
            disabled={p.disabled}
            {...aria(p)}
            onChange={() => p.onChange(item)}
          />
          <span>{item}</span>
        </label>
      ))}
    </div>
  );
}

export function SelectMultiInput(p: InputProps<SelectMulti, string[]>) {
  const chosen = new Set(p.value);
  // Answers keep the order of the items, whatever the order of the clicks.
  const toggle = (item: string, on: boolean) =>
    p.onChange(p.c.items.filter((x) => (x === item ? on : chosen.has(x))));
  if (p.c.style === "dropdown") {
    return (
      <select
        id={p.id}
        multiple
        size={Math.min(p.c.items.length, 6)}
        disabled={p.disabled}
        {...aria(p)}
        onChange={(e) => p.onChange([...e.currentTarget.selectedOptions].map((o) => o.value))}
      >
        {p.c.items.map((item) => (
          <option key={item} value={item} selected={chosen.has(item)}>
            {item}
          </option>
        ))}
      </select>
    );
  }
  return (
    <div class="choices" id={p.id}>
      {p.c.items.map((item, i) => (
        <label key={item} class="choice">
          <input
            type="checkbox"
            id={`${p.id}-${i}`}
            value={item}
            checked={chosen.has(item)}
            disabled={p.disabled}
            {...aria(p)}
            onChange={(e) => toggle(item, e.currentTarget.checked)}
          />
          <span>{item}</span>
        </label>
      ))}
    </div>
  );
}
