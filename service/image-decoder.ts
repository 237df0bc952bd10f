/**
 * Image decoding off the event loop. A decode of a large PNG takes hundreds of milliseconds of
 * CPU; run on the HTTP thread it stalls every other request (and /healthz). Requests hand their
 * image bytes to a small worker-thread pool and await the pixels.
 *
 * Before anything reaches a worker, each image's declared size is read from its header and
 * checked (per side, per image), and the pixels a whole request would decode are summed against
 * a per-request budget, so no request can make the server allocate more than that budget.
 */
import { availableParallelism } from 'node:os';
import { Piscina } from 'piscina';
import { checkImageHeader, readImageHeader, type ImageLimits } from '../backbone/image.ts';
import { ValidationError } from '../registry/errors.ts';
import type { DecodedImage, DecodeTask } from './image-decode-worker.ts';

export interface ImageBudget extends ImageLimits {
  /** Decoded RGB bytes (width x height x 3, summed) one request may produce. */
  readonly maxDecodedBytes: number;
}

/** One image of a request and the field that names it in errors. */
export interface ImageField {
  readonly bytes: Uint8Array;
  readonly field: string;
}

const MB = 1024 * 1024;

export class ImageDecoder {
  private readonly pool: Piscina<DecodeTask, DecodedImage | { error: string }>;

  constructor(readonly budget: ImageBudget, threads = Math.max(1, Math.min(2, availableParallelism()))) {
    this.pool = new Piscina({
      filename: new URL('./image-decode-worker.ts', import.meta.url).href,
      minThreads: 0, maxThreads: threads, idleTimeout: 30_000,
    });
  }

  /**
   * Headers checked on this thread (400 naming the field), the request's budget checked, then
   * every image decoded in the pool. Results are in order.
   */
  async decode(images: readonly ImageField[]): Promise<DecodedImage[]> {
    let total = 0;
    for (const image of images) total += this.check(image);
    if (total > this.budget.maxDecodedBytes) {
      throw new ValidationError(`images: expected at most ${(this.budget.maxDecodedBytes / MB).toFixed(0)} MB of decoded pixels per request (width x height x 3), got ${(total / MB).toFixed(1)} MB over ${images.length} images; send smaller images or fewer per request`);
    }
    const limits: ImageLimits = { maxSide: this.budget.maxSide, maxPixels: this.budget.maxPixels };
    return Promise.all(images.map(async ({ bytes, field }) => {
      const r = await this.pool.run({ bytes, limits });
      if ('error' in r) throw new ValidationError(`${field}: ${r.error}`);
      return r;
    }));
  }

  /**
   * Reads and checks one image's header; returns the RGB bytes it will decode to. Callers may
   * check while collecting a request's images, so errors come in field order.
   */
  check({ bytes, field }: ImageField): number {
    try {
      const header = readImageHeader(bytes);
      checkImageHeader(header, this.budget);
      return header.width * header.height * 3;
    } catch (err) {
      throw new ValidationError(`${field}: ${(err as Error).message}`);
    }
  }

  async close(): Promise<void> {
    await this.pool.destroy();
  }
}

export type { DecodedImage };
