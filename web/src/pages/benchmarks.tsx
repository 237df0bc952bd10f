import type { Location } from '../router.ts';

export function BenchmarksPage(_props: { loc: Location }) {
  return <h1>benchmarks</h1>;
}
