// What an editor needs to know about one line of .tdp text: its tokens, what can be typed at a
// column, and what the word under the pointer means. All of it is read from the schema.
import {
  BOOLEANS,
  isStatementWord,
  keySpec,
  specOf,
  STATEMENT_WORDS,
  type KeySpec,
  type StatementWord,
  type ValueType,
} from './schema.ts';

export type TokenRole = 'statement' | 'key' | 'value' | 'comment' | 'actor' | 'unknown';

export interface LineToken {
  /** 0-based offsets in the line, `to` exclusive. */
  from: number;
  to: number;
  role: TokenRole;
}

export interface CompletionOption {
  label: string;
  kind: 'statement' | 'key' | 'value';
  /** One line shown beside the label. */
  detail: string;
  /** The longer text shown with the selected option. */
  info: string;
}

export interface Completions {
  /** 0-based offset in the line where the completed text starts. */
  from: number;
  options: CompletionOption[];
}

export interface HoverDoc {
  from: number;
  to: number;
  text: string;
}

export interface Word {
  from: number;
  to: number;
  text: string;
}

/**
 * The line's words before any `#`, with their 0-based offsets, and where the comment starts (-1:
 * none). A first word ending in ':' is the actor label of a race line (`vcpu1: access …`): it is
 * returned apart, and the words start with the statement.
 */
export function lineWords(line: string): { words: Word[]; comment: number; label: Word | null } {
  const hash = line.indexOf('#');
  const code = hash < 0 ? line : line.slice(0, hash);
  const found = [...code.matchAll(/\S+/g)].map((m) => ({
    from: m.index,
    to: m.index + m[0].length,
    text: m[0],
  }));
  const first = found[0];
  if (first && first.text.length > 1 && first.text.endsWith(':')) {
    return { words: found.slice(1), comment: hash, label: first };
  }
  return { words: found, comment: hash, label: null };
}

/** Tokens for highlighting: the statement word, then each key and value of its pairs. */
export function tokenizeLine(line: string): LineToken[] {
  const { words: ws, comment, label } = lineWords(line);
  const out: LineToken[] = [];
  if (label) out.push({ from: label.from, to: label.to, role: 'actor' });
  const first = ws[0];
  const word = first !== undefined && isStatementWord(first.text) ? first.text : undefined;
  ws.forEach((w, i) => {
    if (i === 0) {
      out.push({ from: w.from, to: w.to, role: word === undefined ? 'unknown' : 'statement' });
      return;
    }
    const eq = w.text.indexOf('=');
    if (eq <= 0) {
      out.push({ from: w.from, to: w.to, role: 'unknown' });
      return;
    }
    const known = word !== undefined && keySpec(word, w.text.slice(0, eq)) !== undefined;
    out.push({ from: w.from, to: w.from + eq, role: known ? 'key' : 'unknown' });
    if (eq + 1 < w.text.length) out.push({ from: w.from + eq + 1, to: w.to, role: 'value' });
  });
  if (comment >= 0) out.push({ from: comment, to: line.length, role: 'comment' });
  return out;
}

/** What may be typed at offset `at` of `line`: statements, keys not yet given, or a key's values. */
export function completeAt(line: string, at: number): Completions | null {
  const { words: ws, comment } = lineWords(line);
  if (comment >= 0 && at > comment) return null;
  const current = ws.find((w) => w.from <= at && at <= w.to);
  const from = current?.from ?? at;
  const typed = line.slice(from, at);
  const first = ws[0];
  if (first === undefined || first.from >= at || current === first) {
    return {
      from,
      options: STATEMENT_WORDS.filter((w) => w.startsWith(typed)).map(statementOption),
    };
  }
  if (!isStatementWord(first.text)) return null;
  const word = first.text;
  const eq = typed.indexOf('=');
  if (eq >= 0) {
    const spec = keySpec(word, typed.slice(0, eq));
    if (spec === undefined) return null;
    const prefix = typed.slice(eq + 1);
    return {
      from: from + eq + 1,
      options: valuesOf(spec.type)
        .filter((v) => v.startsWith(prefix))
        .map((v) => ({ label: v, kind: 'value', detail: '', info: keyDoc(spec) })),
    };
  }
  const given = new Set(
    ws.filter((w) => w !== first && w !== current).map((w) => w.text.split('=')[0] ?? ''),
  );
  const options = specOf(word)
    .keys.filter((k) => !given.has(k.name) && (k.or === undefined || !given.has(k.or)))
    .filter((k) => k.name.startsWith(typed))
    .map((k) => keyOption(k));
  return { from, options };
}

function statementOption(word: StatementWord): CompletionOption {
  const spec = specOf(word);
  return { label: word, kind: 'statement', detail: spec.mirrors, info: statementDoc(word) };
}

function keyOption(k: KeySpec): CompletionOption {
  return { label: `${k.name}=`, kind: 'key', detail: typeWords(k.type), info: keyDoc(k) };
}

/** The values a completion can offer for a type (numbers have none to offer). */
export function valuesOf(t: ValueType): readonly string[] {
  if (t.kind === 'choice') return t.values;
  if (t.kind === 'bool') return [...BOOLEANS.keys()].slice(0, 2);
  if (t.kind === 'schedule') return ['round-robin', 'random'];
  return [];
}

export function typeWords(t: ValueType): string {
  switch (t.kind) {
    case 'gpa':
      return 'address (e.g. 0x100000000)';
    case 'gfn':
      return 'GFN (e.g. 0x100000)';
    case 'size':
      return 'bytes (e.g. 2M)';
    case 'int':
      return t.max === undefined ? `integer ≥ ${t.min}` : `integer ${t.min}..${t.max}`;
    case 'choice':
      return t.values.join(' | ');
    case 'bool':
      return 'on | off';
    case 'schedule':
      return 'round-robin | random | 0,1,1…';
  }
}

export function statementDoc(word: StatementWord): string {
  const spec = specOf(word);
  const keys =
    word === 'expect'
      ? 'keys: any stat or counter name'
      : spec.keys.length === 0
        ? 'no keys'
        : `keys: ${spec.keys.map((k) => `${k.name}=${k.required === true ? '' : '?'}`).join(' ')}`;
  return `${word} — ${spec.mirrors}\n${spec.doc}\n${keys}\ne.g. ${spec.example}`;
}

function keyDoc(k: KeySpec): string {
  const need = k.required === true ? (k.or ? `required (or ${k.or}=)` : 'required') : undefined;
  const dflt = k.default === undefined ? undefined : `default: ${k.default}`;
  return [`${k.name}= ${typeWords(k.type)}`, k.doc, need ?? dflt].filter(Boolean).join('\n');
}

/** The documentation of the statement word or key under offset `at`, or null. */
export function hoverAt(line: string, at: number): HoverDoc | null {
  const { words: ws, comment } = lineWords(line);
  if (comment >= 0 && at >= comment) return null;
  const w = ws.find((x) => x.from <= at && at < x.to);
  const first = ws[0];
  if (w === undefined || first === undefined || !isStatementWord(first.text)) return null;
  if (w === first) return { from: w.from, to: w.to, text: statementDoc(first.text) };
  const eq = w.text.indexOf('=');
  const spec = eq > 0 ? keySpec(first.text, w.text.slice(0, eq)) : undefined;
  if (spec === undefined) return null;
  return { from: w.from, to: w.to, text: keyDoc(spec) };
}
