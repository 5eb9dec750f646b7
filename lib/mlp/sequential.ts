// A network as a list of layers run in order: forward left to right, backward right to left,
// each layer's dx becoming the previous layer's dy (the chain rule, one layer at a time).
import type { Layer, Param, Tensor } from '../core/index.js';

/** A layer that may carry a display name (Linear, the activations, and Sequential set one). */
export type NamedLayer = Layer & { readonly name?: string | undefined };

/** Layers applied in sequence; params() concatenates theirs in order. */
export class Sequential implements Layer {
  readonly name: string;
  readonly layers: NamedLayer[];
  /** Display name of each layer: its own, or `<Type><index>` (e.g. `ReLU1`) when it has none. */
  readonly names: string[];

  /** @param layers applied first to last; @param options optional name of the whole network */
  constructor(layers: NamedLayer[], options: { name?: string } = {}) {
    this.name = options.name ?? 'Sequential';
    this.layers = [...layers];
    this.names = this.layers.map((l, i) => l.name ?? `${l.constructor.name}${i}`);
    // Optimizers and parameter files key by name, so two `fc.weight`s would silently share state.
    const seen = new Set<string>();
    for (const p of this.params()) {
      if (seen.has(p.name)) {
        throw new Error(
          `${this.name}: two parameters are named '${p.name}'; give each Linear its own name`,
        );
      }
      seen.add(p.name);
    }
  }

  /** Run every layer's forward in order. @returns the last layer's output */
  forward(x: Tensor): Tensor {
    let y = x;
    for (const layer of this.layers) y = layer.forward(y);
    return y;
  }

  /** Run every layer's backward in reverse order. @returns dL/dx of the network input */
  backward(dy: Tensor): Tensor {
    let d = dy;
    for (let i = this.layers.length - 1; i >= 0; i--) d = this.layers[i]!.backward(d);
    return d;
  }

  /** All parameters, layer by layer, in order. */
  params(): Param[] {
    return this.layers.flatMap((l) => l.params());
  }
}
