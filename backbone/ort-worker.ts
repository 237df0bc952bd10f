/**
 * The ONNX runtime thread: the one module that imports onnxruntime-node. It owns every ORT
 * session of the process and runs them here, because `InferenceSession.run` computes on the
 * calling thread: on the event loop one batch of 256 paragraphs held every other request for
 * tens of milliseconds. Started and spoken to only by ort-host.ts.
 *
 * Messages are handled one at a time, in order, so a session's `create` always precedes its
 * first `run`, and runs never compete for the cores the intra-op threads already use.
 */
import * as ort from 'onnxruntime-node';
import { parentPort, type MessagePort, type TransferListItem } from 'node:worker_threads';
import type { InputTensor, OutputTensor, SessionOptions } from './ort.ts';

/** What the host sends. `call` pairs a request with its reply. */
export type OrtRequest =
  | { readonly kind: 'create'; readonly call: number; readonly session: number; readonly model: string | Uint8Array; readonly options: Required<SessionOptions> }
  | { readonly kind: 'run'; readonly call: number; readonly session: number; readonly feeds: Readonly<Record<string, InputTensor>>; readonly outputs: readonly string[] }
  | { readonly kind: 'release'; readonly call: number; readonly session: number }
  /** End the thread now: it arrives only between runs (a run holds this thread's loop). */
  | { readonly kind: 'stop'; readonly call: number };

export interface SessionNames {
  readonly inputNames: readonly string[];
  readonly outputNames: readonly string[];
}

/** The reply to one request: its value, or the message of the error it raised. */
export type OrtReply =
  | { readonly call: number; readonly ok: true; readonly value: SessionNames | Record<string, OutputTensor> | null }
  | { readonly call: number; readonly ok: false; readonly message: string };

const sessions = new Map<number, ort.InferenceSession>();

function sessionOf(id: number): ort.InferenceSession {
  const session = sessions.get(id);
  if (!session) throw new Error(`no ONNX session ${id} in the runtime thread (released, or never created)`);
  return session;
}

async function create(request: Extract<OrtRequest, { kind: 'create' }>): Promise<SessionNames> {
  const o = request.options;
  const inner = await ort.InferenceSession.create(request.model as string, {
    intraOpNumThreads: o.intraOpNumThreads,
    interOpNumThreads: o.interOpNumThreads,
    graphOptimizationLevel: o.graphOptimizationLevel,
    executionMode: 'sequential',
    executionProviders: ['cpu'],
    logSeverityLevel: 3,
    extra: { session: { intra_op: { allow_spinning: o.allowSpinning ? '1' : '0' } } },
  });
  sessions.set(request.session, inner);
  return { inputNames: inner.inputNames, outputNames: inner.outputNames };
}

function toOrtTensor(input: InputTensor): ort.Tensor {
  const dims = [...input.dims];
  if (input.data instanceof Float32Array) return new ort.Tensor('float32', input.data, dims);
  if (input.data instanceof BigInt64Array) return new ort.Tensor('int64', input.data, dims);
  return new ort.Tensor('int32', input.data, dims);
}

async function run(request: Extract<OrtRequest, { kind: 'run' }>): Promise<Record<string, OutputTensor>> {
  const feeds: Record<string, ort.Tensor> = {};
  for (const [name, input] of Object.entries(request.feeds)) feeds[name] = toOrtTensor(input);
  const results = await sessionOf(request.session).run(feeds, [...request.outputs]);
  const out: Record<string, OutputTensor> = {};
  for (const name of request.outputs) {
    const tensor = results[name] as ort.Tensor;
    if (tensor.type !== 'float32') throw new Error(`output '${name}': expected float32, got ${tensor.type}`);
    out[name] = { data: tensor.data as Float32Array, dims: [...tensor.dims] };
  }
  return out;
}

async function release(request: Extract<OrtRequest, { kind: 'release' }>): Promise<null> {
  const session = sessions.get(request.session);
  sessions.delete(request.session);
  await session?.release();
  return null;
}

async function handle(port: MessagePort, request: Exclude<OrtRequest, { kind: 'stop' }>): Promise<void> {
  let reply: OrtReply;
  try {
    const value = request.kind === 'create' ? await create(request) : request.kind === 'run' ? await run(request) : await release(request);
    reply = { call: request.call, ok: true, value };
  } catch (err) {
    reply = { call: request.call, ok: false, message: err instanceof Error ? err.message : String(err) };
  }
  const transfer = new Set<TransferListItem>();
  if (reply.ok && request.kind === 'run') {
    for (const t of Object.values(reply.value as Record<string, OutputTensor>)) {
      if (t.data.buffer instanceof ArrayBuffer) transfer.add(t.data.buffer);
    }
  }
  try {
    port.postMessage(reply, [...transfer]);
  } catch {
    port.postMessage(reply); // a buffer ORT owns cannot be moved: copy it instead
  }
}

if (parentPort) {
  const port = parentPort;
  let queue = Promise.resolve();
  port.on('message', (request: OrtRequest) => {
    if (request.kind === 'stop') process.exit(0); // runs queued behind it never start
    queue = queue.then(() => handle(port, request));
  });
}
