import { inflateRawSync } from "node:zlib";
import { type NamedTensor, parseNpyTensor, ZeropointError } from "@zeropoint/core";

/**
 * Reads NumPy's .npz (a zip of .npy files, from `np.savez` or `np.savez_compressed`): every entry
 * by name without its `.npy` suffix, each keeping its dtype. Stored and deflated entries are read;
 * ZIP64 archives (over 4 GiB) and other compression methods are a typed error naming the file.
 */
export function parseNpz(bytes: Uint8Array, file: string): Map<string, NamedTensor> {
  const fail = (why: string): never => {
    throw new ZeropointError("invalid-calibration-data", `${file}: ${why}`);
  };
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  // The end-of-central-directory record sits in the last 22 bytes plus a comment of up to 64 KiB.
  let eocd = -1;
  for (let i = bytes.length - 22; i >= Math.max(0, bytes.length - 22 - 65535); i--) {
    if (view.getUint32(i, true) === 0x06054b50) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) fail("not a .npz (zip) file");
  const entries = view.getUint16(eocd + 10, true);
  const directoryOffset = view.getUint32(eocd + 16, true);
  if (entries === 0xffff || directoryOffset === 0xffffffff) fail("ZIP64 archives are not supported");
  const out = new Map<string, NamedTensor>();
  let at = directoryOffset;
  for (let k = 0; k < entries; k++) {
    if (at + 46 > bytes.length || view.getUint32(at, true) !== 0x02014b50) fail("corrupt central directory");
    const method = view.getUint16(at + 10, true);
    const compressed = view.getUint32(at + 20, true);
    const size = view.getUint32(at + 24, true);
    const nameLength = view.getUint16(at + 28, true);
    const extraLength = view.getUint16(at + 30, true);
    const commentLength = view.getUint16(at + 32, true);
    const local = view.getUint32(at + 42, true);
    const name = new TextDecoder().decode(bytes.subarray(at + 46, at + 46 + nameLength));
    at += 46 + nameLength + extraLength + commentLength;
    if (local + 30 > bytes.length || view.getUint32(local, true) !== 0x04034b50) fail(`corrupt entry ${name}`);
    const start = local + 30 + view.getUint16(local + 26, true) + view.getUint16(local + 28, true);
    if (start + compressed > bytes.length) fail(`entry ${name} is truncated`);
    const raw = bytes.subarray(start, start + compressed);
    let data: Uint8Array;
    if (method === 0) data = raw;
    else if (method === 8) {
      try {
        data = inflateRawSync(raw);
      } catch (cause) {
        throw new ZeropointError("invalid-calibration-data", `${file}: entry ${name} does not inflate`, { cause });
      }
    } else data = fail(`entry ${name} uses compression method ${method} (only stored and deflate are read)`);
    if (data.length !== size) fail(`entry ${name} has ${data.length} bytes, its header says ${size}`);
    if (!name.endsWith(".npy")) continue;
    out.set(name.slice(0, -4), parseNpyTensor(data, `${file}:${name}`));
  }
  return out;
}
