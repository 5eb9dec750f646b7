// The truth tables of chapter 1: AND and OR are linearly separable, XOR is not.

/** A labelled data set of small input vectors. */
export interface TruthTable {
  readonly name: string;
  readonly inputs: readonly (readonly [number, number])[];
  readonly labels: readonly number[];
}

// The tutorial's order of the four input pairs (it matters for the exact weights learned).
const inputs = [
  [1, 1],
  [0, 0],
  [1, 0],
  [0, 1],
] as const;

/** x₁ AND x₂. */
export const AND: TruthTable = { name: 'AND', inputs, labels: [1, 0, 0, 0] };
/** x₁ OR x₂. */
export const OR: TruthTable = { name: 'OR', inputs, labels: [1, 0, 1, 1] };
/** x₁ XOR x₂: no line separates the 1s from the 0s. */
export const XOR: TruthTable = { name: 'XOR', inputs, labels: [0, 0, 1, 1] };
