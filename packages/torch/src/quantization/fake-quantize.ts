import { fakeQuantize, fakeQuantizeBackward, type Observer, type QParams } from "@zeropoint/core";
import { result, type Tensor } from "../autograd/tensor.js";
import { Module } from "../nn/module.js";

/**
 * `torch.ao.quantization.FakeQuantize`: observes its input (while the observer is enabled), then
 * quantizes and dequantizes it in float with the observer's current qparams (PyTorch's arithmetic:
 * float32 reciprocal, half-to-even), passing gradients straight through inside the range and zero
 * outside (the straight-through estimator).
 */
export class FakeQuantize extends Module {
  observerEnabled = true;
  fakeQuantEnabled = true;
  constructor(readonly observer: Observer) {
    super();
  }

  /** The qparams the observer gives now. */
  qparams(): QParams {
    return this.observer.qparams();
  }

  forward(x: Tensor): Tensor {
    if (this.observerEnabled) this.observer.observe(x.data, x.shape);
    if (!this.fakeQuantEnabled) return x;
    const { output, mask } = fakeQuantize(x.data, this.observer.qparams(), { convention: "pytorch", shape: x.shape });
    return result(output, x.shape, [x], "fake_quantize", (g) => [fakeQuantizeBackward(g, mask)]);
  }
}

/** Stops every FakeQuantize in `model` from updating its range (PyTorch's `disable_observer`). */
export function disableObserver(model: Module): void {
  for (const [, m] of model.namedModules()) if (m instanceof FakeQuantize) m.observerEnabled = false;
}

/** Lets every FakeQuantize in `model` update its range again (`enable_observer`). */
export function enableObserver(model: Module): void {
  for (const [, m] of model.namedModules()) if (m instanceof FakeQuantize) m.observerEnabled = true;
}
