// Form values into the `inputs` of a request. Files are uploaded first (POST /api/v1/files) and
// sent by id: a big image does not travel as base64 inside JSON, and a retry re-uses the upload.

import { ApiError } from "../api/client";
import type { InputComponent, Json, Problem, StoredFile } from "../api/types";
import type { PendingFile } from "./files";
import type { Values } from "./values";

export type Upload = (file: File) => Promise<StoredFile>;

/** An upload the server refused, located like a validation problem. */
export class UploadError extends Error {
  constructor(readonly problems: Problem[]) {
    super(problems[0]?.reason ?? "the upload failed");
    this.name = "UploadError";
  }
}

async function send(f: PendingFile, upload: Upload, path: string): Promise<Json> {
  if (f.bundle) return f.bundle as Json;
  if (!f.stored) {
    try {
      f.stored = await upload(f.file);
    } catch (e) {
      if (e instanceof ApiError && e.status !== 0) {
        throw new UploadError([{ path, reason: `${f.file.name}: ${e.message}` }]);
      }
      throw e;
    }
  }
  return { id: f.stored.id };
}

/** The JSON inputs of a form; `onUpload` hears how many files are left to upload. */
export async function toInputs(
  components: readonly InputComponent[],
  values: Values,
  upload: Upload,
  onUpload?: (left: number) => void,
): Promise<Record<string, Json>> {
  const inputs: Record<string, Json> = {};
  const files = components.flatMap((c) => {
    const v = values[c.id];
    if (c.type === "File.Upload") return (v as PendingFile[] | undefined) ?? [];
    if (c.type === "Image.Upload" && v) return [v as PendingFile];
    return [];
  });
  let left = files.filter((f) => !f.stored && !f.bundle).length;
  const sent = async (f: PendingFile, path: string) => {
    const wasStored = Boolean(f.stored || f.bundle);
    const ref = await send(f, upload, path);
    if (!wasStored) onUpload?.((left -= 1));
    return ref;
  };
  if (left) onUpload?.(left);
  for (const c of components) {
    const v = values[c.id];
    if (c.type === "File.Upload") {
      const list = (v as PendingFile[] | undefined) ?? [];
      if (list.length === 0 && c.required === false) continue;
      inputs[c.id] = await Promise.all(list.map((f, i) => sent(f, `/inputs/${c.id}/${i}`)));
    } else if (c.type === "Image.Upload") {
      if (v) inputs[c.id] = await sent(v as PendingFile, `/inputs/${c.id}`);
    } else if (v !== undefined && v !== null) {
      inputs[c.id] = v as Json;
    }
  }
  return inputs;
}
