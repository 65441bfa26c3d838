// The API tab's code: curl, Python (requests) and JavaScript (fetch) calls of one model, with
// example inputs from its init components. Files are uploaded first and passed by id.

import { modelRef } from "../api/endpoints";
import type { InputComponent, Manifest } from "../api/types";
import { isInput } from "../catalogue/kinds";
import { exampleValue } from "./examples";
import { filesIn, literal } from "./literal";

export interface SnippetTarget {
  /** Where the server is, such as `https://feather.example.org`. */
  server: string;
  owner: string;
  name: string;
  /** A version number or alias; absent: the latest. */
  version?: string | number;
  manifest: Pick<Manifest, "init" | "steps"> & Partial<Pick<Manifest, "examples">>;
}

export interface Snippets {
  curl: string;
  python: string;
  javascript: string;
}

/** Example inputs of a manifest's first step: its first example's values where it gives them
 * (an example's files are the bundle's, named by path, so the call runs as written), else
 * values made from each input's props, with files to upload where files go. */
export function exampleInputs(
  init: readonly InputComponent[],
  example: Record<string, unknown> = {},
): Record<string, unknown> {
  return Object.fromEntries(init.filter(isInput).map((c) => [c.id, c.id in example ? example[c.id] : exampleValue(c)]));
}

function endpoint(t: SnippetTarget): { path: string; oneCall: boolean } {
  // A one-step model has the one-call route; a longer one starts a run to answer step by step.
  const oneCall = t.manifest.steps.length === 1;
  return { path: `/api/v1/models/${modelRef(t.owner, t.name, t.version)}/${oneCall ? "predict" : "runs"}`, oneCall };
}

function curl(t: SnippetTarget, inputs: Record<string, unknown>): string {
  const { path, oneCall } = endpoint(t);
  const lines = [`S=${t.server}`];
  const files = filesIn(inputs);
  if (files.length) lines.push("# Upload each file first; inputs refer to files by id.");
  for (const f of files) {
    lines.push(`${f.variable}=$(curl -s -F file=@${f.filename} $S/api/v1/files | sed -E 's/.*"id":"([^"]+)".*/\\1/')`);
  }
  const body = literal({ inputs }, "json");
  lines.push(`curl -s -X POST $S${path} \\`, `  -H 'content-type: application/json' \\`, `  -d '${body}'`);
  if (!oneCall) {
    lines.push(
      "# The answer's `next.components` are what the run waits for; answer them with:",
      `# curl -s -X POST $S/api/v1/runs/<run id>/steps -H 'content-type: application/json' -d '{"inputs": {...}}'`,
    );
  }
  return lines.join("\n");
}

function python(t: SnippetTarget, inputs: Record<string, unknown>): string {
  const { path, oneCall } = endpoint(t);
  const files = filesIn(inputs).length > 0;
  const lines = ["import requests", "", `SERVER = ${JSON.stringify(t.server)}`, ""];
  if (files) {
    lines.push(
      "",
      "def upload(path):",
      `    with open(path, "rb") as f:`,
      `        r = requests.post(f"{SERVER}/api/v1/files", files={"file": f})`,
      "    r.raise_for_status()",
      `    return {"id": r.json()["id"]}`,
      "",
      "",
    );
  }
  lines.push(
    `inputs = ${literal(inputs, "python")}`,
    `r = requests.post(f"{SERVER}${path}", json={"inputs": inputs})`,
    "r.raise_for_status()",
  );
  if (oneCall) {
    lines.push(`for output in r.json()["outputs"]:`, "    print(output)");
  } else {
    lines.push(
      "run = r.json()",
      `print(run["steps"][-1]["outputs"])`,
      `# run["next"]["components"] are what the run waits for; answer them with:`,
      `# requests.post(f"{SERVER}/api/v1/runs/{run['id']}/steps", json={"inputs": {...}})`,
    );
  }
  return lines.join("\n");
}

function javascript(t: SnippetTarget, inputs: Record<string, unknown>): string {
  const { path, oneCall } = endpoint(t);
  const files = filesIn(inputs).length > 0;
  const lines = ["// An ES module (top-level await): save as call.mjs and run with node.", `const SERVER = ${JSON.stringify(t.server)};`, ""];
  if (files) {
    lines.push(
      "// In Node 18+; in a browser, append a File from an <input type=\"file\"> instead.",
      "async function upload(path) {",
      `  const { readFile } = await import("node:fs/promises");`,
      "  const form = new FormData();",
      `  form.append("file", new Blob([await readFile(path)]), path.split("/").pop());`,
      "  const res = await fetch(`${SERVER}/api/v1/files`, { method: \"POST\", body: form });",
      "  const body = await res.json();",
      "  if (!res.ok) throw new Error(body.error.message);",
      "  return { id: body.id };",
      "}",
      "",
    );
  }
  lines.push(
    `const inputs = ${literal(inputs, "js")};`,
    `const res = await fetch(\`\${SERVER}${path}\`, {`,
    `  method: "POST",`,
    `  headers: { "content-type": "application/json" },`,
    "  body: JSON.stringify({ inputs }),",
    "});",
    "const body = await res.json();",
    "if (!res.ok) throw new Error(body.error.message);",
  );
  if (oneCall) lines.push("console.log(body.outputs);");
  else {
    lines.push(
      "console.log(body.steps.at(-1).outputs);",
      "// body.next.components are what the run waits for; answer them with",
      "// POST `${SERVER}/api/v1/runs/${body.id}/steps` and {\"inputs\": {...}}.",
    );
  }
  return lines.join("\n");
}

export function snippets(t: SnippetTarget): Snippets {
  const inputs = exampleInputs(t.manifest.init as InputComponent[], t.manifest.examples?.[0] ?? {});
  return { curl: curl(t, inputs), python: python(t, inputs), javascript: javascript(t, inputs) };
}
