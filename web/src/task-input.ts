/**
 * Turning what a user drops or pastes into what POST /v1/tasks takes: a JSONL task file as is,
 * a CSV (label,text[,split]) as JSONL lines with a map back to the CSV's own line numbers, and the
 * API's "line N: message" problems as a list per line.
 */

export interface Converted {
  readonly jsonl: string;
  /** JSONL line (1-based) -> line of the user's file. */
  readonly sourceLine: (line: number) => number;
  /** Problems found before sending (CSV syntax). */
  readonly problems: LineProblem[];
}

export interface LineProblem { readonly line: number | null; readonly message: string }

/** RFC 4180 fields of one CSV record ("" escapes a quote); null when a quote is left open. */
export function splitCsvLine(line: string): string[] | null {
  const out: string[] = [];
  let field = '', quoted = false;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i];
    if (quoted) {
      if (ch === '"' && line[i + 1] === '"') { field += '"'; i++; }
      else if (ch === '"') quoted = false;
      else field += ch;
    } else if (ch === '"' && field === '') quoted = true;
    else if (ch === ',') { out.push(field); field = ''; }
    else field += ch;
  }
  if (quoted) return null;
  out.push(field);
  return out;
}

export const looksLikeCsv = (name: string, text: string): boolean =>
  /\.csv$/i.test(name) || (!text.trimStart().startsWith('{') && /^[^\n]*,/.test(text));

export function csvToJsonl(text: string, task: string): Converted {
  const lines = text.split(/\r?\n/);
  const problems: LineProblem[] = [];
  const out: string[] = [];
  const origin: number[] = [];
  let header = true;
  lines.forEach((raw, i) => {
    if (raw.trim() === '') return;
    const fields = splitCsvLine(raw);
    if (fields === null) { problems.push({ line: i + 1, message: 'unterminated quoted field' }); return; }
    if (header) {
      header = false;
      if (fields[0].trim().toLowerCase() === 'label') return;
    }
    if (fields.length < 2 || fields.length > 3) { problems.push({ line: i + 1, message: `expected label,text or label,text,split; got ${fields.length} field(s)` }); return; }
    const [label, content, split = 'support'] = fields.map((f) => f.trim());
    out.push(JSON.stringify({ task, split, label, text: content }));
    origin.push(i + 1);
  });
  return { jsonl: out.join('\n'), sourceLine: (l) => origin[l - 1] ?? l, problems };
}

/** The API's task-file error ("...\n  line 3: message\n...") -> problems by line. */
export function problemsOf(message: string, sourceLine: (line: number) => number = (l) => l): LineProblem[] {
  const found = [...message.matchAll(/line (\d+): (.+)/g)].map((m) => ({ line: sourceLine(Number(m[1])), message: m[2].trim() }));
  return found.length ? found : [{ line: null, message }];
}

/**
 * The API's `[body.]examples[i][.field]: message` (a task sent as JSON; several joined by "; ")
 * -> problems by example number (1-based).
 */
export function exampleProblemsOf(message: string): LineProblem[] {
  return message.split(/; (?=(?:body\.)?examples\[)/).map((part) => {
    const m = /^(?:body\.)?examples\[(\d+)\](?:\.(\w+))?: (.+)$/s.exec(part);
    return m ? { line: Number(m[1]) + 1, message: m[2] ? `${m[2]}: ${m[3]}` : m[3] } : { line: null, message: part };
  });
}

/** PNG or JPEG by MIME type, or by extension when the browser gives no type. */
export const isImageFile = (f: File): boolean => /^image\/(png|jpeg)$/.test(f.type) || (f.type === '' && /\.(png|jpe?g)$/i.test(f.name));

export function readAsDataUrl(file: File): Promise<string> {
  return new Promise((resolve, reject) => {
    const r = new FileReader();
    r.onload = () => resolve(String(r.result));
    r.onerror = () => reject(r.error ?? new Error(`could not read ${file.name}`));
    r.readAsDataURL(file);
  });
}
