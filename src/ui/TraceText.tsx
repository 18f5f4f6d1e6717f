// A trace too large to edit as text (an editor would hold a hundred MiB and lay out a million
// lines): its lines read-only, only those on screen drawn, following the record at the cursor.
import { useCallback, useEffect, useLayoutEffect, useRef, useState } from 'react';
import {
  selectActiveLine,
  selectParseErrors,
  selectProgress,
  selectScript,
  selectStatements,
} from '../store/selectors.ts';
import { useApp, useSession } from './session-context.ts';
import './TraceText.css';

/** Traces longer than this many characters open here instead of in the editor. */
export const LARGE_TRACE_CHARS = 2 * 2 ** 20;
/** One line's height in px: two lines of text, its prefix over its event (TraceText.css). */
const ROW = 36;
/** `task-pid [cpu] flags timestamp:` and the rest (the event and its payload). */
const PREFIX_RE = /^\s*(\S.*?\s\d+\.\d+:)\s+(.*)$/;
/** The scroll area's height is capped (browsers cap element heights); beyond, a pixel is lines. */
const MAX_SCROLL_PX = 4_000_000;

export function TraceText() {
  const session = useSession();
  const script = useApp(selectScript);
  const spans = useApp(selectStatements);
  const progress = useApp(selectProgress);
  const activeLine = useApp(selectActiveLine);
  const errors = useApp(selectParseErrors);
  const box = useRef<HTMLDivElement>(null);
  const [first, setFirst] = useState(0);
  const [rows, setRows] = useState(24);
  const lines = spans.traceLines;
  const maxFirst = Math.max(0, lines - rows + 1);

  useLayoutEffect(() => {
    const el = box.current;
    if (!el) return;
    const measure = () => setRows(Math.max(1, Math.floor(el.clientHeight / ROW)));
    measure();
    const ro = new ResizeObserver(measure);
    ro.observe(el);
    return () => ro.disconnect();
  }, []);

  const fromScroll = useCallback(() => {
    const el = box.current;
    if (!el) return;
    const range = el.scrollHeight - el.clientHeight;
    setFirst(range > 0 ? Math.round((el.scrollTop / range) * maxFirst) : 0);
  }, [maxFirst]);

  // The record at the cursor stays in view: a third of the way down when it has to move.
  useEffect(() => {
    const el = box.current;
    if (!el || activeLine === null) return;
    const at = activeLine - 1;
    if (at >= first && at < first + rows) return;
    const to = Math.min(maxFirst, Math.max(0, at - Math.floor(rows / 3)));
    const range = el.scrollHeight - el.clientHeight;
    // The scroll event that follows moves the lines (fromScroll).
    el.scrollTop = maxFirst > 0 ? (to / maxFirst) * range : 0;
    // Only a move of the cursor scrolls: the reader's own scrolling is left alone.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [activeLine, lines]);

  const mib = (script.length / 2 ** 20).toFixed(1);
  const shown: number[] = [];
  for (let k = first; k < Math.min(lines, first + rows); k++) shown.push(k + 1);

  return (
    <div className="trace-text">
      <p className="trace-text__about" data-testid="trace-text-about">
        {lines > 0
          ? `This trace is ${mib} MiB, ${lines.toLocaleString('en-US')} lines: too large to edit here, so it is shown read-only. Click a record to run to it.`
          : progress
            ? `This trace is ${mib} MiB: ${progress.phase === 'reading' ? 'reading' : 'rebuilding'} line ${progress.done.toLocaleString('en-US')} of ${progress.total.toLocaleString('en-US')}…`
            : `This trace is ${mib} MiB: too large to edit here.`}
      </p>
      <div
        ref={box}
        className="trace-text__scroll"
        onScroll={fromScroll}
        tabIndex={0}
        role="region"
        aria-label="The imported trace, read-only"
        data-testid="trace-text"
      >
        {lines === 0 && progress && (
          <progress
            className="trace-text__progress"
            max={progress.total}
            value={progress.done}
            aria-label={progress.phase === 'reading' ? 'Reading the trace' : 'Rebuilding'}
          />
        )}
        <div style={{ height: Math.min(lines * ROW, MAX_SCROLL_PX) }}>
          <div className="trace-text__rows">
            {shown.map((line) => {
              const record = spans.onLine(line) >= 0;
              const text = spans.traceLine(line);
              const split = PREFIX_RE.exec(text);
              return (
                <div
                  key={line}
                  data-line={line}
                  className={`trace-text__row${record ? ' trace-text__row--record' : ''}${line === activeLine ? ' trace-text__row--now' : ''}`}
                  onClick={record ? () => session.runToLine(line) : undefined}
                  title={record ? text : `${text}\n(not a record the rebuild reads)`}
                >
                  <span className="trace-text__num">{line}</span>
                  <span className="trace-text__line">
                    <span className="trace-text__prefix">{split ? split[1] : text}</span>
                    {split && <span className="trace-text__event">{split[2]}</span>}
                  </span>
                </div>
              );
            })}
          </div>
        </div>
      </div>
      {errors.length > 0 && (
        <ul className="trace-text__problems" aria-label="Problems">
          {errors.slice(0, 3).map((e) => (
            <li key={`${e.line}:${e.col}`} data-testid="script-error">
              {`Line ${e.line}:${e.col} — ${e.message}`}
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}
