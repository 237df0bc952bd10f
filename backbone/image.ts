/**
 * Image bytes <-> the one in-memory image type the vision backbone accepts.
 *
 * Everything downstream (preprocessing, the ONNX graph, the feature cache keyed by content hash)
 * sees only 8-bit RGB, so decoding is the single place where file formats, bit depths, palettes
 * and alpha are resolved.
 */
import { inflateSync } from 'node:zlib';
import jpeg from 'jpeg-js';
import { PNG } from 'pngjs';

/** A decoded image: 8-bit RGB, row-major, 3 bytes per pixel (no alpha). */
export interface RgbImage {
  readonly width: number;
  readonly height: number;
  readonly data: Uint8Array;
}

/**
 * What one image may declare before anything is decoded. The backbone sees 224x224, so anything
 * much larger only costs memory: a 2048-pixel side and 4 MP (16 MB as RGBA while decoding) leave
 * room for ordinary photos. Hostile headers (1x40,000,000, a 6000x6000 "tiny" PNG) are refused
 * from their first bytes. Trusted package data (sprite sheets) passes its own, larger limits.
 */
export interface ImageLimits {
  /** Longest accepted width or height, in pixels. */
  readonly maxSide: number;
  /** Largest accepted width x height. */
  readonly maxPixels: number;
}

export const DEFAULT_IMAGE_LIMITS: ImageLimits = { maxSide: 2048, maxPixels: 2048 * 2048 };

/** Bytes a decode may allocate per pixel at most (RGBA working buffer). */
export const DECODE_BYTES_PER_PIXEL = 4;

const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a] as const;
const JPEG_SIGNATURE = [0xff, 0xd8, 0xff] as const;

/** The container formats `decodeImage` understands, detected by magic bytes, not by file name. */
export type ImageFormat = 'png' | 'jpeg';

/** Which format `bytes` starts with, or null when it is neither PNG nor JPEG. */
export function sniffImageFormat(bytes: Uint8Array): ImageFormat | null {
  const startsWith = (sig: readonly number[]): boolean =>
    bytes.length >= sig.length && sig.every((b, i) => bytes[i] === b);
  if (startsWith(PNG_SIGNATURE)) return 'png';
  if (startsWith(JPEG_SIGNATURE)) return 'jpeg';
  return null;
}

/** Dimensions an image declares in its header, read without decoding. */
export interface ImageHeader {
  readonly format: ImageFormat;
  readonly width: number;
  readonly height: number;
  /** PNG only: Adam7 interlacing (pngjs inflates such data without an output bound). */
  readonly interlaced: boolean;
}

/**
 * Format and declared size from the first bytes: the PNG IHDR chunk, or the JPEG start-of-frame
 * marker. Throws naming the problem when the header is missing or malformed.
 */
export function readImageHeader(bytes: Uint8Array): ImageHeader {
  if (bytes.length === 0) throw new Error('cannot decode image: input is empty (0 bytes)');
  const format = sniffImageFormat(bytes);
  if (format === null) {
    const head = Array.from(bytes.subarray(0, 8), (b) => b.toString(16).padStart(2, '0')).join(' ');
    throw new Error(`cannot decode image: unsupported format (expected PNG or JPEG signature, got bytes ${head})`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (format === 'png') {
    // Signature (8), IHDR length (4), 'IHDR' (4), width (4), height (4), depth, colour, compression, filter, interlace.
    if (bytes.length < 29 || String.fromCharCode(...bytes.subarray(12, 16)) !== 'IHDR') {
      throw new Error('cannot decode image: invalid PNG data (no IHDR chunk after the signature)');
    }
    return { format, width: view.getUint32(16), height: view.getUint32(20), interlaced: bytes[28] !== 0 };
  }
  return { format, ...jpegFrameSize(bytes, view), interlaced: false };
}

/** Walks JPEG marker segments to the first start-of-frame (SOF0-SOF15 except DHT, JPG, DAC). */
function jpegFrameSize(bytes: Uint8Array, view: DataView): { width: number; height: number } {
  let at = 2;
  while (at + 4 <= bytes.length) {
    if (bytes[at] !== 0xff) throw new Error(`cannot decode image: invalid JPEG data (expected a marker at byte ${at})`);
    const marker = bytes[at + 1];
    if (marker === 0xff) { at++; continue; }
    if (marker === 0xd8 || (marker >= 0xd0 && marker <= 0xd7) || marker === 0x01) { at += 2; continue; }
    if (marker === 0xd9 || marker === 0xda) break;
    const length = view.getUint16(at + 2);
    const isFrame = marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc;
    if (isFrame) {
      if (at + 9 > bytes.length) break;
      return { height: view.getUint16(at + 5), width: view.getUint16(at + 7) };
    }
    at += 2 + length;
  }
  throw new Error('cannot decode image: invalid JPEG data (no frame header before the image data)');
}

/** Throws naming the limit when the declared size is empty or beyond `limits`. */
export function checkImageHeader(header: ImageHeader, limits: ImageLimits = DEFAULT_IMAGE_LIMITS): void {
  const { width, height } = header;
  if (!(width > 0 && height > 0)) throw new Error(`image has no pixels (${width}x${height})`);
  if (width > limits.maxSide || height > limits.maxSide) {
    throw new Error(`image too large: ${width}x${height}, expected each side at most ${limits.maxSide} pixels`);
  }
  if (width * height > limits.maxPixels) {
    throw new Error(`image too large: ${width}x${height} = ${width * height} pixels, expected at most ${limits.maxPixels}`);
  }
}

/**
 * Decode PNG or JPEG bytes to 8-bit RGB.
 *
 * Transparent pixels are composited over white. The RGB stored under alpha = 0 is arbitrary
 * (often black, sometimes leftover colour), so dropping alpha would feed the network whatever the
 * encoder left there; white is how such images (emoji, icons, logos) are shown on a page, and it
 * is deterministic, so the same file always gives the same features.
 *
 * Throws an Error naming the problem for empty, unrecognised, truncated or oversized input.
 */
export function decodeImage(bytes: Uint8Array, limits: ImageLimits = DEFAULT_IMAGE_LIMITS): RgbImage {
  const header = readImageHeader(bytes);
  checkImageHeader(header, limits);
  const format = header.format;
  try {
    return format === 'png' ? decodePng(bytes, header, limits) : decodeJpeg(bytes, limits);
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    throw new Error(`cannot decode image: invalid ${format.toUpperCase()} data (${reason})`);
  }
}

function decodePng(bytes: Uint8Array, header: ImageHeader, limits: ImageLimits): RgbImage {
  const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  // pngjs bounds the inflated size of plain PNGs by the declared size, but inflates interlaced
  // data without a bound: a few KB of deflate could expand to gigabytes. Inflate it once here
  // with the bound (16-bit RGBA plus per-row filter bytes of all seven passes).
  if (header.interlaced) {
    const bound = header.width * header.height * 8 + 7 * (header.height + 8);
    try {
      inflateSync(idatOf(buffer), { maxOutputLength: bound });
    } catch (err) {
      throw new Error(`image data inflates beyond its declared ${header.width}x${header.height} (${(err as Error).message})`);
    }
  }
  // pngjs expands palette, grey and 16-bit images to 8-bit RGBA.
  const png = PNG.sync.read(buffer);
  checkImageHeader({ ...header, width: png.width, height: png.height }, limits);
  return compositeOnWhite(png.width, png.height, png.data);
}

/** The concatenated IDAT chunk data of a PNG (chunks: length, type, data, CRC). */
function idatOf(png: Buffer): Buffer {
  const parts: Buffer[] = [];
  for (let at = 8; at + 8 <= png.length;) {
    const length = png.readUInt32BE(at);
    const type = png.toString('latin1', at + 4, at + 8);
    if (type === 'IDAT') parts.push(png.subarray(at + 8, Math.min(png.length, at + 8 + length)));
    if (type === 'IEND') break;
    at += 12 + length;
  }
  return Buffer.concat(parts);
}

function decodeJpeg(bytes: Uint8Array, limits: ImageLimits): RgbImage {
  const img = jpeg.decode(bytes, {
    useTArray: true,
    formatAsRGBA: false,
    maxResolutionInMP: limits.maxPixels / 1e6,
    // Component planes, coefficient blocks and the output for the largest accepted image.
    maxMemoryUsageInMB: Math.ceil((limits.maxPixels * 16) / (1024 * 1024)) + 16,
  });
  checkImageHeader({ format: 'jpeg', width: img.width, height: img.height, interlaced: false }, limits);
  return { width: img.width, height: img.height, data: img.data };
}

/** RGBA [h, w, 4] -> RGB [h, w, 3] with out = round((c·a + 255·(255 − a)) / 255). */
export function compositeOnWhite(width: number, height: number, rgba: Uint8Array): RgbImage {
  const n = width * height;
  if (rgba.length !== n * 4) {
    throw new Error(`RGBA buffer has ${rgba.length} bytes, expected ${n * 4} for ${width}x${height}`);
  }
  const data = new Uint8Array(n * 3);
  for (let p = 0; p < n; p++) {
    const a = rgba[p * 4 + 3];
    for (let c = 0; c < 3; c++) {
      const v = rgba[p * 4 + c];
      data[p * 3 + c] = a === 255 ? v : Math.round((v * a + 255 * (255 - a)) / 255);
    }
  }
  return { width, height, data };
}

/** Encode RGB as an opaque 8-bit PNG (fixtures, tests, debugging dumps). Deterministic bytes. */
export function encodePng(img: RgbImage): Uint8Array {
  checkRgb(img);
  const png = new PNG({ width: img.width, height: img.height, colorType: 2, inputColorType: 2 });
  png.data = Buffer.from(img.data.buffer, img.data.byteOffset, img.data.byteLength);
  return new Uint8Array(PNG.sync.write(png, { colorType: 2, inputColorType: 2 }));
}

/** Throws when `img.data` does not hold exactly width·height·3 bytes. */
export function checkRgb(img: RgbImage): void {
  const expected = img.width * img.height * 3;
  if (!(img.width > 0 && img.height > 0) || img.data.length !== expected) {
    throw new Error(
      `invalid RgbImage: ${img.width}x${img.height} needs ${expected} bytes, got ${img.data.length}`,
    );
  }
}

/** Copy the rectangle [x, x+w) × [y, y+h) out of an image (e.g. one emoji cell of a sheet). */
export function cropImage(img: RgbImage, x: number, y: number, w: number, h: number): RgbImage {
  if (x < 0 || y < 0 || w <= 0 || h <= 0 || x + w > img.width || y + h > img.height) {
    throw new Error(`crop ${w}x${h} at (${x}, ${y}) is outside the ${img.width}x${img.height} image`);
  }
  const data = new Uint8Array(w * h * 3);
  for (let r = 0; r < h; r++) {
    const src = ((y + r) * img.width + x) * 3;
    data.set(img.data.subarray(src, src + w * 3), r * w * 3);
  }
  return { width: w, height: h, data };
}
