import { render, screen } from "@testing-library/preact";
import { describe, expect, it } from "vitest";
import type { ViewComponent } from "../api/types";
import { ComponentView } from "./ComponentView";
import { bars } from "./views/Label";

const show = (c: ViewComponent) => render(<ComponentView c={c} />);

describe("view widgets", () => {
  it("Label draws bars likeliest first and marks the most likely class", () => {
    const { container } = show({ id: "l", type: "Label", confidences: { cat: 0.2, dog: 0.7, fox: 0.1 } });
    const names = [...container.querySelectorAll(".bar-name")].map((n) => n.textContent);
    expect(names).toEqual(["dog", "cat", "fox"]);
    expect(container.querySelector(".label-predicted-name")?.textContent).toBe("dog");
    expect((container.querySelector(".bar-fill") as HTMLElement).style.width).toBe("70%");
  });

  it("Label keeps num_top_classes and names the given label", () => {
    const c = { id: "l", type: "Label" as const, confidences: { a: 0.5, b: 0.3, c: 0.2 }, num_top_classes: 2, label: "b" };
    expect(bars(c).map((b) => b.name)).toEqual(["a", "b"]);
    const { container } = show(c);
    expect(container.querySelector(".label-predicted-name")?.textContent).toBe("b");
    expect(container.querySelectorAll(".bar-row")).toHaveLength(2);
  });

  it("Table.View renders columns and rows", () => {
    show({ id: "t", type: "Table.View", title: "Scores", columns: ["name", "score", "ok"], rows: [["a", 1, true], ["b", null, false]] });
    expect(screen.getAllByRole("columnheader").map((h) => h.textContent)).toEqual(["name", "score", "ok"]);
    const cells = screen.getAllByRole("cell").map((c) => c.textContent);
    expect(cells).toEqual(["a", "1", "yes", "b", "—", "no"]);
    expect(screen.getByRole("heading", { name: "Scores" })).toBeTruthy();
  });

  it("Markdown.View renders Markdown without scripts or handlers", () => {
    const { container } = show({ id: "m", type: "Markdown.View", text: "**hi** <img src=x onerror=alert(1)><script>alert(2)</script>" });
    expect(container.querySelector("strong")?.textContent).toBe("hi");
    expect(container.innerHTML).not.toContain("onerror");
    expect(container.querySelector("script")).toBeNull();
  });

  it("Text.View and Json.View show their content as text", () => {
    const { container } = show({ id: "t", type: "Text.View", text: "<b>not bold</b>" });
    expect(container.querySelector("b")).toBeNull();
    expect(container.textContent).toContain("<b>not bold</b>");
    const json = show({ id: "j", type: "Json.View", data: { k: [1, null] } });
    expect(json.container.querySelector("pre")?.textContent).toContain('"k": [');
  });

  it("Number.View shows its value rounded as asked, with its unit, and keeps the exact value", () => {
    const { container } = show({ id: "n", type: "Number.View", title: "Prediction", value: 151.23456, unit: "mmHg", decimals: 1 });
    expect(container.querySelector(".number-view")?.textContent).toBe("151.2 mmHg");
    expect(container.querySelector("data")?.getAttribute("value")).toBe("151.23456");
    const plain = show({ id: "m", type: "Number.View", value: 3 });
    expect(plain.container.querySelector(".number-view")?.textContent).toBe("3");
  });

  it("File.Download links each stored file for download", () => {
    show({ id: "f", type: "File.Download", files: [{ id: "f_1", name: "labels.csv", type: "text/csv", size: 1400 }] });
    const link = screen.getByRole("link", { name: "labels.csv" });
    expect(link.getAttribute("href")).toBe("/api/v1/files/f_1");
    expect(link.getAttribute("download")).toBe("labels.csv");
    expect(screen.getByText("1.4 KB")).toBeTruthy();
  });

  it("Image.View shows stored and inline images with captions, and names bundle files", () => {
    show({
      id: "g",
      type: "Image.View",
      images: [{ id: "f_1" }, { data: "data:image/png;base64,AAAA" }, { path: "samples/a.png" }],
      captions: ["one", "two", "three"],
    });
    expect(screen.getByAltText("one").getAttribute("src")).toBe("/api/v1/files/f_1");
    expect(screen.getByAltText("two").getAttribute("src")).toContain("data:image/png");
    expect(screen.getByRole("img", { name: "three" }).textContent).toBe("a.png");
  });

  it("Document.View shows each document under its title", () => {
    show({ id: "d", type: "Document.View", documents: ["Body"], titles: ["Title"] });
    expect(screen.getByRole("heading", { name: "Title" })).toBeTruthy();
    expect(screen.getByText("Body")).toBeTruthy();
  });
});
