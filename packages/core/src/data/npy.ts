import { ZeropointError } from "../errors/zeropoint-error.js";
import { allocateTensorData, type NamedTensor, type TensorDtype } from "./named-tensor.js";

/** NumPy dtype descriptors read here, with the tensor dtype each becomes and its byte size. */
const NPY_DTYPES: Readonly<Record<string, readonly [TensorDtype, number]>> = {
  "<f4": ["float32", 4],
  "<f8": ["float64", 8],
  "<f2": ["float16", 2],
  "|u1": ["uint8", 1],
  "|i1": ["int8", 1],
  "|b1": ["bool", 1],
  "<i2": ["int16", 2],
  "<u2": ["uint16", 2],
  "<i4": ["int32", 4],
  "<i8": ["int64", 8],
};

/**
 * Reads a .npy file keeping its dtype (int64 ids stay int64, bool stays bool, float16 stays raw
 * half bits), so each model input gets exactly the values written. Errors name the file.
 */
export function parseNpyTensor(bytes: Uint8Array, file: string): NamedTensor {
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
  const entry = NPY_DTYPES[descr as string];
  if (entry === undefined) fail(`unsupported dtype ${descr}`);
  const [dtype, size] = entry as readonly [TensorDtype, number];
  const offset = start + headerLength;
  if (bytes.length - offset !== count * size)
    fail(`data has ${bytes.length - offset} bytes, shape (${shape.join(", ")}) needs ${count * size}`);
  const data = allocateTensorData(dtype, count);
  // Copy the bytes (the file buffer's offset may not be aligned for the typed view). .npy data
  // is little-endian ('<'), as is every CPU Node runs on (x86-64, arm64), so no byte swap.
  new Uint8Array(data.buffer, data.byteOffset, count * size).set(bytes.subarray(offset, offset + count * size));
  return { dtype, data, dims: shape } as NamedTensor;
}
