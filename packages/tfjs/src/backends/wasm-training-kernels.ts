import * as tf from "@tensorflow/tfjs-core";
import { ZeropointError } from "@zeropoint/core";

/**
 * The parts of tfjs-backend-wasm's backend these kernels use. Declared here so the wasm backend
 * stays a dev/optional dependency: nothing is imported from it.
 */
interface WasmBackendLike {
  readSync(dataId: object): tf.backend_util.BackendValues;
  makeOutput(shape: number[], dtype: tf.DataType): tf.TensorInfo;
  typedArrayFromHeap(info: tf.TensorInfo): tf.backend_util.TypedArray;
}

interface ConvAttrs {
  strides: [number, number] | number;
  pad: "valid" | "same" | number | tf.backend_util.ExplicitPadding;
  dataFormat?: "NHWC" | "NCHW";
  dilations?: [number, number] | number;
  dimRoundingMode?: "floor" | "round" | "ceil";
  filterShape: [number, number, number, number];
}

interface InputGradAttrs extends Omit<ConvAttrs, "filterShape"> {
  inputShape: [number, number, number, number];
}

function float32(backend: WasmBackendLike, info: tf.TensorInfo): Float32Array {
  const values = backend.readSync(info.dataId);
  if (!(values instanceof Float32Array)) {
    throw new ZeropointError("invalid-dtype", `expected a float32 tensor, got ${info.dtype}`);
  }
  return values;
}

function requireNhwc(attrs: { dataFormat?: string }, kernel: string): void {
  if (attrs.dataFormat !== undefined && attrs.dataFormat !== "NHWC") {
    throw new ZeropointError("unsupported-op", `${kernel} on wasm: only NHWC is supported, got ${attrs.dataFormat}`);
  }
}

/**
 * dW[kh, kw, ci, m] = Σ x[n, oh·s - pt + kh·d, ow·s - pl + kw·d, ci] · dy[n, oh, ow, ci·mult + m].
 * For a regular convolution `mult` is the number of output channels and every input channel
 * reaches every output channel; for a depthwise one each input channel has its own `mult` outputs.
 */
function filterGrad(
  x: Float32Array,
  dy: Float32Array,
  info: tf.backend_util.Conv2DInfo,
  depthwise: boolean,
): Float32Array {
  const { batchSize, inHeight, inWidth, inChannels, outHeight, outWidth, outChannels } = info;
  const { filterHeight, filterWidth, strideHeight, strideWidth, dilationHeight, dilationWidth } = info;
  const padTop = info.padInfo.top;
  const padLeft = info.padInfo.left;
  const dW = new Float32Array(
    filterHeight * filterWidth * inChannels * (depthwise ? outChannels / inChannels : outChannels),
  );
  const mult = depthwise ? outChannels / inChannels : outChannels;
  const acc = new Float64Array(depthwise ? mult : outChannels);
  for (let kh = 0; kh < filterHeight; kh++) {
    for (let kw = 0; kw < filterWidth; kw++) {
      for (let ci = 0; ci < inChannels; ci++) {
        acc.fill(0);
        for (let n = 0; n < batchSize; n++) {
          for (let oh = 0; oh < outHeight; oh++) {
            const ih = oh * strideHeight - padTop + kh * dilationHeight;
            if (ih < 0 || ih >= inHeight) continue;
            for (let ow = 0; ow < outWidth; ow++) {
              const iw = ow * strideWidth - padLeft + kw * dilationWidth;
              if (iw < 0 || iw >= inWidth) continue;
              const xv = x[((n * inHeight + ih) * inWidth + iw) * inChannels + ci] as number;
              if (xv === 0) continue;
              const dyBase = ((n * outHeight + oh) * outWidth + ow) * outChannels + (depthwise ? ci * mult : 0);
              for (let m = 0; m < acc.length; m++) acc[m] = (acc[m] as number) + xv * (dy[dyBase + m] as number);
            }
          }
        }
        const base = ((kh * filterWidth + kw) * inChannels + ci) * mult;
        for (let m = 0; m < acc.length; m++) dW[base + m] = acc[m] as number;
      }
    }
  }
  return dW;
}

/** dx of a depthwise convolution: scatter each dy through its channel's filter taps. */
function depthwiseInputGrad(dy: Float32Array, w: Float32Array, info: tf.backend_util.Conv2DInfo): Float32Array {
  const { batchSize, inHeight, inWidth, inChannels, outHeight, outWidth, outChannels } = info;
  const { filterHeight, filterWidth, strideHeight, strideWidth, dilationHeight, dilationWidth } = info;
  const mult = outChannels / inChannels;
  const dx = new Float32Array(batchSize * inHeight * inWidth * inChannels);
  for (let n = 0; n < batchSize; n++) {
    for (let oh = 0; oh < outHeight; oh++) {
      for (let ow = 0; ow < outWidth; ow++) {
        const dyBase = ((n * outHeight + oh) * outWidth + ow) * outChannels;
        for (let kh = 0; kh < filterHeight; kh++) {
          const ih = oh * strideHeight - info.padInfo.top + kh * dilationHeight;
          if (ih < 0 || ih >= inHeight) continue;
          for (let kw = 0; kw < filterWidth; kw++) {
            const iw = ow * strideWidth - info.padInfo.left + kw * dilationWidth;
            if (iw < 0 || iw >= inWidth) continue;
            const xBase = ((n * inHeight + ih) * inWidth + iw) * inChannels;
            const wBase = (kh * filterWidth + kw) * inChannels * mult;
            for (let ci = 0; ci < inChannels; ci++) {
              let s = 0;
              for (let m = 0; m < mult; m++)
                s += (dy[dyBase + ci * mult + m] as number) * (w[wBase + ci * mult + m] as number);
              dx[xBase + ci] = (dx[xBase + ci] as number) + s;
            }
          }
        }
      }
    }
  }
  return dx;
}

function output(backend: WasmBackendLike, shape: number[], values: Float32Array): tf.TensorInfo {
  const out = backend.makeOutput(shape, "float32");
  backend.typedArrayFromHeap(out).set(values);
  return out;
}

/** dW of a (depthwise) convolution: x and dy read from wasm memory, dW written back to it. */
function filterGradKernel(kernelName: string, depthwise: boolean): tf.KernelFunc {
  return ({ inputs, backend, attrs }) => {
    const wasm = backend as unknown as WasmBackendLike;
    const a = attrs as unknown as ConvAttrs;
    requireNhwc(a, kernelName);
    const x = inputs.x as tf.TensorInfo;
    const dy = inputs.dy as tf.TensorInfo;
    const info = tf.backend_util.computeConv2DInfo(
      x.shape as [number, number, number, number],
      a.filterShape,
      a.strides,
      a.dilations ?? 1,
      a.pad,
      a.dimRoundingMode,
      depthwise,
      "channelsLast",
    );
    return output(wasm, [...a.filterShape], filterGrad(float32(wasm, x), float32(wasm, dy), info, depthwise));
  };
}

const conv2DBackpropFilter = filterGradKernel("Conv2DBackpropFilter", false);
const depthwiseBackpropFilter = filterGradKernel("DepthwiseConv2dNativeBackpropFilter", true);

const depthwiseBackpropInput: tf.KernelFunc = ({ inputs, backend, attrs }) => {
  const wasm = backend as unknown as WasmBackendLike;
  const a = attrs as unknown as InputGradAttrs;
  requireNhwc(a, "DepthwiseConv2dNativeBackpropInput");
  const dy = inputs.dy as tf.TensorInfo;
  const filter = inputs.filter as tf.TensorInfo;
  const info = tf.backend_util.computeConv2DInfo(
    a.inputShape,
    filter.shape as [number, number, number, number],
    a.strides,
    a.dilations ?? 1,
    a.pad,
    a.dimRoundingMode,
    true,
  );
  return output(wasm, [...a.inputShape], depthwiseInputGrad(float32(wasm, dy), float32(wasm, filter), info));
};

/**
 * tfjs-backend-wasm 4.22 has no kernels for the filter gradient of Conv2D nor for either gradient of
 * DepthwiseConv2dNative, so `model.fit` of a convolutional model fails on wasm with "Kernel
 * 'Conv2DBackpropFilter' not registered". This registers plain TypeScript versions (float64
 * accumulation, NHWC) for the kernels wasm lacks; kernels already registered are left alone.
 *
 * @returns the kernel names this call registered.
 */
export function registerWasmTrainingKernels(): string[] {
  const registered: string[] = [];
  const kernels: [string, tf.KernelFunc][] = [
    ["Conv2DBackpropFilter", conv2DBackpropFilter],
    ["DepthwiseConv2dNativeBackpropFilter", depthwiseBackpropFilter],
    ["DepthwiseConv2dNativeBackpropInput", depthwiseBackpropInput],
  ];
  for (const [kernelName, kernelFunc] of kernels) {
    if (tf.getKernel(kernelName, "wasm") !== undefined) continue;
    tf.registerKernel({ kernelName, backendName: "wasm", kernelFunc });
    registered.push(kernelName);
  }
  return registered;
}
