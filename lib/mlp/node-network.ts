// Backpropagation the first way the tutorial teaches it: an object graph of neurons and
// connections, one sample at a time. Every node keeps its output a and its error term δ = ∂E/∂z
// (z its weighted input); δ of a hidden node is computed from the δ's of the next layer.
// Small, slow and readable: the vectorized Linear/Sigmoid layers compute the same numbers.
import { zeros, type Rng, type Tensor64 } from '../core/index.js';

/** A weighted edge from one node to a node of the next layer, with its accumulated ∂E/∂w. */
export class Connection {
  weight: number;
  /** ∂E/∂w summed over the samples seen since the last zeroGrad (a true gradient). */
  gradient = 0;
  /** @param from upstream node @param to downstream node @param weight initial weight */
  constructor(
    readonly from: NeuronNode,
    readonly to: NeuronNode,
    weight: number,
  ) {
    this.weight = weight;
  }
}

/** A neuron: output a = σ(Σ w·a_upstream + b), error term δ = ∂E/∂z. */
export class NeuronNode {
  output = 0;
  /** δ = ∂E/∂z: how the error changes with this node's weighted input z. */
  delta = 0;
  bias = 0;
  /** ∂E/∂b summed over samples (equals δ per sample, since ∂z/∂b = 1). */
  biasGradient = 0;
  readonly upstream: Connection[] = [];
  readonly downstream: Connection[] = [];
  /** @param layer index of its layer @param index its position in the layer */
  constructor(
    readonly layer: number,
    readonly index: number,
  ) {}

  /** a = σ(z), z = Σᵢ wᵢ aᵢ + b over the upstream connections. */
  computeOutput(): void {
    let z = this.bias;
    for (const c of this.upstream) z += c.weight * c.from.output;
    this.output = 1 / (1 + Math.exp(-z));
  }

  /** Output layer, E = ½Σ(a − t)²: δ = (a − t) · a(1 − a). */
  computeOutputDelta(target: number): void {
    const a = this.output;
    this.delta = (a - target) * a * (1 - a);
  }

  /** Hidden layer: δ = a(1 − a) · Σₖ wₖ δₖ over the next layer's nodes k (the tutorial's eq. 4). */
  computeHiddenDelta(): void {
    let s = 0;
    for (const c of this.downstream) s += c.weight * c.to.delta;
    this.delta = this.output * (1 - this.output) * s;
  }
}

/** A fully connected sigmoid network as a graph of NeuronNodes and Connections. */
export class NodeNetwork {
  /** layers[0] are the input nodes (output = the input value, no δ needed). */
  readonly layers: NeuronNode[][];

  /**
   * @param sizes nodes per layer, input first, e.g. [8, 3, 8]
   * @param rng seeded generator for the initial weights (uniform in ±0.1, as the tutorial)
   */
  constructor(sizes: readonly number[], rng: Rng) {
    this.layers = sizes.map((n, l) => Array.from({ length: n }, (_, i) => new NeuronNode(l, i)));
    for (let l = 1; l < this.layers.length; l++) {
      for (const to of this.layers[l]!) {
        for (const from of this.layers[l - 1]!) {
          const c = new Connection(from, to, rng.uniform(-0.1, 0.1));
          from.downstream.push(c);
          to.upstream.push(c);
        }
      }
    }
  }

  /** Forward one sample: set the input nodes, then each layer's outputs in turn. */
  predict(x: ArrayLike<number>): number[] {
    this.layers[0]!.forEach((node, i) => (node.output = x[i]!));
    for (const layer of this.layers.slice(1)) for (const node of layer) node.computeOutput();
    return this.layers[this.layers.length - 1]!.map((node) => node.output);
  }

  /**
   * Backward one sample after predict: δ's from the output layer back to the first hidden
   * layer, then ∂E/∂w = δ_downstream · a_upstream added into every connection (eq. 5).
   */
  backward(target: ArrayLike<number>): void {
    const L = this.layers.length - 1;
    this.layers[L]!.forEach((node, i) => node.computeOutputDelta(target[i]!));
    for (let l = L - 1; l >= 1; l--) for (const node of this.layers[l]!) node.computeHiddenDelta();
    for (const layer of this.layers.slice(1)) {
      for (const node of layer) {
        node.biasGradient += node.delta;
        for (const c of node.upstream) c.gradient += node.delta * c.from.output;
      }
    }
  }

  /** Set every accumulated gradient to zero. */
  zeroGrad(): void {
    for (const layer of this.layers)
      for (const node of layer) {
        node.biasGradient = 0;
        for (const c of node.upstream) c.gradient = 0;
      }
  }

  /** Gradient descent on every weight and bias: w ← w − η ∂E/∂w. */
  step(lr: number): void {
    for (const layer of this.layers)
      for (const node of layer) {
        node.bias -= lr * node.biasGradient;
        for (const c of node.upstream) c.weight -= lr * c.gradient;
      }
  }

  /** Copy weights [out, in] and biases [out] of layer l (1-based: l = 1 is the first hidden). */
  setLayer(l: number, w: Tensor64, b: Tensor64): void {
    for (const node of this.layers[l]!) {
      node.bias = b.get(node.index);
      for (const c of node.upstream) c.weight = w.get(node.index, c.from.index);
    }
  }

  /** The weights [out, in] and biases [out] of layer l, or their gradients, as tensors. */
  layerTensors(l: number, what: 'value' | 'grad' = 'value'): { w: Tensor64; b: Tensor64 } {
    const nodes = this.layers[l]!;
    const w = zeros([nodes.length, this.layers[l - 1]!.length]);
    const b = zeros([nodes.length]);
    for (const node of nodes) {
      b.set(node.index, what === 'value' ? node.bias : node.biasGradient);
      for (const c of node.upstream) {
        w.set(node.index, c.from.index, what === 'value' ? c.weight : c.gradient);
      }
    }
    return { w, b };
  }
}
