import { ZeropointError } from "@zeropoint/core";
import type { StateTensor } from "../nn/module.js";

const SIZES: Record<string, number> = {
  F64: 8,
  F32: 4,
  F16: 2,
  BF16: 2,
  I64: 8,
  I32: 4,
  I16: 2,
  I8: 1,
  U8: 1,
  BOOL: 1,
};

function half(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exp = (bits >> 10) & 0x1f;
  const frac = bits & 0x3ff;
  if (exp === 0) return sign * 2 ** -14 * (frac / 1024);
  if (exp === 31) return frac ? Number.NaN : sign * Number.POSITIVE_INFINITY;
  return sign * 2 ** (exp - 15) * (1 + frac / 1024);
}

/**
 * Reads a `.safetensors` file (8-byte little-endian header length, JSON header, raw data) into
 * float32 tensors by name. Every entry is checked: dtype known, offsets inside the data, length equal
 * to shape x dtype size; a bad header is a typed `invalid-model` error naming the file and key.
 */
export function readSafetensors(bytes: Uint8Array, file = "<bytes>"): Map<string, StateTensor> {
  if (bytes.length < 8) throw new ZeropointError("invalid-model", `${file}: too short for a safetensors header`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLength = Number(view.getBigUint64(0, true));
  if (headerLength > bytes.length - 8 || headerLength > 100 * 1024 * 1024) {
    throw new ZeropointError("invalid-model", `${file}: header length ${headerLength} exceeds the file`);
  }
  let header: Record<string, unknown>;
  try {
    header = JSON.parse(
      new TextDecoder("utf-8", { fatal: true }).decode(bytes.subarray(8, 8 + headerLength)),
    ) as Record<string, unknown>;
  } catch (cause) {
    throw new ZeropointError("invalid-model", `${file}: header is not valid JSON`, { cause });
  }
  if (typeof header !== "object" || header === null || Array.isArray(header))
    throw new ZeropointError("invalid-model", `${file}: header is not a JSON object`);
  const dataStart = 8 + headerLength;
  const dataLength = bytes.length - dataStart;
  const out = new Map<string, StateTensor>();
  const ranges: { key: string; start: number; end: number }[] = [];
  for (const [key, entry] of Object.entries(header)) {
    if (key === "__metadata__") continue;
    if (typeof entry !== "object" || entry === null || Array.isArray(entry)) {
      throw new ZeropointError("invalid-model", `${file}: tensor ${key} is ${JSON.stringify(entry)}, not an entry`, {
        details: { key },
      });
    }
    const e = entry as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
    const size = typeof e.dtype === "string" ? SIZES[e.dtype] : undefined;
    if (size === undefined)
      throw new ZeropointError(
        "invalid-model",
        `${file}: tensor ${key} has unsupported dtype ${JSON.stringify(e.dtype)}`,
        { details: { key } },
      );
    if (!Array.isArray(e.shape) || !e.shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
      throw new ZeropointError("invalid-model", `${file}: tensor ${key} has an invalid shape`, { details: { key } });
    }
    const offsets = e.data_offsets;
    if (
      !Array.isArray(offsets) ||
      offsets.length !== 2 ||
      !offsets.every((o) => Number.isSafeInteger(o) && o >= 0) ||
      (offsets[0] as number) > (offsets[1] as number) ||
      (offsets[1] as number) > dataLength
    ) {
      throw new ZeropointError("invalid-model", `${file}: tensor ${key} has data offsets outside the file`, {
        details: { key },
      });
    }
    const shape = e.shape as number[];
    const count = shape.reduce((a, b) => a * b, 1);
    const [start, end] = offsets as [number, number];
    if (end - start !== count * size) {
      throw new ZeropointError(
        "invalid-model",
        `${file}: tensor ${key} has ${end - start} bytes, shape [${shape.join(", ")}] x ${e.dtype} needs ${count * size}`,
        { details: { key } },
      );
    }
    ranges.push({ key, start, end });
    const at = dataStart + start;
    const data = new Float32Array(count);
    for (let i = 0; i < count; i++) {
      const o = at + i * size;
      switch (e.dtype) {
        case "F32":
          data[i] = view.getFloat32(o, true);
          break;
        case "F64":
          data[i] = view.getFloat64(o, true);
          break;
        case "F16":
          data[i] = half(view.getUint16(o, true));
          break;
        case "BF16":
          data[i] = new Float32Array(new Uint32Array([view.getUint16(o, true) << 16]).buffer)[0] as number;
          break;
        case "I64":
          data[i] = Number(view.getBigInt64(o, true));
          break;
        case "I32":
          data[i] = view.getInt32(o, true);
          break;
        case "I16":
          data[i] = view.getInt16(o, true);
          break;
        case "I8":
          data[i] = view.getInt8(o);
          break;
        default:
          data[i] = view.getUint8(o);
      }
    }
    out.set(key, { data, shape, dtype: e.dtype as string });
  }
  // The safetensors format indexes its byte buffer entirely and without overlaps: two entries
  // sharing bytes (or bytes no entry owns) mean a corrupt or crafted file.
  ranges.sort((a, b) => a.start - b.start || a.end - b.end);
  let cursor = 0;
  for (const r of ranges) {
    if (r.start < cursor) {
      throw new ZeropointError("invalid-model", `${file}: tensor ${r.key} overlaps the data of another tensor`, {
        details: { key: r.key },
      });
    }
    if (r.start > cursor) {
      throw new ZeropointError(
        "invalid-model",
        `${file}: bytes ${cursor}..${r.start} before tensor ${r.key} belong to no tensor`,
        {
          details: { key: r.key },
        },
      );
    }
    cursor = r.end;
  }
  if (cursor !== dataLength) {
    throw new ZeropointError(
      "invalid-model",
      `${file}: ${dataLength - cursor} trailing data bytes belong to no tensor`,
    );
  }
  return out;
}
