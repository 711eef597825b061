import { type AdapterRegistration, adapterRegistry, ZeropointError } from "@zeropoint/core";

/**
 * The adapters the CLI knows, as the light registration modules each adapter package exports
 * (`<package>/adapter`: a name test and a lazy `create`, nothing heavy at import). Adding a
 * framework is one line here; `ZEROPOINT_ADAPTERS` (comma-separated module specifiers or file
 * URLs) adds more without touching the CLI. This file is the only one in apps/cli allowed to
 * import an adapter package (biome.json's `noRestrictedImports`).
 */
const ADAPTER_MODULES = ["@zeropoint/onnx/adapter", "@zeropoint/torch/adapter", "@zeropoint/tfjs/adapter"];

let registered: Promise<void> | undefined;

function isRegistration(value: unknown): value is AdapterRegistration {
  const r = value as Partial<AdapterRegistration> | null;
  return typeof r?.framework === "string" && typeof r.canLoad === "function" && typeof r.create === "function";
}

/** True when an import failed because the package (or its `/adapter` export) is not installed. */
function notInstalled(e: unknown): boolean {
  const code = (e as { code?: string }).code;
  return code === "ERR_MODULE_NOT_FOUND" || code === "ERR_PACKAGE_PATH_NOT_EXPORTED";
}

/**
 * Registers every installed adapter in core's registry, once. A built-in adapter package that is
 * not installed is left out (its commands then say what to install); any other failure, and any
 * module named in `ZEROPOINT_ADAPTERS` that does not import, is an error naming the module — a
 * typo there must not silently drop the adapter.
 */
export function registerAdapters(): Promise<void> {
  registered ??= (async () => {
    const extra = (process.env.ZEROPOINT_ADAPTERS ?? "")
      .split(",")
      .map((s) => s.trim())
      .filter((s) => s !== "");
    for (const specifier of [...ADAPTER_MODULES, ...extra]) {
      let module: Record<string, unknown>;
      try {
        module = (await import(specifier)) as Record<string, unknown>;
      } catch (cause) {
        if (ADAPTER_MODULES.includes(specifier) && notInstalled(cause)) continue;
        throw new ZeropointError(
          "missing-dependency",
          `cannot import the adapter module ${specifier}: ${(cause as Error).message}`,
          { cause },
        );
      }
      const found = Object.values(module).filter(isRegistration);
      if (found.length === 0)
        throw new ZeropointError(
          "invalid-argument",
          `${specifier} exports no adapter registration (framework, canLoad, create)`,
        );
      for (const value of found) adapterRegistry.register(value);
    }
  })();
  return registered;
}

/** The framework of a model file, by the registered adapters' name tests (no adapter is loaded). */
export async function modelKind(path: string): Promise<string> {
  await registerAdapters();
  const framework = adapterRegistry.frameworkFor(path);
  if (framework === undefined)
    throw new ZeropointError(
      "invalid-argument",
      `${path}: unknown model type (expected a .onnx file, or a tfjs model JSON with modelTopology and weightsManifest)`,
    );
  return framework;
}

/** Loads the ONNX adapter's full API lazily, with a clear message when it is not installed. */
export async function loadOnnxAdapter(): Promise<typeof import("@zeropoint/onnx")> {
  try {
    return await import("@zeropoint/onnx");
  } catch (cause) {
    throw new ZeropointError(
      "missing-dependency",
      "ONNX models need the ONNX adapter: npm install @zeropoint/onnx onnxruntime-node",
      { cause },
    );
  }
}

/** The tfjs adapter's full API lazily, or a clear `missing-dependency` error naming what to install. */
export async function loadTfjsAdapter(): Promise<typeof import("@zeropoint/tfjs")> {
  try {
    return await import("@zeropoint/tfjs");
  } catch (cause) {
    throw new ZeropointError(
      "missing-dependency",
      "TensorFlow.js models need the tfjs adapter: npm install @zeropoint/tfjs @tensorflow/tfjs-core @tensorflow/tfjs-layers @tensorflow/tfjs-converter @tensorflow/tfjs-backend-wasm",
      { cause },
    );
  }
}

/** A command that exists for ONNX models only; say so for a tfjs model instead of failing obscurely. */
export function onnxOnly(command: string): never {
  throw new ZeropointError(
    "unsupported-op",
    `zeropoint ${command} works on ONNX models; for a tfjs model.json use quantize or inspect`,
  );
}
