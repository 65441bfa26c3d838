// What each input widget holds before the person touches it, from the component's defaults.

import type { Cell, CellType, InputComponent } from "../api/types";
import type { PendingFile } from "./files";

/** The values of a form, by component id. File inputs hold PendingFile objects until sent. */
export type Values = Record<string, unknown>;

export type FileValue = PendingFile[];

export function emptyCell(type: CellType | undefined): Cell {
  return type === "boolean" ? false : type === "number" || type === "integer" ? null : "";
}

export function initialValue(c: InputComponent): unknown {
  switch (c.type) {
    case "Text.In": {
      const n = c.num_inputs ?? 1;
      const text = c.default_text ?? "";
      return n === 1 ? text : Array.from({ length: n }, () => text);
    }
    case "Number.In":
      return c.default ?? null;
    case "Slider":
      return c.default ?? c.min;
    case "Checkbox":
      return c.default ?? false;
    case "List.SelectOne":
      return c.default ?? null;
    case "List.SelectMulti":
      return [...(c.default ?? [])];
    case "File.Upload":
      return [];
    case "Image.Upload":
      return null;
    case "Image.WithSelectOne":
      // A list comes likeliest first, so the first item is the model's guess to confirm.
      return c.images.map((_, i) => c.default?.[i] ?? c.lists[i]?.[0] ?? null);
    case "Image.WithSelectMulti":
      return c.images.map(() => []);
    case "Image.WithTextIn":
      return c.images.map((_, i) => c.default_text?.[i] ?? "");
    case "Document.WithTextIn":
      return c.documents.map((_, i) => c.default_text?.[i] ?? "");
    case "Table.In": {
      if (c.default) return c.default.map((r) => [...r]);
      const rows = Math.max(c.min_rows ?? 1, 1);
      return Array.from({ length: rows }, () => c.columns.map((col) => emptyCell(col.type)));
    }
    case "Tensor.In":
      return c.default ?? null;
  }
}

export function initialValues(components: readonly InputComponent[]): Values {
  return Object.fromEntries(components.map((c) => [c.id, initialValue(c)]));
}

/** Inputs whose example names files of the bundle rather than giving a value. */
export const takesExampleFiles = (c: InputComponent) => c.type === "File.Upload" || c.type === "Image.Upload";

/** A form filled with an example: its values where it gives one, the defaults elsewhere (and
 * for files, which `loadExample` fetches). */
export function exampleValues(components: readonly InputComponent[], example: Record<string, unknown>): Values {
  return Object.fromEntries(
    components.map((c) => [
      c.id,
      c.id in example && !takesExampleFiles(c) ? structuredClone(example[c.id]) : initialValue(c),
    ]),
  );
}
