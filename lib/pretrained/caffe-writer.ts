// Writes .caffemodel files (for tests and the chapter's tiny generated models), field by field
// with the numbers of BVLC caffe.proto: NetParameter layer = 100 (V2) or layers = 2 (V1);
// LayerParameter name 1, type 2, blobs 7; V1LayerParameter name 4, type 5 (enum), blobs 6;
// BlobProto shape 7 (BlobShape dim 1), legacy num/channels/height/width 1–4, data 5 (packed).
import { ProtoWriter } from '../style/formats/protobuf.js'; // not the barrel: it re-exports Node-only readers

/** One layer's stored weights. */
export interface CaffeLayerWeights {
  readonly name: string;
  /** V2 type string, or the V1 enum value. */
  readonly type: string | number;
  readonly blobs: readonly { readonly shape: readonly number[]; readonly data: Float32Array }[];
}

function blob(shape: readonly number[], data: Float32Array, legacy: boolean): ProtoWriter {
  const w = new ProtoWriter();
  if (legacy) {
    // Legacy blobs are always 4-D: pad the shape with leading 1s.
    const dims = [...new Array<number>(4 - shape.length).fill(1), ...shape];
    dims.forEach((d, i) => w.int(i + 1, d));
  } else {
    w.message(7, new ProtoWriter().packedVarints(1, shape));
  }
  return w.packedFloats(5, data);
}

/** The bytes of a .caffemodel holding the given layers' weights, V2 or V1 (legacy blob) form. */
export function encodeCaffeModel(
  layers: readonly CaffeLayerWeights[],
  version: 'V1' | 'V2' = 'V2',
  name = 'net',
): Uint8Array {
  const net = new ProtoWriter().string(1, name);
  for (const l of layers) {
    const w = new ProtoWriter();
    if (version === 'V2') {
      w.string(1, l.name).string(2, String(l.type));
      for (const b of l.blobs) w.message(7, blob(b.shape, b.data, false));
      net.message(100, w);
    } else {
      w.string(4, l.name).int(5, Number(l.type));
      for (const b of l.blobs) w.message(6, blob(b.shape, b.data, true));
      net.message(2, w);
    }
  }
  return net.finish();
}
