/** A few SGD steps on train images (every 7th), enough to show a QAT loop; real QAT runs an epoch or more. */

import { mnistSplit } from "@zeropoint/test-helpers";
import { crossEntropy, type Module, SGD, Tensor } from "@zeropoint/torch";

export function trainSteps(model: Module & { call(x: Tensor): Tensor }, steps: number): void {
  const train = mnistSplit("train");
  const optimizer = new SGD(model.parameters(), { lr: 1e-3, momentum: 0.9 });
  for (let s = 0; s < steps; s++) {
    const idx = Array.from({ length: 32 }, (_, k) => ((s * 32 + k) * 7) % train.count);
    const x = new Float32Array(32 * 784);
    for (const [k, i] of idx.entries()) x.set(train.images.subarray(i * 784, (i + 1) * 784), k * 784);
    const loss = crossEntropy(
      model.call(new Tensor(x, [32, 1, 28, 28])),
      idx.map((i) => train.labels[i] as number),
    );
    optimizer.zeroGrad();
    loss.backward();
    optimizer.step();
  }
}
