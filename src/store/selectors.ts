// Module-level selectors: stable function identities, so components re-render only on their slice.
import type { StatementSpan } from '../protocol/messages.ts';
import type { AppState } from './app-store.ts';

export const selectScript = (s: AppState) => s.script;
export const selectParseErrors = (s: AppState) => s.parseErrors;
export const selectRunStatus = (s: AppState) => s.runStatus;
export const selectEventCount = (s: AppState) => s.eventCount;
export const selectStatements = (s: AppState) => s.statements;
export const selectFailures = (s: AppState) => s.failures;
export const selectRefused = (s: AppState) => s.refused;
export const selectCursor = (s: AppState) => s.cursor;
export const selectPlaying = (s: AppState) => s.playing;
export const selectSpeed = (s: AppState) => s.speed;
export const selectVersion = (s: AppState) => s.version;
export const selectSelection = (s: AppState) => s.selection;
export const selectMark = (s: AppState) => s.mark;
export const selectLogFilter = (s: AppState) => s.logFilter;
export const selectTheme = (s: AppState) => s.theme;
export const selectPresentation = (s: AppState) => s.presentation;
export const selectMotion = (s: AppState) => s.motion;
export const selectPicture = (s: AppState) => s.picture;
export const selectHelpOpen = (s: AppState) => s.helpOpen;
export const selectNotice = (s: AppState) => s.notice;
export const selectRunMs = (s: AppState) => s.runMs;

/** The statement whose events contain the cursor's last applied event (the one "executing"). */
export function activeStatement(s: AppState) {
  const at = s.cursor - 1;
  if (at < 0) return null;
  return s.statements.find((st) => at >= st.firstEvent && at < st.endEvent) ?? null;
}
export const selectActiveLine = (s: AppState) => activeStatement(s)?.line ?? null;

/** The statement whose events start at event `i` (statements are in log order). */
export function spanStartingAt(spans: readonly StatementSpan[], i: number): StatementSpan | null {
  let lo = 0;
  let hi = spans.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if ((spans[mid]?.firstEvent ?? 0) < i) lo = mid + 1;
    else hi = mid;
  }
  const s = spans[lo];
  return s && s.firstEvent === i ? s : null;
}

/** Event indices where operations start: the scrubber's markers and shift+arrow stops. */
export function operationStarts(s: AppState): number[] {
  return s.statements.filter((st) => st.endEvent > st.firstEvent).map((st) => st.firstEvent);
}
