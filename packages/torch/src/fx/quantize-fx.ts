import { type Observer, ZeropointError } from "@zeropoint/core";
import { noGrad, type Tensor } from "../autograd/tensor.js";
import { BatchNorm2d, Conv2d, Linear } from "../nn/layers.js";
import { Module } from "../nn/module.js";
import { quantizedModule } from "../quantization/eager.js";
import { FakeQuantize } from "../quantization/fake-quantize.js";
import { BNReLU2d, ConvReLU2d, fuseConvBatchNorm, LinearReLU } from "../quantization/fuse.js";
import { ConvBn2d, qatModule } from "../quantization/qat.js";
import { QatConvBn2d } from "../quantization/qat-modules.js";
import type { QConfig } from "../quantization/qconfig.js";
import { QuantizedTensor } from "../quantization/quantized-tensor.js";
import { Quantize } from "../quantization/stubs.js";
import { type BackendConfig, x86BackendConfig } from "./backend-config.js";
import type { FxNode } from "./graph.js";
import { Graph } from "./graph.js";
import { GraphModule } from "./graph-module.js";
import type { QConfigMapping } from "./qconfig-mapping.js";
import { symbolicTrace } from "./symbolic-trace.js";

/** A module that records what flows through it (an FX `activation_post_process_N`). */
export class ObserverModule extends Module {
  constructor(readonly observer: Observer) {
    super();
  }
  forward(x: Tensor): Tensor {
    this.observer.observe(x.data, x.shape);
    return x;
  }
}

interface QuantizedOp {
  readonly qconfig: QConfig;
  readonly outputObserver: string;
}

/** What `prepareFx` decided, kept on the prepared GraphModule for `convertFx`. */
const plans = new WeakMap<GraphModule, { ops: Map<string, QuantizedOp>; backend: BackendConfig }>();

function isModuleNode(gm: GraphModule, n: FxNode, type: abstract new (...args: never[]) => Module): boolean {
  return n.op === "call_module" && gm.getSubmodule(n.target) instanceof type;
}

function fuse(gm: GraphModule, backend: BackendConfig, qat: boolean): Map<string, Module[]> {
  const originals = new Map<string, Module[]>();
  const g = gm.graph;
  for (const pattern of backend.fusions) {
    for (const first of [...g.nodes]) {
      if (!g.nodes.includes(first)) continue;
      const chain: FxNode[] = [first];
      let ok = isModuleNode(gm, first, pattern[0] as never);
      for (let i = 1; ok && i < pattern.length; i++) {
        const users = g.users(chain[i - 1] as FxNode);
        const next = users[0];
        ok = users.length === 1 && next !== undefined && isModuleNode(gm, next, pattern[i] as never);
        if (ok) chain.push(next as FxNode);
      }
      if (!ok) continue;
      const modules = chain.map((n) => gm.getSubmodule(n.target));
      const [a, b] = modules;
      let fused: Module;
      if (qat && a instanceof Conv2d && b instanceof BatchNorm2d) {
        // QAT keeps batch norm live and folds it per step inside QatConvBn2d.
        fused = new ConvBn2d(a, b, modules.length === 3);
      } else if (a instanceof Conv2d && b instanceof BatchNorm2d) {
        const folded = fuseConvBatchNorm(a, b);
        fused = modules.length === 3 ? new ConvReLU2d(folded) : folded;
      } else if (a instanceof Conv2d) fused = new ConvReLU2d(a);
      else if (a instanceof Linear) fused = new LinearReLU(a);
      else fused = new BNReLU2d(a as BatchNorm2d);
      fused.train(qat);
      gm.setSubmodule(first.target, fused);
      originals.set(first.target, modules);
      const last = chain[chain.length - 1] as FxNode;
      g.replaceAllUses(last, first);
      for (const n of chain.slice(1)) g.erase(n);
    }
  }
  return originals;
}

/**
 * `prepare_fx(model, qconfig_mapping, example_inputs)`: traces the model, fuses the backend's
 * patterns (batch norm folded as in eager mode; the model must be in eval mode), and inserts
 * observers: before and after every op the backend quantizes, and — for ops that share their input's
 * observer, such as MaxPool2d after a conv — a second call of the same observer on their output.
 * Calibrate by calling the returned GraphModule, then {@link convertFx}.
 */
export function prepareFx(
  model: Module,
  qconfigMapping: QConfigMapping,
  exampleInput: Tensor,
  backend: BackendConfig = x86BackendConfig,
): GraphModule {
  if (model.training) throw new ZeropointError("invalid-argument", "prepareFx (post-training) needs model.eval()");
  return prepareGraph(model, qconfigMapping, exampleInput, backend, false);
}

/**
 * `prepare_qat_fx`: as {@link prepareFx} for a model in training mode, but conv+bn(+relu) become
 * {@link QatConvBn2d}, Conv2d/Linear (and their ReLU fusions) QAT modules with fake-quantized
 * weights, and every observer a {@link FakeQuantize}. Train the returned GraphModule, then
 * {@link convertFx}.
 */
export function prepareQatFx(
  model: Module,
  qconfigMapping: QConfigMapping,
  exampleInput: Tensor,
  backend: BackendConfig = x86BackendConfig,
): GraphModule {
  if (!model.training) throw new ZeropointError("invalid-argument", "prepareQatFx needs model.train()");
  return prepareGraph(model, qconfigMapping, exampleInput, backend, true);
}

function prepareGraph(
  model: Module,
  qconfigMapping: QConfigMapping,
  exampleInput: Tensor,
  backend: BackendConfig,
  qat: boolean,
): GraphModule {
  if (qconfigMapping.isEmpty) {
    throw new ZeropointError(
      "invalid-argument",
      "prepareFx: the QConfigMapping sets no qconfig (use getDefaultQConfigMapping)",
    );
  }
  const gm = symbolicTrace(model);
  // As PyTorch uses example inputs: the traced graph must run on them before it is rewritten.
  noGrad(() => gm.call(exampleInput));
  const originals = fuse(gm, backend, qat);
  const g = gm.graph;
  const ops = new Map<string, QuantizedOp>();
  const observerOf = new Map<FxNode, string>();
  let count = 0;
  /** Observes `after` with a new observer from `source`, or again with the existing one named `source`. */
  const addObserver = (after: FxNode, source: QConfig | string): FxNode => {
    const observerName = typeof source === "string" ? source : `activation_post_process_${count++}`;
    if (typeof source !== "string") {
      const observer = source.activation();
      gm.setSubmodule(observerName, qat ? new FakeQuantize(observer) : new ObserverModule(observer));
    }
    const node = g.insertAfter(after, "call_module", observerName, [after]);
    g.replaceAllUses(after, node, node);
    observerOf.set(after, observerName);
    observerOf.set(node, observerName);
    return node;
  };
  const quantizedType = (m: Module) =>
    backend.quantized.some((t) => m instanceof t) ||
    m instanceof ConvReLU2d ||
    m instanceof LinearReLU ||
    m instanceof BNReLU2d ||
    m instanceof ConvBn2d;
  let quantizable = 0;
  for (const node of [...g.nodes]) {
    if (node.op !== "call_module" || observerOf.has(node)) continue;
    const m = gm.getSubmodule(node.target);
    if (m instanceof ObserverModule || m instanceof FakeQuantize) continue;
    if (quantizedType(m)) {
      quantizable++;
      const qconfig = qconfigMapping.qconfigFor(node.target, originals.get(node.target) ?? [m]);
      if (qconfig === null) continue;
      if (qat) gm.setSubmodule(node.target, (qatModule(m, qconfig) ?? m).train(true));
      const input = node.args[0] as FxNode;
      if (!observerOf.has(input)) {
        const obs = addObserver(input, qconfig);
        node.args[0] = obs;
      }
      addObserver(node, qconfig);
      ops.set(node.target, { qconfig, outputObserver: observerOf.get(node) as string });
    } else if (backend.sharesInputObserver.some((t) => m instanceof t)) {
      const input = node.args[0] as FxNode;
      const shared = observerOf.get(input);
      if (shared !== undefined) addObserver(node, shared);
    }
  }
  if (quantizable > 0 && ops.size === 0) {
    throw new ZeropointError(
      "invalid-argument",
      "prepareFx: no qconfig applies to any quantizable module of the model",
    );
  }
  plans.set(gm, { ops, backend });
  return gm;
}

/**
 * `convert_fx`: replaces observed ops with quantized modules, observers after float values with
 * `quantize_per_tensor` (scale and zero point as graph attributes), drops observers after quantized
 * values, and inserts `dequantize` where a float op or the output consumes a quantized value.
 */
export function convertFx(prepared: GraphModule): GraphModule {
  const plan = plans.get(prepared);
  if (plan === undefined) throw new ZeropointError("invalid-argument", "convertFx expects the result of prepareFx");
  for (const [target, op] of plan.ops) {
    if (op.qconfig.engine === "qnnpack") {
      // As eager convert: the quantized modules reproduce the x86/fbgemm kernels only, and qnnpack
      // requantizes differently, so a qnnpack-prepared model is refused instead of converted wrongly.
      throw new ZeropointError(
        "unsupported-op",
        `convertFx: ${target} was prepared for the qnnpack engine; converted modules reproduce the x86/fbgemm kernels only`,
      );
    }
  }
  const old = prepared.graph;
  const graph = new Graph();
  const result = new GraphModule(prepared, graph);
  const mapped = new Map<FxNode, FxNode>();
  const quantized = new Set<FxNode>();
  const dequantized = new Map<FxNode, FxNode>();
  const observerModule = (target: string) => prepared.getSubmodule(target) as ObserverModule | FakeQuantize;
  const floatArg = (a: FxNode): FxNode => {
    const n = mapped.get(a) as FxNode;
    if (!quantized.has(n)) return n;
    let d = dequantized.get(n);
    if (d === undefined) {
      d = graph.create("call_method", "dequantize", [n]);
      dequantized.set(n, d);
    }
    return d;
  };
  for (const node of old.nodes) {
    if (node.op === "placeholder") {
      mapped.set(node, graph.create("placeholder", node.target, [], node.name));
      continue;
    }
    if (node.op === "output") {
      graph.create("output", "output", [floatArg(node.args[0] as FxNode)]);
      continue;
    }
    if (node.op !== "call_module") {
      mapped.set(
        node,
        graph.create(
          node.op,
          node.target,
          node.args.map((a) => (typeof a === "object" && !Array.isArray(a) ? floatArg(a as FxNode) : a)),
          node.name,
        ),
      );
      continue;
    }
    const m = prepared.getSubmodule(node.target);
    const input = node.args[0] as FxNode;
    const inNew = mapped.get(input) as FxNode;
    if (m instanceof ObserverModule || m instanceof FakeQuantize) {
      if (quantized.has(inNew)) {
        mapped.set(node, inNew);
        continue;
      }
      const qp = observerModule(node.target).observer.qparams();
      const consumer = old.users(node)[0];
      const prefix =
        input.op === "placeholder" && consumer !== undefined
          ? `${consumer.target.replace(/\./g, "_")}_input`
          : input.name;
      const scaleName = `${prefix}_scale_0`;
      const zpName = `${prefix}_zero_point_0`;
      result.attributes.set(scaleName, qp.scale[0] as number);
      result.attributes.set(zpName, qp.zeroPoint[0] as number);
      const s = graph.create("get_attr", scaleName);
      const z = graph.create("get_attr", zpName);
      const q = graph.create("call_function", "quantize_per_tensor", [inNew, s, z, "torch.quint8"]);
      quantized.add(q);
      mapped.set(node, q);
      continue;
    }
    const op = plan.ops.get(node.target);
    if (op !== undefined) {
      if (!quantized.has(inNew))
        throw new ZeropointError("invalid-model", `convertFx: input of ${node.target} is not quantized`);
      const qp = observerModule(op.outputObserver).observer.qparams();
      const [scale, zeroPoint] = [qp.scale[0] as number, qp.zeroPoint[0] as number];
      result.setSubmodule(node.target, quantizedModule(m, op.qconfig, scale, zeroPoint));
      const n = graph.create("call_module", node.target, [inNew], node.name);
      quantized.add(n);
      mapped.set(node, n);
      continue;
    }
    const sharesObserver = plan.backend.sharesInputObserver.some((t) => m instanceof t);
    if (sharesObserver && quantized.has(inNew)) {
      const n = graph.create("call_module", node.target, [inNew], node.name);
      quantized.add(n);
      mapped.set(node, n);
      continue;
    }
    mapped.set(node, graph.create("call_module", node.target, [floatArg(input)], node.name));
  }
  result.extraFunctions = {
    quantize_per_tensor: ((x: Tensor, scale: number, zeroPoint: number) =>
      new Quantize(scale, zeroPoint).forward(x)) as never,
    dequantize: ((x: Tensor) => (x instanceof QuantizedTensor ? x.dequantize() : x)) as never,
  };
  return result;
}
