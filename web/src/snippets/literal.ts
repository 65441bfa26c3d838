// Values written as source code in each snippet language. One writer for the three, so an
// example reads the same in JSON (for curl), Python and JavaScript.

import { FileExample, TensorExample } from "./examples";

export type Lang = "json" | "python" | "js";

// JSON has no trailing commas; Python and JavaScript read better with them.
const tail = (lang: Lang) => (lang === "json" ? "" : ",");

// Python's style is four spaces; JSON and JavaScript are usually written with two.
const step = (lang: Lang) => (lang === "python" ? "    " : "  ");

/** Containers that fit on a line stay on one. */
const WIDTH = 72;

const IDENT = /^[A-Za-z_$][A-Za-z0-9_$]*$/;

function string(s: string, lang: Lang): string {
  const q = JSON.stringify(s);
  // curl's body sits inside single quotes in the shell.
  return lang === "json" ? q.replace(/'/g, "'\\''") : q;
}

function file(f: FileExample, lang: Lang): string {
  if (lang === "json") return `{"id": "'"$${f.variable}"'"}`;
  if (lang === "python") return `upload("${f.filename}")`;
  return `await upload("${f.filename}")`;
}

function tensor(t: TensorExample, lang: Lang): string {
  const one = scalar(t.fill, lang === "json" ? "python" : lang) ?? "0";
  if (lang === "js") {
    return t.shape.reduceRight(
      (inner, d) => (inner === one ? `Array(${d}).fill(${one})` : `Array.from({ length: ${d} }, () => ${inner})`),
      one,
    );
  }
  // Python repeats a list with `*`; curl's body takes the same expression printed as JSON.
  const python = t.shape.reduceRight((inner, d) => `[${inner}] * ${d}`, one);
  if (lang === "python") return python;
  return `'"$(python3 -c 'import json; print(json.dumps(${python}))')"'`;
}

function scalar(v: unknown, lang: Lang): string | null {
  if (v === null || v === undefined) return lang === "python" ? "None" : "null";
  if (typeof v === "boolean") return lang === "python" ? (v ? "True" : "False") : String(v);
  if (typeof v === "number") return Number.isFinite(v) ? String(v) : "null";
  if (typeof v === "string") return string(v, lang);
  if (v instanceof FileExample) return file(v, lang);
  if (v instanceof TensorExample) return tensor(v, lang);
  return null;
}

/** `v` as source; containers that fit stay on one line, others get one item a line. */
export function literal(v: unknown, lang: Lang, indent = ""): string {
  const s = scalar(v, lang);
  if (s !== null) return s;
  const inner = indent + step(lang);
  if (Array.isArray(v)) {
    const items = v.map((x) => literal(x, lang, inner));
    const flat = `[${items.join(", ")}]`;
    if (!items.some((x) => x.includes("\n")) && flat.length <= WIDTH) return flat;
    return `[\n${items.map((x) => inner + x).join(",\n")}${tail(lang)}\n${indent}]`;
  }
  const entries = Object.entries(v as Record<string, unknown>);
  if (entries.length === 0) return "{}";
  const key = (k: string) => (lang === "js" && IDENT.test(k) ? k : JSON.stringify(k));
  const pairs = entries.map(([k, x]) => `${key(k)}: ${literal(x, lang, inner)}`);
  const flat = `{${pairs.join(", ")}}`;
  if (!pairs.some((x) => x.includes("\n")) && flat.length <= WIDTH) return flat;
  const lines = pairs.map((x) => inner + x);
  return `{\n${lines.join(",\n")}${tail(lang)}\n${indent}}`;
}

/** Every file example inside a value, in order. */
export function filesIn(v: unknown): FileExample[] {
  if (v instanceof FileExample) return [v];
  if (Array.isArray(v)) return v.flatMap(filesIn);
  if (v && typeof v === "object") return Object.values(v).flatMap(filesIn);
  return [];
}
