/**
 * A small builder over onnx-proto for writing ONNX models from TypeScript at build time.
 *
 * Determinism matters: a base model's identity in the registry is the sha256 of its ONNX bytes,
 * so the same weights must serialise to the same bytes on every build and machine. Everything
 * here is insertion-ordered (nodes, initializers, attributes in the order given), tensors are
 * stored as little-endian raw bytes, and no timestamps or host names enter the model.
 */
import { createHash } from 'node:crypto';
import onnxProto from 'onnx-proto';

const { onnx } = onnxProto;

/** Opset 17 has LayerNormalization; IR version 8 is the matching format revision. */
export const OPSET_VERSION = 17;
export const IR_VERSION = 8;

export type ElemType = 'float32' | 'int32' | 'int64' | 'bool';

const ELEM_TYPE_CODE: Readonly<Record<ElemType, number>> = Object.freeze({
  float32: onnx.TensorProto.DataType.FLOAT,
  int32: onnx.TensorProto.DataType.INT32,
  int64: onnx.TensorProto.DataType.INT64,
  bool: onnx.TensorProto.DataType.BOOL,
});

/** A float attribute (plain numbers are ints, so floats are tagged explicitly). */
export interface FloatAttr { readonly kind: 'float'; readonly value: number }
export interface FloatsAttr { readonly kind: 'floats'; readonly values: readonly number[] }
export interface TensorAttr { readonly kind: 'tensor'; readonly tensor: TensorData }

/** number -> INT, number[] -> INTS, string -> STRING; floats and tensors via the helpers. */
export type AttributeValue = number | readonly number[] | string | FloatAttr | FloatsAttr | TensorAttr;

export const float = (value: number): FloatAttr => ({ kind: 'float', value });
export const floats = (values: readonly number[]): FloatsAttr => ({ kind: 'floats', values });
/** Tensor contents with their shape; `data` length must equal the product of `dims`. */
export interface TensorData {
  readonly dims: readonly number[];
  readonly data: Float32Array | Int32Array | BigInt64Array;
}

/** An int64 tensor from plain numbers (shapes, axes, indices). dims default to [n]. */
export function int64Tensor(values: readonly number[], dims: readonly number[] = [values.length]): TensorData {
  return { dims, data: BigInt64Array.from(values.map((v) => BigInt(v))) };
}

function rawBytes(data: TensorData['data']): Uint8Array {
  // Typed arrays are little-endian on every platform Node runs on; copy to own the bytes.
  return new Uint8Array(data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength));
}

function elemTypeOf(data: TensorData['data']): ElemType {
  if (data instanceof Float32Array) return 'float32';
  if (data instanceof Int32Array) return 'int32';
  return 'int64';
}

function toTensorProto(name: string, tensor: TensorData): onnxProto.onnx.ITensorProto {
  const size = tensor.dims.reduce((a, b) => a * b, 1);
  if (size !== tensor.data.length) {
    throw new Error(`tensor '${name}': dims [${tensor.dims.join(', ')}] need ${size} elements, got ${tensor.data.length}`);
  }
  return {
    name,
    dims: [...tensor.dims],
    dataType: ELEM_TYPE_CODE[elemTypeOf(tensor.data)],
    rawData: rawBytes(tensor.data),
  };
}

function toAttribute(name: string, value: AttributeValue): onnxProto.onnx.IAttributeProto {
  const T = onnx.AttributeProto.AttributeType;
  if (typeof value === 'number') {
    if (!Number.isInteger(value)) throw new Error(`attribute '${name}': ${value} is not an int; use float()`);
    return { name, type: T.INT, i: value };
  }
  if (typeof value === 'string') return { name, type: T.STRING, s: new TextEncoder().encode(value) };
  if (Array.isArray(value)) return { name, type: T.INTS, ints: [...(value as number[])] };
  const tagged = value as FloatAttr | FloatsAttr | TensorAttr;
  if (tagged.kind === 'float') return { name, type: T.FLOAT, f: tagged.value };
  if (tagged.kind === 'floats') return { name, type: T.FLOATS, floats: [...tagged.values] };
  return { name, type: T.TENSOR, t: toTensorProto(name, tagged.tensor) };
}

function valueInfo(name: string, elemType: ElemType, dims: readonly (number | string)[]): onnxProto.onnx.IValueInfoProto {
  return {
    name,
    type: {
      tensorType: {
        elemType: ELEM_TYPE_CODE[elemType],
        shape: { dim: dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) },
      },
    },
  };
}

/**
 * Accumulates a graph and serialises it. Names are the caller's; `op()` generates unique output
 * names from a counter so that building twice yields identical names.
 */
export class OnnxGraphBuilder {
  private readonly nodes: onnxProto.onnx.INodeProto[] = [];
  private readonly initializers: onnxProto.onnx.ITensorProto[] = [];
  private readonly inputs: onnxProto.onnx.IValueInfoProto[] = [];
  private readonly outputs: onnxProto.onnx.IValueInfoProto[] = [];
  private readonly names = new Set<string>();
  private counter = 0;

  constructor(readonly graphName: string) {}

  private claim(name: string): string {
    if (this.names.has(name)) throw new Error(`duplicate tensor name '${name}'`);
    this.names.add(name);
    return name;
  }

  /** A constant weight or shape tensor stored in the model. Returns its name. */
  addInitializer(name: string, tensor: TensorData): string {
    this.initializers.push(toTensorProto(this.claim(name), tensor));
    return name;
  }

  /** Float32 initializer; W: dims row-major as given. */
  addFloat(name: string, dims: readonly number[], data: Float32Array): string {
    return this.addInitializer(name, { dims, data });
  }

  /** Int64 initializer from plain numbers (shapes, axes). dims default to [n]. */
  addInt64(name: string, values: readonly number[], dims?: readonly number[]): string {
    return this.addInitializer(name, int64Tensor(values, dims));
  }

  /** A graph input; string dims are symbolic (e.g. 'batch'). */
  addInput(name: string, elemType: ElemType, dims: readonly (number | string)[]): string {
    this.inputs.push(valueInfo(this.claim(name), elemType, dims));
    return name;
  }

  /** Declare an existing tensor as a graph output; string dims are symbolic. */
  addOutput(name: string, elemType: ElemType, dims: readonly (number | string)[]): string {
    this.outputs.push(valueInfo(name, elemType, dims));
    return name;
  }

  /** Add a node with explicit output names. Returns the output names. */
  addNode(
    opType: string,
    inputs: readonly string[],
    outputs: readonly string[],
    attributes: Readonly<Record<string, AttributeValue>> = {},
    name?: string,
  ): string[] {
    for (const out of outputs) this.claim(out);
    this.nodes.push({
      name: name ?? `${opType}_${this.nodes.length}`,
      opType,
      input: [...inputs],
      output: [...outputs],
      attribute: Object.entries(attributes).map(([k, v]) => toAttribute(k, v)),
    });
    return [...outputs];
  }

  /** Add a single-output node whose output name is generated (`<prefix>_<n>`). */
  op(
    opType: string,
    inputs: readonly string[],
    attributes: Readonly<Record<string, AttributeValue>> = {},
    prefix = opType,
  ): string {
    const out = `${prefix}_${this.counter++}`;
    return this.addNode(opType, inputs, [out], attributes)[0];
  }

  /** The model as a protobuf object (for inspection in tests). */
  toModelProto(docString = ''): onnxProto.onnx.IModelProto {
    return {
      irVersion: IR_VERSION,
      producerName: 'lift-zoo',
      producerVersion: '1',
      docString,
      opsetImport: [{ domain: '', version: OPSET_VERSION }],
      graph: {
        name: this.graphName,
        node: this.nodes,
        initializer: this.initializers,
        input: this.inputs,
        output: this.outputs,
      },
    };
  }

  /** Serialise deterministically to ONNX bytes. */
  serialize(docString = ''): Uint8Array {
    return onnx.ModelProto.encode(onnx.ModelProto.create(this.toModelProto(docString))).finish();
  }
}

/** Hex sha256 of bytes: the identity of a built model. */
export function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/**
 * Read float32 initializers back out of serialised ONNX bytes (e.g. the weights of the layer
 * LoRA attaches to, so they come from exactly the model identified by its sha256).
 * Returns dims and a copy of the data for each requested name; throws if one is missing.
 */
export function readFloatInitializers(
  bytes: Uint8Array,
  names: readonly string[],
): Map<string, { dims: number[]; data: Float32Array }> {
  const model = onnx.ModelProto.decode(bytes);
  const found = new Map<string, { dims: number[]; data: Float32Array }>();
  for (const init of model.graph?.initializer ?? []) {
    if (!init.name || !names.includes(init.name)) continue;
    if (init.dataType !== onnx.TensorProto.DataType.FLOAT) {
      throw new Error(`initializer '${init.name}': expected FLOAT, got data type ${init.dataType}`);
    }
    const dims = (init.dims ?? []).map((d) => Number(d));
    let data: Float32Array;
    if (init.rawData && init.rawData.length > 0) {
      const raw = init.rawData;
      data = new Float32Array(raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.byteLength));
    } else {
      data = Float32Array.from(init.floatData ?? []);
    }
    found.set(init.name, { dims, data });
  }
  const missing = names.filter((n) => !found.has(n));
  if (missing.length) throw new Error(`initializers not found: ${missing.join(', ')}`);
  return found;
}
