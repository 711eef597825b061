// Child process for the streaming-memory test: feeds `batches` batches of 2^20 floats through an
// observer (both passes for two-pass kinds) and prints the peak RSS in bytes.
import { createObserver, type ObserverKind } from "../src/index.js";

const [kind, batchesArg] = process.argv.slice(2) as [ObserverKind, string];
const batches = Number(batchesArg);
const observer = createObserver(kind, kind.includes("per-channel") ? { axis: 1 } : {});
const batch = new Float32Array(1 << 20);
let seed = 1;
for (let pass = 0; pass < observer.passes; pass++) {
  if (pass > 0) observer.nextPass();
  seed = 1;
  for (let b = 0; b < batches; b++) {
    // Regenerated in place: the data source itself keeps nothing per batch.
    for (let i = 0; i < batch.length; i++) {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      batch[i] = (seed / 4294967296 - 0.5) * (1 + (b % 7));
    }
    observer.observe(batch, kind.includes("per-channel") ? [1024, 1024] : undefined);
  }
}
observer.qparams();
process.stdout.write(String(process.resourceUsage().maxRSS * 1024));
