// Model descriptions and Markdown.View texts come from model authors, so they are rendered
// as Markdown and then sanitised: no scripts, no event handlers, no javascript: links.

import DOMPurify from "dompurify";
import { Marked } from "marked";

const marked = new Marked({ gfm: true, breaks: false, async: false });

let hooked = false;

function hook(): void {
  if (hooked) return;
  hooked = true;
  // Links to elsewhere open in a new tab and give that page no handle on this one.
  DOMPurify.addHook("afterSanitizeAttributes", (node) => {
    if (node.tagName === "A" && node.getAttribute("href")?.match(/^https?:/)) {
      node.setAttribute("target", "_blank");
      node.setAttribute("rel", "noopener noreferrer");
    }
  });
}

function escape(text: string): string {
  return text.replace(/[&<>"']/g, (ch) => `&#${ch.charCodeAt(0)};`);
}

/** Safe HTML for a Markdown text. */
export function renderMarkdown(text: string): string {
  // Without a DOM to sanitise in, DOMPurify would hand the HTML back as it is: show the text.
  if (!DOMPurify.isSupported) return `<pre>${escape(text)}</pre>`;
  hook();
  const html = marked.parse(text) as string;
  return DOMPurify.sanitize(html, {
    USE_PROFILES: { html: true },
    FORBID_TAGS: ["style", "form", "input", "button", "textarea", "select"],
    FORBID_ATTR: ["style"],
  });
}
