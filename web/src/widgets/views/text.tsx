// Views of text: plain, Markdown, a number, JSON, and documents with their titles.

import type { DocumentView, JsonView, MarkdownView, NumberView, TextView } from "../../api/types";
import { Markdown } from "./Markdown";

export const TextOut = ({ c }: { c: TextView }) => <p class="text-view">{c.text}</p>;

export const MarkdownOut = ({ c }: { c: MarkdownView }) => <Markdown text={c.text} />;

/** A number in the reader's locale, rounded to `decimals` places when the model says so. */
export function NumberOut({ c }: { c: NumberView }) {
  const shown =
    c.decimals === undefined
      ? c.value.toLocaleString(undefined, { maximumFractionDigits: 6 })
      : c.value.toLocaleString(undefined, { minimumFractionDigits: c.decimals, maximumFractionDigits: c.decimals });
  return (
    <p class="number-view">
      <data value={String(c.value)}>{shown}</data>
      {c.unit && <span class="number-unit"> {c.unit}</span>}
    </p>
  );
}

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
