/**
 * A plain HTTP/1.1 client for the attack tools: any method, any header (including ones fetch
 * refuses, such as a wrong Content-Length or Transfer-Encoding), a raw byte body, and a timeout,
 * so a hang is reported as one instead of stalling the run.
 */
import http from 'node:http';

export interface RawRequest {
  readonly method: string;
  /** Path and query, sent as is (may hold bad % escapes). */
  readonly path: string;
  readonly headers: Record<string, string>;
  readonly body?: Buffer;
}

export interface RawResponse {
  /** 0 when no response arrived (see `error`). */
  readonly status: number;
  readonly headers: http.IncomingHttpHeaders;
  readonly body: string;
  readonly ms: number;
  /** 'timeout', or the socket error code (ECONNRESET, EPIPE…) when the exchange failed. */
  readonly error?: string;
}

export function send(base: URL, req: RawRequest, options: { agent?: http.Agent; timeoutMs?: number } = {}): Promise<RawResponse> {
  const start = performance.now();
  return new Promise((resolve) => {
    let settled = false;
    const done = (r: Omit<RawResponse, 'ms'>) => {
      if (settled) return;
      settled = true;
      resolve({ ...r, ms: performance.now() - start });
    };
    // Node's client sends a GET body with neither Content-Length nor chunked framing; frame it.
    const framed = req.body === undefined || Object.keys(req.headers).some((h) => /^(content-length|transfer-encoding)$/i.test(h));
    const headers = framed ? req.headers : { ...req.headers, 'content-length': String(req.body!.length) };
    const r = http.request({
      host: base.hostname, port: base.port, method: req.method, path: req.path, headers,
      agent: options.agent ?? false, timeout: options.timeoutMs ?? 60_000,
    }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => done({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', (e: NodeJS.ErrnoException) => done({ status: res.statusCode ?? 0, headers: res.headers, body: '', error: e.code ?? e.message }));
    });
    r.on('timeout', () => { done({ status: 0, headers: {}, body: '', error: 'timeout' }); r.destroy(); });
    r.on('error', (e: NodeJS.ErrnoException) => done({ status: 0, headers: {}, body: '', error: e.code ?? e.message }));
    r.end(req.body);
  });
}
