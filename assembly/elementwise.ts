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
