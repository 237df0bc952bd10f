/**
 * Raw inputs as clients send them (text, or base64 PNG/JPEG) -> what the backbones accept, with
 * the content hash that keys the feature cache. Hashes are those of benchmarks/content-hash.ts
 * (exact text; decoded RGB pixels for images), so features computed while training the zoo are
 * reused by the server and the same picture sent as PNG or JPEG-identical pixels shares a row.
 */
import { decodeImage, type RgbImage } from '../backbone/image.ts';
import { hashImage, hashText } from '../benchmarks/content-hash.ts';
import { ValidationError } from '../registry/errors.ts';
import type { Modality } from '../registry/types.ts';

/** One input in a request: exactly one of `text` / `image_base64`. */
export interface InputBody {
  readonly text?: string;
  readonly image_base64?: string;
}

/** A decoded input and its feature-cache key. */
export interface FeatureItem {
  readonly hash: string;
  readonly input: string | RgbImage;
}

/** Standard base64, optionally as a data URL; ValidationError naming `field` otherwise. */
export function decodeBase64(value: string, field: string, what = 'PNG or JPEG bytes'): Uint8Array {
  const body = value.replace(/^data:image\/[a-z.+-]+;base64,/i, '').replace(/\s+/g, '');
  if (body.length === 0 || !/^[A-Za-z0-9+/]*={0,2}$/.test(body) || body.length % 4 === 1) {
    throw new ValidationError(`${field}: expected base64-encoded ${what}, got ${body.length === 0 ? 'an empty string' : 'invalid base64'}`);
  }
  return new Uint8Array(Buffer.from(body, 'base64'));
}

/** Image bytes -> RGB; ValidationError naming `field` for undecodable bytes. */
export function decodeImageField(bytes: Uint8Array, field: string): RgbImage {
  try {
    return decodeImage(bytes);
  } catch (err) {
    throw new ValidationError(`${field}: ${(err as Error).message}`);
  }
}

export function textItem(text: string): FeatureItem {
  return { hash: hashText(text), input: text };
}

export function imageItem(image: RgbImage): FeatureItem {
  return { hash: hashImage(image), input: image };
}

/** Checks one input against the modality and limits and decodes it. */
export function decodeInput(body: InputBody, modality: Modality, field: string, maxTextLength: number): FeatureItem {
  const hasText = body.text !== undefined, hasImage = body.image_base64 !== undefined;
  if (hasText === hasImage) {
    throw new ValidationError(`${field}: expected exactly one of text or image_base64, got ${hasText ? 'both' : 'neither'}`);
  }
  if (modality === 'text') {
    if (!hasText) throw new ValidationError(`${field}: expected text for a text adapter or task, got image_base64`);
    return textItem(checkText(body.text!, `${field}.text`, maxTextLength));
  }
  if (!hasImage) throw new ValidationError(`${field}: expected image_base64 for an image adapter or task, got text`);
  return imageItem(decodeImageField(decodeBase64(body.image_base64!, `${field}.image_base64`), `${field}.image_base64`));
}

export function checkText(text: string, field: string, maxTextLength: number): string {
  if (text.trim().length === 0) throw new ValidationError(`${field}: expected non-empty text, got an empty string`);
  if (text.length > maxTextLength) throw new ValidationError(`${field}: expected at most ${maxTextLength} characters, got ${text.length}`);
  return text;
}

/** Modality of a request's inputs (the first one decides; mixing is rejected by `decodeInput`). */
export function modalityOf(inputs: readonly InputBody[]): Modality {
  return inputs[0]?.image_base64 !== undefined ? 'image' : 'text';
}
