/**
 * The one seam to onnxruntime-node. Everything else creates and runs sessions through these few
 * functions, so the runtime (threads, providers, tensor wrapping) is configured in one place and
 * can be swapped without touching the encoders.
 *
 * ORT computes a run on the thread that calls it, so the sessions live in a thread of their own
 * (ort-worker.ts, started by ort-host.ts): a backbone run never holds the event loop, which
 * only packs the feeds and receives the outputs. Feed buffers are moved to that thread, not
 * copied: after `runSession` the caller's feed arrays are empty (detached).
 *
 * A process that calls `process.exit()` while a run is in flight aborts (exit code 134, ORT's
 * native run cannot be interrupted): await the encoders' calls or dispose them first, as the
 * server's shutdown does. Otherwise the thread never keeps a process alive.
 *
 * Sessions are expensive to create (graph optimisation, weight packing): create one per model
 * when an encoder loads and reuse it for every batch.
 */
import type { TransferListItem } from 'node:worker_threads';
import { OrtHost } from './ort-host.ts';

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
  /** @internal the session's number in the runtime thread; only this file uses it. */
  readonly id: number;
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

/** The process's runtime thread, shared by every session (one thread; runs queue there). */
export const ortHost = new OrtHost();
let nextSession = 1;

/** Load a model from an .onnx path or from its serialized bytes. */
export async function createSession(
  model: string | Uint8Array,
  options: SessionOptions = {},
): Promise<OrtSession> {
  const id = nextSession++;
  const names = await ortHost.create(id, { model, options: { ...DEFAULT_SESSION_OPTIONS, ...options } });
  return { ...names, id };
}

function checkFeed(name: string, input: InputTensor): void {
  const size = input.dims.reduce((a, b) => a * b, 1);
  if (size !== input.data.length) {
    throw new Error(
      `feed '${name}': dims [${input.dims.join(', ')}] need ${size} elements, got ${input.data.length}`,
    );
  }
}

/** The feed's buffer when it can be moved (it is the whole buffer and not shared); else null. */
function movable(data: InputTensor['data']): ArrayBuffer | null {
  const buffer = data.buffer;
  return buffer instanceof ArrayBuffer && data.byteOffset === 0 && data.byteLength === buffer.byteLength ? buffer : null;
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
  for (const [name, input] of Object.entries(feeds)) checkFeed(name, input);
  for (const name of outputNames) {
    if (!session.outputNames.includes(name)) {
      throw new Error(`unknown output '${name}'; valid: ${session.outputNames.join(', ')}`);
    }
  }
  const transfer = new Set<TransferListItem>();
  for (const input of Object.values(feeds)) {
    const buffer = movable(input.data);
    if (buffer) transfer.add(buffer);
  }
  return await ortHost.run(session.id, { feeds, outputs: [...outputNames] }, [...transfer]) as Record<string, OutputTensor>;
}

/** Free the session. The handle must not be used afterwards. */
export async function releaseSession(session: OrtSession): Promise<void> {
  await ortHost.release(session.id);
}
