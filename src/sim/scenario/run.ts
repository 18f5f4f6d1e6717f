// Running parsed statements against a Simulator: the one interpreter the CLI, the worker and the
// tests share.
import { SimError, Simulator } from '../simulator.ts';
import type { RecoverOptions } from '../ops/recover-nx.ts';
import type { ActorSpec } from '../race/race.ts';
import { chooserFor } from '../race/schedule.ts';
import type {
  ExpectFailure,
  ParseError,
  RaceStatement,
  RecoverNxStatement,
  Statement,
} from './ast.ts';

/** The what-ifs a recover_nx line gives (the rest is the strategy's own). */
function recoverWhatIf(st: RecoverNxStatement): Partial<RecoverOptions> {
  return {
    ...(st.check !== undefined && { check: st.check }),
    ...(st.lock !== undefined && { lock: st.lock }),
  };
}

/** A race block's lines as the actors the scheduler runs. */
export function raceActors(sim: Simulator, st: RaceStatement): ActorSpec[] {
  return st.actors.map((a) => {
    const s = a.statement;
    if (s.kind !== 'access' && s.kind !== 'fault' && s.kind !== 'recover_nx') {
      return { name: a.actor, line: a.line, work: { kind: 'zap_invalidated_roots' } };
    }
    if (s.kind === 'recover_nx') {
      const strategy = s.strategy ?? sim.profile.zapStrategy;
      return {
        name: a.actor,
        line: a.line,
        work: {
          kind: 'recover_nx',
          strategy,
          opts: sim.recoverOptions(strategy, recoverWhatIf(s)),
        },
      };
    }
    return {
      name: a.actor,
      line: a.line,
      work: { kind: s.kind, vcpu: s.vcpu ?? 0, gfn: s.gfn, type: s.type },
    };
  });
}

export interface RunResult {
  sim: Simulator;
  failures: ExpectFailure[];
  /** A statement the model refused (nothing of it was applied; later statements did not run). */
  error: ParseError | null;
  /** How many statements ran. */
  executed: number;
}

/** Dispatch one statement to the operation it names. */
export function runStatement(sim: Simulator, st: Statement, failures: ExpectFailure[]): void {
  sim.line = st.line;
  switch (st.kind) {
    case 'vm': {
      const { kernel, levels, nxHugePages, recoveryRatio, physBits, vcpus } = st;
      sim.vm({
        ...(kernel !== undefined && { kernel }),
        ...(levels !== undefined && { levels }),
        ...(nxHugePages !== undefined && { nxHugePages }),
        ...(recoveryRatio !== undefined && { recoveryRatio }),
        ...(physBits !== undefined && { physBits }),
        ...(vcpus !== undefined && { vcpus }),
      });
      return;
    }
    case 'memslot':
      sim.memslot(st.gfn, st.npages, st.backingLevel);
      return;
    case 'access':
      sim.access(st.gfn, st.type, st.vcpu);
      return;
    case 'fault':
      sim.fault(st.gfn, st.type, st.vcpu);
      return;
    case 'access_range':
      for (let i = 0; i < st.npages; i++) sim.access(st.gfn + i, st.type, st.vcpu);
      return;
    case 'shatter':
      sim.shatter(st.gfn, st.level);
      return;
    case 'zap_sp':
      sim.zapSp(st.gfn, st.level, st.strategy);
      return;
    case 'zap_gfn_range':
      sim.zapGfnRange(st.start, st.end, st.mode);
      return;
    case 'invalidate_roots':
      sim.invalidateRoots();
      return;
    case 'zap_invalidated_roots':
      sim.zapInvalidatedRoots();
      return;
    case 'recover_nx':
      sim.recoverNx(st.strategy, recoverWhatIf(st));
      return;
    case 'race':
      sim.race(raceActors(sim, st), chooserFor(st.schedule));
      return;
    case 'expect':
      for (const check of st.checks) {
        const actual = sim.value(check.name);
        if (actual !== check.value) {
          failures.push({
            line: check.line,
            col: check.col,
            name: check.name,
            expected: check.value,
            actual,
          });
        }
      }
      return;
  }
}

/** Run statements in order; stop at the first one the model refuses. */
export function runStatements(statements: Statement[], sim = new Simulator()): RunResult {
  const failures: ExpectFailure[] = [];
  let executed = 0;
  for (const st of statements) {
    try {
      runStatement(sim, st, failures);
    } catch (e) {
      if (!(e instanceof SimError)) throw e;
      return { sim, failures, error: { line: st.line, col: st.col, message: e.message }, executed };
    }
    executed++;
  }
  return { sim, failures, error: null, executed };
}
