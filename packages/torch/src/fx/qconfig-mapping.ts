import { ZeropointError } from "@zeropoint/core";
import type { Module } from "../nn/module.js";
import type { QuantizedEngine } from "../quantization/dynamic.js";
import { getDefaultQatQConfig, getDefaultQConfig, type QConfig, type QConfigOptions } from "../quantization/qconfig.js";

// biome-ignore lint/suspicious/noExplicitAny: module classes have varied constructor signatures
type ModuleClass = abstract new (...args: any[]) => Module;

/**
 * PyTorch's QConfigMapping: which qconfig each module gets, by priority global < object type <
 * module-name regex < module name (later settings of the same kind win). `null` means "leave float".
 */
export class QConfigMapping {
  private global: QConfig | null | undefined;
  private readonly objectTypes: [ModuleClass, QConfig | null][] = [];
  private readonly regexes: [RegExp, QConfig | null][] = [];
  private readonly names = new Map<string, QConfig | null>();

  setGlobal(qconfig: QConfig | null): this {
    this.global = qconfig;
    return this;
  }
  setObjectType(type: ModuleClass, qconfig: QConfig | null): this {
    this.objectTypes.push([type, qconfig]);
    return this;
  }
  setModuleNameRegex(pattern: string | RegExp, qconfig: QConfig | null): this {
    this.regexes.push([typeof pattern === "string" ? new RegExp(`^${pattern}$`) : pattern, qconfig]);
    return this;
  }
  setModuleName(name: string, qconfig: QConfig | null): this {
    this.names.set(name, qconfig);
    return this;
  }

  /** Whether any qconfig was set at all. */
  get isEmpty(): boolean {
    return (
      this.global === undefined && this.objectTypes.length === 0 && this.regexes.length === 0 && this.names.size === 0
    );
  }

  /** The qconfig for module `name` of the given (original, unfused) types; null when float. */
  qconfigFor(name: string, modules: readonly Module[]): QConfig | null {
    if (this.names.has(name)) return this.names.get(name) ?? null;
    for (let i = this.regexes.length - 1; i >= 0; i--) {
      const [re, qc] = this.regexes[i] as [RegExp, QConfig | null];
      if (re.test(name)) return qc;
    }
    for (let i = this.objectTypes.length - 1; i >= 0; i--) {
      const [type, qc] = this.objectTypes[i] as [ModuleClass, QConfig | null];
      if (modules.some((m) => m instanceof type)) return qc;
    }
    return this.global ?? null;
  }
}

/** `get_default_qconfig_mapping(engine)`: the engine's default qconfig globally. */
export function getDefaultQConfigMapping(engine: QuantizedEngine = "x86"): QConfigMapping {
  if (!["x86", "fbgemm", "qnnpack"].includes(engine))
    throw new ZeropointError("invalid-argument", `unknown quantized engine ${JSON.stringify(engine)}`);
  return new QConfigMapping().setGlobal(getDefaultQConfig(engine));
}

/** `get_default_qat_qconfig_mapping(engine)`, with optional narrower weight ranges. */
export function getDefaultQatQConfigMapping(
  engine: QuantizedEngine = "x86",
  options: QConfigOptions = {},
): QConfigMapping {
  if (!["x86", "fbgemm", "qnnpack"].includes(engine))
    throw new ZeropointError("invalid-argument", `unknown quantized engine ${JSON.stringify(engine)}`);
  return new QConfigMapping().setGlobal(getDefaultQatQConfig(engine, options));
}
