import { ZeropointError } from "@zeropoint/core";
import jpeg from "jpeg-js";
import { PNG } from "pngjs";

/** A decoded image: 8-bit RGBA pixels, row-major. */
export interface Rgba {
  readonly width: number;
  readonly height: number;
  readonly data: Uint8Array;
}

/** Decodes a PNG or JPEG file (pure JavaScript decoders); other formats are a typed error naming the file. */
export function decodeImage(bytes: Uint8Array, file: string): Rgba {
  const isPng = bytes[0] === 0x89 && bytes[1] === 0x50 && bytes[2] === 0x4e && bytes[3] === 0x47;
  const isJpeg = bytes[0] === 0xff && bytes[1] === 0xd8;
  try {
    if (isPng) {
      const png = PNG.sync.read(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
      return {
        width: png.width,
        height: png.height,
        data: new Uint8Array(png.data.buffer, png.data.byteOffset, png.data.byteLength),
      };
    }
    if (isJpeg) {
      const img = jpeg.decode(bytes, { useTArray: true, formatAsRGBA: true, maxMemoryUsageInMB: 512 });
      return { width: img.width, height: img.height, data: img.data };
    }
  } catch (cause) {
    throw new ZeropointError("invalid-calibration-data", `${file}: cannot decode image (${(cause as Error).message})`, {
      cause,
    });
  }
  throw new ZeropointError("invalid-calibration-data", `${file}: not a PNG or JPEG image`);
}

/**
 * Bilinear resize of RGBA to `width` x `height`, returning float RGB in [0, 1] (align-corners off,
 * half-pixel centers, as PIL and torchvision's default antialias-free resize).
 */
export function resizeToRgb(image: Rgba, width: number, height: number): Float32Array {
  const out = new Float32Array(width * height * 3);
  const sx = image.width / width;
  const sy = image.height / height;
  for (let y = 0; y < height; y++) {
    const fy = Math.min(Math.max((y + 0.5) * sy - 0.5, 0), image.height - 1);
    const y0 = Math.floor(fy);
    const y1 = Math.min(y0 + 1, image.height - 1);
    const wy = fy - y0;
    for (let x = 0; x < width; x++) {
      const fx = Math.min(Math.max((x + 0.5) * sx - 0.5, 0), image.width - 1);
      const x0 = Math.floor(fx);
      const x1 = Math.min(x0 + 1, image.width - 1);
      const wx = fx - x0;
      for (let c = 0; c < 3; c++) {
        const p = (yy: number, xx: number) => (image.data[(yy * image.width + xx) * 4 + c] as number) / 255;
        const top = p(y0, x0) * (1 - wx) + p(y0, x1) * wx;
        const bottom = p(y1, x0) * (1 - wx) + p(y1, x1) * wx;
        out[(y * width + x) * 3 + c] = top * (1 - wy) + bottom * wy;
      }
    }
  }
  return out;
}

/** Preprocessing of image calibration data. */
export interface ImagePreprocess {
  readonly layout: "nchw" | "nhwc";
  readonly channels: 1 | 3;
  readonly width: number;
  readonly height: number;
  /** Per channel (one value applies to all); default 0. */
  readonly mean: readonly number[];
  /** Per channel; default 1. */
  readonly std: readonly number[];
}

/**
 * Turns an image into one sample of the model input: resized, grayscale (ITU-R BT.601 luma) when
 * the model takes one channel, `(x - mean) / std` on [0, 1] values, in NCHW or NHWC order.
 */
export function imageToSample(image: Rgba, p: ImagePreprocess): Float32Array {
  const rgb = resizeToRgb(image, p.width, p.height);
  const pixels = p.width * p.height;
  const out = new Float32Array(pixels * p.channels);
  const mean = (c: number) => p.mean[p.mean.length === 1 ? 0 : c] ?? 0;
  const std = (c: number) => p.std[p.std.length === 1 ? 0 : c] ?? 1;
  for (let i = 0; i < pixels; i++) {
    for (let c = 0; c < p.channels; c++) {
      const v =
        p.channels === 1
          ? 0.299 * (rgb[i * 3] as number) + 0.587 * (rgb[i * 3 + 1] as number) + 0.114 * (rgb[i * 3 + 2] as number)
          : (rgb[i * 3 + c] as number);
      const index = p.layout === "nchw" ? c * pixels + i : i * p.channels + c;
      out[index] = (v - mean(c)) / std(c);
    }
  }
  return out;
}

/**
 * The preprocessing that fits one sample of an image input: `dims` are the sample's dims (no
 * batch axis) in `layout`; they must be rank 3 with 1 or 3 channels. Errors name the input.
 */
export function imagePreprocessFor(
  input: string,
  dims: readonly number[],
  options: {
    readonly layout?: "nchw" | "nhwc";
    readonly mean?: readonly number[];
    readonly std?: readonly number[];
  },
): ImagePreprocess {
  const layout = options.layout ?? "nchw";
  if (dims.length !== 3)
    throw new ZeropointError(
      "invalid-argument",
      `images need a rank-4 input; ${input} takes [${dims.join(", ")}] per sample`,
    );
  const [channels, height, width] =
    layout === "nchw" ? (dims as [number, number, number]) : ([dims[2], dims[0], dims[1]] as [number, number, number]);
  if (channels !== 1 && channels !== 3) {
    throw new ZeropointError(
      "invalid-argument",
      `input ${input} has ${channels} channels in ${layout} layout; images give 1 or 3 (check --layout)`,
    );
  }
  return { layout, channels, width, height, mean: options.mean ?? [0], std: options.std ?? [1] };
}
