import type { Location } from '../router.ts';

export function PredictPage(_props: { loc: Location }) {
  return <h1>predict</h1>;
}
