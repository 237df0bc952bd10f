/**
 * The contract between the frozen backbones and everything that consumes them (feature cache,
 * adapter math, server). A backbone is split at the pretrained linear layer that LoRA attaches
 * to: ONNX computes that layer's *input* once per example (the cached feature), and the layer
 * itself is re-run in TypeScript so adapters can add ΔW to it and take gradients.
 */

/** The pretrained linear layer LoRA attaches to; its input is the cached feature. */
export interface AdaptedLayer {
  readonly name: string;
  readonly inDim: number;
  readonly outDim: number;
  /** W: [out, in] row-major, so y = act(W·x + b). */
  readonly weight: Float32Array;
  /** b: [out] */
  readonly bias: Float32Array;
  readonly activation: 'tanh' | 'relu' | 'identity';
  /** L2-normalise the layer output (USE does). */
  readonly normalize: boolean;
}

/** A frozen backbone that turns raw inputs into features for the adapted layer. */
export interface Encoder<I> {
  /** 'use-lite' | 'mobilenet-v2' */
  readonly name: string;
  readonly modality: 'text' | 'image';
  /** sha256 of the ONNX bytes this encoder runs: the base model's identity in the registry. */
  readonly onnxSha256: string;
  /** Dimension of cached features = layer.inDim. */
  readonly featureDim: number;
  readonly layer: AdaptedLayer;
  /** Batched: one Float32Array row (featureDim) per input, in order. */
  embedFeatures(inputs: readonly I[]): Promise<Float32Array[]>;
  dispose(): Promise<void>;
}
