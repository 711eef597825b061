import { shapeSize, ZeropointError } from "@zeropoint/core";

/** The backward step of an op: gradients for each parent given the output gradient. */
export interface GradNode {
  readonly parents: readonly Tensor[];
  readonly name: string;
  backward(gradOutput: Float32Array): (Float32Array | undefined)[];
}

let gradEnabled = true;

/**
 * Installed while `symbolicTrace` runs: functional ops and module calls on traced values are
 * recorded as graph nodes instead of computed.
 */
export interface TraceHook {
  isTraced(value: unknown): boolean;
  callFunction(name: string, args: readonly unknown[]): Tensor;
  /** Returns the recorded output for a leaf module, or undefined to trace through its forward. */
  callModule(module: object, input: Tensor): Tensor | undefined;
}

let traceHook: TraceHook | undefined;

/** Installs (or with undefined removes) the trace hook; returns the previous one. */
export function setTraceHook(hook: TraceHook | undefined): TraceHook | undefined {
  const previous = traceHook;
  traceHook = hook;
  return previous;
}

/** The active trace hook, if tracing. */
export function activeTraceHook(): TraceHook | undefined {
  return traceHook;
}

/** While tracing and some argument is traced: the recorded result of op `name`; else undefined. */
export function traced(name: string, args: readonly unknown[]): Tensor | undefined {
  const hook = traceHook;
  if (hook === undefined) return undefined;
  const any = args.some((a) => hook.isTraced(a) || (Array.isArray(a) && a.some((x) => hook.isTraced(x))));
  return any ? hook.callFunction(name, args) : undefined;
}

/** Runs `fn` without recording operations for autograd (PyTorch's `torch.no_grad()`). */
export function noGrad<T>(fn: () => T): T {
  const previous = gradEnabled;
  gradEnabled = false;
  try {
    return fn();
  } finally {
    gradEnabled = previous;
  }
}

/** Whether operations are currently recorded. */
export function isGradEnabled(): boolean {
  return gradEnabled;
}

/**
 * A float32 tensor (row-major, contiguous) with reverse-mode autograd. Leaves with
 * `requiresGrad` accumulate `.grad`; results of operations on them record a {@link GradNode}.
 */
export class Tensor {
  readonly data: Float32Array;
  readonly shape: readonly number[];
  requiresGrad: boolean;
  grad: Float32Array | undefined;
  readonly node: GradNode | undefined;

  constructor(data: Float32Array, shape: readonly number[], requiresGrad = false, node?: GradNode) {
    if (shapeSize(shape) !== data.length) {
      throw new ZeropointError(
        "shape-mismatch",
        `tensor data has ${data.length} values but shape [${shape.join(", ")}] needs ${shapeSize(shape)}`,
      );
    }
    this.data = data;
    this.shape = [...shape];
    this.requiresGrad = requiresGrad;
    this.grad = undefined;
    this.node = node;
  }

  /** Number of elements. */
  get size(): number {
    return this.data.length;
  }

  /** The value of a one-element tensor. */
  item(): number {
    if (this.data.length !== 1)
      throw new ZeropointError("invalid-shape", `item() needs one element, tensor has ${this.data.length}`);
    return this.data[0] as number;
  }

  /** A tensor sharing nothing with the graph (no grad). */
  detach(): Tensor {
    return new Tensor(this.data, this.shape);
  }

  /**
   * Back-propagates from this tensor: `gradient` defaults to 1 for a one-element tensor. Gradients
   * accumulate into the `.grad` of leaves that require grad.
   */
  backward(gradient?: Float32Array): void {
    if (!this.requiresGrad)
      throw new ZeropointError("invalid-state", "backward() on a tensor that does not require grad");
    if (gradient === undefined && this.size !== 1)
      throw new ZeropointError("invalid-argument", "backward() needs a gradient for a non-scalar tensor");
    const order: Tensor[] = [];
    const visited = new Set<Tensor>();
    const stack: [Tensor, boolean][] = [[this, false]];
    while (stack.length > 0) {
      const [t, done] = stack.pop() as [Tensor, boolean];
      if (done) {
        order.push(t);
        continue;
      }
      if (visited.has(t)) continue;
      visited.add(t);
      stack.push([t, true]);
      for (const p of t.node?.parents ?? []) if (p.requiresGrad && !visited.has(p)) stack.push([p, false]);
    }
    const grads = new Map<Tensor, Float32Array>();
    grads.set(this, gradient ?? Float32Array.of(1));
    for (let i = order.length - 1; i >= 0; i--) {
      const t = order[i] as Tensor;
      const g = grads.get(t);
      if (g === undefined) continue;
      if (t.node === undefined) {
        if (t.grad === undefined) t.grad = Float32Array.from(g);
        else for (let k = 0; k < g.length; k++) t.grad[k] = (t.grad[k] as number) + (g[k] as number);
        continue;
      }
      const parentGrads = t.node.backward(g);
      t.node.parents.forEach((p, k) => {
        const pg = parentGrads[k];
        if (pg === undefined || !p.requiresGrad) return;
        const existing = grads.get(p);
        if (existing === undefined) grads.set(p, pg);
        else for (let j = 0; j < pg.length; j++) existing[j] = (existing[j] as number) + (pg[j] as number);
      });
    }
  }

  /** Zeros of a shape. */
  static zeros(shape: readonly number[], requiresGrad = false): Tensor {
    return new Tensor(new Float32Array(shapeSize(shape)), shape, requiresGrad);
  }

  /** A tensor from values. */
  static from(values: ArrayLike<number>, shape: readonly number[], requiresGrad = false): Tensor {
    return new Tensor(Float32Array.from(values), shape, requiresGrad);
  }
}

/** Makes an op result, recording the node when grad is enabled and a parent requires grad. */
export function result(
  data: Float32Array,
  shape: readonly number[],
  parents: readonly Tensor[],
  name: string,
  backward: GradNode["backward"],
): Tensor {
  const needs = gradEnabled && parents.some((p) => p.requiresGrad);
  return new Tensor(data, shape, needs, needs ? { parents, name, backward } : undefined);
}
