/**
 * The one file that owns onnxruntime-node. Everything else creates and runs sessions through
 * these few functions, so the runtime (threads, providers, tensor wrapping) is configured in one
 * place and can be swapped without touching the encoders.
 *
 * Sessions are expensive to create (graph optimisation, weight packing): create one per model
 * when an encoder loads and reuse it for every batch.
 */
import * as ort from 'onnxruntime-node';

/** Threading knobs exposed to callers; the machine is small, so the defaults are modest. */
export interface SessionOptions {
  /** Threads used inside one op (matmul etc.). Default 2. */
  readonly intraOpNumThreads?: number;
  /** Threads used across independent ops. Default 1 (sequential execution). */
  readonly interOpNumThreads?: number;
  /** Default 'all'. */
  readonly graphOptimizationLevel?: 'disabled' | 'basic' | 'extended' | 'all';
  /**
   * Let idle intra-op threads busy-wait for the next op. Faster on an idle machine, but on a
   * shared one spinning threads steal cores from everything else. Default false.
   */
  readonly allowSpinning?: boolean;
}

export const DEFAULT_SESSION_OPTIONS = Object.freeze({
  intraOpNumThreads: 2,
  interOpNumThreads: 1,
  graphOptimizationLevel: 'all',
  allowSpinning: false,
} as const satisfies Required<SessionOptions>);

/** An opaque handle to a loaded model. */
export interface OrtSession {
  readonly inputNames: readonly string[];
  readonly outputNames: readonly string[];
  /** @internal the runtime's session; only this file touches it. */
  readonly inner: ort.InferenceSession;
}

/** A feed tensor; the element type follows from the typed array. dims e.g. [batch, seq]. */
export interface InputTensor {
  readonly data: Float32Array | BigInt64Array | Int32Array;
  readonly dims: readonly number[];
}

/** An output tensor returned by a run (a fresh buffer per run): always float32, row-major over `dims`. */
export interface OutputTensor {
  readonly data: Float32Array;
  readonly dims: readonly number[];
}

/** Load a model from an .onnx path or from its serialized bytes. */
export async function createSession(
  model: string | Uint8Array,
  options: SessionOptions = {},
): Promise<OrtSession> {
  const merged = { ...DEFAULT_SESSION_OPTIONS, ...options };
  const sessionOptions: ort.InferenceSession.SessionOptions = {
    intraOpNumThreads: merged.intraOpNumThreads,
    interOpNumThreads: merged.interOpNumThreads,
    graphOptimizationLevel: merged.graphOptimizationLevel,
    executionMode: 'sequential',
    executionProviders: ['cpu'],
    logSeverityLevel: 3,
    extra: { session: { intra_op: { allow_spinning: merged.allowSpinning ? '1' : '0' } } },
  };
  const inner =
    typeof model === 'string'
      ? await ort.InferenceSession.create(model, sessionOptions)
      : await ort.InferenceSession.create(model, sessionOptions);
  return { inputNames: inner.inputNames, outputNames: inner.outputNames, inner };
}

function toOrtTensor(name: string, input: InputTensor): ort.Tensor {
  const size = input.dims.reduce((a, b) => a * b, 1);
  if (size !== input.data.length) {
    throw new Error(
      `feed '${name}': dims [${input.dims.join(', ')}] need ${size} elements, got ${input.data.length}`,
    );
  }
  const dims = [...input.dims];
  if (input.data instanceof Float32Array) return new ort.Tensor('float32', input.data, dims);
  if (input.data instanceof BigInt64Array) return new ort.Tensor('int64', input.data, dims);
  return new ort.Tensor('int32', input.data, dims);
}

/**
 * Run the model on `feeds` and return the requested outputs (graph outputs only: ORT cannot
 * return intermediate tensors, so add them as outputs when the graph is built).
 * Non-float32 outputs are rejected rather than silently converted.
 */
export async function runSession(
  session: OrtSession,
  feeds: Readonly<Record<string, InputTensor>>,
  outputNames: readonly string[],
): Promise<Record<string, OutputTensor>> {
  const ortFeeds: Record<string, ort.Tensor> = {};
  for (const [name, input] of Object.entries(feeds)) ortFeeds[name] = toOrtTensor(name, input);
  for (const name of outputNames) {
    if (!session.outputNames.includes(name)) {
      throw new Error(`unknown output '${name}'; valid: ${session.outputNames.join(', ')}`);
    }
  }
  const results = await session.inner.run(ortFeeds, [...outputNames]);
  const out: Record<string, OutputTensor> = {};
  for (const name of outputNames) {
    const tensor = results[name] as ort.Tensor;
    if (tensor.type !== 'float32') {
      throw new Error(`output '${name}': expected float32, got ${tensor.type}`);
    }
    out[name] = { data: tensor.data as Float32Array, dims: [...tensor.dims] };
  }
  return out;
}

/** Free the native session. The handle must not be used afterwards. */
export async function releaseSession(session: OrtSession): Promise<void> {
  await session.inner.release();
}
