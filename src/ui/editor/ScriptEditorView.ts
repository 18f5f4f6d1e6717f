// The CodeMirror view of the scenario script, as a plain class React mounts: it owns the editor
// state and reports edits; marks (problems, the running statement) come in from outside.
import { autocompletion, completionKeymap } from '@codemirror/autocomplete';
import { defaultKeymap, history, historyKeymap, isolateHistory } from '@codemirror/commands';
import { indentUnit } from '@codemirror/language';
import { lintGutter, setDiagnostics, type Diagnostic } from '@codemirror/lint';
import {
  Annotation,
  EditorSelection,
  EditorState,
  RangeSet,
  type Range,
  StateEffect,
  StateField,
  type Extension,
  type Text,
} from '@codemirror/state';
import {
  Decoration,
  EditorView,
  GutterMarker,
  gutterLineClass,
  keymap,
  lineNumbers,
  type DecorationSet,
} from '@codemirror/view';
import { tdpLanguage } from './tdp-language.ts';

export interface Problem {
  kind: 'error' | 'refused' | 'failure';
  line: number;
  col: number;
  message: string;
}

export interface ScriptEditorOptions {
  doc: string;
  onChange: (text: string) => void;
  /** A line number was clicked, or a click put the caret on another statement's line. */
  onLine: (line: number) => void;
  describedBy: string;
}

interface Marks {
  active: number | null;
  error: readonly number[];
  failure: readonly number[];
  /** The script does not run as written (aria-invalid). */
  invalid: boolean;
}

/** Marks a transaction that sets the script from outside (a preset, a link): not an edit. */
const external = Annotation.define<boolean>();
const setMarks = StateEffect.define<Marks>();

const NO_MARKS: Marks = { active: null, error: [], failure: [], invalid: false };

const marksField = StateField.define<Marks>({
  create: () => NO_MARKS,
  update(marks, tr) {
    for (const e of tr.effects) if (e.is(setMarks)) return e.value;
    return marks;
  },
});

function lineStart(doc: Text, line: number): number | null {
  return line >= 1 && line <= doc.lines ? doc.line(line).from : null;
}

/** Tinted bands for the running statement and for lines with problems (shape is in the gutter). */
const bands = EditorView.decorations.compute([marksField, 'doc'], (state): DecorationSet => {
  const m = state.field(marksField);
  const ranges: Range<Decoration>[] = [];
  const add = (line: number, cls: string): void => {
    const at = lineStart(state.doc, line);
    if (at !== null) ranges.push(Decoration.line({ class: cls }).range(at));
  };
  if (m.active !== null) add(m.active, 'cm-tdp-active');
  for (const l of m.error) add(l, 'cm-tdp-error');
  for (const l of m.failure) add(l, 'cm-tdp-failure');
  return Decoration.set(ranges, true);
});

class LineClass extends GutterMarker {
  constructor(override readonly elementClass: string) {
    super();
  }
}
const ACTIVE_NUMBER = new LineClass('cm-tdp-active-number');

const activeNumber = gutterLineClass.compute([marksField, 'doc'], (state) => {
  const at = state.field(marksField).active;
  const pos = at === null ? null : lineStart(state.doc, at);
  return RangeSet.of<GutterMarker>(pos === null ? [] : [ACTIVE_NUMBER.range(pos)]);
});

const theme = EditorView.theme({
  '&': {
    height: '100%',
    fontSize: '13px',
    color: 'var(--fg)',
    backgroundColor: 'var(--panel)',
  },
  '&.cm-focused': { outline: 'none' },
  '.cm-scroller': { fontFamily: 'var(--mono)', lineHeight: '20px' },
  '.cm-content': { padding: '8px 0', caretColor: 'var(--fg)' },
  '.cm-line': { padding: '0 12px' },
  '.cm-cursor': { borderLeftColor: 'var(--fg)', borderLeftWidth: '2px' },
  '&.cm-focused .cm-selectionBackground, .cm-selectionBackground, ::selection': {
    backgroundColor: 'color-mix(in srgb, var(--accent) 28%, transparent) !important',
  },
  '.cm-gutters': {
    backgroundColor: 'var(--panel-2)',
    color: 'var(--muted)',
    borderRight: '1px solid var(--border)',
  },
  '.cm-lineNumbers .cm-gutterElement': {
    cursor: 'pointer',
    fontVariantNumeric: 'tabular-nums',
    padding: '0 8px 0 6px',
  },
  '.cm-lineNumbers .cm-gutterElement:hover': { color: 'var(--accent)' },
  '.cm-tdp-active-number': { color: 'var(--fg)', fontWeight: '600' },
  '.cm-gutterElement.cm-tdp-active-number': { backgroundColor: 'var(--highlight)' },
  '.cm-tdp-active': {
    backgroundColor: 'var(--highlight)',
    boxShadow: 'inset 3px 0 0 var(--accent)',
  },
  '.cm-tdp-error': { backgroundColor: 'color-mix(in srgb, var(--error) 10%, transparent)' },
  '.cm-tdp-failure': { backgroundColor: 'color-mix(in srgb, var(--warn) 12%, transparent)' },
  '.cm-lintRange-error': {
    backgroundImage: 'none',
    textDecoration: 'underline wavy var(--error)',
    textDecorationSkipInk: 'none',
    textUnderlineOffset: '4px',
  },
  '.cm-lintRange-warning': {
    backgroundImage: 'none',
    textDecoration: 'underline wavy var(--warn)',
    textUnderlineOffset: '4px',
  },
  '.cm-tooltip': {
    backgroundColor: 'var(--panel)',
    color: 'var(--fg)',
    border: '1px solid var(--border)',
    borderRadius: '4px',
  },
  '.cm-tooltip-autocomplete > ul > li[aria-selected]': {
    backgroundColor: 'var(--accent)',
    color: 'var(--accent-fg)',
  },
  '.cm-completionDetail': { color: 'var(--muted)', marginLeft: '1em', fontStyle: 'normal' },
  '.cm-tooltip-autocomplete > ul > li[aria-selected] .cm-completionDetail': {
    color: 'var(--accent-fg)',
  },
  '.cm-tdp-hover, .cm-completionInfo': {
    whiteSpace: 'pre-wrap',
    maxWidth: '36em',
    padding: '4px 8px',
    fontFamily: 'var(--font)',
    fontSize: '12px',
    lineHeight: '1.45',
  },
  '.cm-diagnostic': { fontFamily: 'var(--font)', fontSize: '12px' },
});

export class ScriptEditorView {
  private readonly view: EditorView;
  /** The doc as last reported or set: an unchanged prop costs no string compare with the doc. */
  private text: string;
  private lastLine = 0;

  constructor(
    parent: HTMLElement,
    private readonly opts: ScriptEditorOptions,
  ) {
    this.text = opts.doc;
    const extensions: Extension[] = [
      lineNumbers({
        domEventHandlers: {
          mousedown: (view, block) => {
            this.report(view.state.doc.lineAt(block.from).number);
            return false;
          },
        },
      }),
      lintGutter(),
      history(),
      indentUnit.of('  '),
      autocompletion({ activateOnTyping: true, icons: false }),
      keymap.of([
        { key: 'Tab', run: insertIndent },
        ...completionKeymap,
        ...historyKeymap,
        ...defaultKeymap,
      ]),
      tdpLanguage(),
      marksField,
      bands,
      activeNumber,
      theme,
      ariaAttributes(opts.describedBy),
      EditorView.updateListener.of((u) => {
        if (u.docChanged && !u.transactions.some((tr) => tr.annotation(external) === true)) {
          this.text = u.state.doc.toString();
          this.opts.onChange(this.text);
        }
        const pointer = u.transactions.some((tr) => tr.isUserEvent('select.pointer'));
        const sel = u.state.selection.main;
        if (u.selectionSet && pointer && sel.empty) {
          this.report(u.state.doc.lineAt(sel.head).number);
        }
      }),
    ];
    this.view = new EditorView({
      parent,
      state: EditorState.create({ doc: opts.doc, extensions }),
    });
  }

  /** Tells the owner about a clicked line once per line, so a second click there does nothing. */
  private report(line: number): void {
    if (line === this.lastLine) return;
    this.lastLine = line;
    this.opts.onLine(line);
  }

  /** Puts `text` in the editor as one undoable step, keeping the caret where the text agrees. */
  setDoc(text: string): void {
    if (text === this.text) return;
    this.text = text;
    const old = this.view.state.doc.toString();
    if (old === text) return;
    let start = 0;
    const max = Math.min(old.length, text.length);
    while (start < max && old.charCodeAt(start) === text.charCodeAt(start)) start++;
    let end = 0;
    while (
      end < max - start &&
      old.charCodeAt(old.length - 1 - end) === text.charCodeAt(text.length - 1 - end)
    ) {
      end++;
    }
    this.view.dispatch({
      changes: { from: start, to: old.length - end, insert: text.slice(start, text.length - end) },
      annotations: [external.of(true), isolateHistory.of('full')],
    });
  }

  setProblems(problems: readonly Problem[], invalid: boolean): void {
    const state = this.view.state;
    const doc = state.doc;
    const diagnostics: Diagnostic[] = [];
    for (const p of problems) {
      if (p.line < 1 || p.line > doc.lines) continue;
      const line = doc.line(p.line);
      const from = Math.min(line.from + p.col - 1, line.to);
      const token = /^\S+/.exec(line.text.slice(from - line.from))?.[0] ?? '';
      diagnostics.push({
        from,
        to: from + token.length,
        severity: p.kind === 'failure' ? 'warning' : 'error',
        message: `${p.line}:${p.col} ${p.message}`,
      });
    }
    const lines = (kind: 'error' | 'failure'): number[] =>
      problems.filter((p) => (p.kind === 'failure') === (kind === 'failure')).map((p) => p.line);
    const marks = state.field(marksField);
    const spec = setDiagnostics(state, diagnostics);
    this.view.dispatch(spec, {
      effects: [
        setMarks.of({ ...marks, error: lines('error'), failure: lines('failure'), invalid }),
      ],
    });
  }

  /** The statement running at the timeline cursor: banded, and scrolled to when off-screen. */
  setActiveLine(line: number | null): void {
    const marks = this.view.state.field(marksField);
    if (marks.active === line) return;
    const at = line === null ? null : lineStart(this.view.state.doc, line);
    this.view.dispatch({
      effects: [
        setMarks.of({ ...marks, active: line }),
        ...(at === null ? [] : [EditorView.scrollIntoView(at, { y: 'nearest', yMargin: 40 })]),
      ],
    });
  }

  /** Focuses the editor with the caret at 1-based line:col. */
  jumpTo(line: number, col: number): void {
    const doc = this.view.state.doc;
    const l = doc.line(Math.min(Math.max(line, 1), doc.lines));
    const at = Math.min(l.from + Math.max(col - 1, 0), l.to);
    this.view.dispatch({
      selection: EditorSelection.cursor(at),
      effects: EditorView.scrollIntoView(at, { y: 'center' }),
    });
    this.view.focus();
  }

  destroy(): void {
    this.view.destroy();
  }
}

// Computed from the marks, not reconfigured: a reconfiguration would close an open completion.
function ariaAttributes(describedBy: string): Extension {
  return EditorView.contentAttributes.compute([marksField], (state) => ({
    'aria-label': 'Scenario script',
    'aria-describedby': describedBy,
    'aria-invalid': state.field(marksField).invalid ? 'true' : 'false',
  }));
}

/** Tab types two spaces at the caret, as the language indents (Esc, then Tab, leaves). */
function insertIndent(view: EditorView): boolean {
  view.dispatch(view.state.replaceSelection('  '), {
    userEvent: 'input.type',
    scrollIntoView: true,
  });
  return true;
}
