// ReLU and the sum that joins a tap's gradient to the chain, on resident arrays (lib/core/
// resident.ts): run by the WebAssembly kernel where the arrays lie (assembly/elementwise.ts),
// four floats per instruction, and split over the thread pool by blocks of floats. Arrays that
// are not resident are left to the caller's plain loops, which give the same bits.
import { channelPassStaged, residentAddress, type ChannelPass } from '../core/index.js';

// Floats per block the pool hands out (64 KiB): a VGG layer at 256 px has 4M floats, 256 blocks.
const BLOCK = 16384;

// `pass` over n floats: whole blocks first (split over the pool when it runs), then the rest as
// one short block. pointers[0] is the pass's argument 0, the others follow the block count.
function elementwise(pass: ChannelPass, pointers: readonly number[], n: number): void {
  const whole = Math.floor(n / BLOCK);
  const call = (at: readonly number[], count: number, block: number): number[] => [
    at[0]!,
    count,
    ...at.slice(1),
    block,
  ];
  if (whole > 0) {
    const steps = call(
      pointers.map(() => BLOCK * 4),
      0,
      0,
    );
    channelPassStaged(pass, call(pointers, whole, BLOCK), steps, whole * BLOCK * pointers.length);
  }
  const rest = n - whole * BLOCK;
  if (rest > 0) {
    const at = pointers.map((p) => p + whole * BLOCK * 4);
    channelPassStaged(
      pass,
      call(at, 1, rest),
      call(
        at.map(() => 0),
        0,
        0,
      ),
      rest,
    );
  }
}

// Byte addresses of the arrays when all are resident and of length n, else null.
function addresses(n: number, ...arrays: ArrayLike<number>[]): number[] | null {
  const at: number[] = [];
  for (const a of arrays) {
    const p = a.length === n ? residentAddress(a, 0) : null;
    if (p === null) return null;
    at.push(p);
  }
  return at;
}

/** y ← max(0, x) on the kernel if both arrays are resident (same length); false if not (nothing done). */
export function reluForwardResident(y: ArrayLike<number>, x: ArrayLike<number>): boolean {
  const at = addresses(y.length, x, y);
  if (at === null) return false;
  elementwise('reluForward', at, y.length);
  return true;
}

/** dx ← dy·[y > 0] on the kernel if all three are resident (same length); false if not. */
export function reluBackwardResident(
  dx: ArrayLike<number>,
  dy: ArrayLike<number>,
  y: ArrayLike<number>,
): boolean {
  const at = addresses(dx.length, dy, y, dx);
  if (at === null) return false;
  elementwise('reluBackward', at, dx.length);
  return true;
}

/** d ← d + t on the kernel if both are resident (same length); false if not. */
export function addIntoResident(d: ArrayLike<number>, t: ArrayLike<number>): boolean {
  const at = addresses(d.length, d, t);
  if (at === null) return false;
  elementwise('addInto', at, d.length);
  return true;
}
