import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PRESETS } from '../sim/presets.ts';
import { main, writeFailure } from './sim.ts';

const dir = mkdtempSync(join(tmpdir(), 'tdpviz-cli-'));
function script(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}
function run(...argv: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = main(
    argv,
    (s) => out.push(s),
    (s) => err.push(s),
  );
  return { code, out, err };
}

const NX = `memslot gpa=0x100000000 size=6M backing=2M
access gpa=0x100000000 type=read
access gpa=0x100000000 type=exec
`;

describe('npm run sim', () => {
  it('prints the final stats and counters and exits 0 when every expect holds', () => {
    const r = run(script('ok.tdp', `${NX}expect pages_2m=0 nx_lpage_splits=1 pages_4k=1\n`));
    expect(r.code).toBe(0);
    expect(r.out).toContain('nx_lpage_splits     1');
    expect(r.out.some((l) => /^spte_reads\s+\d+$/.test(l))).toBe(true);
    expect(r.err).toEqual([]);
  });

  it('--kernel overrides the script and --json reports it with the 6.x vCPU stats', () => {
    const file = script('k.tdp', `vm kernel=5.16\n${NX}`);
    const plain = run(file, '--json');
    expect(JSON.parse(plain.out[0] ?? '')).toMatchObject({ kernel: '5.16', pages_4k: 1 });
    expect(JSON.parse(plain.out[0] ?? '')).not.toHaveProperty('pf_taken');
    const six = run(file, '--kernel', '6.18', '--json');
    // 6.18 splits the 2M leaf in place: 512 executable 4K leaves, and the fault is spurious.
    expect(JSON.parse(six.out[0] ?? '')).toMatchObject({
      kernel: '6.18',
      pages_4k: 512,
      pages_2m: 0,
      nx_lpage_splits: 1,
      pf_taken: 2,
      pf_spurious: 1,
    });
    expect(run(file, '--kernel=5.18').out[0]).toMatch(/^kernel\s+5\.18$/);
    const bad = run(file, '--kernel', '6.1');
    expect(bad.code).toBe(2);
    expect(bad.err[0]?.split('\n')[0]).toBe("--kernel needs one of 5.16, 5.18, 6.18, not '6.1'");
  });

  it('--json prints one JSON object with every stat and counter', () => {
    const r = run(script('json.tdp', NX), '--json');
    expect(r.out).toHaveLength(1);
    expect(JSON.parse(r.out[0] ?? '')).toMatchObject({
      pages_4k: 1,
      pages_2m: 0,
      nx_lpage_splits: 1,
      faults: 2,
    });
  });

  it('--trace prints kvm_tdp_mmu_spte_changed lines for the handled changes only', () => {
    const r = run(script('trace.tdp', NX), '--trace', '--json');
    const trace = r.out.slice(0, -1);
    expect(trace).toEqual([
      'kvm_tdp_mmu_spte_changed: as id 0 gfn 0 level 4 old_spte 0 new_spte 10001907',
      'kvm_tdp_mmu_spte_changed: as id 0 gfn 100000 level 3 old_spte 0 new_spte 10002907',
      'kvm_tdp_mmu_spte_changed: as id 0 gfn 100000 level 2 old_spte 0 new_spte 600004000000bf3',
      'kvm_tdp_mmu_spte_changed: as id 0 gfn 100000 level 2 old_spte 600004000000bf3 new_spte 5a0',
      'kvm_tdp_mmu_spte_changed: as id 0 gfn 100000 level 2 old_spte 0 new_spte 10003907',
      'kvm_tdp_mmu_spte_changed: as id 0 gfn 100000 level 1 old_spte 0 new_spte 600004000000b77',
    ]);
  });

  it('exits 1 naming the line, the stat, expected and actual when an expect fails', () => {
    const path = script('fail.tdp', `${NX}expect pages_2m=1\n`);
    const r = run(path);
    expect(r.code).toBe(1);
    expect(r.err).toEqual([`${path}:4:8: expect pages_2m=1 failed: actual 0`]);
  });

  it('exits 2 with FILE:LINE:COL for a malformed script, and runs nothing', () => {
    const path = script('bad.tdp', `${NX}acess gpa=0x1000\nshatter gpa=0x1000 level=4\n`);
    const r = run(path);
    expect(r.code).toBe(2);
    expect(r.out).toEqual([]);
    expect(r.err[0]).toMatch(
      new RegExp(`^${path}:4:1: unknown statement 'acess'; did you mean 'access'\\?`),
    );
    expect(r.err[1]).toMatch(new RegExp(`^${path}:5:20: shatter level must be 2 or 3`));
  });

  it('exits 2 naming the statement the model refused, which changed nothing', () => {
    const path = script('refused.tdp', `${NX}zap_sp gpa=0x200000000 level=1\n`);
    const r = run(path);
    expect(r.code).toBe(2);
    expect(r.err[0]).toBe(
      `${path}:4:1: no table with role.level=1 covers gfn 0x200000 (range 0x200000+0x200)`,
    );
  });

  it('still reports an expect that failed before a statement the model refused', () => {
    const path = script(
      'failed-then-refused.tdp',
      `${NX}expect pages_2m=1\nzap_sp gpa=0x200000000 level=1\n`,
    );
    const r = run(path);
    expect(r.code).toBe(2);
    expect(r.err).toEqual([
      `${path}:4:8: expect pages_2m=1 failed: actual 0`,
      `${path}:5:1: no table with role.level=1 covers gfn 0x200000 (range 0x200000+0x200)`,
      `${path}: stopped at line 5; that statement changed nothing`,
    ]);
  });

  it('a write error is one line and exit 3; a closed pipe ends quietly', () => {
    const full = Object.assign(new Error('no space left on device, write\n    at x'), {
      code: 'ENOSPC',
    });
    expect(writeFailure(full)).toEqual({
      code: 3,
      message: 'tdpviz: cannot write the output (ENOSPC: no space left on device, write)',
    });
    expect(writeFailure(Object.assign(new Error('broken pipe'), { code: 'EPIPE' }))).toEqual({
      code: 0,
      message: null,
    });
  });

  it('reads standard input with -, through the real entry point and exit code', () => {
    const r = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', '-', '--json'], {
      input: `${NX}expect pages_2m=5\n`,
      encoding: 'utf8',
    });
    expect(r.status).toBe(1);
    expect(JSON.parse(r.stdout)).toMatchObject({ pages_4k: 1, nx_lpage_splits: 1 });
    expect(r.stderr).toBe('<stdin>:4:8: expect pages_2m=5 failed: actual 0\n');
  });

  it('rejects an unknown option and a missing file with a usage message', () => {
    expect(run('--frobnicate', 'x.tdp').code).toBe(2);
    const missing = run(join(dir, 'nope.tdp'));
    expect(missing.code).toBe(2);
    expect(missing.err[0]).toMatch(/nope\.tdp: cannot read/);
  });

  it('runs every preset to the end with all of its expects holding', () => {
    const files = readdirSync('public/presets').filter((f) => f.endsWith('.tdp'));
    expect(files.sort()).toEqual(PRESETS.map((p) => p.file).sort());
    for (const p of PRESETS) {
      const r = run(join('public/presets', p.file));
      expect({ preset: p.file, code: r.code, err: r.err }).toEqual({
        preset: p.file,
        code: 0,
        err: [],
      });
    }
  });
});

describe('npm run sim -- FILE --explore', () => {
  const race = (recover: string) => `vm kernel=6.18 vcpus=2 recovery_ratio=1
memslot gpa=0x100000000 size=2M backing=2M
access vcpu=0 gpa=0x100000000 type=exec
race
  vcpu1: access gpa=0x100001000 type=read
  recovery: ${recover}
end
`;

  it('prints one line per race, a schedule= per final state, and exits 0 with no violation', () => {
    const r = run(script('race.tdp', race('recover_nx')), '--explore');
    expect(r.code).toBe(0);
    expect(r.out[0]).toMatch(/^race at line 4: \d+ schedules, 2 final states, 0 violations$/);
    expect(r.out.slice(1, 3).every((l) => /^ {2}schedule=[0-9*,]+ {2}# pages_4k=/.test(l))).toBe(
      true,
    );
    expect(r.out[3]).toMatch(/^ {2}explored \d+ states in \d+ runs, \d+\.\d\d s$/);
  });

  it('exits 1 and prints the schedule, the point and the invariant of each violation', () => {
    const r = run(script('whatif.tdp', race('recover_nx strategy=atomic check=off')), '--explore');
    expect(r.code).toBe(1);
    expect(r.out[0]).toMatch(/, 1 violation$/);
    const at = r.out.findIndex((l) => l.startsWith('  violation after point'));
    expect(r.out[at]).toMatch(/^ {2}violation after point \d+: recovery zapped the 2M leaf/);
    expect(r.out[at + 1]).toMatch(/^ {4}schedule=[0-9*,]+$/);
  });

  it('--max stops early and says so; malformed input and options exit 2', () => {
    const file = script('race2.tdp', race('recover_nx'));
    const r = run(file, '--explore', '--max', '3');
    expect(r.code).toBe(0);
    expect(r.out[0]).toMatch(/^race at line 4: at least \d+ schedules/);
    expect(r.out.at(-1)).toMatch(/stopped at --max 3: not every schedule was run/);
    expect(run(file, '--explore', '--max', '0').code).toBe(2);
    expect(run(file, '--max', '5').err[0]).toMatch(/^--max goes with --explore\n/);
    const bad = run(script('bad.tdp', 'race\n  recovery: recover_nx\n'), '--explore');
    expect(bad.code).toBe(2);
    expect(bad.err[0]).toMatch(/bad\.tdp:1:1: race at line 1 has no end/);
  });
});

describe('npm run sim -- --import-trace', () => {
  it('prints the structure a trace implies as one JSON object, its own --trace output included', () => {
    const traced = run(script('split.tdp', `${NX}`), '--trace');
    const lines = traced.out.filter((l) => l.startsWith('kvm_tdp_mmu_spte_changed'));
    const trace = script(
      'split.txt',
      [
        'CPU 0/KVM-1 [000] 1.0: kvm_exit: reason EPT_VIOLATION',
        'CPU:0 [LOST 2 EVENTS]',
        ...lines,
      ].join('\n'),
    );
    const r = run('--import-trace', trace, '--json');
    expect(r.err).toEqual([]);
    expect(r.code).toBe(0);
    const s = JSON.parse(r.out[0] ?? '{}') as Record<string, unknown>;
    // The NX split: the 2M leaf went, a 4K table with one exec leaf came (root, L3, L2, L1 tables).
    expect(s).toMatchObject({
      spte_changes: lines.length,
      leaves: { '4k': 1, '2m': 0, '1g': 0 },
      tables: 4,
      roots: 1,
      skipped: { kvm_exit: 1 },
      lost_events: 2,
    });
  });

  it('exits 2 naming the first line that looked like a trace line, when nothing reads', () => {
    const bad = script('bad.txt', 'Hi all,\n x-1 [000] 1.0: kvm_mmu_set_spte: gfn 1 spte zz\n');
    const r = run('--import-trace', bad);
    expect(r.code).toBe(2);
    expect(r.err).toEqual([
      `${bad}:2: kvm_mmu_set_spte: the payload does not read as the kernel prints it`,
    ]);
    const none = run('--import-trace', script('none.txt', 'vm levels=4\n'));
    expect(none.code).toBe(2);
    expect(none.err[0]).toMatch(/none\.txt: no trace line here/);
  });
});
