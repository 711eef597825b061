import { readFileSync } from "node:fs";
import { decodeF32, mnistSplit, readSharedJson, seededRandom, sharedPath } from "@zeropoint/test-helpers";
import { describe, expect, it } from "vitest";
import { mseLoss } from "../autograd/loss.js";
import { noGrad, Tensor } from "../autograd/tensor.js";
import { readSafetensors } from "../io/safetensors.js";
import { Adam, SGD } from "../optim/optimizers.js";
import { Dropout, Linear, ReLU, Sequential } from "./layers.js";
import { manualSeed } from "./random.js";
import { referenceCnn } from "./reference-cnn.js";

const reference = readSharedJson<{ cnn_fp32_logits: string }>("conformance/pytorch-quantized-cnn.json");

describe("real PyTorch weights", () => {
  it("the shared CNN loaded from cnn.safetensors reproduces PyTorch's logits within 1e-4", () => {
    const model = referenceCnn();
    model.loadStateDict(readSafetensors(readFileSync(sharedPath("models/cnn.safetensors")), "cnn.safetensors"));
    model.eval();
    const test = mnistSplit("test");
    const logits = noGrad(() => model.call(new Tensor(test.images.slice(0, 128 * 784), [128, 1, 28, 28])));
    const expected = decodeF32(reference.cnn_fp32_logits);
    expect(logits.size).toBe(expected.length);
    let worst = 0;
    for (let i = 0; i < expected.length; i++)
      worst = Math.max(worst, Math.abs((logits.data[i] as number) - (expected[i] as number)));
    // float32 throughout, different summation order than PyTorch's kernels: 1e-4 absolute.
    expect(worst).toBeLessThanOrEqual(1e-4);
  });

  it("bad safetensors headers and mismatched state dicts are typed errors naming the key", () => {
    const good = new Uint8Array(readFileSync(sharedPath("models/cnn.safetensors")));
    expect(() => readSafetensors(good.subarray(0, 4), "x.safetensors")).toThrow(
      expect.objectContaining({ code: "invalid-model" }),
    );
    const badLength = good.slice();
    new DataView(badLength.buffer).setBigUint64(0, 10n ** 12n, true);
    expect(() => readSafetensors(badLength, "x.safetensors")).toThrow(/header length/);
    const badJson = good.slice();
    badJson[8] = 0x78; // "x": no longer a JSON object
    expect(() => readSafetensors(badJson, "x.safetensors")).toThrow(/not valid JSON/);
    const header = new TextEncoder().encode(
      JSON.stringify({ w: { dtype: "F32", shape: [2, 2], data_offsets: [0, 12] } }),
    );
    const file = new Uint8Array(8 + header.length + 12);
    new DataView(file.buffer).setBigUint64(0, BigInt(header.length), true);
    file.set(header, 8);
    expect(() => readSafetensors(file, "y.safetensors")).toThrow(
      expect.objectContaining({ code: "invalid-model", message: expect.stringMatching(/tensor w has 12 bytes/) }),
    );
    const state = readSafetensors(good);
    const model = referenceCnn();
    const withoutL2 = new Map([...state].filter(([k]) => k !== "l2.bias"));
    expect(() => model.loadStateDict(withoutL2)).toThrow(/missing keys l2.bias/);
    const extra = new Map([...state, ["l3.weight", { data: new Float32Array(1), shape: [1] }]]);
    expect(() => model.loadStateDict(extra)).toThrow(/unexpected keys l3.weight/);
    const wrong = new Map([...state, ["l2.bias", { data: new Float32Array(11), shape: [11] }]]);
    expect(() => model.loadStateDict(wrong)).toThrow(
      expect.objectContaining({ code: "shape-mismatch", message: expect.stringMatching(/l2.bias has shape \[11\]/) }),
    );
  });
});

describe("modules and optimizers", () => {
  it("names parameters like PyTorch and switches train/eval recursively", () => {
    manualSeed(1);
    const net = new Sequential(new Linear(4, 8), new ReLU(), new Dropout(0.5), new Linear(8, 2));
    expect(net.namedParameters().map(([n]) => n)).toEqual(["0.weight", "0.bias", "3.weight", "3.bias"]);
    net.eval();
    expect(net.namedModules().every(([, m]) => !m.training)).toBe(true);
    const x = Tensor.from([1, 2, 3, 4], [1, 4]);
    expect(Array.from(net.call(x).data)).toEqual(Array.from(net.call(x).data));
  });

  for (const [name, make] of [
    ["SGD with momentum", (p: Tensor[]) => new SGD(p, { lr: 0.05, momentum: 0.9 })],
    ["Adam", (p: Tensor[]) => new Adam(p, { lr: 0.05 })],
  ] as const) {
    it(`${name} fits a linear map (loss falls by 100x)`, () => {
      manualSeed(2);
      const model = new Linear(3, 1);
      const rand = seededRandom(3);
      const xs = Float32Array.from({ length: 64 * 3 }, () => rand() * 2 - 1);
      const ys = Float32Array.from(
        { length: 64 },
        (_, i) => 2 * (xs[i * 3] as number) - (xs[i * 3 + 1] as number) + 0.5 * (xs[i * 3 + 2] as number) + 0.3,
      );
      const x = new Tensor(xs, [64, 3]);
      const y = new Tensor(ys, [64, 1]);
      const opt = make(model.parameters());
      const first = mseLoss(model.call(x), y).item();
      let last = first;
      for (let step = 0; step < 200; step++) {
        opt.zeroGrad();
        const loss = mseLoss(model.call(x), y);
        loss.backward();
        opt.step();
        last = loss.item();
      }
      expect(last).toBeLessThan(first / 100);
    });
  }
});
