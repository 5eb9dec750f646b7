// The vector passes of L-BFGS's two-loop recursion (lib/style/lbfgs.ts) on float64 vectors in
// kernel memory, two lanes per instruction, over `blocks` blocks of `block` entries so the pool
// can split them by blocks. Each block's dot product is summed as the TypeScript one
// (lib/style/lbfgs-vectors.ts): four running sums of the entries k ≡ 0, 1, 2, 3 (mod 4) from the
// block's start, added as (s0 + s1) + (s2 + s3), then the block's last entries; the caller adds
// the blocks' sums in order. Products and sums are IEEE float64 lane by lane (no fused
// multiply-add), so the bits are the TypeScript loop's.

// The four running sums of a block, added: lanes (s0, s1) and (s2, s3).
function total(s01: v128, s23: v128): f64 {
  return (
    f64x2.extract_lane(s01, 0) +
    f64x2.extract_lane(s01, 1) +
    (f64x2.extract_lane(s23, 0) + f64x2.extract_lane(s23, 1))
  );
}

/** partial[i] ← aᵀb over block i, for blocks·block entries. */
export function dotBlocks(a: usize, blocks: i32, b: usize, partial: usize, block: i32): void {
  const end = block - (block % 4);
  for (let i = 0; i < blocks; i++) {
    const at = ((i * block) << 3) as usize;
    let s01 = f64x2.splat(0);
    let s23 = f64x2.splat(0);
    for (let k = 0; k < end; k += 4) {
      const p = at + ((k << 3) as usize);
      s01 = f64x2.add(s01, f64x2.mul(v128.load(a + p), v128.load(b + p)));
      s23 = f64x2.add(s23, f64x2.mul(v128.load(a + p, 16), v128.load(b + p, 16)));
    }
    let s = total(s01, s23);
    for (let k = end; k < block; k++) {
      const p = at + ((k << 3) as usize);
      s += load<f64>(a + p) * load<f64>(b + p);
    }
    store<f64>(partial + ((i << 3) as usize), s);
  }
}

/**
 * y ← γ·(y + a·x), then partial[i] ← zᵀy over block i (of the updated y). With γ = 1 it is
 * y ← y + a·x: multiplying by one is exact.
 */
export function axpyScaleDotBlocks(
  y: usize,
  blocks: i32,
  a: f64,
  x: usize,
  gamma: f64,
  z: usize,
  partial: usize,
  block: i32,
): void {
  const va = f64x2.splat(a);
  const vg = f64x2.splat(gamma);
  const end = block - (block % 4);
  for (let i = 0; i < blocks; i++) {
    const at = ((i * block) << 3) as usize;
    let s01 = f64x2.splat(0);
    let s23 = f64x2.splat(0);
    for (let k = 0; k < end; k += 4) {
      const p = at + ((k << 3) as usize);
      const v01 = f64x2.mul(f64x2.add(v128.load(y + p), f64x2.mul(va, v128.load(x + p))), vg);
      const v23 = f64x2.mul(
        f64x2.add(v128.load(y + p, 16), f64x2.mul(va, v128.load(x + p, 16))),
        vg,
      );
      v128.store(y + p, v01);
      v128.store(y + p, v23, 16);
      s01 = f64x2.add(s01, f64x2.mul(v128.load(z + p), v01));
      s23 = f64x2.add(s23, f64x2.mul(v128.load(z + p, 16), v23));
    }
    let s = total(s01, s23);
    for (let k = end; k < block; k++) {
      const p = at + ((k << 3) as usize);
      const v = (load<f64>(y + p) + a * load<f64>(x + p)) * gamma;
      store<f64>(y + p, v);
      s += load<f64>(z + p) * v;
    }
    store<f64>(partial + ((i << 3) as usize), s);
  }
}

/** y ← y + a·x, for blocks·block entries. */
export function axpyBlocks(y: usize, blocks: i32, a: f64, x: usize, block: i32): void {
  const va = f64x2.splat(a);
  const n = blocks * block;
  let k = 0;
  for (; k + 2 <= n; k += 2) {
    const p = (k << 3) as usize;
    v128.store(y + p, f64x2.add(v128.load(y + p), f64x2.mul(va, v128.load(x + p))));
  }
  for (; k < n; k++) {
    const p = (k << 3) as usize;
    store<f64>(y + p, load<f64>(y + p) + a * load<f64>(x + p));
  }
}
