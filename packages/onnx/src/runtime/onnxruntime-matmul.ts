import type { MatrixMultiply } from "@zeropoint/core";
import { encodeModel } from "../model/model-io.js";
import { DataType, type OnnxModel } from "../model/onnx-schema.js";
import { loadOnnxruntime } from "./onnxruntime.js";

/** A GEMM session and the {@link MatrixMultiply} that runs it; release it when done. */
export interface OnnxruntimeMatrixMultiply {
  readonly matmul: MatrixMultiply;
  release(): Promise<void>;
}

/**
 * onnxruntime's float32 MatMul (MLAS: AVX2/AVX-512 or NEON, every core) as core's
 * {@link MatrixMultiply}, for the GEMM-bound steps of GPTQ. One session with symbolic dims serves
 * every shape; the inputs are wrapped, not copied.
 */
export async function onnxruntimeMatrixMultiply(): Promise<OnnxruntimeMatrixMultiply> {
  const ort = await loadOnnxruntime();
  const value = (name: string, dims: string[]) => ({
    name,
    type: { tensorType: { elemType: DataType.FLOAT, shape: { dim: dims.map((d) => ({ dimParam: d })) } } },
  });
  const model = {
    irVersion: 8,
    opsetImport: [{ domain: "", version: 17 }],
    graph: {
      name: "gemm",
      input: [value("a", ["m", "k"]), value("b", ["k", "n"])],
      output: [value("c", ["m", "n"])],
      valueInfo: [],
      initializer: [],
      node: [{ name: "matmul", opType: "MatMul", input: ["a", "b"], output: ["c"], attribute: [] }],
    },
  } as unknown as OnnxModel;
  const session = await ort.InferenceSession.create(encodeModel(model), { executionProviders: ["cpu"] });
  return {
    matmul: async (a, b, m, k, n) => {
      const out = await session.run({
        a: new ort.Tensor("float32", a, [m, k]),
        b: new ort.Tensor("float32", b, [k, n]),
      });
      return (out.c as unknown as { data: Float32Array }).data;
    },
    release: () => session.release(),
  };
}
