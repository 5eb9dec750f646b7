// The three transforms of Winograd's F(2×2, 3×3) (lib/cnn/winograd.ts is the readable reference,
// after Lavin & Gray 2015, eq. 8: Y = Aᵀ[(G g Gᵀ) ⊙ (Bᵀ d B)]A) for float32 inside the kernel's
// memory, compiled into the same module as the GEMM that multiplies their results (one product
// per tile position ξ, see lib/cnn/conv2d-winograd-wasm.ts). The input and output transforms run
// on four neighbouring tiles at once, one tile per f32x4 lane: the tiles of a row start 2 floats
// apart, so two loads and a shuffle give one patch column for all four. Leftover tiles at the
// end of a row (and the partial tiles of an odd output) go one at a time. Every transform matrix
// has entries 0, ±1 (and ½ in G), so each is a handful of adds, written out below.

import { gemmPacked } from './gemm';
import { winograd4Inputs, winograd4Outputs } from './winograd4';

// ---- filter transform U = G g Gᵀ, G = [1 0 0; ½ ½ ½; ½ −½ ½; 0 0 1] ----

// Row r of (G g) Gᵀ from row r (t0, t1, t2) of G g: (t0, ½(t0 + t1 + t2), ½(t0 − t1 + t2), t2),
// into planes 4r … 4r + 3 from byte `at`.
function storeFilterRow(at: usize, plane: usize, t0: f32, t1: f32, t2: f32): void {
  store<f32>(at, t0);
  store<f32>(at + plane, 0.5 * (t0 + t1 + t2));
  store<f32>(at + 2 * plane, 0.5 * (t0 - t1 + t2));
  store<f32>(at + 3 * plane, t2);
}

// storeFilterRow for four filters of consecutive input channels, one per lane.
function storeFilterRows(at: usize, plane: usize, t0: v128, t1: v128, t2: v128): void {
  const half = f32x4.splat(0.5);
  v128.store(at, t0);
  v128.store(at + plane, f32x4.mul(half, f32x4.add(f32x4.add(t0, t1), t2)));
  v128.store(at + 2 * plane, f32x4.mul(half, f32x4.add(f32x4.sub(t0, t1), t2)));
  v128.store(at + 3 * plane, t2);
}

// The floats at p, p + step, p + 2·step, p + 3·step (bytes) as one f32x4.
function gather4(p: usize, step: usize): v128 {
  let v = f32x4.splat(load<f32>(p));
  v = f32x4.replace_lane(v, 1, load<f32>(p + step));
  v = f32x4.replace_lane(v, 2, load<f32>(p + 2 * step));
  return f32x4.replace_lane(v, 3, load<f32>(p + 3 * step));
}

/**
 * U[ξ][o][i] ← (G · g · Gᵀ)[ξ] for O × I filters g; tap (a, b) of filter (o, i) is the float at
 * w + 4·(o·so + i·si + a·sa + b·sb) (strides in floats, may be negative: a rotated view). U is 16
 * row-major O × I planes from byte u, `plane` floats apart.
 */
export function winogradFilters(
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
  const row = (4 * plane) as usize;
  // Byte steps to tap rows 1, 2 and tap columns 1, 2 (wrapping arithmetic handles negatives).
  const a1 = (sa << 2) as usize;
  const a2 = (sa << 3) as usize;
  const b1 = (sb << 2) as usize;
  const b2 = (sb << 3) as usize;
  const half = f32x4.splat(0.5);
  const step = (si << 2) as usize;
  for (let o = 0; o < O; o++) {
    let i = 0;
    // Four input channels at once, one filter per f32x4 lane: the adds below, lane by lane (so
    // the same bits), with one vector store per plane instead of four scalar ones; the scalar
    // loop took 3.1–3.9 ms for 512 × 512 filters, its 16 scattered stores per filter the cost.
    for (; i + 4 <= I; i += 4) {
      const g = w + (((o * so + i * si) << 2) as usize);
      const g00 = gather4(g, step);
      const g01 = gather4(g + b1, step);
      const g02 = gather4(g + b2, step);
      const g10 = gather4(g + a1, step);
      const g11 = gather4(g + a1 + b1, step);
      const g12 = gather4(g + a1 + b2, step);
      const g20 = gather4(g + a2, step);
      const g21 = gather4(g + a2 + b1, step);
      const g22 = gather4(g + a2 + b2, step);
      const at = u + (((o * I + i) << 2) as usize);
      storeFilterRows(at, planeBytes, g00, g01, g02);
      storeFilterRows(
        at + 4 * row,
        planeBytes,
        f32x4.mul(half, f32x4.add(f32x4.add(g00, g10), g20)),
        f32x4.mul(half, f32x4.add(f32x4.add(g01, g11), g21)),
        f32x4.mul(half, f32x4.add(f32x4.add(g02, g12), g22)),
      );
      storeFilterRows(
        at + 8 * row,
        planeBytes,
        f32x4.mul(half, f32x4.add(f32x4.sub(g00, g10), g20)),
        f32x4.mul(half, f32x4.add(f32x4.sub(g01, g11), g21)),
        f32x4.mul(half, f32x4.add(f32x4.sub(g02, g12), g22)),
      );
      storeFilterRows(at + 12 * row, planeBytes, g20, g21, g22);
    }
    for (; i < I; i++) {
      const g = w + (((o * so + i * si) << 2) as usize);
      const g00 = load<f32>(g);
      const g01 = load<f32>(g + b1);
      const g02 = load<f32>(g + b2);
      const g10 = load<f32>(g + a1);
      const g11 = load<f32>(g + a1 + b1);
      const g12 = load<f32>(g + a1 + b2);
      const g20 = load<f32>(g + a2);
      const g21 = load<f32>(g + a2 + b1);
      const g22 = load<f32>(g + a2 + b2);
      // Rows of G g: g row 0, ½(row 0 + row 1 + row 2), ½(row 0 − row 1 + row 2), row 2.
      const at = u + (((o * I + i) << 2) as usize);
      storeFilterRow(at, planeBytes, g00, g01, g02);
      storeFilterRow(
        at + 4 * row,
        planeBytes,
        0.5 * (g00 + g10 + g20),
        0.5 * (g01 + g11 + g21),
        0.5 * (g02 + g12 + g22),
      );
      storeFilterRow(
        at + 8 * row,
        planeBytes,
        0.5 * (g00 - g10 + g20),
        0.5 * (g01 - g11 + g21),
        0.5 * (g02 - g12 + g22),
      );
      storeFilterRow(at + 12 * row, planeBytes, g20, g21, g22);
    }
  }
}

/**
 * The zero-padded copy p [C, Hp, Wp] of one image x [C, H, W]: p[c, h′, v′] = x[c, h′ − padTop,
 * v′ − padLeft], 0 outside x (a negative pad crops).
 */
export function winogradPad(
  x: usize,
  C: i32,
  H: i32,
  W: i32,
  p: usize,
  Hp: i32,
  Wp: i32,
  padTop: i32,
  padLeft: i32,
): void {
  const hLo = max(0, -padTop);
  const hHi = min(H, Hp - padTop);
  const vLo = max(0, -padLeft);
  const vHi = max(vLo, min(W, Wp - padLeft));
  const rowBytes = (Wp << 2) as usize;
  for (let c = 0; c < C; c++) {
    const src = x + ((c * H * W) << 2);
    const dst = p + ((c * Hp * Wp) << 2);
    // Rows above and below x, then each row: its left border, x's row, its right border.
    memory.fill(dst, 0, ((hLo + padTop) as usize) * rowBytes);
    for (let h = hLo; h < hHi; h++) {
      const row = dst + (((h + padTop) * Wp) << 2);
      const left = vLo + padLeft;
      memory.fill(row, 0, (left << 2) as usize);
      memory.copy(
        row + ((left << 2) as usize),
        src + (((h * W + vLo) << 2) as usize),
        ((vHi - vLo) << 2) as usize,
      );
      memory.fill(
        row + (((left + vHi - vLo) << 2) as usize),
        0,
        ((Wp - left - (vHi - vLo)) << 2) as usize,
      );
    }
    const below = max(hLo, hHi) + padTop;
    memory.fill(dst + (below as usize) * rowBytes, 0, ((Hp - below) as usize) * rowBytes);
  }
}

// ---- input transform V = Bᵀ d B, Bᵀ = [1 0 −1 0; 0 1 1 0; 0 −1 1 0; 0 1 0 −1] ----

// Patch column j (0 … 3) of four neighbouring tiles whose patch row starts at byte `row`: the
// floats row[j], row[j + 2], row[j + 4], row[j + 6].
function quad(row: usize, j: i32): v128 {
  const lo = v128.load(row + (((j & 2) << 2) as usize));
  const hi = v128.load(row + (((j & 2) << 2) as usize), 16);
  return (j & 1) === 0
    ? v128.shuffle<f32>(lo, hi, 0, 2, 4, 6)
    : v128.shuffle<f32>(lo, hi, 1, 3, 5, 7);
}

// Row i of V = (Bᵀ d) B from row i of Bᵀ d: (t0 − t2, t1 + t2, t2 − t1, t1 − t3) into planes
// 4i … 4i + 3.
function storeInputRow(
  v: usize,
  plane: usize,
  i: i32,
  t0: v128,
  t1: v128,
  t2: v128,
  t3: v128,
): void {
  const at = v + ((4 * i) as usize) * plane;
  v128.store(at, f32x4.sub(t0, t2));
  v128.store(at + plane, f32x4.add(t1, t2));
  v128.store(at + 2 * plane, f32x4.sub(t2, t1));
  v128.store(at + 3 * plane, f32x4.sub(t1, t3));
}

// One row of (Bᵀ d) B for a single tile, in scalars: row i of Bᵀ d is patch row a + sign·(row b),
// then times B as in storeInputRow.
function inputRow(a: usize, b: usize, sign: f32, at: usize, plane: usize): void {
  const t0 = load<f32>(a) + sign * load<f32>(b);
  const t1 = load<f32>(a, 4) + sign * load<f32>(b, 4);
  const t2 = load<f32>(a, 8) + sign * load<f32>(b, 8);
  const t3 = load<f32>(a, 12) + sign * load<f32>(b, 12);
  store<f32>(at, t0 - t2);
  store<f32>(at + plane, t1 + t2);
  store<f32>(at + 2 * plane, t2 - t1);
  store<f32>(at + 3 * plane, t1 - t3);
}

// One tile: rows d0 − d2, d1 + d2, d2 − d1, d1 − d3 of Bᵀ d, each times B.
function inputTile(p: usize, rowBytes: usize, v: usize, plane: usize): void {
  const d0 = p;
  const d1 = p + rowBytes;
  const d2 = d1 + rowBytes;
  const d3 = d2 + rowBytes;
  inputRow(d0, d2, -1, v, plane);
  inputRow(d1, d2, 1, v + 4 * plane, plane);
  inputRow(d2, d1, -1, v + 8 * plane, plane);
  inputRow(d1, d3, -1, v + 12 * plane, plane);
}

/**
 * V[ξ][c][t] ← (Bᵀ d B)[ξ] for the tiles of tile rows th0 … th1 − 1 of one zero-padded image
 * p [C, Hp, Wp] (tile (th, tw) reads rows 2th … 2th + 3, columns 2tw … 2tw + 3), with
 * t = (th − th0)·tilesW + tw. V's planes are `plane` floats apart, its rows `ld` floats long.
 */
export function winogradInputs(
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
      const patch = p + (((c * Hp + 2 * th) * Wp) << 2);
      const out = v + (((c * ld + (th - th0) * tilesW) << 2) as usize);
      let tw = 0;
      for (; tw + 4 <= tilesW; tw += 4) {
        const r0 = patch + ((tw << 3) as usize);
        const r1 = r0 + rowBytes;
        const r2 = r1 + rowBytes;
        const r3 = r2 + rowBytes;
        // Bᵀ d, column by column: rows (d0 − d2, d1 + d2, d2 − d1, d1 − d3).
        let d0 = quad(r0, 0);
        let d1 = quad(r1, 0);
        let d2 = quad(r2, 0);
        let d3 = quad(r3, 0);
        const t00 = f32x4.sub(d0, d2);
        const t10 = f32x4.add(d1, d2);
        const t20 = f32x4.sub(d2, d1);
        const t30 = f32x4.sub(d1, d3);
        d0 = quad(r0, 1);
        d1 = quad(r1, 1);
        d2 = quad(r2, 1);
        d3 = quad(r3, 1);
        const t01 = f32x4.sub(d0, d2);
        const t11 = f32x4.add(d1, d2);
        const t21 = f32x4.sub(d2, d1);
        const t31 = f32x4.sub(d1, d3);
        d0 = quad(r0, 2);
        d1 = quad(r1, 2);
        d2 = quad(r2, 2);
        d3 = quad(r3, 2);
        const t02 = f32x4.sub(d0, d2);
        const t12 = f32x4.add(d1, d2);
        const t22 = f32x4.sub(d2, d1);
        const t32 = f32x4.sub(d1, d3);
        d0 = quad(r0, 3);
        d1 = quad(r1, 3);
        d2 = quad(r2, 3);
        d3 = quad(r3, 3);
        const t03 = f32x4.sub(d0, d2);
        const t13 = f32x4.add(d1, d2);
        const t23 = f32x4.sub(d2, d1);
        const t33 = f32x4.sub(d1, d3);
        const at = out + ((tw << 2) as usize);
        storeInputRow(at, planeBytes, 0, t00, t01, t02, t03);
        storeInputRow(at, planeBytes, 1, t10, t11, t12, t13);
        storeInputRow(at, planeBytes, 2, t20, t21, t22, t23);
        storeInputRow(at, planeBytes, 3, t30, t31, t32, t33);
      }
      for (; tw < tilesW; tw++) {
        inputTile(patch + ((tw << 3) as usize), rowBytes, out + ((tw << 2) as usize), planeBytes);
      }
    }
  }
}

// ---- output transform Y = Aᵀ m A, Aᵀ = [1 1 1 0; 0 1 −1 −1] ----

// Row i of Aᵀ m from the four vectors m[0][j] … m[3][j] read at `m` for column j:
// (m0 + m1 + m2) for i = 0, (m1 − m2 − m3) for i = 1.
function atm(m: usize, plane: usize, j: i32, i: i32): v128 {
  const m0 = v128.load(m + (j as usize) * plane);
  const m1 = v128.load(m + ((4 + j) as usize) * plane);
  const m2 = v128.load(m + ((8 + j) as usize) * plane);
  const m3 = v128.load(m + ((12 + j) as usize) * plane);
  return i === 0 ? f32x4.add(f32x4.add(m0, m1), m2) : f32x4.sub(f32x4.sub(m1, m2), m3);
}

// One entry of row i of Aᵀ m for a single tile (column j), in scalars, as atm.
function atmScalar(m: usize, plane: usize, j: i32, i: i32): f32 {
  const m0 = load<f32>(m + (j as usize) * plane);
  const m1 = load<f32>(m + ((4 + j) as usize) * plane);
  const m2 = load<f32>(m + ((8 + j) as usize) * plane);
  const m3 = load<f32>(m + ((12 + j) as usize) * plane);
  return i === 0 ? m0 + m1 + m2 : m1 - m2 - m3;
}

// One tile, storing only its outputs inside the first `rows` rows and `cols` columns (1 or 2).
function outputTile(
  m: usize,
  plane: usize,
  bias: f32,
  y: usize,
  rowBytes: usize,
  rows: i32,
  cols: i32,
): void {
  for (let i = 0; i < rows; i++) {
    const s0 = atmScalar(m, plane, 0, i);
    const s1 = atmScalar(m, plane, 1, i);
    const s2 = atmScalar(m, plane, 2, i);
    const s3 = atmScalar(m, plane, 3, i);
    const row = y + (i as usize) * rowBytes;
    store<f32>(row, s0 + s1 + s2 + bias);
    if (cols > 1) store<f32>(row, s1 - s2 - s3 + bias, 4);
  }
}

/**
 * y[f, 2th + i, 2tw + j] ← (Aᵀ m A)[i][j] + bias[f] for tile rows th0 … th1 − 1 of one image,
 * m[ξ] = M[ξ][f][t], t = (th − th0)·tilesW + tw (planes `plane` floats apart, rows `ld` long);
 * y is [F, outH, outW] from byte y. `bias` is the byte address of F floats, or 0 for none.
 */
export function winogradOutputs(
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
    const bf: f32 = bias === 0 ? 0 : load<f32>(bias + ((f << 2) as usize));
    const vb = f32x4.splat(bf);
    for (let th = th0; th < th1; th++) {
      const rows = min(2, outH - 2 * th);
      const src = m + (((f * ld + (th - th0) * tilesW) << 2) as usize);
      const dst = y + (((f * outH + 2 * th) * outW) << 2);
      let tw = 0;
      // Four whole tiles side by side: 8 output columns of one or two rows.
      for (; 2 * (tw + 4) <= outW; tw += 4) {
        const at = src + ((tw << 2) as usize);
        const s00 = atm(at, planeBytes, 0, 0);
        const s01 = atm(at, planeBytes, 1, 0);
        const s02 = atm(at, planeBytes, 2, 0);
        const s03 = atm(at, planeBytes, 3, 0);
        // (Aᵀ m) A, row 0: (s0 + s1 + s2, s1 − s2 − s3), interleaved tile by tile.
        const y00 = f32x4.add(f32x4.add(f32x4.add(s00, s01), s02), vb);
        const y01 = f32x4.add(f32x4.sub(f32x4.sub(s01, s02), s03), vb);
        const out = dst + ((tw << 3) as usize);
        v128.store(out, v128.shuffle<f32>(y00, y01, 0, 4, 1, 5));
        v128.store(out, v128.shuffle<f32>(y00, y01, 2, 6, 3, 7), 16);
        if (rows < 2) continue;
        const s10 = atm(at, planeBytes, 0, 1);
        const s11 = atm(at, planeBytes, 1, 1);
        const s12 = atm(at, planeBytes, 2, 1);
        const s13 = atm(at, planeBytes, 3, 1);
        const y10 = f32x4.add(f32x4.add(f32x4.add(s10, s11), s12), vb);
        const y11 = f32x4.add(f32x4.sub(f32x4.sub(s11, s12), s13), vb);
        v128.store(out + rowBytes, v128.shuffle<f32>(y10, y11, 0, 4, 1, 5));
        v128.store(out + rowBytes, v128.shuffle<f32>(y10, y11, 2, 6, 3, 7), 16);
      }
      for (; tw < tilesW; tw++) {
        const cols = min(2, outW - 2 * tw);
        outputTile(
          src + ((tw << 2) as usize),
          planeBytes,
          bf,
          dst + ((tw << 3) as usize),
          rowBytes,
          rows,
          cols,
        );
      }
    }
  }
}

// ---- all three steps per band of tiles, while V and M are still in cache ----

// Floats between planes of a band's V or M: one cache line more than they hold (see planeOf in
// lib/cnn/conv2d-winograd-wasm.ts: planes a power of two apart share cache sets).
function bandPlane(floats: i32): i32 {
  return floats + 16;
}

/**
 * Bands band0 … band0 + bands − 1 of one zero-padded image p [C, Hp, Wp], band b being tile rows
 * b·rowsPerBand … (capped at tilesH), each taken through all three steps before the next: V ←
 * its input transforms (winogradInputs), M[ξ] ← U[ξ]·V[ξ] for every ξ (gemmPacked, with U[ξ]
 * packed whole by packAPanels at byte u + ξ·uStep, F × C), y ← the output transforms of M plus
 * bias (winogradOutputs; y is [F, outH, outW]). `tile` is the scheme's output tile: 2 for
 * F(2×2, 3×3) (16 planes), 4 for F(4×4, 3×3) (36 planes, the transforms of winograd4.ts). V and
 * M are one band's worth at byte vm, reused band after band, so they stay in this core's L2
 * instead of travelling to memory and back between three separate passes; `scratch` is the
 * GEMM's (scratchBytes()).
 */
export function winogradBands(
  p: usize,
  C: i32,
  Hp: i32,
  Wp: i32,
  tilesH: i32,
  tilesW: i32,
  rowsPerBand: i32,
  u: usize,
  uStep: i32,
  F: i32,
  y: usize,
  outH: i32,
  outW: i32,
  bias: usize,
  tile: i32,
  band0: i32,
  bands: i32,
  vm: usize,
  scratch: usize,
): void {
  const planes = tile === 4 ? 36 : 16;
  for (let band = band0; band < band0 + bands; band++) {
    const th0 = band * rowsPerBand;
    const th1 = min(tilesH, th0 + rowsPerBand);
    const T = (th1 - th0) * tilesW;
    const planeV = bandPlane(C * T);
    const planeM = bandPlane(F * T);
    const v = vm;
    const m = vm + (((planes * planeV) << 2) as usize);
    if (tile === 4) winograd4Inputs(p, C, Hp, Wp, th0, th1, tilesW, v, T, planeV);
    else winogradInputs(p, C, Hp, Wp, th0, th1, tilesW, v, T, planeV);
    for (let xi = 0; xi < planes; xi++) {
      gemmPacked(
        F,
        T,
        C,
        1,
        0,
        0,
        0,
        u + ((xi * uStep) as usize),
        v + (((xi * planeV) << 2) as usize),
        T,
        1,
        0,
        0,
        m + (((xi * planeM) << 2) as usize),
        T,
        1,
        scratch,
        0,
      );
    }
    if (tile === 4) winograd4Outputs(m, F, th0, th1, tilesW, T, planeM, y, outH, outW, bias);
    else winogradOutputs(m, F, th0, th1, tilesW, T, planeM, y, outH, outW, bias);
  }
}
