import { closeSync, openSync, readSync } from "node:fs";
import { ZeropointError } from "@zeropoint/core";
import type { OnnxTensor } from "./onnx-schema.js";

/**
 * The externalData key under which a lazily loaded tensor keeps the resolved, already checked real
 * path of its data file. A protobuf field, so it survives the encode/decode copies quantizers make;
 * {@link saveModel} never writes it out.
 */
export const LAZY_FILE_KEY = "zeropoint:file";

/** Where a lazily loaded tensor's bytes are, or undefined for a tensor whose data is in memory. */
export function lazyExternalRange(t: OnnxTensor): { file: string; offset: number; length: number } | undefined {
  if (t.dataLocation !== 1) return undefined;
  const entries = new Map((t.externalData ?? []).map((e) => [e.key ?? "", e.value ?? ""]));
  const file = entries.get(LAZY_FILE_KEY);
  if (file === undefined) return undefined;
  return { file, offset: Number(entries.get("offset") ?? 0), length: Number(entries.get("length") ?? 0) };
}

/**
 * A tensor's raw bytes: its inline `rawData`, or, for a lazily loaded external tensor, a fresh read
 * of its range (not cached, so a quantizer holds one weight at a time whatever the model's size).
 * An external tensor that was never resolved is an error, not an empty tensor.
 */
export function tensorBytes(t: OnnxTensor): Uint8Array | undefined {
  if (t.rawData !== undefined && t.rawData.length > 0) return t.rawData;
  if (t.dataLocation !== 1) return t.rawData;
  const range = lazyExternalRange(t);
  if (range === undefined)
    throw new ZeropointError("invalid-model", `tensor ${t.name ?? "?"} has external data that was not loaded`);
  return readRange(range.file, range.offset, range.length);
}

/** Reads `length` bytes at `offset` of a file (positional reads, no stream state). */
export function readRange(file: string, offset: number, length: number, into?: Uint8Array): Uint8Array {
  const data = into ?? new Uint8Array(length);
  const fd = openSync(file, "r");
  try {
    let read = 0;
    while (read < length) {
      const n = readSync(fd, data, read, length - read, offset + read);
      if (n === 0)
        throw new ZeropointError("io-error", `${file}: ended after ${read} of ${length} bytes at offset ${offset}`);
      read += n;
    }
  } finally {
    closeSync(fd);
  }
  return data;
}
