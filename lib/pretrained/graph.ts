// A network as a small directed acyclic graph of named nodes, for what a chain cannot express:
// inception blocks (one tensor feeding four branches, joined by Concat) and residual blocks (a
// branch added back to its input). Each node is a one-input Layer or a several-input MergeLayer
// and its output carries the node's name. The topological order is computed once (Kahn's
// algorithm, iteratively); backward walks it in reverse and ADDS gradients where a tensor fans
// out, exactly the multivariate chain rule. Chains should stay Sequential; this is for the rest.
import {
  addInPlace,
  assign,
  checkUpstream,
  copy,
  dtypeOf,
  formatShape,
  zeros,
  type DType,
  type Layer,
  type Param,
  type Tensor,
} from '../core/index.js';
import type { MergeLayer } from './merge.js';

/** A node applying a one-input layer to the tensor named `input`. */
export interface LayerNode {
  readonly name: string;
  readonly input: string;
  readonly layer: Layer;
}

/** A node applying a merge layer (Concat, EltwiseSum) to the tensors named in `inputs`. */
export interface MergeNode {
  readonly name: string;
  readonly inputs: readonly string[];
  readonly merge: MergeLayer;
}

/** A graph node: its output tensor is called by the node's name. */
export type GraphNode = LayerNode | MergeNode;

/** Options of a backward pass with taps (the same shape as chapter 4's Sequential). */
export interface GraphBackwardOptions {
  /** Loss gradients at named node outputs, each the shape of that output; added on the way down. */
  tapGradients?: ReadonlyMap<string, Tensor>;
}

// A layer that implements `frozen` itself (chapter 4's Conv2d and pooling).
function hasFrozenSwitch(
  layer: Layer | MergeLayer,
): layer is (Layer | MergeLayer) & { frozen: boolean } {
  return typeof (layer as { frozen?: unknown }).frozen === 'boolean';
}

function layerOf(node: GraphNode): Layer | MergeLayer {
  return 'merge' in node ? node.merge : node.layer;
}

/** The names of the tensors a node reads. */
export function nodeInputs(node: GraphNode): readonly string[] {
  return 'merge' in node ? node.inputs : [node.input];
}

/** Options of a Graph. */
export interface GraphOptions {
  /** Name of the graph's input tensor (default `data`, as in Caffe deploy files). */
  input?: string;
  /** Name of the node whose output forward() returns (default: the last in topological order). */
  output?: string;
}

/** What run() computes: the output and the requested intermediate activations by name. */
export interface GraphRun {
  readonly output: Tensor;
  readonly taps: ReadonlyMap<string, Tensor>;
}

/** One row of a graph's layer table. */
export interface GraphRow {
  readonly name: string;
  readonly kind: string;
  readonly inputs: readonly string[];
  readonly params: number;
}

/**
 * Sort nodes so that every node comes after the nodes it reads (Kahn's algorithm, no recursion).
 * Throws naming the node when an input is unknown, a name repeats, or the nodes form a cycle.
 */
export function topologicalOrder(nodes: readonly GraphNode[], input: string): GraphNode[] {
  const byName = new Map<string, GraphNode>();
  for (const node of nodes) {
    if (node.name === input || byName.has(node.name)) {
      throw new Error(`graph node name "${node.name}" is used twice`);
    }
    byName.set(node.name, node);
  }
  const pending = new Map<string, number>(); // node → number of inputs not yet produced
  const readers = new Map<string, GraphNode[]>(); // tensor → nodes reading it
  for (const node of nodes) {
    const ins = nodeInputs(node);
    if (ins.length === 0) throw new Error(`graph node "${node.name}" has no inputs`);
    for (const name of ins) {
      if (name !== input && !byName.has(name)) {
        throw new Error(`graph node "${node.name}" reads "${name}", which no node produces`);
      }
      readers.set(name, [...(readers.get(name) ?? []), node]);
    }
    pending.set(node.name, ins.length);
  }
  const order: GraphNode[] = [];
  const ready: string[] = [input];
  while (ready.length > 0) {
    const produced = ready.shift()!;
    for (const reader of readers.get(produced) ?? []) {
      const left = pending.get(reader.name)! - 1;
      pending.set(reader.name, left);
      if (left === 0) {
        order.push(reader);
        ready.push(reader.name);
      }
    }
  }
  if (order.length !== nodes.length) {
    const stuck = nodes.filter((n) => !order.includes(n)).map((n) => n.name);
    throw new Error(`graph has a cycle through node(s) ${stuck.join(', ')}`);
  }
  return order;
}

/** A DAG of layers: x [input shape] → the `output` node's tensor; a Layer itself. */
export class Graph implements Layer {
  /** The nodes in topological order. */
  readonly nodes: readonly GraphNode[];
  readonly input: string;
  readonly output: string;
  readonly #byName: Map<string, GraphNode>;
  // Frozen nodes whose layer has parameters but no `frozen` switch (e.g. BatchNorm2d):
  // their gradients are saved before backward and put back after.
  readonly #frozenByNet = new Set<GraphNode>();
  // What the last run computed, in order, so backward walks exactly that.
  #ran:
    { nodes: GraphNode[]; shapes: Map<string, number[]>; output: string; dtype: DType } | undefined;

  /** @param nodes in any order; names are unique and differ from the input's name */
  constructor(nodes: readonly GraphNode[], { input = 'data', output }: GraphOptions = {}) {
    this.input = input;
    this.nodes = topologicalOrder(nodes, input);
    this.#byName = new Map(this.nodes.map((n) => [n.name, n]));
    // The last node in topological order is always a sink (nothing reads it).
    this.output = output ?? this.nodes[this.nodes.length - 1]?.name ?? input;
    this.#requireTensor(this.output, 'output');
  }

  /** The node of that name (throws naming it when absent). */
  node(name: string): GraphNode {
    const node = this.#byName.get(name);
    if (node === undefined) throw new Error(`graph has no node "${name}"`);
    return node;
  }

  #requireTensor(name: string, role: string): void {
    if (name !== this.input && !this.#byName.has(name)) {
      throw new Error(`graph ${role} "${name}" is not a node of the graph`);
    }
  }

  // The nodes needed to compute `targets`, in topological order (an iterative walk upstream).
  #needed(targets: readonly string[]): GraphNode[] {
    const seen = new Set<string>();
    const stack = [...targets];
    while (stack.length > 0) {
      const name = stack.pop()!;
      if (seen.has(name) || name === this.input) continue;
      seen.add(name);
      stack.push(...nodeInputs(this.node(name)));
    }
    return this.nodes.filter((n) => seen.has(n.name));
  }

  /** Run the graph on x [input shape] and return the output node's tensor. */
  forward(x: Tensor): Tensor {
    return this.run(x).output;
  }

  /**
   * Forward that also returns the named node outputs ("taps") as a Map (chapter 4's Sequential
   * has the same method). With stopAtDeepestTap only the nodes the taps need run, and y is the
   * last tap's output.
   */
  forwardWithTaps(
    x: Tensor,
    names: readonly string[],
    { stopAtDeepestTap = false }: { stopAtDeepestTap?: boolean } = {},
  ): { y: Tensor; taps: Map<string, Tensor> } {
    const last = names[names.length - 1];
    const output = stopAtDeepestTap && last !== undefined ? last : this.output;
    const { output: y, taps } = this.run(x, { taps: names, output });
    return { y, taps: new Map(taps) };
  }

  /**
   * Run only what `output` (default: the graph's) and the `taps` need; return both.
   * @example const { taps } = net.run(image, { taps: ['inception_4c/output'], output: 'inception_4c/output' });
   */
  run(
    x: Tensor,
    { taps = [], output = this.output }: { taps?: readonly string[]; output?: string } = {},
  ): GraphRun {
    this.#requireTensor(output, 'output');
    for (const t of taps) this.#requireTensor(t, 'tap');
    const nodes = this.#needed([output, ...taps]);
    const values = new Map<string, Tensor>([[this.input, x]]);
    // Free each tensor after its last reader, unless it is returned (output or tap).
    const lastUse = new Map<string, number>();
    nodes.forEach((n, i) => nodeInputs(n).forEach((name) => lastUse.set(name, i)));
    const keep = new Set([this.input, output, ...taps]);
    const shapes = new Map<string, number[]>([[this.input, [...x.shape]]]);
    const tapValues = new Map<string, Tensor>();
    nodes.forEach((node, i) => {
      const y =
        'merge' in node
          ? node.merge.forward(node.inputs.map((name) => values.get(name)!))
          : node.layer.forward(values.get(node.input)!);
      values.set(node.name, y);
      shapes.set(node.name, [...y.shape]);
      for (const name of nodeInputs(node)) {
        if (lastUse.get(name) === i && !keep.has(name)) values.delete(name);
      }
    });
    for (const t of taps) tapValues.set(t, values.get(t)!);
    this.#ran = { nodes, shapes, output, dtype: dtypeOf(x) };
    return { output: values.get(output)!, taps: tapValues };
  }

  /**
   * Backpropagate through what the last run computed: dy (or null) at its output, plus each
   * tap's gradient added at its tensor. Returns a fresh dL/dx; parameter gradients accumulate.
   */
  backward(dy: Tensor | null, { tapGradients = new Map() }: GraphBackwardOptions = {}): Tensor {
    const ran = this.#ran;
    if (ran === undefined) throw new Error('Graph.backward called before forward');
    const grads = new Map<string, Tensor>();
    // Each tensor's gradient is the SUM over its readers (and taps): the chain rule at fan-out.
    const accumulate = (name: string, g: Tensor, owned: boolean): void => {
      const prev = grads.get(name);
      if (prev === undefined) grads.set(name, owned ? g : copy(g));
      else addInPlace(prev, g);
    };
    if (dy !== null) {
      checkUpstream(dy, ran.shapes.get(ran.output)!, `Graph output "${ran.output}"`);
      accumulate(ran.output, dy, false);
    }
    if (dy === null && tapGradients.size === 0) {
      throw new Error('Graph.backward: dy is null and no tap gradients were given');
    }
    for (const [name, g] of tapGradients) {
      const shape = ran.shapes.get(name);
      if (shape === undefined) {
        throw new Error(`Graph.backward: tap "${name}" was not computed by the last forward`);
      }
      checkUpstream(g, shape, `Graph tap "${name}"`);
      accumulate(name, g, false);
    }
    for (let i = ran.nodes.length - 1; i >= 0; i--) {
      const node = ran.nodes[i]!;
      const g = grads.get(node.name);
      if (g === undefined) continue; // nothing downstream of this node reaches the loss
      grads.delete(node.name);
      const saved = this.#frozenByNet.has(node)
        ? layerOf(node)
            .params()
            .map((p) => copy(p.grad))
        : undefined;
      if ('merge' in node) {
        const dxs = node.merge.backward(g);
        node.inputs.forEach((name, k) => accumulate(name, dxs[k]!, true));
      } else {
        accumulate(node.input, node.layer.backward(g), true);
      }
      if (saved)
        layerOf(node)
          .params()
          .forEach((p, k) => assign(p.grad, saved[k]!));
    }
    const inputShape = ran.shapes.get(this.input)!;
    const dx = grads.get(this.input);
    if (dx !== undefined) return dx;
    return zeros(inputShape, ran.dtype);
  }

  /** Parameters of every node, in topological order. */
  params(): Param[] {
    return this.nodes.flatMap((n) => layerOf(n).params());
  }

  /**
   * Freeze (or unfreeze) the named nodes, all by default: backward still returns dx through them
   * but leaves their parameter gradients untouched (Conv2d skips computing them altogether).
   */
  freeze(names: readonly string[] = this.nodes.map((n) => n.name), frozen = true): this {
    for (const name of names) {
      const node = this.node(name);
      const layer = layerOf(node);
      if (hasFrozenSwitch(layer)) layer.frozen = frozen;
      else if (frozen && layer.params().length > 0) this.#frozenByNet.add(node);
      else this.#frozenByNet.delete(node);
    }
    return this;
  }

  /** True when the named node is frozen. */
  isFrozen(name: string): boolean {
    const node = this.node(name);
    const layer = layerOf(node);
    return hasFrozenSwitch(layer) ? layer.frozen : this.#frozenByNet.has(node);
  }

  /** The parameters of the nodes that are not frozen (what an optimizer should update). */
  trainableParams(): Param[] {
    return this.nodes.flatMap((n) => (this.isFrozen(n.name) ? [] : layerOf(n).params()));
  }

  /** One row per node: name, layer class, inputs, parameter count (for a layer table). */
  summary(): GraphRow[] {
    return this.nodes.map((n) => {
      const layer = layerOf(n);
      return {
        name: n.name,
        kind: layer.constructor.name,
        inputs: nodeInputs(n),
        params: layer.params().reduce((s, p) => s + p.value.size, 0),
      };
    });
  }

  /** A short description of the shapes the last run produced (for error messages and notebooks). */
  describeShapes(): string {
    const ran = this.#ran;
    if (ran === undefined) return '(not run yet)';
    return [...ran.shapes].map(([name, shape]) => `${name} ${formatShape(shape)}`).join('\n');
  }
}
