import type { NodeSensitivity, TuneResult } from "@zeropoint/core";

function escapeHtml(text: string): string {
  return text.replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[c] as string);
}

/** A self-contained HTML page (inline SVG, no network) with the sensitivity chart and the trial table. */
export function sensitivityHtml(title: string, result: TuneResult, chosenFloat: readonly string[]): string {
  const rows = result.sensitivity;
  const maxImpact = Math.max(1e-9, ...rows.map((r) => Math.abs(r.impact)));
  const maxSqnr = Math.max(1, ...rows.map((r) => (Number.isFinite(r.sqnr ?? Number.NaN) ? (r.sqnr as number) : 0)));
  const barH = 18;
  const labelW = 330;
  const chartW = 320;
  const height = rows.length * barH + 40;
  const bar = (r: NodeSensitivity, i: number) => {
    const y = 30 + i * barH;
    const w = (Math.abs(r.impact) / maxImpact) * chartW;
    const s = Number.isFinite(r.sqnr ?? Number.NaN) ? ((r.sqnr as number) / maxSqnr) * chartW : 0;
    const color = r.impact > 0 ? "#d9534f" : "#5cb85c";
    return `<text x="${labelW - 6}" y="${y + 12}" text-anchor="end" font-size="11">${escapeHtml(r.name)}${chosenFloat.includes(r.name) ? " (float)" : ""}</text>
<rect class="impact" x="${labelW}" y="${y + 2}" width="${w.toFixed(1)}" height="${barH - 5}" fill="${color}"><title>${escapeHtml(r.name)}: metric loss when quantized alone ${(r.impact * 100).toFixed(3)} points</title></rect>
<text x="${labelW + w + 4}" y="${y + 12}" font-size="10" fill="#555">${(r.impact * 100).toFixed(2)}</text>
<text x="${labelW + chartW + 40 + s + 4}" y="${y + 12}" font-size="10" fill="#555">${r.sqnr?.toFixed(1) ?? "n/a"}</text>
<rect class="sqnr" x="${labelW + chartW + 40}" y="${y + 2}" width="${s.toFixed(1)}" height="${barH - 5}" fill="#428bca"><title>${escapeHtml(r.name)}: output SQNR ${r.sqnr?.toFixed(2) ?? "n/a"} dB</title></rect>`;
  };
  const trialRows = result.trials
    .map(
      (t) =>
        `<tr><td>${t.index}</td><td>${escapeHtml(t.label)}</td><td>${t.int8Nodes.length}</td><td>${t.metric.toFixed(4)}</td><td>${t.passed ? "yes" : "no"}</td><td>${t.latencyMs.toFixed(3)}</td><td>${t.measuredMs?.toFixed(3) ?? ""}</td></tr>`,
    )
    .join("\n");
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(title)}</title>
<style>body{font-family:system-ui,sans-serif;margin:24px;color:#222}table{border-collapse:collapse;font-size:12px}td,th{border:1px solid #ccc;padding:2px 6px;text-align:right}td:nth-child(2){text-align:left}</style></head>
<body>
<h1>${escapeHtml(title)}</h1>
<p>${escapeHtml(result.message)}</p>
<h2>Sensitivity (sorted by impact)</h2>
<p>Red/green bars: test metric lost (red) or gained (green) when the node alone is int8. Blue bars: the node's output SQNR in the all-int8 model (dB).</p>
<svg id="sensitivity-chart" xmlns="http://www.w3.org/2000/svg" width="${labelW + 2 * chartW + 100}" height="${height}">
<text x="${labelW}" y="18" font-size="12" font-weight="bold">metric impact (points lost when quantized alone)</text>
<text x="${labelW + chartW + 40}" y="18" font-size="12" font-weight="bold">output SQNR (max ${maxSqnr.toFixed(1)} dB)</text>
${rows.map(bar).join("\n")}
</svg>
${rows.every((r) => Math.abs(r.impact) < 1e-12) ? "<p><em>No node changes the tuning metric when quantized on its own: this model's accuracy is insensitive to each single node.</em></p>" : ""}
<h2>Trials</h2>
<table><tr><th>#</th><th>plan</th><th>int8 nodes</th><th>metric</th><th>passed</th><th>est. ms</th><th>measured ms</th></tr>
${trialRows}
</table>
</body></html>
`;
}
