// A small seeded random number generator, passed explicitly to everything random in nnzero.
// xoshiro128** (Blackman & Vigna, 2018) seeded through splitmix32: fast, 32-bit, good statistics,
// and — the point here — the same numbers for the same seed on every machine and every run.
import type { Tensor } from './ndarray.js';

/** Seeded random number generator (xoshiro128**); the same seed gives the same stream. */
export class Rng {
  #s0: number;
  #s1: number;
  #s2: number;
  #s3: number;
  // Box–Muller makes normals in pairs; the spare one is kept per instance (never module state).
  #spare: number | undefined;

  /** @param seed any integer; equal seeds give equal streams */
  constructor(seed: number) {
    if (!Number.isFinite(seed)) throw new Error(`Rng: seed must be a finite number, got ${seed}`);
    // splitmix32 expands one seed into the four words of state (never all zero).
    let x = seed >>> 0;
    const next = (): number => {
      x = (x + 0x9e3779b9) | 0;
      let z = x;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
      return (z ^ (z >>> 16)) >>> 0;
    };
    this.#s0 = next();
    this.#s1 = next();
    this.#s2 = next();
    this.#s3 = next();
  }

  /** Next 32-bit unsigned integer. */
  nextUint32(): number {
    const result = Math.imul(rotl(Math.imul(this.#s1, 5), 7), 9) >>> 0;
    const t = this.#s1 << 9;
    this.#s2 ^= this.#s0;
    this.#s3 ^= this.#s1;
    this.#s1 ^= this.#s2;
    this.#s0 ^= this.#s3;
    this.#s2 ^= t;
    this.#s3 = rotl(this.#s3, 11);
    return result;
  }

  /** Uniform float in [0, 1) with 53 random bits. */
  next(): number {
    const hi = this.nextUint32() >>> 5; // 27 bits
    const lo = this.nextUint32() >>> 6; // 26 bits
    return (hi * 67108864 + lo) / 9007199254740992;
  }

  /** Uniform float in [lo, hi). */
  uniform(lo = 0, hi = 1): number {
    return lo + (hi - lo) * this.next();
  }

  /** Normal (Gaussian) sample with the given mean and standard deviation (Box–Muller). */
  normal(mean = 0, std = 1): number {
    if (this.#spare !== undefined) {
      const z = this.#spare;
      this.#spare = undefined;
      return mean + std * z;
    }
    let u = 0;
    while (u === 0) u = this.next(); // log(0) is -Infinity
    const v = this.next();
    const r = Math.sqrt(-2 * Math.log(u));
    this.#spare = r * Math.sin(2 * Math.PI * v);
    return mean + std * r * Math.cos(2 * Math.PI * v);
  }

  /** Uniform integer in [0, n). */
  int(n: number): number {
    if (!(n > 0) || !Number.isInteger(n))
      throw new Error(`Rng.int: n must be a positive integer, got ${n}`);
    return Math.floor(this.next() * n);
  }

  /** Shuffle an array in place (Fisher–Yates) and return it. */
  shuffle<T>(items: T[]): T[];
  shuffle<A extends { length: number; [i: number]: number }>(items: A): A;
  shuffle(items: { length: number; [i: number]: unknown }): unknown {
    for (let i = items.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      const tmp = items[i];
      items[i] = items[j];
      items[j] = tmp;
    }
    return items;
  }

  /** A random permutation of 0..n-1. */
  permutation(n: number): Int32Array {
    const p = new Int32Array(n);
    for (let i = 0; i < n; i++) p[i] = i;
    return this.shuffle(p);
  }

  /** k distinct integers drawn from [0, n) without replacement, in draw order. */
  choice(n: number, k: number): number[] {
    if (k > n) throw new Error(`Rng.choice: cannot draw ${k} distinct values from ${n}`);
    // Partial Fisher–Yates over a sparse map: O(k) memory even for huge n.
    const swapped = new Map<number, number>();
    const out: number[] = [];
    for (let i = 0; i < k; i++) {
      const j = i + this.int(n - i);
      const vj = swapped.get(j) ?? j;
      swapped.set(j, swapped.get(i) ?? i);
      out.push(vj);
    }
    return out;
  }

  /** Fill a tensor (any view) with uniform samples in [lo, hi); returns it. */
  fillUniform<T extends Tensor>(t: T, lo = 0, hi = 1): T {
    forEachIndex(t, (set) => set(this.uniform(lo, hi)));
    return t;
  }

  /** Fill a tensor (any view) with normal samples; returns it. */
  fillNormal<T extends Tensor>(t: T, mean = 0, std = 1): T {
    forEachIndex(t, (set) => set(this.normal(mean, std)));
    return t;
  }

  /** A new generator seeded from this one (for independent streams). */
  split(): Rng {
    return new Rng(this.nextUint32());
  }
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}

// Visit every element of a view in row-major order, so fills are the same for a view and a copy.
function forEachIndex(t: Tensor, visit: (set: (v: number) => void) => void): void {
  const { shape, stride, offset, data } = t;
  const d = shape.length;
  const idx = new Array<number>(d).fill(0);
  const n = t.size;
  let pos = offset;
  for (let count = 0; count < n; count++) {
    const p = pos;
    visit((v) => {
      data[p] = v;
    });
    // odometer increment
    for (let ax = d - 1; ax >= 0; ax--) {
      idx[ax]!++;
      pos += stride[ax]!;
      if (idx[ax]! < shape[ax]!) break;
      pos -= stride[ax]! * shape[ax]!;
      idx[ax] = 0;
    }
  }
}
