/**
 * Every emoji of `emoji-datasource` drawn in three openly licensed styles at one size:
 * Google (Noto, Apache-2.0) and Twitter (Twemoji, CC-BY-4.0) cut from the 32 px sprite sheets,
 * and OpenMoji (CC-BY-SA-4.0) rendered from SVG with resvg. Apple and Facebook sheets are also
 * installed but not licensed for this use, so they are never read.
 *
 * All styles are 32x32 because 32 px is the only sheet size the package ships; rendering OpenMoji
 * at the same size keeps resolution from being a style cue. Transparency is composited on white.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { Resvg } from '@resvg/resvg-js';
import { compositeOnWhite, cropImage, decodeImage, type RgbImage } from '../backbone/image.ts';

export const EMOJI_SIZE = 32;
/** Sheet cells are 34 px: the 32 px image plus 1 px padding on each side. */
const CELL = EMOJI_SIZE + 2;

export const EMOJI_STYLES = ['google', 'twitter', 'openmoji'] as const;
export type EmojiStyle = (typeof EMOJI_STYLES)[number];

export const EMOJI_LICENCES: Record<EmojiStyle, string> = {
  google: 'Apache-2.0 (Noto Emoji)',
  twitter: 'CC-BY-4.0 (Twemoji)',
  openmoji: 'CC-BY-SA-4.0 (OpenMoji, openmoji.org)',
};

/** The fields of one `emoji.json` entry that we use. */
export interface EmojiEntry {
  readonly short_name: string;
  readonly unified: string;
  readonly non_qualified: string | null;
  readonly category: string;
  readonly subcategory: string;
  readonly sheet_x: number;
  readonly sheet_y: number;
  readonly has_img_google: boolean;
  readonly has_img_twitter: boolean;
}

export interface EmojiRendering {
  readonly entry: EmojiEntry;
  readonly style: EmojiStyle;
  readonly image: RgbImage;
}

const require = createRequire(import.meta.url);
const packageDir = (name: string): string => dirname(require.resolve(`${name}/package.json`));

export function readEmojiTable(): EmojiEntry[] {
  return JSON.parse(readFileSync(join(packageDir('emoji-datasource'), 'emoji.json'), 'utf8')) as EmojiEntry[];
}

function sheetRenderings(entries: readonly EmojiEntry[], style: 'google' | 'twitter'): EmojiRendering[] {
  const sheetPath = join(packageDir('emoji-datasource'), 'img', style, 'sheets', `${EMOJI_SIZE}.png`);
  // A sprite sheet from the package (2108x2108), trusted: beyond the limits for request images.
  const sheet = decodeImage(readFileSync(sheetPath), { maxSide: 8192, maxPixels: 8192 * 8192 });
  const flag = style === 'google' ? 'has_img_google' : 'has_img_twitter';
  return entries
    .filter((e) => e[flag])
    .map((entry) => ({
      entry,
      style,
      image: cropImage(sheet, entry.sheet_x * CELL + 1, entry.sheet_y * CELL + 1, EMOJI_SIZE, EMOJI_SIZE),
    }));
}

/** OpenMoji names files by code points, sometimes without the FE0F variation selector. */
function openmojiFile(dir: string, entry: EmojiEntry, files: ReadonlySet<string>): string | null {
  const candidates = [entry.unified, entry.unified.replace(/-FE0F/g, ''), entry.non_qualified];
  const hit = candidates.find((c) => c !== null && files.has(`${c}.svg`));
  return hit ? join(dir, `${hit}.svg`) : null;
}

export function renderSvg(svg: string, size: number = EMOJI_SIZE): RgbImage {
  const rendered = new Resvg(svg, {
    fitTo: { mode: 'width', value: size },
    background: 'white',
    font: { loadSystemFonts: false },
  }).render();
  return compositeOnWhite(rendered.width, rendered.height, new Uint8Array(rendered.pixels));
}

/**
 * OpenMoji draws on a 72-unit grid with a ~10-unit safety margin, while the sheet images fill their
 * cell; viewing the central 62 units brings the drawings to the same scale, so drawing size is not
 * a style cue.
 */
export const OPENMOJI_VIEWBOX = '5 5 62 62';

function openmojiRenderings(entries: readonly EmojiEntry[]): EmojiRendering[] {
  const dir = join(packageDir('openmoji'), 'color', 'svg');
  const files = new Set(readdirSync(dir));
  return entries.flatMap((entry) => {
    const file = openmojiFile(dir, entry, files);
    if (file === null) return [];
    const svg = readFileSync(file, 'utf8').replace('viewBox="0 0 72 72"', `viewBox="${OPENMOJI_VIEWBOX}"`);
    return [{ entry, style: 'openmoji' as const, image: renderSvg(svg) }];
  });
}

let cached: EmojiRendering[] | null = null;

/** All renderings, style by style in emoji.json order (rendered once per process). */
export function renderAllEmoji(): EmojiRendering[] {
  if (cached !== null) return cached;
  const entries = readEmojiTable();
  cached = [
    ...sheetRenderings(entries, 'google'),
    ...sheetRenderings(entries, 'twitter'),
    ...openmojiRenderings(entries),
  ];
  return cached;
}
