// Markdown from a model's author, rendered and sanitised (see markdown.ts).

import { useMemo } from "preact/hooks";
import { renderMarkdown } from "../../markdown";

export function Markdown({ text, class: cls }: { text: string; class?: string }) {
  const html = useMemo(() => renderMarkdown(text), [text]);
  return <div class={`markdown ${cls ?? ""}`} dangerouslySetInnerHTML={{ __html: html }} />;
}
