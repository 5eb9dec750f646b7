// An imported network as chapter 5's feature network: style transfer taps a Graph by the names the
// file gives its tensors (Caffe blob names, ONNX value names), runs only the nodes those taps need,
// and carries the loss gradients back to the pixels through Graph.backward with the weights frozen
// — the same route DeepDream takes. Chapter 5 sees only its FeatureNet interface, so lib/style
// never depends on this chapter.
import { addInPlace, copy, type Tensor } from '../core/index.js';
import type { FeatureNet, Preprocessing } from '../style/index.js';
import type { ImportedNet } from './caffe-import.js';
import type { Graph } from './graph.js';

/** Options of a GraphFeatureNet. */
export interface GraphFeatureNetOptions {
  /**
   * Other names for the file's tensors (name → tensor name), tried when a name is not the file's
   * own; e.g. Caffe's blob names for the values of a converted ONNX file.
   */
  aliases?: ReadonlyMap<string, string>;
}

/** A frozen imported Graph tapped by tensor name, with its input preprocessing (see FeatureNet). */
export class GraphFeatureNet implements FeatureNet {
  readonly graph: Graph;
  readonly preprocessing: Preprocessing;
  /** The file's tensor names in network order (each alias right after its tensor). */
  readonly layerNames: readonly string[];
  // Tap name (tensor name or alias) → the graph node producing it.
  readonly #nodeOf = new Map<string, string>();

  /**
   * Freezes the graph: backward then computes input gradients only (no weight gradients).
   * @param net an imported network (its graph and tensor → node map)
   * @param preprocessing what the weights expect of their input
   */
  constructor(
    net: ImportedNet,
    preprocessing: Preprocessing,
    { aliases = new Map() }: GraphFeatureNetOptions = {},
  ) {
    this.graph = net.graph.freeze();
    this.preprocessing = preprocessing;
    const order = new Map(this.graph.nodes.map((n, i) => [n.name, i]));
    const named = [...net.tensors]
      .filter(([, node]) => order.has(node))
      .sort(([, a], [, b]) => order.get(a)! - order.get(b)!);
    const names: string[] = [];
    for (const [tensor, node] of named) {
      this.#nodeOf.set(tensor, node);
      names.push(tensor);
      for (const [alias, target] of aliases) {
        if (target === tensor && !net.tensors.has(alias)) {
          this.#nodeOf.set(alias, node);
          names.push(alias);
        }
      }
    }
    this.layerNames = names;
  }

  /** The graph node that produces a tap (throws naming it and listing the taps there are). */
  nodeOf(name: string): string {
    const node = this.#nodeOf.get(name);
    if (node === undefined) {
      throw new Error(`unknown layer '${name}'; this network has: ${this.layerNames.join(', ')}`);
    }
    return node;
  }

  /** Run x [1, 3, H, W] through the nodes the taps need; returns each tap's activations by name. */
  forward(x: Tensor, taps: readonly string[]): Map<string, Tensor> {
    const nodes = taps.map((t) => this.nodeOf(t));
    if (nodes.length === 0) throw new Error('GraphFeatureNet.forward: no taps given');
    let values: ReadonlyMap<string, Tensor>;
    try {
      values = this.graph.run(x, { taps: nodes, output: nodes[0]! }).taps;
    } catch (e) {
      // The kernels name the shapes, not the layer: say which input and which taps it was for.
      const message = e instanceof Error ? e.message : String(e);
      throw new Error(
        `an input of ${x.shape.slice(2).join('×')} px does not reach ${taps.join(', ')}: ${message}`,
      );
    }
    return new Map(taps.map((t, k) => [t, values.get(nodes[k]!)!]));
  }

  /** dL/dx [1, 3, H, W] from the gradients at the taps of the last forward (Graph.backward). */
  backward(tapGradients: ReadonlyMap<string, Tensor>): Tensor {
    const byNode = new Map<string, Tensor>();
    for (const [name, g] of tapGradients) {
      const node = this.nodeOf(name);
      // Two names of one tensor (a name and its alias): Graph.backward adds per node, so add here.
      const prev = byNode.get(node);
      if (prev === undefined) byNode.set(node, g);
      else {
        const sum = copy(prev);
        addInPlace(sum, g);
        byNode.set(node, sum);
      }
    }
    return this.graph.backward(null, { tapGradients: byNode });
  }
}
