// The .tdp language for CodeMirror: highlighting, completion and hover, each a thin adapter over
// the schema-driven language service in src/sim/scenario/language.ts.
import {
  startCompletion,
  type Completion,
  type CompletionContext,
  type CompletionResult,
} from '@codemirror/autocomplete';
import { HighlightStyle, StreamLanguage, syntaxHighlighting } from '@codemirror/language';
import { hoverTooltip, type EditorView } from '@codemirror/view';
import { tags } from '@lezer/highlight';
import type { Extension } from '@codemirror/state';
import { completeAt, hoverAt, tokenizeLine, type LineToken } from '../../sim/scenario/language.ts';

interface LineState {
  tokens: LineToken[];
}

const STYLE: Record<LineToken['role'], string> = {
  statement: 'keyword',
  key: 'propertyName',
  value: 'atom',
  comment: 'comment',
  actor: 'labelName',
  unknown: 'invalid',
};

/** A trace line (an imported trace is edited here too): its event name stands out, nothing is an error. */
const TRACE_EVENT_RE = /(?:\d\.\d+:\s+|^\s*)([a-z][a-z0-9_]*):\s/;
function traceTokens(line: string): LineToken[] | null {
  if (!/\[\d+\]|^\s*kvm_\w+:|^\s*CPU:\d+ \[LOST|^\s*=>|^\s*(?:version|cpus)\s*=/.test(line))
    return null;
  const m = TRACE_EVENT_RE.exec(line);
  const name = m?.[1];
  if (!m || name === undefined) return [];
  const from = m.index + m[0].indexOf(name);
  return [{ from, to: from + name.length, role: 'statement' }];
}

const tdp = StreamLanguage.define<LineState>({
  name: 'tdp',
  startState: () => ({ tokens: [] }),
  copyState: (s) => ({ tokens: s.tokens }),
  token(stream, state) {
    if (stream.sol()) state.tokens = traceTokens(stream.string) ?? tokenizeLine(stream.string);
    const at = stream.pos;
    const tok = state.tokens.find((t) => t.to > at);
    if (tok === undefined) {
      stream.skipToEnd();
      return null;
    }
    if (tok.from > at) {
      stream.pos = tok.from;
      return null;
    }
    stream.pos = tok.to;
    if (tok.role === 'value') return /^[0-9]/.test(stream.current()) ? 'number' : 'atom';
    return STYLE[tok.role];
  },
  languageData: { commentTokens: { line: '#' } },
});

// Colours are the app's theme variables, so light and dark follow the page.
const highlight = HighlightStyle.define([
  { tag: tags.keyword, color: 'var(--accent)', fontWeight: '600' },
  { tag: tags.propertyName, color: 'var(--fg)' },
  { tag: tags.number, color: 'var(--spte-4k)' },
  { tag: tags.atom, color: 'var(--ok)' },
  { tag: tags.comment, color: 'var(--muted)', fontStyle: 'italic' },
  { tag: tags.invalid, color: 'var(--error)' },
]);

const KINDS = { statement: 'keyword', key: 'property', value: 'enum' } as const;

function complete(ctx: CompletionContext): CompletionResult | null {
  const line = ctx.state.doc.lineAt(ctx.pos);
  const found = completeAt(line.text, ctx.pos - line.from);
  if (found === null || found.options.length === 0) return null;
  // Only offer unasked when a word is being typed or a value follows '='.
  const typed = line.text.slice(found.from, ctx.pos - line.from);
  const afterEq = line.text[found.from - 1] === '=';
  if (!ctx.explicit && typed === '' && !afterEq) return null;
  const options: Completion[] = found.options.map((o, i) => ({
    label: o.label,
    // The schema's order (walk, direct, atomic; required keys first), not the alphabet's.
    boost: 99 - Math.min(i, 198),
    type: KINDS[o.kind],
    detail: o.detail,
    info: o.info,
    // A key is followed by its values at once, as a person would ask next.
    apply:
      o.kind === 'key'
        ? (view: EditorView, _c: Completion, from: number, to: number) => {
            view.dispatch({
              changes: { from, to, insert: o.label },
              selection: { anchor: from + o.label.length },
              userEvent: 'input.complete',
            });
            startCompletion(view);
          }
        : o.kind === 'statement'
          ? `${o.label} `
          : o.label,
  }));
  return { from: line.from + found.from, options, validFor: /^[\w.=-]*$/ };
}

const hover = hoverTooltip((view, pos) => {
  const line = view.state.doc.lineAt(pos);
  const doc = hoverAt(line.text, pos - line.from);
  if (doc === null) return null;
  return {
    pos: line.from + doc.from,
    end: line.from + doc.to,
    above: true,
    create: () => {
      const dom = document.createElement('div');
      dom.className = 'cm-tdp-hover';
      dom.textContent = doc.text;
      return { dom };
    },
  };
});

/** Highlighting, completion data and hover docs for .tdp text. */
export function tdpLanguage(): Extension {
  return [tdp, syntaxHighlighting(highlight), tdp.data.of({ autocomplete: complete }), hover];
}
