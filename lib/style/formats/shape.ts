// Shape arithmetic shared by the format readers: every reader checks that a tensor's declared
// shape and the number of values it stores agree before handing the tensor out.

/** Number of elements of a tensor of the given shape (1 for a scalar, shape []). */
export function elementCount(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}
