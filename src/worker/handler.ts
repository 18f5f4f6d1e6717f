// Commands in, batches out: runs a script on a fresh Simulator and streams its event log as it grows.
import {
  PROTOCOL_VERSION,
  type Command,
  type ScaleRow,
  type WorkerMessage,
} from '../protocol/messages.ts';
import { spanBuffers, spanTable, type SpanTable, type TraceColumns } from '../protocol/spans.ts';
import { STRATEGIES } from '../sim/names.ts';
import { Explorer } from '../sim/race/explore.ts';
import type { ExpectFailure, ParseError } from '../sim/scenario/ast.ts';
import { parseScenario } from '../sim/scenario/parse.ts';
import { runStatement } from '../sim/scenario/run.ts';
import { CHUNK_EVENTS, WORDS, type EventLog } from '../sim/event-log.ts';
import { SimError, Simulator } from '../sim/simulator.ts';
import { looksLikeTrace, TraceReader } from '../sim/trace/read-trace.ts';
import { kernelOf, levelsOf, TraceRebuild } from '../sim/trace/rebuild.ts';

export type Post = (msg: WorkerMessage, transfer?: ArrayBuffer[]) => void;

/** Events per batch: one chunk of the log (2 MiB of words), handed over rather than copied. */
export const BATCH_EVENTS = CHUNK_EVENTS;

export function readyMessage(): WorkerMessage {
  return { type: 'ready', version: PROTOCOL_VERSION };
}

/** How long one slice of an exploration or a trace import runs before the worker reads its messages again. */
const SLICE_MS = 40;

export function createHandler(post: Post): (cmd: Command) => void {
  const stopping = new Set<number>();
  return (cmd) => {
    switch (cmd.type) {
      case 'explore':
        explore(cmd.id, cmd.script, cmd.line, cmd.max, stopping, post);
        return;
      case 'stop':
        stopping.add(cmd.target);
        return;
      case 'run': {
        const start = (script: string) => {
          if (looksLikeTrace(script)) importTrace(cmd.id, script, stopping, post);
          else run(cmd.id, script, post);
        };
        if (cmd.file === undefined) start(cmd.script);
        else {
          const name = cmd.file instanceof File ? cmd.file.name : 'the file';
          cmd.file.text().then(start, (e: unknown) => {
            post({
              type: 'failed',
              cmdId: cmd.id,
              message: `${name} could not be read: ${String(e)}`,
            });
          });
        }
        return;
      }
      case 'crash':
        throw new Error('the worker was asked to crash');
      case 'analyze':
        post({ type: 'analysis', cmdId: cmd.id, refaults: refaults(cmd.script) });
        return;
      case 'scale':
        post({ type: 'scaling', cmdId: cmd.id, rows: scaleRows(cmd.ns, cmd.roots) });
        return;
      default: {
        const unknown: never = cmd;
        throw new Error(`unknown command ${JSON.stringify(unknown)}`);
      }
    }
  };
}

/** An exploration in slices: each runs ~40 ms, then the worker hears Stop before the next. */
function explore(
  cmdId: number,
  script: string,
  line: number,
  max: number | undefined,
  stopping: Set<number>,
  post: Post,
): void {
  const parsed = parseScenario(script);
  const index = parsed.statements.findIndex((s) => s.kind === 'race' && s.line === line);
  const problem =
    parsed.errors.length > 0
      ? 'the script has problems: fix them first'
      : index < 0
        ? `there is no race at line ${line}`
        : null;
  if (problem !== null) {
    post({ type: 'explored', cmdId, result: null, error: problem });
    return;
  }
  let ex: Explorer;
  try {
    ex = new Explorer(parsed.statements, index, max === undefined ? {} : { max });
  } catch (e) {
    post({ type: 'explored', cmdId, result: null, error: (e as Error).message });
    return;
  }
  const finish = () => {
    stopping.delete(cmdId);
    const r = ex.result();
    post({
      type: 'explored',
      cmdId,
      result: { ...r, schedules: String(r.schedules) },
      error: null,
    });
  };
  const slice = () => {
    if (stopping.has(cmdId)) {
      finish();
      return;
    }
    const t0 = performance.now();
    let more = true;
    try {
      while (more && performance.now() - t0 < SLICE_MS) more = ex.step(8);
    } catch (e) {
      stopping.delete(cmdId);
      post({ type: 'explored', cmdId, result: null, error: (e as Error).message });
      return;
    }
    post({ type: 'exploreProgress', cmdId, runs: ex.runs, states: ex.states });
    if (more) setTimeout(slice, 0);
    else finish();
  };
  slice();
}

/**
 * Posts the log's new events: each full chunk as it fills, its buffer transferred (the worker keeps
 * no copy of what the page has); with `all`, the part-filled last chunk as a copy.
 */
function shipper(cmdId: number, log: EventLog, post: Post): (all: boolean) => void {
  let sent = 0;
  let seq = 0;
  const send = (words: Uint32Array) => {
    // Counted before the post: a transfer empties the array.
    const first = sent;
    sent += words.length / WORDS;
    post({ type: 'batch', cmdId, seq: seq++, first, words }, [words.buffer as ArrayBuffer]);
  };
  return (all) => {
    while (log.length - sent >= BATCH_EVENTS) send(log.take(sent));
    if (all && log.length > sent) send(log.slice(sent, log.length));
  };
}

/**
 * An imported trace as a run, in slices with progress: read every line, then rebuild record by
 * record while the events stream. Stop while reading rebuilds the lines read so far; Stop while
 * rebuilding ends the run at the record reached.
 */
function importTrace(cmdId: number, text: string, stopping: Set<number>, post: Post): void {
  const t0 = performance.now();
  const reader = new TraceReader(text);
  const total = reader.lines;
  let stoppedAt: number | null = null;
  let rebuild: TraceRebuild | null = null;
  let ship: ((all: boolean) => void) | null = null;
  let next = 0;
  const heardStop = () => {
    const heard = stopping.has(cmdId);
    stopping.delete(cmdId);
    return heard;
  };
  const finish = () => {
    const read = reader.result();
    const r = rebuild;
    // Stopped before any record: nothing was wrong with the trace.
    if ((r === null || read.records.length === 0) && stoppedAt === null) {
      const bad = read.firstBad;
      post({
        type: 'parseErrors',
        cmdId,
        errors: [
          bad
            ? { line: bad.line, col: 1, message: bad.message }
            : { line: 1, col: 1, message: noRecords(read.skipped) },
        ],
      });
    }
    if (r !== null && stoppedAt === null) r.finish();
    ship?.(true);
    const spans = r ? traceSpans(r, reader.starts) : spanTable([]);
    post(
      {
        type: 'finished',
        cmdId,
        eventCount: r?.kvm.log.length ?? 0,
        spans,
        stopped: stoppedAt === null ? null : { done: stoppedAt, total },
        failures: [],
        refused: null,
        ms: performance.now() - t0,
      },
      spanBuffers(spans),
    );
  };
  const slice = () => {
    const t = performance.now();
    if (rebuild === null) {
      let more = true;
      if (heardStop()) {
        more = false;
        stoppedAt = reader.position;
      }
      while (more && performance.now() - t < SLICE_MS) more = reader.step(2048);
      post({ type: 'progress', cmdId, phase: 'reading', done: reader.position, total });
      if (more) {
        setTimeout(slice, 0);
        return;
      }
      const read = reader.result();
      if (read.records.length === 0) {
        finish();
        return;
      }
      rebuild = new TraceRebuild(read, levelsOf(read), kernelOf(read));
      ship = shipper(cmdId, rebuild.kvm.log, post);
      setTimeout(slice, 0);
      return;
    }
    const records = rebuild.read.records;
    if (heardStop()) {
      stoppedAt = records[next - 1]?.line ?? 0;
      finish();
      return;
    }
    while (next < records.length && performance.now() - t < SLICE_MS) {
      const stop = Math.min(records.length, next + 1024);
      for (; next < stop; next++) rebuild.add(records[next] as (typeof records)[number]);
    }
    ship?.(false);
    // After a Stop while reading, the rebuild covers the lines read.
    const of = stoppedAt ?? total;
    const at = next < records.length ? (records[next]?.line ?? of) - 1 : of;
    post({ type: 'progress', cmdId, phase: 'rebuilding', done: at, total: of });
    if (next < records.length) setTimeout(slice, 0);
    else finish();
  };
  slice();
}

/** Why a trace gave no record: what its lines were instead, the commonest first. */
function noRecords(skipped: Record<string, number>): string {
  const seen = Object.entries(skipped).sort((a, b) => b[1] - a[1]);
  if (seen.length === 0) return 'no trace line here';
  const some = seen
    .slice(0, 3)
    .map(([what, n]) => `${what} ×${n.toLocaleString('en-US')}`)
    .join(', ');
  return `no TDP MMU event (kvm_tdp_mmu_spte_changed, kvm_mmu_set_spte, …) in this trace; its lines: ${some}${seen.length > 3 ? ', …' : ''}`;
}

/** The rebuild's records as span columns: who printed each, and the rebuild's notes. */
function traceSpans(r: TraceRebuild, lineStarts: Uint32Array): SpanTable {
  const tasks: string[] = [];
  const taskIndex = new Map<string, number>();
  const n = r.spans.length;
  const trace: TraceColumns = {
    levels: r.levels,
    kernel: r.kernel,
    task: new Int32Array(n),
    tasks,
    byTask: new Int32Array(0),
    taskStarts: new Int32Array(0),
    cpu: new Int16Array(n),
    lineStarts,
    joined: [],
    notes: [],
  };
  r.spans.forEach((s, i) => {
    let k = -1;
    if (s.task !== null) {
      const who = `${s.task}-${s.pid}`;
      k = taskIndex.get(who) ?? -1;
      if (k < 0) taskIndex.set(who, (k = tasks.push(who) - 1));
    }
    trace.task[i] = k;
    trace.cpu[i] = s.cpu ?? -1;
    if (s.joined) trace.joined.push([i, s.text]);
    if (s.note !== null) trace.notes.push([i, s.note]);
  });
  // A counting sort: each task's records together, for its lane.
  const starts = new Int32Array(tasks.length + 1);
  for (const t of trace.task) if (t >= 0) starts[t + 1] = (starts[t + 1] ?? 0) + 1;
  for (let t = 0; t < tasks.length; t++) starts[t + 1] = (starts[t + 1] ?? 0) + (starts[t] ?? 0);
  const fill = starts.slice(0, tasks.length);
  const byTask = new Int32Array(starts[tasks.length] ?? 0);
  trace.task.forEach((t, i) => {
    if (t >= 0) byTask[(fill[t] = (fill[t] ?? 0) + 1) - 1] = i;
  });
  trace.byTask = byTask;
  trace.taskStarts = starts;
  return spanTable(
    r.spans.map((s) => ({
      line: s.line,
      kind: s.event,
      firstEvent: s.firstEvent,
      endEvent: s.endEvent,
    })),
    trace,
  );
}

function run(cmdId: number, script: string, post: Post): void {
  const t0 = performance.now();
  const parsed = parseScenario(script);
  const statements: { line: number; kind: string; firstEvent: number; endEvent: number }[] = [];
  const failures: ExpectFailure[] = [];
  let refused: ParseError | null = null;
  const sim = new Simulator();
  const log = sim.kvm.log;
  const ship = shipper(cmdId, log, post);

  if (parsed.errors.length > 0) {
    post({ type: 'parseErrors', cmdId, errors: parsed.errors });
  } else {
    const total = parsed.statements.at(-1)?.line ?? 0;
    for (const st of parsed.statements) {
      const firstEvent = log.length;
      // Which line runs: the page offers Stop and names it (it shows the latest once a frame).
      post({ type: 'progress', cmdId, phase: 'running', done: st.line, total });
      try {
        runStatement(sim, st, failures);
      } catch (e) {
        if (!(e instanceof SimError)) throw e;
        refused = { line: st.line, col: st.col, message: e.message };
        break;
      }
      statements.push({ line: st.line, kind: st.kind, firstEvent, endEvent: log.length });
      ship(false);
    }
    ship(true);
  }
  const spans = spanTable(statements);
  post(
    {
      type: 'finished',
      cmdId,
      eventCount: log.length,
      spans,
      stopped: null,
      failures,
      refused,
      ms: performance.now() - t0,
    },
    spanBuffers(spans),
  );
}

/** Faults needed, after the whole script, to touch again every page its accesses touched. */
function refaults(script: string): number | null {
  const parsed = parseScenario(script);
  if (parsed.errors.length > 0) return null;
  const sim = new Simulator();
  try {
    for (const st of parsed.statements) runStatement(sim, st, []);
    const before = sim.counters().faults;
    // The guest touches its pages again: a forced fault replays as the access behind it.
    for (const st of parsed.statements) {
      if (st.kind === 'access_range' || st.kind === 'access') runStatement(sim, st, []);
      if (st.kind === 'fault') runStatement(sim, { ...st, kind: 'access' }, []);
    }
    return sim.counters().faults - before;
  } catch (e) {
    if (e instanceof SimError) return null;
    throw e;
  }
}

const FRAME = 512;
const BASE_GFN = 0x100000;

/**
 * One recovery run per (N, R, strategy): N 2M frames executed from in each of R roots (the older
 * R-1 invalidated but not zapped), so N * R tables are accounted; ratio 1 recovers them all.
 */
function scaleRows(ns: number[], roots: number[]): ScaleRow[] {
  const rows: ScaleRow[] = [];
  for (const r of roots) {
    for (const n of ns) {
      for (const strategy of STRATEGIES) {
        const sim = new Simulator({ recoveryRatio: 1 });
        sim.memslot(BASE_GFN, n * FRAME, 2);
        for (let root = 0; root < r; root++) {
          if (root > 0) sim.invalidateRoots();
          for (let i = 0; i < n; i++) sim.access(BASE_GFN + i * FRAME, 'exec');
        }
        const accounted = sim.stats().nx_lpage_splits;
        const before = sim.counters();
        sim.recoverNx(strategy);
        const after = sim.counters();
        const left = sim.stats().nx_lpage_splits;
        const faults = after.faults;
        for (let i = 0; i < n; i++) sim.access(BASE_GFN + i * FRAME, 'exec');
        rows.push({
          n,
          roots: r,
          strategy,
          spte_reads: after.spte_reads - before.spte_reads,
          spte_writes: after.spte_writes - before.spte_writes,
          iter_steps: after.iter_steps - before.iter_steps,
          tlb_flushes_ranged: after.tlb_flushes_ranged - before.tlb_flushes_ranged,
          tlb_flushes_full: after.tlb_flushes_full - before.tlb_flushes_full,
          accounted,
          left,
          refaults: sim.counters().faults - faults,
        });
      }
    }
  }
  return rows;
}
