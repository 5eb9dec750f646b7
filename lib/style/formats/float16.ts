// Half-precision conversions: IEEE 754 binary16 ("F16", ONNX FLOAT16) and bfloat16 ("BF16", ONNX
// BFLOAT16) to and from float32. Weight files store these to halve their size; nnzero computes in
// float32, so readers widen them with one copy and writers round to nearest, ties to even.

/** Converts an IEEE 754 half (binary16) bit pattern to a number. */
export function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exponent = (h >> 10) & 0x1f;
  const mantissa = h & 0x3ff;
  if (exponent === 0) return sign * mantissa * 2 ** -24;
  if (exponent === 31) return mantissa ? NaN : sign * Infinity;
  return sign * (1 + mantissa / 1024) * 2 ** (exponent - 15);
}

const scratch = new Float32Array(1);
const scratchBits = new Uint32Array(scratch.buffer);

/** Rounds a number to the nearest binary16 bit pattern (ties to even; overflow to infinity). */
export function floatToHalf(v: number): number {
  scratch[0] = v;
  const x = scratchBits[0] as number;
  const sign = (x >>> 16) & 0x8000;
  const exponent = (x >>> 23) & 0xff;
  const mantissa = x & 0x7fffff;
  if (exponent === 0xff) return sign | 0x7c00 | (mantissa ? 0x200 : 0);
  const e = exponent - 127 + 15;
  if (e >= 31) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign;
    // Subnormal half: value = h · 2^-24, so shift the full 24-bit significand right by 14 − e.
    const full = mantissa | 0x800000;
    const shift = 14 - e;
    let h = full >>> shift;
    const rest = full & ((1 << shift) - 1);
    const halfway = 1 << (shift - 1);
    if (rest > halfway || (rest === halfway && h & 1)) h++;
    return sign | h;
  }
  let h = (e << 10) | (mantissa >>> 13);
  const rest = mantissa & 0x1fff;
  // A carry out of the mantissa bumps the exponent, which is exactly the right rounding.
  if (rest > 0x1000 || (rest === 0x1000 && h & 1)) h++;
  return sign | h;
}

/** Rounds a number to bfloat16 (the top 16 bits of float32, ties to even). */
export function floatToBfloat16(v: number): number {
  scratch[0] = v;
  const x = scratchBits[0] as number;
  if (Number.isNaN(v)) return ((x >>> 16) & 0x8000) | 0x7fc0;
  return ((x + 0x7fff + ((x >>> 16) & 1)) >>> 16) & 0xffff;
}

/** Widens little-endian binary16 values at bytes[start, start + byteLength) into a new Float32Array. */
export function float16ToFloat32(
  bytes: Uint8Array,
  start: number,
  byteLength: number,
): Float32Array {
  const count = byteLength >>> 1;
  const view = new DataView(bytes.buffer, bytes.byteOffset + start, count * 2);
  const out = new Float32Array(count);
  for (let i = 0; i < count; i++) out[i] = halfToFloat(view.getUint16(2 * i, true));
  return out;
}

/** Widens little-endian bfloat16 values into a new Float32Array (exact: bf16 is float32's top half). */
export function bfloat16ToFloat32(
  bytes: Uint8Array,
  start: number,
  byteLength: number,
): Float32Array {
  const count = byteLength >>> 1;
  const view = new DataView(bytes.buffer, bytes.byteOffset + start, count * 2);
  const out = new Float32Array(count);
  const bits = new Uint32Array(out.buffer);
  for (let i = 0; i < count; i++) bits[i] = view.getUint16(2 * i, true) << 16;
  return out;
}
