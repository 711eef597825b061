import * as tfl from "@tensorflow/tfjs-layers";

/**
 * The tfjs CNN the tests quantize: conv(16)+BN+ReLU, max-pool, conv(32)+BN+ReLU, max-pool,
 * flatten, dense(128, relu), dense(10) logits. BatchNorm is there on purpose: static quantization
 * must fold it into the convolutions.
 */
export function buildMnistCnn(seed = 1): tfl.Sequential {
  const init = (k: number) => tfl.initializers.glorotUniform({ seed: seed * 100 + k });
  return tfl.sequential({
    name: "mnist_cnn",
    layers: [
      tfl.layers.conv2d({
        name: "c1",
        inputShape: [28, 28, 1],
        filters: 16,
        kernelSize: 3,
        padding: "same",
        kernelInitializer: init(1),
      }),
      tfl.layers.batchNormalization({ name: "b1" }),
      tfl.layers.reLU({ name: "r1" }),
      tfl.layers.maxPooling2d({ name: "p1", poolSize: 2 }),
      tfl.layers.conv2d({ name: "c2", filters: 32, kernelSize: 3, padding: "same", kernelInitializer: init(2) }),
      tfl.layers.batchNormalization({ name: "b2" }),
      tfl.layers.reLU({ name: "r2" }),
      tfl.layers.maxPooling2d({ name: "p2", poolSize: 2 }),
      tfl.layers.flatten({ name: "f" }),
      tfl.layers.dense({ name: "l1", units: 128, activation: "relu", kernelInitializer: init(3) }),
      tfl.layers.dense({ name: "l2", units: 10, kernelInitializer: init(4) }),
    ],
  });
}
