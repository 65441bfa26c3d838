// Problems (the server's 422 and the portal's own checks share one shape) placed beside the
// field they are about, with the rest of the path said in words.

import type { Component, Problem } from "../api/types";

export interface FieldErrors {
  /** Messages by component id. */
  fields: Record<string, string[]>;
  /** Messages that belong to no field of the form. */
  general: string[];
}

const cap = (s: string) => s.charAt(0).toUpperCase() + s.slice(1);

/** Words for the part of a path inside a component's value, such as "row 2, x". */
export function describeSubpath(c: Component, rest: string[]): string {
  const [first, second] = rest;
  const n = first !== undefined && /^\d+$/.test(first) ? Number(first) + 1 : null;
  switch (c.type) {
    case "File.Upload":
      return n === null ? rest.join(" ") : `file ${n}${second ? ` (${second})` : ""}`;
    case "Image.Upload":
      return rest.join(" ");
    case "Text.In":
      return n === null ? "" : `field ${n}`;
    case "Table.In": {
      if (n === null) return "";
      const col = second !== undefined ? c.columns[Number(second)]?.name : undefined;
      return col ? `row ${n}, ${col}` : `row ${n}`;
    }
    case "Image.WithSelectOne":
    case "Image.WithSelectMulti":
    case "Image.WithTextIn":
      return n === null ? "" : `image ${n}`;
    case "Document.WithTextIn":
      return n === null ? "" : `document ${n}`;
    case "List.SelectMulti":
      return n === null ? "" : `choice ${n}`;
    case "Tensor.In":
      // Zero-based, as the array is indexed in code: "at [0][2]".
      return rest.length ? `at ${rest.map((i) => `[${i}]`).join("")}` : "";
    default:
      return rest.join(" ");
  }
}

/** Splits problems by the component of `/inputs/<id>/...`; the rest are general. */
export function fieldErrors(problems: readonly Problem[], components: readonly Component[]): FieldErrors {
  const out: FieldErrors = { fields: {}, general: [] };
  for (const p of problems) {
    const parts = p.path.split("/").slice(1).map((s) => s.replace(/~1/g, "/").replace(/~0/g, "~"));
    const c = parts[0] === "inputs" ? components.find((x) => x.id === parts[1]) : undefined;
    if (!c) {
      out.general.push(p.path ? `${p.path}: ${p.reason}` : p.reason);
      continue;
    }
    const where = describeSubpath(c, parts.slice(2));
    const message = where ? `${cap(where)}: ${p.reason}` : cap(p.reason);
    (out.fields[c.id] ??= []).push(message);
  }
  return out;
}
