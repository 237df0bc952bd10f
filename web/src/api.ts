/**
 * The one HTTP client of the console: same-origin calls to the API with the key (kept in
 * sessionStorage, entered once per browser session) as a Bearer token, and errors turned into
 * `ApiError` with the server's own `{ error: { code, message } }`. A 401 also notifies the shell,
 * which asks for the key again.
 */

const KEY_STORAGE = 'lift-zoo-api-key';

export function getApiKey(): string | null {
  return sessionStorage.getItem(KEY_STORAGE);
}

export function setApiKey(key: string | null): void {
  if (key === null || key === '') sessionStorage.removeItem(KEY_STORAGE);
  else sessionStorage.setItem(KEY_STORAGE, key);
  window.dispatchEvent(new CustomEvent('api-key-changed'));
}

export class ApiError extends Error {
  constructor(readonly status: number, readonly code: string, message: string) {
    super(message);
    this.name = 'ApiError';
  }
}

/** `read`: the refused request was a GET, which a page makes to show itself. */
type Listener = (err: ApiError, read: boolean) => void;
const unauthorizedListeners = new Set<Listener>();

/** Called with every 401; returns the unsubscribe function. */
export function onUnauthorized(listener: Listener): () => void {
  unauthorizedListeners.add(listener);
  return () => unauthorizedListeners.delete(listener);
}

export function authHeaders(): Record<string, string> {
  const key = getApiKey();
  return key ? { Authorization: `Bearer ${key}` } : {};
}

async function errorOf(res: Response): Promise<ApiError> {
  const text = await res.text();
  try {
    const body = JSON.parse(text) as { error?: { code?: string; message?: string } };
    if (body.error?.message) return new ApiError(res.status, body.error.code ?? String(res.status), body.error.message);
  } catch { /* not JSON */ }
  return new ApiError(res.status, String(res.status), text.slice(0, 300) || res.statusText);
}

/** Paths are relative to the page (the console may be served under a prefix): 'v1/tasks'. */
export function apiUrl(path: string): string {
  return new URL(path.replace(/^\//, ''), document.baseURI).toString();
}

export interface CallOptions {
  readonly body?: unknown;
  /** Raw body with this content type instead of JSON. */
  readonly contentType?: string;
  readonly signal?: AbortSignal;
  /** The Accept header; default application/json. */
  readonly accept?: string;
}

export async function callRaw(method: string, path: string, options: CallOptions = {}): Promise<Response> {
  const { body, contentType, signal, accept = 'application/json' } = options;
  const headers: Record<string, string> = { ...authHeaders(), Accept: accept };
  let payload: BodyInit | undefined;
  if (body !== undefined) {
    headers['Content-Type'] = contentType ?? 'application/json';
    payload = contentType ? (body as BodyInit) : JSON.stringify(body);
  }
  const res = await fetch(apiUrl(path), { method, headers, body: payload, signal });
  if (!res.ok) {
    const err = await errorOf(res);
    if (res.status === 401) unauthorizedListeners.forEach((l) => l(err, method === 'GET'));
    throw err;
  }
  return res;
}

export async function call<T>(method: string, path: string, options: CallOptions = {}): Promise<T> {
  const res = await callRaw(method, path, options);
  if (res.status === 204) return undefined as T;
  return (await res.json()) as T;
}

export const get = <T>(path: string, signal?: AbortSignal): Promise<T> => call<T>('GET', path, { signal });
export const post = <T>(path: string, body?: unknown): Promise<T> => call<T>('POST', path, { body: body ?? {} });

/** A query string from the defined, non-empty values. */
export function query(params: Record<string, string | number | undefined | null>): string {
  const entries = Object.entries(params).filter(([, v]) => v !== undefined && v !== null && v !== '');
  return entries.length ? `?${new URLSearchParams(entries.map(([k, v]) => [k, String(v)])).toString()}` : '';
}

export const enc = encodeURIComponent;
