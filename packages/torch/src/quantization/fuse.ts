import { foldBatchNorm, ZeropointError } from "@zeropoint/core";
import { relu } from "../autograd/ops.js";
import type { Tensor } from "../autograd/tensor.js";
import { BatchNorm2d, Conv2d, Linear, ReLU } from "../nn/layers.js";
import { Module } from "../nn/module.js";

/** torch.nn.Identity: the placeholder fusion leaves where the absorbed modules were. */
export class Identity extends Module {
  forward(x: Tensor): Tensor {
    return x;
  }
}

/** Float Conv2d followed by ReLU, one module (`torch.ao.nn.intrinsic.ConvReLU2d`). */
export class ConvReLU2d extends Module {
  constructor(readonly conv: Conv2d) {
    super();
    this.registerModule("0", conv);
  }
  forward(x: Tensor): Tensor {
    return relu(this.conv.call(x));
  }
}

/** Float Linear followed by ReLU, one module (`torch.ao.nn.intrinsic.LinearReLU`). */
export class LinearReLU extends Module {
  constructor(readonly linear: Linear) {
    super();
    this.registerModule("0", linear);
  }
  forward(x: Tensor): Tensor {
    return relu(this.linear.call(x));
  }
}

/** Float BatchNorm2d followed by ReLU, one module (`torch.ao.nn.intrinsic.BNReLU2d`). */
export class BNReLU2d extends Module {
  constructor(readonly bn: BatchNorm2d) {
    super();
    this.registerModule("0", bn);
  }
  forward(x: Tensor): Tensor {
    return relu(this.bn.call(x));
  }
}

/**
 * Folds an eval-mode BatchNorm into the preceding convolution's weight and bias, in float32 and in
 * PyTorch's order (`fuse_conv_bn_weights`): `rsqrt = 1/sqrt(var + eps)`, `w' = w * (gamma * rsqrt)`,
 * `b' = (b - mean) * rsqrt * gamma + beta`. Doing the same float32 steps matters: the int8 weights
 * quantized from `w'` must equal PyTorch's bit for bit.
 */
export function fuseConvBatchNorm(conv: Conv2d, bn: BatchNorm2d): Conv2d {
  const channels = conv.outChannels;
  if (bn.numFeatures !== channels) {
    throw new ZeropointError(
      "shape-mismatch",
      `cannot fuse Conv2d with ${channels} output channels and BatchNorm2d(${bn.numFeatures})`,
    );
  }
  const fused = new Conv2d(
    conv.inChannels,
    conv.outChannels,
    [conv.weight.shape[2], conv.weight.shape[3]] as [number, number],
    {
      stride: conv.stride,
      padding: conv.padding,
      dilation: conv.dilation,
      groups: conv.groups,
    },
  );
  const { weight, bias } = foldBatchNorm({
    weight: conv.weight.data,
    ...(conv.bias ? { bias: conv.bias.data } : {}),
    gamma: bn.weight.data,
    beta: bn.bias.data,
    mean: bn.runningMean.data,
    variance: bn.runningVar.data,
    epsilon: bn.eps,
    layout: "channels-first",
    arithmetic: "pytorch-float32",
  });
  fused.weight.data.set(weight);
  (fused.bias as Tensor).data.set(bias);
  return fused;
}

/** `[parent, name, module]` for a dotted module path; `invalid-argument` naming the path if absent. */
export function resolveModule(root: Module, path: string): [Module, string, Module] {
  const parts = path.split(".");
  let parent = root;
  for (const part of parts.slice(0, -1)) {
    const next = parent.namedChildren().find(([n]) => n === part)?.[1];
    if (next === undefined) throw new ZeropointError("invalid-argument", `no module named ${path}`);
    parent = next;
  }
  const name = parts[parts.length - 1] as string;
  const module = parent.namedChildren().find(([n]) => n === name)?.[1];
  if (module === undefined) throw new ZeropointError("invalid-argument", `no module named ${path}`);
  return [parent, name, module];
}

/**
 * `torch.ao.quantization.fuse_modules` for eval-mode models: each group of dotted names is replaced
 * by one module at the first name and {@link Identity} at the others. Supported patterns, as in
 * PyTorch's default fuser map: conv+bn, conv+bn+relu, conv+relu, bn+relu, linear+relu. The model is changed
 * in place (PyTorch's `inplace=True`) and returned.
 */
export function fuseModules<M extends Module>(model: M, groups: readonly (readonly string[])[]): M {
  if (model.training) {
    throw new ZeropointError("invalid-argument", "fuseModules folds batch norm statistics; call model.eval() first");
  }
  for (const group of groups) {
    const found = group.map((path) => resolveModule(model, path));
    const modules = found.map(([, , m]) => m);
    const kinds = modules.map((m) => m.constructor.name).join("+");
    let fused: Module;
    const [a, b, c] = modules;
    if (a instanceof Conv2d && b instanceof BatchNorm2d && c instanceof ReLU && modules.length === 3) {
      fused = new ConvReLU2d(fuseConvBatchNorm(a, b));
    } else if (a instanceof Conv2d && b instanceof BatchNorm2d && modules.length === 2) {
      fused = fuseConvBatchNorm(a, b);
    } else if (a instanceof Conv2d && b instanceof ReLU && modules.length === 2) {
      fused = new ConvReLU2d(a);
    } else if (a instanceof BatchNorm2d && b instanceof ReLU && modules.length === 2) {
      fused = new BNReLU2d(a);
    } else if (a instanceof Linear && b instanceof ReLU && modules.length === 2) {
      fused = new LinearReLU(a);
    } else {
      throw new ZeropointError("unsupported-op", `fuseModules: cannot fuse ${group.join(", ")} (${kinds})`, {
        details: { group },
      });
    }
    fused.train(a?.training ?? false);
    found.forEach(([parent, name], i) => {
      parent.registerModule(name, i === 0 ? fused : new Identity());
    });
  }
  return model;
}
