/**
 * Reads the pretrained MobileNetV2 that ships inside the npm package nsfwjs@4.4.0 (MIT):
 * `dist/models/mobilenet_v2/model.min.js` (Keras 2.2.4 topology + weightsManifest) and
 * `group1-shard1of1.min.js` (the weight shard as a base64 string, uint8-quantised).
 *
 * Both files are CommonJS bundles (the folder's package.json says so) that export plain data,
 * so `require` gives the JSON object and the base64 string without running TF.js.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { decodeWeights, type DecodedWeight, type TfjsWeightGroup } from './tfjs-weights.ts';

const require = createRequire(import.meta.url);

/** Where the model lives inside the installed package (its main entry is dist/cjs/index.js). */
export const NSFWJS_MODEL_DIR = path.join(
  path.dirname(require.resolve('nsfwjs')), '..', 'models', 'mobilenet_v2',
);
const MODEL_FILE = path.join(NSFWJS_MODEL_DIR, 'model.min.js');
const SHARD_FILE = path.join(NSFWJS_MODEL_DIR, 'group1-shard1of1.min.js');

/** One Keras layer of the functional model config; `inbound` lists input layer names. */
export interface KerasLayer {
  readonly className: string;
  readonly name: string;
  readonly config: Readonly<Record<string, unknown>>;
  readonly inbound: readonly string[];
}

/** The model JSON as the nsfwjs bundle exports it. */
export interface NsfwModelJson {
  readonly modelTopology: {
    readonly keras_version: string;
    readonly model_config: {
      readonly config: {
        readonly layers: readonly {
          readonly class_name: string;
          readonly name: string;
          readonly config: Record<string, unknown>;
          readonly inbound_nodes: readonly (readonly (readonly unknown[])[])[];
        }[];
      };
    };
  };
  readonly weightsManifest: readonly TfjsWeightGroup[];
}

/** Everything conversion needs, plus a digest of the source files (recorded in the sidecar). */
export interface MobileNetSource {
  readonly modelJson: NsfwModelJson;
  readonly layers: readonly KerasLayer[];
  readonly weights: ReadonlyMap<string, DecodedWeight>;
  /** sha256 over model.min.js then group1-shard1of1.min.js: changes iff the package's model does. */
  readonly sourceSha256: string;
  /** Shard name -> base64 weight string, the form nsfwjs itself consumes. */
  readonly weightBundles: Readonly<Record<string, string>>;
}

/** sha256 of the two source files, cheap enough to check on every build call. */
export function mobileNetSourceSha256(): string {
  const h = createHash('sha256');
  h.update(readFileSync(MODEL_FILE));
  h.update(readFileSync(SHARD_FILE));
  return h.digest('hex');
}

/** Keras layers in config order (which is topological for a functional model). */
export function kerasLayers(json: NsfwModelJson): KerasLayer[] {
  return json.modelTopology.model_config.config.layers.map((l) => ({
    className: l.class_name,
    name: l.name,
    config: l.config,
    inbound: (l.inbound_nodes[0] ?? []).map((ref) => String(ref[0])),
  }));
}

/** Load topology and dequantised weights from the installed nsfwjs package. */
export function loadMobileNetSource(): MobileNetSource {
  const modelJson = require(MODEL_FILE) as NsfwModelJson;
  const shardBase64 = require(SHARD_FILE) as unknown;
  if (typeof shardBase64 !== 'string') {
    throw new Error(`expected ${SHARD_FILE} to export a base64 string, got ${typeof shardBase64}`);
  }
  const manifest = modelJson.weightsManifest;
  const paths = manifest.flatMap((g) => g.paths);
  if (paths.length !== 1 || paths[0] !== 'group1-shard1of1') {
    throw new Error(`expected one shard 'group1-shard1of1', manifest lists: ${paths.join(', ')}`);
  }
  const bytes = new Uint8Array(Buffer.from(shardBase64, 'base64'));
  return {
    modelJson,
    layers: kerasLayers(modelJson),
    weights: decodeWeights(manifest, bytes),
    sourceSha256: mobileNetSourceSha256(),
    weightBundles: { 'group1-shard1of1': shardBase64 },
  };
}
