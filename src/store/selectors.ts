// Module-level selectors: stable function identities, so components re-render only on their slice.
import type { KernelId } from '../sim/profile.ts';
import { kernelOfScript } from '../sim/scenario/parse.ts';
import { looksLikeTrace, textHead, traceKernel } from '../sim/trace/read-trace.ts';
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
  return s.statements.at(s.statements.containing(s.cursor - 1));
}
export const selectActiveLine = (s: AppState) => activeStatement(s)?.line ?? null;
export const selectProgress = (s: AppState) => s.progress;
/** Seeks longer than this many events jump (from a checkpoint) instead of animating. */
export const LONG_SEEK_EVENTS = 400;
/** Where a long seek still on its way is going (null when there is none). */
export const selectSeekingTo = (s: AppState) =>
  !s.playing && Math.abs(s.target - s.cursor) > LONG_SEEK_EVENTS ? s.target : null;
export const selectStopped = (s: AppState) => s.stopped;

/** The last answer of selectKernel (selectors run on every store change). */
let lastKernel: { script: string; rebuilt: KernelId | undefined; kernel: KernelId } | null = null;

/** The kernel the run follows: a script's `vm kernel=`, or what an imported trace's SPTEs show. */
export function selectKernel(s: AppState): KernelId {
  const rebuilt = s.statements.table.trace?.kernel;
  if (lastKernel?.script === s.script && lastKernel.rebuilt === rebuilt) return lastKernel.kernel;
  const kernel =
    rebuilt ??
    (looksLikeTrace(s.script)
      ? // Until its rebuild decides, a trace's kernel is what its first MiB shows.
        traceKernel(textHead(s.script))
      : kernelOfScript(s.script));
  lastKernel = { script: s.script, rebuilt, kernel };
  return kernel;
}
