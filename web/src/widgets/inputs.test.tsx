import { fireEvent, screen, waitFor } from "@testing-library/preact";
import { describe, expect, it } from "vitest";
import type { PendingFile } from "../catalogue/files";
import { Unparsed } from "../catalogue/tensor";
import { file, renderInput } from "../test/harness";

describe("input widgets", () => {
  it("Text.In gives a string, or one string per field", () => {
    const one = renderInput({ id: "prompt", type: "Text.In", title: "Prompt", multiline: true });
    fireEvent.input(screen.getByLabelText("Prompt"), { target: { value: "hello" } });
    expect(one.last()).toBe("hello");
    one.unmount();

    const two = renderInput({ id: "pair", type: "Text.In", title: "Pair", num_inputs: 2 });
    fireEvent.input(screen.getByLabelText("Pair 2"), { target: { value: "b" } });
    expect(two.last()).toEqual(["", "b"]);
  });

  it("Number.In gives a number, and null when emptied", () => {
    const r = renderInput({ id: "count", type: "Number.In", title: "Count", integer: true, default: 3 });
    const box = screen.getByLabelText("Count") as HTMLInputElement;
    expect(box.value).toBe("3");
    fireEvent.input(box, { target: { value: "7" } });
    expect(r.last()).toBe(7);
    fireEvent.input(box, { target: { value: "" } });
    expect(r.last()).toBeNull();
  });

  it("Slider gives a number within its range", () => {
    const r = renderInput({ id: "t", type: "Slider", title: "Temperature", min: 0, max: 1.5, step: 0.1 });
    fireEvent.input(screen.getByLabelText("Temperature"), { target: { value: "0.7" } });
    expect(r.last()).toBe(0.7);
  });

  it("Checkbox gives a boolean", () => {
    const r = renderInput({ id: "verbose", type: "Checkbox", title: "Verbose" });
    fireEvent.click(screen.getByLabelText("Verbose"));
    expect(r.last()).toBe(true);
  });

  it("List.SelectOne gives the chosen item, as radios or a dropdown", () => {
    const radios = renderInput({ id: "c", type: "List.SelectOne", title: "Colour", items: ["red", "green"] });
    fireEvent.click(screen.getByLabelText("green"));
    expect(radios.last()).toBe("green");
    radios.unmount();

    const drop = renderInput({ id: "c", type: "List.SelectOne", title: "Colour", items: ["red", "green"], style: "dropdown" });
    fireEvent.change(screen.getByLabelText("Colour"), { target: { value: "red" } });
    expect(drop.last()).toBe("red");
  });

  it("List.SelectMulti gives the chosen items in the list's order", () => {
    const r = renderInput({ id: "s", type: "List.SelectMulti", title: "Sizes", items: ["s", "m", "l"] });
    fireEvent.click(screen.getByLabelText("l"));
    fireEvent.click(screen.getByLabelText("s"));
    expect(r.last()).toEqual(["s", "l"]);
    fireEvent.click(screen.getByLabelText("l"));
    expect(r.last()).toEqual(["s"]);
  });

  it("Image.WithSelectOne starts on each list's first item and gives one choice per image", () => {
    const r = renderInput({
      id: "labels",
      type: "Image.WithSelectOne",
      images: [{ id: "f_a", name: "a.png" }, { id: "f_b" }],
      lists: [
        ["7", "1"],
        ["3", "8"],
      ],
    });
    expect((screen.getAllByLabelText("7")[0] as HTMLInputElement).checked).toBe(true);
    fireEvent.click(screen.getByLabelText("8"));
    expect(r.last()).toEqual(["7", "8"]);
    expect(screen.getByAltText("a.png").getAttribute("src")).toBe("/api/v1/files/f_a");
  });

  it("Image.WithSelectMulti gives the choices of each image", () => {
    const r = renderInput({ id: "tags", type: "Image.WithSelectMulti", images: [{ id: "f" }], lists: [["cat", "dog"]] });
    fireEvent.click(screen.getByLabelText("dog"));
    expect(r.last()).toEqual([["dog"]]);
  });

  it("Image.WithTextIn and Document.WithTextIn give one text per item", () => {
    const img = renderInput({ id: "tr", type: "Image.WithTextIn", images: [{ id: "f" }], captions: ["Scan"] });
    fireEvent.input(screen.getByLabelText("Scan"), { target: { value: "42" } });
    expect(img.last()).toEqual(["42"]);
    img.unmount();

    const doc = renderInput({ id: "sum", type: "Document.WithTextIn", documents: ["Long text"], titles: ["One"] });
    fireEvent.input(screen.getByLabelText("Your text for One"), { target: { value: "short" } });
    expect(doc.last()).toEqual(["short"]);
  });

  it("Table.In gives typed rows, and adds rows", () => {
    const r = renderInput({
      id: "points",
      type: "Table.In",
      columns: [
        { name: "x", type: "number" },
        { name: "label" },
        { name: "ok", type: "boolean" },
      ],
    });
    fireEvent.input(screen.getByLabelText("x, row 1"), { target: { value: "1.5" } });
    fireEvent.input(screen.getByLabelText("label, row 1"), { target: { value: "a" } });
    fireEvent.click(screen.getByLabelText("ok, row 1"));
    expect(r.last()).toEqual([[1.5, "a", true]]);
    fireEvent.click(screen.getByText("Add a row"));
    expect(r.last()).toEqual([
      [1.5, "a", true],
      [null, "", false],
    ]);
  });

  it("Tensor.In gives the typed JSON, what it lacks while it is not JSON, and a loaded file", async () => {
    const r = renderInput({ id: "pixels", type: "Tensor.In", title: "Pixels", dtype: "uint8", shape: [2] });
    expect(screen.getByText("An array of uint8, 2, as JSON")).toBeTruthy();
    fireEvent.input(screen.getByLabelText("Pixels"), { target: { value: "[1, " } });
    expect(r.last()).toBeInstanceOf(Unparsed);
    fireEvent.input(screen.getByLabelText("Pixels"), { target: { value: "[1, 2]" } });
    expect(r.last()).toEqual([1, 2]);
    const json = new File(["[3, 4]"], "pixels.json", { type: "application/json" });
    fireEvent.change(screen.getByLabelText("File for Pixels"), { target: { files: [json] } });
    await waitFor(() => expect(r.last()).toEqual([3, 4]));
    expect(screen.getByRole("status").textContent).toBe("Loaded pixels.json.");
  });

  it("the file zone refuses a file of the wrong type or too large, before any upload", () => {
    const r = renderInput({ id: "image", type: "Image.Upload", title: "A digit", types: ["image/png"], max_size: 1000 });
    const input = screen.getByLabelText("A digit");
    fireEvent.change(input, { target: { files: [file("notes.txt", "text/plain")] } });
    expect(screen.getByRole("alert").textContent).toContain("notes.txt is not an accepted type (PNG)");
    fireEvent.change(input, { target: { files: [file("big.png", "image/png", 5000)] } });
    expect(screen.getByRole("alert").textContent).toContain("over the limit of 1000 B");
    expect(r.values).toEqual([]);
    fireEvent.change(input, { target: { files: [file("seven.png", "image/png", 500)] } });
    expect((r.last() as PendingFile).file.name).toBe("seven.png");
    expect(screen.queryByRole("alert")).toBeNull();
  });

  it("the file zone keeps at most max_files and matches extensions", () => {
    const r = renderInput({ id: "files", type: "File.Upload", title: "Files", types: [".csv"], max_files: 2 });
    const input = screen.getByLabelText("Files");
    fireEvent.change(input, { target: { files: [file("a.csv", ""), file("b.CSV", ""), file("c.csv", "")] } });
    expect((r.last() as PendingFile[]).map((f) => f.file.name)).toEqual(["a.csv", "b.CSV"]);
    expect(screen.getByRole("alert").textContent).toContain("At most 2 files");
    fireEvent.click(screen.getByLabelText("Remove a.csv"));
    expect((r.last() as PendingFile[]).map((f) => f.file.name)).toEqual(["b.CSV"]);
  });

  it("labels every control and shows its errors beside it", () => {
    renderInput({ id: "count", type: "Number.In", title: "Count", description: "How many" }, ["Must be at most 10"]);
    const box = screen.getByLabelText("Count");
    expect(box.getAttribute("aria-invalid")).toBe("true");
    const described = box.getAttribute("aria-describedby")!.split(" ");
    expect(described.map((id) => document.getElementById(id)?.textContent)).toEqual(["How many", "Must be at most 10"]);
  });
});
