import { useCallback } from 'react';
import { EV } from '../sim/event-log.ts';
import { eventKind } from '../sim/events.ts';
import { STAT_NAMES } from '../sim/names.ts';
import { Mirror } from '../sim/replay.ts';
import { selectStatements } from '../store/selectors.ts';
import { useApp, useSession } from './session-context.ts';
import { TourPanel, type StepOutcome } from './TourPanel.tsx';
import { TOURS } from './tours/tours.ts';
import {
  selectPredict,
  selectScore,
  selectTour,
  useWorkspace,
  useWs,
} from './workspace-context.ts';

/** The tour panel, wired to the workspace: steps move the main session's timeline. */
export function TourView() {
  const workspace = useWorkspace();
  const session = useSession();
  const at = useWs(selectTour);
  const predict = useWs(selectPredict);
  const score = useWs(selectScore);
  const statements = useApp(selectStatements);
  const tour = TOURS.find((t) => t.id === at?.id);

  // What moving from the previous step to `step` changes, read from the run's own events.
  const outcome = useCallback(
    (step: number): StepOutcome => {
      if (!tour || statements.length === 0) return { stats: [], levels: [] };
      const from = workspace.stepTarget(tour, Math.max(0, step - 1));
      const to = workspace.stepTarget(tour, step);
      const m = new Mirror();
      m.seek(session.events, Math.min(from, to));
      const before = m.stats();
      m.seek(session.events, Math.max(from, to));
      const after = m.stats();
      const stats = STAT_NAMES.filter((n) => before[n] !== after[n]);
      const levels = new Set<number>();
      for (let i = Math.min(from, to); i < Math.max(from, to); i++) {
        if (eventKind(session.events, i) !== EV.spteChanged) continue;
        const e = session.eventAt(i);
        if (e.type === 'spteChanged' && e.handled) levels.add(e.level);
      }
      return { stats, levels: [...levels].sort() };
    },
    [tour, statements, workspace, session],
  );

  if (!tour || !at) return null;
  return (
    <TourPanel
      tour={tour}
      step={at.step}
      onStep={(s, how) => workspace.goToStep(s, how)}
      onExit={() => workspace.exitTour()}
      predict={predict}
      onPredictChange={(on) => workspace.setPredict(on)}
      score={score}
      onAnswer={(ok) => workspace.answer(ok)}
      outcome={outcome}
    />
  );
}
