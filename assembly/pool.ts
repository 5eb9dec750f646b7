// 2×2 pooling at stride 2 without padding (the pooling of VGG-style networks) for float32, four
// windows at a time: two vector loads cover a row of four windows, a shuffle splits it into the
// windows' left and right inputs, and the comparisons select lanes instead of branching (random
// data makes a branch per comparison a coin flip). Planes are contiguous [H, W] images, one per
// (n, c); outputs are contiguous [outH, outW] planes. Same results as lib/cnn/pool.ts.

// Split eight floats (two vectors) into their even and odd lanes: the left and right inputs of
// four consecutive 2-wide windows.
function evens(lo: v128, hi: v128): v128 {
  return v128.shuffle<f32>(lo, hi, 0, 2, 4, 6);
}
function odds(lo: v128, hi: v128): v128 {
  return v128.shuffle<f32>(lo, hi, 1, 3, 5, 7);
}

/**
 * Max pooling forward: y = max of each window, argmax = h·W + w of its winner, comparing in
 * row-major order with "strictly greater" (the first maximum wins a tie; a leading NaN is kept).
 */
export function maxPool2x2Forward(
  x: usize,
  planes: i32,
  H: i32,
  W: i32,
  outH: i32,
  outW: i32,
  y: usize,
  argmax: usize,
): void {
  const rowBytes = (W << 2) as usize;
  const vW = i32x4.splat(W);
  const one = i32x4.splat(1);
  for (let plane = 0; plane < planes; plane++) {
    const xp = x + ((plane * H * W) << 2);
    for (let oh = 0; oh < outH; oh++) {
      const top = xp + (((2 * oh * W) << 2) as usize);
      const bottom = top + rowBytes;
      let out = y + (((plane * outH + oh) * outW) << 2);
      let arg = argmax + (((plane * outH + oh) * outW) << 2);
      const at0 = 2 * oh * W;
      let ow = 0;
      for (; ow + 4 <= outW; ow += 4, out += 16, arg += 16) {
        const t = top + ((ow << 3) as usize);
        const b = bottom + ((ow << 3) as usize);
        const t0 = v128.load(t);
        const t1 = v128.load(t, 16);
        const b0 = v128.load(b);
        const b1 = v128.load(b, 16);
        const at = i32x4.add(i32x4.splat(at0 + 2 * ow), i32x4(0, 2, 4, 6));
        let best = evens(t0, t1);
        let win = at;
        let v = odds(t0, t1);
        let m = f32x4.gt(v, best);
        best = v128.bitselect(v, best, m);
        win = v128.bitselect(i32x4.add(at, one), win, m);
        v = evens(b0, b1);
        m = f32x4.gt(v, best);
        best = v128.bitselect(v, best, m);
        win = v128.bitselect(i32x4.add(at, vW), win, m);
        v = odds(b0, b1);
        m = f32x4.gt(v, best);
        best = v128.bitselect(v, best, m);
        win = v128.bitselect(i32x4.add(i32x4.add(at, vW), one), win, m);
        v128.store(out, best);
        v128.store(arg, win);
      }
      for (; ow < outW; ow++, out += 4, arg += 4) {
        const t = top + ((ow << 3) as usize);
        const at = at0 + 2 * ow;
        let best = load<f32>(t);
        let win = at;
        let v = load<f32>(t, 4);
        if (v > best) {
          best = v;
          win = at + 1;
        }
        v = load<f32>(t + rowBytes);
        if (v > best) {
          best = v;
          win = at + W;
        }
        v = load<f32>(t + rowBytes, 4);
        if (v > best) {
          best = v;
          win = at + W + 1;
        }
        store<f32>(out, best);
        store<i32>(arg, win);
      }
    }
  }
}

/**
 * Max pooling backward: each window's four inputs are written once, dy at the winner and 0
 * elsewhere; a last odd row or column outside every window is zeroed first.
 */
export function maxPool2x2Backward(
  dy: usize,
  argmax: usize,
  planes: i32,
  H: i32,
  W: i32,
  outH: i32,
  outW: i32,
  dx: usize,
): void {
  if (2 * outH < H || 2 * outW < W) memory.fill(dx, 0, ((planes * H * W) << 2) as usize);
  const rowBytes = (W << 2) as usize;
  const vW = i32x4.splat(W);
  const vW1 = i32x4.splat(W + 1);
  const one = i32x4.splat(1);
  const zero = f32x4.splat(0);
  for (let plane = 0; plane < planes; plane++) {
    const dp = dx + ((plane * H * W) << 2);
    for (let oh = 0; oh < outH; oh++) {
      const top = dp + (((2 * oh * W) << 2) as usize);
      const bottom = top + rowBytes;
      let g = dy + (((plane * outH + oh) * outW) << 2);
      let arg = argmax + (((plane * outH + oh) * outW) << 2);
      const at0 = 2 * oh * W;
      let ow = 0;
      for (; ow + 4 <= outW; ow += 4, g += 16, arg += 16) {
        const at = i32x4.add(i32x4.splat(at0 + 2 * ow), i32x4(0, 2, 4, 6));
        const win = i32x4.sub(v128.load(arg), at); // 0, 1, W or W + 1 per lane
        const gv = v128.load(g);
        const tl = v128.bitselect(gv, zero, i32x4.eq(win, zero));
        const tr = v128.bitselect(gv, zero, i32x4.eq(win, one));
        const bl = v128.bitselect(gv, zero, i32x4.eq(win, vW));
        const br = v128.bitselect(gv, zero, i32x4.eq(win, vW1));
        // Interleave left and right inputs back into rows: tl0 tr0 tl1 tr1 | tl2 tr2 tl3 tr3.
        const t = top + ((ow << 3) as usize);
        const b = bottom + ((ow << 3) as usize);
        v128.store(t, v128.shuffle<f32>(tl, tr, 0, 4, 1, 5));
        v128.store(t, v128.shuffle<f32>(tl, tr, 2, 6, 3, 7), 16);
        v128.store(b, v128.shuffle<f32>(bl, br, 0, 4, 1, 5));
        v128.store(b, v128.shuffle<f32>(bl, br, 2, 6, 3, 7), 16);
      }
      for (; ow < outW; ow++, g += 4, arg += 4) {
        const t = top + ((ow << 3) as usize);
        const gv = load<f32>(g);
        const win = load<i32>(arg) - (at0 + 2 * ow);
        store<f32>(t, win === 0 ? gv : 0);
        store<f32>(t, win === 1 ? gv : 0, 4);
        store<f32>(t + rowBytes, win === W ? gv : 0);
        store<f32>(t + rowBytes, win === W + 1 ? gv : 0, 4);
      }
    }
  }
}

/** Average pooling forward: y = (x00 + x01 + x10 + x11) / 4 for each window. */
export function avgPool2x2Forward(
  x: usize,
  planes: i32,
  H: i32,
  W: i32,
  outH: i32,
  outW: i32,
  y: usize,
): void {
  const rowBytes = (W << 2) as usize;
  const quarter = f32x4.splat(0.25);
  for (let plane = 0; plane < planes; plane++) {
    const xp = x + ((plane * H * W) << 2);
    for (let oh = 0; oh < outH; oh++) {
      const top = xp + (((2 * oh * W) << 2) as usize);
      const bottom = top + rowBytes;
      let out = y + (((plane * outH + oh) * outW) << 2);
      let ow = 0;
      for (; ow + 4 <= outW; ow += 4, out += 16) {
        const t = top + ((ow << 3) as usize);
        const b = bottom + ((ow << 3) as usize);
        const t0 = v128.load(t);
        const t1 = v128.load(t, 16);
        const b0 = v128.load(b);
        const b1 = v128.load(b, 16);
        // Summed in row-major order, as the TypeScript kernel does.
        let s = f32x4.add(evens(t0, t1), odds(t0, t1));
        s = f32x4.add(s, evens(b0, b1));
        s = f32x4.add(s, odds(b0, b1));
        v128.store(out, f32x4.mul(s, quarter));
      }
      for (; ow < outW; ow++, out += 4) {
        const t = top + ((ow << 3) as usize);
        const s =
          load<f32>(t) + load<f32>(t, 4) + load<f32>(t + rowBytes) + load<f32>(t + rowBytes, 4);
        store<f32>(out, s * 0.25);
      }
    }
  }
}

/** Average pooling backward: each of a window's four inputs gets dy / 4. */
export function avgPool2x2Backward(
  dy: usize,
  planes: i32,
  H: i32,
  W: i32,
  outH: i32,
  outW: i32,
  dx: usize,
): void {
  if (2 * outH < H || 2 * outW < W) memory.fill(dx, 0, ((planes * H * W) << 2) as usize);
  const rowBytes = (W << 2) as usize;
  const quarter = f32x4.splat(0.25);
  for (let plane = 0; plane < planes; plane++) {
    const dp = dx + ((plane * H * W) << 2);
    for (let oh = 0; oh < outH; oh++) {
      const top = dp + (((2 * oh * W) << 2) as usize);
      const bottom = top + rowBytes;
      let g = dy + (((plane * outH + oh) * outW) << 2);
      let ow = 0;
      for (; ow + 4 <= outW; ow += 4, g += 16) {
        const q = f32x4.mul(v128.load(g), quarter);
        const lo = v128.shuffle<f32>(q, q, 0, 0, 1, 1);
        const hi = v128.shuffle<f32>(q, q, 2, 2, 3, 3);
        const t = top + ((ow << 3) as usize);
        const b = bottom + ((ow << 3) as usize);
        v128.store(t, lo);
        v128.store(t, hi, 16);
        v128.store(b, lo);
        v128.store(b, hi, 16);
      }
      for (; ow < outW; ow++, g += 4) {
        const q = load<f32>(g) * 0.25;
        const t = top + ((ow << 3) as usize);
        store<f32>(t, q);
        store<f32>(t, q, 4);
        store<f32>(t + rowBytes, q);
        store<f32>(t + rowBytes, q, 4);
      }
    }
  }
}
