import { closeSync, openSync, readSync } from "node:fs";
import type { AdapterRegistration } from "@zeropoint/core";

/**
 * True for a tfjs model JSON: `model.json`, or another `.json` whose head holds `modelTopology`
 * (and `weightsManifest`, or a head so large the manifest lies beyond it). A bounded read (1 MiB)
 * never loads a huge file.
 */
export function looksLikeTfjsModel(path: string): boolean {
  if (path.endsWith("model.json")) return true;
  if (!path.endsWith(".json")) return false;
  try {
    const fd = openSync(path, "r");
    try {
      const buffer = Buffer.alloc(1 << 20);
      const n = readSync(fd, buffer, 0, buffer.length, 0);
      const head = buffer.subarray(0, n).toString("utf8");
      return head.includes('"modelTopology"') && (head.includes('"weightsManifest"') || n === buffer.length);
    } finally {
      closeSync(fd);
    }
  } catch {
    return false;
  }
}

/**
 * How an application registers the tfjs adapter without loading tfjs: `create` imports the adapter,
 * tfjs and a backend only when a tfjs model is used or `compare` asks for every framework.
 */
export const tfjsAdapterRegistration: AdapterRegistration = {
  framework: "tfjs",
  priority: 40,
  canLoad: looksLikeTfjsModel,
  create: async () => (await import("./tfjs-adapter.js")).createTfjsAdapter(),
};
