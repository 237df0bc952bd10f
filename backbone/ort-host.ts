/**
 * The event loop's side of the ONNX runtime thread (ort-worker.ts): starts the thread on first
 * use, pairs each request with its reply, and restarts the thread after it dies.
 *
 * - A run that fails in the thread rejects that call only.
 * - If the thread dies, every call in flight rejects with a message saying so; the next call
 *   starts a new thread and loads the sessions it needs there again from their model sources.
 * - The thread is referenced only while calls are in flight, so it never keeps a process alive
 *   that has nothing left to wait for, and every CLI and test exits as before.
 */
import { fileURLToPath } from 'node:url';
import { Worker, type TransferListItem } from 'node:worker_threads';
import type { SessionOptions } from './ort.ts';
import type { OrtReply, OrtRequest, SessionNames } from './ort-worker.ts';

const BOOT = new URL('./ort-worker-boot.cjs', import.meta.url);
const ENTRY = fileURLToPath(new URL('./ort-worker.ts', import.meta.url));

/** Where a session's model comes from, kept so a restarted thread can load it again. */
export interface ModelSource {
  readonly model: string | Uint8Array;
  readonly options: Required<SessionOptions>;
}

/** A request before the host numbers it (Omit over each member of the union). */
type WithoutCall<T> = T extends unknown ? Omit<T, 'call'> : never;
type Request = WithoutCall<OrtRequest>;

interface Pending {
  resolve(value: unknown): void;
  reject(err: Error): void;
}

/**
 * A backbone call lost because the runtime thread died. Its `code` is the server's
 * SERVICE_UNAVAILABLE (server/errors.ts), so a request that hit it gets a 503 to retry.
 */
export class RuntimeThreadDiedError extends Error {
  readonly code = 'SERVICE_UNAVAILABLE';
}

export class OrtHost {
  private worker: Worker | null = null;
  private nextCall = 1;
  private readonly pending = new Map<number, Pending>();
  /** Sessions being loaded or loaded in the current thread. */
  private readonly loaded = new Map<number, Promise<unknown>>();
  private readonly sources = new Map<number, ModelSource>();

  /** Loads a model in the thread under `session` and returns its input and output names. */
  async create(session: number, source: ModelSource): Promise<SessionNames> {
    this.sources.set(session, source);
    const loading = this.call({ kind: 'create', session, model: source.model, options: source.options });
    this.loaded.set(session, loading);
    try {
      return await loading as SessionNames;
    } catch (err) {
      this.sources.delete(session);
      this.loaded.delete(session);
      throw err;
    }
  }

  async run(session: number, request: Omit<Extract<Request, { kind: 'run' }>, 'session' | 'kind'>, transfer: TransferListItem[]): Promise<unknown> {
    if (!this.sources.has(session)) throw new Error(`ONNX session ${session} was released`);
    await this.ensureLoaded(session);
    return this.call({ kind: 'run', session, ...request }, transfer);
  }

  async release(session: number): Promise<void> {
    const wasLoaded = this.loaded.has(session);
    this.sources.delete(session);
    this.loaded.delete(session);
    if (wasLoaded && this.worker) await this.call({ kind: 'release', session });
  }

  /**
   * Ends the thread once its current run (if any) is done; calls still queued reject, and the
   * next call starts a new thread. Not `worker.terminate()`: stopping the thread inside a native
   * run aborts the whole process.
   */
  async stop(): Promise<void> {
    const worker = this.worker;
    if (!worker) return;
    const exited = new Promise((resolve) => worker.once('exit', resolve));
    worker.postMessage({ kind: 'stop', call: 0 } satisfies OrtRequest);
    await exited;
  }

  /** After a restart, a session used before is loaded again from its source. */
  private ensureLoaded(session: number): Promise<unknown> {
    let loading = this.loaded.get(session);
    if (!loading) {
      const { model, options } = this.sources.get(session)!;
      loading = this.call({ kind: 'create', session, model, options });
      loading.catch(() => this.loaded.delete(session));
      this.loaded.set(session, loading);
    }
    return loading;
  }

  private call(request: Request, transfer: TransferListItem[] = []): Promise<unknown> {
    const worker = this.start();
    const call = this.nextCall++;
    return new Promise((resolve, reject) => {
      this.pending.set(call, { resolve, reject });
      if (this.pending.size === 1) worker.ref();
      worker.postMessage({ ...request, call }, transfer);
    });
  }

  private start(): Worker {
    if (this.worker) return this.worker;
    const worker = new Worker(BOOT, { workerData: { entry: ENTRY }, name: 'onnxruntime' });
    worker.unref();
    worker.on('message', (reply: OrtReply) => this.settle(worker, reply));
    worker.on('error', (err) => this.died(worker, `failed: ${err.message}`));
    worker.on('exit', (code) => this.died(worker, `exited with code ${code}`));
    this.worker = worker;
    return worker;
  }

  private settle(worker: Worker, reply: OrtReply): void {
    const pending = this.pending.get(reply.call);
    if (!pending) return;
    this.pending.delete(reply.call);
    if (this.pending.size === 0) worker.unref();
    if (reply.ok) pending.resolve(reply.value);
    else pending.reject(new Error(reply.message));
  }

  /** Forgets a dead thread (once: 'error' is followed by 'exit') and fails what it held. */
  private died(worker: Worker, reason: string): void {
    if (this.worker !== worker) return;
    this.worker = null;
    this.loaded.clear();
    const pending = [...this.pending.values()];
    this.pending.clear();
    for (const p of pending) p.reject(new RuntimeThreadDiedError(`the backbone's runtime thread stopped (${reason}) before this call completed; retry the request`));
  }
}
