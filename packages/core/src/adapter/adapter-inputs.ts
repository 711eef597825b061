import type { ModelInputSpec } from "../data/input-spec.js";
import type { NamedTensor, TensorRecord } from "../data/named-tensor.js";
import { ZeropointError } from "../errors/zeropoint-error.js";
import type { IrGraph } from "../ir/model-graph.js";
import type { Approach } from "../recipe/recipe.js";
import type { QuantizeVariant } from "./quantizer-adapter.js";

/** The input specs of an IR graph: float32, batch on axis 0, a free batch dim named `batch`. */
export function irInputSpecs(ir: IrGraph): ModelInputSpec[] {
  return ir.inputs.map((i) => ({
    name: i.name,
    dtype: "float32" as const,
    dims: i.shape.map((d) => d ?? "batch"),
    batchAxis: 0,
  }));
}

/**
 * The one float32 input of a batch, for adapters whose runtimes take single-input float models
 * (the PyTorch and tfjs emulations); anything else is an `invalid-argument` naming the framework.
 */
export function singleFloat32Input(inputs: TensorRecord, framework: string): NamedTensor<"float32"> {
  const values = Object.values(inputs);
  const t = values[0];
  if (values.length !== 1 || t === undefined || t.dtype !== "float32")
    throw new ZeropointError(
      "invalid-argument",
      `the ${framework} adapter runs models with one float32 input; got ${values.map((v) => v.dtype).join(", ") || "none"}`,
    );
  return t as NamedTensor<"float32">;
}

/**
 * The variant an adapter's `quantize` runs: the first of the approach, or the one of the requested
 * format; `unsupported-op` listing what the adapter has otherwise.
 */
export function findVariant(
  framework: string,
  variants: readonly QuantizeVariant[],
  approach: Approach,
  format: string | undefined,
): QuantizeVariant {
  const v = variants.find((x) => x.approach === approach && (format ?? x.format) === x.format);
  if (v === undefined)
    throw new ZeropointError(
      "unsupported-op",
      `the ${framework} adapter has no ${approach}${format === undefined ? "" : ` ${format}`} variant (it has ${variants.map((x) => `${x.approach} ${x.format}`).join(", ")})`,
    );
  return v;
}
