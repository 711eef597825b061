import { recordEvidence } from "@zeropoint/test-helpers";
import { describe, expect, it } from "vitest";
import { loadedCnn, mnistAccuracy, ptqCnn, qatCnn } from "../../test-fixtures/models.js";

// Acceptance (issue 5, QAT): fixed seed, one epoch on the MNIST train split, accuracy of the
// converted int8 model on the test split.
describe("eager QAT of the shared CNN", () => {
  const float = mnistAccuracy(loadedCnn());
  it("2-bit per-channel weights (−2..1): recovers at least half of the PTQ accuracy gap", () => {
    const range = { weightQuantMin: -2, weightQuantMax: 1 };
    const ptq = mnistAccuracy(ptqCnn(range));
    const qat = mnistAccuracy(qatCnn(range));
    const recovered = (qat - ptq) / (float - ptq);
    console.log(
      `2-bit: float ${float.toFixed(4)}, PTQ ${ptq.toFixed(4)}, QAT ${qat.toFixed(4)}, recovered ${(100 * recovered).toFixed(1)}% of the gap`,
    );
    expect(float - ptq).toBeGreaterThan(0.05);
    expect(recovered).toBeGreaterThanOrEqual(0.5);
    recordEvidence(
      "torch/qat/eager",
      `2-bit weights: PTQ ${ptq.toFixed(4)} -> one QAT epoch ${qat.toFixed(4)} (float ${float.toFixed(4)}), ${(100 * recovered).toFixed(1)}% of the gap`,
    );
  });
  it("8-bit weights: QAT ends at least at PTQ − 0.2 points", () => {
    const ptq = mnistAccuracy(ptqCnn());
    const qat = mnistAccuracy(qatCnn());
    console.log(`8-bit: float ${float.toFixed(4)}, PTQ ${ptq.toFixed(4)}, QAT ${qat.toFixed(4)}`);
    expect(qat).toBeGreaterThanOrEqual(ptq - 0.002);
  });
});
