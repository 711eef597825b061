import { BatchNorm2d, Conv2d, Flatten, Linear, MaxPool2d, ReLU, Sequential } from "./layers.js";

/**
 * The CNN of the shared reference data (../shared/README.md), with PyTorch's module names:
 * c1 Conv2d(1,16,3,p1), b1 BatchNorm2d(16), r1, p1 MaxPool2d(2), c2 Conv2d(16,32,3,p1), b2, r2, p2,
 * f Flatten, l1 Linear(1568,128), r3, l2 Linear(128,10).
 */
export function referenceCnn(): Sequential {
  return new Sequential(
    ["c1", new Conv2d(1, 16, 3, { padding: 1 })],
    ["b1", new BatchNorm2d(16)],
    ["r1", new ReLU()],
    ["p1", new MaxPool2d(2)],
    ["c2", new Conv2d(16, 32, 3, { padding: 1 })],
    ["b2", new BatchNorm2d(32)],
    ["r2", new ReLU()],
    ["p2", new MaxPool2d(2)],
    ["f", new Flatten()],
    ["l1", new Linear(1568, 128)],
    ["r3", new ReLU()],
    ["l2", new Linear(128, 10)],
  );
}
