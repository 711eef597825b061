import type { LayerParams } from "@zeropoint/core";
import type { CompareReport, CompareRow } from "./compare.js";

function esc(text: string): string {
  return text.replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[c] as string);
}

const COLORS = [
  "#1f77b4",
  "#ff7f0e",
  "#2ca02c",
  "#d62728",
  "#9467bd",
  "#8c564b",
  "#e377c2",
  "#7f7f7f",
  "#bcbd22",
  "#17becf",
];

/** A row's label: framework, approach, format. */
export function rowLabel(r: Pick<CompareRow, "framework" | "approach" | "format">): string {
  return `${r.framework} ${r.approach} ${r.format}`;
}

function scatter(report: CompareReport): string {
  const rows = report.rows.filter(
    (r) => r.unsupported === undefined && r.accuracy !== undefined && r.sizeBytes !== undefined,
  );
  const w = 640;
  const h = 320;
  const pad = 50;
  const sizes = rows.map((r) => (r.sizeBytes as number) / 1024);
  const accs = rows.map((r) => r.accuracy as number);
  // Sizes of int8 builds cluster together: start the axis just below the smallest one.
  const xMax = Math.max(1, ...sizes) * 1.05;
  const xMin = Math.min(...sizes) * 0.95;
  const yMin = Math.min(...accs, ...report.float.map((f) => f.accuracy ?? 1)) - 0.005;
  const yMax = Math.max(...accs, ...report.float.map((f) => f.accuracy ?? 0)) + 0.005;
  const x = (v: number) => pad + ((v - xMin) / (xMax - xMin || 1)) * (w - 2 * pad);
  const y = (v: number) => h - pad - ((v - yMin) / (yMax - yMin || 1)) * (h - 2 * pad);
  const points = rows
    .map((r, i) => {
      const cx = x((r.sizeBytes as number) / 1024);
      const cy = y(r.accuracy as number);
      const radius = 4 + Math.min(10, Math.sqrt(r.latencyMs ?? 0) * 3);
      return `<circle cx="${cx.toFixed(1)}" cy="${cy.toFixed(1)}" r="${radius.toFixed(1)}" fill="${COLORS[i % COLORS.length]}" fill-opacity="0.75"><title>${esc(rowLabel(r))}: accuracy ${((r.accuracy as number) * 100).toFixed(2)}%, ${((r.sizeBytes as number) / 1024).toFixed(1)} kB, ${(r.latencyMs ?? 0).toFixed(3)} ms/image (${esc(r.runtime)})</title></circle>
<text x="${(cx + radius + 3).toFixed(1)}" y="${(cy + 4 + (i % 4) * 10 - 15).toFixed(1)}" font-size="9">${esc(rowLabel(r))}</text>`;
    })
    .join("\n");
  const floatLine =
    report.float[0]?.accuracy === undefined
      ? ""
      : `<line x1="${pad}" x2="${w - pad}" y1="${y(report.float[0].accuracy).toFixed(1)}" y2="${y(report.float[0].accuracy).toFixed(1)}" stroke="#999" stroke-dasharray="4 3"/><text x="${w - pad}" y="${(y(report.float[0].accuracy) - 4).toFixed(1)}" font-size="10" text-anchor="end" fill="#666">float</text>`;
  return `<svg class="chart" id="chart-accuracy-size" xmlns="http://www.w3.org/2000/svg" width="${w}" height="${h}">
<line x1="${pad}" y1="${h - pad}" x2="${w - pad}" y2="${h - pad}" stroke="#333"/><line x1="${pad}" y1="${pad}" x2="${pad}" y2="${h - pad}" stroke="#333"/>
<text x="${w / 2}" y="${h - 12}" font-size="11" text-anchor="middle">model size (kB); circle area: latency per image</text>
<text x="14" y="${h / 2}" font-size="11" transform="rotate(-90 14 ${h / 2})" text-anchor="middle">accuracy</text>
<text x="${pad - 4}" y="${y(yMax) + 4}" font-size="9" text-anchor="end">${(yMax * 100).toFixed(1)}%</text>
<text x="${pad - 4}" y="${y(yMin) + 4}" font-size="9" text-anchor="end">${(yMin * 100).toFixed(1)}%</text>
<text x="${w - pad}" y="${h - pad + 14}" font-size="9" text-anchor="end">${xMax.toFixed(0)} kB</text>
<text x="${pad}" y="${h - pad + 14}" font-size="9">${xMin.toFixed(0)} kB</text>
${floatLine}
${points}
</svg>`;
}

function bars(
  id: string,
  title: string,
  groups: string[],
  series: { label: string; values: (number | undefined)[] }[],
  unit: string,
): string {
  const all = series.flatMap((s) => s.values.filter((v): v is number => v !== undefined && Number.isFinite(v)));
  const max = Math.max(1e-9, ...all.map(Math.abs));
  const barH = 12;
  const groupH = series.length * barH + 10;
  const labelW = 200;
  const chartW = 380;
  const h = groups.length * groupH + 50;
  const out: string[] = [];
  groups.forEach((g, gi) => {
    const y0 = 30 + gi * groupH;
    out.push(`<text x="${labelW - 8}" y="${y0 + groupH / 2}" font-size="11" text-anchor="end">${esc(g)}</text>`);
    series.forEach((s, si) => {
      const v = s.values[gi];
      if (v === undefined || !Number.isFinite(v)) return;
      const wBar = (Math.abs(v) / max) * chartW;
      out.push(
        `<rect x="${labelW}" y="${y0 + si * barH}" width="${wBar.toFixed(1)}" height="${barH - 2}" fill="${COLORS[si % COLORS.length]}"><title>${esc(g)} — ${esc(s.label)}: ${v.toPrecision(4)} ${unit}</title></rect><text x="${(labelW + wBar + 3).toFixed(1)}" y="${y0 + si * barH + 9}" font-size="9">${v.toPrecision(3)}</text>`,
      );
    });
  });
  const legend = series
    .map(
      (s, si) =>
        `<rect x="${labelW + 420}" y="${30 + si * 14}" width="10" height="10" fill="${COLORS[si % COLORS.length]}"/><text x="${labelW + 434}" y="${39 + si * 14}" font-size="10">${esc(s.label)}</text>`,
    )
    .join("");
  return `<svg class="chart" id="${id}" xmlns="http://www.w3.org/2000/svg" width="${labelW + 640}" height="${Math.max(h, 40 + series.length * 14)}"><text x="${labelW}" y="16" font-size="12" font-weight="bold">${esc(title)}</text>${out.join("\n")}${legend}</svg>`;
}

function histogram(report: CompareReport, index: number): string {
  const hist = report.histograms[index];
  if (hist === undefined) return "";
  const w = 420;
  const h = 150;
  const pad = 30;
  const maxCount = Math.max(1, ...hist.counts);
  const span = hist.max - hist.min || 1;
  const x = (v: number) => pad + ((v - hist.min) / span) * (w - 2 * pad);
  const barW = (w - 2 * pad) / hist.counts.length;
  const rects = hist.counts
    .map((c, i) => {
      // Log scale: activations are mostly near zero after ReLU.
      const bh = (Math.log1p(c) / Math.log1p(maxCount)) * (h - 2 * pad);
      return `<rect x="${(pad + i * barW).toFixed(1)}" y="${(h - pad - bh).toFixed(1)}" width="${Math.max(0.5, barW - 0.5).toFixed(1)}" height="${bh.toFixed(1)}" fill="#9ecae1"/>`;
    })
    .join("");
  const lines = report.rows
    .filter((r) => r.layers?.[hist.layer] !== undefined && r.format !== "integer executor")
    .map((r, i) => {
      const q = r.layers?.[hist.layer] as LayerParams;
      // The grid each framework calibrated on (PyTorch's x86 reduce_range: 0..127).
      const hi = (q.qmax - q.zeroPoint) * q.scale;
      const lo = (q.qmin - q.zeroPoint) * q.scale;
      return [lo, hi]
        .map(
          (v) =>
            `<line x1="${x(v).toFixed(1)}" x2="${x(v).toFixed(1)}" y1="${pad - 4 + i * 3}" y2="${h - pad}" stroke="${COLORS[i % COLORS.length]}" stroke-width="1.5"><title>${esc(rowLabel(r))}: clip range [${lo.toPrecision(4)}, ${hi.toPrecision(4)}]</title></line>`,
        )
        .join("");
    })
    .join("");
  return `<svg class="chart histogram" id="chart-histogram-${index}" xmlns="http://www.w3.org/2000/svg" width="${w}" height="${h}"><text x="${pad}" y="14" font-size="11" font-weight="bold">${esc(hist.layer)} output: [${hist.min.toPrecision(3)}, ${hist.max.toPrecision(3)}]</text>${rects}${lines}<line x1="${pad}" x2="${w - pad}" y1="${h - pad}" y2="${h - pad}" stroke="#333"/></svg>`;
}

/** The comparison as one self-contained HTML page: inline SVG charts, no scripts, no network. */
export function compareHtml(report: CompareReport): string {
  const ok = report.rows.filter((r) => r.unsupported === undefined);
  const withLayers = ok.filter((r) => r.layers !== undefined && r.format !== "integer executor");
  const reference = withLayers[0];
  const table = report.rows
    .map(
      (r) =>
        `<tr${r.unsupported ? ' class="unsupported"' : ""}><td>${esc(r.framework)}</td><td>${esc(r.approach)}</td><td>${esc(r.format)}${r.emulated ? " (emulated)" : ""}</td>${
          r.unsupported
            ? `<td colspan="7">${esc(r.unsupported)}</td>`
            : `<td>${r.accuracy === undefined ? "-" : `${(r.accuracy * 100).toFixed(2)}%`}</td><td>${((r.top1Agreement ?? 0) * 100).toFixed(2)}%</td><td>${(r.sqnr ?? 0).toFixed(1)}</td><td>${((r.sizeBytes ?? 0) / 1024).toFixed(1)}</td><td>${(r.latencyMs ?? 0).toFixed(3)}</td><td>${esc(r.runtime)}</td><td>${(r.quantizeSeconds ?? 0).toFixed(2)}</td>`
        }</tr>`,
    )
    .join("\n");
  const layerRows = report.layers
    .map((layer) => {
      const cells = withLayers.map((r) => {
        const q = r.layers?.[layer];
        const refQ = reference?.layers?.[layer];
        if (q === undefined) return "<td>-</td>";
        const differs =
          refQ !== undefined && (Math.abs(q.scale / refQ.scale - 1) > 1e-3 || q.zeroPoint !== refQ.zeroPoint);
        return `<td${differs ? ' class="differs"' : ""}>${q.scale.toPrecision(5)} / ${q.zeroPoint}</td>`;
      });
      return `<tr><td>${esc(layer)}</td>${cells.join("")}</tr>`;
    })
    .join("\n");
  const scaleSeries = withLayers.map((r) => ({
    label: rowLabel(r),
    values: report.layers.map((l) => {
      const q = r.layers?.[l];
      const ref = reference?.layers?.[l];
      return q === undefined || ref === undefined ? undefined : q.scale / ref.scale;
    }),
  }));
  const sqnrSeries = withLayers
    .filter((r) => report.layers.some((l) => r.layers?.[l]?.weightSqnr !== undefined))
    .map((r) => ({ label: rowLabel(r), values: report.layers.map((l) => r.layers?.[l]?.weightSqnr) }));
  const floatRows = report.float
    .map(
      (f) =>
        `<tr><td>${esc(f.framework)}</td><td>${esc(f.runtime)}</td><td>${f.accuracy === undefined ? esc(f.unsupported ?? "-") : `${(f.accuracy * 100).toFixed(2)}%`}</td><td>${f.maxLogitDifference === undefined ? "-" : f.maxLogitDifference.toExponential(2)}</td></tr>`,
    )
    .join("\n");
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>zeropoint compare: ${esc(report.model)}</title>
<style>body{font-family:system-ui,sans-serif;margin:24px;color:#222}table{border-collapse:collapse;font-size:12px;margin-bottom:16px}td,th{border:1px solid #ccc;padding:2px 6px;text-align:right}td:first-child{text-align:left}.differs{background:#ffe0b2;font-weight:bold}.unsupported td{color:#999}.bad{color:#c00}</style></head>
<body>
<h1>zeropoint compare</h1>
<p>${esc(report.model)} — calibration ${report.samples.calibration} samples, evaluation ${report.samples.evaluation} samples. Static recipe ${esc(report.recipe.name)}: ${esc(report.recipe.method)} calibration, ${report.recipe.perChannel ? "per-channel" : "per-tensor"} symmetric int8 weights, uint8 activations, applied on top of each framework's native scheme.</p>
${report.irError ? `<p class="bad">${esc(report.irError)}</p>` : ""}
<h2>Float builds</h2>
<p>${report.floatAgree ? "The float builds agree (max |logit difference| ≤ 1e-3)." : '<span class="bad">The float builds DISAGREE (max |logit difference| &gt; 1e-3): quantized rows are not comparable.</span>'}</p>
<table><tr><th>framework</th><th>runtime</th><th>accuracy</th><th>max |Δ logit| vs onnx</th></tr>${floatRows}</table>
<h2>Quantized builds</h2>
<table><tr><th>framework</th><th>approach</th><th>format</th><th>accuracy</th><th>top-1 = float</th><th>logit SQNR dB</th><th>size kB</th><th>ms / image</th><th>runtime</th><th>quantize s</th></tr>
${table}</table>
<h2>Accuracy vs size vs latency</h2>
${scatter(report)}
<h2>Per-layer output scale / zero point</h2>
<p>Highlighted: differs from ${esc(reference ? rowLabel(reference) : "-")} (scale by more than 0.1%, or zero point). torch's x86 default keeps reduce_range (0..127), so its scales are about twice the others.</p>
<table><tr><th>layer</th>${withLayers.map((r) => `<th>${esc(rowLabel(r))}</th>`).join("")}</tr>${layerRows}</table>
${bars("chart-scale-ratio", `output scale relative to ${reference ? rowLabel(reference) : "-"}`, report.layers, scaleSeries, "×")}
<h2>Per-layer weight SQNR</h2>
${sqnrSeries.length > 0 ? bars("chart-weight-sqnr", "weight SQNR (dB), quantized vs float kernel", report.layers, sqnrSeries, "dB") : "<p>No framework reported weight SQNR.</p>"}
<h2>Calibration histograms and clip ranges</h2>
<p>Float activations of each quantized layer's output over the calibration set (log counts); vertical lines: each build's representable range.</p>
${report.histograms.map((_, i) => histogram(report, i)).join("\n")}
</body></html>
`;
}
