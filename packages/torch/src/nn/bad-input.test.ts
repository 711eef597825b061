import { ZeropointError } from "@zeropoint/core";
import { describe, expect, it } from "vitest";
import { fxCnn, loadedCnn } from "../../test-fixtures/models.js";
import { noGrad, Tensor } from "../autograd/tensor.js";
import { Sequential } from "./layers.js";

function failure(fn: () => unknown): ZeropointError {
  try {
    fn();
  } catch (e) {
    if (ZeropointError.isInstance(e)) return e;
    throw e;
  }
  throw new Error("expected a ZeropointError");
}

describe("wrong input rank is a typed error naming the module", () => {
  it("float model: the first module that cannot take the input", () => {
    const e = failure(() => noGrad(() => loadedCnn().call(new Tensor(new Float32Array(784), [1, 784]))));
    expect(e.code).toBe("invalid-shape");
    expect(e.details?.module).toBe("c1");
    expect(e.message).toMatch(/^module c1: Conv2d expects NCHW input/);
  });
  it("nested modules give the dotted path", () => {
    const model = new Sequential(["inner", loadedCnn()]).eval();
    const e = failure(() => noGrad(() => model.call(new Tensor(new Float32Array(2 * 784), [2, 28, 28]))));
    expect(e.details?.module).toBe("inner.c1");
  });
  it("FX-converted int8 model: the graph node's module", () => {
    const e = failure(() => noGrad(() => fxCnn().call(new Tensor(new Float32Array(784), [1, 784]))));
    expect(e.code).toBe("invalid-shape");
    expect(e.details?.module).toBe("c1");
  });
});
