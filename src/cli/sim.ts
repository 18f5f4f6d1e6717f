// The headless runner behind `npm run sim -- FILE [--kernel V] [--json] [--trace] [--explore
// [--max N]]` and `npm run sim -- --import-trace FILE [--json]` (FILE `-` reads stdin).
// With --import-trace: 0 when the trace was read (even with lines skipped), 2 when it holds no
// trace line that reads.
// Exit 0 when every expect holds, 1 when one fails, 2 when the script is malformed or refused,
// 3 when the output cannot be written. With --explore: 0 when no schedule of any race breaks an
// invariant, 1 when one does, 2 when malformed.
import { readFileSync } from 'node:fs';
import { decodeEvent } from '../sim/events.ts';
import { tracepointLine } from '../sim/explain.ts';
import { EXPECT_NAMES, VCPU_STATS_6 } from '../sim/names.ts';
import { isKernel, KERNELS, type KernelId } from '../sim/profile.ts';
import { DEFAULT_MAX_RUNS, exploreRace, type ExploreResult } from '../sim/race/explore.ts';
import { formatPicks } from '../sim/race/schedule.ts';
import { parseScenario } from '../sim/scenario/parse.ts';
import { runStatements } from '../sim/scenario/run.ts';
import { Simulator } from '../sim/simulator.ts';
import { readTrace } from '../sim/trace/read-trace.ts';
import { TraceRebuild, type TraceSummary } from '../sim/trace/rebuild.ts';

const USAGE = `usage: npm run sim -- FILE [--kernel ${KERNELS.join('|')}] [--json] [--trace] [--explore [--max N]]
       npm run sim -- --import-trace FILE [--json]
  FILE      a .tdp scenario; - reads standard input
  --import-trace  read trace-cmd report / tracefs text and print the paging structure it implies
  --kernel  run under this kernel's profile, whatever the script's vm kernel= says
  --json    print the kernel, the final stats and the counters as one JSON object
  --trace   print one kvm_tdp_mmu_spte_changed line per SPTE change first
  --explore run every schedule of each race block with the invariants checked after every step;
            print its final states and violations, each with a schedule= that reproduces it
  --max     stop exploring a race after N runs (default ${DEFAULT_MAX_RUNS})`;

interface Args {
  flags: Set<string>;
  files: string[];
  kernel: KernelId | undefined;
  max: number;
}

/** Options and files; `--kernel V` and `--kernel=V` both work. A string is a problem to report. */
function parseArgs(argv: string[]): Args | string {
  const flags = new Set<string>();
  const files: string[] = [];
  let kernel: KernelId | undefined;
  let max = DEFAULT_MAX_RUNS;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] ?? '';
    if (a === '--max' || a.startsWith('--max=')) {
      const v = a === '--max' ? argv[++i] : a.slice('--max='.length);
      if (v === undefined || !/^[1-9][0-9]{0,8}$/.test(v)) {
        return `--max needs a whole number of runs from 1 to 999999999${v === undefined ? '' : `, not '${v.slice(0, 20)}'`}`;
      }
      max = Number(v);
    } else if (a === '--kernel' || a.startsWith('--kernel=')) {
      const v = a === '--kernel' ? argv[++i] : a.slice('--kernel='.length);
      if (v === undefined || !isKernel(v)) {
        return `--kernel needs one of ${KERNELS.join(', ')}${v === undefined ? '' : `, not '${v}'`}`;
      }
      kernel = v;
    } else if (a.startsWith('--')) {
      if (!['--json', '--trace', '--help', '--explore', '--import-trace'].includes(a)) {
        return `unknown option ${a.slice(0, 40)}`;
      }
      flags.add(a);
    } else {
      files.push(a);
    }
  }
  if (max !== DEFAULT_MAX_RUNS && !flags.has('--explore')) return '--max goes with --explore';
  return { flags, files, kernel, max };
}

/** `race at line L: N schedules, F final states, V violations`, then a schedule= for each. */
function exploreReport(r: ExploreResult, out: (s: string) => void): void {
  const plural = (n: number | bigint, w: string) => `${n} ${w}${n === 1 || n === 1n ? '' : 's'}`;
  out(
    `race at line ${r.line}: ${r.complete ? '' : 'at least '}${plural(r.schedules, 'schedule')}, ` +
      `${plural(r.finals.length, 'final state')}, ${plural(r.violations.length, 'violation')}`,
  );
  for (const f of r.finals) out(`  schedule=${formatPicks(f.picks) || '0'}  # ${f.summary}`);
  for (const v of r.violations) {
    out(`  violation after point ${v.point}: ${v.message}`);
    out(`    schedule=${formatPicks(v.picks) || '0'}`);
  }
  const cut = r.complete ? '' : ` (stopped at --max ${r.runs}: not every schedule was run)`;
  out(`  explored ${r.states} states in ${r.runs} runs, ${(r.ms / 1000).toFixed(2)} s${cut}`);
}

export function main(argv: string[], out: (s: string) => void, err: (s: string) => void): number {
  const args = parseArgs(argv);
  if (typeof args === 'string') {
    err(`${args}\n${USAGE}`);
    return 2;
  }
  const { flags, files } = args;
  if (flags.has('--help')) {
    out(USAGE);
    return 0;
  }
  const file = files[0];
  if (files.length !== 1 || file === undefined) {
    err(USAGE);
    return 2;
  }
  let text: string;
  try {
    text = readFileSync(file === '-' ? 0 : file, 'utf8');
  } catch (e) {
    err(`${file}: cannot read: ${(e as Error).message}`);
    return 2;
  }
  const name = file === '-' ? '<stdin>' : file;
  if (flags.has('--import-trace')) return importTrace(name, text, flags.has('--json'), out, err);

  const parsed = parseScenario(text);
  if (parsed.errors.length > 0) {
    for (const e of parsed.errors) err(`${name}:${e.line}:${e.col}: ${e.message}`);
    return 2;
  }
  // --kernel wins over the script's own vm kernel=.
  const override = args.kernel;
  const statements = override
    ? parsed.statements.map((st) => (st.kind === 'vm' ? { ...st, kernel: override } : st))
    : parsed.statements;
  if (flags.has('--explore')) {
    let broken = false;
    let races = 0;
    statements.forEach((st, i) => {
      if (st.kind !== 'race') return;
      races++;
      const r = exploreRace(statements, i, { max: args.max });
      exploreReport(r, out);
      if (r.violations.length > 0) broken = true;
    });
    if (races === 0) out(`${name}: no race block to explore`);
    return broken ? 1 : 0;
  }
  const run = runStatements(statements, new Simulator(override ? { kernel: override } : {}));
  const kvm = run.sim.kvm;

  if (flags.has('--trace')) {
    const spOf = (id: number) => kvm.sp(id);
    for (let i = 0; i < kvm.log.length; i++) {
      const line = tracepointLine(decodeEvent(kvm.log, i, spOf));
      if (line) out(line);
    }
  }

  const reportFailures = (): void => {
    for (const f of run.failures) {
      err(`${name}:${f.line}:${f.col}: expect ${f.name}=${f.expected} failed: actual ${f.actual}`);
    }
  };
  if (run.error) {
    // What failed before the refusal is still news.
    reportFailures();
    err(`${name}:${run.error.line}:${run.error.col}: ${run.error.message}`);
    err(`${name}: stopped at line ${run.error.line}; that statement changed nothing`);
    return 2;
  }

  const kernel = run.sim.profile.kernel;
  // The 6.x vCPU stats do not exist in 5.x kernels: not printed as zeros there.
  const names = EXPECT_NAMES.filter(
    (n) => run.sim.profile.vcpuStats6 || !(VCPU_STATS_6 as readonly string[]).includes(n),
  );
  const values = Object.fromEntries(names.map((n) => [n, run.sim.value(n)]));
  if (flags.has('--json')) {
    out(JSON.stringify({ kernel, ...values }));
  } else {
    const width = Math.max(...names.map((n) => n.length));
    out(`${'kernel'.padEnd(width)}  ${kernel}`);
    for (const [n, v] of Object.entries(values)) out(`${n.padEnd(width)}  ${v}`);
  }

  reportFailures();
  return run.failures.length > 0 ? 1 : 0;
}

/** `--import-trace`: the structure a trace implies, as a summary or one JSON object. */
function importTrace(
  name: string,
  text: string,
  json: boolean,
  out: (s: string) => void,
  err: (s: string) => void,
): number {
  const read = readTrace(text);
  if (read.records.length === 0) {
    const bad = read.firstBad;
    err(
      bad
        ? `${name}:${bad.line}: ${bad.message}`
        : `${name}: no trace line here: expected trace-cmd report or tracefs text with kvmmmu events`,
    );
    return 2;
  }
  const s: TraceSummary = TraceRebuild.of(read).summary();
  if (json) {
    out(JSON.stringify(s));
    return 0;
  }
  const skipped = Object.entries(s.skipped).sort((a, b) => b[1] - a[1]);
  out(
    `${name}: ${read.lines} lines, ${s.spte_changes} SPTE changes (SPTE encoding of kernel ${s.kernel === '6.18' ? '6.10+' : 'before 6.10'}, ${s.levels}-level)`,
  );
  out(`leaves   4K ${s.leaves['4k']}  2M ${s.leaves['2m']}  1G ${s.leaves['1g']}`);
  out(
    `tables   ${s.tables} linked at the end, ${s.roots} root${s.roots === 1 ? '' : 's'} mapping something`,
  );
  out(
    `inferred ${s.inferred_tables} table${s.inferred_tables === 1 ? '' : 's'} met before the trace showed them whole`,
  );
  if (s.ambiguous > 0)
    out(
      `ambiguous ${s.ambiguous} changes fit more than one table (the most recently used was chosen)`,
    );
  if (s.mismatches > 0)
    out(`mismatches ${s.mismatches} old_spte values disagree with what the trace showed before`);
  if (s.lost_events > 0)
    out(`lost     ${s.lost_events} events: the structure after the loss is uncertain`);
  if (skipped.length > 0) out(`skipped  ${skipped.map(([k, v]) => `${k} ${v}`).join(', ')}`);
  return 0;
}

export const EXIT_WRITE_ERROR = 3;

/** A failed write to standard output: a closed pipe ends quietly (0), anything else is one line and exit 3. */
export function writeFailure(e: NodeJS.ErrnoException): { code: number; message: string | null } {
  if (e.code === 'EPIPE') return { code: 0, message: null };
  return {
    code: EXIT_WRITE_ERROR,
    message: `tdpviz: cannot write the output (${e.code ?? 'error'}: ${e.message.split('\n')[0] ?? ''})`,
  };
}
