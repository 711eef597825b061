/**
 * Big-graph benchmark (`pnpm bench`): static quantization of 100,000-node Add-chain and residual
 * graphs (calibration runs in segments), seconds per graph, against the 60 s the issue allows.
 */
import { quantizeStatic } from "../src/quantize/quantize-static.js";
import { bigGraph, bigGraphBatches } from "../test-fixtures/big-graphs.js";

console.log("\n@zeropoint/onnx big graphs (static QDQ, one calibration sample)");
for (const kind of ["chain", "residual"] as const) {
  const model = bigGraph(100_000, kind);
  const started = performance.now();
  const { report } = await quantizeStatic(model, { calibrationData: () => bigGraphBatches });
  const seconds = (performance.now() - started) / 1000;
  console.log(
    `  100,000-node ${kind}: ${seconds.toFixed(1)} s (${report.quantizedNodes.length} nodes quantized; ${(60 / seconds).toFixed(1)}x under the 60 s bound)`,
  );
}
