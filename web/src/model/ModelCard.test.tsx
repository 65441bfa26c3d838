import { render, screen } from "@testing-library/preact";
import { describe, expect, it } from "vitest";
import { ModelCard, summary } from "./ModelCard";

describe("ModelCard", () => {
  it("shows title, owner, tags, latest version and runs", () => {
    const m = {
      owner: "demo",
      name: "digits",
      title: "Digits",
      description: "Reads **handwritten** digits. See [the docs](https://example.org).",
      tags: ["vision"],
      latest_version: 3,
      aliases: { latest: 3 },
      visibility: "public" as const,
      versions: 3,
      runs: 12,
      created_at: "",
      updated_at: "",
    };
    render(<ModelCard m={m} />);
    expect(screen.getByRole("link", { name: "Digits" }).getAttribute("href")).toBe("/m/demo/digits");
    expect(screen.getByText("demo/digits")).toBeTruthy();
    expect(screen.getByText("vision")).toBeTruthy();
    expect(screen.getByText("v3 · 12 runs")).toBeTruthy();
    expect(screen.getByText("Reads handwritten digits. See the docs.")).toBeTruthy();
    expect(screen.queryByText("private")).toBeNull();
  });

  it("marks a private model", () => {
    const m = {
      owner: "alice",
      name: "secret",
      title: "Secret",
      description: "",
      tags: [],
      visibility: "private" as const,
      latest_version: 1,
      aliases: { latest: 1 },
      versions: 1,
      runs: 0,
      created_at: "",
      updated_at: "",
    };
    render(<ModelCard m={m} />);
    expect(screen.getByText("private").getAttribute("title")).toContain("shared with");
  });

  it("summarises Markdown as plain text", () => {
    expect(summary("# Title\n\n- one\n- two")).toBe("Title one two");
    expect(summary("x".repeat(200), 10)).toBe(`${"x".repeat(9)}…`);
  });
});
