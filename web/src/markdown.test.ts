import { describe, expect, it } from "vitest";
import { renderMarkdown } from "./markdown";

describe("renderMarkdown", () => {
  it("renders Markdown", () => {
    const html = renderMarkdown("# Title\n\nSome **bold** text.");
    expect(html).toContain("<h1>Title</h1>");
    expect(html).toContain("<strong>bold</strong>");
  });

  it("drops scripts and event handlers", () => {
    const html = renderMarkdown('Hi <script>alert(1)</script><img src="x" onerror="alert(2)">');
    expect(html).not.toContain("<script");
    expect(html).not.toContain("onerror");
    expect(html).toContain("<img");
  });

  it("drops javascript: links", () => {
    const html = renderMarkdown("[click](javascript:alert(1)) and <a href=\"javascript:alert(2)\">x</a>");
    expect(html).not.toContain("javascript:");
  });

  it("opens outside links in a new tab without an opener", () => {
    const html = renderMarkdown("[docs](https://example.org)");
    expect(html).toContain('target="_blank"');
    expect(html).toContain('rel="noopener noreferrer"');
  });
});
