/**
 * Child process of registry-concurrency.test.ts: opens the registry at argv[2] and creates
 * argv[4] adapter versions of one shared name (distinct content per process and step), plus one
 * version whose content every process sends, all as fast as it can. Prints the versions it got.
 */
import { openRegistry } from '../registry/open.ts';

const [url, who, count] = [process.argv[2], Number(process.argv[3]), Number(process.argv[4])];
const D = 4;
const store = await openRegistry(url);
const got: { version: number; created: boolean; shared: boolean }[] = [];
const create = async (fill: number, shared: boolean) => {
  const r = await store.createAdapterVersion({
    name: 'shared-name', method: 'independent', baseModel: 'concurrency-base', labels: ['a', 'b'], rank: 1, alpha: 1,
    parameters: { lora_A: new Float32Array(D).fill(fill), lora_B: new Float32Array(D).fill(fill) },
  });
  got.push({ version: r.value.version, created: r.created, shared });
};
for (let i = 0; i < count; i++) {
  await create(1 + who * 1000 + i, false);
  if (i === Math.floor(count / 2)) await create(0.5, true);
}
await store.close();
process.stdout.write(JSON.stringify(got));
