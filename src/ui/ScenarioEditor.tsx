// The scenario script editor: CodeMirror (ScriptEditorView) for the text, with the problem list
// under it as buttons that jump to each problem's line and column.
import { useEffect, useId, useLayoutEffect, useMemo, useRef, type JSX } from 'react';
import type { ExpectFailure, ParseError } from '../sim/scenario/ast.ts';
import { ScriptEditorView, type Problem } from './editor/ScriptEditorView.ts';
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
  /** A line (its number, or its text) was clicked: run the timeline to the end of its statement. */
  onRunTo?: (line: number) => void;
}

/** The problem list stops here: past it a pasted non-script would cost a button per line. */
const MAX_LISTED = 200;

const PROBLEM_TITLES: Record<Problem['kind'], string> = {
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
  const hostRef = useRef<HTMLDivElement>(null);
  const viewRef = useRef<ScriptEditorView | null>(null);
  const hintId = useId();
  // The view is built once; the latest callbacks are read through refs.
  const latest = useRef({ onChange, onRunTo });
  useLayoutEffect(() => {
    latest.current = { onChange, onRunTo };
  });

  const problems = useMemo(
    () => collectProblems(errors, refused, failures),
    [errors, refused, failures],
  );
  const invalid = errors.length > 0 || refused !== null;

  useLayoutEffect(() => {
    const host = hostRef.current;
    if (host === null) return;
    const view = new ScriptEditorView(host, {
      doc: value,
      onChange: (text) => latest.current.onChange(text),
      onLine: (line) => latest.current.onRunTo?.(line),
      describedBy: hintId,
    });
    viewRef.current = view;
    return () => {
      view.destroy();
      viewRef.current = null;
    };
    // The first value seeds the editor; later ones arrive through setDoc below.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [hintId]);

  useLayoutEffect(() => viewRef.current?.setDoc(value), [value]);
  useEffect(() => viewRef.current?.setProblems(problems, invalid), [problems, invalid]);
  useEffect(() => viewRef.current?.setActiveLine(activeLine), [activeLine]);

  return (
    <div className="scenario-editor">
      <div className="scenario-editor__frame" ref={hostRef} data-testid="script-editor" />
      <p id={hintId} className="scenario-editor__hint">
        Tab indents (Esc, then Tab, moves on) · Ctrl+Space completes · hover a word for its docs
        {onRunTo ? ' · click a statement to run to it' : ''}
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
                onClick={() => viewRef.current?.jumpTo(p.line, p.col)}
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

function collectProblems(
  errors: readonly ParseError[],
  refused: ParseError | null,
  failures: readonly ExpectFailure[],
): Problem[] {
  const list: Problem[] = errors.map((e) => ({
    kind: 'error',
    line: e.line,
    col: e.col,
    message: e.message,
  }));
  if (refused !== null) {
    list.push({ kind: 'refused', line: refused.line, col: refused.col, message: refused.message });
  }
  for (const f of failures) {
    list.push({
      kind: 'failure',
      line: f.line,
      col: f.col,
      message: `expect ${f.name}=${f.expected}, got ${f.actual}`,
    });
  }
  return list.sort((a, b) => a.line - b.line || a.col - b.col);
}
