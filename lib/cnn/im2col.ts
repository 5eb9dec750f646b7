// im2col and col2im: the change of layout that turns a convolution into one matrix product.
// Column p = oh·outW + ow of `cols` holds the receptive field of output pixel (oh, ow), one row
// per (c, i, j), so out[f, p] = Σ_r w[f, r] · cols[r, p]; col2im is its adjoint (a scatter-add).
// The matrix holds every input pixel kH·kW times (nine times the image for a 3×3 conv), so fast
// libraries never build it whole: the WebAssembly tier copies each block of it into the GEMM's
// packed panels straight from the image, as the product needs them (assembly/conv.ts,
// im2colBlock; assembly/gemm.ts, packBIm2col), the same floats in the same order.
import { type FloatArray, type Tensor } from '../core/index.js';
import { type ConvGeometry } from './geometry.js';

// The range of ow whose input column ow·strideW − padLeft + j·dilationW lies inside [0, W).
function validRange(
  out: number,
  stride: number,
  padBefore: number,
  tap: number,
  size: number,
): [number, number] {
  const lo = Math.min(out, Math.max(0, Math.ceil((padBefore - tap) / stride)));
  const hi = Math.min(out, Math.floor((size - 1 + padBefore - tap) / stride) + 1);
  return [lo, Math.max(lo, hi)];
}

/**
 * cols[(c·kH + i)·kW + j, oh·outW + ow] ← x[n, c, oh·strideH − padTop + i·dilationH,
 * ow·strideW − padLeft + j·dilationW] (0 in the padding), for one image n of x `[N, C, H, W]`.
 * cols is a row-major `[C·kH·kW, outH·outW]` matrix at the start of `cols`; with a row length
 * `ld` and a column offset, the image's block sits beside others in a wider matrix.
 */
export function im2col(
  cols: FloatArray,
  x: Tensor,
  n: number,
  geom: ConvGeometry,
  ld = geom.outH * geom.outW,
  colOffset = 0,
): void {
  const { C, H, W, kH, kW, outH, outW, strideH, strideW, padTop, padLeft } = geom;
  const { dilationH, dilationW } = geom;
  const xd = x.data;
  const [, sC, sH, sW] = x.stride as [number, number, number, number];
  const xn = x.offset + n * x.stride[0]!;
  let r = 0;
  for (let c = 0; c < C; c++) {
    for (let i = 0; i < kH; i++) {
      for (let j = 0; j < kW; j++, r++) {
        let p = r * ld + colOffset;
        const [owLo, owHi] = validRange(outW, strideW, padLeft, j * dilationW, W);
        const colStart = xn + c * sC + (owLo * strideW - padLeft + j * dilationW) * sW;
        const colStep = strideW * sW;
        for (let oh = 0; oh < outH; oh++) {
          const h = oh * strideH - padTop + i * dilationH;
          if (h < 0 || h >= H) {
            for (let ow = 0; ow < outW; ow++) cols[p++] = 0;
            continue;
          }
          for (let ow = 0; ow < owLo; ow++) cols[p++] = 0;
          let q = colStart + h * sH;
          for (let ow = owLo; ow < owHi; ow++, q += colStep) cols[p++] = xd[q]!;
          for (let ow = owHi; ow < outW; ow++) cols[p++] = 0;
        }
      }
    }
  }
}

/**
 * The adjoint of im2col for one image: dx[n] ← 0, then every entry of cols is added back to the
 * input pixel it was copied from (pixels in several receptive fields collect several terms).
 * @param dx shape [N, C, H, W] (image n is overwritten); ld and colOffset as in im2col
 */
export function col2im(
  dx: Tensor,
  n: number,
  cols: FloatArray,
  geom: ConvGeometry,
  ld = geom.outH * geom.outW,
  colOffset = 0,
): void {
  const { C, H, W, kH, kW, outH, outW, strideH, strideW, padTop, padLeft } = geom;
  const { dilationH, dilationW } = geom;
  const dd = dx.data;
  const [, sC, sH, sW] = dx.stride as [number, number, number, number];
  const dn = dx.offset + n * dx.stride[0]!;
  for (let c = 0; c < C; c++) {
    for (let h = 0; h < H; h++) {
      let q = dn + c * sC + h * sH;
      for (let v = 0; v < W; v++, q += sW) dd[q] = 0;
    }
  }
  let r = 0;
  for (let c = 0; c < C; c++) {
    for (let i = 0; i < kH; i++) {
      for (let j = 0; j < kW; j++, r++) {
        const [owLo, owHi] = validRange(outW, strideW, padLeft, j * dilationW, W);
        const colStart = dn + c * sC + (owLo * strideW - padLeft + j * dilationW) * sW;
        const colStep = strideW * sW;
        for (let oh = 0; oh < outH; oh++) {
          const h = oh * strideH - padTop + i * dilationH;
          if (h < 0 || h >= H) continue;
          let q = colStart + h * sH;
          let p = r * ld + colOffset + oh * outW + owLo;
          for (let ow = owLo; ow < owHi; ow++, q += colStep) dd[q] += cols[p++]!;
        }
      }
    }
  }
}
