// Errors that say what went wrong in the reader's terms: a shape mismatch names both shapes,
// a bad file names the file. `assert` takes a message thunk so hot paths never build strings.

/** Format a shape the way the docs write it: `[2, 3, 5, 4]`. */
export function formatShape(shape: readonly number[]): string {
  return `[${shape.join(', ')}]`;
}

/** Two tensors (or a tensor and an expectation) whose shapes do not fit together. */
export class ShapeError extends Error {
  override readonly name = 'ShapeError';
  /** The shape that was given. */
  readonly actual: readonly number[];
  /** The shape that was required. */
  readonly expected: readonly number[];

  /**
   * @param context what was being done, e.g. `Linear(fc1).forward input`
   * @param actual the shape received
   * @param expected the shape required (use -1 for "any size" in one axis)
   * @param detail optional extra sentence
   */
  constructor(
    context: string,
    actual: readonly number[],
    expected: readonly number[],
    detail?: string,
  ) {
    super(
      `${context}: got shape ${formatShape(actual)}, expected ${formatShape(expected).replace(/-1/g, '*')}` +
        (detail ? ` (${detail})` : ''),
    );
    this.actual = [...actual];
    this.expected = [...expected];
  }
}

/** A file that cannot be read as what it claims to be: names the file and the problem. */
export class FileFormatError extends Error {
  override readonly name = 'FileFormatError';
  /** Path (or label) of the offending file. */
  readonly file: string;

  /** @param file path of the file; @param problem what is wrong with it */
  constructor(file: string, problem: string) {
    super(`${file}: ${problem}`);
    this.file = file;
  }
}

/** Training or optimization produced NaN or Infinity; the message says where and when. */
export class DivergenceError extends Error {
  override readonly name = 'DivergenceError';
}

/** Throw an Error with a lazily built message when `condition` is false. */
export function assert(condition: boolean, message: () => string): asserts condition {
  if (!condition) throw new Error(message());
}
