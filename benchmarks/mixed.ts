/**
 * Mixed-family suites: the training tasks of several suites that share inputs but label them by
 * different aspects (WordNet glosses by supersense and by topic domain, plus Brown sentences by
 * genre; emoji by identity and by subcategory), trained on together, so a prior has task families
 * to tell apart. Meta-validation and meta-test stay per family: a mixed suite is evaluated on each
 * member suite's own val/test classes and episodes (benchmarks/protocols.ts `families`), so a
 * number here is comparable with the member suite's own report on the very same episodes.
 *
 * A class is `<family>/<label>`. The same input can carry a label in two families (a gloss has a
 * supersense and a domain), so an input that belongs to any family's validation or test class is
 * left out of every family's training tasks: no meta-test input is seen during meta-training,
 * under any label.
 */
import { makeTrainTasks } from './train-tasks.ts';
import type { ClassSplit, Example, Suite, TaskSpec } from './types.ts';

export interface MixedSpec {
  readonly name: string;
  readonly description: string;
  /** Member suites, in order; their names are the family names. */
  readonly families: readonly string[];
  /** Training tasks drawn per family. */
  readonly tasksPerFamily: number;
}

export const MIXED_SPECS = {
  'text-mixed': {
    name: 'text-mixed',
    description: 'WordNet glosses by supersense and by topic domain, and Brown sentences by genre, trained on together; meta-tested per family.',
    families: ['wordnet', 'wordnet-domains', 'brown'],
    tasksPerFamily: 100,
  },
  'image-mixed': {
    name: 'image-mixed',
    description: 'Emoji by identity across styles and by Unicode subcategory, trained on together; meta-tested per family.',
    families: ['emoji', 'emoji-subcategory'],
    tasksPerFamily: 100,
  },
} as const satisfies Record<string, MixedSpec>;

/** `<family>/<label>`: a class of a mixed suite. */
export const mixedClass = (family: string, label: string): string => `${family}/${label}`;

/** The family of a mixed-suite class (`<family>/<label>`). */
export function familyOf(cls: string): string {
  const slash = cls.indexOf('/');
  if (slash < 0) throw new Error(`'${cls}' is not a mixed-suite class (expected <family>/<label>)`);
  return cls.slice(0, slash);
}

/** Hashes of every input in a validation or test class of any member. */
function heldOutHashes(members: readonly Suite[]): Set<string> {
  const held = new Set<string>();
  for (const m of members) {
    for (const cls of [...m.split.val, ...m.split.test]) {
      for (const ex of m.examplesByClass.get(cls) ?? []) held.add(ex.hash);
    }
  }
  return held;
}

/** Builds a mixed suite from its loaded member suites (same modality, each with training tasks). */
export function buildMixedSuite(spec: MixedSpec, members: readonly Suite[]): Suite {
  if (members.length !== spec.families.length || members.some((m, i) => m.name !== spec.families[i])) {
    throw new Error(`${spec.name}: expected member suites ${spec.families.join(', ')}, got ${members.map((m) => m.name).join(', ')}`);
  }
  const modality = members[0].modality;
  const odd = members.find((m) => m.modality !== modality);
  if (odd) throw new Error(`${spec.name}: members mix ${modality} and ${odd.modality} (${odd.name})`);
  const held = heldOutHashes(members);
  const examplesByClass = new Map<string, readonly Example[]>();
  const split: { train: string[]; val: string[]; test: string[] } = { train: [], val: [], test: [] };
  const trainTasks: TaskSpec[] = [];
  for (const m of members) {
    const relabel = (cls: string, keep: (ex: Example) => boolean): readonly Example[] =>
      (m.examplesByClass.get(cls) ?? []).filter(keep).map((ex) => ({ ...ex, label: mixedClass(m.name, cls) }));
    for (const part of ['val', 'test'] as const) {
      for (const cls of m.split[part]) {
        examplesByClass.set(mixedClass(m.name, cls), relabel(cls, () => true));
        split[part].push(mixedClass(m.name, cls));
      }
    }
    const trainClasses: string[] = [];
    for (const cls of m.split.train) {
      const kept = relabel(cls, (ex) => !held.has(ex.hash));
      if (kept.length < 2) continue; // a class needs a support and a query row in a training episode
      examplesByClass.set(mixedClass(m.name, cls), kept);
      trainClasses.push(mixedClass(m.name, cls));
    }
    split.train.push(...trainClasses);
    trainTasks.push(...makeTrainTasks(m.name, trainClasses, examplesByClass, m.caps.seed, {
      ...m.trainTaskOptions, count: spec.tasksPerFamily,
    }));
  }
  const sorted: ClassSplit = { train: split.train.sort(), val: split.val.sort(), test: split.test.sort() };
  return {
    name: spec.name,
    modality,
    classes: [...examplesByClass.keys()].sort(),
    examplesByClass,
    split: sorted,
    trainTasks,
    trainTaskOptions: { ...members[0].trainTaskOptions, count: trainTasks.length },
    caps: members[0].caps,
    description: spec.description,
    source: members.map((m) => `${m.name}: ${m.source}`).join('; '),
    licence: [...new Set(members.map((m) => m.licence))].join('; '),
    families: spec.families,
  };
}
