/**
 * Levels of 4 or 8 bits packed as onnxruntime's block-quantized ops read them (MatMulNBits,
 * GatherBlockQuantized): 8 / bits per byte, the first in the lowest bits.
 */
export function packLevels(levels: ArrayLike<number>, bits: 4 | 8): Uint8Array {
  const perByte = 8 / bits;
  const out = new Uint8Array(Math.ceil(levels.length / perByte));
  for (let i = 0; i < levels.length; i++) {
    const byte = Math.floor(i / perByte);
    out[byte] = (out[byte] as number) | ((levels[i] as number) << (bits * (i % perByte)));
  }
  return out;
}

/** Integral zero points `[rows][blocks]` packed per row the same way (each row starts a byte). */
export function packZeroPoints(zeroPoints: ArrayLike<number>, rows: number, blocks: number, bits: 4 | 8): Uint8Array {
  const perByte = 8 / bits;
  const width = Math.ceil(blocks / perByte);
  const out = new Uint8Array(rows * width);
  for (let r = 0; r < rows; r++)
    for (let b = 0; b < blocks; b++) {
      const byte = r * width + Math.floor(b / perByte);
      out[byte] = (out[byte] as number) | ((zeroPoints[r * blocks + b] as number) << (bits * (b % perByte)));
    }
  return out;
}
