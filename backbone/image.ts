/**
 * Image bytes <-> the one in-memory image type the vision backbone accepts.
 *
 * Everything downstream (preprocessing, the ONNX graph, the feature cache keyed by content hash)
 * sees only 8-bit RGB, so decoding is the single place where file formats, bit depths, palettes
 * and alpha are resolved.
 */
import jpeg from 'jpeg-js';
import { PNG } from 'pngjs';

/** A decoded image: 8-bit RGB, row-major, 3 bytes per pixel (no alpha). */
export interface RgbImage {
  readonly width: number;
  readonly height: number;
  readonly data: Uint8Array;
}

/** Largest accepted image, in pixels: a hostile header must not make us allocate gigabytes. */
export const MAX_IMAGE_PIXELS = 40_000_000;

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
export function decodeImage(bytes: Uint8Array): RgbImage {
  if (bytes.length === 0) throw new Error('cannot decode image: input is empty (0 bytes)');
  const format = sniffImageFormat(bytes);
  if (format === null) {
    const head = Array.from(bytes.subarray(0, 8), (b) => b.toString(16).padStart(2, '0')).join(' ');
    throw new Error(
      `cannot decode image: unsupported format (expected PNG or JPEG signature, got bytes ${head})`,
    );
  }
  try {
    return format === 'png' ? decodePng(bytes) : decodeJpeg(bytes);
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    throw new Error(`cannot decode image: invalid ${format.toUpperCase()} data (${reason})`);
  }
}

function decodePng(bytes: Uint8Array): RgbImage {
  // Check the IHDR size before pngjs allocates width·height·4 bytes for a hostile header.
  if (bytes.length >= 24) {
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    checkSize(view.getUint32(16), view.getUint32(20));
  }
  // pngjs expands palette, grey and 16-bit images to 8-bit RGBA.
  const png = PNG.sync.read(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
  checkSize(png.width, png.height);
  return compositeOnWhite(png.width, png.height, png.data);
}

function decodeJpeg(bytes: Uint8Array): RgbImage {
  const img = jpeg.decode(bytes, {
    useTArray: true,
    formatAsRGBA: false,
    maxResolutionInMP: MAX_IMAGE_PIXELS / 1e6,
    maxMemoryUsageInMB: 512,
  });
  checkSize(img.width, img.height);
  return { width: img.width, height: img.height, data: img.data };
}

function checkSize(width: number, height: number): void {
  if (!(width > 0 && height > 0)) throw new Error(`image has no pixels (${width}x${height})`);
  if (width * height > MAX_IMAGE_PIXELS) {
    throw new Error(`image too large: ${width}x${height} exceeds ${MAX_IMAGE_PIXELS} pixels`);
  }
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
