// The tab's title follows the page, so history and bookmarks say what each page was.

import { useEffect } from "preact/hooks";

export function useTitle(title: string | undefined): void {
  useEffect(() => {
    document.title = title ? `${title} · feather` : "feather";
  }, [title]);
}
