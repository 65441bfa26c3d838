// An example value for each input component, valid against its props, for the API snippets.

import type { Cell, CellType, InputComponent } from "../api/types";

/** A file the snippet uploads first; it stands where the file's `{"id": ...}` goes. */
export class FileExample {
  constructor(
    readonly filename: string,
    /** A shell variable name for its id. */
    readonly variable: string,
  ) {}
}

/** An array of one value repeated, written as an expression in each language rather than
 * spelt out (an image-sized tensor would be thousands of zeros). */
export class TensorExample {
  constructor(
    /** Each dimension's size. */
    readonly shape: readonly number[],
    readonly fill: number | boolean | string,
  ) {}
}

/** Tensors of at most this many elements are written out in full. */
export const SMALL_TENSOR = 16;

const EXTENSIONS: Record<string, string> = {
  "image/*": "image.png",
  "image/png": "image.png",
  "image/jpeg": "image.jpg",
  "text/*": "notes.txt",
  "text/plain": "notes.txt",
  "text/csv": "data.csv",
  "application/json": "data.json",
  "application/pdf": "document.pdf",
  "audio/*": "sound.wav",
  "video/*": "video.mp4",
};

/** A file name that matches the first of `types`. */
export function exampleFilename(types: readonly string[] | undefined, n?: number): string {
  const t = types?.[0];
  const base = !t
    ? "file.bin"
    : t.startsWith(".")
      ? `file${t}`
      : (EXTENSIONS[t] ?? `file.${t.split("/")[1]?.replace(/[^a-z0-9]/g, "") || "bin"}`);
  if (n === undefined) return base;
  const dot = base.lastIndexOf(".");
  return `${base.slice(0, dot)}-${n}${base.slice(dot)}`;
}

function exampleCell(type: CellType | undefined): Cell {
  return type === "number" ? 1.5 : type === "integer" ? 1 : type === "boolean" ? true : "text";
}

function clamp(x: number, min?: number, max?: number): number {
  return Math.min(max ?? Infinity, Math.max(min ?? -Infinity, x));
}

export function exampleValue(c: InputComponent): unknown {
  const variable = c.id.toUpperCase();
  switch (c.type) {
    case "Text.In": {
      const text = (c.default_text || "Hello").slice(0, c.max_chars ?? 10_000);
      const n = c.num_inputs ?? 1;
      return n === 1 ? text : Array.from({ length: n }, () => text);
    }
    case "Number.In": {
      if (c.default !== undefined) return c.default;
      const x = clamp(0, c.min, c.max);
      return c.integer ? Math.ceil(x) : x;
    }
    case "Slider":
      return c.default ?? c.min;
    case "Checkbox":
      return c.default ?? false;
    case "List.SelectOne":
      return c.default ?? c.items[0];
    case "List.SelectMulti": {
      if (c.default?.length) return c.default;
      const n = Math.min(Math.max(c.min_selected ?? 0, 1), c.max_selected ?? c.items.length);
      return c.items.slice(0, n);
    }
    case "File.Upload": {
      const n = Math.min(Math.max(c.min_files ?? 1, 1), c.max_files ?? 1);
      if (n === 1) return [new FileExample(exampleFilename(c.types), variable)];
      return Array.from(
        { length: n },
        (_, i) => new FileExample(exampleFilename(c.types, i + 1), `${variable}_${i + 1}`),
      );
    }
    case "Image.Upload":
      return new FileExample(exampleFilename(c.types ?? ["image/*"]), variable);
    case "Image.WithSelectOne":
      return c.default ?? c.lists.map((l) => l[0]);
    case "Image.WithSelectMulti":
      return c.lists.map((l) => l.slice(0, 1));
    case "Image.WithTextIn":
      return c.default_text ?? c.images.map(() => "text");
    case "Document.WithTextIn":
      return c.default_text ?? c.documents.map(() => "text");
    case "Table.In": {
      if (c.default) return c.default;
      const rows = Math.max(c.min_rows ?? 1, 1);
      return Array.from({ length: rows }, () => c.columns.map((col) => exampleCell(col.type)));
    }
    case "Tensor.In": {
      if (c.default !== undefined) return c.default;
      const shape = c.shape.map((d) => (d > 0 ? d : 1));
      const fill = c.dtype === "bool" ? false : c.dtype === "string" ? "text" : 0;
      const count = shape.reduce((a, b) => a * b, 1);
      if (count > SMALL_TENSOR) return new TensorExample(shape, fill);
      const nest = (dims: number[]): unknown => {
        const [d = 0, ...rest] = dims;
        return dims.length === 0 ? fill : Array.from({ length: d }, () => nest(rest));
      };
      return nest(shape);
    }
  }
}
