// Commands in, batches out: runs a script on a fresh Simulator and streams its event log as it grows.
import {
  PROTOCOL_VERSION,
  type Command,
  type ScaleRow,
  type StatementSpan,
  type WorkerMessage,
} from '../protocol/messages.ts';
import { STRATEGIES } from '../sim/names.ts';
import { Explorer } from '../sim/race/explore.ts';
import type { ExpectFailure, ParseError } from '../sim/scenario/ast.ts';
import { parseScenario } from '../sim/scenario/parse.ts';
import { runStatement } from '../sim/scenario/run.ts';
import type { EventLog } from '../sim/event-log.ts';
import { SimError, Simulator } from '../sim/simulator.ts';
import { looksLikeTrace, readTrace } from '../sim/trace/read-trace.ts';
import { TraceRebuild } from '../sim/trace/rebuild.ts';

export type Post = (msg: WorkerMessage, transfer?: ArrayBuffer[]) => void;

/** Events per batch: 1 MiB of words, so a long run streams while it is still running. */
export const BATCH_EVENTS = 1 << 15;

export function readyMessage(): WorkerMessage {
  return { type: 'ready', version: PROTOCOL_VERSION };
}

/** How long one slice of an exploration runs before the worker reads its messages again. */
const EXPLORE_SLICE_MS = 40;

export function createHandler(post: Post): (cmd: Command) => void {
  const stopping = new Set<number>();
  return (cmd) => {
    switch (cmd.type) {
      case 'explore':
        explore(cmd.id, cmd.script, cmd.line, cmd.max, stopping, post);
        return;
      case 'stopExplore':
        stopping.add(cmd.target);
        return;
      case 'run':
        run(cmd.id, cmd.script, post);
        return;
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
      while (more && performance.now() - t0 < EXPLORE_SLICE_MS) more = ex.step(8);
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

/** Posts the log's new events in whole batches; with `all`, the rest too. */
function shipper(cmdId: number, log: EventLog, post: Post): (all: boolean) => void {
  let sent = 0;
  let seq = 0;
  return (all) => {
    while (log.length - sent >= BATCH_EVENTS || (all && log.length > sent)) {
      const to = Math.min(log.length, sent + BATCH_EVENTS);
      const words = log.slice(sent, to);
      post({ type: 'batch', cmdId, seq: seq++, first: sent, words }, [words.buffer as ArrayBuffer]);
      sent = to;
    }
  };
}

/** An imported trace as a run: one span per record, each naming the line it came from. */
function importTrace(cmdId: number, text: string, post: Post, t0: number): void {
  const read = readTrace(text);
  let statements: StatementSpan[] = [];
  let eventCount = 0;
  if (read.records.length === 0) {
    const bad = read.firstBad;
    post({
      type: 'parseErrors',
      cmdId,
      errors: [
        bad
          ? { line: bad.line, col: 1, message: bad.message }
          : { line: 1, col: 1, message: 'no trace line here' },
      ],
    });
  } else {
    const r = TraceRebuild.of(read);
    shipper(cmdId, r.kvm.log, post)(true);
    eventCount = r.kvm.log.length;
    statements = r.spans.map((s) => ({
      line: s.line,
      kind: s.event,
      firstEvent: s.firstEvent,
      endEvent: s.endEvent,
      trace: {
        text: s.text,
        task: s.task === null ? null : `${s.task}-${s.pid}`,
        cpu: s.cpu,
        ts: s.ts,
        note: s.note,
      },
    }));
  }
  const ms = performance.now() - t0;
  post({ type: 'finished', cmdId, eventCount, statements, failures: [], refused: null, ms });
}

function run(cmdId: number, script: string, post: Post): void {
  const t0 = performance.now();
  if (looksLikeTrace(script)) {
    importTrace(cmdId, script, post, t0);
    return;
  }
  const parsed = parseScenario(script);
  const statements: StatementSpan[] = [];
  const failures: ExpectFailure[] = [];
  let refused: ParseError | null = null;
  const sim = new Simulator();
  const log = sim.kvm.log;
  const ship = shipper(cmdId, log, post);

  if (parsed.errors.length > 0) {
    post({ type: 'parseErrors', cmdId, errors: parsed.errors });
  } else {
    for (const st of parsed.statements) {
      const firstEvent = log.length;
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
  post({
    type: 'finished',
    cmdId,
    eventCount: log.length,
    statements,
    failures,
    refused,
    ms: performance.now() - t0,
  });
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
