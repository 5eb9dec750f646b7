// The reference convolution: three loops nests that read like the equations, element by element
// through .get/.set. Slow on purpose; the fast kernels in conv2d.ts are tested equal to these.
// Convolution here is cross-correlation (no kernel flip), as in Caffe, ONNX and PyTorch.
import { type Tensor } from '../core/index.js';
import { type ConvGeometry } from './geometry.js';
import { checkConvShapes } from './conv2d-shapes.js';

/**
 * Naive conv forward: out[n,f,oh,ow] = b[f] + Σ_c Σ_i Σ_j w[f,c,i,j] ·
 * x[n, c, oh·strideH − padTop + i·dilationH, ow·strideW − padLeft + j·dilationW] (zero outside x).
 * @param out output, shape [N, F, outH, outW] (overwritten)
 * @param x input, shape [N, C, H, W]; @param w weights, shape [F, C, kH, kW]; @param b bias [F] or null
 */
export function conv2dNaiveForward(
  out: Tensor,
  x: Tensor,
  w: Tensor,
  b: Tensor | null,
  geom: ConvGeometry,
): Tensor {
  checkConvShapes(geom, { out, x, w, b });
  const { N, C, H, W, F, kH, kW, outH, outW } = geom;
  for (let n = 0; n < N; n++) {
    for (let f = 0; f < F; f++) {
      for (let oh = 0; oh < outH; oh++) {
        for (let ow = 0; ow < outW; ow++) {
          let s = b === null ? 0 : b.get(f);
          for (let c = 0; c < C; c++) {
            for (let i = 0; i < kH; i++) {
              const h = oh * geom.strideH - geom.padTop + i * geom.dilationH;
              if (h < 0 || h >= H) continue; // zero padding contributes nothing
              for (let j = 0; j < kW; j++) {
                const v = ow * geom.strideW - geom.padLeft + j * geom.dilationW;
                if (v < 0 || v >= W) continue;
                s += w.get(f, c, i, j) * x.get(n, c, h, v);
              }
            }
          }
          out.set(n, f, oh, ow, s);
        }
      }
    }
  }
  return out;
}

/**
 * Naive conv backward to the input (overwrites dx). Each input pixel collects the error of every
 * output it fed, which is the tutorial's "error map, spread by the stride, convolved with the
 * 180°-flipped filter": dx[n,c,h,v] = Σ_f Σ_i Σ_j w[f,c,i,j] · dy[n,f,oh,ow] where
 * oh = (h + padTop − i·dilationH) / strideH and ow likewise, when both are whole and in range.
 * @param dx shape [N, C, H, W]; @param dy shape [N, F, outH, outW]; @param w shape [F, C, kH, kW]
 */
export function conv2dNaiveBackwardInput(
  dx: Tensor,
  dy: Tensor,
  w: Tensor,
  geom: ConvGeometry,
): Tensor {
  checkConvShapes(geom, { x: dx, out: dy, w });
  const { N, C, H, W, F, kH, kW, outH, outW, strideH, strideW } = geom;
  for (let n = 0; n < N; n++) {
    for (let c = 0; c < C; c++) {
      for (let h = 0; h < H; h++) {
        for (let v = 0; v < W; v++) {
          let s = 0;
          for (let f = 0; f < F; f++) {
            for (let i = 0; i < kH; i++) {
              const th = h + geom.padTop - i * geom.dilationH;
              // Only outputs on the stride grid exist; the spread error map is zero elsewhere.
              if (th < 0 || th % strideH !== 0 || th / strideH >= outH) continue;
              for (let j = 0; j < kW; j++) {
                const tw = v + geom.padLeft - j * geom.dilationW;
                if (tw < 0 || tw % strideW !== 0 || tw / strideW >= outW) continue;
                s += w.get(f, c, i, j) * dy.get(n, f, th / strideH, tw / strideW);
              }
            }
          }
          dx.set(n, c, h, v, s);
        }
      }
    }
  }
  return dx;
}

/**
 * Naive conv backward to the weights and bias; ACCUMULATES (dw += …, db += …), like gemm with
 * beta = 1, so mini-batches and shared weights add up:
 *   dw[f,c,i,j] += Σ_n Σ_oh Σ_ow dy[n,f,oh,ow] · x[n, c, oh·strideH − padTop + i·dilationH, …],
 *   db[f] += Σ_n Σ_oh Σ_ow dy[n,f,oh,ow].
 * @param dw shape [F, C, kH, kW]; @param db shape [F] or null; @param dy [N, F, outH, outW]; @param x [N, C, H, W]
 */
export function conv2dNaiveBackwardWeights(
  dw: Tensor,
  db: Tensor | null,
  dy: Tensor,
  x: Tensor,
  geom: ConvGeometry,
): Tensor {
  checkConvShapes(geom, { out: dy, x, w: dw, b: db });
  const { N, C, H, W, F, kH, kW, outH, outW } = geom;
  for (let f = 0; f < F; f++) {
    for (let c = 0; c < C; c++) {
      for (let i = 0; i < kH; i++) {
        for (let j = 0; j < kW; j++) {
          let s = 0;
          for (let n = 0; n < N; n++) {
            for (let oh = 0; oh < outH; oh++) {
              const h = oh * geom.strideH - geom.padTop + i * geom.dilationH;
              if (h < 0 || h >= H) continue;
              for (let ow = 0; ow < outW; ow++) {
                const v = ow * geom.strideW - geom.padLeft + j * geom.dilationW;
                if (v < 0 || v >= W) continue;
                s += dy.get(n, f, oh, ow) * x.get(n, c, h, v);
              }
            }
          }
          dw.set(f, c, i, j, dw.get(f, c, i, j) + s);
        }
      }
    }
    if (db !== null) {
      let s = 0;
      for (let n = 0; n < N; n++) {
        for (let oh = 0; oh < outH; oh++) {
          for (let ow = 0; ow < outW; ow++) s += dy.get(n, f, oh, ow);
        }
      }
      db.set(f, db.get(f) + s);
    }
  }
  return dw;
}
