import { loadOnnxAdapter } from "../../adapters.js";

/**
 * Runs `zeropoint doctor`: which integer kernel onnxruntime uses on this machine (feature flags
 * confirmed by the saturation probe) and what the quantizer defaults to because of it.
 */
export async function runDoctor(json: boolean, out: (line: string) => void): Promise<Record<string, unknown>> {
  const onnx = await loadOnnxAdapter();
  const target = await onnx.resolveCpuTarget("auto");
  if (!json) {
    out("zeropoint doctor");
    for (const line of onnx.describeCpuTarget(target)) out(`  ${line}`);
  }
  return { ...target };
}
