/**
 * Predict playground: a text or an image, predicted by an adapter chosen by id, name (+ alias) or
 * task, or retrieved from a zoo by the input itself. Probabilities as bars; for posterior adapters
 * the predictive entropy and mutual information, explained in one line.
 */
import { useState } from 'preact/hooks';
import { get, post, query } from '../api.ts';
import type { Location } from '../router.ts';
import { href } from '../router.ts';
import { readAsDataUrl } from '../task-input.ts';
import type { AdapterRef, Page, Prediction, Predictions, Retrieval, Zoo } from '../types.ts';
import { ErrorBox, imageSrc, num, pct, Section, useLoad } from '../ui.tsx';
import { TaskPicker } from './compare.tsx';

const TOP = 12;

export function ProbabilityBars({ prediction }: { prediction: Prediction }) {
  const sorted = Object.entries(prediction.probabilities).sort((a, b) => b[1] - a[1]);
  const shown = sorted.slice(0, TOP);
  return (
    <>
      <p class="prediction">Prediction: <strong data-label>{prediction.label}</strong> ({pct(sorted[0]?.[1])})</p>
      <div class="bars" role="list" aria-label="Class probabilities">
        {shown.map(([label, p], i) => (
          <div key={label} role="listitem" class={i === 0 ? 'top' : ''} style={{ display: 'contents' }}>
            <span>{label}</span>
            <div class="track" aria-hidden="true"><div class="fill" style={{ width: `${(100 * p).toFixed(1)}%` }} /></div>
            <span class="num">{pct(p)}</span>
          </div>
        ))}
      </div>
      {sorted.length > TOP && <p class="muted">… and {sorted.length - TOP} more classes.</p>}
      {prediction.uncertainty && (
        <div class="uncertainty" aria-label="Uncertainty">
          <p>Predictive entropy: <strong data-entropy>{num(prediction.uncertainty.entropy)}</strong> nats ·
            Mutual information: <strong data-mi>{num(prediction.uncertainty.mutual_information)}</strong> nats</p>
          <p class="note">Entropy is the total uncertainty of the averaged prediction; mutual information is the part that comes from
            the posterior samples disagreeing (uncertainty about the adapter itself, which more labelled examples would reduce).</p>
        </div>
      )}
    </>
  );
}

type Source = 'adapter' | 'task' | 'retrieve';

function adapterRef(value: string, alias: string): Record<string, unknown> {
  const v = value.trim();
  if (/^ad_[0-9a-f]+$/.test(v)) return { id: v };
  return { name: v, ...(alias.trim() ? { alias: alias.trim() } : {}) };
}

export function PredictPage({ loc }: { loc: Location }) {
  const initialAdapter = loc.params.get('adapter') ?? '';
  const initialTask = loc.params.get('task') ?? '';
  const [source, setSource] = useState<Source>(initialTask && !initialAdapter ? 'task' : 'adapter');
  const [adapter, setAdapter] = useState(initialAdapter);
  const [alias, setAlias] = useState('');
  const [task, setTask] = useState(initialTask);
  const [zoo, setZoo] = useState('');
  const [mode, setMode] = useState<'best' | 'mixture'>('best');
  const [text, setText] = useState('');
  const [image, setImage] = useState<string | null>(null);
  const [result, setResult] = useState<{ adapter: AdapterRef | null; prediction: Prediction; retrieval?: Retrieval } | null>(null);
  const [error, setError] = useState<Error | null>(null);
  const [busy, setBusy] = useState(false);
  const zoos = useLoad((s) => get<Page<Zoo>>(`v1/zoos${query({ max_results: 1000 })}`, s), []);
  const input = image ? { image_base64: image } : { text };
  const submit = async (e: Event) => {
    e.preventDefault();
    setError(null);
    setResult(null);
    setBusy(true);
    try {
      if (source === 'retrieve') {
        const r = await post<Retrieval>('v1/retrieve', { inputs: [input], ...(zoo ? { zoo } : {}), mode });
        if (!r.result) throw new Error('the zoo returned no prediction');
        setResult({ adapter: r.result.used[0]?.adapter ?? null, prediction: r.result.predictions[0], retrieval: r });
      } else {
        const ref = source === 'task' ? { task } : adapterRef(adapter, alias);
        const r = await post<Predictions>('v1/predict', { adapter: ref, inputs: [input] });
        setResult({ adapter: r.adapter, prediction: r.predictions[0] });
      }
    } catch (err) { setError(err as Error); } finally { setBusy(false); }
  };
  const pickImage = async (files: FileList | File[] | null | undefined) => {
    const f = files?.[0];
    if (f) setImage(await readAsDataUrl(f));
  };
  return (
    <>
      <h1>Predict</h1>
      <div class="grid2">
        <Section title="Input and adapter">
          <form onSubmit={submit}>
            <fieldset>
              <legend>Adapter</legend>
              <label><input type="radio" name="source" checked={source === 'adapter'} onChange={() => setSource('adapter')} /> By id or name (+ alias)</label>
              <label><input type="radio" name="source" checked={source === 'task'} onChange={() => setSource('task')} /> A task's default adapter</label>
              <label><input type="radio" name="source" checked={source === 'retrieve'} onChange={() => setSource('retrieve')} /> Retrieve from a zoo by the input</label>
            </fieldset>
            <div class="filters" style={{ marginTop: '10px' }}>
              {source === 'adapter' && <>
                <label>Adapter id or name<input required value={adapter} onInput={(e) => setAdapter((e.target as HTMLInputElement).value)} /></label>
                <label>Alias<input value={alias} onInput={(e) => setAlias((e.target as HTMLInputElement).value)} placeholder="latest when empty" /></label>
              </>}
              {source === 'task' && <TaskPicker value={task} onChange={setTask} />}
              {source === 'retrieve' && <>
                <label>Zoo
                  <select value={zoo} onChange={(e) => setZoo((e.target as HTMLSelectElement).value)}>
                    <option value="">every zoo of the input's base model</option>
                    {(zoos.data?.items ?? []).map((z) => <option key={z.name} value={z.name}>{z.name} ({z.member_count} members)</option>)}
                  </select>
                </label>
                <label>Mode
                  <select value={mode} onChange={(e) => setMode((e.target as HTMLSelectElement).value as 'best' | 'mixture')}>
                    <option value="best">best member</option><option value="mixture">mixture of the top 3</option>
                  </select>
                </label>
              </>}
            </div>
            <label style={{ display: 'flex' }}>Text
              <textarea value={text} disabled={image !== null} onInput={(e) => setText((e.target as HTMLTextAreaElement).value)} style={{ minHeight: '80px' }} />
            </label>
            <div class="dropzone" data-dropzone="image" onDragOver={(e) => e.preventDefault()} onDrop={(e) => { e.preventDefault(); void pickImage(e.dataTransfer?.files); }}>
              {image
                ? <><img class="thumb" src={imageSrc(image)} alt="the input image" /> <button type="button" class="secondary" onClick={() => setImage(null)}>Remove image</button></>
                : <><p>…or drop a PNG or JPEG image here, or</p>
                  <label for="predict-image" class="button secondary">Choose an image</label>
                  <input id="predict-image" class="sr-only" type="file" accept="image/png,image/jpeg" onChange={(e) => pickImage((e.target as HTMLInputElement).files)} /></>}
            </div>
            <div class="actions"><button type="submit" disabled={busy || (!image && text.trim() === '')}>Predict</button></div>
          </form>
          <ErrorBox error={error} />
        </Section>
        <Section title="Prediction">
          {result ? (
            <div aria-live="polite">
              {result.adapter && <p class="muted">By <a href={href('registry', 'adapters', result.adapter.id)}>{result.adapter.name} v{result.adapter.version}</a> ({result.adapter.method})</p>}
              <ProbabilityBars prediction={result.prediction} />
              {result.retrieval && (
                <>
                  <h3>Retrieved members ({result.retrieval.routing} routing)</h3>
                  <table>
                    <thead><tr><th>Adapter</th><th>Zoo</th><th class="num">Score</th><th class="num">Weight</th></tr></thead>
                    <tbody>{result.retrieval.candidates.map((c) => {
                      const used = result.retrieval!.result?.used.find((u) => u.adapter.id === c.adapter.id);
                      return <tr key={c.adapter.id}><td><a href={href('registry', 'adapters', c.adapter.id)}>{c.adapter.name}</a></td><td>{c.zoo} v{c.zoo_version}</td><td class="num">{num(c.score)}</td><td class="num">{used ? num(used.weight, 2) : '—'}</td></tr>;
                    })}</tbody>
                  </table>
                </>
              )}
            </div>
          ) : <p class="muted">Enter a text or an image and choose an adapter.</p>}
        </Section>
      </div>
    </>
  );
}
