// Views of text: plain, Markdown, JSON, and documents with their titles.

import type { DocumentView, JsonView, MarkdownView, TextView } from "../../api/types";
import { Markdown } from "./Markdown";

export const TextOut = ({ c }: { c: TextView }) => <p class="text-view">{c.text}</p>;

export const MarkdownOut = ({ c }: { c: MarkdownView }) => <Markdown text={c.text} />;

export function JsonOut({ c }: { c: JsonView }) {
  return (
    <pre class="json-view" tabIndex={0}>
      <code>{JSON.stringify(c.data, null, 2)}</code>
    </pre>
  );
}

export function DocumentOut({ c }: { c: DocumentView }) {
  return (
    <div class="stack">
      {c.documents.map((doc, i) => (
        <article class="doc-card" key={i}>
          {c.titles?.[i] && <h4 class="doc-title">{c.titles[i]}</h4>}
          <div class="doc-text">{doc}</div>
        </article>
      ))}
    </div>
  );
}
