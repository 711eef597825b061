import type { Recipe, TargetCpu } from "@zeropoint/core";
import { type CpuTarget, resolveCpuTarget } from "./cpu-target.js";

/** What the quantizer decided for the target CPU, written into the report. */
export interface TargetDecision {
  /** `auto` (this machine) or the `--target-cpu` name. */
  readonly requested: TargetCpu;
  readonly kernel: CpuTarget["kernel"];
  readonly u8s8Saturates: boolean;
  /** `reduce-range`: 7-bit weights chosen for this target; `none`: nothing to do; `kept`: the user's choice. */
  readonly remedy: "reduce-range" | "none" | "kept";
  readonly reason: string;
  /**
   * True when the policy (not the caller) turned reduce_range on: ops that never reach the U8S8
   * GEMM (Gather tables, uint8 ConvInteger weights) then keep their full range.
   */
  readonly automatic: boolean;
}

/**
 * Makes the recipe safe for the target's integer kernel. On a kernel that saturates uint8 × int8
 * pair sums (x86 without VNNI), full-range int8 weights can lose accuracy on ordinary inputs
 * (255·127·2 = 64770 > 32767), so weights get onnxruntime's `reduce_range` table (−64..64), which
 * bounds every pair by 32640 for any activation.
 *
 * Why `reduce_range` and not U8U8 or S8S8: it keeps MLAS's U8S8 kernel, the fastest integer path
 * on these CPUs; U8U8 has a slower widening kernel, and MLAS runs S8S8 on AVX2 through its portable
 * C++ kernel. onnxruntime's quantization guide names reduce_range first for the same reason.
 * Costs one bit of weight resolution; `zeropoint tune` measures the alternatives when that matters.
 *
 * Only U8S8 saturates: uint8 weights, int8 activations and 16-bit types are left alone, as is a
 * recipe that already asks for `reduceRange` or a caller that turned it off explicitly.
 */
export async function applyTargetCpu(
  recipe: Recipe,
  options: { readonly targetCpu?: TargetCpu | undefined; readonly reduceRange?: boolean | undefined },
): Promise<{ recipe: Recipe; decision: TargetDecision }> {
  const target = await resolveCpuTarget(options.targetCpu ?? "auto");
  const base = {
    requested: target.requested,
    kernel: target.kernel,
    u8s8Saturates: target.u8s8Saturates,
  };
  const activation = recipe.activation?.dtype ?? "uint8";
  const u8s8 = activation === "uint8" && recipe.weight.dtype === "int8";
  if (!target.u8s8Saturates) {
    return {
      recipe,
      decision: { ...base, remedy: "none", automatic: false, reason: `${target.kernel} computes uint8 × int8 exactly` },
    };
  }
  if (!u8s8) {
    return {
      recipe,
      decision: {
        ...base,
        remedy: "none",
        automatic: false,
        reason: `${activation} activations × ${recipe.weight.dtype} weights do not use the saturating U8S8 kernel`,
      },
    };
  }
  if (recipe.weight.reduceRange === true) {
    return {
      recipe,
      decision: { ...base, remedy: "reduce-range", automatic: false, reason: "reduce_range was requested" },
    };
  }
  if (options.reduceRange === false || recipe.weight.reduceRange === false) {
    return {
      recipe,
      decision: {
        ...base,
        remedy: "kept",
        automatic: false,
        reason: `full-range int8 weights kept by request, although ${target.kernel} saturates uint8 × int8 pair sums`,
      },
    };
  }
  return {
    recipe: { ...recipe, weight: { ...recipe.weight, reduceRange: true } },
    decision: {
      ...base,
      remedy: "reduce-range",
      automatic: true,
      reason:
        `${target.kernel} saturates uint8 × int8 pair sums in int16, so weights use the 7-bit ` +
        "reduce_range table (−64..64), which cannot saturate and keeps the fast U8S8 kernel",
    },
  };
}
