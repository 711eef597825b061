import type * as tf from "@tensorflow/tfjs-core";
import { createObserver, floatToHalf, halfToFloat, roundHalfToEven, sqnr, ZeropointError } from "@zeropoint/core";
import { storedByteLength, weightBytes } from "../io/file-system-io.js";

/** Storage types stock tfjs dequantizes at load (tfjs-core `decodeWeight`). */
export type WeightStorageType = "uint8" | "uint16" | "float16";

/** Which core observer picks each tensor's range. */
export type WeightRangeMethod = "minmax" | "mse" | "percentile";

/** Options for {@link quantizeWeights}. */
export interface QuantizeWeightsOptions {
  readonly weightType: WeightStorageType;
  /**
   * Range method for uint8/uint16. `mse` (default) clips outliers when that lowers the expected
   * squared error; `minmax` reproduces tfjs-converter's raw range; `percentile` keeps 99.999% of |x|.
   */
  readonly method?: WeightRangeMethod;
  /**
   * Keep a weight float32 when its SQNR (dB) would fall below this. Default 20 dB for uint8
   * (about 1% relative RMS error), 40 dB for uint16, 40 dB for float16.
   */
  readonly minSqnr?: number;
  /** Only weights whose names match one of these globs (`*` wildcard, as tfjs-converter's fnmatch). */
  readonly include?: readonly string[];
  /** Weights whose names match one of these globs stay float32. */
  readonly exclude?: readonly string[];
}

/** What happened to one weight. */
export interface WeightReport {
  readonly name: string;
  readonly shape: readonly number[];
  /** Stored dtype after quantization (`float32` when kept). */
  readonly storedAs: WeightStorageType | "float32" | string;
  readonly method?: WeightRangeMethod;
  readonly min?: number;
  readonly scale?: number;
  /** SQNR in dB of what tfjs will load against the float weight (+Infinity when exact). */
  readonly sqnr: number;
  readonly bytesBefore: number;
  readonly bytesAfter: number;
  /** Why the weight was kept as it was, if it was. */
  readonly skipped?: string;
}

/** Result of {@link quantizeWeights}. */
export interface QuantizeWeightsResult {
  readonly artifacts: tf.io.ModelArtifacts;
  readonly weights: readonly WeightReport[];
  readonly bytesBefore: number;
  readonly bytesAfter: number;
}

function globToRegExp(glob: string): RegExp {
  const escaped = glob
    .replace(/[.+^${}()|[\]\\]/g, "\\$&")
    .replace(/\*/g, ".*")
    .replace(/\?/g, ".");
  return new RegExp(`^${escaped}$`);
}

/**
 * The affine uint grid tfjs-converter stores (`_get_affine_quantization_range`), on a range that
 * already contains 0: `scale = (hi - lo) / qmax`, `zp = round_half_even(-lo / scale)`, stored
 * `min = -zp * scale`, so that `q * scale + min` reproduces 0 exactly at `q = zp`. tfjs dequantizes
 * in double precision and stores float32, which {@link dequantizeLikeTfjs} mirrors.
 */
function affineGrid(lo: number, hi: number, qmax: number): { scale: number; min: number } {
  if (hi === lo) return { scale: 1, min: lo };
  const scale = (hi - lo) / qmax;
  const zp = roundHalfToEven(-lo / scale);
  return { scale, min: -zp * scale };
}

function quantizeAffine(
  data: Float32Array,
  scale: number,
  min: number,
  qmax: number,
  out: Uint8Array | Uint16Array,
): void {
  const max = qmax * scale + min;
  for (let i = 0; i < data.length; i++) {
    const x = data[i] as number;
    const c = x < min ? min : x > max ? max : x;
    const q = roundHalfToEven((c - min) / scale);
    out[i] = q < 0 ? 0 : q > qmax ? qmax : q;
  }
}

function dequantizeLikeTfjs(q: Uint8Array | Uint16Array, scale: number, min: number): Float32Array {
  const out = new Float32Array(q.length);
  for (let i = 0; i < q.length; i++) out[i] = (q[i] as number) * scale + min;
  return out;
}

/**
 * Weight-only (storage) quantization of tfjs model artifacts — LayersModel or GraphModel alike,
 * since only the weights manifest changes. Each float32 weight is stored as uint8/uint16 with
 * `quantization: {dtype, scale, min}` or as float16, exactly the entries stock `tf.loadLayersModel`
 * / `tf.loadGraphModel` dequantize at load; computation stays float32. Unlike tfjs-converter's
 * `--quantize_uint8`, the range comes from a core observer (MSE-optimal clipping by default) and a
 * weight whose SQNR would drop below `minSqnr` is kept float32. Inputs are not modified.
 */
export function quantizeWeights(
  artifacts: tf.io.ModelArtifacts,
  options: QuantizeWeightsOptions,
): QuantizeWeightsResult {
  const specs = artifacts.weightSpecs;
  if (specs === undefined) throw new ZeropointError("invalid-model", "model artifacts have no weight specs");
  const data = weightBytes(artifacts.weightData);
  const { weightType } = options;
  if (!["uint8", "uint16", "float16"].includes(weightType)) {
    throw new ZeropointError("invalid-argument", `weight type must be uint8, uint16 or float16, got ${weightType}`);
  }
  const method = options.method ?? "mse";
  const minSqnr = options.minSqnr ?? (weightType === "uint8" ? 20 : 40);
  const include = options.include?.map(globToRegExp);
  const exclude = (options.exclude ?? []).map(globToRegExp);
  const qmax = weightType === "uint8" ? 255 : 65535;

  const outSpecs: tf.io.WeightsManifestEntry[] = [];
  const chunks: Uint8Array[] = [];
  const reports: WeightReport[] = [];
  let offset = 0;
  for (const spec of specs) {
    const length = storedByteLength(spec);
    if (offset + length > data.byteLength) {
      throw new ZeropointError("invalid-model", `weight ${spec.name} runs past the end of the weight data`, {
        details: { weight: spec.name },
      });
    }
    const stored = data.slice(offset, offset + length);
    offset += length;
    const keep = (skipped: string, sqnrValue = Number.POSITIVE_INFINITY) => {
      outSpecs.push({ ...spec });
      chunks.push(stored);
      reports.push({
        name: spec.name,
        shape: spec.shape,
        storedAs: spec.quantization?.dtype ?? spec.dtype,
        sqnr: sqnrValue,
        bytesBefore: length,
        bytesAfter: length,
        skipped,
      });
    };
    if (spec.dtype !== "float32" || spec.quantization !== undefined) {
      keep(spec.quantization !== undefined ? "already quantized" : `${spec.dtype} weight`);
      continue;
    }
    if ((include !== undefined && !include.some((r) => r.test(spec.name))) || exclude.some((r) => r.test(spec.name))) {
      keep("excluded by name");
      continue;
    }
    const values = new Float32Array(stored.buffer, stored.byteOffset, stored.byteLength / 4);
    for (let i = 0; i < values.length; i++) {
      if (!Number.isFinite(values[i] as number)) {
        throw new ZeropointError("non-finite-data", `weight ${spec.name} has a non-finite value at element ${i}`, {
          details: { weight: spec.name, index: i },
        });
      }
    }
    if (values.length === 0) {
      keep("empty");
      continue;
    }
    if (weightType === "float16") {
      const bits = new Uint16Array(values.length);
      const back = new Float32Array(values.length);
      let overflow = false;
      for (let i = 0; i < values.length; i++) {
        const h = floatToHalf(values[i] as number);
        bits[i] = h;
        back[i] = halfToFloat(h);
        if (!Number.isFinite(back[i] as number)) overflow = true;
      }
      if (overflow) {
        keep("exceeds the float16 range (65504)");
        continue;
      }
      const s = sqnr(values, back);
      if (s < minSqnr) {
        keep(`SQNR ${s.toFixed(1)} dB < ${minSqnr} dB`, s);
        continue;
      }
      outSpecs.push({ ...spec, quantization: { dtype: "float16", original_dtype: "float32" } as never });
      chunks.push(new Uint8Array(bits.buffer));
      reports.push({
        name: spec.name,
        shape: spec.shape,
        storedAs: "float16",
        sqnr: s,
        bytesBefore: length,
        bytesAfter: bits.byteLength,
      });
      continue;
    }
    const observer = createObserver(method, {
      dtype: weightType,
      ...(method === "percentile" ? { symmetric: false } : {}),
    });
    observer.observe(values);
    const range = observer.range();
    const lo = Math.min(range.min[0] as number, 0);
    const hi = Math.max(range.max[0] as number, 0);
    const { scale, min } = affineGrid(lo, hi, qmax);
    const q = weightType === "uint8" ? new Uint8Array(values.length) : new Uint16Array(values.length);
    quantizeAffine(values, scale, min, qmax, q);
    const s = sqnr(values, dequantizeLikeTfjs(q, scale, min));
    if (s < minSqnr) {
      keep(`SQNR ${s.toFixed(1)} dB < ${minSqnr} dB`, s);
      continue;
    }
    outSpecs.push({ ...spec, quantization: { dtype: weightType, scale, min, original_dtype: "float32" } as never });
    chunks.push(new Uint8Array(q.buffer));
    reports.push({
      name: spec.name,
      shape: spec.shape,
      storedAs: weightType,
      method,
      min,
      scale,
      sqnr: s,
      bytesBefore: length,
      bytesAfter: q.byteLength,
    });
  }
  if (offset !== data.byteLength) {
    throw new ZeropointError(
      "invalid-model",
      `the weight data holds ${data.byteLength} bytes but the specs describe ${offset}`,
    );
  }
  const total = chunks.reduce((a, c) => a + c.byteLength, 0);
  const packed = new Uint8Array(total);
  let at = 0;
  for (const c of chunks) {
    packed.set(c, at);
    at += c.byteLength;
  }
  return {
    artifacts: { ...artifacts, weightSpecs: outSpecs, weightData: packed.buffer },
    weights: reports,
    bytesBefore: data.byteLength,
    bytesAfter: total,
  };
}
