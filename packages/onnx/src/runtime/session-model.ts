import { rmSync, writeFileSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { onInterrupt, ZeropointError } from "@zeropoint/core";
import { lazyExternalRange } from "../model/lazy-external.js";
import { encodeModel, forEachTensor, removeStaleTempFiles, structuredCloneModel } from "../model/model-io.js";
import type { OnnxGraph, OnnxModel } from "../model/onnx-schema.js";

const SESSION_FILE = ".zeropoint-session.onnx";

/** What `InferenceSession.create` opens for a model, and how to clean up after the session is made. */
export interface SessionModel {
  readonly source: Uint8Array | string;
  dispose(): void;
}

/**
 * A model as onnxruntime can open it. In-memory weights: its bytes. Weights still in external data
 * files (loadModel's lazy mode): its graph written as a hidden temporary file beside those data
 * files, since onnxruntime reads external data only from inside the model file's directory (it
 * refuses symlinks out of it), so the weights go from disk to onnxruntime without passing through
 * JavaScript or protobuf. The data files are only read; `dispose` (or an interrupt) removes the
 * temporary file once the session exists.
 */
export function sessionModel(model: OnnxModel): SessionModel {
  const dirs = new Set<string>();
  if (model.graph)
    forEachTensor(model.graph, (t) => {
      const range = lazyExternalRange(t);
      if (range !== undefined) dirs.add(dirname(range.file));
    });
  if (dirs.size === 0) return { source: encodeModel(model), dispose: () => {} };
  if (dirs.size > 1)
    throw new ZeropointError(
      "invalid-argument",
      `the model's external data lies in ${dirs.size} directories (${[...dirs].join(", ")}); onnxruntime reads it from one: load it with external data inlined`,
    );
  const dir = [...dirs][0] as string;
  const copy = structuredCloneModel(model);
  forEachTensor(copy.graph as OnnxGraph, (t) => {
    const range = lazyExternalRange(t);
    if (range === undefined) return;
    t.externalData = [
      { key: "location", value: basename(range.file) },
      { key: "offset", value: String(range.offset) },
      { key: "length", value: String(range.length) },
    ];
  });
  // A temp-file name the stale-temp sweep knows, so one a SIGKILL left is removed by the next run.
  removeStaleTempFiles(dir, [SESSION_FILE]);
  const path = join(dir, `${SESSION_FILE}.tmp-${process.pid}-${Math.random().toString(36).slice(2)}`);
  const remove = () => rmSync(path, { force: true });
  const unregister = onInterrupt(remove);
  try {
    writeFileSync(path, encodeModel(copy));
  } catch (cause) {
    unregister();
    remove();
    throw new ZeropointError(
      "io-error",
      `cannot write the graph beside its external data in ${dir} for onnxruntime (${(cause as Error).message}); load the model with external data inlined`,
      { cause },
    );
  }
  return {
    source: path,
    dispose: () => {
      remove();
      unregister();
    },
  };
}
