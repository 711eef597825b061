import { ZeropointError } from "@zeropoint/core";

/** A decoded .npy array as float32. */
export interface NpyArray {
  readonly data: Float32Array;
  readonly shape: number[];
}

/**
 * Reads NumPy's .npy format (versions 1-3): little-endian float32/float64/(u)int8/16/32/64 arrays in C
 * order, converted to float32. Anything else is an `invalid-calibration-data` error naming the file.
 */
export function parseNpy(bytes: Uint8Array, file: string): NpyArray {
  const fail = (why: string): never => {
    throw new ZeropointError("invalid-calibration-data", `${file}: ${why}`);
  };
  if (bytes.length < 10 || bytes[0] !== 0x93 || String.fromCharCode(...bytes.subarray(1, 6)) !== "NUMPY")
    fail("not a .npy file");
  const major = bytes[6] as number;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLength = major === 1 ? view.getUint16(8, true) : view.getUint32(8, true);
  const start = major === 1 ? 10 : 12;
  if (start + headerLength > bytes.length) fail("truncated header");
  const header = new TextDecoder().decode(bytes.subarray(start, start + headerLength));
  const descr = /'descr':\s*'([^']+)'/.exec(header)?.[1];
  const fortran = /'fortran_order':\s*(True|False)/.exec(header)?.[1];
  const shapeText = /'shape':\s*\(([^)]*)\)/.exec(header)?.[1];
  if (descr === undefined || fortran === undefined || shapeText === undefined) fail("malformed header");
  if (fortran === "True") fail("Fortran-order arrays are not supported");
  const shape = (shapeText as string)
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s !== "")
    .map(Number);
  if (shape.some((d) => !Number.isSafeInteger(d) || d < 0)) fail(`bad shape (${shapeText})`);
  const count = shape.reduce((a, b) => a * b, 1);
  const readers: Record<string, [number, (o: number) => number]> = {
    "<f4": [4, (o) => view.getFloat32(o, true)],
    "<f8": [8, (o) => view.getFloat64(o, true)],
    "|u1": [1, (o) => view.getUint8(o)],
    "|i1": [1, (o) => view.getInt8(o)],
    "<i2": [2, (o) => view.getInt16(o, true)],
    "<u2": [2, (o) => view.getUint16(o, true)],
    "<i4": [4, (o) => view.getInt32(o, true)],
    "<u4": [4, (o) => view.getUint32(o, true)],
    "<i8": [8, (o) => Number(view.getBigInt64(o, true))],
  };
  const reader = readers[descr as string];
  if (reader === undefined) fail(`unsupported dtype ${descr}`);
  const [size, read] = reader as [number, (o: number) => number];
  const offset = start + headerLength;
  if (bytes.length - offset !== count * size)
    fail(`data has ${bytes.length - offset} bytes, shape (${shape.join(", ")}) needs ${count * size}`);
  const data = new Float32Array(count);
  for (let i = 0; i < count; i++) data[i] = read(offset + i * size);
  return { data, shape };
}
