// Element-wise passes over float32 arrays in kernel memory, four lanes at a time: ReLU forward
// and backward, and the sum a feature network's tap gradients join the chain with. The loops
// run over `blocks` blocks of `block` floats each, so the pool can split them by blocks (the
// channel passes of lib/core/gemm-wasm.ts); `block` is a multiple of 4 or the call covers one
// short block. Each gives the bits of the plain TypeScript loop it replaces, with one exception:
// max(0, v) equals that loop's (v + |v|)/2 (NaN stays NaN, −0 gives +0) except at v = −∞, where
// the loop gets −∞ + ∞ = NaN and this kernel ReLU's own value 0. dy·1 or dy·0 is a product as
// there.

/** y ← max(0, x), element-wise, for blocks·block floats. */
export function reluForward(x: usize, blocks: i32, y: usize, block: i32): void {
  const n = blocks * block;
  const zero = f32x4.splat(0);
  let k = 0;
  for (; k + 4 <= n; k += 4) {
    const at = (k << 2) as usize;
    v128.store(y + at, f32x4.max(v128.load(x + at), zero));
  }
  for (; k < n; k++) {
    const at = (k << 2) as usize;
    store<f32>(y + at, max<f32>(load<f32>(x + at), 0));
  }
}

/** dx ← dy·[y > 0] (the factor 1 or 0, multiplied), element-wise, for blocks·block floats. */
export function reluBackward(dy: usize, blocks: i32, y: usize, dx: usize, block: i32): void {
  const n = blocks * block;
  const zero = f32x4.splat(0);
  const one = f32x4.splat(1);
  let k = 0;
  for (; k + 4 <= n; k += 4) {
    const at = (k << 2) as usize;
    const factor = v128.and(f32x4.gt(v128.load(y + at), zero), one);
    v128.store(dx + at, f32x4.mul(v128.load(dy + at), factor));
  }
  for (; k < n; k++) {
    const at = (k << 2) as usize;
    const factor: f32 = load<f32>(y + at) > 0 ? 1 : 0;
    store<f32>(dx + at, load<f32>(dy + at) * factor);
  }
}

/** d ← d + t, element-wise, for blocks·block floats. */
export function addInto(d: usize, blocks: i32, t: usize, block: i32): void {
  const n = blocks * block;
  let k = 0;
  for (; k + 4 <= n; k += 4) {
    const at = (k << 2) as usize;
    v128.store(d + at, f32x4.add(v128.load(d + at), v128.load(t + at)));
  }
  for (; k < n; k++) {
    const at = (k << 2) as usize;
    store<f32>(d + at, load<f32>(d + at) + load<f32>(t + at));
  }
}

// Row passes of the centred style statistic (lib/style/losses.ts) over `rows` rows of M float32
// values each, with per-row float64 numbers: the arithmetic of the plain TypeScript loops they
// replace, lane by lane (float32 promoted to float64, the result rounded back to float32), so
// they give its bits. Each row is one channel of the pool's channel passes.

/**
 * sums[r] ← Σₖ f[r, k] in float64, summed as the TypeScript rowSum: four running sums of the
 * entries k ≡ 0, 1, 2, 3 (mod 4), added as (s0 + s1) + (s2 + s3), then the last M mod 4 entries.
 */
export function rowSums(f: usize, rows: i32, sums: usize, M: i32): void {
  const end = M - (M % 4);
  for (let r = 0; r < rows; r++) {
    const row = f + (((r * M) << 2) as usize);
    let s01 = f64x2.splat(0); // lanes s0, s1
    let s23 = f64x2.splat(0); // lanes s2, s3
    for (let k = 0; k < end; k += 4) {
      const v = v128.load(row + ((k << 2) as usize));
      s01 = f64x2.add(s01, f64x2.promote_low_f32x4(v));
      s23 = f64x2.add(s23, f64x2.promote_low_f32x4(i32x4.shuffle(v, v, 2, 3, 0, 1)));
    }
    let s =
      f64x2.extract_lane(s01, 0) +
      f64x2.extract_lane(s01, 1) +
      (f64x2.extract_lane(s23, 0) + f64x2.extract_lane(s23, 1));
    for (let k = end; k < M; k++) s += <f64>load<f32>(row + ((k << 2) as usize));
    store<f64>(sums + ((r << 3) as usize), s);
  }
}

/** out[r, k] ← f[r, k] − mu[r] (float64 difference, rounded to float32). */
export function centreRows(f: usize, rows: i32, mu: usize, out: usize, M: i32): void {
  addRowNumbers(f, rows, mu, out, M, -1);
}

/** d[r, k] ← d[r, k] + g[r] (float64 sum, rounded to float32). */
export function addRowConstants(d: usize, rows: i32, g: usize, M: i32): void {
  addRowNumbers(d, rows, g, d, M, 1);
}

// out[r, k] ← f[r, k] + sign·c[r] in float64, rounded to float32; sign is ±1, so the product is
// exact and x + (−c) is the subtraction x − c.
function addRowNumbers(f: usize, rows: i32, c: usize, out: usize, M: i32, sign: f64): void {
  for (let r = 0; r < rows; r++) {
    const at = ((r * M) << 2) as usize;
    const cr = sign * load<f64>(c + ((r << 3) as usize));
    const vc = f64x2.splat(cr);
    let k = 0;
    for (; k + 4 <= M; k += 4) {
      const p = at + ((k << 2) as usize);
      const v = v128.load(f + p);
      const lo = f32x4.demote_f64x2_zero(f64x2.add(f64x2.promote_low_f32x4(v), vc));
      const hi = f32x4.demote_f64x2_zero(
        f64x2.add(f64x2.promote_low_f32x4(i32x4.shuffle(v, v, 2, 3, 0, 1)), vc),
      );
      v128.store(out + p, i64x2.shuffle(lo, hi, 0, 2));
    }
    for (; k < M; k++) {
      const p = at + ((k << 2) as usize);
      store<f32>(out + p, <f32>(<f64>load<f32>(f + p) + cr));
    }
  }
}
