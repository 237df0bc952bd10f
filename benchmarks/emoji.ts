/**
 * Emoji images in three styles, labelled two ways: by identity (`emoji`: a class is one emoji, its
 * examples are its drawings in different styles, so a 1-shot support in one style is matched
 * against queries in the other styles) and by subcategory (`emoji-subcategory`: e.g. animal-bird,
 * food-fruit). Same inputs, different aspect: two task families for the prior to separate.
 */
import { imageExample } from './content-hash.ts';
import { EMOJI_LICENCES, EMOJI_STYLES, EMOJI_SIZE, renderAllEmoji } from './emoji-render.ts';
import { buildSuite, SUITE_SEED } from './suite-builder.ts';
import type { Example, Suite } from './types.ts';

const SOURCE =
  `npm emoji-datasource@16.0.0 (emoji.json; img/{google,twitter}/sheets/${EMOJI_SIZE}.png) ` +
  `and openmoji@17.0.0 (color/svg, rendered with @resvg/resvg-js at ${EMOJI_SIZE} px)`;
const LICENCE = EMOJI_STYLES.map((s) => `${s}: ${EMOJI_LICENCES[s]}`).join('; ');

/** Emoji with fewer subcategory-mates than this make too small a class for 5-shot episodes. */
export const MIN_EMOJI_PER_SUBCATEGORY = 10;

function groupRenderings(labelOf: (r: ReturnType<typeof renderAllEmoji>[number]) => string, grouped: boolean) {
  const byClass = new Map<string, Example[]>();
  for (const r of renderAllEmoji()) {
    const label = labelOf(r);
    const extra = grouped ? { group: r.entry.short_name, style: r.style } : { style: r.style };
    const list = byClass.get(label) ?? [];
    list.push(imageExample(label, r.image, extra));
    byClass.set(label, list);
  }
  return byClass;
}

export function loadEmoji(): Suite {
  return buildSuite({
    name: 'emoji',
    modality: 'image',
    description:
      `Emoji identity across styles (${EMOJI_STYLES.join(', ')}), ${EMOJI_SIZE}x${EMOJI_SIZE} RGB on white. ` +
      `A class is one emoji (short name) with one image per style, so at most ` +
      `${EMOJI_STYLES.length} examples per class: support in one style, queries in the others.`,
    source: SOURCE,
    licence: LICENCE,
    examplesByClass: groupRenderings((r) => r.entry.short_name, false),
    caps: { maxPerClass: 200, minPerClass: EMOJI_STYLES.length, seed: SUITE_SEED },
    layout: 'meta',
    trainTasks: { count: 200, nWay: 5, examplesPerClass: EMOJI_STYLES.length },
  });
}

export function loadEmojiSubcategory(): Suite {
  const minPerClass = MIN_EMOJI_PER_SUBCATEGORY * EMOJI_STYLES.length;
  return buildSuite({
    name: 'emoji-subcategory',
    modality: 'image',
    description:
      `Emoji labelled by Unicode subcategory (e.g. animal-bird), all ${EMOJI_STYLES.join(', ')} ` +
      `drawings; subcategories with >= ${MIN_EMOJI_PER_SUBCATEGORY} emoji. Each emoji is a group, ` +
      'so one emoji never appears in both support and query.',
    source: SOURCE,
    licence: LICENCE,
    examplesByClass: groupRenderings((r) => r.entry.subcategory, true),
    caps: { maxPerClass: 200, minPerClass, seed: SUITE_SEED },
    layout: 'meta',
  });
}
