import { ZeropointError } from "@zeropoint/core";
import { describe, expect, it } from "vitest";
import { add, relu } from "../autograd/ops.js";
import { noGrad, Tensor } from "../autograd/tensor.js";
import { Conv2d, Linear, MaxPool2d, ReLU, Sequential } from "../nn/layers.js";
import { Module } from "../nn/module.js";
import { Random } from "../nn/random.js";
import { getDefaultQConfig } from "../quantization/qconfig.js";
import { QuantizedLinear } from "../quantization/quantized-modules.js";
import { QConfigMapping } from "./qconfig-mapping.js";
import { convertFx, prepareFx } from "./quantize-fx.js";
import { symbolicTrace } from "./symbolic-trace.js";

class Residual extends Module {
  readonly fc: Linear;
  constructor() {
    super();
    this.fc = this.registerModule("fc", new Linear(4, 4, { random: new Random(1) }));
  }
  forward(x: Tensor): Tensor {
    return relu(add(this.fc.call(x), x));
  }
}

class Branchy extends Module {
  readonly fc = this.registerModule("fc", new Linear(4, 4));
  forward(x: Tensor): Tensor {
    // Data-dependent control flow: FX cannot trace it.
    return (x.data[0] as number) > 0 ? this.fc.call(x) : x;
  }
}

function code(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    if (ZeropointError.isInstance(e)) return `${e.code}: ${e.message}`;
    throw e;
  }
  return "no error";
}

describe("symbolicTrace", () => {
  it("records modules and functional ops, prints like torch.fx and runs like the module", () => {
    const model = new Residual();
    const gm = symbolicTrace(model);
    expect(gm.printGraph()).toBe(
      [
        "graph():",
        "    %x : [num_users=2] = placeholder[target=x]",
        "    %fc : [num_users=1] = call_module[target=fc](args = (%x,), kwargs = {})",
        "    %add : [num_users=1] = call_function[target=add](args = (%fc, %x), kwargs = {})",
        "    %relu : [num_users=1] = call_function[target=relu](args = (%add,), kwargs = {})",
        "    return %relu",
      ].join("\n"),
    );
    const x = new Tensor(Float32Array.of(1, -2, 3, -4, 0.5, 0.25, -1, 2), [2, 4]);
    expect(Array.from(noGrad(() => gm.call(x)).data)).toEqual(Array.from(noGrad(() => model.call(x)).data));
  });
  it("data-dependent control flow is a typed error naming the module and node", () => {
    const model = new Sequential(["block", new Branchy()]);
    expect(code(() => symbolicTrace(model))).toMatch(/^unsupported-op: .*block reads the data of traced value %x/);
  });
});

describe("QConfigMapping", () => {
  const a = getDefaultQConfig("x86");
  const b = getDefaultQConfig("qnnpack");
  it("uses PyTorch's priority: global < object type < module-name regex < module name", () => {
    const mapping = new QConfigMapping().setGlobal(a).setObjectType(Linear, b);
    const linear = new Linear(1, 1);
    expect(mapping.qconfigFor("x", [linear])).toBe(b);
    expect(mapping.qconfigFor("x", [new ReLU()])).toBe(a);
    mapping.setModuleNameRegex("blocks\\..*", null);
    expect(mapping.qconfigFor("blocks.fc", [linear])).toBe(null);
    mapping.setModuleName("blocks.fc", a);
    expect(mapping.qconfigFor("blocks.fc", [linear])).toBe(a);
  });
  it("an empty mapping is refused by prepareFx", () => {
    const model = new Sequential(["fc", new Linear(4, 2)]).eval();
    expect(code(() => prepareFx(model, new QConfigMapping(), new Tensor(new Float32Array(4), [1, 4])))).toMatch(
      /^invalid-argument: .*QConfigMapping sets no qconfig/,
    );
  });
  it("a qnnpack-prepared model is refused by convertFx, as by eager convert (its requantization is not reproduced)", () => {
    const model = new Sequential(["fc", new Linear(4, 2, { random: new Random(4) })]).eval();
    const x = new Tensor(
      Float32Array.from({ length: 8 }, (_, i) => Math.cos(i)),
      [2, 4],
    );
    const prepared = prepareFx(model, new QConfigMapping().setGlobal(b), x);
    noGrad(() => prepared.call(x));
    expect(code(() => convertFx(prepared))).toMatch(
      /^unsupported-op: convertFx: fc was prepared for the qnnpack engine/,
    );
  });
  it("modules mapped to null stay float; the others are quantized", () => {
    const model = new Sequential(
      ["a", new Linear(4, 4, { random: new Random(2) })],
      ["b", new Linear(4, 2, { random: new Random(3) })],
    ).eval();
    const x = new Tensor(
      Float32Array.from({ length: 8 }, (_, i) => Math.sin(i)),
      [2, 4],
    );
    const prepared = prepareFx(model, new QConfigMapping().setGlobal(a).setModuleName("b", null), x);
    noGrad(() => prepared.call(x));
    const converted = convertFx(prepared);
    expect(converted.getSubmodule("a")).toBeInstanceOf(QuantizedLinear);
    expect(converted.getSubmodule("b")).toBeInstanceOf(Linear);
    expect(converted.printGraph()).toMatch(/%dequantize .*\n.*call_module\[target=b\]\(args = \(%dequantize,\)/);
  });
});

describe("prepareFx observer sharing", () => {
  it("MaxPool2d after a conv calls the conv's output observer a second time", () => {
    const model = new Sequential(["c", new Conv2d(1, 2, 3, { random: new Random(4) })], ["p", new MaxPool2d(2)]).eval();
    const x = new Tensor(
      Float32Array.from({ length: 36 }, (_, i) => Math.cos(i)),
      [1, 1, 6, 6],
    );
    const prepared = prepareFx(model, new QConfigMapping().setGlobal(getDefaultQConfig("x86")), x);
    const targets = prepared.graph.nodes.filter((n) => n.op === "call_module").map((n) => n.target);
    expect(targets).toEqual([
      "activation_post_process_0",
      "c",
      "activation_post_process_1",
      "p",
      "activation_post_process_1",
    ]);
  });
  it("a model in training mode is refused (post-training flow)", () => {
    const model = new Sequential(["fc", new Linear(4, 2)]).train();
    expect(
      code(() =>
        prepareFx(
          model,
          new QConfigMapping().setGlobal(getDefaultQConfig("x86")),
          new Tensor(new Float32Array(4), [1, 4]),
        ),
      ),
    ).toMatch(/^invalid-argument: .*eval/);
  });
});
