import { ZeropointError } from "../errors/zeropoint-error.js";
import { ADAPTER_SPECIFICATION_VERSION, type QuantizerAdapter } from "./quantizer-adapter.js";

/**
 * How a registry knows an adapter before loading it: `canLoad` must be cheap (a file name, a
 * bounded read) so that resolving `model.json` never imports the ONNX adapter and its protobufjs;
 * `create` loads the adapter and its runtime lazily, on first use.
 */
export interface AdapterRegistration {
  readonly framework: string;
  /** Higher wins when several registrations can load a source. Default 0. */
  readonly priority?: number;
  canLoad(source: string): boolean;
  create(): QuantizerAdapter | Promise<QuantizerAdapter>;
}

/** An adapter the registry could not create (its package or runtime is missing), and why. */
export interface UnavailableAdapter {
  readonly framework: string;
  readonly reason: string;
}

/**
 * Adapters by framework, resolved by priority (the way tfjs-core's kernel registry resolves a
 * backend). Creation is lazy and cached; a failed creation is reported, not thrown, by
 * {@link AdapterRegistry.available} so one missing runtime does not hide the others.
 */
export class AdapterRegistry {
  private readonly registrations = new Map<string, AdapterRegistration>();
  private readonly created = new Map<string, Promise<QuantizerAdapter>>();

  /** Adds (or replaces) a framework's registration; returns a function that removes it. */
  register(registration: AdapterRegistration): () => void {
    this.registrations.set(registration.framework, registration);
    this.created.delete(registration.framework);
    return () => {
      if (this.registrations.get(registration.framework) === registration) {
        this.registrations.delete(registration.framework);
        this.created.delete(registration.framework);
      }
    };
  }

  /** Registered frameworks, highest priority first (ties in registration order). */
  frameworks(): string[] {
    return [...this.registrations.values()]
      .map((r, i) => ({ r, i }))
      .sort((a, b) => (b.r.priority ?? 0) - (a.r.priority ?? 0) || a.i - b.i)
      .map(({ r }) => r.framework);
  }

  /** The adapter of a framework, created on first use; `missing-dependency` when it cannot be. */
  get(framework: string): Promise<QuantizerAdapter> {
    const registration = this.registrations.get(framework);
    if (registration === undefined)
      return Promise.reject(new ZeropointError("invalid-argument", `no adapter registered for ${framework}`));
    let adapter = this.created.get(framework);
    if (adapter === undefined) {
      adapter = Promise.resolve()
        .then(() => registration.create())
        .then((a) => checkAdapter(a, framework));
      this.created.set(framework, adapter);
      // A failed creation is not cached: installing the package and retrying in-process works.
      adapter.catch(() => this.created.delete(framework));
    }
    return adapter;
  }

  /** The framework whose registration loads the source (highest priority), without creating its adapter. */
  frameworkFor(source: string): string | undefined {
    return this.frameworks().find((f) => this.registrations.get(f)?.canLoad(source));
  }

  /** The highest-priority adapter whose registration can load the source. */
  async resolve(source: string): Promise<QuantizerAdapter> {
    const framework = this.frameworkFor(source);
    if (framework !== undefined) return this.get(framework);
    throw new ZeropointError(
      "invalid-argument",
      `${source}: no registered adapter loads this file (registered: ${this.frameworks().join(", ") || "none"})`,
    );
  }

  /** Every registered adapter that can be created, and the ones that cannot with their reason. */
  async available(): Promise<{ adapters: QuantizerAdapter[]; unavailable: UnavailableAdapter[] }> {
    const adapters: QuantizerAdapter[] = [];
    const unavailable: UnavailableAdapter[] = [];
    for (const framework of this.frameworks()) {
      try {
        adapters.push(await this.get(framework));
      } catch (e) {
        unavailable.push({ framework, reason: e instanceof Error ? e.message : String(e) });
      }
    }
    return { adapters, unavailable };
  }
}

function checkAdapter(adapter: QuantizerAdapter, framework: string): QuantizerAdapter {
  if (adapter.specificationVersion !== ADAPTER_SPECIFICATION_VERSION) {
    throw new ZeropointError(
      "missing-dependency",
      `the ${framework} adapter implements specification ${String(adapter.specificationVersion)}; this core reads ${ADAPTER_SPECIFICATION_VERSION} (update the adapter or core)`,
    );
  }
  if (adapter.framework !== framework)
    throw new ZeropointError(
      "invalid-argument",
      `adapter registered as ${framework} calls itself ${adapter.framework}`,
    );
  return adapter;
}

/** The process-wide registry applications register adapters in. */
export const adapterRegistry: AdapterRegistry = new AdapterRegistry();
