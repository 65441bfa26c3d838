// File.Upload and Image.Upload: the drop zone with each component's types, size and count.

import type { FileUpload, ImageUpload } from "../../api/types";
import { DEFAULT_MAX_SIZE, type PendingFile } from "../../catalogue/files";
import type { InputProps } from "../types";
import { FileDrop } from "./FileDrop";

export function FileUploadInput(p: InputProps<FileUpload, PendingFile[]>) {
  return (
    <FileDrop
      id={p.id}
      types={p.c.types ?? []}
      maxSize={p.c.max_size ?? DEFAULT_MAX_SIZE}
      maxFiles={p.c.max_files ?? 1}
      files={p.value ?? []}
      onFiles={p.onChange}
      invalid={p.invalid}
      describedBy={p.describedBy}
      disabled={p.disabled}
    />
  );
}

export function ImageUploadInput(p: InputProps<ImageUpload, PendingFile | null>) {
  return (
    <FileDrop
      id={p.id}
      types={p.c.types ?? ["image/*"]}
      maxSize={p.c.max_size ?? DEFAULT_MAX_SIZE}
      maxFiles={1}
      files={p.value ? [p.value] : []}
      onFiles={(files) => p.onChange(files[0] ?? null)}
      invalid={p.invalid}
      describedBy={p.describedBy}
      disabled={p.disabled}
      large
    />
  );
}
