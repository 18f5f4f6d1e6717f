// The session: connects the SimClient to the store, owns the event log on the page and the mirror
// at the cursor, and moves the cursor (play, step, seek) when the frame loop asks it to.
import type { SimClient } from '../client/SimClient.ts';
import type { CommandMap, ExploreSummary, WorkerMessage } from '../protocol/messages.ts';
import { PiecedText, Spans, type TextSource } from '../protocol/spans.ts';
import { EV } from '../sim/event-log.ts';
import { decodeEvent, eventKind, type SimEvent } from '../sim/events.ts';
import { explainEvent } from '../sim/explain.ts';
import {
  entryChanges,
  filterLog,
  neighbourChange,
  parseLogQuery,
  type EntryChange,
} from '../sim/queries.ts';
import { Checkpoints } from '../sim/checkpoints.ts';
import { Mirror } from '../sim/replay.ts';
import { parseScenario } from '../sim/scenario/parse.ts';
import { looksLikeTrace } from '../sim/trace/read-trace.ts';
import {
  createAppStore,
  SPEEDS,
  type AppState,
  type AppStore,
  type Selection,
  type Picture,
  type Theme,
} from './app-store.ts';
import { EventStore } from './event-store.ts';
import { LONG_SEEK_EVENTS } from './selectors.ts';

/** What the frame loop must show after a step of the cursor. */
export type Applied = { kind: 'events'; events: SimEvent[]; direction: 1 | -1 } | { kind: 'sync' };

const STORAGE_KEY = 'tdpviz:v1';
/** Where a saved session that could not be read is kept, so it is not lost to the next save. */
export const UNREADABLE_KEY = 'tdpviz:v1:unreadable';
/** Longest main-thread slice spent moving the cursor per frame. */
const SEEK_BUDGET_MS = 8;
/** How often a long seek on its way shows where it is. */
const SEEK_SHOW_MS = 250;
/** Events of a bulk statement (a root teardown, a huge walk) play this fast at 1×. */
const BULK_EVENT_MS = 12;
/** A slice of checkpoint building between frames. */
const CHECKPOINT_SLICE_MS = 4;
/** Typing pauses this long before the script runs again. */
const EDIT_DEBOUNCE_MS = 350;

/** Milliseconds an event takes at 1× (what a person can follow). */
const EVENT_MS: Record<number, number> = {
  [EV.opBegin]: 700,
  [EV.spteChanged]: 420,
  [EV.iterStep]: 300,
  [EV.iterUp]: 160,
  [EV.spAllocated]: 320,
  [EV.spLinked]: 260,
  [EV.nxAccounted]: 420,
  [EV.nxUnaccounted]: 420,
  [EV.tlbFlush]: 480,
  [EV.spFreed]: 360,
  [EV.fault]: 420,
  [EV.faultDone]: 420,
  // Taking or dropping mmu_lock changes no entry: a short beat.
  [EV.mmuLock]: 120,
};

/** The part of localStorage the session uses (a Map-backed stand-in serves tests). */
export interface KeyValueStorage {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
}

/** Longer scripts (a big trace) are not saved: the browser's storage holds a few MiB. */
export const MAX_SAVED_CHARS = 2 * 2 ** 20;

interface Persisted {
  script: string;
  /** The script open at the time was this many characters, too large to save: `script` is the one before it. */
  dropped?: number;
  cursor: number;
  theme: Theme;
  speed: number;
  presentation: boolean;
  picture: Picture;
}

/** A file whose text is a script: the worker reads the file itself, the page reads its pieces. */
export interface ScriptFile {
  file: Blob;
  /** A big file's text as decoded, piece by piece (null: the text is small enough to use whole). */
  pieces: string[] | null;
}

/** The file last imported and its text: any session that runs that text sends the file instead. */
let imported: { script: string; from: ScriptFile } | null = null;

/** What a reload says when the trace that was open could not be saved. */
function droppedNotice(chars: number, before: boolean): string {
  const mib = (chars / 2 ** 20).toFixed(1);
  return `The trace that was open (${mib} MiB) is too large to keep in this browser, so ${before ? 'the script you had before it is back' : 'the default scenario was loaded'}. Import the trace again to see it.`;
}

/** A scenario's parse errors; an imported trace's come from the worker, which reads it. */
const scriptErrors = (script: string) =>
  looksLikeTrace(script) ? [] : parseScenario(script).errors;

export class Session {
  readonly store: AppStore;
  readonly events = new EventStore();
  mirror = new Mirror();
  /** Mirror states every CHECKPOINT_EVERY events, built between frames: long seeks jump. */
  private checkpoints = new Checkpoints();
  private checkpointTimer: ReturnType<typeof setTimeout> | null = null;
  /** When a seek last put its cursor in the store. */
  private seekShownAt = 0;
  private runId = 0;
  /** Where to put the cursor once the current run has finished. */
  private resumeAt: number | null = null;
  private acc = 0;
  private lastNow = 0;
  private saveTimer: ReturnType<typeof setTimeout> | null = null;
  private editTimer: ReturnType<typeof setTimeout> | null = null;
  private started = false;
  private readonly offs: (() => void)[] = [];
  private readonly waiting = new Map<number, (m: WorkerMessage) => void>();
  /** Commands that answer more than once (an exploration's progress); true when it is over. */
  private readonly streams = new Map<number, (m: WorkerMessage) => boolean>();
  private finishedWaiters: (() => void)[] = [];
  /** While another mode borrows this session, storage keeps the Explore script and cursor. */
  private held: { script: string; cursor: number } | null = null;
  /** Where a play started by playRange() stops. */
  private stopAt: number | null = null;
  /** Play from the restored cursor once the run is in (a quick action appended at the end). */
  private playAfterRun = false;
  /** The last entry history asked for; a new run forgets it. */
  private history: { sp: number; index: number; length: number; changes: EntryChange[] } | null =
    null;
  /** The last script (and cursor) small enough to save: what a save keeps while a big trace is open. */
  private lastSaved: { script: string; cursor: number } | null = null;
  /** The run's latest progress, for the store at the next frame. */
  private progress: AppState['progress'] = null;
  /** What the run's trace lines are read from (the pieces of a big imported file). */
  private ranText: TextSource = '';
  /** The script of the run whose results (refusal, failures) the store holds. */
  private ranScript = '';
  /** Called after anything that needs a frame (the frame loop wakes up). */
  onWake: () => void = () => {};

  constructor(
    private readonly client: SimClient,
    private readonly storage: KeyValueStorage | null,
    init: Partial<AppState> = {},
  ) {
    this.store = createAppStore(init);
    this.offs.push(client.subscribe((m) => this.onMessage(m)));
    this.offs.push(
      client.onRestart((r) => {
        // An exploration in flight died with the worker: it ends, saying so.
        for (const [id, stream] of this.streams) {
          stream({ type: 'failed', cmdId: id, message: 'the simulation worker stopped' });
        }
        this.streams.clear();
        const running = this.store.getState().runStatus === 'running';
        if (r.replayed) {
          // The run comes again: back to where the user was (a second death keeps the first aim).
          this.resumeAt ??= this.store.getState().cursor;
          this.resetRun();
          this.store.setState({ runStatus: 'running', notice: r.message });
        } else if (running) {
          // The run was dropped: what arrived of it is not the whole run, so none of it is shown.
          this.resetRun();
          this.store.setState({ runStatus: 'done', notice: r.message });
          for (const w of this.finishedWaiters.splice(0)) w();
        } else {
          // Nothing was running: the run on the page is whole and stays as it is.
          this.store.setState({ notice: r.message });
        }
        this.onWake();
      }),
    );
  }

  dispose(): void {
    if (this.checkpointTimer) clearTimeout(this.checkpointTimer);
    for (const off of this.offs) off();
    this.client.dispose();
  }

  /** Restore what the last visit left (script, cursor, theme, speed), or load `fallback`. */
  async start(fallback: () => Promise<string>): Promise<void> {
    const { saved, problem } = this.load();
    this.started = true;
    if (problem) this.store.setState({ notice: problem });
    if (saved) {
      this.store.setState({
        theme: saved.theme,
        speed: saved.speed,
        presentation: saved.presentation,
        picture: saved.picture,
      });
      this.setScript(saved.script, saved.cursor);
    } else {
      await this.loadScript(fallback());
    }
  }

  /** The saved session, repaired where a field is damaged; a problem says what was done. */
  private load(): { saved: Persisted | null; problem: string | null } {
    let raw: string | null | undefined;
    try {
      raw = this.storage?.getItem(STORAGE_KEY);
    } catch {
      return { saved: null, problem: null };
    }
    if (!raw) return { saved: null, problem: null };
    let v: Partial<Persisted>;
    try {
      v = JSON.parse(raw) as Partial<Persisted>;
    } catch {
      v = {};
    }
    // A big trace was open and nothing smaller before it: the default loads, saying why.
    if (
      typeof v === 'object' &&
      v !== null &&
      v.script === undefined &&
      typeof v.dropped === 'number'
    ) {
      return { saved: null, problem: droppedNotice(v.dropped, false) };
    }
    if (typeof v !== 'object' || v === null || typeof v.script !== 'string') {
      try {
        this.storage?.setItem(UNREADABLE_KEY, raw);
      } catch {
        // Nowhere to keep it: the notice still says what happened.
      }
      return {
        saved: null,
        problem: `The saved session could not be read, so the default scenario was loaded; its text is kept in localStorage under ${UNREADABLE_KEY}.`,
      };
    }
    const cursor = v.cursor;
    // An old save without a cursor starts at 0 as a fresh one does.
    const whole =
      cursor === undefined ||
      (typeof cursor === 'number' && Number.isSafeInteger(cursor) && cursor >= 0);
    const repaired =
      typeof cursor === 'number' && Number.isFinite(cursor) && cursor > 0 ? Math.floor(cursor) : 0;
    const saved = this.repaired(v, v.script, whole ? (cursor ?? 0) : repaired);
    this.lastSaved = { script: saved.script, cursor: saved.cursor };
    return {
      problem: !whole
        ? `The saved cursor (${String(cursor).slice(0, 24)}) was not a whole event number; the timeline starts at event ${repaired}.`
        : typeof v.dropped === 'number'
          ? droppedNotice(v.dropped, true)
          : null,
      saved,
    };
  }

  /** The saved fields, each checked: a damaged one falls back to its default. */
  private repaired(v: Partial<Persisted>, script: string, cursor: number): Persisted {
    return {
      script,
      cursor,
      theme: v.theme === 'dark' ? 'dark' : 'light',
      speed: SPEEDS.includes(v.speed as (typeof SPEEDS)[number]) ? (v.speed as number) : 1,
      presentation: v.presentation === true,
      picture: v.picture === 'address' ? 'address' : 'tree',
    };
  }

  private persistSoon(): void {
    if (!this.storage || this.saveTimer || !this.started) return;
    this.saveTimer = setTimeout(() => this.persistNow(), 200);
  }

  /** Save `work` instead of the live script and cursor until released with null. */
  holdSaved(work: { script: string; cursor: number } | null): void {
    this.held = work;
    this.persistSoon();
  }

  /** Save now (the page is going away). Nothing is saved before the last visit was restored. */
  persistNow(): void {
    if (!this.started) return;
    if (this.saveTimer) clearTimeout(this.saveTimer);
    this.saveTimer = null;
    const s = this.store.getState();
    let work = { script: this.held?.script ?? s.script, cursor: this.held?.cursor ?? s.cursor };
    let dropped: number | undefined;
    if (work.script.length > MAX_SAVED_CHARS) {
      dropped = work.script.length;
      if (this.lastSaved) work = this.lastSaved;
    } else {
      this.lastSaved = work;
    }
    const v: Partial<Persisted> = {
      ...(dropped === undefined || this.lastSaved ? work : {}),
      ...(dropped === undefined ? {} : { dropped }),
      theme: s.theme,
      speed: Number.isFinite(s.speed) ? s.speed : 1,
      presentation: s.presentation,
      picture: s.picture,
    };
    try {
      this.storage?.setItem(STORAGE_KEY, JSON.stringify(v));
    } catch {
      // A full or disabled storage only costs the restore on reload.
    }
  }

  // ---- The script and the run ---------------------------------------------------------------

  /** Replace the script; if it parses, run it and put the cursor at `cursor` (clamped). */
  setScript(script: string, cursor = this.store.getState().cursor, file?: ScriptFile): void {
    this.cancelEdit();
    if (file) imported = { script, from: file };
    const was = this.store.getState();
    // What a save keeps while a script too large to save is open.
    if (was.script !== '' && was.script.length <= MAX_SAVED_CHARS)
      this.lastSaved = { script: was.script, cursor: was.cursor };
    const parseErrors = scriptErrors(script);
    this.store.setState({ script, parseErrors });
    this.persistSoon();
    if (parseErrors.length > 0) {
      this.store.setState({ runStatus: 'idle' });
      for (const w of this.finishedWaiters.splice(0)) w();
      this.onWake();
      return;
    }
    // The very script whose whole run is on the page (a mode switch handing it back): the run is
    // deterministic, so it is kept rather than made again (a 4 GiB run is seconds and 300 MB).
    const whole = was.runStatus === 'done' && was.stopped === null && was.eventCount > 0;
    if (!file && whole && script === this.ranScript && this.events.length === was.eventCount) {
      this.store.setState({ selection: null, mark: null, playing: false });
      this.seek(cursor);
      return;
    }
    this.resumeAt = cursor;
    this.run();
  }

  /** Typing: errors show at once; the run waits until the typing pauses. */
  editScript(script: string): void {
    this.cancelEdit();
    // A refusal or a failed expect belongs to the run that produced it: an edited line drops it.
    const ran = this.ranScript.split('\n');
    const typed = script.split('\n');
    const kept = (line: number) => ran[line - 1] === typed[line - 1];
    const s = this.store.getState();
    this.store.setState({
      script,
      parseErrors: scriptErrors(script),
      refused: s.refused && kept(s.refused.line) ? s.refused : null,
      failures: s.failures.every((f) => kept(f.line))
        ? s.failures
        : s.failures.filter((f) => kept(f.line)),
    });
    this.editTimer = setTimeout(() => {
      this.editTimer = null;
      this.setScript(script);
    }, EDIT_DEBOUNCE_MS);
    this.onWake();
  }

  private cancelEdit(): void {
    if (this.editTimer) clearTimeout(this.editTimer);
    this.editTimer = null;
  }

  /** A script that is still on its way (a preset being fetched): busy until it runs. */
  async loadScript(text: Promise<string>, cursor = 0, file?: ScriptFile): Promise<void> {
    this.store.setState({ runStatus: 'loading' });
    this.onWake();
    try {
      this.setScript(await text, cursor, file);
    } catch (e) {
      this.store.setState({ runStatus: 'idle', notice: `Could not load: ${(e as Error).message}` });
      this.onWake();
    }
  }

  /** A quick action: append a statement; from the end of the run, play the new operation. */
  appendStatement(line: string): void {
    const st = this.store.getState();
    const s = st.script;
    const sep = s.length === 0 || s.endsWith('\n') ? '' : '\n';
    this.playAfterRun = st.runStatus === 'done' && st.cursor >= this.end();
    this.setScript(`${s}${sep}${line}\n`);
  }

  private resetRun(): void {
    this.events.clear();
    this.progress = null;
    this.checkpoints = new Checkpoints();
    this.mirror = new Mirror();
    this.acc = 0;
    const v = this.store.getState().version + 1;
    this.store.setState({
      eventCount: 0,
      statements: Spans.none,
      progress: null,
      stopped: null,
      failures: [],
      refused: null,
      cursor: 0,
      target: 0,
      playing: false,
      version: v,
      selection: null,
      mark: null,
      // The filter stays; its matches come with the new run's log.
      logFilter: { ...this.store.getState().logFilter, matches: null, truncated: false },
    });
    this.history = null;
  }

  private run(): void {
    this.ranScript = this.store.getState().script;
    this.resetRun();
    this.store.setState({ runStatus: 'running' });
    const script = this.store.getState().script;
    const from = imported?.script === script ? imported.from : null;
    this.ranText = from?.pieces ? new PiecedText(from.pieces) : script;
    this.runId = this.client.send('run', from ? { script: '', file: from.file } : { script });
    this.onWake();
  }

  /** Stop the run in flight (a long trace import ends with what it has read). */
  stopRun(): void {
    const s = this.store.getState();
    if (s.runStatus !== 'running') return;
    const progress = this.progress ?? s.progress;
    // A trace import stops between slices, keeping what it read; a script is cut off.
    if (progress && progress.phase !== 'running') {
      this.client.send('stop', { target: this.runId });
      return;
    }
    if (!this.client.cancelRun()) return;
    const line = progress?.done ?? 0;
    const total = progress?.total ?? 0;
    this.progress = null;
    this.resumeAt = null;
    this.runId = -1;
    this.store.setState({
      runStatus: 'done',
      eventCount: this.events.length,
      progress: null,
      stopped: { done: line, total },
      // Only whole chunks of the log reach the page while a statement runs: say what arrived.
      notice: `The run was stopped at line ${line}: ${
        this.events.length === 0
          ? 'none of its events had reached the page yet'
          : `the ${this.events.length.toLocaleString('en-US')} events that had reached the page stay on the timeline, without their operations`
      }. Edit the script to run it again.`,
    });
    for (const w of this.finishedWaiters.splice(0)) w();
    this.onWake();
  }

  /** Send a measurement command and wait for its answer. */
  request<K extends 'analyze' | 'scale'>(type: K, payload: CommandMap[K]): Promise<WorkerMessage> {
    return new Promise((resolve) => {
      this.waiting.set(this.client.send(type, payload), resolve);
    });
  }

  /**
   * Explore the race at `line` of the script in the worker: progress as it goes, a stop() that
   * ends it with what was found so far, and the summary (or why it could not run) at the end.
   */
  explore(
    line: number,
    onProgress: (runs: number, states: number) => void,
  ): { done: Promise<{ result: ExploreSummary | null; error: string | null }>; stop: () => void } {
    const script = this.store.getState().script;
    let id = -1;
    const done = new Promise<{ result: ExploreSummary | null; error: string | null }>((resolve) => {
      id = this.client.send('explore', { script, line });
      this.streams.set(id, (m) => {
        if (m.type === 'exploreProgress') {
          onProgress(m.runs, m.states);
          return false;
        }
        if (m.type === 'explored') resolve({ result: m.result, error: m.error });
        else if (m.type === 'failed') resolve({ result: null, error: m.message });
        return true;
      });
    });
    return { done, stop: () => this.client.send('stop', { target: id }) };
  }

  /** Resolves when the current run has finished (at once if none is in flight). */
  whenFinished(): Promise<void> {
    const status = this.store.getState().runStatus;
    if (status !== 'running' && status !== 'loading') return Promise.resolve();
    return new Promise((resolve) => this.finishedWaiters.push(resolve));
  }

  private onMessage(m: WorkerMessage): void {
    if (m.type === 'ready') return;
    const stream = this.streams.get(m.cmdId);
    if (stream) {
      if (stream(m)) this.streams.delete(m.cmdId);
      return;
    }
    const waiter = this.waiting.get(m.cmdId);
    if (waiter) {
      this.waiting.delete(m.cmdId);
      waiter(m);
      return;
    }
    if (m.cmdId !== this.runId) return;
    switch (m.type) {
      case 'batch':
        // The count reaches the store once per frame (advance()), not once per batch.
        this.events.append(m.first, m.words);
        this.buildCheckpoints();
        break;
      case 'parseErrors':
        this.store.setState({ parseErrors: m.errors });
        break;
      case 'progress':
        // Like the event count, it reaches the store once per frame (advance()).
        this.progress = { phase: m.phase, done: m.done, total: m.total };
        break;
      case 'finished': {
        this.progress = null;
        const target = Math.min(this.resumeAt ?? 0, m.eventCount);
        this.resumeAt = null;
        this.store.setState({
          runStatus: 'done',
          eventCount: m.eventCount,
          statements: new Spans(m.spans, this.ranText),
          progress: null,
          stopped: m.stopped,
          failures: m.failures,
          refused: m.refused,
          runMs: m.ms,
          target,
        });
        // The play starts once the cursor is back where it was (see advance()).
        if (target >= m.eventCount) this.playAfterRun = false;
        // A filter set before the run finds its matches in the new log.
        const filter = this.store.getState().logFilter.text;
        if (filter) this.setLogFilter(filter);
        for (const w of this.finishedWaiters.splice(0)) w();
        break;
      }
      case 'failed':
        this.store.setState({ runStatus: 'done', notice: `The simulation failed: ${m.message}` });
        break;
      case 'analysis':
      case 'scaling':
      case 'exploreProgress':
      case 'explored':
        // Answers to measurements the compare view asked for; not part of the run.
        return;
      default: {
        const unknown: never = m;
        throw new Error(`unknown message ${JSON.stringify(unknown)}`);
      }
    }
    this.onWake();
  }

  // ---- Timeline controls ----------------------------------------------------------------------

  private end(): number {
    return this.events.length;
  }

  seek(target: number): void {
    this.stopAt = null;
    const t = Math.max(0, Math.min(this.end(), Math.round(target)));
    this.store.setState({ target: t, playing: false });
    this.onWake();
  }

  stepEvent(dir: 1 | -1): void {
    this.seek(this.store.getState().target + dir);
  }

  /** To the end of the current operation, or back to the start of the previous one. */
  stepOperation(dir: 1 | -1): void {
    const s = this.store.getState();
    const at = s.target;
    const spans = s.statements;
    if (dir === 1) {
      const next = spans.nextEndingAfter(at);
      this.seek(next >= 0 ? spans.end(next) : this.end());
    } else {
      const prev = spans.prevStartBefore(at);
      this.seek(prev >= 0 ? spans.first(prev) : 0);
    }
  }

  home(): void {
    this.seek(0);
  }

  toEnd(): void {
    this.seek(this.end());
  }

  /**
   * Play from `from` to `to` at the chosen speed (a tour step); without motion, jump there.
   */
  playRange(from: number, to: number): void {
    const s = this.store.getState();
    if (!s.motion || !Number.isFinite(s.speed) || to <= from) {
      this.seek(to);
      return;
    }
    this.seek(from);
    this.stopAt = to;
    this.store.setState({ playing: true });
    this.lastNow = 0;
    this.onWake();
  }

  togglePlay(): void {
    this.stopAt = null;
    const s = this.store.getState();
    if (s.playing) {
      this.store.setState({ playing: false, target: s.cursor });
    } else {
      const atEnd = s.cursor >= this.end();
      if (atEnd && s.runStatus === 'done') this.seek(0);
      this.store.setState({ playing: true });
      this.lastNow = 0;
    }
    this.onWake();
  }

  setSpeed(speed: number): void {
    this.store.setState({ speed });
    this.persistSoon();
    this.onWake();
  }

  select(selection: Selection | null): void {
    this.store.setState({ selection });
  }

  /**
   * "Run to here": the cursor goes to the end of the statement on `line` (a line without events
   * goes to where the statements before it ended). False when the line has no statement.
   */
  runToLine(line: number): boolean {
    const spans = this.store.getState().statements;
    const i = spans.onLine(line);
    if (i < 0) return false;
    this.seek(spans.end(i));
    return true;
  }

  /** Filter the event log (see parseLogQuery); '' shows every event. */
  setLogFilter(text: string): void {
    if (text.trim() === '') {
      this.store.setState({ logFilter: { text, matches: null, truncated: false, problem: null } });
      return;
    }
    const q = parseLogQuery(text);
    if (typeof q === 'string') {
      this.store.setState({ logFilter: { text, matches: null, truncated: false, problem: q } });
      return;
    }
    const found = filterLog(this.events, this.events.spOf, q, (i) => explainEvent(this.eventAt(i)));
    this.store.setState({
      logFilter: { text, matches: found.indices, truncated: found.truncated, problem: null },
    });
  }

  /** Keep the cursor's position and its stats to diff later positions against (null: forget). */
  setMark(on: boolean): void {
    const m = this.mirror;
    this.store.setState({
      mark: on ? { cursor: m.cursor, stats: m.stats(), counters: { ...m.counters } } : null,
    });
  }

  /** The cursor just after sp[index]'s previous (-1) or next (1) change, if there is one. */
  seekChange(sp: number, index: number, dir: 1 | -1): boolean {
    // From where the cursor is heading: a second key press during a seek steps on from there.
    const to = neighbourChange(this.entryHistory(sp, index), this.store.getState().target, dir);
    if (to === null) return false;
    this.seek(to);
    return true;
  }

  /** Every change of sp[index] in the run, oldest first (remembered for the last entry asked). */
  entryHistory(sp: number, index: number): EntryChange[] {
    const h = this.history;
    const n = this.events.length;
    if (h?.sp === sp && h.index === index && h.length === n) return h.changes;
    const changes = entryChanges(this.events, sp, index, n);
    this.history = { sp, index, length: n, changes };
    return changes;
  }

  setTheme(theme: Theme): void {
    this.store.setState({ theme });
    this.persistSoon();
  }

  setPicture(picture: Picture): void {
    this.store.setState({ picture });
    this.persistSoon();
  }

  setPresentation(on: boolean): void {
    this.store.setState({ presentation: on });
    this.persistSoon();
  }

  dismissNotice(): void {
    this.store.setState({ notice: null });
  }

  // ---- Moving the cursor (called by the frame loop) -------------------------------------------

  /** Whether nothing is left to do: no run, no play, no seek. */
  settled(): boolean {
    const s = this.store.getState();
    const busy = s.runStatus === 'running' || s.runStatus === 'loading' || this.editTimer !== null;
    const there = s.cursor === s.target && this.mirror.cursor === s.target;
    return !busy && !s.playing && !this.playAfterRun && there;
  }

  private duration(i: number): number {
    const kind = eventKind(this.events, i);
    const spans = this.store.getState().statements;
    const k = spans.containing(i);
    if (k >= 0 && spans.end(k) - spans.first(k) > 300) return BULK_EVENT_MS;
    return EVENT_MS[kind] ?? 200;
  }

  /** Move the mirror toward where the timeline wants it, within a frame's budget. */
  advance(now: number): Applied | null {
    const st = this.store.getState();
    if (st.eventCount !== this.events.length)
      this.store.setState({ eventCount: this.events.length });
    if (this.progress !== null && st.runStatus === 'running' && st.progress !== this.progress)
      this.store.setState({ progress: this.progress });
    const s = this.store.getState();
    const dt = this.lastNow ? Math.min(now - this.lastNow, 250) : 0;
    this.lastNow = now;
    const end = this.end();
    // A play that starts elsewhere (a tour step replayed) first moves the cursor there.
    // (The mirror, not the store: a long seek on its way shows its cursor only now and then.)
    if (s.playing && this.mirror.cursor !== s.target) return this.seekStep(s);
    if (s.playing) {
      // A play to a point (a tour step) stops there; a plain play runs to the end.
      const stop = this.stopAt === null ? end : Math.min(this.stopAt, end);
      if (!Number.isFinite(s.speed)) {
        this.stopAt = null;
        this.store.setState({ playing: false, target: stop });
        return this.advance(now);
      }
      this.acc += dt * s.speed;
      const events: SimEvent[] = [];
      let cursor = this.mirror.cursor;
      const t0 = performance.now();
      while (cursor < stop) {
        const d = this.duration(cursor);
        if (this.acc < d) break;
        this.acc -= d;
        events.push(decodeEvent(this.events, cursor, this.events.spOf));
        this.mirror.forward(this.events);
        cursor++;
        if (performance.now() - t0 > SEEK_BUDGET_MS) break;
      }
      const finished = (cursor >= end && s.runStatus === 'done') || cursor >= stop;
      if (finished) this.stopAt = null;
      if (finished) this.acc = 0;
      if (events.length === 0 && !finished) return null;
      this.store.setState({
        cursor,
        target: cursor,
        playing: !finished,
        version: s.version + 1,
      });
      this.persistSoon();
      return events.length > 0 ? { kind: 'events', events, direction: 1 } : null;
    }
    if (s.cursor === s.target && this.mirror.cursor === s.target) {
      if (this.playAfterRun && s.runStatus === 'done') {
        this.playAfterRun = false;
        this.store.setState({ playing: true });
        this.lastNow = 0;
        this.onWake();
      }
      return null;
    }
    return this.seekStep(s);
  }

  private seekStep(s: AppState): Applied | null {
    const target = Math.min(s.target, this.end());
    const distance = Math.abs(target - this.mirror.cursor);
    const animate = distance <= LONG_SEEK_EVENTS && s.motion;
    const t0 = performance.now();
    const timeUp = () => performance.now() - t0 > SEEK_BUDGET_MS;
    if (!animate && distance > LONG_SEEK_EVENTS) {
      const cps = this.checkpoints;
      // Past the checkpoints built so far, with the mirror behind them: building them is the
      // replay this seek needs (one replay, not two), and it lands a stride from the target.
      if (target > cps.covered && this.mirror.cursor <= cps.covered) {
        // The jump from the checkpoint waits for the next frame: this one's budget is spent.
        cps.advance(this.events, timeUp);
        return null;
      }
      // A long jump starts from the checkpoint nearest the target, if it is nearer than the cursor.
      const cp = cps.nearest(target);
      if (cp.cursor <= cps.covered && Math.abs(cp.cursor - target) < distance)
        this.mirror.restore(cp);
    }
    const dir = target > this.mirror.cursor ? 1 : -1;
    const events: SimEvent[] = [];
    let n = 0;
    while (this.mirror.cursor !== target) {
      if (dir === 1) {
        if (animate) events.push(decodeEvent(this.events, this.mirror.cursor, this.events.spOf));
        this.mirror.forward(this.events);
      } else {
        if (animate)
          events.push(decodeEvent(this.events, this.mirror.cursor - 1, this.events.spOf));
        this.mirror.backward(this.events);
      }
      // Check the clock every 1024 events: a long seek spreads over frames.
      if ((++n & 1023) === 0 && timeUp()) break;
    }
    const arrived = this.mirror.cursor === target;
    // A long seek arrives in a frame of its own: the panels' render and the picture's sync on top
    // of a frame of replay would make one long task.
    if (arrived && !animate && distance > 0 && performance.now() - t0 > SEEK_BUDGET_MS / 2)
      return null;
    // A long seek on its way re-renders the panels a few times a second, not every frame.
    if (animate || arrived || t0 - this.seekShownAt >= SEEK_SHOW_MS) {
      this.seekShownAt = t0;
      this.store.setState({ cursor: this.mirror.cursor, version: s.version + 1 });
      this.persistSoon();
    }
    if (animate) return { kind: 'events', events, direction: dir };
    return arrived ? { kind: 'sync' } : null;
  }

  /** Checkpoints follow the log in slices of CHECKPOINT_SLICE_MS, between frames. */
  private buildCheckpoints(): void {
    if (this.checkpointTimer !== null) return;
    this.checkpointTimer = setTimeout(() => {
      this.checkpointTimer = null;
      const t0 = performance.now();
      const cps = this.checkpoints;
      const done = cps.advance(this.events, () => performance.now() - t0 > CHECKPOINT_SLICE_MS);
      if (!done && cps === this.checkpoints) this.buildCheckpoints();
    }, 0);
  }

  /** Decode any event of the run (the event log panel). */
  readonly eventAt = (i: number): SimEvent => decodeEvent(this.events, i, this.events.spOf);
}
