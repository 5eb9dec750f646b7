// Entry checks shared by the naive and fast conv kernels: every tensor must match the geometry,
// and a mismatch names both shapes (the one given and the one the geometry requires).
import { assertShape, type Tensor } from '../core/index.js';
import { type ConvGeometry } from './geometry.js';

/** The tensors of one conv call; any may be omitted. */
interface ConvTensors {
  out?: Tensor;
  x?: Tensor;
  w?: Tensor;
  b?: Tensor | null;
}

/** Throw a ShapeError unless each given tensor has the shape the geometry implies. */
export function checkConvShapes(geom: ConvGeometry, t: ConvTensors): void {
  const { N, C, H, W, F, kH, kW, outH, outW } = geom;
  if (t.x) assertShape(t.x, [N, C, H, W], 'conv2d input [N, C, H, W]');
  if (t.w) assertShape(t.w, [F, C, kH, kW], 'conv2d weights [F, C, kH, kW]');
  if (t.b) assertShape(t.b, [F], 'conv2d bias [F]');
  if (t.out) assertShape(t.out, [N, F, outH, outW], 'conv2d output [N, F, outH, outW]');
}
