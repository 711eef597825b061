import { existsSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { type Capability, SupportMatrix, type SupportMatrixRow } from "@zeropoint/core";
import { evidenceFor, readTestRuns } from "../../matrix/evidence.js";

/** Capabilities of every adapter installed next to the CLI (a missing adapter adds no rows). */
export async function installedCapabilities(): Promise<{ capabilities: Capability[]; missing: string[] }> {
  const capabilities: Capability[] = [];
  const missing: string[] = [];
  const load = async (name: string, pick: (m: Record<string, unknown>) => unknown) => {
    try {
      capabilities.push(...(pick(await import(name)) as Capability[]));
    } catch {
      missing.push(name);
    }
  };
  await load("@zeropoint/onnx", (m) => m.onnxCapabilities);
  await load("@zeropoint/tfjs", (m) => m.tfjsCapabilities);
  await load("@zeropoint/torch", (m) => m.torchCapabilities);
  return { capabilities, missing };
}

/** The repository whose last `pnpm test` results to read: walk up to pnpm-workspace.yaml. */
export function findRepoRoot(start: string): string | undefined {
  let dir = resolve(start);
  for (;;) {
    if (existsSync(join(dir, "pnpm-workspace.yaml"))) return dir;
    const parent = dirname(dir);
    if (parent === dir) return undefined;
    dir = parent;
  }
}

function esc(text: string): string {
  return text.replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[c] as string);
}

function html(rows: SupportMatrixRow[]): string {
  const body = rows
    .map(
      (r) =>
        `<tr class="${r.verified ? "verified" : "unverified"}"><td>${esc(r.approach)}</td><td>${esc(r.dataRequirement)}</td><td>${esc(r.framework)}</td><td>${esc(r.format)}${r.emulated ? " (emulated)" : ""}</td><td>${esc(r.opTypes.join(", "))}</td><td>${r.verified ? "verified" : "unverified"}</td><td>${esc(r.verified ? (r.evidence?.metric ?? r.metric) : (r.evidence?.metric ?? "no passing run of its test"))}</td><td><code>${esc(r.test)}</code></td><td>${esc(r.evidence?.commit?.slice(0, 7) ?? "")}</td><td>${esc(r.evidence?.taskHash ?? "")}</td></tr>`,
    )
    .join("\n");
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>zeropoint support matrix</title>
<style>body{font-family:system-ui,sans-serif;margin:24px}table{border-collapse:collapse;font-size:12px}td,th{border:1px solid #ccc;padding:3px 6px;text-align:left;vertical-align:top}.verified td:nth-child(6){color:#060;font-weight:bold}.unverified td:nth-child(6){color:#b00;font-weight:bold}</style></head>
<body><h1>zeropoint support matrix</h1>
<p>Generated from the capabilities the installed adapters register; a cell is verified only when the test it names passed in the last <code>pnpm test</code>.</p>
<table><tr><th>approach</th><th>data needed</th><th>framework</th><th>backend / format</th><th>ops</th><th>status</th><th>evidence</th><th>verifying test</th><th>commit</th><th>turbo task hash</th></tr>
${body}</table></body></html>
`;
}

/** `zeropoint matrix [--format md|json|html] [--results <repo>]`. */
export async function runMatrix(
  format: "md" | "json" | "html",
  resultsRoot: string | undefined,
  out: (line: string) => void,
): Promise<SupportMatrixRow[]> {
  const { capabilities, missing } = await installedCapabilities();
  const matrix = new SupportMatrix();
  for (const c of capabilities) matrix.register(c);
  const root = resultsRoot ?? findRepoRoot(process.cwd()) ?? findRepoRoot(dirname(fileURLToPath(import.meta.url)));
  const runs = root === undefined ? [] : readTestRuns(root);
  const evidence = capabilities.map((c) => evidenceFor(c, runs)).filter((e) => e !== undefined);
  const rows = matrix.rows(evidence);
  if (format === "json") out(JSON.stringify(rows, null, 2));
  else if (format === "html") out(html(rows));
  else {
    out(matrix.toMarkdown(evidence).trimEnd());
    if (missing.length > 0) out(`\nnot installed (no rows): ${missing.join(", ")}`);
    if (runs.length === 0) out("\nno test results found (run `pnpm test`): every cell is unverified");
  }
  return rows;
}
