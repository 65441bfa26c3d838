// Tensor.In: nested arrays of one element type and shape. The same checks as the server's
// (crates/spec/src/components/tensor.rs), with the same paths; text that is not JSON yet; and
// NumPy's .npy files read into nested arrays, so an array saved with `np.save` can be sent.

import type { TensorIn } from "../api/types";

type Add = (sub: string, reason: string) => void;

export const MAX_ELEMENTS = 1 << 22;
const MAX_PROBLEMS = 10;

/** What the field holds while its text is not a JSON array yet. */
export class Unparsed {
  constructor(
    readonly text: string,
    readonly reason: string,
  ) {}
}

/** The value of typed text: nested arrays, or why they are not there yet. */
export function parseTensorText(text: string): unknown {
  if (text.trim() === "") return null;
  try {
    return JSON.parse(text);
  } catch (e) {
    return new Unparsed(text, `is not JSON yet (${(e as Error).message})`);
  }
}

const RANGES: Record<string, [number, number]> = {
  int8: [-128, 127],
  int16: [-32768, 32767],
  int32: [-2147483648, 2147483647],
  int64: [Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER],
  uint8: [0, 255],
  uint16: [0, 65535],
  uint32: [0, 4294967295],
  uint64: [0, Number.MAX_SAFE_INTEGER],
};

function refuse(dtype: string, v: unknown): string | null {
  if (dtype === "float32" || dtype === "float64") return typeof v === "number" ? null : "a number";
  if (dtype === "bool") return typeof v === "boolean" ? null : "true or false";
  if (dtype === "string") return typeof v === "string" ? null : "a string";
  const [lo, hi] = RANGES[dtype] ?? [0, 0];
  return typeof v === "number" && Number.isInteger(v) && v >= lo && v <= hi ? null : `a whole number from ${lo} to ${hi}`;
}

const kind = (v: unknown) =>
  v === null ? "null" : Array.isArray(v) ? "an array" : typeof v === "object" ? "an object" : `a ${typeof v}`;

/** Records the problems of a tensor value, as the server would. */
export function checkTensor(c: TensorIn, v: unknown, add: Add): void {
  if (v instanceof Unparsed) return add("", v.reason);
  const shape = c.shape;
  const sizes: (number | undefined)[] = shape.map(() => undefined);
  let problems = 0;
  let elements = 0;
  const say = (sub: string, reason: string) => {
    if (problems++ < MAX_PROBLEMS) add(sub, reason);
  };
  const visit = (x: unknown, sub: string, depth: number): void => {
    if (problems >= MAX_PROBLEMS || elements > MAX_ELEMENTS) return;
    if (depth === shape.length) {
      elements += 1;
      const want = refuse(c.dtype, x);
      if (want) say(sub, `expected ${want}, found ${kind(x)}`);
      return;
    }
    if (!Array.isArray(x)) return say(sub, `expected an array (dimension ${depth} of ${shape.length}), found ${kind(x)}`);
    const dim = shape[depth] ?? -1;
    const want = dim > 0 ? dim : sizes[depth];
    if (want !== undefined && want !== x.length) {
      return say(
        sub,
        dim > 0
          ? `must have ${want} items (dimension ${depth}), found ${x.length}`
          : `must have ${want} items, as its neighbours do (dimension ${depth}), found ${x.length}`,
      );
    }
    if (x.length === 0) return say(sub, `must not be empty (dimension ${depth})`);
    sizes[depth] = x.length;
    x.forEach((item, i) => visit(item, `${sub}/${i}`, depth + 1));
  };
  visit(v, "", 0);
  if (elements > MAX_ELEMENTS) add("", `holds ${elements} elements; at most ${MAX_ELEMENTS} are allowed`);
}

/** "float32, 3 × 48 × any" */
export function describeTensor(c: TensorIn): string {
  const dims = c.shape.map((d) => (d > 0 ? String(d) : "any"));
  return `${c.dtype}, ${dims.length ? dims.join(" × ") : "one value"}`;
}

/** Flat values in nested arrays of `shape`. */
export function nest(flat: readonly unknown[], shape: readonly number[]): unknown {
  if (shape.length === 0) return flat[0];
  const [d = 0, ...rest] = shape;
  const inner = rest.reduce((a, b) => a * b, 1);
  return Array.from({ length: d }, (_, i) => nest(flat.slice(i * inner, (i + 1) * inner), rest));
}

export class NpyError extends Error {}

const NPY_TYPES: Record<string, [number, (v: DataView, at: number, little: boolean) => number | boolean]> = {
  f4: [4, (v, at, le) => v.getFloat32(at, le)],
  f8: [8, (v, at, le) => v.getFloat64(at, le)],
  i1: [1, (v, at) => v.getInt8(at)],
  u1: [1, (v, at) => v.getUint8(at)],
  i2: [2, (v, at, le) => v.getInt16(at, le)],
  u2: [2, (v, at, le) => v.getUint16(at, le)],
  i4: [4, (v, at, le) => v.getInt32(at, le)],
  u4: [4, (v, at, le) => v.getUint32(at, le)],
  i8: [8, (v, at, le) => Number(v.getBigInt64(at, le))],
  u8: [8, (v, at, le) => Number(v.getBigUint64(at, le))],
  b1: [1, (v, at) => v.getUint8(at) !== 0],
};

/** A NumPy `.npy` file (format 1 to 3, numbers or booleans, C order) as nested arrays. */
export function readNpy(buf: ArrayBuffer): unknown {
  const bytes = new Uint8Array(buf);
  const magic = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59];
  if (bytes.length < 10 || magic.some((b, i) => bytes[i] !== b)) throw new NpyError("not a .npy file");
  const view = new DataView(buf);
  const major = bytes[6];
  const long = major !== undefined && major >= 2;
  const headerLength = long ? view.getUint32(8, true) : view.getUint16(8, true);
  const start = long ? 12 : 10;
  const header = new TextDecoder().decode(bytes.subarray(start, start + headerLength));
  const descr = /'descr':\s*'([<>|=])([A-Za-z]\d*)'/.exec(header);
  const order = /'fortran_order':\s*(True|False)/.exec(header);
  const shapeText = /'shape':\s*\(([^)]*)\)/.exec(header);
  if (!descr || !order || !shapeText) throw new NpyError("the .npy header is not one this page reads");
  if (order[1] === "True") throw new NpyError("the array is in Fortran order; save it with np.ascontiguousarray");
  const type = NPY_TYPES[descr[2] ?? ""];
  if (!type) throw new NpyError(`elements of type ${descr[2]} cannot be read here; save numbers or booleans`);
  const shape = (shapeText[1] ?? "")
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean)
    .map(Number);
  const count = shape.reduce((a, b) => a * b, 1);
  if (count > MAX_ELEMENTS) throw new NpyError(`the array holds ${count} elements; at most ${MAX_ELEMENTS} are allowed`);
  const [size, read] = type;
  const little = descr[1] !== ">";
  const data = start + headerLength;
  if (data + count * size > bytes.length) throw new NpyError("the .npy file is shorter than its header says");
  const flat = Array.from({ length: count }, (_, i) => read(view, data + i * size, little));
  return nest(flat, shape);
}
