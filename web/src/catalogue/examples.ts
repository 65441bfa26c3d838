// An example as a form holds it. The files it names are fetched from the version's bundle, so
// the form shows and checks them as it does picked ones; they are sent back by path.

import { getBlob } from "../api/client";
import type { FileRef, InputComponent } from "../api/types";
import { type BundleOf, bundleFileUrl } from "./bundle";
import { pending, type PendingFile, refName } from "./files";
import { exampleValues, takesExampleFiles, type Values } from "./values";

export type FetchBlob = (url: string) => Promise<Blob>;

/** The refs of an example's value for a file input: one, a list, or none. */
export function exampleRefs(v: unknown): FileRef[] {
  const list = Array.isArray(v) ? v : v ? [v] : [];
  return list.filter((r): r is FileRef => typeof r === "object" && r !== null && typeof (r as FileRef).path === "string");
}

async function fetchRef(ref: FileRef, bundle: BundleOf, fetchBlob: FetchBlob): Promise<PendingFile> {
  const blob = await fetchBlob(bundleFileUrl(bundle, ref.path!));
  const name = refName(ref);
  // The server names the type of a bundle file by its extension, as it checks examples.
  return pending(new File([blob], name, { type: ref.type ?? blob.type }), ref);
}

/** The form's values for an example; without a bundle to fetch from, file inputs stay empty. */
export async function loadExample(
  inputs: readonly InputComponent[],
  example: Record<string, unknown>,
  bundle: BundleOf | null,
  fetchBlob: FetchBlob = getBlob,
): Promise<Values> {
  const values = exampleValues(inputs, example);
  if (!bundle) return values;
  for (const c of inputs.filter((c) => takesExampleFiles(c) && c.id in example)) {
    const files = await Promise.all(exampleRefs(example[c.id]).map((r) => fetchRef(r, bundle, fetchBlob)));
    values[c.id] = c.type === "Image.Upload" ? (files[0] ?? null) : files;
  }
  return values;
}
