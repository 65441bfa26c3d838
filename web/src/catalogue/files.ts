// Files chosen in the browser, checked against a component's `types` and `max_size` before
// any byte is uploaded, with the same matching rules as the server (crates/spec, type_matches).

import { fileUrl } from "../api/endpoints";
import { type BundleOf, bundleFileUrl } from "./bundle";
import type { FileRef, StoredFile } from "../api/types";

/** A file the person picked; `stored` is set once it is uploaded, so a retry sends it once.
 * A file an example gave keeps its `bundle` reference: it is sent by path, never uploaded. */
export interface PendingFile {
  file: File;
  key: string;
  stored?: StoredFile;
  bundle?: FileRef;
}

/** The server's default `max_size`: 10 MiB. */
export const DEFAULT_MAX_SIZE = 10 * 1024 * 1024;

let counter = 0;

export function pending(file: File, bundle?: FileRef): PendingFile {
  counter += 1;
  return bundle ? { file, key: `f${counter}`, bundle } : { file, key: `f${counter}` };
}

/** Whether a file's name or type matches one of `types` (an empty list accepts any). */
export function typeMatches(types: readonly string[], name: string | undefined, mime: string | undefined): boolean {
  if (types.length === 0) return true;
  const n = name?.toLowerCase() || undefined;
  const m = mime?.toLowerCase() || undefined;
  if (!n && !m) return true;
  return types.some((t) => {
    if (t.startsWith(".")) return n?.endsWith(t) ?? false;
    if (t.endsWith("/*")) return m?.split("/")[0] === t.slice(0, -2);
    return m === t;
  });
}

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ["KB", "MB", "GB"];
  let v = n / 1024;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i += 1;
  }
  return `${v >= 10 ? Math.round(v) : Math.round(v * 10) / 10} ${units[i]}`;
}

/** Human words for a list of types: `.csv` stays, `image/*` becomes "images". */
export function describeTypes(types: readonly string[]): string {
  return types
    .map((t) => (t.endsWith("/*") ? `${t.slice(0, -2)} files` : t.startsWith(".") ? t : t.split("/")[1]?.toUpperCase() ?? t))
    .join(", ");
}

/** Why a file cannot be sent to a component, or null when it can. */
export function refuseFile(file: File, types: readonly string[], maxSize: number): string | null {
  if (!typeMatches(types, file.name, file.type)) {
    return `${file.name} is not an accepted type (${describeTypes(types)})`;
  }
  if (file.size > maxSize) {
    return `${file.name} is ${formatBytes(file.size)}, over the limit of ${formatBytes(maxSize)}`;
  }
  return null;
}

/** The `accept` attribute of a file input. */
export const acceptAttr = (types: readonly string[]) => (types.length ? types.join(",") : undefined);

/** Where a browser can load a referenced file; a bundle file needs to know whose bundle. */
export function refUrl(ref: FileRef, bundle: BundleOf | null = null): string | null {
  if (ref.id) return fileUrl(ref.id);
  if (ref.data?.startsWith("data:")) return ref.data;
  if (ref.path && bundle) return bundleFileUrl(bundle, ref.path);
  return null;
}

/** The MIME type of a reference: declared, or read off a data: URL. */
export function refType(ref: FileRef): string | undefined {
  if (ref.type) return ref.type;
  const m = ref.data?.match(/^data:([^;,]+)/);
  return m?.[1];
}

export function isImage(ref: FileRef): boolean {
  const t = refType(ref);
  if (t) return t.startsWith("image/");
  return /\.(png|jpe?g|gif|webp|svg|bmp|avif)$/i.test(ref.name ?? ref.path ?? "");
}

export function refName(ref: FileRef, fallback = "file"): string {
  return ref.name ?? ref.path?.split("/").pop() ?? fallback;
}
