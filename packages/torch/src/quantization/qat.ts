import { relu } from "../autograd/ops.js";
import type { Tensor } from "../autograd/tensor.js";
import { BatchNorm2d, Conv2d, Linear, ReLU } from "../nn/layers.js";
import { Module } from "../nn/module.js";
import { registerPrepared } from "./eager.js";
import { FakeQuantize } from "./fake-quantize.js";
import { ConvReLU2d, fuseModules, Identity, LinearReLU, resolveModule } from "./fuse.js";
import { QatConv2d, QatConvBn2d, QatLinear } from "./qat-modules.js";
import { getDefaultQatQConfig, type QConfig } from "./qconfig.js";
import { QuantStub } from "./stubs.js";

/** Float Conv2d + BatchNorm2d (+ ReLU) kept apart for QAT (`torch.ao.nn.intrinsic.ConvBn2d`). */
export class ConvBn2d extends Module {
  constructor(
    readonly conv: Conv2d,
    readonly bn: BatchNorm2d,
    readonly reluFused: boolean,
  ) {
    super();
    this.registerModule("0", conv);
    this.registerModule("1", bn);
  }
  forward(x: Tensor): Tensor {
    const y = this.bn.call(this.conv.call(x));
    return this.reluFused ? relu(y) : y;
  }
}

/**
 * `torch.ao.quantization.fuse_modules_qat`: like {@link fuseModules}, but conv+bn(+relu) stay
 * trainable as {@link ConvBn2d} (batch norm is folded per step inside QAT, not once up front).
 */
export function fuseModulesQat<M extends Module>(model: M, groups: readonly (readonly string[])[]): M {
  const rest: (readonly string[])[] = [];
  for (const group of groups) {
    const found = group.map((path) => resolveModule(model, path));
    const [a, b, c] = found.map(([, , m]) => m);
    const withRelu = found.length === 3 && c instanceof ReLU;
    if (a instanceof Conv2d && b instanceof BatchNorm2d && (found.length === 2 || withRelu)) {
      const fused = new ConvBn2d(a, b, withRelu).train(a.training);
      found.forEach(([parent, name], i) => {
        parent.registerModule(name, i === 0 ? fused : new Identity());
      });
    } else {
      rest.push(group);
    }
  }
  if (rest.length > 0) {
    // The other patterns fuse the same way for QAT; eval mode is only needed to fold batch norm.
    const training = model.training;
    fuseModules(model.eval(), rest);
    model.train(training);
  }
  return model;
}

/** The QAT module replacing a float (or fused float) module, or undefined when none applies. */
export function qatModule(m: Module, qconfig: QConfig): Module | undefined {
  if (m instanceof ConvBn2d) return new QatConvBn2d(m.conv, m.bn, qconfig, m.reluFused);
  if (m instanceof ConvReLU2d) return new QatConv2d(m.conv, qconfig, true);
  if (m instanceof Conv2d) return new QatConv2d(m, qconfig, false);
  if (m instanceof LinearReLU) return new QatLinear(m.linear, qconfig, true);
  if (m instanceof Linear) return new QatLinear(m, qconfig, false);
  return undefined;
}

/**
 * `torch.ao.quantization.prepare_qat` (eager), in place: swaps Conv2d/Linear and their fused forms
 * for QAT modules whose weights are fake-quantized, and fake-quantizes the outputs of QuantStubs and
 * of those modules. Train as usual, then {@link convert} gives the int8 model.
 */
export function prepareQat<M extends Module>(model: M, qconfig: QConfig = getDefaultQatQConfig("x86")): M {
  const training = model.training;
  const visit = (parent: Module) => {
    for (const [name, child] of parent.namedChildren()) {
      if (child instanceof QuantStub) {
        attach(child, qconfig);
        continue;
      }
      const qat = qatModule(child, qconfig);
      if (qat === undefined) {
        visit(child);
        continue;
      }
      qat.train(training);
      parent.registerModule(name, qat);
      attach(qat, qconfig);
    }
  };
  visit(model);
  return model;
}

function attach(m: Module, qconfig: QConfig): void {
  const fakeQuant = new FakeQuantize(qconfig.activation());
  m.registerModule("activation_post_process", fakeQuant);
  const remove = m.registerForwardHook((_module, _input, output: Tensor) => fakeQuant.call(output));
  registerPrepared(m, { observer: fakeQuant.observer, qconfig, remove });
}
