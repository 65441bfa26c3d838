// A thumbnail of a local image file, through an object URL released when it goes away.

import { useEffect, useState } from "preact/hooks";

export function Preview({ file, alt, class: cls }: { file: File; alt: string; class?: string }) {
  const [url, setUrl] = useState<string | null>(null);
  useEffect(() => {
    if (typeof URL.createObjectURL !== "function") return;
    const u = URL.createObjectURL(file);
    setUrl(u);
    return () => URL.revokeObjectURL(u);
  }, [file]);
  return url ? <img class={cls ?? "thumb"} src={url} alt={alt} /> : null;
}
