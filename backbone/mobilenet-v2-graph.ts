/**
 * Keras (TF.js layers format) -> ONNX conversion for the layer types MobileNetV2 uses.
 *
 * Layers are converted in config order through a table keyed by Keras class name, so an
 * unsupported layer fails loudly with the list of supported ones. Tensors are NCHW inside the
 * graph (ONNX Conv's layout); the single input stays NHWC like TF.js and is transposed once.
 *
 * Numerics chosen to match TF.js:
 *  - 'same' padding is TF's rule (extra row/column at the bottom/right when the total is odd);
 *    Keras' explicit ZeroPadding2D before stride-2 convs is folded into the Conv's pads.
 *  - BatchNormalization directly after a conv is folded into it (W' = W·γ/√(v+ε),
 *    b' = β − m·γ/√(v+ε), in float64 then rounded once): exact in real arithmetic, and only
 *    float32 rounding differs from TF.js' separate ops.
 *  - ReLU(max_value = 6) is Clip(0, 6); depthwise convs are Conv with group = channels.
 */
import { OnnxGraphBuilder } from './onnx-graph.ts';
import type { DecodedWeight } from './tfjs-weights.ts';
import { requireWeight } from './tfjs-weights.ts';
import type { KerasLayer } from './mobilenet-v2-source.ts';

/** A converted tensor: its graph name and shape without the batch axis ([C, H, W] or [D]). */
interface Value {
  readonly name: string;
  readonly shape: readonly number[];
  /** Zero padding [top, left, bottom, right] still to apply (a folded ZeroPadding2D). */
  readonly pendingPads?: readonly number[];
}

interface ConvertContext {
  readonly g: OnnxGraphBuilder;
  readonly weights: ReadonlyMap<string, DecodedWeight>;
  readonly values: Map<string, Value>;
  /** Layer name -> names of the layers that consume it. */
  readonly consumers: ReadonlyMap<string, readonly string[]>;
  readonly byName: ReadonlyMap<string, KerasLayer>;
  /** BatchNormalization layers already folded into the conv before them. */
  readonly folded: Set<string>;
}

type Converter = (ctx: ConvertContext, layer: KerasLayer, inputs: readonly Value[]) => Value;

/** Name of the graph input: float32 [N, 224, 224, 3] NHWC RGB in [0, 1]. */
export const PIXELS_INPUT = 'pixels';

const pair = (v: unknown, what: string): [number, number] => {
  if (Array.isArray(v) && v.length === 2 && v.every(Number.isInteger)) return [v[0], v[1]];
  throw new Error(`${what}: expected two integers, got ${JSON.stringify(v)}`);
};

/** TF 'same' padding along one axis: [before, after], the extra pixel going after. */
export function samePads(size: number, kernel: number, stride: number, dilation = 1): [number, number] {
  const out = Math.ceil(size / stride);
  const total = Math.max((out - 1) * stride + (kernel - 1) * dilation + 1 - size, 0);
  const before = Math.floor(total / 2);
  return [before, total - before];
}

/** Keras kernel [kh, kw, in, out] -> ONNX [out, in, kh, kw]. */
function convKernelToOnnx(k: DecodedWeight): Float32Array {
  const [kh, kw, cin, cout] = k.shape;
  const out = new Float32Array(k.data.length);
  for (let y = 0; y < kh; y++) for (let x = 0; x < kw; x++) for (let i = 0; i < cin; i++) {
    for (let o = 0; o < cout; o++) {
      out[((o * cin + i) * kh + y) * kw + x] = k.data[((y * kw + x) * cin + i) * cout + o];
    }
  }
  return out;
}

/** Keras depthwise kernel [kh, kw, in, mult] -> ONNX grouped [in·mult, 1, kh, kw]. */
function depthwiseKernelToOnnx(k: DecodedWeight): Float32Array {
  const [kh, kw, cin, mult] = k.shape;
  const out = new Float32Array(k.data.length);
  for (let y = 0; y < kh; y++) for (let x = 0; x < kw; x++) for (let i = 0; i < cin; i++) {
    for (let m = 0; m < mult; m++) {
      out[((i * mult + m) * kh + y) * kw + x] = k.data[((y * kw + x) * cin + i) * mult + m];
    }
  }
  return out;
}

/** Per-channel affine (scale, shift) of an inference-mode BatchNormalization layer. */
function batchNormAffine(ctx: ConvertContext, bn: KerasLayer): { scale: Float64Array; shift: Float64Array } {
  const eps = Number(bn.config.epsilon ?? 1e-3);
  const w = (p: string) => requireWeight(ctx.weights, `${bn.name}/${p}`).data;
  const mean = w('moving_mean');
  const variance = w('moving_variance');
  const gamma = bn.config.scale === false ? null : w('gamma');
  const beta = bn.config.center === false ? null : w('beta');
  const scale = new Float64Array(mean.length);
  const shift = new Float64Array(mean.length);
  for (let c = 0; c < mean.length; c++) {
    scale[c] = (gamma ? gamma[c] : 1) / Math.sqrt(variance[c] + eps);
    shift[c] = (beta ? beta[c] : 0) - mean[c] * scale[c];
  }
  return { scale, shift };
}

/** The BatchNormalization that alone consumes `layer`, if any: it will be folded into it. */
function foldableBatchNorm(ctx: ConvertContext, layer: KerasLayer): KerasLayer | null {
  const next = ctx.consumers.get(layer.name) ?? [];
  if (next.length !== 1) return null;
  const bn = ctx.byName.get(next[0]);
  return bn && bn.className === 'BatchNormalization' ? bn : null;
}

function convert2d(ctx: ConvertContext, layer: KerasLayer, x: Value, depthwise: boolean): Value {
  const c = layer.config;
  if ((c.activation ?? 'linear') !== 'linear') throw new Error(`${layer.name}: fused activation '${String(c.activation)}' unsupported`);
  const [kh, kw] = pair(c.kernel_size, `${layer.name}.kernel_size`);
  const [sh, sw] = pair(c.strides, `${layer.name}.strides`);
  const [dh, dw] = pair(c.dilation_rate ?? [1, 1], `${layer.name}.dilation_rate`);
  const kernel = requireWeight(ctx.weights, `${layer.name}/${depthwise ? 'depthwise_kernel' : 'kernel'}`);
  const [cin, h0, w0] = x.shape;
  const pre = x.pendingPads ?? [0, 0, 0, 0];
  const [h, w] = [h0 + pre[0] + pre[2], w0 + pre[1] + pre[3]];
  const [pt, pb] = c.padding === 'same' ? samePads(h, kh, sh, dh) : [0, 0];
  const [pl, pr] = c.padding === 'same' ? samePads(w, kw, sw, dw) : [0, 0];
  const cout = depthwise ? cin * kernel.shape[3] : kernel.shape[3];
  const onnxKernel = depthwise ? depthwiseKernelToOnnx(kernel) : convKernelToOnnx(kernel);
  const bias = new Float64Array(cout);
  if (c.use_bias) requireWeight(ctx.weights, `${layer.name}/bias`).data.forEach((v, i) => { bias[i] = v; });
  let outName = layer.name;
  const bn = foldableBatchNorm(ctx, layer);
  if (bn) {
    const { scale, shift } = batchNormAffine(ctx, bn);
    const perOut = onnxKernel.length / cout;
    for (let o = 0; o < cout; o++) {
      for (let j = 0; j < perOut; j++) onnxKernel[o * perOut + j] = onnxKernel[o * perOut + j] * scale[o];
      bias[o] = bias[o] * scale[o] + shift[o];
    }
    ctx.folded.add(bn.name);
    outName = bn.name;
  }
  const kName = ctx.g.addFloat(`${outName}/W`, [cout, depthwise ? 1 : cin, kh, kw], onnxKernel);
  const inputs = [x.name, kName];
  if (bn || c.use_bias) inputs.push(ctx.g.addFloat(`${outName}/B`, [cout], Float32Array.from(bias)));
  ctx.g.addNode('Conv', inputs, [outName], {
    kernel_shape: [kh, kw], strides: [sh, sw], dilations: [dh, dw],
    pads: [pre[0] + pt, pre[1] + pl, pre[2] + pb, pre[3] + pr], group: depthwise ? cin : 1,
  }, layer.name);
  const outH = Math.floor((h + pt + pb - (kh - 1) * dh - 1) / sh) + 1;
  const outW = Math.floor((w + pl + pr - (kw - 1) * dw - 1) / sw) + 1;
  return { name: outName, shape: [cout, outH, outW] };
}

function denseLayer(ctx: ConvertContext, layer: KerasLayer, x: Value): Value {
  const kernel = requireWeight(ctx.weights, `${layer.name}/kernel`); // [in, out]
  const [din, dout] = kernel.shape;
  if (x.shape.length !== 1 || x.shape[0] !== din) throw new Error(`${layer.name}: input [${x.shape}] is not [${din}]`);
  const inputs = [x.name, ctx.g.addFloat(`${layer.name}/kernel`, [din, dout], kernel.data)];
  if (layer.config.use_bias !== false) {
    inputs.push(ctx.g.addFloat(`${layer.name}/bias`, [dout], requireWeight(ctx.weights, `${layer.name}/bias`).data));
  }
  const act = String(layer.config.activation ?? 'linear');
  const linear = act === 'linear' ? layer.name : `${layer.name}/linear`;
  ctx.g.addNode('Gemm', inputs, [linear], {}, layer.name);
  if (act === 'relu') ctx.g.addNode('Relu', [linear], [layer.name]);
  else if (act === 'softmax') ctx.g.addNode('Softmax', [linear], [layer.name], { axis: -1 });
  else if (act !== 'linear') throw new Error(`${layer.name}: activation '${act}' unsupported (linear, relu, softmax)`);
  return { name: layer.name, shape: [dout] };
}

function reluLayer(ctx: ConvertContext, layer: KerasLayer, x: Value): Value {
  const { max_value: maxValue, negative_slope: slope = 0, threshold = 0 } = layer.config;
  if (slope !== 0 || threshold !== 0) throw new Error(`${layer.name}: leaky/thresholded ReLU unsupported`);
  if (maxValue === null || maxValue === undefined) {
    ctx.g.addNode('Relu', [x.name], [layer.name]);
  } else {
    const bounds = `clip_0_${String(maxValue)}`;
    if (!ctx.values.has(bounds)) {
      ctx.g.addFloat(`${bounds}/min`, [], Float32Array.of(0));
      ctx.g.addFloat(`${bounds}/max`, [], Float32Array.of(Number(maxValue)));
      ctx.values.set(bounds, { name: bounds, shape: [] });
    }
    ctx.g.addNode('Clip', [x.name, `${bounds}/min`, `${bounds}/max`], [layer.name]);
  }
  return { name: layer.name, shape: x.shape };
}

function averagePoolLayer(ctx: ConvertContext, layer: KerasLayer, x: Value): Value {
  const [kh, kw] = pair(layer.config.pool_size, `${layer.name}.pool_size`);
  const [, h, w] = x.shape;
  if (layer.config.padding !== 'valid' || kh !== h || kw !== w) {
    throw new Error(`${layer.name}: only a valid pool over the whole ${h}x${w} map is supported, got ${kh}x${kw}`);
  }
  ctx.g.addNode('GlobalAveragePool', [x.name], [layer.name]);
  return { name: layer.name, shape: [x.shape[0], 1, 1] };
}

function flattenLayer(ctx: ConvertContext, layer: KerasLayer, x: Value): Value {
  // NCHW and NHWC flatten agree only when H = W = 1; larger maps would permute the features.
  if (x.shape.length === 3 && (x.shape[1] !== 1 || x.shape[2] !== 1)) {
    throw new Error(`${layer.name}: flattening a ${x.shape[1]}x${x.shape[2]} map would reorder channels`);
  }
  ctx.g.addNode('Flatten', [x.name], [layer.name], { axis: 1 });
  return { name: layer.name, shape: [x.shape.reduce((a, b) => a * b, 1)] };
}

function batchNormLayer(ctx: ConvertContext, layer: KerasLayer, x: Value): Value {
  if (ctx.folded.has(layer.name)) return x; // the conv already produced this layer's output
  const { scale, shift } = batchNormAffine(ctx, layer);
  const dims = x.shape.length === 3 ? [scale.length, 1, 1] : [scale.length];
  const s = ctx.g.addFloat(`${layer.name}/scale`, dims, Float32Array.from(scale));
  const b = ctx.g.addFloat(`${layer.name}/shift`, dims, Float32Array.from(shift));
  const scaled = ctx.g.addNode('Mul', [x.name, s], [`${layer.name}/scaled`])[0];
  ctx.g.addNode('Add', [scaled, b], [layer.name]);
  return { name: layer.name, shape: x.shape };
}

const CONVERTERS: Readonly<Record<string, Converter>> = Object.freeze({
  ZeroPadding2D: (_ctx, layer, [x]) => {
    const [[t, b], [l, r]] = layer.config.padding as [[number, number], [number, number]];
    const p = x.pendingPads ?? [0, 0, 0, 0];
    const [c, h, w] = x.shape;
    const pendingPads = [p[0] + t, p[1] + l, p[2] + b, p[3] + r];
    // The shape stays unpadded: the conv that consumes this adds pendingPads itself.
    return { name: x.name, shape: [c, h, w], pendingPads };
  },
  Conv2D: (ctx, layer, [x]) => convert2d(ctx, layer, x, false),
  DepthwiseConv2D: (ctx, layer, [x]) => convert2d(ctx, layer, x, true),
  BatchNormalization: (ctx, layer, [x]) => batchNormLayer(ctx, layer, x),
  ReLU: (ctx, layer, [x]) => reluLayer(ctx, layer, x),
  Add: (ctx, layer, xs) => {
    ctx.g.addNode('Add', [xs[0].name, xs[1].name], [layer.name]);
    return { name: layer.name, shape: xs[0].shape };
  },
  AveragePooling2D: (ctx, layer, [x]) => averagePoolLayer(ctx, layer, x),
  Flatten: (ctx, layer, [x]) => flattenLayer(ctx, layer, x),
  Dense: (ctx, layer, [x]) => denseLayer(ctx, layer, x),
  Dropout: (_ctx, _layer, [x]) => x, // inference: identity
});

/** Graph outputs: ONNX name -> Keras layer whose output it exposes. */
export interface OutputSpec { readonly [onnxName: string]: string }

/**
 * Convert a Keras functional model (one image input, NHWC [size, size, 3]) to an ONNX graph.
 * Returns the builder (outputs declared with a symbolic 'batch' axis) and each output's width.
 */
export function convertKerasModel(
  graphName: string, layers: readonly KerasLayer[], weights: ReadonlyMap<string, DecodedWeight>,
  size: number, outputs: OutputSpec,
): { graph: OnnxGraphBuilder; outputDims: Record<string, number> } {
  const g = new OnnxGraphBuilder(graphName);
  const consumers = new Map<string, string[]>();
  for (const l of layers) for (const i of l.inbound) consumers.set(i, [...(consumers.get(i) ?? []), l.name]);
  const ctx: ConvertContext = {
    g, weights, values: new Map(), consumers, byName: new Map(layers.map((l) => [l.name, l])), folded: new Set(),
  };
  for (const layer of layers) {
    if (layer.className === 'InputLayer') {
      g.addInput(PIXELS_INPUT, 'float32', ['batch', size, size, 3]);
      g.addNode('Transpose', [PIXELS_INPUT], [layer.name], { perm: [0, 3, 1, 2] });
      ctx.values.set(layer.name, { name: layer.name, shape: [3, size, size] });
      continue;
    }
    const convert = CONVERTERS[layer.className];
    if (!convert) throw new Error(`${layer.name}: layer type '${layer.className}' unsupported; valid: ${Object.keys(CONVERTERS).join(', ')}`);
    const inputs = layer.inbound.map((n) => {
      const v = ctx.values.get(n);
      if (!v) throw new Error(`${layer.name}: input '${n}' not converted yet`);
      if (v.pendingPads && !['Conv2D', 'DepthwiseConv2D'].includes(layer.className)) {
        throw new Error(`${layer.name}: ZeroPadding2D output feeds a ${layer.className}, only convs can absorb it`);
      }
      return v;
    });
    ctx.values.set(layer.name, convert(ctx, layer, inputs));
  }
  const outputDims: Record<string, number> = {};
  for (const [onnxName, kerasName] of Object.entries(outputs)) {
    const v = ctx.values.get(kerasName);
    if (!v || v.shape.length !== 1) throw new Error(`output '${onnxName}': layer '${kerasName}' missing or not a vector`);
    g.addNode('Identity', [v.name], [onnxName]);
    g.addOutput(onnxName, 'float32', ['batch', v.shape[0]]);
    outputDims[onnxName] = v.shape[0];
  }
  return { graph: g, outputDims };
}

