import { decodeF32, mnistSplit, readSharedJson, recordEvidence } from "@zeropoint/test-helpers";
import { describe, expect, it } from "vitest";
import { fxCnn } from "../../test-fixtures/models.js";
import { noGrad, Tensor } from "../autograd/tensor.js";
import { QuantizedConv2d, type QuantizedLinear } from "../quantization/quantized-modules.js";

interface ModuleRef {
  out_scale: number;
  out_zero_point: number;
  w_scale: number[];
  w_zero_point: number[];
  w_int: string;
  type: string;
}
const ref = readSharedJson<{
  cnn_fx_ptq: { acc: number; logits: string; graph: string; qparams: Record<string, ModuleRef> };
}>("conformance/pytorch-quantized-cnn.json").cnn_fx_ptq;

/** `(op, target)` per node, with FX's generated attribute and name suffixes removed. */
function sequence(printed: string): string[] {
  return printed
    .split("\n")
    .slice(1)
    .map((line) => {
      if (line.trim().startsWith("return")) return "output";
      const m = /= (\w+)\[target=([^\]]+)\]/.exec(line);
      if (m === null) return line.trim();
      const target = (m[2] as string)
        .replace(/^torch\./, "")
        .replace(/_\d+$/, "")
        .replace(/^\w+_(input_)?(scale|zero_point)$/, "$2");
      return `${m[1]} ${target}`;
    });
}

describe("FX post-training static quantization reproduces PyTorch's (x86 engine)", () => {
  const model = fxCnn();
  it("the converted graph has PyTorch's node sequence", () => {
    expect(sequence(model.printGraph())).toEqual(sequence(ref.graph));
    // The shape alone would pass a convert that left float modules in place: the logits must also
    // be requantized, i.e. on l2's uint8 output grid, and within one step of PyTorch's integers.
    const l2 = ref.qparams.l2 as ModuleRef;
    const test = mnistSplit("test");
    const logits = noGrad(() => model.call(new Tensor(test.images.slice(0, 128 * 784), [128, 1, 28, 28]))).data;
    const expected = decodeF32(ref.logits);
    let equal = 0;
    for (let i = 0; i < expected.length; i++) {
      const q = (logits[i] as number) / l2.out_scale + l2.out_zero_point;
      expect(Math.abs(q - Math.round(q)), `logit ${i} is not on the output grid`).toBeLessThan(1e-3);
      const step = Math.abs((logits[i] as number) - (expected[i] as number)) / l2.out_scale;
      expect(step, `logit ${i}`).toBeLessThan(1 + 1e-3);
      if (step < 1e-3) equal++;
    }
    expect(equal / expected.length).toBeGreaterThan(0.8);
    recordEvidence(
      "torch/static/fx",
      `PyTorch 2.11's converted node sequence (${sequence(ref.graph).length} nodes); logits requantized on l2's uint8 grid, within one step of PyTorch's on all ${expected.length} (${equal} equal)`,
    );
  });
  for (const name of ["c1", "c2", "l1", "l2"]) {
    it(`${name}: output scale within 1e-3 relative, zero point within ±1, weights equal`, () => {
      const r = ref.qparams[name] as ModuleRef;
      const m = model.getSubmodule(name) as QuantizedConv2d | QuantizedLinear;
      expect(Math.abs(m.scale - r.out_scale)).toBeLessThanOrEqual(1e-3 * r.out_scale);
      expect(Math.abs(m.zeroPoint - r.out_zero_point)).toBeLessThanOrEqual(1);
      expect(m.reluFused).toBe(r.type.endsWith("ReLU") || r.type.endsWith("ReLU2d"));
      expect(Array.from(m.weight.scale)).toEqual(r.w_scale.map(Math.fround));
      expect(Array.from(m.weight.int)).toEqual(Array.from(decodeF32(r.w_int)));
      if (name.startsWith("c")) expect(m).toBeInstanceOf(QuantizedConv2d);
    });
  }
  it("logits: the same top-1 as PyTorch on at least 127 of the 128 images", () => {
    const test = mnistSplit("test");
    const logits = noGrad(() => model.call(new Tensor(test.images.slice(0, 128 * 784), [128, 1, 28, 28]))).data;
    const expected = decodeF32(ref.logits);
    let same = 0;
    for (let r = 0; r < 128; r++) {
      const arg = (a: ArrayLike<number>) => {
        let best = 0;
        for (let k = 1; k < 10; k++) if ((a[r * 10 + k] as number) > (a[r * 10 + best] as number)) best = k;
        return best;
      };
      if (arg(logits) === arg(expected)) same++;
    }
    console.log(`FX PTQ: same top-1 on ${same}/128`);
    expect(same).toBeGreaterThanOrEqual(127);
  });
});
