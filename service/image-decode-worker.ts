/**
 * Runs in a worker thread of `ImageDecoder`: bytes -> RGB pixels and their content hash, so a
 * slow or large decode never blocks the HTTP event loop.
 */
import { decodeImage, type ImageLimits, type RgbImage } from '../backbone/image.ts';
import { hashImage } from '../benchmarks/content-hash.ts';

export interface DecodeTask {
  readonly bytes: Uint8Array;
  readonly limits: ImageLimits;
}

export interface DecodedImage {
  readonly image: RgbImage;
  readonly hash: string;
}

/** Errors cross the thread boundary as plain messages: `{ error }` instead of a throw. */
export default function decode({ bytes, limits }: DecodeTask): DecodedImage | { error: string } {
  try {
    const image = decodeImage(bytes, limits);
    return { image, hash: hashImage(image) };
  } catch (err) {
    return { error: err instanceof Error ? err.message : String(err) };
  }
}
