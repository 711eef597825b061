import type { Observer } from "@zeropoint/core";
import { ZeropointError } from "@zeropoint/core";
import type { Tensor } from "../autograd/tensor.js";
import { BatchNorm2d, Conv2d, Linear } from "../nn/layers.js";
import type { Module } from "../nn/module.js";
import { BNReLU2d, ConvReLU2d, fuseConvBatchNorm, LinearReLU } from "./fuse.js";
import { QatConv2d, QatConvBn2d, QatLinear } from "./qat-modules.js";
import { getDefaultQConfig, type QConfig } from "./qconfig.js";
import { QuantizedBatchNorm2d, QuantizedConv2d, QuantizedLinear } from "./quantized-modules.js";
import { DeQuantize, DeQuantStub, Quantize, QuantStub } from "./stubs.js";

/** What `prepare` attached to one module. */
export interface Prepared {
  readonly observer: Observer;
  readonly qconfig: QConfig;
  readonly remove: () => void;
}

const prepared = new WeakMap<Module, Prepared>();

/** Records what `prepare`/`prepareQat` attached to a module, for {@link convert}. */
export function registerPrepared(module: Module, entry: Prepared): void {
  if (prepared.has(module)) throw new ZeropointError("invalid-argument", "module is already prepared");
  prepared.set(module, entry);
}

function observes(m: Module): boolean {
  return (
    m instanceof QuantStub ||
    m instanceof Conv2d ||
    m instanceof Linear ||
    m instanceof BatchNorm2d ||
    m instanceof ConvReLU2d ||
    m instanceof LinearReLU ||
    m instanceof BNReLU2d
  );
}

function inside(root: Module): Set<Module> {
  // Modules inside a fused module are observed through the fused module, not on their own.
  const skip = new Set<Module>();
  for (const [, m] of root.namedModules()) {
    if (m instanceof ConvReLU2d || m instanceof LinearReLU || m instanceof BNReLU2d)
      for (const [, c] of m.namedChildren()) skip.add(c);
  }
  return skip;
}

/**
 * `torch.ao.quantization.prepare` (eager mode), in place: attaches an output observer to every
 * QuantStub and every quantizable module (Conv2d, Linear and their fused ReLU forms). Run
 * calibration batches through the model afterwards, then {@link convert}. Fuse first
 * ({@link fuseModules}) so conv+bn+relu become one quantized op, as PyTorch expects.
 */
export function prepare<M extends Module>(model: M, qconfig: QConfig = getDefaultQConfig("x86")): M {
  const skip = inside(model);
  for (const [name, m] of model.namedModules()) {
    if (!observes(m) || skip.has(m)) continue;
    if (prepared.has(m))
      throw new ZeropointError("invalid-argument", `prepare: ${name || "model"} is already prepared`);
    const observer = qconfig.activation();
    const remove = m.registerForwardHook((_module, _input: Tensor, output: Tensor) => {
      observer.observe(output.data, output.shape);
      return undefined;
    });
    prepared.set(m, { observer, qconfig, remove });
  }
  return model;
}

function outputQParams(name: string, p: Prepared): { scale: number; zeroPoint: number } {
  let qp: ReturnType<Observer["qparams"]>;
  try {
    qp = p.observer.qparams();
  } catch (cause) {
    throw new ZeropointError(
      "observer-not-ready",
      `convert: the observer of ${name} saw no data; run calibration batches through the prepared model first`,
      { cause, details: { module: name } },
    );
  }
  return { scale: qp.scale[0] as number, zeroPoint: qp.zeroPoint[0] as number };
}

/**
 * The quantized module for a trained QAT module, as PyTorch's `from_float`: BN folded with its
 * running statistics, the weight fake quantizer shown the final weight once more (if its observer is
 * enabled), and the weight quantized with its qparams; `scale`/`zeroPoint` are the output's.
 */
export function quantizedFromQat(
  m: QatConv2d | QatLinear | QatConvBn2d,
  scale: number,
  zeroPoint: number,
): QuantizedConv2d | QuantizedLinear {
  const floatModule =
    m instanceof QatConvBn2d ? fuseConvBatchNorm(m.conv, m.bn) : m instanceof QatConv2d ? m.conv : m.linear;
  const fq = m.weightFakeQuant;
  if (fq.observerEnabled) fq.observer.observe(floatModule.weight.data, floatModule.weight.shape);
  const wq = fq.qparams();
  return floatModule instanceof Conv2d
    ? new QuantizedConv2d(floatModule, wq, scale, zeroPoint, m.reluFused)
    : new QuantizedLinear(floatModule, wq, scale, zeroPoint, m.reluFused);
}

/**
 * The quantized form of a prepared module (eager `convert` and `convertFx` share it): batch norm
 * (+ReLU) → {@link QuantizedBatchNorm2d}; QAT modules → {@link quantizedFromQat}; Conv2d/Linear and
 * their ReLU fusions → quantized modules with weights observed by the qconfig's weight observer.
 * `scale`/`zeroPoint` are the output's.
 */
export function quantizedModule(m: Module, qconfig: QConfig, scale: number, zeroPoint: number): Module {
  if (m instanceof BatchNorm2d || m instanceof BNReLU2d) {
    const bn = m instanceof BNReLU2d ? m.bn : m;
    return new QuantizedBatchNorm2d(bn, scale, zeroPoint, m instanceof BNReLU2d);
  }
  if (m instanceof QatConv2d || m instanceof QatLinear || m instanceof QatConvBn2d) {
    return quantizedFromQat(m, scale, zeroPoint);
  }
  const float = m instanceof ConvReLU2d ? m.conv : m instanceof LinearReLU ? m.linear : m;
  if (!(float instanceof Conv2d || float instanceof Linear)) {
    throw new ZeropointError("unsupported-op", `no quantized form for ${m.constructor.name}`);
  }
  const relu = m instanceof ConvReLU2d || m instanceof LinearReLU;
  const weightObserver = qconfig.weight();
  weightObserver.observe(float.weight.data, float.weight.shape);
  const wq = weightObserver.qparams();
  return float instanceof Conv2d
    ? new QuantizedConv2d(float, wq, scale, zeroPoint, relu)
    : new QuantizedLinear(float, wq, scale, zeroPoint, relu);
}

/**
 * `torch.ao.quantization.convert` (eager mode), in place: every prepared module becomes its
 * quantized form with the scale and zero point its observer chose (QuantStub → {@link Quantize},
 * Conv2d/ConvReLU2d → {@link QuantizedConv2d}, Linear/LinearReLU → {@link QuantizedLinear});
 * DeQuantStub → {@link DeQuantize}. Weights are observed and quantized here, as in PyTorch.
 */
export function convert<M extends Module>(model: M): M {
  for (const [name, m] of model.namedModules()) {
    const p = prepared.get(m);
    if (p !== undefined && p.qconfig.engine === "qnnpack") {
      // qnnpack's static kernels requantize differently from fbgemm's, and there is no qnnpack
      // reference here to verify them; the converted modules reproduce fbgemm's integers only, so
      // refuse rather than be silently different.
      throw new ZeropointError(
        "unsupported-op",
        `convert: ${name || "model"} was prepared for the qnnpack engine; converted modules reproduce the x86/fbgemm kernels only`,
      );
    }
  }
  const visit = (parent: Module, prefix: string) => {
    for (const [childName, m] of parent.namedChildren()) {
      const name = prefix === "" ? childName : `${prefix}.${childName}`;
      const p = prepared.get(m);
      if (m instanceof DeQuantStub) {
        parent.registerModule(childName, new DeQuantize());
        continue;
      }
      if (p === undefined) {
        visit(m, name);
        continue;
      }
      p.remove();
      prepared.delete(m);
      const { scale, zeroPoint } = outputQParams(name, p);
      if (m instanceof QuantStub) {
        parent.registerModule(childName, new Quantize(scale, zeroPoint));
        continue;
      }
      parent.registerModule(childName, quantizedModule(m, p.qconfig, scale, zeroPoint));
    }
  };
  visit(model, "");
  return model;
}
