// The worker boundary, declared once: commands in (a map keyed by type), messages out (batches of
// raw event words, then a summary). Everything is structured-clone safe; event words are transferred.
import type { ZapStrategy } from '../sim/names.ts';
import type { ExpectFailure, ParseError } from '../sim/scenario/ast.ts';
import type { SpanTable } from './spans.ts';

export type { SpanTable, StatementSpan } from './spans.ts';

export const PROTOCOL_VERSION = 1;

/** What a run in flight is doing: running a script's statements, or reading / rebuilding a trace. */
export type RunPhase = 'running' | 'reading' | 'rebuilding';

/** Commands the page sends; each carries an id that every reply names. */
export interface CommandMap {
  /**
   * Reset the simulator and run a whole script, streaming its events. With `file`, the script is
   * that file's text and the worker reads it itself (a 100 MiB string is not copied across).
   */
  run: { script: string; file?: Blob };
  /** Make the worker die (tests exercise the restart path with it). */
  crash: { reason?: string };
  /** Run a script, then replay its accesses: how many faults re-map what the guest had touched. */
  analyze: { script: string };
  /** NX recovery with each strategy over N accounted tables per root and R roots. */
  scale: { ns: number[]; roots: number[] };
  /** Every schedule of the race block at `line` (in slices, with progress), up to `max` runs. */
  explore: { script: string; line: number; max?: number };
  /**
   * Stop the command `target` names: an exploration answers with what it found so far, a trace
   * import finishes with the records read so far.
   */
  stop: { target: number };
}
export type CommandType = keyof CommandMap;
export type Command = { [K in CommandType]: { type: K; id: number } & CommandMap[K] }[CommandType];

/** What an exploration found (bigints as decimal text, to cross any boundary). */
export interface ExploreSummary {
  line: number;
  schedules: string;
  /** False when it was stopped or hit its run cap: the figures are then lower bounds. */
  complete: boolean;
  finals: { picks: number[]; summary: string }[];
  violations: { picks: number[]; point: number; message: string }[];
  states: number;
  runs: number;
  ms: number;
}

/** One measured recovery run (the counters are for the recover_nx statement alone). */
export interface ScaleRow {
  n: number;
  roots: number;
  strategy: ZapStrategy;
  spte_reads: number;
  spte_writes: number;
  iter_steps: number;
  tlb_flushes_ranged: number;
  tlb_flushes_full: number;
  /** nx_lpage_splits before and after the run. */
  accounted: number;
  left: number;
  /** Faults needed afterwards to touch every page again. */
  refaults: number;
}

export type WorkerMessage =
  | { type: 'ready'; version: number }
  /** The script did not parse: nothing ran. */
  | { type: 'parseErrors'; cmdId: number; errors: ParseError[] }
  /** Events [first, first + words.length / 8) of the run's log. */
  | { type: 'batch'; cmdId: number; seq: number; first: number; words: Uint32Array }
  /** A run on its way: a script at its statement on line `done`; a trace `done` lines read, then rebuilt. */
  | { type: 'progress'; cmdId: number; phase: RunPhase; done: number; total: number }
  | {
      type: 'finished';
      cmdId: number;
      eventCount: number;
      /** Where each statement's (or trace record's) events are; its buffers are transferred. */
      spans: SpanTable;
      /** Stopped by the user after `done` of `total` lines: the run holds those lines only. */
      stopped: { done: number; total: number } | null;
      failures: ExpectFailure[];
      /** A statement the model refused; it changed nothing and later statements did not run. */
      refused: ParseError | null;
      ms: number;
    }
  | { type: 'analysis'; cmdId: number; refaults: number | null }
  | { type: 'scaling'; cmdId: number; rows: ScaleRow[] }
  | { type: 'failed'; cmdId: number; message: string }
  | { type: 'exploreProgress'; cmdId: number; runs: number; states: number }
  /** The exploration ended (done, stopped or capped), or could not start (`error`). */
  | { type: 'explored'; cmdId: number; result: ExploreSummary | null; error: string | null };
