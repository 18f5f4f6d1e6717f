// The headless runner behind `npm run sim -- FILE [--json] [--trace]` (FILE `-` reads stdin).
// Exit 0 when every expect holds, 1 when one fails, 2 when the script is malformed or refused.
import { readFileSync } from 'node:fs';
import { decodeEvent } from '../sim/events.ts';
import { tracepointLine } from '../sim/explain.ts';
import { EXPECT_NAMES } from '../sim/names.ts';
import { parseScenario } from '../sim/scenario/parse.ts';
import { runStatements } from '../sim/scenario/run.ts';

const USAGE = `usage: npm run sim -- FILE [--json] [--trace]
  FILE     a .tdp scenario; - reads standard input
  --json   print the final stats and counters as one JSON object
  --trace  print one kvm_tdp_mmu_spte_changed line per SPTE change first`;

export function main(argv: string[], out: (s: string) => void, err: (s: string) => void): number {
  const flags = new Set(argv.filter((a) => a.startsWith('--')));
  const files = argv.filter((a) => !a.startsWith('--') || a === '-');
  for (const f of flags) {
    if (f !== '--json' && f !== '--trace' && f !== '--help') {
      err(`unknown option ${f}\n${USAGE}`);
      return 2;
    }
  }
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
  const run = runStatements(parsed.statements);
  const kvm = run.sim.kvm;

  if (flags.has('--trace')) {
    const spOf = (id: number) => kvm.sp(id);
    for (let i = 0; i < kvm.log.length; i++) {
      const line = tracepointLine(decodeEvent(kvm.log, i, spOf));
      if (line) out(line);
    }
  }

  if (run.error) {
    err(`${name}:${run.error.line}:${run.error.col}: ${run.error.message}`);
    err(`${name}: stopped at line ${run.error.line}; that statement changed nothing`);
    return 2;
  }

  const values = Object.fromEntries(EXPECT_NAMES.map((n) => [n, run.sim.value(n)]));
  if (flags.has('--json')) {
    out(JSON.stringify(values));
  } else {
    const width = Math.max(...EXPECT_NAMES.map((n) => n.length));
    for (const [n, v] of Object.entries(values)) out(`${n.padEnd(width)}  ${v}`);
  }

  for (const f of run.failures) {
    err(`${name}:${f.line}:${f.col}: expect ${f.name}=${f.expected} failed: actual ${f.actual}`);
  }
  return run.failures.length > 0 ? 1 : 0;
}
