// UI state in one vanilla Zustand store (React reads it through thin hooks and module-level
// selectors). The mirrored model itself is a mutable object owned by the session; `version` bumps
// whenever it changes so views re-read it.
import { createStore } from 'zustand/vanilla';
import type { RunPhase } from '../protocol/messages.ts';
import { Spans } from '../protocol/spans.ts';
import type { Counters, Stats } from '../sim/names.ts';
import type { ExpectFailure, ParseError } from '../sim/scenario/ast.ts';

export interface Selection {
  sp: number;
  index: number | null;
}

export type Theme = 'light' | 'dark';
/** How the paging structure is drawn: the tree of tables, or the guest's address space by level. */
export type Picture = 'tree' | 'address';
/** loading: no script yet; idle: nothing to run (the script does not parse). */
export type RunStatus = 'loading' | 'idle' | 'running' | 'done';

/** Playback speeds; Infinity plays instantly. */
/** A cursor position kept for a diff, with what the stats and counters were there. */
export interface Mark {
  cursor: number;
  stats: Stats;
  counters: Counters;
}

/** The event log's filter: its text, the matching events (null: no filter), or what is wrong. */
export interface LogFilter {
  text: string;
  matches: readonly number[] | null;
  truncated: boolean;
  problem: string | null;
}

export const SPEEDS = [0.25, 0.5, 1, 2, 4, 8, Infinity] as const;

export interface AppState {
  script: string;
  parseErrors: ParseError[];
  runStatus: RunStatus;
  /** Events received from the worker so far. */
  eventCount: number;
  /** Where each statement's (or trace record's) events are. */
  statements: Spans;
  /** A long trace import on its way: lines read, then rebuilt, of all of them. */
  progress: { phase: RunPhase; done: number; total: number } | null;
  /** The run was stopped after `done` of `total` lines. */
  stopped: { done: number; total: number } | null;
  failures: ExpectFailure[];
  refused: ParseError | null;
  runMs: number;
  /** Events applied to the mirror. */
  cursor: number;
  /** Where the cursor is heading (a seek in progress when it differs). */
  target: number;
  playing: boolean;
  speed: number;
  version: number;
  selection: Selection | null;
  /** A marked cursor and the stats there, to diff the state at the cursor against. */
  mark: Mark | null;
  /** The event log's filter and what it found in this run. */
  logFilter: LogFilter;
  theme: Theme;
  /** Presentation mode: large type, the essentials only, the step's words beside the picture. */
  presentation: boolean;
  picture: Picture;
  motion: boolean;
  helpOpen: boolean;
  notice: string | null;
}

export const initialState: AppState = {
  script: '',
  parseErrors: [],
  runStatus: 'loading',
  eventCount: 0,
  statements: Spans.none,
  progress: null,
  stopped: null,
  failures: [],
  refused: null,
  runMs: 0,
  cursor: 0,
  target: 0,
  playing: false,
  speed: 1,
  version: 0,
  selection: null,
  mark: null,
  logFilter: { text: '', matches: null, truncated: false, problem: null },
  theme: 'light',
  presentation: false,
  picture: 'tree',
  motion: true,
  helpOpen: false,
  notice: null,
};

export function createAppStore(init: Partial<AppState> = {}) {
  return createStore<AppState>()(() => ({ ...initialState, ...init }));
}
export type AppStore = ReturnType<typeof createAppStore>;
