import { describe, expect, it } from "vitest";
import type { TensorIn } from "../api/types";
import { checkTensor, describeTensor, NpyError, parseTensorText, readNpy, Unparsed } from "./tensor";

interface Vector {
  component: TensorIn;
  valid: unknown[];
  invalid: { value: unknown; problems: string[] }[];
}

// The shared vectors the server and the Python SDK pass: the portal finds the same paths.
const VECTORS = import.meta.glob<Vector>("../../../tests/vectors/values/tensor_in*.json", {
  eager: true,
  import: "default",
});

function problems(c: TensorIn, v: unknown): string[] {
  const paths: string[] = [];
  checkTensor(c, v, (sub) => paths.push(sub));
  return paths;
}

/** A .npy file of format 1.0, as `np.save` writes one. */
function npy(descr: string, shape: number[], data: ArrayBufferLike, fortran = false): ArrayBuffer {
  const dims = shape.length === 1 ? `${shape[0]},` : shape.join(", ");
  let header = `{'descr': '${descr}', 'fortran_order': ${fortran ? "True" : "False"}, 'shape': (${dims}), }`;
  header = header.padEnd(Math.ceil((header.length + 11) / 64) * 64 - 11, " ") + "\n";
  const head = new Uint8Array(10 + header.length);
  head.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0]);
  new DataView(head.buffer).setUint16(8, header.length, true);
  head.set(new TextEncoder().encode(header), 10);
  const out = new Uint8Array(head.length + data.byteLength);
  out.set(head);
  out.set(new Uint8Array(data), head.length);
  return out.buffer;
}

describe("checkTensor", () => {
  it("finds the vectors", () => expect(Object.keys(VECTORS).length).toBeGreaterThanOrEqual(3));

  it.each(Object.entries(VECTORS))("agrees with the server on %s", (_, v) => {
    for (const ok of v.valid) expect(problems(v.component, ok)).toEqual([]);
    for (const bad of v.invalid) expect(new Set(problems(v.component, bad.value))).toEqual(new Set(bad.problems));
  });

  it("says what typed text lacks before it is JSON", () => {
    const c: TensorIn = { id: "x", type: "Tensor.In", dtype: "float32", shape: [2] };
    const v = parseTensorText("[1, 2");
    expect(v).toBeInstanceOf(Unparsed);
    expect(problems(c, v)).toEqual([""]);
    expect(parseTensorText(" [1, 2] ")).toEqual([1, 2]);
    expect(parseTensorText("  ")).toBeNull();
    expect(describeTensor({ ...c, shape: [3, -1] })).toBe("float32, 3 × any");
  });
});

describe("readNpy", () => {
  it("reads numbers and booleans in nested arrays of their shape", () => {
    expect(readNpy(npy("<f4", [2, 2], new Float32Array([1, 2.5, -3, 4]).buffer))).toEqual([
      [1, 2.5],
      [-3, 4],
    ]);
    expect(readNpy(npy("|u1", [3], new Uint8Array([0, 7, 255]).buffer))).toEqual([0, 7, 255]);
    expect(readNpy(npy("<i8", [1, 1, 2], new BigInt64Array([-1n, 5n]).buffer))).toEqual([[[-1, 5]]]);
    expect(readNpy(npy("|b1", [2], new Uint8Array([1, 0]).buffer))).toEqual([true, false]);
  });

  it("refuses what it cannot read, saying why", () => {
    expect(() => readNpy(new TextEncoder().encode("[1, 2]").buffer)).toThrow(NpyError);
    expect(() => readNpy(npy("<U3", [1], new Uint8Array(12).buffer))).toThrow(/cannot be read/);
    expect(() => readNpy(npy("<f4", [2, 2], new Float32Array(4).buffer, true))).toThrow(/Fortran/);
    expect(() => readNpy(npy("<f8", [4], new Float64Array(2).buffer))).toThrow(/shorter/);
  });
});
