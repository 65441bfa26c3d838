// The checks the portal can make before sending: the same rules as the server's validation
// (crates/spec/src/components), reported with the same paths, so one function shows both.

import type { Cell, InputComponent, Problem } from "../api/types";
import { DEFAULT_MAX_SIZE, type PendingFile, refuseFile } from "./files";
import { isInput } from "./kinds";
import { checkTensor } from "./tensor";
import type { Values } from "./values";

type Add = (sub: string, reason: string) => void;

const isEmpty = (v: unknown) => v === null || v === undefined || (Array.isArray(v) && v.length === 0);

function chars(s: string): number {
  return [...s].length;
}

function checkText(add: Add, max: number, v: unknown, sub = "") {
  if (typeof v === "string" && chars(v) > max) add(sub, `must be at most ${max} characters`);
}

function checkCell(add: Add, type: string | undefined, v: Cell, sub: string) {
  if (type === "number" || type === "integer") {
    if (typeof v !== "number" || Number.isNaN(v)) add(sub, "enter a number");
    else if (type === "integer" && !Number.isInteger(v)) add(sub, "must be a whole number");
  }
}

function checkOne(c: InputComponent, v: unknown, add: Add): void {
  switch (c.type) {
    case "Text.In": {
      const max = c.max_chars ?? 10_000;
      if (Array.isArray(v)) v.forEach((s, i) => checkText(add, max, s, `/${i}`));
      else checkText(add, max, v);
      return;
    }
    case "Number.In":
    case "Slider": {
      if (typeof v !== "number" || Number.isNaN(v)) return add("", "enter a number");
      if (c.min !== undefined && v < c.min) return add("", `must be at least ${c.min}`);
      if (c.max !== undefined && v > c.max) return add("", `must be at most ${c.max}`);
      if (c.type === "Number.In" && c.integer && !Number.isInteger(v)) add("", "must be a whole number");
      return;
    }
    case "List.SelectOne":
      if (typeof v !== "string") add("", "choose one");
      return;
    case "List.SelectMulti": {
      const n = Array.isArray(v) ? v.length : 0;
      const lo = c.min_selected ?? 0;
      const hi = c.max_selected ?? c.items.length;
      if (n < lo) add("", `choose at least ${lo}`);
      if (n > hi) add("", `choose at most ${hi}`);
      return;
    }
    case "File.Upload": {
      const files = (v ?? []) as PendingFile[];
      const lo = c.min_files ?? 1;
      const hi = c.max_files ?? 1;
      if (files.length < lo) add("", lo === 1 ? "choose a file" : `choose at least ${lo} files`);
      if (files.length > hi) add("", `choose at most ${hi} file${hi === 1 ? "" : "s"}`);
      files.forEach((f, i) => {
        const why = refuseFile(f.file, c.types ?? [], c.max_size ?? DEFAULT_MAX_SIZE);
        if (why) add(`/${i}`, why);
      });
      return;
    }
    case "Image.Upload": {
      const f = v as PendingFile | null;
      if (!f) return add("", "choose an image");
      const why = refuseFile(f.file, c.types ?? ["image/*"], c.max_size ?? DEFAULT_MAX_SIZE);
      if (why) add("", why);
      return;
    }
    case "Image.WithSelectOne":
      (v as (string | null)[]).forEach((x, i) => {
        if (typeof x !== "string") add(`/${i}`, "choose one");
      });
      return;
    case "Image.WithTextIn":
    case "Document.WithTextIn":
      (v as string[]).forEach((s, i) => checkText(add, c.max_chars ?? 10_000, s, `/${i}`));
      return;
    case "Table.In": {
      const rows = (v ?? []) as Cell[][];
      const lo = c.min_rows ?? 1;
      const hi = c.max_rows ?? 1000;
      if (rows.length < lo) add("", `add at least ${lo} row${lo === 1 ? "" : "s"}`);
      if (rows.length > hi) add("", `at most ${hi} rows`);
      rows.forEach((row, r) => c.columns.forEach((col, k) => checkCell(add, col.type, row[k] ?? null, `/${r}/${k}`)));
      return;
    }
    case "Tensor.In":
      if (v === null || v === undefined) return add("", "enter the values");
      checkTensor(c, v, add);
      return;
    case "Checkbox":
    case "Image.WithSelectMulti":
      return;
  }
}

/** Every problem the portal can see in a form's values, with `/inputs/<id>/...` paths. */
export function checkValues(components: readonly InputComponent[], values: Values): Problem[] {
  const problems: Problem[] = [];
  for (const c of components.filter(isInput)) {
    const v = values[c.id];
    const add: Add = (sub, reason) => problems.push({ path: `/inputs/${c.id}${sub}`, reason });
    // An input that is not required may stay empty; the server accepts null for it.
    if (isEmpty(v) && c.required === false) continue;
    checkOne(c, v, add);
  }
  return problems;
}
