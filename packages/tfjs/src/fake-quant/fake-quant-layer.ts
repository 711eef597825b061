import * as tf from "@tensorflow/tfjs-core";
import * as tfl from "@tensorflow/tfjs-layers";
import { computeQParams, type QParams, ZeropointError } from "@zeropoint/core";
import { fakeQuant, fakeQuantInference } from "./fake-quant-op.js";

/** Config of {@link FakeQuantLayer}, as saved in model.json. */
export interface FakeQuantLayerArgs {
  readonly name?: string;
  /** Integer range of the activation; default 0..255 (uint8). */
  readonly qmin?: number;
  readonly qmax?: number;
  /** Moving-average decay of the observed range while training; default 0.999 (TFMOT). */
  readonly emaDecay?: number;
  /** Stop updating the range after this many training steps (frozen observer); default never. */
  readonly freezeAfterSteps?: number | null;
  /** Initial range (e.g. from calibration); absent: the first training batch sets it. */
  readonly rangeMin?: number | null;
  readonly rangeMax?: number | null;
}

/**
 * Fake-quantizes a layer output per tensor, asymmetric uint8 by default (TFMOT's
 * `MovingAverageQuantizer`): while training, the range starts at the first batch's min/max and
 * then follows an exponential moving average (`range ← decay·range + (1-decay)·batch`), always
 * widened to contain 0; at inference the stored range is used. Qparams use the `tflite` convention
 * (TF's nudging), so the layer computes what `FakeQuantWithMinMaxVars` computes.
 *
 * The range and step count are non-trainable weights, so they are saved and restored with the model.
 */
export class FakeQuantLayer extends tfl.layers.Layer {
  static readonly className = "ZeropointFakeQuant";
  readonly qmin: number;
  readonly qmax: number;
  readonly emaDecay: number;
  freezeAfterSteps: number | null;
  private readonly initialMin: number | null;
  private readonly initialMax: number | null;
  private rangeMin: tfl.LayerVariable | undefined;
  private rangeMax: tfl.LayerVariable | undefined;
  private steps: tfl.LayerVariable | undefined;

  constructor(args: FakeQuantLayerArgs = {}) {
    super(args.name === undefined ? {} : { name: args.name });
    this.qmin = args.qmin ?? 0;
    this.qmax = args.qmax ?? 255;
    this.emaDecay = args.emaDecay ?? 0.999;
    this.freezeAfterSteps = args.freezeAfterSteps ?? null;
    this.initialMin = args.rangeMin ?? null;
    this.initialMax = args.rangeMax ?? null;
    if (!(this.qmin <= 0 && this.qmax > 0)) {
      throw new ZeropointError(
        "invalid-argument",
        `FakeQuantLayer needs qmin <= 0 < qmax, got ${this.qmin}..${this.qmax}`,
      );
    }
  }

  override build(): void {
    const initialized = this.initialMin !== null && this.initialMax !== null;
    this.rangeMin = this.addWeight(
      "range_min",
      [],
      "float32",
      tfl.initializers.constant({ value: this.initialMin ?? 0 }),
      undefined,
      false,
    );
    this.rangeMax = this.addWeight(
      "range_max",
      [],
      "float32",
      tfl.initializers.constant({ value: this.initialMax ?? 0 }),
      undefined,
      false,
    );
    this.steps = this.addWeight(
      "steps",
      [],
      "float32",
      tfl.initializers.constant({ value: initialized ? 1 : 0 }),
      undefined,
      false,
    );
    this.built = true;
  }

  /** The current range, or undefined before any observation. */
  range(): { min: number; max: number } | undefined {
    if (this.steps === undefined || this.rangeMin === undefined || this.rangeMax === undefined) return undefined;
    if ((this.steps.read().dataSync()[0] as number) === 0) return undefined;
    return { min: this.rangeMin.read().dataSync()[0] as number, max: this.rangeMax.read().dataSync()[0] as number };
  }

  /** Training steps observed so far. */
  stepCount(): number {
    return this.steps === undefined ? 0 : (this.steps.read().dataSync()[0] as number);
  }

  /** The qparams of the current range (tflite convention). */
  qparams(): QParams {
    const r = this.range();
    if (r === undefined) {
      throw new ZeropointError("observer-not-ready", `fake-quant layer ${this.name} has not observed any data`, {
        details: { layer: this.name },
      });
    }
    return activationQParams(r.min, r.max, this.qmin, this.qmax);
  }

  override call(inputs: tf.Tensor | tf.Tensor[], kwargs: Record<string, unknown>): tf.Tensor {
    const x = Array.isArray(inputs) ? (inputs[0] as tf.Tensor) : inputs;
    const training = kwargs.training === true;
    const steps = this.stepCount();
    const frozen = this.freezeAfterSteps !== null && steps >= this.freezeAfterSteps;
    if (training && !frozen) this.observe(x, steps);
    // Training needs the straight-through gradient of core's op. Inference only needs the values,
    // which other backends compute bit-identically without a round trip through JavaScript; on cpu
    // the values already live in JavaScript and core's single loop beats five elementwise ops
    // (bench: wasm 0.35x -> 1.35x of float, cpu 1.02x vs 0.59x).
    if (training || tf.getBackend() === "cpu") return fakeQuant(x, this.qparams(), { convention: "tflite" });
    return fakeQuantInference(x, this.qparams());
  }

  private observe(x: tf.Tensor, steps: number): void {
    const values = x.dataSync();
    let lo = Number.POSITIVE_INFINITY;
    let hi = Number.NEGATIVE_INFINITY;
    for (let i = 0; i < values.length; i++) {
      const v = values[i] as number;
      if (v < lo) lo = v;
      if (v > hi) hi = v;
    }
    if (!Number.isFinite(lo) || !Number.isFinite(hi)) {
      throw new ZeropointError("non-finite-data", `fake-quant layer ${this.name} saw a non-finite activation`, {
        details: { layer: this.name },
      });
    }
    let min = Math.min(lo, 0);
    let max = Math.max(hi, 0);
    if (steps > 0) {
      const r = this.range() as { min: number; max: number };
      min = this.emaDecay * r.min + (1 - this.emaDecay) * min;
      max = this.emaDecay * r.max + (1 - this.emaDecay) * max;
    }
    (this.rangeMin as tfl.LayerVariable).write(tf.scalar(min));
    (this.rangeMax as tfl.LayerVariable).write(tf.scalar(max));
    (this.steps as tfl.LayerVariable).write(tf.scalar(steps + 1));
  }

  override getConfig(): tf.serialization.ConfigDict {
    const r = this.built ? this.range() : undefined;
    return {
      ...super.getConfig(),
      qmin: this.qmin,
      qmax: this.qmax,
      emaDecay: this.emaDecay,
      freezeAfterSteps: this.freezeAfterSteps,
      rangeMin: r?.min ?? this.initialMin,
      rangeMax: r?.max ?? this.initialMax,
    };
  }
}
tf.serialization.registerClass(FakeQuantLayer);

/** Per-tensor asymmetric activation qparams on `qmin..qmax` (tflite convention, range with 0). */
export function activationQParams(min: number, max: number, qmin = 0, qmax = 255): QParams {
  const lo = Math.min(min, 0);
  let hi = Math.max(max, 0);
  // An all-zero activation (a dead ReLU) still needs a positive scale.
  if (hi === lo) hi = lo + 1e-8;
  const dtype = qmin < 0 ? "int8" : "uint8";
  return computeQParams(lo, hi, { scheme: { dtype, quantMin: qmin, quantMax: qmax }, convention: "tflite" });
}
