// Chapter 3's Sequential grown by the two things chapter 5 needs. Taps: forward can hand back
// named intermediate activations, and backward adds a loss gradient at any of them (the one place
// the chain is not strictly linear: dy_i = dx_{i+1} + dTap_i). Frozen layers: backward returns dx
// through them but leaves their weight gradients alone.
import { addInPlace, assign, copy, type Param, type Tensor } from '../core/index.js';
import { Sequential as MlpSequential, type NamedLayer } from '../mlp/index.js';

/** Options of a backward pass with taps. */
export interface TapBackwardOptions {
  /** Loss gradients at named layer outputs, each the shape of that output; added on the way down. */
  tapGradients?: ReadonlyMap<string, Tensor>;
}

/** Options of a forward pass with taps. */
export interface TapForwardOptions {
  /** Stop after the deepest tapped layer (layers after it do not run; y is that tap's output). */
  stopAtDeepestTap?: boolean;
}

// A layer that implements `frozen` itself (Conv2d, pooling, Flatten in this chapter).
function hasFrozenSwitch(layer: NamedLayer): layer is NamedLayer & { frozen: boolean } {
  return typeof (layer as { frozen?: unknown }).frozen === 'boolean';
}

/**
 * Layers applied in sequence (chapter 3's Sequential), plus taps and frozen layers.
 * @example
 *   const { y, taps } = net.forwardWithTaps(x, ['relu1', 'relu2']);
 *   net.backward(null, { tapGradients: new Map([['relu1', g1], ['relu2', g2]]) });
 */
export class Sequential extends MlpSequential {
  // Layers frozen by freeze() that have parameters but no `frozen` switch of their own (a layer
  // written elsewhere): their gradients are saved before backward and put back after.
  readonly #frozenByNet = new Set<NamedLayer>();
  // How many layers the last forward ran (fewer than all when it stopped at the deepest tap).
  #ran = 0;

  /** Run every layer (chapter 3's forward). @returns the last layer's output */
  override forward(x: Tensor): Tensor {
    this.#ran = this.layers.length;
    return super.forward(x);
  }

  /**
   * Forward that also returns the outputs of the named layers ("taps"), as a Map by name.
   * @param x network input; @param names layer names (see `names`) whose outputs to keep
   * @returns y, the network output (or the deepest tap's output with stopAtDeepestTap), and taps
   */
  forwardWithTaps(
    x: Tensor,
    names: readonly string[],
    options: TapForwardOptions = {},
  ): { y: Tensor; taps: Map<string, Tensor> } {
    const indices = names.map((n) => this.#indexOf(n));
    const last = options.stopAtDeepestTap ? Math.max(-1, ...indices) : this.layers.length - 1;
    const wanted = new Set(indices);
    const taps = new Map<string, Tensor>();
    let y = x;
    for (let i = 0; i <= last; i++) {
      y = this.layers[i]!.forward(y);
      if (wanted.has(i)) taps.set(this.names[i]!, y);
    }
    this.#ran = last + 1;
    return { y, taps };
  }

  /**
   * Backward through the layers in reverse, adding each tap gradient at its layer's output before
   * continuing down. dy = null means the network output carries no loss (style transfer): the
   * walk then starts at the deepest tap with a gradient, and the layers above it are skipped.
   * @returns dL/dx of the network input (fresh)
   */
  override backward(dy: Tensor | null, options: TapBackwardOptions = {}): Tensor {
    const tapGradients = options.tapGradients ?? new Map<string, Tensor>();
    const at = new Map<number, Tensor>();
    for (const [name, g] of tapGradients) at.set(this.#indexOf(name), g);
    let top: number;
    if (dy !== null) {
      if (this.#ran !== this.layers.length) {
        throw new Error(
          `${this.name}.backward: the last forward stopped after layer ${this.names[this.#ran - 1]}, ` +
            'so there is no network output for dy; pass dy = null and tap gradients',
        );
      }
      top = this.layers.length - 1;
    } else {
      if (at.size === 0) {
        throw new Error(`${this.name}.backward: dy is null and no tap gradients were given`);
      }
      top = Math.max(...at.keys());
    }
    if (top >= this.#ran) {
      throw new Error(
        `${this.name}.backward: layer ${this.names[top]} did not run in the last forward`,
      );
    }
    // `d` is ∂L/∂(output of layer i). It is ours to modify only once a layer has returned it
    // fresh; the caller's dy and tap gradients are copied before anything is added to them.
    let d: Tensor | null = dy;
    let owned = false;
    for (let i = top; i >= 0; i--) {
      const g = at.get(i);
      if (g !== undefined) {
        if (d === null) {
          d = copy(g);
        } else {
          if (!owned) d = copy(d);
          addInPlace(d, g);
        }
        owned = true;
      }
      d = this.#backwardLayer(this.layers[i]!, d!);
    }
    return d!;
  }

  /**
   * Freeze (or unfreeze) the named layers, all by default: their backward still returns dx, but
   * their weight gradients are left untouched (Conv2d skips computing them altogether).
   */
  freeze(names: readonly string[] = this.names, frozen = true): this {
    for (const name of names) {
      const layer = this.layers[this.#indexOf(name)]!;
      if (hasFrozenSwitch(layer)) layer.frozen = frozen;
      else if (frozen && layer.params().length > 0) this.#frozenByNet.add(layer);
      else this.#frozenByNet.delete(layer);
    }
    return this;
  }

  /** True when the named layer is frozen. */
  isFrozen(name: string): boolean {
    const layer = this.layers[this.#indexOf(name)]!;
    return hasFrozenSwitch(layer) ? layer.frozen : this.#frozenByNet.has(layer);
  }

  /** The parameters of the layers that are not frozen (what an optimizer should update). */
  trainableParams(): Param[] {
    return this.layers.flatMap((l, i) => (this.isFrozen(this.names[i]!) ? [] : l.params()));
  }

  #backwardLayer(layer: NamedLayer, d: Tensor): Tensor {
    if (!this.#frozenByNet.has(layer)) return layer.backward(d);
    const saved = layer.params().map((p) => copy(p.grad));
    const dx = layer.backward(d);
    layer.params().forEach((p, k) => assign(p.grad, saved[k]!));
    return dx;
  }

  #indexOf(name: string): number {
    const i = this.names.indexOf(name);
    if (i < 0) {
      throw new Error(`${this.name}: no layer named '${name}' (layers: ${this.names.join(', ')})`);
    }
    return i;
  }
}
