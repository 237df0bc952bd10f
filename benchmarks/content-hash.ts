/**
 * Canonical content hashes of examples. The hash is the identity used by the feature cache, so it
 * must depend on what the backbone sees and nothing else: the exact text, or the exact RGB pixels
 * and their size (not the file format, path or label the pixels came from).
 */
import { createHash } from 'node:crypto';
import type { RgbImage } from '../backbone/image.ts';
import type { Example } from './types.ts';

/** sha256 of `text:` + the UTF-8 text. The prefix keeps text and image hashes apart. */
export function hashText(text: string): string {
  return createHash('sha256').update('text:').update(text, 'utf8').digest('hex');
}

/** sha256 of `rgb:<width>x<height>:` + the raw RGB bytes. */
export function hashImage(image: RgbImage): string {
  return createHash('sha256')
    .update(`rgb:${image.width}x${image.height}:`)
    .update(image.data)
    .digest('hex');
}

export function textExample(label: string, text: string, group?: string): Example {
  return group === undefined
    ? { hash: hashText(text), label, text }
    : { hash: hashText(text), label, text, group };
}

export function imageExample(
  label: string,
  image: RgbImage,
  extra: { group?: string; style?: string } = {},
): Example {
  return { hash: hashImage(image), label, image, ...extra };
}
