import { describe, expect, it, vi } from "vitest";
import { ApiError } from "../api/client";
import type { Component, InputComponent, StoredFile } from "../api/types";
import { file } from "../test/harness";
import { checkValues } from "./check";
import { pending, refUrl, typeMatches } from "./files";
import { fieldErrors } from "./problems";
import { initialValues } from "./values";
import { toInputs, UploadError } from "./wire";

describe("typeMatches", () => {
  it("follows the server's rules", () => {
    expect(typeMatches([], "x.bin", "")).toBe(true);
    expect(typeMatches(["image/*"], "a.png", "image/png")).toBe(true);
    expect(typeMatches(["image/png"], "a.jpg", "image/jpeg")).toBe(false);
    expect(typeMatches([".csv"], "DATA.CSV", "")).toBe(true);
    expect(typeMatches([".csv", "text/*"], "a.txt", "text/plain")).toBe(true);
    // Neither a name nor a type: the server checks the bytes.
    expect(typeMatches(["image/*"], "", "")).toBe(true);
  });
});

describe("checkValues", () => {
  const components: InputComponent[] = [
    { id: "count", type: "Number.In", min: 0, max: 10, integer: true },
    { id: "colour", type: "List.SelectOne", items: ["red"] },
    { id: "sizes", type: "List.SelectMulti", items: ["s", "m"], min_selected: 1 },
    { id: "image", type: "Image.Upload", types: ["image/png"] },
    { id: "note", type: "Number.In", required: false },
    { id: "rows", type: "Table.In", columns: [{ name: "n", type: "integer" }] },
  ];

  it("reports what the server would, with the same paths", () => {
    const values = { ...initialValues(components), count: 11 };
    expect(checkValues(components, values)).toEqual([
      { path: "/inputs/count", reason: "must be at most 10" },
      { path: "/inputs/colour", reason: "choose one" },
      { path: "/inputs/sizes", reason: "choose at least 1" },
      { path: "/inputs/image", reason: "choose an image" },
      { path: "/inputs/rows/0/0", reason: "enter a number" },
    ]);
  });

  it("passes valid values and leaves optional inputs empty", () => {
    const values = {
      count: 3,
      colour: "red",
      sizes: ["m"],
      image: pending(file("a.png", "image/png")),
      note: null,
      rows: [[2]],
    };
    expect(checkValues(components, values)).toEqual([]);
  });
});

describe("fieldErrors", () => {
  const components: Component[] = [
    { id: "images", type: "File.Upload", max_files: 5 },
    { id: "points", type: "Table.In", columns: [{ name: "x" }, { name: "y" }] },
    { id: "labels", type: "Image.WithSelectOne", images: [{ id: "a" }], lists: [["1"]] },
    { id: "count", type: "Number.In" },
  ];

  it("puts each of the server's problems beside its field, in words", () => {
    const e = fieldErrors(
      [
        { path: "/inputs/images/1", reason: "must be of type image/png" },
        { path: "/inputs/points/2/1", reason: "expected a number, found a string" },
        { path: "/inputs/labels/0", reason: "\"9\" is not one of the items" },
        { path: "/inputs/count", reason: "must be at least 1" },
        { path: "/inputs/other", reason: "is not an input of this step" },
        { path: "/inputs", reason: "expected an object" },
      ],
      components,
    );
    expect(e.fields).toEqual({
      images: ["File 2: must be of type image/png"],
      points: ["Row 3, y: expected a number, found a string"],
      labels: ['Image 1: "9" is not one of the items'],
      count: ["Must be at least 1"],
    });
    expect(e.general).toEqual(["/inputs/other: is not an input of this step", "/inputs: expected an object"]);
  });
});

describe("toInputs", () => {
  const components: InputComponent[] = [
    { id: "image", type: "Image.Upload" },
    { id: "files", type: "File.Upload", max_files: 3 },
    { id: "text", type: "Text.In" },
    { id: "maybe", type: "Number.In", required: false },
  ];

  it("uploads each file once and sends it by id", async () => {
    let n = 0;
    const upload = vi.fn(async (f: File): Promise<StoredFile> => ({ id: `f_${++n}`, name: f.name, type: f.type, size: f.size }));
    const values = {
      image: pending(file("a.png", "image/png")),
      files: [pending(file("b.csv", "text/csv")), pending(file("c.csv", "text/csv"))],
      text: "hi",
      maybe: null,
    };
    const left: number[] = [];
    const inputs = await toInputs(components, values, upload, (l) => left.push(l));
    expect(inputs).toEqual({ image: { id: "f_1" }, files: [{ id: "f_2" }, { id: "f_3" }], text: "hi" });
    expect(left).toEqual([3, 2, 1, 0]);
    await toInputs(components, values, upload);
    expect(upload).toHaveBeenCalledTimes(3);
  });

  it("places a refused upload at its file", async () => {
    const upload = async (): Promise<StoredFile> => {
      throw new ApiError(413, "too_large", "the file is too large");
    };
    const values = { image: pending(file("a.png", "image/png")), files: [], text: "", maybe: null };
    const err = await toInputs(components, values, upload).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UploadError);
    expect((err as UploadError).problems).toEqual([{ path: "/inputs/image", reason: "a.png: the file is too large" }]);
  });
});

describe("file references", () => {
  it("loads a bundle file from its version, and only when the version is known", () => {
    const ref = { path: "examples/a cat.png", name: "cat.png" };
    expect(refUrl(ref)).toBeNull();
    expect(refUrl(ref, { owner: "alice", name: "pets", version: 3 })).toBe(
      "/api/v1/models/alice/pets/versions/3/files/examples/a%20cat.png",
    );
    expect(refUrl({ id: "f_1" }, { owner: "alice", name: "pets", version: 3 })).toBe("/api/v1/files/f_1");
  });
});
