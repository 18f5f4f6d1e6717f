// The headless runner behind `npm run sim -- FILE [--kernel V] [--json] [--trace]` (FILE `-` reads
// stdin).
// Exit 0 when every expect holds, 1 when one fails, 2 when the script is malformed or refused,
// 3 when the output cannot be written.
import { readFileSync } from 'node:fs';
import { decodeEvent } from '../sim/events.ts';
import { tracepointLine } from '../sim/explain.ts';
import { EXPECT_NAMES, VCPU_STATS_6 } from '../sim/names.ts';
import { isKernel, KERNELS, type KernelId } from '../sim/profile.ts';
import { parseScenario } from '../sim/scenario/parse.ts';
import { runStatements } from '../sim/scenario/run.ts';
import { Simulator } from '../sim/simulator.ts';

const USAGE = `usage: npm run sim -- FILE [--kernel ${KERNELS.join('|')}] [--json] [--trace]
  FILE      a .tdp scenario; - reads standard input
  --kernel  run under this kernel's profile, whatever the script's vm kernel= says
  --json    print the kernel, the final stats and the counters as one JSON object
  --trace   print one kvm_tdp_mmu_spte_changed line per SPTE change first`;

interface Args {
  flags: Set<string>;
  files: string[];
  kernel: KernelId | undefined;
}

/** Options and files; `--kernel V` and `--kernel=V` both work. A string is a problem to report. */
function parseArgs(argv: string[]): Args | string {
  const flags = new Set<string>();
  const files: string[] = [];
  let kernel: KernelId | undefined;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] ?? '';
    if (a === '--kernel' || a.startsWith('--kernel=')) {
      const v = a === '--kernel' ? argv[++i] : a.slice('--kernel='.length);
      if (v === undefined || !isKernel(v)) {
        return `--kernel needs one of ${KERNELS.join(', ')}${v === undefined ? '' : `, not '${v}'`}`;
      }
      kernel = v;
    } else if (a.startsWith('--')) {
      if (a !== '--json' && a !== '--trace' && a !== '--help') return `unknown option ${a}`;
      flags.add(a);
    } else {
      files.push(a);
    }
  }
  return { flags, files, kernel };
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

export const EXIT_WRITE_ERROR = 3;

/** A failed write to standard output: a closed pipe ends quietly (0), anything else is one line and exit 3. */
export function writeFailure(e: NodeJS.ErrnoException): { code: number; message: string | null } {
  if (e.code === 'EPIPE') return { code: 0, message: null };
  return {
    code: EXIT_WRITE_ERROR,
    message: `tdpviz: cannot write the output (${e.code ?? 'error'}: ${e.message.split('\n')[0] ?? ''})`,
  };
}
