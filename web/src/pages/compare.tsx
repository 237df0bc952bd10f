import type { Location } from '../router.ts';

export function ComparePage(_props: { loc: Location }) {
  return <h1>compare</h1>;
}
