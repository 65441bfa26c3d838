import { describe, expect, it } from "vitest";
import type { Component, InputComponent, Step } from "../api/types";
import { exampleFilename, exampleValue, FileExample } from "./examples";
import { literal } from "./literal";
import { exampleInputs, snippets } from "./snippets";

const one: Step[] = [{ name: "classify", title: "Classify", description: "" }];
const two: Step[] = [...one, { name: "sum", title: "Sum", description: "" }];

const digits: Component[] = [{ id: "image", type: "Image.Upload", types: ["image/png", "image/jpeg"] }];

describe("example values", () => {
  it("are valid for each input type", () => {
    const cases: [InputComponent, unknown][] = [
      [{ id: "t", type: "Text.In", default_text: "hi" }, "hi"],
      [{ id: "t", type: "Text.In", num_inputs: 2 }, ["Hello", "Hello"]],
      [{ id: "n", type: "Number.In", min: 2, max: 5, integer: true }, 2],
      [{ id: "n", type: "Number.In", default: 5.1 }, 5.1],
      [{ id: "s", type: "Slider", min: 1, max: 3 }, 1],
      [{ id: "c", type: "Checkbox" }, false],
      [{ id: "o", type: "List.SelectOne", items: ["a", "b"] }, "a"],
      [{ id: "m", type: "List.SelectMulti", items: ["a", "b", "c"], min_selected: 2 }, ["a", "b"]],
      [{ id: "w", type: "Image.WithSelectOne", images: [{ id: "f" }], lists: [["7", "1"]] }, ["7"]],
      [{ id: "w", type: "Image.WithSelectMulti", images: [{ id: "f" }], lists: [["x", "y"]] }, [["x"]]],
      [{ id: "d", type: "Document.WithTextIn", documents: ["a", "b"] }, ["text", "text"]],
      [
        { id: "tb", type: "Table.In", columns: [{ name: "x", type: "number" }, { name: "y" }], min_rows: 1 },
        [[1.5, "text"]],
      ],
    ];
    for (const [c, v] of cases) expect(exampleValue(c)).toEqual(v);
  });

  it("write a small tensor out and a large one as an expression in each language", () => {
    expect(exampleValue({ id: "x", type: "Tensor.In", dtype: "int64", shape: [2, -1] })).toEqual([[0], [0]]);
    const big = exampleValue({ id: "x", type: "Tensor.In", dtype: "float32", shape: [3, 48, 192] });
    expect(literal(big, "python")).toBe("[[[0] * 192] * 48] * 3");
    expect(literal(big, "js")).toBe("Array.from({ length: 3 }, () => Array.from({ length: 48 }, () => Array(192).fill(0)))");
    expect(literal(big, "json")).toBe(`'"$(python3 -c 'import json; print(json.dumps([[[0] * 192] * 48] * 3))')"'`);
  });

  it("name files after the accepted types", () => {
    expect(exampleFilename([".csv"])).toBe("file.csv");
    expect(exampleFilename(["image/jpeg"])).toBe("image.jpg");
    expect(exampleFilename([])).toBe("file.bin");
    expect(exampleFilename(["image/*"], 2)).toBe("image-2.png");
    const files = exampleValue({ id: "images", type: "File.Upload", min_files: 2, max_files: 5 });
    expect(files).toEqual([new FileExample("file-1.bin", "IMAGES_1"), new FileExample("file-2.bin", "IMAGES_2")]);
  });
});

describe("literal", () => {
  it("writes each language's scalars", () => {
    const v = { a: true, b: null, c: "it's" };
    expect(literal(v, "python")).toContain('"a": True');
    expect(literal(v, "python")).toContain('"b": None');
    expect(literal(v, "js")).toContain("a: true");
    // The curl body is single-quoted in the shell.
    expect(literal(v, "json")).toContain(`"it'\\''s"`);
    expect(JSON.parse(literal({ x: [1, 2], y: { z: "w" } }, "json"))).toEqual({ x: [1, 2], y: { z: "w" } });
  });
});

describe("snippets", () => {
  const target = { server: "http://localhost:7860", owner: "demo", name: "digits", manifest: { init: digits, steps: one } };

  it("call a one-step model's predict route, uploading files first", () => {
    const s = snippets(target);
    expect(s.curl).toContain("IMAGE=$(curl -s -F file=@image.png $S/api/v1/files");
    expect(s.curl).toContain("$S/api/v1/models/demo/digits/predict");
    expect(s.curl).toContain(`"image": {"id": "'"$IMAGE"'"}`);
    expect(s.python).toContain('"image": upload("image.png")');
    expect(s.python).toContain('requests.post(f"{SERVER}/api/v1/models/demo/digits/predict"');
    expect(s.javascript).toContain('image: await upload("image.png")');
    expect(s.javascript).toContain("console.log(body.outputs);");
  });

  it("call with the first example as it is written: its files are the bundle's, by path", () => {
    const examples = [{ image: { path: "samples/digit-3.png" } }];
    const s = snippets({ ...target, version: 2, manifest: { init: digits, steps: one, examples } });
    expect(s.curl).not.toContain("/api/v1/files");
    const body = s.curl.split("-d '")[1]!.replace(/'$/, "");
    expect(JSON.parse(body)).toEqual({ inputs: { image: { path: "samples/digit-3.png" } } });
    expect(s.python).not.toContain("def upload");
  });

  it("start a run of a multi-step model, at the chosen version", () => {
    const s = snippets({ ...target, version: 3, manifest: { init: digits, steps: two } });
    expect(s.curl).toContain("/api/v1/models/demo/digits@3/runs");
    expect(s.python).toContain("/api/v1/runs/{run['id']}/steps");
  });

  it("send a valid JSON body when there are no files", () => {
    const init: Component[] = [
      { id: "sepal_length", type: "Number.In", min: 4, max: 8 },
      { id: "note", type: "Text.View", text: "not an input" },
    ];
    const s = snippets({ ...target, manifest: { init, steps: one } });
    const body = s.curl.split("-d '")[1]!.replace(/'$/, "");
    expect(JSON.parse(body)).toEqual({ inputs: { sepal_length: 4 } });
    expect(s.curl).not.toContain("files");
    expect(exampleInputs(init as InputComponent[])).toEqual({ sepal_length: 4 });
  });
});
