/**
 * Image preprocessing for MobileNetV2, bit-for-bit what nsfwjs 4.4.0 feeds its TF.js model.
 *
 * nsfwjs `infer()` does, on the TF.js CPU backend:
 *   img.toFloat().div(255)                                     // float32 per element
 *   if (h !== 224 || w !== 224) tf.image.resizeBilinear(x, [224, 224], alignCorners = true)
 *                                                            // halfPixelCenters = false
 *   reshape([1, 224, 224, 3])                                  // NHWC, RGB
 * The CPU kernel reads float32 values, interpolates in float64 (JS numbers) and stores float32.
 * We repeat exactly those roundings, so the ONNX backbone sees the same tensor the original did
 * and parity with the TF.js reference only depends on the network.
 *
 * The ONNX graph takes NHWC (`pixels: [N, 224, 224, 3]`, same layout as TF.js) and transposes
 * internally: one input layout for both runtimes keeps the parity check a straight comparison.
 */
import { checkRgb, type RgbImage } from './image.ts';

/** Side of the square network input. */
export const MOBILENET_SIZE = 224;
/** Floats per preprocessed image: 224 · 224 · 3. */
export const MOBILENET_INPUT_LENGTH = MOBILENET_SIZE * MOBILENET_SIZE * 3;

/** RGB bytes -> float32 [h, w, 3] in [0, 1], rounded like TF.js `toFloat().div(255)`. */
export function scaleToUnit(img: RgbImage): Float32Array {
  checkRgb(img);
  const out = new Float32Array(img.data.length);
  for (let i = 0; i < out.length; i++) out[i] = img.data[i] / 255;
  return out;
}

/**
 * Bilinear resize of an HWC float image, the TF.js CPU `ResizeBilinear` kernel with
 * alignCorners = true and halfPixelCenters = false (source row = r · (inH − 1)/(outH − 1)).
 * src: [inH, inW, channels]; returns [outH, outW, channels].
 */
export function resizeBilinearAlignCorners(
  src: Float32Array, inH: number, inW: number, channels: number, outH: number, outW: number,
): Float32Array {
  if (src.length !== inH * inW * channels) {
    throw new Error(`resize input has ${src.length} values, expected ${inH}x${inW}x${channels}`);
  }
  const out = new Float32Array(outH * outW * channels);
  const rowRatio = (outH > 1 ? inH - 1 : inH) / (outH > 1 ? outH - 1 : outH);
  const colRatio = (outW > 1 ? inW - 1 : inW) / (outW > 1 ? outW - 1 : outW);
  const rowStride = inW * channels;
  let o = 0;
  for (let r = 0; r < outH; r++) {
    const fr = rowRatio * r;
    const r0 = Math.max(0, Math.floor(fr));
    const rowFrac = fr - r0;
    const r1 = Math.min(inH - 1, Math.ceil(fr));
    const top = r0 * rowStride;
    const bot = r1 * rowStride;
    for (let c = 0; c < outW; c++) {
      const fc = colRatio * c;
      const c0 = Math.max(0, Math.floor(fc));
      const colFrac = fc - c0;
      const c1 = Math.min(inW - 1, Math.ceil(fc));
      for (let d = 0; d < channels; d++) {
        const tl = src[top + c0 * channels + d];
        const tr = src[top + c1 * channels + d];
        const bl = src[bot + c0 * channels + d];
        const br = src[bot + c1 * channels + d];
        const t = tl + (tr - tl) * colFrac;
        const b = bl + (br - bl) * colFrac;
        out[o++] = t + (b - t) * rowFrac;
      }
    }
  }
  return out;
}

/** One image -> float32 [224, 224, 3] (NHWC row for the backbone), as nsfwjs prepares it. */
export function preprocessImage(img: RgbImage): Float32Array {
  const unit = scaleToUnit(img);
  if (img.width === MOBILENET_SIZE && img.height === MOBILENET_SIZE) return unit;
  return resizeBilinearAlignCorners(unit, img.height, img.width, 3, MOBILENET_SIZE, MOBILENET_SIZE);
}

/** Images -> one contiguous float32 batch [N, 224, 224, 3]. */
export function preprocessBatch(images: readonly RgbImage[]): Float32Array {
  const batch = new Float32Array(images.length * MOBILENET_INPUT_LENGTH);
  images.forEach((img, i) => batch.set(preprocessImage(img), i * MOBILENET_INPUT_LENGTH));
  return batch;
}
