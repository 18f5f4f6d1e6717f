// `npm run bench`: fault a 4 GiB memslot in at 4K with every event recorded, then zap it all, and
// print what it cost; then one NX recovery run over 100k accounted tables, walk and direct; then
// the explorer over every race of the presets; then a 1M-line trace-cmd report imported.
// A benchmark that prints figures, not a timed test. `--write-trace FILE` only writes that trace
// (the browser benchmark imports it); `--faults-only` stops after the first part.
import { readFileSync, writeFileSync } from 'node:fs';
import type { ZapStrategy } from '../sim/names.ts';
import { PRESETS } from '../sim/presets.ts';
import { exploreRace } from '../sim/race/explore.ts';
import { parseScenario } from '../sim/scenario/parse.ts';
import { Simulator } from '../sim/simulator.ts';
import { decodeEvent } from '../sim/events.ts';
import { tracepointLine } from '../sim/explain.ts';
import { readTrace } from '../sim/trace/read-trace.ts';
import { TraceRebuild } from '../sim/trace/rebuild.ts';
import { floorFaultIn, floorSptesOf, type FloorVolume } from './floor.ts';

const GIB = 2 ** 30;
const base = (4 * GIB) / 4096;
const npages = (4 * GIB) / 4096;

/** The bare floor's ns per fault over the same pages: the median of three runs. */
function floorNsPerFault(sim: Simulator, volume?: FloorVolume): number {
  const sptes = floorSptesOf(sim.kvm, base);
  const runs: number[] = [];
  for (let k = 0; k < 3; k++) {
    const t0 = process.hrtime.bigint();
    floorFaultIn(base, npages, sim.kvm.rootLevel, sptes, volume);
    runs.push(Number(process.hrtime.bigint() - t0) / npages);
  }
  return runs.sort((a, b) => a - b)[1] as number;
}

function run(): void {
  const mem = () => process.memoryUsage().heapUsed + process.memoryUsage().arrayBuffers;
  const probe = new Simulator({ nxHugePages: true });
  probe.memslot(base, npages, 1);
  probe.fault(base, 'write');
  const floorNs = floorNsPerFault(probe);
  const heap0 = mem();
  const sim = new Simulator({ nxHugePages: true });
  sim.memslot(base, npages, 1);

  const t0 = process.hrtime.bigint();
  for (let i = 0; i < npages; i++) sim.fault(base + i, 'write');
  const t1 = process.hrtime.bigint();
  const writesAfterFaults = sim.counters().spte_writes;
  const eventsAfterFaults = sim.kvm.log.length;

  sim.zapGfnRange(base, base + npages, 'subtrees');
  const t2 = process.hrtime.bigint();

  const c = sim.counters();
  const log = sim.kvm.log;
  const faultNs = Number(t1 - t0);
  const zapNs = Number(t2 - t1);
  const zapWrites = c.spte_writes - writesAfterFaults;
  const heap1 = mem();
  // Read before the floor below allocates its own 300 MB.
  const peakRss = process.resourceUsage().maxRSS / 1024;
  // The same floor writing as many 32-byte records per fault as the core's log holds.
  const perFault = Math.round(eventsAfterFaults / c.faults);
  const volumeNs = floorNsPerFault(probe, { words: 8, extraPerFault: perFault - 1 });
  const fmt = (n: number, d = 1) => n.toFixed(d).padStart(12);

  console.log('tdpviz benchmark: 4 GiB memslot, 4K backing, NX huge pages on, events recorded');
  console.log(`faults                 ${String(c.faults).padStart(12)}`);
  console.log(`fault-in time      ms  ${fmt(faultNs / 1e6)}`);
  console.log(`ns per fault           ${fmt(faultNs / c.faults)}`);
  console.log(
    `floor ns per fault     ${fmt(floorNs)}   (typed-array walk + write + one 16-byte event per SPTE write)`,
  );
  console.log(`core / floor           ${fmt(faultNs / c.faults / floorNs, 2)}   (target <= 2)`);
  console.log(
    `floor + log volume ns  ${fmt(volumeNs)}   (the floor writing ${perFault} records of 32 B per fault, as the core's log does)`,
  );
  console.log(`zap time           ms  ${fmt(zapNs / 1e6)}`);
  console.log(`SPTE changes           ${String(c.spte_writes).padStart(12)}`);
  console.log(
    `ns per SPTE change     ${fmt((faultNs + zapNs) / c.spte_writes)}   (fault-in ${(faultNs / writesAfterFaults).toFixed(1)}, zap ${(zapNs / zapWrites).toFixed(1)})`,
  );
  console.log(
    `events recorded        ${String(log.length).padStart(12)}   (${eventsAfterFaults} during fault-in)`,
  );
  console.log(`events per fault       ${fmt(eventsAfterFaults / c.faults, 2)}`);
  console.log(
    `bytes per event        ${fmt(log.byteLength / log.length)}   (typed-array log, allocated bytes / events)`,
  );
  console.log(
    `memory growth      MB  ${fmt((heap1 - heap0) / 2 ** 20)}   (heap + typed arrays: tables, log)`,
  );
  console.log(
    `peak RSS           MB  ${fmt(peakRss)}   (the whole process, at the end of the zap)`,
  );
  console.log(`pages_4k after zap     ${String(sim.stats().pages_4k).padStart(12)}`);
  const target = faultNs / c.faults <= 2 * floorNs && log.byteLength / log.length <= 64;
  console.log(`targets (<= 2x the floor per fault, <= 64 B/event): ${target ? 'met' : 'NOT met'}`);
}

/** Exec faults on `n` 2M frames of a 2M-backed slot (n NX-split tables), then one recovery run. */
function recovery(n: number, strategy: ZapStrategy): void {
  const sim = new Simulator({ kernel: '5.18', recoveryRatio: 1 });
  const frames = 512;
  sim.memslot(base, n * frames, 2);
  for (let i = 0; i < n; i++) sim.fault(base + i * frames, 'exec');
  const accounted = sim.stats().nx_lpage_splits;
  const t0 = process.hrtime.bigint();
  const r = sim.recoverNx(strategy);
  const ns = Number(process.hrtime.bigint() - t0);
  console.log(
    `recover_nx ${strategy.padEnd(6)} ${String(accounted).padStart(7)} tables  ${(ns / 1e6).toFixed(1).padStart(9)} ms  ${(ns / r.iterations).toFixed(0).padStart(7)} ns per table  (${r.zapped} zapped)`,
  );
}

/** The explorer on every race of the presets: schedules, states, runs and time. */
function explorePresets(): void {
  for (const p of PRESETS) {
    const { statements } = parseScenario(readFileSync(`public/presets/${p.file}`, 'utf8'));
    statements.forEach((st, i) => {
      if (st.kind !== 'race') return;
      const r = exploreRace(statements, i);
      console.log(
        `explore ${p.file}:${st.line}  ${String(r.schedules).padStart(10)} schedules  ${r.finals.length} final states  ${r.violations.length} violations  ${String(r.states).padStart(6)} states  ${String(r.runs).padStart(6)} runs  ${(r.ms / 1000).toFixed(2)} s`,
      );
    });
  }
}

/** A trace-cmd report of ~1M SPTE changes: 4 GiB faulted in at 4K on two vCPU tasks. */
function reportText(): string {
  const sim = new Simulator({ nxHugePages: true });
  sim.memslot(base, npages, 1);
  for (let i = 0; i < npages; i++) sim.fault(base + i, 'write');
  const kvm = sim.kvm;
  const lines: string[] = ['version = 6', 'cpus=2'];
  let n = 0;
  for (let i = 0; i < kvm.log.length; i++) {
    const l = tracepointLine(decodeEvent(kvm.log, i, (id) => kvm.sp(id)));
    if (!l) continue;
    const cpu = (n >> 10) & 1;
    const ts = (1000 + n * 0.000004).toFixed(6);
    lines.push(`  CPU ${cpu}/KVM-${4242 + cpu} [00${cpu}] ${ts}: ${l.replace(': ', ':   ')}`);
    n++;
  }
  return lines.join('\n') + '\n';
}

/** The report above, imported. */
function importTrace(): void {
  const text = reportText();
  const t0 = process.hrtime.bigint();
  const read = readTrace(text);
  const t1 = process.hrtime.bigint();
  const r = TraceRebuild.of(read);
  const t2 = process.hrtime.bigint();
  const s = r.summary();
  const readS = Number(t1 - t0) / 1e9;
  const rebuildS = Number(t2 - t1) / 1e9;
  console.log(
    `import-trace ${String(read.lines).padStart(8)} lines (${(text.length / 2 ** 20).toFixed(0)} MiB)  read ${readS.toFixed(2)} s  rebuild ${rebuildS.toFixed(2)} s  ${Math.round(read.lines / (readS + rebuildS)).toLocaleString('en-US')} lines/s  ${r.kvm.log.length} events  4K leaves ${s.leaves['4k']}`,
  );
}

const writeAt = process.argv.indexOf('--write-trace');
if (writeAt >= 0) {
  const file = process.argv[writeAt + 1];
  if (!file) throw new Error('--write-trace needs a file name');
  writeFileSync(file, reportText());
  process.exit(0);
}
run();
// `--faults-only`: the fault-in and zap figures alone (quick to repeat while tuning the core).
if (process.argv.includes('--faults-only')) process.exit(0);
for (const strategy of ['walk', 'direct'] as const) recovery(100_000, strategy);
explorePresets();
importTrace();
