/**
 * Conversion of Universal Sentence Encoder lite from its TF.js graph to ONNX.
 *
 * The TF.js graph works on a sparse batch (indices [n, 2], values [n]) and gathers/scatters the
 * valid tokens around every position-wise block. The ONNX graph below computes the same
 * function densely on padded ids [batch, seq]: position-wise blocks (layer norms, projections,
 * FFN) also run on padding, but padding is excluded from attention (key bias −1e9, as in the
 * original) and from pooling, so a sentence's outputs do not depend on its batch-mates.
 *
 *   ids [B, T] int64, padding = −1
 *   x  = 2·E[ids] + timing(T)                    [B, T, 256]   (the original adds E twice)
 *   x  = layer0(x)  pre-norm, 4 heads × 64, residual projected 256 -> 512   [B, T, 512]
 *   x  = layer1(x)  pre-norm, 4 heads × 128                              [B, T, 512]
 *   pooled    = Σ_t mask·x / max(len, 1)                                  [B, 512]
 *   embedding = l2normalize(tanh(pooled · W + b))  (tanh_layer_0)         [B, 512]
 */
import { OnnxGraphBuilder, float } from './onnx-graph.ts';
import { requireWeight, type DecodedWeight } from './tfjs-weights.ts';

export const PAD_ID = -1;
export const INPUT_IDS = 'ids';
export const OUTPUT_POOLED = 'pooled';
export const OUTPUT_EMBEDDING = 'embedding';
/** Name of the initializer holding the adapted layer, W: [in, out] as TF stores it. */
export const TANH_WEIGHTS = 'tanh_layer_0/weights';
export const TANH_BIAS = 'tanh_layer_0/bias';

const ENCODE = 'module_apply_default/Encoder_en/KonaTransformer/Encode';
const STACK = `${ENCODE}/TransformerStack`;
const VARS = 'module/Encoder_en/KonaTransformer/Encode';

/** TF.js weight names, by role. */
export const TF_NAMES = Object.freeze({
  embeddings: 'module/Embeddings_en',
  invTimescales: `${STACK}/Layer_0/AddTimingSignal/TimingSignal/ExpandDims_1`,
  layerNormEps: `${STACK}/Layer_1/TransformerLayer/FFN/layer_prepostprocess/layer_norm/Cast/x`,
  maskBias: `${STACK}/Layer_1/TransformerLayer/MultiheadAttention/DotProductAttention/attention_bias_ignore_padding/mul/y`,
  maxTokens: 'module_apply_default/Encoder_en/KonaTransformer/ClipToMaxLength/Less/y',
  tanhWeights: 'module/Encoder_en/hidden_layers/tanh_layer_0/weights',
  tanhBias: 'module/Encoder_en/hidden_layers/tanh_layer_0/bias',
  l2Eps: 'module_apply_default/Encoder_en/hidden_layers/l2_normalize/Maximum/y',
});

type Weights = ReadonlyMap<string, DecodedWeight>;

/** Weight names of transformer layer i. */
function layerNames(i: number) {
  const layer = `${ENCODE}/Layer_${i}/TransformerLayer`;
  const stack = `${STACK}/Layer_${i}/TransformerLayer`;
  const ln = (path: string, part: 'scale' | 'bias') =>
    `${layer}/${path}layer_prepostprocess/layer_norm/layer_norm_${part}/ConcatPartitions/concat`;
  return {
    attnNormScale: ln('', 'scale'),
    attnNormBias: ln('', 'bias'),
    qkvKernel: `${VARS}/Layer_${i}/TransformerLayer/MultiheadAttention/qkv_transform_single/kernel/part_0`,
    qkvBias: `${layer}/MultiheadAttention/qkv_transform_single/bias/ConcatPartitions/concat`,
    queryScale: `${stack}/MultiheadAttention/mul/y`,
    headDim: `${stack}/MultiheadAttention/split_heads/split_last_dimension/Reshape/shape/3`,
    outKernel: `${VARS}/Layer_${i}/TransformerLayer/MultiheadAttention/output_transform_single/kernel/part_0`,
    outBias: `${layer}/MultiheadAttention/output_transform_single/bias/ConcatPartitions/concat`,
    residualKernel: `${layer}/dense/kernel/ConcatPartitions/concat`,
    residualBias: `${layer}/dense/bias/ConcatPartitions/concat`,
    ffnNormScale: ln('FFN/', 'scale'),
    ffnNormBias: ln('FFN/', 'bias'),
    ffn1Kernel: `${stack}/FFN/conv1/Tensordot/Reshape_1`,
    ffn1Bias: `${layer}/FFN/conv1/bias/ConcatPartitions/concat`,
    ffn2Kernel: `${stack}/FFN/conv2/Tensordot/Reshape_1`,
    ffn2Bias: `${layer}/FFN/conv2/bias/ConcatPartitions/concat`,
  };
}

function scalar(weights: Weights, name: string): number {
  return requireWeight(weights, name).data[0];
}

/** Builder plus weight access, shared by the block functions below. */
interface Ctx {
  readonly g: OnnxGraphBuilder;
  readonly w: Weights;
  readonly eps: number;
}

/** Copy a TF weight into the model as an initializer, with 1×1 conv kernels flattened to [in, out]. */
function weight(ctx: Ctx, tfName: string, onnxName: string): string {
  const w = requireWeight(ctx.w, tfName);
  const dims = w.shape.length === 4 ? w.shape.slice(2) : w.shape;
  return ctx.g.addFloat(onnxName, dims, w.data);
}

function constF(ctx: Ctx, name: string, value: number): string {
  return ctx.g.addFloat(name, [], Float32Array.of(value));
}

/** y = x·W + b, x: [..., in], W: [in, out]. */
function dense(ctx: Ctx, x: string, kernel: string, bias: string, name: string): string {
  const w = weight(ctx, kernel, `${name}/kernel`);
  const b = weight(ctx, bias, `${name}/bias`);
  return ctx.g.op('Add', [ctx.g.op('MatMul', [x, w], {}, `${name}/matmul`), b], {}, name);
}

function layerNorm(ctx: Ctx, x: string, scale: string, bias: string, name: string): string {
  const s = weight(ctx, scale, `${name}/scale`);
  const b = weight(ctx, bias, `${name}/bias`);
  return ctx.g.op('LayerNormalization', [x, s, b], { axis: -1, epsilon: float(ctx.eps) }, name);
}

/** [B, T, H·D] -> [B, H, T, D] (or [B, H, D, T] for keys, ready for q·kᵀ). */
function splitHeads(
  ctx: Ctx, x: string, heads: number, headDim: number, transposeKey: boolean, name: string,
): string {
  const shape = ctx.g.addInt64(`${name}/shape`, [0, 0, heads, headDim]);
  const r = ctx.g.op('Reshape', [x, shape], {}, `${name}/reshape`);
  return ctx.g.op('Transpose', [r], { perm: transposeKey ? [0, 2, 3, 1] : [0, 2, 1, 3] }, name);
}

/** Multi-head self-attention with the padding bias; x: [B, T, width] -> [B, T, 512]. */
function attention(ctx: Ctx, x: string, bias: string, i: number, width: number): string {
  const n = layerNames(i);
  const p = `layer${i}/attention`;
  const headDim = scalar(ctx.w, n.headDim);
  const heads = width / headDim;
  const qkv = dense(ctx, x, n.qkvKernel, n.qkvBias, `${p}/qkv`);
  const split = ctx.g.addInt64(`${p}/split`, [width, width, width]);
  const [q, k, v] = ctx.g.addNode('Split', [qkv, split], [`${p}/q`, `${p}/k`, `${p}/v`], { axis: 2 });
  const qHeads = splitHeads(ctx, q, heads, headDim, false, `${p}/qh`);
  const queryScale = constF(ctx, `${p}/query_scale`, scalar(ctx.w, n.queryScale)); // 1/√D
  const qh = ctx.g.op('Mul', [qHeads, queryScale], {}, `${p}/q_scaled`);
  const kt = splitHeads(ctx, k, heads, headDim, true, `${p}/kt`);
  const vh = splitHeads(ctx, v, heads, headDim, false, `${p}/vh`);
  const qk = ctx.g.op('MatMul', [qh, kt], {}, `${p}/qk`); // [B, H, T, T]
  const logits = ctx.g.op('Add', [qk, bias], {}, `${p}/logits`);
  const probs = ctx.g.op('Softmax', [logits], { axis: -1 }, `${p}/probs`);
  const ctxh = ctx.g.op('MatMul', [probs, vh], {}, `${p}/context`); // [B, H, T, D]
  const merged = ctx.g.op('Transpose', [ctxh], { perm: [0, 2, 1, 3] }, `${p}/merge`);
  const mergeShape = ctx.g.addInt64(`${p}/merge_shape`, [0, 0, width]);
  const flat = ctx.g.op('Reshape', [merged, mergeShape], {}, `${p}/merged`); // [B, T, width]
  return dense(ctx, flat, n.outKernel, n.outBias, `${p}/output`);
}

/** One pre-norm transformer layer: x + attn(LN(x)), then + FFN(LN(·)). */
function transformerLayer(
  ctx: Ctx, x: string, bias: string, i: number, width: number, projectResidual: boolean,
): string {
  const n = layerNames(i);
  const normed = layerNorm(ctx, x, n.attnNormScale, n.attnNormBias, `layer${i}/attention_norm`);
  const attended = attention(ctx, normed, bias, i, width);
  const residual = projectResidual ? dense(ctx, x, n.residualKernel, n.residualBias, `layer${i}/residual`) : x;
  const h = ctx.g.op('Add', [attended, residual], {}, `layer${i}/attention_out`);
  const hn = layerNorm(ctx, h, n.ffnNormScale, n.ffnNormBias, `layer${i}/ffn_norm`);
  const f1Pre = dense(ctx, hn, n.ffn1Kernel, n.ffn1Bias, `layer${i}/ffn1`);
  const f1 = ctx.g.op('Relu', [f1Pre], {}, `layer${i}/ffn1_relu`);
  const f2 = dense(ctx, f1, n.ffn2Kernel, n.ffn2Bias, `layer${i}/ffn2`);
  return ctx.g.op('Add', [f2, h], {}, `layer${i}/out`);
}

/** x = E[ids] + (E[ids] + timing), as the original sums two scatters; plus mask tensors. */
function embed(ctx: Ctx): { x: string; maskF: string; bias: string } {
  const { g } = ctx;
  const padId = g.addInt64('pad_id', [PAD_ID], []);
  const valid = g.op('Greater', [INPUT_IDS, padId], {}, 'valid'); // [B, T] bool
  const maskF = g.op('Cast', [valid], { to: 1 }, 'mask'); // float
  const zeroId = g.addInt64('zero_id', [0], []);
  const safeIds = g.op('Max', [INPUT_IDS, zeroId], {}, 'safe_ids');
  const table = weight(ctx, TF_NAMES.embeddings, 'embeddings');
  const e = g.op('Gather', [table, safeIds], { axis: 0 }, 'token_embedding'); // [B, T, 256]
  // timing(t) = [sin(t·inv), cos(t·inv)], inv: [1, 128]
  const idsShape = g.op('Shape', [INPUT_IDS], {}, 'ids_shape');
  const seqLen = g.op('Gather', [idsShape, g.addInt64('seq_axis', [1], [])], { axis: 0 }, 'seq_len');
  const start = g.addInt64('range_start', [0], []);
  const positions = g.op('Range', [start, seqLen, g.addInt64('range_step', [1], [])], {}, 'positions');
  const positionsF = g.op('Cast', [positions], { to: 1 }, 'positions_f');
  const posCol = g.op('Unsqueeze', [positionsF, g.addInt64('col_axis', [1])], {}, 'positions_col'); // [T, 1]
  const invTimescales = weight(ctx, TF_NAMES.invTimescales, 'inv_timescales');
  const scaled = g.op('Mul', [posCol, invTimescales], {}, 'scaled_time'); // [T, 128]
  const sin = g.op('Sin', [scaled], {}, 'sin');
  const cos = g.op('Cos', [scaled], {}, 'cos');
  const timing = g.op('Concat', [sin, cos], { axis: 1 }, 'timing'); // [T, 256]
  const withTiming = g.op('Add', [e, timing], {}, 'with_timing');
  const x = g.op('Add', [e, withTiming], {}, 'input_embedding');
  // Attention bias: 0 on tokens, −1e9 on padding, [B, 1, 1, T] to broadcast over heads and queries.
  const isPad = g.op('Not', [valid], {}, 'is_pad');
  const padF = g.op('Cast', [isPad], { to: 1 }, 'pad_f');
  const maskBias = constF(ctx, 'mask_bias', scalar(ctx.w, TF_NAMES.maskBias));
  const biasBT = g.op('Mul', [padF, maskBias], {}, 'pad_bias');
  const bias = g.op('Unsqueeze', [biasBT, g.addInt64('bias_axes', [1, 2])], {}, 'attention_bias');
  return { x, maskF, bias };
}

/** Masked mean over tokens: Σ_t mask·x / max(len, 1), x: [B, T, 512] -> [B, 512]. */
function meanPool(ctx: Ctx, x: string, maskF: string): string {
  const { g } = ctx;
  const axis1 = g.addInt64('token_axis', [1]);
  const maskCol = g.op('Unsqueeze', [maskF, g.addInt64('feature_axis', [2])], {}, 'mask_col'); // [B, T, 1]
  const masked = g.op('Mul', [x, maskCol], {}, 'masked');
  const sum = g.op('ReduceSum', [masked, axis1], { keepdims: 0 }, 'token_sum');
  const len = g.op('ReduceSum', [maskF, axis1], { keepdims: 1 }, 'lengths'); // [B, 1]
  const denom = g.op('Max', [len, constF(ctx, 'one', 1)], {}, 'denominator');
  return g.addNode('Div', [sum, denom], [OUTPUT_POOLED])[0];
}

/** embedding = l2normalize(tanh(pooled·W + b)); W stored [in, out] under TANH_WEIGHTS. */
function tanhHead(ctx: Ctx, pooled: string): string {
  const { g } = ctx;
  const tfW = requireWeight(ctx.w, TF_NAMES.tanhWeights);
  const tfB = requireWeight(ctx.w, TF_NAMES.tanhBias);
  const w = g.addFloat(TANH_WEIGHTS, tfW.shape, tfW.data);
  const b = g.addFloat(TANH_BIAS, tfB.shape, tfB.data);
  const product = g.op('MatMul', [pooled, w], {}, 'tanh_layer_0/matmul');
  const t = g.op('Tanh', [g.op('Add', [product, b], {}, 'tanh_layer_0/pre')], {}, 'tanh_layer_0');
  const squares = g.op('Mul', [t, t], {}, 'squares');
  const sq = g.op('ReduceSum', [squares, g.addInt64('last_axis', [1])], { keepdims: 1 }, 'sum_squares');
  const clamped = g.op('Max', [sq, constF(ctx, 'l2_eps', scalar(ctx.w, TF_NAMES.l2Eps))], {}, 'clamped');
  const norm = g.op('Sqrt', [clamped], {}, 'norm');
  return g.addNode('Div', [t, norm], [OUTPUT_EMBEDDING])[0];
}

/** Serialise the whole USE-lite graph (deterministic bytes for the same weights). */
export function convertUseLite(weights: Weights, docString: string): Uint8Array {
  const g = new OnnxGraphBuilder('use_lite');
  const ctx: Ctx = { g, w: weights, eps: scalar(weights, TF_NAMES.layerNormEps) };
  g.addInput(INPUT_IDS, 'int64', ['batch', 'seq']);
  const { x, maskF, bias } = embed(ctx);
  const width0 = requireWeight(weights, TF_NAMES.embeddings).shape[1];
  const h0 = transformerLayer(ctx, x, bias, 0, width0, true);
  const width1 = requireWeight(weights, layerNames(1).attnNormScale).shape[0];
  const h1 = transformerLayer(ctx, h0, bias, 1, width1, false);
  const pooled = meanPool(ctx, h1, maskF);
  const embedding = tanhHead(ctx, pooled);
  const dim = requireWeight(weights, TF_NAMES.tanhBias).shape[0];
  g.addOutput(pooled, 'float32', ['batch', dim]);
  g.addOutput(embedding, 'float32', ['batch', dim]);
  return g.serialize(docString);
}
