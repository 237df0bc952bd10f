/**
 * Benchmarks: real-data loaders and their recorded splits, the fixed training tasks, the seeded
 * episode sampler, the task-file format, the metrics and the evaluation protocol.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { frozenPrototypes } from '../adapters/method.ts';
import { encodePng, type RgbImage } from '../backbone/image.ts';
import { identityLayer } from '../backbone/mobilenet-v2.ts';
import { untagSentence } from '../benchmarks/brown.ts';
import { hashImage, hashText } from '../benchmarks/content-hash.ts';
import { EMOJI_STYLES } from '../benchmarks/emoji-render.ts';
import { sampleEpisodes, type Episode } from '../benchmarks/episodes.ts';
import {
  accuracy,
  expectedCalibrationError,
  meanWithCi95,
  negativeLogLikelihood,
} from '../benchmarks/metrics.ts';
import { familyOf, mixedClass } from '../benchmarks/mixed.ts';
import { evaluate } from '../benchmarks/protocol.ts';
import { evaluationFamilies, PROTOCOLS } from '../benchmarks/protocols.ts';
import { readRecordedSplits, recordSuite } from '../benchmarks/splits.ts';
import { loadSuite, SUITE_NAMES } from '../benchmarks/suites.ts';
import { parseTaskFile, TaskFileError, loadTaskFile } from '../benchmarks/task-file.ts';
import { resolveTask } from '../benchmarks/train-tasks.ts';
import type { Example, Suite } from '../benchmarks/types.ts';
import { parseSynsetLine } from '../benchmarks/wordnet.ts';

const EXPECTED_CLASSES: Record<string, number> = {
  wordnet: 45,
  'wordnet-domains': 47,
  brown: 15,
  emoji: 1811,
  'emoji-subcategory': 57,
  mnist: 10,
  'text-mixed': 107,
  'image-mixed': 1599,
};

const hashes = (examples: readonly Example[]): string[] => examples.map((e) => e.hash);

describe('suite loaders', () => {
  for (const name of SUITE_NAMES) {
    it(`${name}: documented class count, disjoint splits, caps respected`, async () => {
      const suite = await loadSuite(name);
      assert.equal(suite.classes.length, EXPECTED_CLASSES[name]);
      const { train, val, test } = suite.split;
      const all = [...train, ...val, ...test];
      assert.equal(new Set(all).size, all.length, 'a class is in two splits');
      assert.deepEqual([...all].sort(), [...suite.classes].sort());
      for (const cls of suite.classes) {
        const examples = suite.examplesByClass.get(cls) ?? [];
        assert.ok(examples.length >= suite.caps.minPerClass && examples.length <= suite.caps.maxPerClass, cls);
        for (const ex of examples) {
          assert.equal(ex.label, cls);
          if (suite.modality === 'text') assert.equal(ex.hash, hashText(ex.text ?? ''));
          else assert.equal(ex.hash, hashImage(ex.image as RgbImage));
        }
      }
    });

    it(`${name}: loading reproduces benchmarks/splits.json`, async () => {
      const recorded = readRecordedSplits()[name];
      assert.ok(recorded, `splits.json has no entry for ${name}; run scripts/make-splits.ts`);
      assert.deepEqual(recordSuite(await loadSuite(name)), recorded);
    });
  }

  it('rejects an unknown suite name, listing the valid ones', async () => {
    await assert.rejects(loadSuite('imagenet'), /unknown suite "imagenet".*wordnet, wordnet-domains/);
  });

  it('emoji: every class is one emoji drawn once in each of the three styles', async () => {
    const suite = await loadSuite('emoji');
    for (const cls of suite.classes.slice(0, 200)) {
      const examples = suite.examplesByClass.get(cls) ?? [];
      assert.deepEqual(examples.map((e) => e.style).sort(), [...EMOJI_STYLES].sort(), cls);
      for (const ex of examples) assert.equal(ex.image?.data.length, 32 * 32 * 3);
    }
  });

  it('mnist is test-only with 28x28 RGB digits', async () => {
    const suite = await loadSuite('mnist');
    assert.deepEqual(suite.split.test, ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9']);
    assert.equal(suite.trainTasks.length, 0);
    const image = suite.examplesByClass.get('3')?.[0].image as RgbImage;
    assert.equal(image.width, 28);
    assert.ok(image.data.some((v) => v > 200) && image.data.some((v) => v === 0));
  });

  it('training tasks use 5 distinct train classes and resolve to their examples', async () => {
    const suite = await loadSuite('wordnet');
    assert.equal(suite.trainTasks.length, 200);
    const train = new Set(suite.split.train);
    for (const task of suite.trainTasks) {
      assert.equal(new Set(task.classes).size, 5);
      assert.ok(task.classes.every((c) => train.has(c)));
      const examples = resolveTask(suite, task);
      examples.forEach((list, c) => {
        assert.equal(list.length, 20);
        assert.ok(list.every((ex) => ex.label === task.classes[c]));
      });
    }
  });
});

describe('mixed-family suites', () => {
  for (const name of ['text-mixed', 'image-mixed'] as const) {
    it(`${name}: training tasks from every family, none holding an input of any family's val or test classes`, async () => {
      const suite = await loadSuite(name);
      const families = PROTOCOLS[name].families ?? [];
      assert.deepEqual(suite.families, families);
      const held = new Set<string>();
      for (const f of families) {
        const member = await loadSuite(f);
        for (const cls of [...member.split.val, ...member.split.test]) for (const ex of member.examplesByClass.get(cls) ?? []) held.add(ex.hash);
        // Validation and test stay the member's own classes, namespaced by family.
        assert.deepEqual(suite.split.test.filter((c) => familyOf(c) === f), member.split.test.map((c) => mixedClass(f, c)));
      }
      const perFamily = new Map<string, number>();
      for (const task of suite.trainTasks) {
        const family = familyOf(task.classes[0]);
        assert.ok(task.classes.every((c) => familyOf(c) === family), `${task.id} mixes families`);
        perFamily.set(family, (perFamily.get(family) ?? 0) + 1);
        for (const hashesOfClass of task.exampleHashes) assert.ok(hashesOfClass.every((h) => !held.has(h)), `${task.id} holds a held-out input`);
      }
      assert.deepEqual([...perFamily.keys()].sort(), [...families].sort());
      assert.deepEqual(evaluationFamilies(name).map((f) => f.family), families);
    });
  }
});

describe('source parsing', () => {
  it('reads a WordNet synset line: lexicographer file, topic domain, gloss without its domain tag', () => {
    const line =
      '00006484 03 n 01 cell 0 003 @ 00004258 n 0000 #p 00004475 n 0000 ;c 06047178 n 0000 | ' +
      '(biology) the basic structural and functional unit of all organisms  ';
    const synset = parseSynsetLine('noun', line);
    assert.equal(synset?.lexFile, 3);
    assert.equal(synset?.topicDomain, 'noun:06047178');
    assert.equal(synset?.gloss, 'the basic structural and functional unit of all organisms');
  });

  it('strips Brown tags and restores quotes', () => {
    const line = '\tThe/at jury/nn said/vbd ``/`` no/at evidence/nn \'\'/\'\' ,/, 1/2/cd ./.';
    assert.equal(untagSentence(line), 'The jury said " no evidence ", 1/2.');
  });
});

describe('episodes', () => {
  const options = { nWay: 5, kShot: 5, queriesPerClass: 15, count: 20, seed: 7 };
  const fingerprint = (eps: Episode[]) => eps.map((e) => [e.classes, hashes(e.support), hashes(e.query)]);

  it('are reproducible from the seed, and episode i does not depend on count', async () => {
    const suite = await loadSuite('wordnet');
    const a = sampleEpisodes(suite, 'test', options);
    assert.deepEqual(fingerprint(a), fingerprint(sampleEpisodes(suite, 'test', options)));
    assert.deepEqual(fingerprint(a.slice(0, 5)), fingerprint(sampleEpisodes(suite, 'test', { ...options, count: 5 })));
    assert.notDeepEqual(fingerprint(a), fingerprint(sampleEpisodes(suite, 'test', { ...options, seed: 8 })));
  });

  it('are balanced N-way K-shot with disjoint support and query from the split', async () => {
    const suite = await loadSuite('brown');
    const test = new Set(suite.split.test);
    for (const ep of sampleEpisodes(suite, 'test', options)) {
      assert.equal(new Set(ep.classes).size, 5);
      assert.ok(ep.classes.every((c) => test.has(c)));
      for (let c = 0; c < 5; c++) {
        assert.equal(ep.supportLabels.filter((l) => l === c).length, 5);
        assert.equal(ep.queryLabels.filter((l) => l === c).length, 15);
      }
      ep.support.forEach((ex, i) => assert.equal(ex.label, ep.classes[ep.supportLabels[i]]));
      ep.query.forEach((ex, i) => assert.equal(ex.label, ep.classes[ep.queryLabels[i]]));
      // Brown sentences are grouped by document: no query shares a file with a support sentence.
      const supportGroups = new Set(ep.support.map((e) => e.group));
      assert.ok(ep.query.every((e) => !supportGroups.has(e.group)));
    }
  });

  it('keep one emoji out of the query when it is in the support (subcategory suite)', async () => {
    const suite = await loadSuite('emoji-subcategory');
    for (const ep of sampleEpisodes(suite, 'test', { ...options, count: 30 })) {
      const supportEmoji = new Set(ep.support.map((e) => e.group));
      assert.ok(ep.query.every((e) => !supportEmoji.has(e.group)));
    }
  });

  it('emoji identity: 1-shot support in one style, both queries in the other styles', async () => {
    const suite = await loadSuite('emoji');
    const [ep] = sampleEpisodes(suite, 'test', { nWay: 5, kShot: 1, queriesPerClass: 2, count: 1, seed: 1 });
    for (let c = 0; c < 5; c++) {
      const style = ep.support[c].style;
      const queries = ep.query.filter((_, i) => ep.queryLabels[i] === c);
      assert.equal(queries.length, 2);
      assert.ok(queries.every((q) => q.style !== style));
    }
    assert.throws(
      () => sampleEpisodes(suite, 'test', { nWay: 5, kShot: 5, queriesPerClass: 15, count: 1, seed: 1 }),
      /only 0 of 362 do/,
    );
  });
});

describe('task files', () => {
  it('loads the example sentiment task', () => {
    const [task] = loadTaskFile(new URL('../examples/tasks/sentiment.jsonl', import.meta.url).pathname);
    assert.equal(task.name, 'sentiment');
    assert.deepEqual(task.classes, ['positive', 'negative']);
    assert.equal(task.support.length, 10);
    assert.equal(task.query.length, 6);
  });

  it('reports every malformed line with its line number in one error', () => {
    const lines = [
      '{"task": "t", "split": "support", "label": "a", "text": "fine"}',
      '{"task": "t", "split": "support", "label": "b", "text": "fine too"',
      '',
      '{"task": "t", "split": "train", "label": "b", "text": "x"}',
      '{"task": "t", "split": "query", "label": "a", "text": "x", "image_base64": "AAAA"}',
      '{"task": "u", "split": "support", "label": "a", "text": "x", "lable": "b"}',
      '{"task": "v", "split": "support", "label": "a", "text": "x"}',
      '{"task": "v", "split": "support", "label": "b", "text": "y"}',
      '{"task": "v", "split": "query", "label": "c", "text": "z"}',
    ];
    const error = (() => {
      try {
        parseTaskFile(lines.join('\n'), { source: 'bad.jsonl' });
      } catch (err) {
        return err;
      }
      return null;
    })();
    assert.ok(error instanceof TaskFileError);
    assert.deepEqual(error.issues.map((i) => i.line), [2, 4, 5, 6, 9]);
    assert.match(error.message, /^bad\.jsonl: 5 problem/);
    assert.match(error.message, /line 2: invalid JSON/);
    assert.match(error.message, /line 4: split:/);
    assert.match(error.message, /line 5: exactly one of text, image, image_base64/);
    assert.match(error.message, /line 6: Unrecognized key: "lable"/);
    assert.match(error.message, /line 9: task "v": query label "c" has no support example/);
  });

  it('lists at most 20 issues in the message but keeps them all', () => {
    const content = Array.from({ length: 30 }, () => 'not json').join('\n');
    assert.throws(() => parseTaskFile(content), (err: unknown) => {
      assert.ok(err instanceof TaskFileError);
      assert.equal(err.issues.length, 30);
      assert.match(err.message, /line 20: invalid JSON[^\n]*\n {2}… and 10 more$/);
      return true;
    });
  });

  it('decodes image paths relative to the file and base64 images to the same example', async () => {
    const suite = await loadSuite('mnist');
    const [seven, one] = ['7', '1'].map((d) => suite.examplesByClass.get(d)?.[0] as Example);
    const dir = mkdtempSync(join(tmpdir(), 'task-file-'));
    writeFileSync(join(dir, 'seven.png'), encodePng(seven.image as RgbImage));
    const base64 = Buffer.from(encodePng(one.image as RgbImage)).toString('base64');
    const lines = [
      { task: 'digits', split: 'support', label: 'seven', image: 'seven.png' },
      { task: 'digits', split: 'support', label: 'one', image_base64: `data:image/png;base64,${base64}` },
    ];
    writeFileSync(join(dir, 'digits.jsonl'), lines.map((l) => JSON.stringify(l)).join('\n'));
    const [task] = loadTaskFile(join(dir, 'digits.jsonl'));
    assert.equal(task.modality, 'image');
    assert.deepEqual(hashes(task.support), [seven.hash, one.hash]);
    // Without a file location (an HTTP body) a path is refused, naming the line.
    assert.throws(() => parseTaskFile(JSON.stringify(lines[0])), /line 1: image: "seven\.png" is a file path/);
  });
});

describe('metrics', () => {
  const probs = [
    Float32Array.of(0.5, 0.5),
    Float32Array.of(0.78, 0.22),
    Float32Array.of(0.1, 0.9),
    Float32Array.of(0.25, 0.75),
  ];
  const labels = Int32Array.of(0, 0, 0, 0);

  it('accuracy and NLL', () => {
    assert.equal(accuracy(probs, labels), 0.5); // the 0.5/0.5 tie goes to class 0
    const expected = -(Math.log(0.5) + Math.log(0.78) + Math.log(0.1) + Math.log(0.25)) / 4;
    assert.ok(Math.abs(negativeLogLikelihood(probs, labels) - expected) < 1e-6);
    assert.ok(Number.isFinite(negativeLogLikelihood([Float32Array.of(1, 0)], [1])));
  });

  it('ECE with 15 bins', () => {
    // Bins (k/15, (k+1)/15]: 0.5 -> bin 7 (right); 0.78 (right) and 0.75 (wrong) share bin 11;
    // 0.9 -> bin 13 (wrong). ECE = (|1-0.5| + |1-1.53| + |0-0.9|) / 4.
    const expected = (0.5 + 0.53 + 0.9) / 4;
    assert.ok(Math.abs(expectedCalibrationError(probs, labels) - expected) < 1e-6);
    const perfect = [Float32Array.of(1, 0), Float32Array.of(0, 1)];
    assert.equal(expectedCalibrationError(perfect, [0, 1]), 0);
  });

  it('mean with 95% CI over episodes', () => {
    const { mean, sd, ci95 } = meanWithCi95([0.5, 0.7, 0.9]);
    assert.ok(Math.abs(mean - 0.7) < 1e-12);
    assert.ok(Math.abs(sd - 0.2) < 1e-12);
    assert.ok(Math.abs(ci95 - (1.96 * 0.2) / Math.sqrt(3)) < 1e-12);
    assert.ok(Number.isNaN(meanWithCi95([0.5]).ci95));
  });
});

describe('protocol', () => {
  /**
   * Raw pixels as features: enough for prototypes to beat chance on digits. One channel (MNIST is
   * grey, R = G = B, so cosines are unchanged); one row object per example, so the layer's row
   * cache pays each W·x once across episodes and runs.
   */
  const rows = new Map<Example, Float32Array>();
  const pixels = (ex: Example): Float32Array => {
    let row = rows.get(ex);
    if (!row) {
      const { data } = ex.image as RgbImage;
      row = Float32Array.from({ length: data.length / 3 }, (_, p) => data[3 * p]);
      rows.set(ex, row);
    }
    return row;
  };
  /** Frozen cosine prototypes of the raw features: LoRA's identity layer with B = 0. */
  const onPixels = frozenPrototypes(identityLayer(28 * 28));

  it('cosine prototypes give softmax(τ·cos) on a hand example', () => {
    const method = frozenPrototypes(identityLayer(2));
    const support = { features: [Float32Array.of(2, 0), Float32Array.of(0, 3)], labels: Int32Array.of(0, 1) };
    const [row] = method.fitPredict(support, [Float32Array.of(1, 0)], 2, null as never);
    assert.ok(Math.abs(row[0] - 1 / (1 + Math.exp(-10))) < 1e-6);
  });

  it('frozen prototypes on MNIST pixels: well above chance, with a CI, same result on the same episodes', async () => {
    const suite: Suite = await loadSuite('mnist');
    const episodes = sampleEpisodes(suite, 'test', { nWay: 5, kShot: 5, queriesPerClass: 15, count: 40, seed: 3 });
    const result = evaluate(onPixels, episodes, pixels);
    assert.equal(result.episodes, 40);
    assert.equal(result.queries, 40 * 75);
    assert.equal(result.perEpisode.length, 40);
    assert.ok(result.accuracy > 0.6, `accuracy ${result.accuracy}`);
    assert.ok(result.ci95 > 0 && result.ci95 < 0.1);
    assert.ok(result.nll > 0 && result.ece >= 0 && result.ece < 1);
    const again = evaluate(onPixels, episodes, pixels);
    assert.equal(again.accuracy, result.accuracy);
    assert.equal(again.nll, result.nll);
  });

  it('rejects a method that returns the wrong number of rows', async () => {
    const suite = await loadSuite('mnist');
    const episodes = sampleEpisodes(suite, 'test', { nWay: 3, kShot: 1, queriesPerClass: 2, count: 1, seed: 0 });
    const broken = { name: 'broken', fitPredict: () => [Float32Array.of(1, 0, 0)] };
    assert.throws(() => evaluate(broken, episodes, pixels), /method broken, episode 0: expected 6 probability rows, got 1/);
  });
});
