// Views of files: images with captions, and files to download.

import type { FileDownload, FileRef, ImageView } from "../../api/types";
import { useBundle } from "../../catalogue/bundle";
import { formatBytes, isImage, refName, refUrl } from "../../catalogue/files";
import { useFileUrl } from "../../hooks/useFileUrl";
import { RefImage } from "./RefImage";

export function ImageOut({ c }: { c: ImageView }) {
  return (
    <div class="image-grid">
      {c.images.map((image, i) => {
        const caption = c.captions?.[i];
        return (
          <figure key={i}>
            <RefImage image={image} alt={caption || refName(image, `Image ${i + 1}`)} />
            {caption && <figcaption>{caption}</figcaption>}
          </figure>
        );
      })}
    </div>
  );
}

/** Files as download links; images also as thumbnails. */
export function FileLinks({ files }: { files: readonly FileRef[] }) {
  const bundle = useBundle();
  return (
    <ul class="downloads">
      {files.map((f, i) => (
        <FileLink key={i} f={f} address={refUrl(f, bundle)} name={refName(f, `file-${i + 1}`)} />
      ))}
    </ul>
  );
}

function FileLink({ f, address, name }: { f: FileRef; address: string | null; name: string }) {
  const url = useFileUrl(address);
  return (
    <li class="download">
      {url && isImage(f) && <img class="thumb" src={url} alt="" />}
      {url ? (
        <a href={url} download={name} class="download-link">
          {name}
        </a>
      ) : (
        <span>{name}</span>
      )}
      {f.size !== undefined && <span class="file-size">{formatBytes(f.size)}</span>}
    </li>
  );
}

export const FileDownloadOut = ({ c }: { c: FileDownload }) => <FileLinks files={c.files} />;
