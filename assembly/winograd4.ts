// The three transforms of Winograd's F(4×4, 3×3) (lib/cnn/winograd.ts, F4x4, is the readable
// reference; Lavin & Gray 2015, eq. 7) for float32 inside the kernel's memory, beside the
// F(2×2, 3×3) ones of winograd.ts and with the same arguments, so lib/cnn/conv2d-winograd-wasm.ts
// runs either scheme's separate passes, and winogradBands (winograd.ts) either scheme's bands:
// 6×6 patches four floats apart give 4×4 output tiles, and there are 36 planes U[ξ], V[ξ], M[ξ]
// instead of 16. Each transform is a 6-point (or 3 → 6, or 6 → 4) combination applied down the
// columns and then along the rows; the rows' results are written where they finally go and read
// back for the columns, so no scratch memory is shared between the pool's threads. Four
// neighbouring tiles (four input channels for the filters) go in the four lanes of an f32x4; a
// row's last tiles fill as many lanes as they have, and only those lanes are stored.

// ---- the three combinations, one small function per row (each inlined by the optimizer: a
// row index decided at run time measured a tenth of a style evaluation in calls and branches) ----

// The rows of Bᵀ (points 0, ±1, ±2) times (x0 … x5): [4 0 −5 0 1 0], [0 −4 −4 1 1 0],
// [0 4 −4 −1 1 0], [0 −2 −1 2 1 0], [0 2 −1 −2 1 0], [0 4 0 −5 0 1].
function btRow0(x0: v128, x2: v128, x4: v128): v128 {
  return f32x4.add(f32x4.sub(f32x4.mul(f32x4.splat(4), x0), f32x4.mul(f32x4.splat(5), x2)), x4);
}
function btRow1(x1: v128, x2: v128, x3: v128, x4: v128): v128 {
  return f32x4.add(f32x4.sub(x3, f32x4.mul(f32x4.splat(4), f32x4.add(x1, x2))), x4);
}
function btRow2(x1: v128, x2: v128, x3: v128, x4: v128): v128 {
  return f32x4.add(f32x4.sub(f32x4.mul(f32x4.splat(4), f32x4.sub(x1, x2)), x3), x4);
}
function btRow3(x1: v128, x2: v128, x3: v128, x4: v128): v128 {
  return f32x4.add(f32x4.sub(f32x4.mul(f32x4.splat(2), f32x4.sub(x3, x1)), x2), x4);
}
function btRow4(x1: v128, x2: v128, x3: v128, x4: v128): v128 {
  return f32x4.add(f32x4.sub(f32x4.mul(f32x4.splat(2), f32x4.sub(x1, x3)), x2), x4);
}
function btRow5(x1: v128, x3: v128, x5: v128): v128 {
  return f32x4.add(f32x4.sub(f32x4.mul(f32x4.splat(4), x1), f32x4.mul(f32x4.splat(5), x3)), x5);
}

// Bᵀ times (x0 … x5), its six entries stored (first n lanes) at p, p + step, …, p + 5·step.
function storeBt(
  p: usize,
  step: usize,
  x0: v128,
  x1: v128,
  x2: v128,
  x3: v128,
  x4: v128,
  x5: v128,
  n: i32,
): void {
  storeLanes(p, btRow0(x0, x2, x4), n);
  storeLanes(p + step, btRow1(x1, x2, x3, x4), n);
  storeLanes(p + 2 * step, btRow2(x1, x2, x3, x4), n);
  storeLanes(p + 3 * step, btRow3(x1, x2, x3, x4), n);
  storeLanes(p + 4 * step, btRow4(x1, x2, x3, x4), n);
  storeLanes(p + 5 * step, btRow5(x1, x3, x5), n);
}

// The rows of G times (a, b, c): [¼ 0 0], [−⅙ −⅙ −⅙], [−⅙ ⅙ −⅙], [1/24 1/12 ⅙],
// [1/24 −1/12 ⅙], [0 0 1] (the last is c itself).
function gRow0(a: v128): v128 {
  return f32x4.mul(f32x4.splat(0.25), a);
}
function gRow1(a: v128, b: v128, c: v128): v128 {
  return f32x4.mul(f32x4.splat(-1.0 / 6), f32x4.add(f32x4.add(a, b), c));
}
function gRow2(a: v128, b: v128, c: v128): v128 {
  return f32x4.mul(f32x4.splat(-1.0 / 6), f32x4.add(f32x4.sub(a, b), c));
}
function gRow3(a: v128, b: v128, c: v128): v128 {
  const ac = f32x4.add(f32x4.mul(f32x4.splat(1.0 / 24), a), f32x4.mul(f32x4.splat(1.0 / 6), c));
  return f32x4.add(ac, f32x4.mul(f32x4.splat(1.0 / 12), b));
}
function gRow4(a: v128, b: v128, c: v128): v128 {
  const ac = f32x4.add(f32x4.mul(f32x4.splat(1.0 / 24), a), f32x4.mul(f32x4.splat(1.0 / 6), c));
  return f32x4.sub(ac, f32x4.mul(f32x4.splat(1.0 / 12), b));
}

// The rows of Aᵀ times (x0 … x5): [1 1 1 1 1 0], [0 1 −1 2 −2 0], [0 1 1 4 4 0], [0 1 −1 8 −8 1].
function atRow0(x0: v128, x1: v128, x2: v128, x3: v128, x4: v128): v128 {
  return f32x4.add(f32x4.add(x0, f32x4.add(x1, x2)), f32x4.add(x3, x4));
}
function atRow1(x1: v128, x2: v128, x3: v128, x4: v128): v128 {
  return f32x4.add(f32x4.sub(x1, x2), f32x4.mul(f32x4.splat(2), f32x4.sub(x3, x4)));
}
function atRow2(x1: v128, x2: v128, x3: v128, x4: v128): v128 {
  return f32x4.add(f32x4.add(x1, x2), f32x4.mul(f32x4.splat(4), f32x4.add(x3, x4)));
}
function atRow3(x1: v128, x2: v128, x3: v128, x4: v128, x5: v128): v128 {
  return f32x4.add(f32x4.add(f32x4.sub(x1, x2), f32x4.mul(f32x4.splat(8), f32x4.sub(x3, x4))), x5);
}

// The first n lanes of v at byte p (n = 4: one vector store).
function storeLanes(p: usize, v: v128, n: i32): void {
  if (n >= 4) {
    v128.store(p, v);
    return;
  }
  store<f32>(p, f32x4.extract_lane(v, 0));
  if (n > 1) store<f32>(p, f32x4.extract_lane(v, 1), 4);
  if (n > 2) store<f32>(p, f32x4.extract_lane(v, 2), 8);
}

// ---- filter transform U = G g Gᵀ ----

// The floats at p, p + step, p + 2·step, p + 3·step (bytes) as one f32x4; lanes past n repeat
// the first (they are never stored).
function gather(p: usize, step: usize, n: i32): v128 {
  let v = f32x4.splat(load<f32>(p));
  if (n > 1) v = f32x4.replace_lane(v, 1, load<f32>(p + step));
  if (n > 2) v = f32x4.replace_lane(v, 2, load<f32>(p + 2 * step));
  if (n > 3) v = f32x4.replace_lane(v, 3, load<f32>(p + 3 * step));
  return v;
}

// Row r of (G g) Gᵀ from row r (t0, t1, t2) of G g: planes 6r … 6r + 5 from byte `u`.
function storeFilterRow(
  u: usize,
  plane: usize,
  r: i32,
  t0: v128,
  t1: v128,
  t2: v128,
  n: i32,
): void {
  const row = u + ((6 * r) as usize) * plane;
  storeLanes(row, gRow0(t0), n);
  storeLanes(row + plane, gRow1(t0, t1, t2), n);
  storeLanes(row + 2 * plane, gRow2(t0, t1, t2), n);
  storeLanes(row + 3 * plane, gRow3(t0, t1, t2), n);
  storeLanes(row + 4 * plane, gRow4(t0, t1, t2), n);
  storeLanes(row + 5 * plane, t2, n);
}

/**
 * U[ξ][o][i] ← (G · g · Gᵀ)[ξ] for O × I filters g, as winogradFilters (same arguments: tap
 * (a, b) of filter (o, i) at w + 4·(o·so + i·si + a·sa + b·sb)), into 36 row-major O × I planes
 * from byte u, `plane` floats apart.
 */
export function winograd4Filters(
  w: usize,
  O: i32,
  I: i32,
  so: i32,
  si: i32,
  sa: i32,
  sb: i32,
  u: usize,
  plane: i32,
): void {
  const planeBytes = (plane << 2) as usize;
  const a1 = (sa << 2) as usize;
  const a2 = (sa << 3) as usize;
  const b1 = (sb << 2) as usize;
  const b2 = (sb << 3) as usize;
  const step = (si << 2) as usize;
  for (let o = 0; o < O; o++) {
    // Four input channels at once, one filter per lane (the last group may have fewer).
    for (let i = 0; i < I; i += 4) {
      const n = min(4, I - i);
      const g = w + (((o * so + i * si) << 2) as usize);
      const g00 = gather(g, step, n);
      const g01 = gather(g + b1, step, n);
      const g02 = gather(g + b2, step, n);
      const g10 = gather(g + a1, step, n);
      const g11 = gather(g + a1 + b1, step, n);
      const g12 = gather(g + a1 + b2, step, n);
      const g20 = gather(g + a2, step, n);
      const g21 = gather(g + a2 + b1, step, n);
      const g22 = gather(g + a2 + b2, step, n);
      const at0 = u + (((o * I + i) << 2) as usize);
      // Row r of G g is G's row r times each column of g; then times Gᵀ along the row.
      storeFilterRow(at0, planeBytes, 0, gRow0(g00), gRow0(g01), gRow0(g02), n);
      storeFilterRow(
        at0,
        planeBytes,
        1,
        gRow1(g00, g10, g20),
        gRow1(g01, g11, g21),
        gRow1(g02, g12, g22),
        n,
      );
      storeFilterRow(
        at0,
        planeBytes,
        2,
        gRow2(g00, g10, g20),
        gRow2(g01, g11, g21),
        gRow2(g02, g12, g22),
        n,
      );
      storeFilterRow(
        at0,
        planeBytes,
        3,
        gRow3(g00, g10, g20),
        gRow3(g01, g11, g21),
        gRow3(g02, g12, g22),
        n,
      );
      storeFilterRow(
        at0,
        planeBytes,
        4,
        gRow4(g00, g10, g20),
        gRow4(g01, g11, g21),
        gRow4(g02, g12, g22),
        n,
      );
      storeFilterRow(at0, planeBytes, 5, g20, g21, g22, n);
    }
  }
}

// ---- input transform V = Bᵀ d B ----

// Row i of d B for four tiles whose 6-float patch rows start 4 floats apart at byte `row`: the
// patch columns come from five loads and two 4×4 transposes (lanes = tiles), then Bᵀ's rows
// combine them; stored in planes 6i … 6i + 5 at byte v (only the first n lanes).
function inputRow(row: usize, v: usize, plane: usize, i: i32, n: i32): void {
  const r0 = v128.load(row);
  const r1 = v128.load(row, 16);
  const r2 = v128.load(row, 32);
  const r3 = v128.load(row, 48);
  const r4 = v128.load(row, 64);
  const t0 = v128.shuffle<f32>(r0, r1, 0, 4, 1, 5);
  const t1 = v128.shuffle<f32>(r2, r3, 0, 4, 1, 5);
  const t2 = v128.shuffle<f32>(r0, r1, 2, 6, 3, 7);
  const t3 = v128.shuffle<f32>(r2, r3, 2, 6, 3, 7);
  const d0 = v128.shuffle<f32>(t0, t1, 0, 1, 4, 5); // columns 0 … 3 of the four patches
  const d1 = v128.shuffle<f32>(t0, t1, 2, 3, 6, 7);
  const d2 = v128.shuffle<f32>(t2, t3, 0, 1, 4, 5);
  const d3 = v128.shuffle<f32>(t2, t3, 2, 3, 6, 7);
  const u0 = v128.shuffle<f32>(r1, r2, 0, 4, 1, 5);
  const u1 = v128.shuffle<f32>(r3, r4, 0, 4, 1, 5);
  const d4 = v128.shuffle<f32>(u0, u1, 0, 1, 4, 5); // columns 4 and 5
  const d5 = v128.shuffle<f32>(u0, u1, 2, 3, 6, 7);
  storeBt(v + ((6 * i) as usize) * plane, plane, d0, d1, d2, d3, d4, d5, n);
}

// Column k of Bᵀ (d B), in place: reads planes k, 6 + k, …, 30 + k (the rows' results) and
// writes V there (only the first n lanes).
function inputColumn(v: usize, plane: usize, k: i32, n: i32): void {
  const c = v + (k as usize) * plane;
  const step = 6 * plane;
  const e0 = v128.load(c);
  const e1 = v128.load(c + step);
  const e2 = v128.load(c + 2 * step);
  const e3 = v128.load(c + 3 * step);
  const e4 = v128.load(c + 4 * step);
  const e5 = v128.load(c + 5 * step);
  storeBt(c, step, e0, e1, e2, e3, e4, e5, n);
}

/**
 * V[ξ][c][t] ← (Bᵀ d B)[ξ] for the tiles of tile rows th0 … th1 − 1 of one zero-padded image
 * p [C, Hp, Wp] (tile (th, tw) reads rows 4th … 4th + 5, columns 4tw … 4tw + 5), with
 * t = (th − th0)·tilesW + tw, as winogradInputs (same arguments) with 36 planes. A row's last
 * group of tiles reads up to 13 floats past the row, lanes it does not store (p needs 16 floats
 * of room after it).
 */
export function winograd4Inputs(
  p: usize,
  C: i32,
  Hp: i32,
  Wp: i32,
  th0: i32,
  th1: i32,
  tilesW: i32,
  v: usize,
  ld: i32,
  plane: i32,
): void {
  const rowBytes = (Wp << 2) as usize;
  const planeBytes = (plane << 2) as usize;
  for (let c = 0; c < C; c++) {
    for (let th = th0; th < th1; th++) {
      const patch = p + (((c * Hp + 4 * th) * Wp) << 2);
      const out = v + (((c * ld + (th - th0) * tilesW) << 2) as usize);
      for (let tw = 0; tw < tilesW; tw += 4) {
        const n = min(4, tilesW - tw);
        const row = patch + ((tw << 4) as usize);
        const at0 = out + ((tw << 2) as usize);
        for (let i = 0; i < 6; i++) inputRow(row + (i as usize) * rowBytes, at0, planeBytes, i, n);
        for (let k = 0; k < 6; k++) inputColumn(at0, planeBytes, k, n);
      }
    }
  }
}

// ---- output transform Y = Aᵀ m A ----

// Column j of Aᵀ m for four tiles, in place: reads planes j, 6 + j, …, 30 + j of M and writes
// rows 0 … 3 of Aᵀ m back into the first four (only the first n lanes).
function outputColumn(m: usize, plane: usize, j: i32, n: i32): void {
  const c = m + (j as usize) * plane;
  const step = 6 * plane;
  const x0 = v128.load(c);
  const x1 = v128.load(c + step);
  const x2 = v128.load(c + 2 * step);
  const x3 = v128.load(c + 3 * step);
  const x4 = v128.load(c + 4 * step);
  const x5 = v128.load(c + 5 * step);
  storeLanes(c, atRow0(x0, x1, x2, x3, x4), n);
  storeLanes(c + step, atRow1(x1, x2, x3, x4), n);
  storeLanes(c + 2 * step, atRow2(x1, x2, x3, x4), n);
  storeLanes(c + 3 * step, atRow3(x1, x2, x3, x4, x5), n);
}

// Output row i of four tiles: (Aᵀ m)[i] A plus bias, from planes 6i … 6i + 5, transposed so each
// tile's four outputs are contiguous, then stored at y for the tiles (n of them) and columns
// (`cols` in the last) inside the output.
function outputRow(m: usize, plane: usize, i: i32, vb: v128, y: usize, n: i32, cols: i32): void {
  const r = m + ((6 * i) as usize) * plane;
  const s0 = v128.load(r);
  const s1 = v128.load(r + plane);
  const s2 = v128.load(r + 2 * plane);
  const s3 = v128.load(r + 3 * plane);
  const s4 = v128.load(r + 4 * plane);
  const s5 = v128.load(r + 5 * plane);
  const y0 = f32x4.add(atRow0(s0, s1, s2, s3, s4), vb); // column 0 of the four tiles
  const y1 = f32x4.add(atRow1(s1, s2, s3, s4), vb);
  const y2 = f32x4.add(atRow2(s1, s2, s3, s4), vb);
  const y3 = f32x4.add(atRow3(s1, s2, s3, s4, s5), vb);
  const t0 = v128.shuffle<f32>(y0, y1, 0, 4, 1, 5);
  const t1 = v128.shuffle<f32>(y2, y3, 0, 4, 1, 5);
  const t2 = v128.shuffle<f32>(y0, y1, 2, 6, 3, 7);
  const t3 = v128.shuffle<f32>(y2, y3, 2, 6, 3, 7);
  storeLanes(y, v128.shuffle<f32>(t0, t1, 0, 1, 4, 5), n > 1 ? 4 : cols);
  if (n > 1) storeLanes(y + 16, v128.shuffle<f32>(t0, t1, 2, 3, 6, 7), n > 2 ? 4 : cols);
  if (n > 2) storeLanes(y + 32, v128.shuffle<f32>(t2, t3, 0, 1, 4, 5), n > 3 ? 4 : cols);
  if (n > 3) storeLanes(y + 48, v128.shuffle<f32>(t2, t3, 2, 3, 6, 7), cols);
}

/**
 * y[f, 4th + i, 4tw + j] ← (Aᵀ m A)[i][j] + bias[f] for tile rows th0 … th1 − 1 of one image,
 * as winogradOutputs (same arguments) with 36 planes; M is overwritten (its planes hold Aᵀ m
 * on the way).
 */
export function winograd4Outputs(
  m: usize,
  F: i32,
  th0: i32,
  th1: i32,
  tilesW: i32,
  ld: i32,
  plane: i32,
  y: usize,
  outH: i32,
  outW: i32,
  bias: usize,
): void {
  const planeBytes = (plane << 2) as usize;
  const rowBytes = (outW << 2) as usize;
  for (let f = 0; f < F; f++) {
    const vb = f32x4.splat(bias === 0 ? 0 : load<f32>(bias + ((f << 2) as usize)));
    for (let th = th0; th < th1; th++) {
      const rows = min(4, outH - 4 * th);
      const src = m + (((f * ld + (th - th0) * tilesW) << 2) as usize);
      const dst = y + (((f * outH + 4 * th) * outW) << 2);
      for (let tw = 0; tw < tilesW; tw += 4) {
        const n = min(4, tilesW - tw);
        // Columns of the last of the n tiles inside the output.
        const cols = min(4, outW - 4 * (tw + n - 1));
        const at0 = src + ((tw << 2) as usize);
        for (let j = 0; j < 6; j++) outputColumn(at0, planeBytes, j, n);
        const out = dst + ((tw << 4) as usize);
        for (let i = 0; i < rows; i++) {
          outputRow(at0, planeBytes, i, vb, out + (i as usize) * rowBytes, n, cols);
        }
      }
    }
  }
}
