/**
 * The vision backbone: nsfwjs' MobileNetV2 converted to ONNX at build time, run with ORT.
 *
 * Build: `buildMobileNetV2(modelsDir)` writes `mobilenet-v2.onnx` plus a sidecar
 * `mobilenet-v2.json` ({ sha256, featureDim, ... }). It is idempotent: when the sidecar names the
 * current package's source digest and the ONNX file still hashes to the recorded sha256, nothing
 * is rebuilt. The same package always yields the same bytes, so the sha256 is the base model's
 * identity in the registry.
 *
 * Graph: pixels [N, 224, 224, 3] (NHWC, RGB, /255, see image-preprocess.ts) ->
 *   features [N, 1280]  global-average-pooled `out_relu` (Keras `flatten_1`): the cached feature
 *   head     [N, 256]   dense_1 (relu): exposed for checking the pretrained head layer
 *   probs    [N, 5]     nsfwjs' own softmax output: checks the whole network end to end
 */
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { sha256 } from './onnx-graph.ts';
import { convertKerasModel, PIXELS_INPUT } from './mobilenet-v2-graph.ts';
import { loadMobileNetSource, mobileNetSourceSha256 } from './mobilenet-v2-source.ts';
import { requireWeight } from './tfjs-weights.ts';
import { MOBILENET_SIZE, preprocessBatch } from './image-preprocess.ts';
import type { RgbImage } from './image.ts';
import { createSession, releaseSession, runSession, type OrtSession, type SessionOptions } from './ort.ts';
import type { AdaptedLayer, Encoder } from './types.ts';

export const MOBILENET_NAME = 'mobilenet-v2';
export const MOBILENET_FEATURE_DIM = 1280;
export const MOBILENET_ONNX_FILE = `${MOBILENET_NAME}.onnx`;
export const MOBILENET_SIDECAR_FILE = `${MOBILENET_NAME}.json`;

/** Graph outputs -> the Keras layers they expose. */
const OUTPUTS = Object.freeze({ features: 'flatten_1', head: 'dense_1', probs: 'dense_3' });
export type MobileNetOutput = keyof typeof OUTPUTS;

/** What the sidecar records about a build. */
export interface MobileNetSidecar {
  readonly name: typeof MOBILENET_NAME;
  readonly sha256: string;
  readonly featureDim: number;
  readonly bytes: number;
  readonly input: { readonly name: string; readonly layout: 'NHWC'; readonly dims: readonly (string | number)[] };
  readonly outputs: Readonly<Record<string, readonly (string | number)[]>>;
  readonly preprocessing: string;
  readonly source: { readonly package: string; readonly files: string; readonly sha256: string };
}

export interface BuildResult {
  readonly onnxPath: string;
  readonly sidecarPath: string;
  readonly sidecar: MobileNetSidecar;
  /** false when an up-to-date build was found and reused. */
  readonly built: boolean;
}

/** Convert the package's model to ONNX bytes (pure, deterministic; ~1 s). */
export function convertMobileNetV2(): { bytes: Uint8Array; sidecar: MobileNetSidecar } {
  const source = loadMobileNetSource();
  const { graph, outputDims } = convertKerasModel(
    MOBILENET_NAME, source.layers, source.weights, MOBILENET_SIZE, OUTPUTS,
  );
  if (outputDims.features !== MOBILENET_FEATURE_DIM) {
    throw new Error(`pooled features have ${outputDims.features} dims, expected ${MOBILENET_FEATURE_DIM}`);
  }
  const bytes = graph.serialize('MobileNetV2 from nsfwjs@4.4.0, BatchNorm folded; outputs features/head/probs');
  const sidecar: MobileNetSidecar = {
    name: MOBILENET_NAME,
    sha256: sha256(bytes),
    featureDim: MOBILENET_FEATURE_DIM,
    bytes: bytes.byteLength,
    input: { name: PIXELS_INPUT, layout: 'NHWC', dims: ['batch', MOBILENET_SIZE, MOBILENET_SIZE, 3] },
    outputs: Object.fromEntries(Object.entries(outputDims).map(([k, d]) => [k, ['batch', d]])),
    preprocessing: 'RGB (alpha over white), /255, bilinear resize to 224x224 with alignCorners (TF.js CPU)',
    source: {
      package: 'nsfwjs@4.4.0',
      files: 'dist/models/mobilenet_v2/{model.min.js,group1-shard1of1.min.js}',
      sha256: source.sourceSha256,
    },
  };
  return { bytes, sidecar };
}

/** The sidecar of an up-to-date build in `modelsDir`, or null if missing, stale or corrupt. */
export function readCurrentBuild(modelsDir: string): MobileNetSidecar | null {
  const onnxPath = path.join(modelsDir, MOBILENET_ONNX_FILE);
  const sidecarPath = path.join(modelsDir, MOBILENET_SIDECAR_FILE);
  if (!existsSync(onnxPath) || !existsSync(sidecarPath)) return null;
  try {
    const sidecar = JSON.parse(readFileSync(sidecarPath, 'utf8')) as MobileNetSidecar;
    if (sidecar.source?.sha256 !== mobileNetSourceSha256()) return null;
    if (sha256(readFileSync(onnxPath)) !== sidecar.sha256) return null;
    return sidecar;
  } catch {
    return null;
  }
}

/** Write atomically (temp file + rename) so a crash never leaves a half-written model. */
function writeAtomic(file: string, data: Uint8Array | string): void {
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, data);
  renameSync(tmp, file);
}

/** Build `modelsDir/mobilenet-v2.onnx` + sidecar unless an up-to-date build is there. */
export function buildMobileNetV2(modelsDir: string, options: { force?: boolean } = {}): BuildResult {
  const onnxPath = path.join(modelsDir, MOBILENET_ONNX_FILE);
  const sidecarPath = path.join(modelsDir, MOBILENET_SIDECAR_FILE);
  const current = options.force ? null : readCurrentBuild(modelsDir);
  if (current) return { onnxPath, sidecarPath, sidecar: current, built: false };
  const { bytes, sidecar } = convertMobileNetV2();
  mkdirSync(modelsDir, { recursive: true });
  writeAtomic(onnxPath, bytes);
  writeAtomic(sidecarPath, `${JSON.stringify(sidecar, null, 2)}\n`);
  return { onnxPath, sidecarPath, sidecar, built: true };
}

/**
 * The two places LoRA can attach over the 1280-d pooled features:
 *  - head: the pretrained dense_1 (1280 -> 256, relu). Blocks 11+ and this head were tuned on
 *    nsfwjs' 5-class task, so it is a learned but task-specific projection.
 *  - identity: W = I (1280x1280), b = 0, no activation, L2-normalised output. With B = 0 an
 *    adapter is exactly cosine on the raw features, the generic backbone.
 * Which one is used is decided on meta-validation accuracy, not here.
 */
export function mobileNetLayers(): { head: AdaptedLayer; identity: AdaptedLayer } {
  const { weights } = loadMobileNetSource();
  const kernel = requireWeight(weights, 'dense_1/kernel'); // Keras [in, out]
  const [inDim, outDim] = kernel.shape;
  const weight = new Float32Array(outDim * inDim); // [out, in]
  for (let i = 0; i < inDim; i++) for (let o = 0; o < outDim; o++) weight[o * inDim + i] = kernel.data[i * outDim + o];
  const head: AdaptedLayer = {
    name: 'dense_1', inDim, outDim, weight,
    bias: Float32Array.from(requireWeight(weights, 'dense_1/bias').data),
    activation: 'relu', normalize: true,
  };
  return { head, identity: identityLayer(MOBILENET_FEATURE_DIM) };
}

/** y = normalize(I·x + 0): a linear layer that starts as a no-op, for LoRA to adapt. */
export function identityLayer(dim: number): AdaptedLayer {
  const weight = new Float32Array(dim * dim);
  for (let i = 0; i < dim; i++) weight[i * dim + i] = 1;
  return { name: `identity_${dim}`, inDim: dim, outDim: dim, weight, bias: new Float32Array(dim), activation: 'identity', normalize: true };
}

/** Options of the image encoder; defaults suit the 2-core machine. */
export interface ImageEncoderOptions {
  /** Which layer LoRA attaches to (see mobileNetLayers). Default 'identity'. */
  readonly layer?: 'identity' | 'head';
  /** Images per ORT run. Default 16. */
  readonly batchSize?: number;
  readonly session?: SessionOptions;
}

/** Run one preprocessed batch and return the requested outputs, one row per image. */
export async function runMobileNet(
  session: OrtSession, images: readonly RgbImage[], output: MobileNetOutput = 'features',
): Promise<Float32Array[]> {
  const pixels = preprocessBatch(images);
  const dims = [images.length, MOBILENET_SIZE, MOBILENET_SIZE, 3];
  const result = (await runSession(session, { [PIXELS_INPUT]: { data: pixels, dims } }, [output]))[output];
  const width = result.dims[1];
  return images.map((_, i) => result.data.slice(i * width, (i + 1) * width));
}

/**
 * Build (if needed) and load the vision encoder. `embedFeatures` returns one 1280-d pooled
 * feature row per image, in order, running ORT `batchSize` images at a time.
 */
export async function loadImageEncoder(
  modelsDir: string, options: ImageEncoderOptions = {},
): Promise<Encoder<RgbImage>> {
  const batchSize = options.batchSize ?? 16;
  if (!(Number.isInteger(batchSize) && batchSize > 0)) throw new Error(`batchSize must be a positive integer, got ${batchSize}`);
  const layers = mobileNetLayers();
  const layerKey = options.layer ?? 'identity';
  if (!(layerKey in layers)) throw new Error(`unknown layer '${layerKey}'; valid: ${Object.keys(layers).join(', ')}`);
  const { onnxPath, sidecar } = buildMobileNetV2(modelsDir);
  const session = await createSession(onnxPath, options.session);
  let disposed = false;
  return {
    name: MOBILENET_NAME,
    modality: 'image',
    onnxSha256: sidecar.sha256,
    featureDim: sidecar.featureDim,
    layer: layers[layerKey],
    async embedFeatures(inputs) {
      if (disposed) throw new Error(`${MOBILENET_NAME} encoder was disposed`);
      const rows: Float32Array[] = [];
      for (let start = 0; start < inputs.length; start += batchSize) {
        rows.push(...(await runMobileNet(session, inputs.slice(start, start + batchSize))));
      }
      return rows;
    },
    async dispose() {
      if (disposed) return;
      disposed = true;
      await releaseSession(session);
    },
  };
}
