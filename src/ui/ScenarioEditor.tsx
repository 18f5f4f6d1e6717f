// The scenario script editor: a plain textarea over a backdrop that paints per-line marks, so
// editing stays native (undo, IME, selection) and only the few marked lines cost any rendering.
import {
  memo,
  useCallback,
  useEffect,
  useId,
  useLayoutEffect,
  useMemo,
  useRef,
  type CSSProperties,
  type JSX,
  type KeyboardEvent,
} from 'react';
import type { ExpectFailure, ParseError } from '../sim/scenario/ast.ts';
import { EditHistory } from './edit-history.ts';
import './ScenarioEditor.css';

export interface ScenarioEditorProps {
  value: string;
  onChange: (value: string) => void;
  /** Parse errors (the integrator parses as the user types). */
  errors: readonly ParseError[];
  /** A statement the model refused when it ran. */
  refused: ParseError | null;
  /** Expects that did not hold. */
  failures: readonly ExpectFailure[];
  /** The statement being executed at the timeline cursor. */
  activeLine: number | null;
  /** A line number was clicked: run the timeline to the end of that line's statement. */
  onRunTo?: (line: number) => void;
}

// Geometry shared by the textarea, the gutter and the backdrop; passed to CSS as variables so
// the painted bands and the text cannot drift apart.
const LINE_HEIGHT = 20;
const PAD_Y = 8;
const PAD_X = 12;
const TAB_SIZE = 2;
const INDENT = '  ';
const GUTTER_CHUNK = 100;
/** The problem list stops here: past it a pasted non-script would cost a button per line. */
const MAX_LISTED = 200;

type ProblemKind = 'error' | 'refused' | 'failure';

interface Problem {
  kind: ProblemKind;
  line: number;
  col: number;
  message: string;
}

interface LineMark {
  error: boolean;
  failure: boolean;
  title: string;
}

const PROBLEM_TITLES: Record<ProblemKind, string> = {
  error: 'Parse error: the script does not run until it is fixed',
  refused: 'The model refused this statement: it changed nothing and later statements did not run',
  failure: 'This expect did not hold',
};

export function ScenarioEditor({
  value,
  onChange,
  errors,
  refused,
  failures,
  activeLine,
  onRunTo,
}: ScenarioEditorProps): JSX.Element {
  const textareaRef = useRef<HTMLTextAreaElement>(null);
  const gutterRef = useRef<HTMLDivElement>(null);
  const bandsRef = useRef<HTMLDivElement>(null);
  const squigglesRef = useRef<HTMLDivElement>(null);
  const measureRef = useRef<HTMLSpanElement>(null);
  /** Caret to restore after a fallback edit re-renders the textarea. */
  const pendingCaret = useRef<number | null>(null);
  /** Escape arms the next Tab to leave the editor instead of indenting. */
  const tabLeaves = useRef(false);
  const history = useRef(new EditHistory(value));
  const hintId = useId();

  // A script set from outside (a preset, an import) is one step of the undo history too.
  useEffect(() => history.current.external(value), [value]);

  const edit = (next: string, caret: number): void => {
    history.current.record(next, caret, performance.now());
    onChange(next);
  };

  const lines = useMemo(() => value.split('\n'), [value]);
  const problems = useMemo(
    () => collectProblems(errors, refused, failures),
    [errors, refused, failures],
  );
  const marks = useMemo(() => markLines(problems), [problems]);

  const syncScroll = useCallback(() => {
    const ta = textareaRef.current;
    if (ta === null) return;
    const y = `${-ta.scrollTop}px`;
    const x = `${-ta.scrollLeft}px`;
    if (gutterRef.current !== null) gutterRef.current.style.transform = `translateY(${y})`;
    if (bandsRef.current !== null) bandsRef.current.style.transform = `translateY(${y})`;
    if (squigglesRef.current !== null) {
      squigglesRef.current.style.transform = `translate(${x}, ${y})`;
    }
  }, []);

  // Only when the text or its marks change: reading scrollTop forces a layout, and the app
  // re-renders this pane while a long run streams in.
  useLayoutEffect(() => {
    const ta = textareaRef.current;
    const caret = pendingCaret.current;
    if (ta !== null && caret !== null) {
      ta.setSelectionRange(caret, caret);
      pendingCaret.current = null;
    }
    syncScroll();
  }, [value, marks, syncScroll]);

  useEffect(() => {
    const ta = textareaRef.current;
    if (ta === null || activeLine === null) return;
    revealLine(ta, activeLine);
    syncScroll();
  }, [activeLine, syncScroll]);

  const jumpTo = (line: number, col: number): void => {
    const ta = textareaRef.current;
    if (ta === null) return;
    const all = ta.value.split('\n');
    const n = clamp(line, 1, all.length);
    let offset = 0;
    for (let i = 0; i < n - 1; i++) offset += (all[i]?.length ?? 0) + 1;
    const text = all[n - 1] ?? '';
    const index = clamp(col - 1, 0, text.length);
    ta.focus({ preventScroll: true });
    ta.setSelectionRange(offset + index, offset + index);
    const charWidth = (measureRef.current?.getBoundingClientRect().width ?? 0) / 10;
    revealLine(ta, n);
    revealColumn(ta, visualColumn(text, index), charWidth);
    syncScroll();
  };

  const onKeyDown = (e: KeyboardEvent<HTMLTextAreaElement>): void => {
    const mod = e.ctrlKey || e.metaKey;
    const key = e.key.toLowerCase();
    if (mod && !e.altKey && (key === 'z' || key === 'y')) {
      e.preventDefault();
      const step = key === 'y' || e.shiftKey ? history.current.redo() : history.current.undo(value);
      if (step) {
        pendingCaret.current = step.caret;
        onChange(step.value);
      }
      return;
    }
    if (e.key === 'Escape') {
      tabLeaves.current = true;
      return;
    }
    const leave = tabLeaves.current;
    tabLeaves.current = false;
    if (e.key !== 'Tab' || e.shiftKey || e.altKey || e.ctrlKey || e.metaKey || leave) return;
    e.preventDefault();
    const ta = e.currentTarget;
    // execCommand keeps the browser's undo history; fall back to a plain edit where it is gone.
    const inserted =
      typeof document.execCommand === 'function' &&
      document.execCommand('insertText', false, INDENT);
    if (!inserted) {
      const { selectionStart, selectionEnd } = ta;
      pendingCaret.current = selectionStart + INDENT.length;
      edit(
        ta.value.slice(0, selectionStart) + INDENT + ta.value.slice(selectionEnd),
        selectionStart + INDENT.length,
      );
    }
  };

  const invalid = errors.length > 0 || refused !== null;
  const digits = String(lines.length).length;
  const geometry = {
    '--se-line': `${LINE_HEIGHT}px`,
    '--se-pad-y': `${PAD_Y}px`,
    '--se-pad-x': `${PAD_X}px`,
    '--se-digits': Math.max(2, digits),
    '--se-tab': TAB_SIZE,
  } as CSSProperties;

  return (
    <div className="scenario-editor" style={geometry}>
      <div className="scenario-editor__frame">
        <div
          className="scenario-editor__gutter"
          aria-hidden="true"
          data-runnable={onRunTo ? 'true' : undefined}
          onClick={(e) => {
            const line = (e.target as HTMLElement).closest<HTMLElement>('[data-line]')?.dataset
              .line;
            if (line !== undefined && onRunTo) onRunTo(Number(line));
          }}
        >
          <div className="scenario-editor__gutter-inner" ref={gutterRef}>
            <Gutter lineCount={lines.length} marks={marks} activeLine={activeLine} />
          </div>
        </div>
        <div className="scenario-editor__main">
          <div className="scenario-editor__backdrop" aria-hidden="true">
            {/* Tints are translucent and drawn after the active band, so both show on one line. */}
            <div className="scenario-editor__bands" ref={bandsRef}>
              {activeLine !== null && activeLine <= lines.length && (
                <div
                  className="scenario-editor__band scenario-editor__band--active"
                  style={{ top: bandTop(activeLine) }}
                />
              )}
              {[...marks].map(([line, mark]) => (
                <div
                  key={line}
                  className={`scenario-editor__band scenario-editor__band--${mark.error ? 'error' : 'failure'}`}
                  style={{ top: bandTop(line) }}
                />
              ))}
            </div>
            <div className="scenario-editor__squiggles" ref={squigglesRef}>
              {problems.map((p, i) =>
                p.kind === 'failure' || p.line > lines.length ? null : (
                  <Squiggle key={i} problem={p} text={lines[p.line - 1] ?? ''} />
                ),
              )}
              <span className="scenario-editor__measure" ref={measureRef}>
                0000000000
              </span>
            </div>
          </div>
          <textarea
            ref={textareaRef}
            className="scenario-editor__textarea"
            aria-label="Scenario script"
            aria-describedby={hintId}
            aria-invalid={invalid}
            spellCheck={false}
            autoCapitalize="off"
            autoComplete="off"
            autoCorrect="off"
            wrap="off"
            value={value}
            onChange={(e) => edit(e.target.value, e.target.selectionStart)}
            onKeyDown={onKeyDown}
            onScroll={syncScroll}
          />
        </div>
      </div>
      <p id={hintId} className="scenario-editor__hint">
        Tab inserts two spaces; press Esc, then Tab, to move on.
        {onRunTo ? ' Click a line number to run to that statement.' : ''}
      </p>
      {problems.length === 0 ? (
        <p className="scenario-editor__ok">No problems</p>
      ) : (
        <ul className="scenario-editor__problems" aria-label="Problems">
          {problems.slice(0, MAX_LISTED).map((p, i) => (
            <li key={i}>
              <button
                type="button"
                className={`scenario-editor__problem scenario-editor__problem--${p.kind}`}
                data-testid={p.kind === 'failure' ? 'script-failure' : 'script-error'}
                title={PROBLEM_TITLES[p.kind]}
                onClick={() => jumpTo(p.line, p.col)}
              >
                {`Line ${p.line}:${p.col} — ${p.message}`}
              </button>
            </li>
          ))}
          {problems.length > MAX_LISTED && (
            <li className="scenario-editor__more">
              {`…and ${problems.length - MAX_LISTED} more (marked in the gutter)`}
            </li>
          )}
        </ul>
      )}
    </div>
  );
}

interface GutterProps {
  lineCount: number;
  marks: ReadonlyMap<number, LineMark>;
  activeLine: number | null;
}

/** Line numbers in fixed-size chunks, so an edit re-renders only the chunks whose marks changed. */
function Gutter({ lineCount, marks, activeLine }: GutterProps): JSX.Element {
  const chunks: JSX.Element[] = [];
  for (let from = 1; from <= lineCount; from += GUTTER_CHUNK) {
    const to = Math.min(lineCount, from + GUTTER_CHUNK - 1);
    const active =
      activeLine !== null && activeLine >= from && activeLine <= to ? activeLine : null;
    chunks.push(<GutterChunk key={from} from={from} to={to} marks={marks} active={active} />);
  }
  return <>{chunks}</>;
}

interface ChunkProps {
  from: number;
  to: number;
  marks: ReadonlyMap<number, LineMark>;
  active: number | null;
}

const GutterChunk = memo(function GutterChunk({ from, to, marks, active }: ChunkProps) {
  const rows: JSX.Element[] = [];
  for (let n = from; n <= to; n++) {
    const mark = marks.get(n);
    rows.push(
      <div
        key={n}
        className="scenario-editor__line"
        data-line={n}
        data-error={mark?.error === true ? 'true' : undefined}
        data-failure={mark?.failure === true ? 'true' : undefined}
        data-active={n === active ? 'true' : undefined}
        title={mark?.title}
      >
        {n}
      </div>,
    );
  }
  return <>{rows}</>;
}, sameChunk);

function sameChunk(a: ChunkProps, b: ChunkProps): boolean {
  if (a.from !== b.from || a.to !== b.to || a.active !== b.active) return false;
  if (a.marks === b.marks) return true;
  for (let n = a.from; n <= a.to; n++) {
    const x = a.marks.get(n);
    const y = b.marks.get(n);
    if (x === y) continue;
    if (x?.error !== y?.error || x?.failure !== y?.failure || x?.title !== y?.title) return false;
  }
  return true;
}

/** A wavy underline under the token a problem points at, drawn with that token's own text. */
function Squiggle({ problem, text }: { problem: Problem; text: string }): JSX.Element {
  const start = clamp(problem.col - 1, 0, text.length);
  const rest = text.slice(start);
  const token = rest.match(/^\S+/)?.[0] ?? ' ';
  return (
    <span
      className="scenario-editor__squiggle"
      style={{
        top: bandTop(problem.line),
        left: `calc(${PAD_X}px + ${visualColumn(text, start)}ch)`,
      }}
    >
      {token.replace(/\t/g, ' '.repeat(TAB_SIZE))}
    </span>
  );
}

function collectProblems(
  errors: readonly ParseError[],
  refused: ParseError | null,
  failures: readonly ExpectFailure[],
): Problem[] {
  const list: Problem[] = errors.map((e) => ({ kind: 'error', ...pos(e), message: e.message }));
  if (refused !== null) list.push({ kind: 'refused', ...pos(refused), message: refused.message });
  for (const f of failures) {
    list.push({
      kind: 'failure',
      ...pos(f),
      message: `expect ${f.name}=${f.expected}, got ${f.actual}`,
    });
  }
  return list.sort((a, b) => a.line - b.line || a.col - b.col);
}

function pos(p: { line: number; col: number }): { line: number; col: number } {
  return { line: p.line, col: p.col };
}

function markLines(problems: readonly Problem[]): Map<number, LineMark> {
  const marks = new Map<number, LineMark>();
  for (const p of problems) {
    const mark = marks.get(p.line) ?? { error: false, failure: false, title: '' };
    if (p.kind === 'failure') mark.failure = true;
    else mark.error = true;
    const note = `${p.col}: ${p.message}`;
    mark.title = mark.title === '' ? note : `${mark.title}\n${note}`;
    marks.set(p.line, mark);
  }
  return marks;
}

function bandTop(line: number): number {
  return PAD_Y + (line - 1) * LINE_HEIGHT;
}

/** The on-screen column of character `index`, with tabs expanded as the textarea shows them. */
function visualColumn(text: string, index: number): number {
  let col = 0;
  for (let i = 0; i < index && i < text.length; i++) {
    col = text[i] === '\t' ? col + TAB_SIZE - (col % TAB_SIZE) : col + 1;
  }
  return col;
}

/** Scrolls `line` into view, centring it when it was off-screen. */
function revealLine(ta: HTMLTextAreaElement, line: number): void {
  const top = bandTop(line);
  if (top >= ta.scrollTop && top + LINE_HEIGHT <= ta.scrollTop + ta.clientHeight) return;
  ta.scrollTop = Math.max(0, top - (ta.clientHeight - LINE_HEIGHT) / 2);
}

function revealColumn(ta: HTMLTextAreaElement, column: number, charWidth: number): void {
  const x = PAD_X + column * charWidth;
  if (x >= ta.scrollLeft + PAD_X && x + 2 * charWidth <= ta.scrollLeft + ta.clientWidth) return;
  ta.scrollLeft = Math.max(0, x - ta.clientWidth / 2);
}

function clamp(n: number, lo: number, hi: number): number {
  return Math.min(Math.max(n, lo), hi);
}
