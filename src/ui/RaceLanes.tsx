// A race under the timeline: one lane per actor, in its colour, showing where in the race's events
// that actor ran (click a stretch to go there), and what it holds at the cursor: mmu_lock and so
// its RCU read-side section, read from the log through the mirror.
import { useMemo } from 'react';
import { EV, FD_FROZEN_SEEN } from '../sim/event-log.ts';
import { RET_PF_RETRY } from '../sim/names.ts';
import { eventKind, type WordSource } from '../sim/events.ts';
import { parseScenario } from '../sim/scenario/parse.ts';
import { activeStatement, selectCursor, selectScript } from '../store/selectors.ts';
import { useApp, useSession } from './session-context.ts';
import './RaceLanes.css';

interface Stretch {
  from: number;
  to: number;
}

/** Where each actor ran: stretches of [from, to) events between the race's actor switches. */
function actorStretches(src: WordSource, first: number, end: number): Stretch[][] {
  const lanes: Stretch[][] = [];
  let actor = -1;
  let from = first;
  const close = (at: number) => {
    if (actor >= 0 && at > from) (lanes[actor] ??= []).push({ from, to: at });
  };
  for (let i = first; i < end; i++) {
    if (eventKind(src, i) !== EV.actor) continue;
    close(i);
    actor = src.word(i, 1);
    from = i;
  }
  close(end);
  return lanes;
}

/**
 * Each actor's last fault in [first, at) if it returned RET_PF_RETRY and the actor has not faulted
 * again since: 'frozen' when its walk met a frozen SPTE, 'lost' when its cmpxchg lost.
 */
function retrying(src: WordSource, first: number, at: number): Map<number, 'frozen' | 'lost'> {
  const out = new Map<number, 'frozen' | 'lost'>();
  let actor = -1;
  for (let i = first; i < at; i++) {
    const kind = eventKind(src, i);
    if (kind === EV.actor) actor = src.word(i, 1);
    else if (kind === EV.fault) out.delete(actor);
    else if (kind === EV.faultDone && src.word(i, 1) === RET_PF_RETRY) {
      out.set(actor, src.word(i, 6) & FD_FROZEN_SEEN ? 'frozen' : 'lost');
    }
  }
  return out;
}

/** The actors that finished their statement in [first, end) (what a finished race shows). */
function finishedActors(src: WordSource, first: number, end: number): Set<number> {
  const done = new Set<number>();
  for (let i = first; i < end; i++) {
    if (eventKind(src, i) === EV.actorOp && src.word(i, 2) === 1) done.add(src.word(i, 1));
  }
  return done;
}

/** The actor names of the race at `line` in the script ([] when the script has moved on). */
function raceNames(script: string, line: number): string[] {
  const st = parseScenario(script).statements.find((s) => s.line === line);
  return st?.kind === 'race' ? st.actors.map((a) => a.actor) : [];
}

export function RaceLanes() {
  const session = useSession();
  const active = useApp(activeStatement);
  const cursor = useApp(selectCursor);
  const script = useApp(selectScript);
  const race = active?.kind === 'race' ? active : null;
  const line = race?.line ?? 0;
  const names = useMemo(() => (line ? raceNames(script, line) : []), [script, line]);
  const first = race?.firstEvent ?? 0;
  const end = Math.min(race?.endEvent ?? 0, session.events.length);
  const lanes = useMemo(
    () => (race ? actorStretches(session.events, first, end) : []),
    [race, session, first, end],
  );
  const finished = useMemo(
    () => (race ? finishedActors(session.events, first, end) : new Set<number>()),
    [race, session, first, end],
  );
  const retry = useMemo(
    () => (race ? retrying(session.events, first, Math.min(cursor, end)) : new Map()),
    [race, session, first, end, cursor],
  );
  if (!race || names.length === 0 || end <= first) return null;
  // Past the race's last event the mirror has left it: what the log says each actor did.
  const over = cursor >= end;
  const span = end - first;
  const pct = (i: number) => `${((i - first) / span) * 100}%`;
  const m = session.mirror;
  return (
    <div
      className="race-lanes"
      role="group"
      aria-label={`Race at line ${line}: one lane per actor`}
    >
      {names.map((name, a) => {
        const lock = over ? 'none' : (m.actorLocks[a] ?? 'none');
        const state = over ? (finished.has(a) ? 'done' : 'idle') : (m.actorStates[a] ?? 'idle');
        const words = [
          m.actor === a ? 'runs now' : null,
          state === 'idle' ? 'not started' : state === 'done' ? 'done' : null,
          lock === 'none' ? null : `mmu_lock: ${lock} · in RCU`,
          retry.get(a) === 'frozen'
            ? 'met a frozen SPTE: RET_PF_RETRY, faults again once an SPTE changes'
            : retry.get(a) === 'lost'
              ? 'lost a cmpxchg: RET_PF_RETRY, faults again'
              : null,
        ].filter(Boolean);
        return (
          <div
            key={name}
            className={`race-lane${m.actor === a ? ' race-lane--now' : ''}`}
            style={{ ['--lane' as string]: `var(--actor-${a % 4})` }}
            data-testid={`race-lane-${a}`}
          >
            <span className="race-lane__who">
              <span className="race-lane__tag">{a}</span>
              {name}
            </span>
            <span
              className="race-lane__state"
              data-testid={`race-lane-state-${a}`}
              title={words.join(' · ')}
            >
              {words.join(' · ') || 'waits for its turn'}
            </span>
            <div className="race-lane__strip" aria-hidden="true">
              {(lanes[a] ?? []).map((s) => (
                <span
                  key={s.from}
                  className="race-lane__run"
                  style={{ left: pct(s.from), width: pct(first + s.to - s.from) }}
                  onClick={() => session.seek(s.to)}
                />
              ))}
              {cursor >= first && cursor <= end && (
                <span className="race-lane__cursor" style={{ left: pct(cursor) }} />
              )}
            </div>
          </div>
        );
      })}
    </div>
  );
}
