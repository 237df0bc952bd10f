/** A decoded image: 8-bit RGB, row-major, 3 bytes per pixel (no alpha). */
export interface RgbImage {
  readonly width: number;
  readonly height: number;
  readonly data: Uint8Array;
}
