import { ZeropointError } from "@zeropoint/core";
import { activeTraceHook, Tensor } from "../autograd/tensor.js";

/** Called after a module's forward with its input and output. */
export type ForwardHook = (module: Module, input: Tensor, output: Tensor) => Tensor | undefined;

/** A named tensor as stored in a state dict. */
export interface StateTensor {
  readonly data: Float32Array;
  readonly shape: readonly number[];
  /** The stored dtype (safetensors' `F32`, `I64`, ...), when read from a file. */
  readonly dtype?: string;
}

/** Stored dtypes that hold real numbers: a parameter loaded from anything else is a mislabelled file. */
const FLOAT_DTYPES = new Set(["F64", "F32", "F16", "BF16"]);

/**
 * Base of all modules, as torch.nn.Module: registered parameters, buffers and children, a
 * `training` flag set recursively by `train()` / `eval()`, and a state dict keyed like PyTorch's
 * (`c1.weight`, `b1.running_mean`, ...), so real PyTorch weights load by name.
 */
export abstract class Module {
  training = true;
  private readonly params = new Map<string, Tensor>();
  private readonly buffers = new Map<string, Tensor>();
  private readonly children = new Map<string, Module>();
  private readonly forwardHooks = new Set<ForwardHook>();

  /** The computation. */
  abstract forward(input: Tensor): Tensor;

  /** Calls `forward`, then the forward hooks (PyTorch's `module(x)`). */
  call(input: Tensor): Tensor {
    const recorded = activeTraceHook()?.callModule(this, input);
    if (recorded !== undefined) return recorded;
    let output = this.forward(input);
    for (const hook of this.forwardHooks) output = hook(this, input, output) ?? output;
    return output;
  }

  /**
   * Runs `hook(module, input, output)` after every {@link Module.call} (PyTorch's
   * `register_forward_hook`); observers attach this way. A hook that returns a tensor replaces the
   * output (how QAT inserts fake quantization). Returns a function that removes the hook.
   */
  registerForwardHook(hook: ForwardHook): () => void {
    this.forwardHooks.add(hook);
    return () => this.forwardHooks.delete(hook);
  }

  protected registerParameter(name: string, tensor: Tensor): Tensor {
    tensor.requiresGrad = true;
    this.params.set(name, tensor);
    return tensor;
  }

  protected registerBuffer(name: string, tensor: Tensor): Tensor {
    this.buffers.set(name, tensor);
    return tensor;
  }

  /** Adds (or replaces) a child module. */
  registerModule<M extends Module>(name: string, module: M): M {
    this.children.set(name, module);
    return module;
  }

  /** Direct children, in registration order. */
  namedChildren(): [string, Module][] {
    return [...this.children];
  }

  /** This module and all descendants with dotted names ("" for this one). */
  namedModules(prefix = ""): [string, Module][] {
    const out: [string, Module][] = [[prefix, this]];
    for (const [name, child] of this.children)
      out.push(...child.namedModules(prefix === "" ? name : `${prefix}.${name}`));
    return out;
  }

  /** Parameters with dotted names. */
  namedParameters(): [string, Tensor][] {
    return this.namedModules().flatMap(([prefix, m]) =>
      [...m.params].map(([n, t]): [string, Tensor] => [prefix === "" ? n : `${prefix}.${n}`, t]),
    );
  }

  /** Buffers with dotted names. */
  namedBuffers(): [string, Tensor][] {
    return this.namedModules().flatMap(([prefix, m]) =>
      [...m.buffers].map(([n, t]): [string, Tensor] => [prefix === "" ? n : `${prefix}.${n}`, t]),
    );
  }

  /** All parameters. */
  parameters(): Tensor[] {
    return this.namedParameters().map(([, t]) => t);
  }

  /** Sets training mode recursively. */
  train(mode = true): this {
    for (const [, m] of this.namedModules()) m.training = mode;
    return this;
  }

  /** Evaluation mode (dropout off, batch norm uses running statistics). */
  eval(): this {
    return this.train(false);
  }

  /** Parameters and buffers by dotted name. */
  stateDict(): Map<string, StateTensor> {
    return new Map(
      [...this.namedParameters(), ...this.namedBuffers()].map(([n, t]) => [n, { data: t.data, shape: t.shape }]),
    );
  }

  /**
   * Copies tensors into parameters and buffers by name. Strict (default): missing and unexpected
   * keys are errors listing them; shapes must match exactly (the error names the key).
   */
  loadStateDict(state: ReadonlyMap<string, StateTensor>, strict = true): void {
    const targets = new Map([...this.namedParameters(), ...this.namedBuffers()]);
    const missing = [...targets.keys()].filter((k) => !state.has(k));
    const unexpected = [...state.keys()].filter((k) => !targets.has(k));
    if (strict && (missing.length > 0 || unexpected.length > 0)) {
      throw new ZeropointError(
        "invalid-model",
        `state dict does not match the module: ${missing.length > 0 ? `missing keys ${missing.join(", ")}` : ""}${missing.length > 0 && unexpected.length > 0 ? "; " : ""}${unexpected.length > 0 ? `unexpected keys ${unexpected.join(", ")}` : ""}`,
        { details: { missing, unexpected } },
      );
    }
    const parameterNames = new Set(this.namedParameters().map(([n]) => n));
    for (const [key, target] of targets) {
      const source = state.get(key);
      if (source === undefined) continue;
      // Same bytes, same shape, wrong meaning: int32 bits read as weights would load "fine".
      if (parameterNames.has(key) && source.dtype !== undefined && !FLOAT_DTYPES.has(source.dtype)) {
        throw new ZeropointError(
          "invalid-dtype",
          `state dict key ${key} is stored as ${source.dtype}, but it is a parameter (floating point)`,
          { details: { key } },
        );
      }
      const same = source.shape.length === target.shape.length && source.shape.every((d, i) => d === target.shape[i]);
      if (!same) {
        throw new ZeropointError(
          "shape-mismatch",
          `state dict key ${key} has shape [${source.shape.join(", ")}], the module expects [${target.shape.join(", ")}]`,
          {
            details: { key },
          },
        );
      }
      target.data.set(source.data);
    }
  }

  /** Zeroes parameter gradients. */
  zeroGrad(): void {
    for (const p of this.parameters()) p.grad = undefined;
  }
}

/** A parameter tensor of `shape` filled by `init`. */
export function parameter(shape: readonly number[], init: (i: number) => number): Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  return new Tensor(
    Float32Array.from({ length: n }, (_, i) => init(i)),
    shape,
    true,
  );
}

/**
 * Runs `fn` (a child module's call) and, if it throws a ZeropointError, rethrows it with the
 * child's name in front of the module path, so `Linear expects ...` from deep inside a model reads
 * `module inner.l1: Linear expects ...` and `details.module` is `inner.l1`.
 */
export function inModule<T>(name: string, fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    if (!ZeropointError.isInstance(e)) throw e;
    const inner = e.details?.module;
    const path = typeof inner === "string" && inner !== "" ? `${name}.${inner}` : name;
    const reason = typeof e.details?.reason === "string" ? e.details.reason : e.message;
    throw new ZeropointError(e.code, `module ${path}: ${reason}`, {
      cause: e,
      details: { ...e.details, module: path, reason },
    });
  }
}
