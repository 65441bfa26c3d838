// An image given by a file reference. A `path` names a file inside the version's bundle, served
// by the server; without a version to ask for it, it is shown as a named placeholder.

import type { FileRef } from "../../api/types";
import { useBundle } from "../../catalogue/bundle";
import { refName, refUrl } from "../../catalogue/files";
import { useFileUrl } from "../../hooks/useFileUrl";

export function RefImage({ image, alt }: { image: FileRef; alt: string }) {
  const address = refUrl(image, useBundle());
  const url = useFileUrl(address);
  if (!address) {
    return (
      <div class="image-placeholder" role="img" aria-label={alt}>
        {refName(image, "image")}
      </div>
    );
  }
  return url ? <img class="ref-image" src={url} alt={alt} loading="lazy" /> : <div class="image-placeholder" role="img" aria-label={alt} />;
}
