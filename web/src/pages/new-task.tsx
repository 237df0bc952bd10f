/**
 * New task: drop or pick a JSONL task file or a CSV (label,text[,split]), or paste one, or add
 * examples by hand (text, or images by picker / drag and drop). Problems come back per line, as
 * the API reports them (CSV lines mapped back to the CSV's own numbering).
 */
import { useState } from 'preact/hooks';
import { ApiError, call } from '../api.ts';
import { href } from '../router.ts';
import type { Location } from '../router.ts';
import type { Task } from '../types.ts';
import { csvToJsonl, exampleProblemsOf, isImageFile, looksLikeCsv, problemsOf, readAsDataUrl, type LineProblem } from '../task-input.ts';
import { imageSrc, Section } from '../ui.tsx';

const SLUG = /^[a-z0-9][a-z0-9._-]{0,127}$/;

/** Problems by line of a file (`unit` "line") or by example of the hand-made table ("example"). */
function Problems({ problems, unit = 'line' }: { problems: LineProblem[]; unit?: string }) {
  if (problems.length === 0) return null;
  return (
    <div class="error" role="alert" aria-label="Problems">
      <strong>{problems.length} problem(s):</strong>
      <ul>{problems.map((p, i) => <li key={i}>{p.line !== null ? <strong>{unit} {p.line}: </strong> : null}{p.message}</li>)}</ul>
    </div>
  );
}

function Created({ tasks }: { tasks: Task[] }) {
  return (
    <div class="ok" role="status">
      Created {tasks.map((t, i) => (
        <span key={t.id}>{i > 0 && ', '}<a href={href('registry', 'tasks', t.id)}>{t.id}</a> ({t.labels.length} labels, {t.example_counts.support ?? 0} support / {t.example_counts.query ?? 0} query)</span>
      ))}. <a href={`${href('compare')}?task=${encodeURIComponent(tasks[0].id)}`}>Fit &amp; compare it</a>
    </div>
  );
}

function DropZone({ onFiles, accept, label }: { onFiles: (files: File[]) => void; accept: string; label: string }) {
  const [over, setOver] = useState(false);
  const id = `pick-${label.replace(/\W+/g, '-')}`;
  return (
    <div class={`dropzone${over ? ' over' : ''}`} data-dropzone={label}
      onDragOver={(e) => { e.preventDefault(); setOver(true); }} onDragLeave={() => setOver(false)}
      onDrop={(e) => { e.preventDefault(); setOver(false); onFiles([...(e.dataTransfer?.files ?? [])]); }}>
      <p>Drop {label} here, or</p>
      <label for={id} class="button secondary">Choose {label}</label>
      <input id={id} class="sr-only" type="file" accept={accept} multiple
        onChange={(e) => { const t = e.target as HTMLInputElement; onFiles([...(t.files ?? [])]); t.value = ''; }} />
    </div>
  );
}

function FromFile() {
  const [id, setId] = useState('');
  const [text, setText] = useState('');
  const [fileName, setFileName] = useState('');
  const [problems, setProblems] = useState<LineProblem[]>([]);
  const [created, setCreated] = useState<Task[] | null>(null);
  const [busy, setBusy] = useState(false);
  const load = async (files: File[]) => {
    const file = files[0];
    if (!file) return;
    setFileName(file.name);
    setText(await file.text());
    if (!id) setId(file.name.replace(/\.[^.]+$/, '').toLowerCase().replace(/[^a-z0-9._-]+/g, '-').replace(/^[^a-z0-9]+/, ''));
  };
  const submit = async (e: Event) => {
    e.preventDefault();
    setProblems([]);
    setCreated(null);
    const csv = looksLikeCsv(fileName, text);
    if (csv && !SLUG.test(id)) { setProblems([{ line: null, message: 'task id: a CSV file needs a task id (lower-case letters, digits, ".", "_", "-")' }]); return; }
    const converted = csv ? csvToJsonl(text, id) : { jsonl: text, sourceLine: (l: number) => l, problems: [] };
    if (converted.problems.length) { setProblems(converted.problems); return; }
    setBusy(true);
    try {
      const res = await call<{ tasks: Task[] }>('POST', `v1/tasks${id && !csv ? `?id=${encodeURIComponent(id)}` : ''}`, { body: converted.jsonl, contentType: 'application/x-ndjson' });
      setCreated(res.tasks);
    } catch (err) {
      setProblems(err instanceof ApiError ? problemsOf(err.message, converted.sourceLine) : [{ line: null, message: (err as Error).message }]);
    } finally { setBusy(false); }
  };
  return (
    <Section title="From a file">
      <p class="note">A JSONL task file (one example a line: <code>{'{"task", "split", "label", "text" | "image_base64"}'}</code>, see docs/task-file.md) or a CSV with columns <code>label,text</code> (optional third column <code>split</code>: support or query).</p>
      <form onSubmit={submit}>
        <DropZone label="a task file" accept=".jsonl,.ndjson,.json,.csv,text/csv,application/x-ndjson,text/plain" onFiles={load} />
        <div class="filters" style={{ marginTop: '10px' }}>
          <label>Task id<input value={id} onInput={(e) => setId((e.target as HTMLInputElement).value)} placeholder="default: the file's task name" /></label>
          {fileName && <span class="muted">Loaded {fileName}</span>}
        </div>
        <label style={{ display: 'flex' }}>Task file contents
          <textarea value={text} onInput={(e) => setText((e.target as HTMLTextAreaElement).value)} spellcheck={false} />
        </label>
        <div class="actions"><button type="submit" disabled={busy || text.trim() === ''}>Create task</button></div>
      </form>
      <Problems problems={problems} />
      {created && <Created tasks={created} />}
    </Section>
  );
}

interface Row { label: string; split: 'support' | 'query'; text: string; image: string | null }

const emptyRow = (): Row => ({ label: '', split: 'support', text: '', image: null });
const isEmpty = (r: Row): boolean => r.label === '' && r.text === '' && r.image === null;

function ByHand() {
  const [id, setId] = useState('');
  const [name, setName] = useState('');
  const [modality, setModality] = useState<'text' | 'image'>('text');
  const [rows, setRows] = useState<Row[]>([emptyRow(), emptyRow()]);
  const [problems, setProblems] = useState<LineProblem[]>([]);
  const [skipped, setSkipped] = useState<string[]>([]);
  const [created, setCreated] = useState<Task[] | null>(null);
  const [dropLabel, setDropLabel] = useState('');
  const set = (i: number, patch: Partial<Row>) => setRows((rs) => rs.map((r, j) => (j === i ? { ...r, ...patch } : r)));
  /** Every PNG / JPEG of a drop or pick becomes a support example with the chosen label; others are named as skipped. */
  const addImages = async (files: File[], label: string) => {
    const images = files.filter(isImageFile);
    setSkipped(files.filter((f) => !isImageFile(f)).map((f) => f.name));
    const urls = await Promise.all(images.map(readAsDataUrl));
    setRows((rs) => [...rs.filter((r) => !isEmpty(r)), ...urls.map((image) => ({ ...emptyRow(), label, image }))]);
  };
  const submit = async (e: Event) => {
    e.preventDefault();
    setProblems([]);
    setCreated(null);
    try {
      const examples = rows.map((r) => ({ label: r.label.trim(), split: r.split, ...(modality === 'text' ? { text: r.text } : { image_base64: r.image ?? '' }) }));
      setCreated([await call<Task>('POST', 'v1/tasks', { body: { id, ...(name ? { name } : {}), modality, examples } })]);
    } catch (err) {
      setProblems(err instanceof ApiError ? exampleProblemsOf(err.message) : [{ line: null, message: (err as Error).message }]);
    }
  };
  return (
    <Section title="By hand">
      <form onSubmit={submit}>
        <div class="filters">
          <label>Task id<input required value={id} pattern="[a-z0-9][a-z0-9._\-]*" onInput={(e) => setId((e.target as HTMLInputElement).value)} /></label>
          <label>Name<input value={name} onInput={(e) => setName((e.target as HTMLInputElement).value)} placeholder="optional" /></label>
          <label>Modality
            <select value={modality} onChange={(e) => setModality((e.target as HTMLSelectElement).value as 'text' | 'image')}>
              <option value="text">text</option><option value="image">image</option>
            </select>
          </label>
        </div>
        {modality === 'image' && (
          <div class="image-drop">
            <label>Label for dropped images<input value={dropLabel} onInput={(e) => setDropLabel((e.target as HTMLInputElement).value)} /></label>
            <DropZone label="PNG or JPEG images" accept="image/png,image/jpeg,.png,.jpg,.jpeg" onFiles={(f) => addImages(f, dropLabel)} />
            <p class="note">Each dropped or chosen image becomes a support example with this label; set a row's split to query to
              hold it out for comparing methods.</p>
            {skipped.length > 0 && <p class="error" role="alert">Skipped (not PNG or JPEG): {skipped.join(', ')}</p>}
          </div>
        )}
        <table>
          <thead><tr><th>#</th><th>Label</th><th>Split</th><th>{modality === 'text' ? 'Text' : 'Image'}</th><th><span class="sr-only">Remove</span></th></tr></thead>
          <tbody>
            {rows.map((r, i) => (
              <tr key={i}>
                <td>{i + 1}</td>
                <td><input aria-label={`Label of example ${i + 1}`} value={r.label} onInput={(e) => set(i, { label: (e.target as HTMLInputElement).value })} /></td>
                <td>
                  <select aria-label={`Split of example ${i + 1}`} value={r.split} onChange={(e) => set(i, { split: (e.target as HTMLSelectElement).value as Row['split'] })}>
                    <option value="support">support</option><option value="query">query</option>
                  </select>
                </td>
                <td>{modality === 'text'
                  ? <input aria-label={`Text of example ${i + 1}`} style={{ width: '100%' }} value={r.text} onInput={(e) => set(i, { text: (e.target as HTMLInputElement).value })} />
                  : r.image
                    ? <img class="thumb" src={imageSrc(r.image)} alt={`example ${i + 1}${r.label ? `, ${r.label}` : ''}`} />
                    : <input aria-label={`Image of example ${i + 1}`} type="file" accept="image/png,image/jpeg" onChange={async (e) => { const f = (e.target as HTMLInputElement).files?.[0]; if (f) set(i, { image: await readAsDataUrl(f) }); }} />}
                </td>
                <td><button type="button" class="secondary" aria-label={`Remove example ${i + 1}`} onClick={() => setRows((rs) => rs.filter((_, j) => j !== i))}>×</button></td>
              </tr>
            ))}
          </tbody>
        </table>
        <div class="actions">
          <button type="button" class="secondary" onClick={() => setRows((rs) => [...rs, emptyRow()])}>Add example</button>
          <button type="submit">Create task</button>
        </div>
      </form>
      <Problems problems={problems} unit="example" />
      {created && <Created tasks={created} />}
    </Section>
  );
}

export function NewTaskPage(_props: { loc: Location }) {
  return (
    <>
      <h1>New task</h1>
      <FromFile />
      <ByHand />
    </>
  );
}
