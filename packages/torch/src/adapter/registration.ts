import type { AdapterRegistration } from "@zeropoint/core";

/**
 * How an application registers the torch adapter without loading it. It loads no files (it builds
 * from IR), so `canLoad` is false for every source; `compare` still reaches it through the IR.
 */
export const torchAdapterRegistration: AdapterRegistration = {
  framework: "torch",
  priority: 50,
  canLoad: () => false,
  create: async () => (await import("./torch-adapter.js")).createTorchAdapter(),
};
