// The words for the cursor, shared by the timeline, the live region and presentation mode's
// caption: the event at the cursor, its operation, and the operation's outcome once it is done.
import { useMemo } from 'react';
import type { StatementSpan } from '../protocol/messages.ts';
import { explainEvent, explainOp, stepSentence } from '../sim/explain.ts';
import { outcomeLine } from '../sim/outcome.ts';
import { activeStatement, selectCursor, selectEventCount } from '../store/selectors.ts';
import { useApp, useSession } from './session-context.ts';

export interface StepWords {
  /** The event at the cursor in a line, and in a full sentence. */
  now: string;
  step: string;
  /** What the operation at the cursor does (the kernel function it mirrors). */
  op: string | null;
  /** What it did, once all of its events are applied. */
  outcome: string | null;
}

/** An imported trace record in a line: where it is in the file, and the line as the trace has it. */
export function traceLine(span: StatementSpan): string | null {
  return span.trace ? `trace line ${span.line}: ${span.trace.text}` : null;
}

export function useStepWords(): StepWords {
  const session = useSession();
  const cursor = useApp(selectCursor);
  const count = useApp(selectEventCount);
  const active = useApp(activeStatement);
  const { now, step } = useMemo(() => {
    if (cursor === 0 || cursor > session.events.length) {
      const start =
        count > 0
          ? 'At the start: nothing has happened yet. Press ▶ to play, → to step, or take a tour.'
          : 'At the start: nothing has happened yet.';
      return { now: start, step: start };
    }
    const ev = session.eventAt(cursor - 1);
    return { now: explainEvent(ev), step: stepSentence(ev) };
  }, [cursor, count, session]);

  const op = useMemo(() => {
    if (!active) return null;
    if (active.trace) return traceLine(active);
    const first = session.eventAt(active.firstEvent);
    return first.type === 'opBegin' ? explainOp(first) : null;
  }, [active, session]);

  // What the operation did, once all of its events are on the picture.
  const done = active !== null && cursor >= active.endEvent;
  const outcome = useMemo(() => {
    if (!active || !done || active.endEvent > session.events.length) return null;
    // A trace record did what its line says; only a guess the rebuild made needs words.
    if (active.trace) return active.trace.note;
    return outcomeLine(
      session.events,
      session.events.spOf,
      active.kind,
      active.firstEvent,
      active.endEvent,
    );
  }, [active, done, session]);

  return { now, step, op, outcome };
}
