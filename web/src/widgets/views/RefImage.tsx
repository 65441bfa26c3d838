// An image given by a file reference. A `path` names a file inside the model's bundle, which
// only the model can read, so it is shown as a named placeholder.

import type { FileRef } from "../../api/types";
import { refName, refUrl } from "../../catalogue/files";

export function RefImage({ image, alt }: { image: FileRef; alt: string }) {
  const url = refUrl(image);
  if (!url) {
    return (
      <div class="image-placeholder" role="img" aria-label={alt}>
        {refName(image, "image")}
      </div>
    );
  }
  return <img class="ref-image" src={url} alt={alt} loading="lazy" />;
}
