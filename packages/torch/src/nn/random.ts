/** Deterministic uniform generator (mulberry32) used for initialisation and dropout. */
export class Random {
  private state: number;
  constructor(seed: number) {
    this.state = seed >>> 0;
  }
  /** Uniform in [0, 1). */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  /** Uniform in [-bound, bound). */
  uniform(bound: number): number {
    return (this.next() * 2 - 1) * bound;
  }
}

let global = new Random(0);

/** Seeds the generator modules use by default (PyTorch's `torch.manual_seed`). */
export function manualSeed(seed: number): void {
  global = new Random(seed);
}

/** The default generator. */
export function defaultRandom(): Random {
  return global;
}
