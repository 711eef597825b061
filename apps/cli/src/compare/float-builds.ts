import type { IrGraph } from "@zeropoint/core";
import { ZeropointError } from "@zeropoint/core";

/** Runs a batch through one framework's float build: NCHW float input, logits out. */
export type Predict = (x: Float32Array, batch: number) => Float32Array | Promise<Float32Array>;

/** One framework's float build of the model, or why it has none. */
export type FloatBuild =
  | { readonly framework: string; readonly predict: Predict; readonly note?: string }
  | { readonly framework: string; readonly unsupported: string };

/** The model as IR (when it fits) and each framework's float build. */
export interface FloatBuilds {
  readonly ir: IrGraph | undefined;
  /** Why the model is outside the IR, as one line naming the node and op. */
  readonly irError: string | undefined;
  readonly builds: FloatBuild[];
  readonly inputName: string;
  readonly sampleShape: number[];
}

function reason(e: unknown): string {
  return ZeropointError.isInstance(e) ? e.message : String(e);
}

/**
 * Loads an ONNX model, converts it to core's IR, and builds the float model in every framework:
 * onnxruntime on the original file, tfjs (LayersModel) and torch (Sequential) from the IR. A
 * framework that cannot take the model is reported with its reason instead of failing the run.
 */
export async function floatBuilds(onnxPath: string): Promise<FloatBuilds> {
  const onnx = await import("@zeropoint/onnx");
  const ort = await import("onnxruntime-node");
  const { model } = onnx.loadModel(onnxPath);
  const graph = model.graph as NonNullable<typeof model.graph>;
  const initializers = new Set(graph.initializer.map((t) => t.name));
  const input = graph.input.find((v) => !initializers.has(v.name));
  if (input === undefined) throw new ZeropointError("invalid-model", `${onnxPath}: no graph input`);
  const inputName = input.name as string;
  const sampleShape = onnx.valueInfoDims(input).slice(1).map(Number);
  const session = await ort.InferenceSession.create(onnxPath, { executionProviders: ["cpu"], intraOpNumThreads: 1 });
  const builds: FloatBuild[] = [
    {
      framework: "onnx",
      predict: async (x, batch) => {
        const out = await session.run({ [inputName]: new ort.Tensor("float32", x, [batch, ...sampleShape]) });
        return (Object.values(out)[0] as { data: Float32Array }).data;
      },
      note: "onnxruntime-node (cpu)",
    },
  ];
  let ir: IrGraph | undefined;
  let irError: string | undefined;
  try {
    ir = onnx.onnxToIr(model, onnxPath.replace(/^.*\//, "").replace(/\.onnx$/, ""));
  } catch (e) {
    irError = reason(e);
  }
  if (ir === undefined) {
    builds.push({ framework: "tfjs", unsupported: `not supported: ${irError}` });
    builds.push({ framework: "torch", unsupported: `not supported: ${irError}` });
    return { ir, irError, builds, inputName, sampleShape };
  }
  try {
    const tf = await import("@tensorflow/tfjs-core");
    const zp = await import("@zeropoint/tfjs");
    const { loadTfjs } = await import("../commands/tfjs.js");
    const rt = await loadTfjs();
    const { model: layers } = zp.layersModelFromIr(ir);
    builds.push({
      framework: "tfjs",
      predict: (x, batch) =>
        tf.tidy(
          () =>
            (
              layers.predict(tf.tensor(x, [batch, ...sampleShape])) as import("@tensorflow/tfjs-core").Tensor
            ).dataSync() as Float32Array,
        ),
      note: `tfjs LayersModel (${rt.backend})`,
    });
  } catch (e) {
    builds.push({ framework: "tfjs", unsupported: `not supported: ${reason(e)}` });
  }
  try {
    const torch = await import("@zeropoint/torch");
    const { module } = torch.moduleFromIr(ir);
    builds.push({
      framework: "torch",
      predict: (x, batch) =>
        torch.noGrad(() => module.call(new torch.Tensor(x, [batch, ...sampleShape])).data as Float32Array),
      note: "@zeropoint/torch Sequential",
    });
  } catch (e) {
    builds.push({ framework: "torch", unsupported: `not supported: ${reason(e)}` });
  }
  return { ir, irError, builds, inputName, sampleShape };
}
