import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import jpeg from "jpeg-js";
import { PNG } from "pngjs";
import { afterAll, describe, expect, it } from "vitest";
import { main } from "../main.js";
import { loadMnist } from "./calibration-data.js";
import { decodeImage, imageToSample, resizeToRgb } from "./images.js";

const work = mkdtempSync(join(tmpdir(), "zeropoint-images-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

function png(width: number, height: number, pixel: (x: number, y: number) => number): Uint8Array {
  const image = new PNG({ width, height });
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const v = pixel(x, y);
      image.data.set([v, v, v, 255], (y * width + x) * 4);
    }
  }
  return PNG.sync.write(image);
}

describe("image calibration data", () => {
  it("decodes PNG and JPEG, and rejects other files with a typed error", () => {
    const p = decodeImage(
      png(3, 2, (x, y) => x * 10 + y),
      "a.png",
    );
    expect([p.width, p.height, p.data[4], p.data[3 * 4 * 1 + 4]]).toEqual([3, 2, 10, 11]);
    const raw = { width: 8, height: 8, data: new Uint8Array(8 * 8 * 4).fill(200) };
    const j = decodeImage(jpeg.encode(raw, 95).data, "a.jpg");
    expect([j.width, j.height]).toEqual([8, 8]);
    expect(Math.abs((j.data[0] as number) - 200)).toBeLessThanOrEqual(2);
    expect(() => decodeImage(new TextEncoder().encode("GIF89a..."), "a.gif")).toThrow(
      expect.objectContaining({ code: "invalid-calibration-data" }),
    );
  });

  it("resizes bilinearly with half-pixel centers", () => {
    // 2x1 image [0, 255] to 4x1: centers at 0.25, 0.75, 1.25, 1.75 of the source -> clamped interpolation.
    const rgb = resizeToRgb({ width: 2, height: 1, data: Uint8Array.of(0, 0, 0, 255, 255, 255, 255, 255) }, 4, 1);
    expect(Array.from(rgb.filter((_, i) => i % 3 === 0)).map((v) => +v.toFixed(4))).toEqual([0, 0.25, 0.75, 1]);
  });

  it("normalizes with mean/std and lays out NCHW or NHWC", () => {
    const img = { width: 1, height: 1, data: Uint8Array.of(255, 0, 51, 255) };
    const nchw = imageToSample(img, { layout: "nchw", channels: 3, width: 1, height: 1, mean: [0.5], std: [0.5] });
    expect(Array.from(nchw).map((v) => +v.toFixed(3))).toEqual([1, -1, -0.6]);
    const gray = imageToSample(img, { layout: "nhwc", channels: 1, width: 1, height: 1, mean: [0], std: [1] });
    expect(gray[0]).toBeCloseTo(0.299 + 0.114 * 0.2, 5);
  });

  it("zeropoint quantize calibrates the CNN from a folder of 56x56 PNG/JPEG digits with --resize 28x28", async () => {
    const dir = join(work, "digits");
    mkdirSync(dir);
    const mnist = loadMnist("train");
    for (let i = 0; i < 24; i++) {
      const at = (x: number, y: number) =>
        Math.round((mnist.images[i * 784 + Math.floor(y / 2) * 28 + Math.floor(x / 2)] as number) * 255);
      if (i % 2 === 0) writeFileSync(join(dir, `${i}.png`), png(56, 56, at));
      else {
        const data = new Uint8Array(56 * 56 * 4);
        for (let y = 0; y < 56; y++)
          for (let x = 0; x < 56; x++) data.set([at(x, y), at(x, y), at(x, y), 255], (y * 56 + x) * 4);
        writeFileSync(join(dir, `${i}.jpg`), jpeg.encode({ width: 56, height: 56, data }, 95).data);
      }
    }
    const lines: string[] = [];
    const model = new URL("../../assets/mnist-cnn.onnx", import.meta.url).pathname;
    const code = await main(
      ["quantize", model, "-o", join(work, "cnn.int8.onnx"), "--calib-data", dir, "--resize", "28x28", "--json"],
      (l) => lines.push(l),
    );
    expect(code).toBe(0);
    const report = JSON.parse(lines.join("\n"));
    expect(report.data).toMatch(/24 images .* \(nchw, 28x28, grayscale\)/);
    expect(report.check.top1Agreement).toBeGreaterThan(0.9);
    const missing = await main(["quantize", model, "-o", join(work, "x.onnx"), "--calib-data", dir], () => undefined);
    expect(missing).toBe(1);
  });
});
