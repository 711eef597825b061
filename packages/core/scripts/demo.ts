/**
 * `pnpm demo`: every observer and convention over the shared heavy-tailed tensors (fed in 8 chunks,
 * two passes where the observer takes two), with the range, scale, zero point and quantization SQNR
 * each one picks. The first cross-framework comparison: same data, three arithmetics.
 */
import { existsSync, readFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import {
  computeQParams,
  createObserver,
  dequantize,
  type ObserverKind,
  type ObserverOptions,
  QUANT_CONVENTIONS,
  quantize,
  sqnr,
} from "../src/index.js";

const here = dirname(fileURLToPath(import.meta.url));
const shared = process.env.ZEROPOINT_SHARED ?? resolve(here, "../../../../shared");
const tensorsDir = resolve(shared, "conformance/tensors");
if (!existsSync(tensorsDir)) {
  console.error(
    `zeropoint demo: reference tensors not found in ${tensorsDir} (set ZEROPOINT_SHARED to the shared data folder)`,
  );
  process.exit(1);
}

const observers: [string, ObserverKind, ObserverOptions][] = [
  ["minmax", "minmax", {}],
  ["moving-average-minmax", "moving-average-minmax", {}],
  ["histogram (PyTorch)", "histogram", {}],
  ["entropy 2048/128 (onnxruntime)", "entropy", { bins: 2048, quantizedBins: 128 }],
  ["percentile 99.999 (onnxruntime)", "percentile", {}],
  ["mse (zeropoint)", "mse", {}],
];

const names = ["c_student_t3", "c_signed_lognormal", "c_relu_outliers", "c_bimodal_outliers"];
const fmt = (v: number, digits = 4) =>
  Math.abs(v) >= 1000 || (Math.abs(v) < 1e-3 && v !== 0) ? v.toExponential(3) : v.toFixed(digits);

const conventions = QUANT_CONVENTIONS;
const cell = (values: string[], width: number) => values.map((v) => v.padStart(width)).join(" ");

console.log("zeropoint demo: what each observer and each framework's arithmetic picks on the same data");
console.log("Each tensor: 262144 float32 values fed as 8 chunks (two passes for entropy/percentile).");
console.log("Columns per convention: pytorch | onnxruntime | tflite. SQNR: quantize→dequantize of the whole tensor.\n");
for (const name of names) {
  const bytes = readFileSync(resolve(tensorsDir, `${name}.f32`));
  const data = new Float32Array(new Uint8Array(bytes).buffer);
  const chunk = data.length / 8;
  console.log(`■ ${name}`);
  console.log(
    `  ${"observer".padEnd(31)} ${"range".padEnd(22)} ${"uint8 affine scale/zp".padEnd(50)} ${"int8 symmetric scale".padEnd(32)} uint8 SQNR dB`,
  );
  for (const [label, kind, options] of observers) {
    const o = createObserver(kind, options);
    for (let pass = 0; pass < o.passes; pass++) {
      if (pass > 0) o.nextPass();
      for (let i = 0; i < 8; i++) o.observe(data.subarray(i * chunk, (i + 1) * chunk));
    }
    const { min, max } = o.range();
    const range = `[${fmt(min[0] as number, 3)}, ${fmt(max[0] as number, 3)}]`;
    const affine: string[] = [];
    const symmetric: string[] = [];
    const quality: string[] = [];
    for (const convention of conventions) {
      const qp = computeQParams(min, max, { scheme: { dtype: "uint8" }, convention });
      affine.push(`${fmt(qp.scale[0] as number, 5)}/${qp.zeroPoint[0]}`);
      const sym = computeQParams(min, max, { scheme: { dtype: "int8", symmetric: true }, convention });
      symmetric.push(fmt(sym.scale[0] as number, 5));
      quality.push(sqnr(data, dequantize(quantize(data, qp, { convention }), qp)).toFixed(2));
    }
    console.log(
      `  ${label.padEnd(31)} ${range.padEnd(22)} ${cell(affine, 16).padEnd(50)} ${cell(symmetric, 10).padEnd(32)} ${cell(quality, 6)}`,
    );
  }
  console.log("");
}
console.log("int8 symmetric differs by convention: PyTorch divides by 127.5 over -128..127, onnxruntime by 127");
console.log("over -127..127, TFLite (TFMOT full range) keeps the extra negative code with a 254/256 ratio.");
