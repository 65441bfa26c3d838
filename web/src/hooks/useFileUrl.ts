// The address to show a file of the server at. An <img> or a download link sends no Bearer
// header, so a private model's files would not load from their own address: with a session,
// the file is fetched with its token and shown from an object URL, released when it goes away.

import { useEffect, useState } from "preact/hooks";
import { getBlob } from "../api/client";
import { useSession } from "../session";

/** `url` as it may be used, or `null` while a private file is fetched. */
export function useFileUrl(url: string | null): string | null {
  const signedIn = useSession() !== null;
  const direct = !url || !signedIn || !url.startsWith("/") || typeof URL.createObjectURL !== "function";
  const [fetched, setFetched] = useState<{ from: string; url: string } | null>(null);
  useEffect(() => {
    if (direct || !url) return;
    let live = true;
    let made: string | null = null;
    getBlob(url).then(
      (blob) => {
        if (!live) return;
        made = URL.createObjectURL(blob);
        setFetched({ from: url, url: made });
      },
      // Not readable with the token either: the address itself, so the browser says so.
      () => live && setFetched({ from: url, url }),
    );
    return () => {
      live = false;
      if (made) URL.revokeObjectURL(made);
    };
  }, [url, direct]);
  if (direct) return url;
  return fetched?.from === url ? fetched.url : null;
}
