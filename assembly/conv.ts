// im2col and col2im (lib/cnn/im2col.ts) for float32 inside the kernel's memory, compiled into the
// same module as the GEMM (assembly/gemm.ts) so the column matrix they build is the GEMM's operand
// as it lies, and the pool's threads read it without a copy. Images are contiguous [C, H, W]; the
// column matrix is row-major with row length `ld`. Stride-1 rows of a receptive field are
// contiguous runs, copied (or added) four lanes at a time; the padding is zero fill.

// The first ow whose input column ow·stride − padBefore + tap is ≥ 0, at most `out`.
function validLo(out: i32, stride: i32, padBefore: i32, tap: i32): i32 {
  const before = padBefore - tap;
  return before <= 0 ? 0 : min(out, (before + stride - 1) / stride);
}

// One past the last ow whose input column lies inside [0, size), at least `lo`. Integer division
// truncates toward zero, so a negative numerator (no valid column) is handled before dividing.
function validHi(out: i32, stride: i32, padBefore: i32, tap: i32, size: i32, lo: i32): i32 {
  const last = size - 1 + padBefore - tap;
  return last < 0 ? lo : max(lo, min(out, last / stride + 1));
}

// n floats of zeros at p; short runs (the one-pixel borders of a padded conv) by hand, since a
// memory.fill call costs more than a few stores.
function zero(p: usize, n: i32): void {
  if (n < 8) {
    for (let k = 0; k < n; k++) store<f32>(p + ((k << 2) as usize), 0);
  } else {
    memory.fill(p, 0, (n << 2) as usize);
  }
}

// dst[k] ← src[k·step] for k < n (step in floats); step 1 moves four lanes at a time.
function gather(dst: usize, src: usize, n: i32, step: i32): void {
  let k = 0;
  if (step === 1) {
    for (; k + 4 <= n; k += 4) {
      v128.store(dst + ((k << 2) as usize), v128.load(src + ((k << 2) as usize)));
    }
    for (; k < n; k++) store<f32>(dst + ((k << 2) as usize), load<f32>(src + ((k << 2) as usize)));
    return;
  }
  const stepBytes = (step << 2) as usize;
  for (; k < n; k++, src += stepBytes) store<f32>(dst + ((k << 2) as usize), load<f32>(src));
}

// dst[k·step] += src[k] for k < n, the adjoint of gather.
function scatterAdd(dst: usize, src: usize, n: i32, step: i32): void {
  let k = 0;
  if (step === 1) {
    for (; k + 4 <= n; k += 4) {
      const at = dst + ((k << 2) as usize);
      v128.store(at, f32x4.add(v128.load(at), v128.load(src + ((k << 2) as usize))));
    }
    for (; k < n; k++) {
      const at = dst + ((k << 2) as usize);
      store<f32>(at, load<f32>(at) + load<f32>(src + ((k << 2) as usize)));
    }
    return;
  }
  const stepBytes = (step << 2) as usize;
  for (; k < n; k++, dst += stepBytes) {
    store<f32>(dst, load<f32>(dst) + load<f32>(src + ((k << 2) as usize)));
  }
}

/**
 * cols[(c·kH + i)·kW + j, oh·outW + ow] ← x[c, oh·strideH − padTop + i·dilationH,
 * ow·strideW − padLeft + j·dilationW] (0 in the padding), for one contiguous image x [C, H, W];
 * cols (byte address of its first column) is row-major with row length ld floats.
 */
export function im2col(
  x: usize,
  C: i32,
  H: i32,
  W: i32,
  kH: i32,
  kW: i32,
  outH: i32,
  outW: i32,
  strideH: i32,
  strideW: i32,
  padTop: i32,
  padLeft: i32,
  dilationH: i32,
  dilationW: i32,
  cols: usize,
  ld: i32,
): void {
  let row = cols;
  for (let c = 0; c < C; c++) {
    const xc = x + (((c * H * W) << 2) as usize);
    for (let i = 0; i < kH; i++) {
      for (let j = 0; j < kW; j++) {
        // One image: the row's outH·outW columns never run into a next one (imageBytes 0).
        tapRow(
          row,
          xc,
          0,
          H,
          W,
          outH,
          outW,
          strideH,
          strideW,
          padTop,
          padLeft,
          i * dilationH,
          j * dilationW,
          0,
          0,
          outH * outW,
        );
        row += (ld << 2) as usize;
      }
    }
  }
}

/**
 * Rows k0 … k0 + rows − 1, columns l0 … l0 + n − 1 of a column matrix that is never built: the
 * block im2col would have written there, written at dst instead (row-major, row length ldDst).
 * The GEMM packs its B panels from such blocks (gemm.ts, packBIm2col), so a conv's columns
 * travel from the image to the packed panel through this core's cache, not through memory.
 * `desc` holds 16 i32 that describe the matrix, im2col's arguments with one change: x,
 * C, H, W, kH, kW, outH, outW, strideH, strideW, padTop, padLeft, dilationH, dilationW, the bytes
 * from one image to the next, ld. The matrix has ld = images · outH · outW columns, image n's
 * columns after image n − 1's; its rows past C·kH·kW are ones (the bias trick). Each value is
 * the one im2col copies, so a product on these blocks has the bits of one on im2col's matrix.
 */
export function im2colBlock(
  desc: usize,
  k0: i32,
  rows: i32,
  l0: i32,
  n: i32,
  dst: usize,
  ldDst: i32,
): void {
  const x = load<i32>(desc) as usize;
  const C = load<i32>(desc, 4);
  const H = load<i32>(desc, 8);
  const W = load<i32>(desc, 12);
  const kH = load<i32>(desc, 16);
  const kW = load<i32>(desc, 20);
  const outH = load<i32>(desc, 24);
  const outW = load<i32>(desc, 28);
  const strideH = load<i32>(desc, 32);
  const strideW = load<i32>(desc, 36);
  const padTop = load<i32>(desc, 40);
  const padLeft = load<i32>(desc, 44);
  const dilationH = load<i32>(desc, 48);
  const dilationW = load<i32>(desc, 52);
  const imageBytes = load<i32>(desc, 56) as usize;
  const taps = C * kH * kW;
  const P = outH * outW;
  // Where column l0 lies: image, output row, output column.
  const image0 = l0 / P;
  const oh0 = (l0 - image0 * P) / outW;
  const ow0 = l0 - image0 * P - oh0 * outW;
  for (let r = 0; r < rows; r++) {
    const k = k0 + r;
    const p = dst + (((r * ldDst) << 2) as usize);
    if (k >= taps) {
      ones(p, n);
      continue;
    }
    // Row k = (c·kH + i)·kW + j: channel c, kernel row i, kernel column j.
    const c = k / (kH * kW);
    const i = (k - c * kH * kW) / kW;
    const j = k - (c * kH + i) * kW;
    const xc = x + (((c * H * W) << 2) as usize) + image0 * imageBytes;
    tapRow(
      p,
      xc,
      imageBytes,
      H,
      W,
      outH,
      outW,
      strideH,
      strideW,
      padTop,
      padLeft,
      i * dilationH,
      j * dilationW,
      oh0,
      ow0,
      n,
    );
  }
}

// Row (c, i, j) of the column matrix, n of its columns from output pixel (oh, ow) on, at byte p:
// x[c, oh·strideH − padTop + i·dilationH, ow·strideW − padLeft + j·dilationW], 0 in the padding,
// where xc is channel c's plane in the image of pixel (oh, ow), rowOffset = i·dilationH and tap
// = j·dilationW. Past the last output row the columns go on in the next image, imageBytes on.
// im2col writes whole rows with it, im2colBlock pieces of rows.
function tapRow(
  p: usize,
  xc: usize,
  imageBytes: usize,
  H: i32,
  W: i32,
  outH: i32,
  outW: i32,
  strideH: i32,
  strideW: i32,
  padTop: i32,
  padLeft: i32,
  rowOffset: i32,
  tap: i32,
  oh: i32,
  ow: i32,
  n: i32,
): void {
  // Output columns [lo, hi) of every output row read the image; the rest is padding.
  const lo = validLo(outW, strideW, padLeft, tap);
  const hi = validHi(outW, strideW, padLeft, tap, W, lo);
  // The columns in runs of one output row each: [ow, end) of row oh.
  for (let left = n; left > 0;) {
    const end = min(outW, ow + left);
    const h = oh * strideH - padTop + rowOffset;
    if (h < 0 || h >= H) {
      zero(p, end - ow);
    } else {
      // Valid columns [a, b) of the run. Runs can be short (a row of the output: 8 floats on
      // the MNIST net's second conv), so the padding and a stride-1 copy go inline: calls to
      // zero and gather cost more than such a copy.
      const a = min(max(lo, ow), end);
      const b = max(min(hi, end), a);
      for (let q = ow; q < a; q++) store<f32>(p + (((q - ow) << 2) as usize), 0);
      const from = xc + (((h * W + a * strideW - padLeft + tap) << 2) as usize);
      const to = p + (((a - ow) << 2) as usize);
      const m = b - a;
      if (strideW === 1) {
        let q = 0;
        for (; q + 4 <= m; q += 4) {
          v128.store(to + ((q << 2) as usize), v128.load(from + ((q << 2) as usize)));
        }
        for (; q < m; q++) {
          store<f32>(to + ((q << 2) as usize), load<f32>(from + ((q << 2) as usize)));
        }
      } else {
        gather(to, from, m, strideW);
      }
      for (let q = b; q < end; q++) store<f32>(p + (((q - ow) << 2) as usize), 0);
    }
    p += ((end - ow) << 2) as usize;
    left -= end - ow;
    ow = 0;
    if (++oh === outH) {
      oh = 0;
      xc += imageBytes;
    }
  }
}

// n floats of ones at p (the bias row of a column matrix).
function ones(p: usize, n: i32): void {
  let k = 0;
  for (; k + 4 <= n; k += 4) v128.store(p + ((k << 2) as usize), f32x4.splat(1));
  for (; k < n; k++) store<f32>(p + ((k << 2) as usize), 1);
}

/**
 * The adjoint of im2col for one contiguous image: dx [C, H, W] ← 0, then every entry of cols is
 * added to the pixel it was copied from, in the same order as lib/cnn/im2col.ts (so the float32
 * sums round identically).
 */
export function col2im(
  dx: usize,
  C: i32,
  H: i32,
  W: i32,
  kH: i32,
  kW: i32,
  outH: i32,
  outW: i32,
  strideH: i32,
  strideW: i32,
  padTop: i32,
  padLeft: i32,
  dilationH: i32,
  dilationW: i32,
  cols: usize,
  ld: i32,
): void {
  memory.fill(dx, 0, ((C * H * W) << 2) as usize);
  let row = cols;
  for (let c = 0; c < C; c++) {
    const dc = dx + (((c * H * W) << 2) as usize);
    for (let i = 0; i < kH; i++) {
      for (let j = 0; j < kW; j++) {
        const tap = j * dilationW;
        const lo = validLo(outW, strideW, padLeft, tap);
        const hi = validHi(outW, strideW, padLeft, tap, W, lo);
        const first = lo * strideW - padLeft + tap;
        for (let oh = 0; oh < outH; oh++) {
          const h = oh * strideH - padTop + i * dilationH;
          if (h < 0 || h >= H) continue;
          scatterAdd(
            dc + (((h * W + first) << 2) as usize),
            row + (((oh * outW + lo) << 2) as usize),
            hi - lo,
            strideW,
          );
        }
        row += (ld << 2) as usize;
      }
    }
  }
}
