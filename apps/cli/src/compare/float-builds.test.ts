import { mnistSplit, sharedPath } from "@zeropoint/test-helpers";
import { describe, expect, it } from "vitest";
import { floatBuilds } from "./float-builds.js";

describe("float builds from the neutral IR agree with onnxruntime", () => {
  for (const name of ["cnn_fp32", "mlp_fp32"]) {
    it(`${name}: onnx, tfjs and torch logits within 1e-3 over the first 256 test images`, async () => {
      const f = await floatBuilds(sharedPath(`models/${name}.onnx`));
      expect(f.irError).toBeUndefined();
      const test = mnistSplit("test");
      const x = test.images.subarray(0, 256 * 784);
      const outputs = new Map<string, Float32Array>();
      for (const b of f.builds) {
        if ("unsupported" in b) throw new Error(`${b.framework}: ${b.unsupported}`);
        outputs.set(b.framework, await b.predict(x, 256));
      }
      const reference = outputs.get("onnx") as Float32Array;
      for (const framework of ["tfjs", "torch"]) {
        const got = outputs.get(framework) as Float32Array;
        let worst = 0;
        for (let i = 0; i < reference.length; i++)
          worst = Math.max(worst, Math.abs((got[i] as number) - (reference[i] as number)));
        console.log(`${name}: ${framework} vs onnxruntime max |logit difference| ${worst.toExponential(2)}`);
        expect(worst).toBeLessThanOrEqual(1e-3);
      }
    });
  }

  it("a model outside the IR: one line naming the node and op; ONNX still builds, the others say why not", async () => {
    const f = await floatBuilds(sharedPath("models/transformer_fp32.onnx"));
    expect(f.irError).toMatch(/^node \S+ \(op (Shape|Constant)\) is outside the IR op set$/);
    expect(f.builds.map((b) => [b.framework, "unsupported" in b])).toEqual([
      ["onnx", false],
      ["tfjs", true],
      ["torch", true],
    ]);
    const tfjs = f.builds[1] as { unsupported: string };
    expect(tfjs.unsupported).toMatch(/^not supported: node .* \(op \w+\) is outside the IR op set$/);
  });
});
