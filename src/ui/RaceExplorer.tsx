// The explorer in the page: for a race block of the script, run every schedule in the worker (with
// progress and Stop), list the distinct final states and the violations found, and load any of them
// as the block's schedule= to step through it (the script it replaces is one Undo away).
import { useEffect, useMemo, useRef, useState } from 'react';
import type { ExploreSummary } from '../protocol/messages.ts';
import { formatPicks } from '../sim/race/schedule.ts';
import { parseScenario } from '../sim/scenario/parse.ts';
import { looksLikeTrace } from '../sim/trace/read-trace.ts';
import { selectScript } from '../store/selectors.ts';
import { useApp, useSession } from './session-context.ts';
import { useWorkspace } from './workspace-context.ts';
import './RaceExplorer.css';

type Run =
  | { state: 'idle' }
  | { state: 'running'; runs: number; states: number; stop: () => void }
  | { state: 'done'; result: ExploreSummary | null; error: string | null; script: string };

/** The script with the race header at `line` set to run `picks` (its comment kept). */
export function withSchedule(script: string, line: number, picks: readonly number[]): string {
  const lines = script.split(/\r\n|\r|\n/);
  const old = lines[line - 1] ?? '';
  const indent = /^\s*/.exec(old)?.[0] ?? '';
  const hash = old.indexOf('#');
  const comment = hash < 0 ? '' : `  ${old.slice(hash)}`;
  lines[line - 1] = `${indent}race schedule=${formatPicks(picks) || '0'}${comment}`;
  return lines.join('\n');
}

export function RaceExplorer() {
  const script = useApp(selectScript);
  const races = useMemo(
    () =>
      looksLikeTrace(script)
        ? []
        : parseScenario(script)
            .statements.filter((s) => s.kind === 'race')
            .map((s) => s.line),
    [script],
  );
  if (races.length === 0) return null;
  return (
    <section className="race-explorer" aria-label="Race explorer">
      {races.map((line) => (
        <RaceBlock key={line} line={line} />
      ))}
    </section>
  );
}

function RaceBlock({ line }: { line: number }) {
  const session = useSession();
  const workspace = useWorkspace();
  const script = useApp(selectScript);
  const [run, setRun] = useState<Run>({ state: 'idle' });
  const live = useRef(true);
  useEffect(
    () => () => {
      live.current = false;
    },
    [],
  );

  const start = () => {
    const job = session.explore(line, (runs, states) => {
      if (live.current) setRun((r) => (r.state === 'running' ? { ...r, runs, states } : r));
    });
    setRun({ state: 'running', runs: 0, states: 0, stop: job.stop });
    void job.done.then((d) => {
      if (live.current) setRun({ state: 'done', ...d, script });
    });
  };

  const load = async (what: string, picks: readonly number[]) => {
    await workspace.replaceScript(
      `the ${what} of the race at line ${line}`,
      withSchedule(script, line, picks),
    );
    await session.whenFinished();
    const spans = session.store.getState().statements;
    const i = spans.onLine(line);
    if (i >= 0) session.seek(spans.first(i));
  };

  const stale = run.state === 'done' && run.script !== script;
  return (
    <div className="race-explorer__block" data-testid={`race-explorer-${line}`}>
      <div className="race-explorer__head">
        <span>Race, line {line}</span>
        {run.state === 'running' ? (
          <button type="button" onClick={run.stop}>
            Stop
          </button>
        ) : (
          <button
            type="button"
            onClick={start}
            aria-label={`Explore every schedule of the race at line ${line}`}
            title="Run every schedule of this race, the invariants checked after every step"
          >
            {run.state === 'done' ? 'Explore again' : 'Explore schedules'}
          </button>
        )}
      </div>
      {run.state === 'running' && (
        <p className="race-explorer__progress" role="status">
          Exploring: {run.runs.toLocaleString('en-US')} runs, {run.states.toLocaleString('en-US')}{' '}
          states…
        </p>
      )}
      {run.state === 'done' && run.error !== null && (
        <p className="race-explorer__error" role="alert">
          Could not explore: {run.error}
        </p>
      )}
      {run.state === 'done' && run.result && (
        <Found result={run.result} stale={stale} onLoad={(w, p) => void load(w, p)} />
      )}
    </div>
  );
}

function Found({
  result: r,
  stale,
  onLoad,
}: {
  result: ExploreSummary;
  stale: boolean;
  onLoad: (what: string, picks: readonly number[]) => void;
}) {
  const n = (k: number, w: string) => `${k.toLocaleString('en-US')} ${w}${k === 1 ? '' : 's'}`;
  return (
    <div className="race-explorer__found" role="status" data-testid="race-explorer-result">
      <p>
        {r.complete ? '' : 'At least '}
        {BigInt(r.schedules).toLocaleString('en-US')} schedules, {n(r.finals.length, 'final state')}
        , {n(r.violations.length, 'violation')}
        <span className="race-explorer__cost">
          {' '}
          ({n(r.states, 'state')} in {n(r.runs, 'run')}, {(r.ms / 1000).toFixed(2)} s
          {r.complete ? '' : '; stopped before the end'})
        </span>
      </p>
      {stale && <p className="race-explorer__stale">The script changed since: explore again.</p>}
      <ul>
        {r.violations.map((v) => (
          <li key={v.message} className="race-explorer__violation">
            <span>
              After point {v.point}: {v.message}
            </span>
            <button
              type="button"
              disabled={stale}
              onClick={() => onLoad('violating schedule', v.picks)}
            >
              Step through
            </button>
          </li>
        ))}
        {r.finals.map((f, i) => (
          <li key={f.summary + String(i)}>
            <span>{f.summary}</span>
            <button type="button" disabled={stale} onClick={() => onLoad('schedule', f.picks)}>
              Step through
            </button>
          </li>
        ))}
      </ul>
    </div>
  );
}
