import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  EXPECT_NAMES,
  STRATEGIES,
  type FaultType,
  type ZapMode,
  type ZapStrategy,
} from '../names.ts';
import { KERNELS, type KernelId } from '../profile.ts';
import type { ParseError, Statement } from './ast.ts';
import { formatStatement, MAX_RANGE_PAGES, MAX_SCRIPT_PAGES, parseScenario } from './parse.ts';
import { STATEMENT_WORDS } from './schema.ts';

function parseOk(text: string): Statement[] {
  const r = parseScenario(text);
  expect(r.errors).toEqual([]);
  return r.statements;
}

function one(text: string): Statement {
  const statements = parseOk(text);
  expect(statements).toHaveLength(1);
  const [st] = statements;
  if (st === undefined) throw new Error('no statement');
  return st;
}

/** The single error `text` produces; the failing line must yield no statement. */
function errorOf(text: string): ParseError {
  const r = parseScenario(text);
  expect(r.errors).toHaveLength(1);
  const [e] = r.errors;
  if (e === undefined) throw new Error('no error');
  expect(r.statements.map((s) => s.line)).not.toContain(e.line);
  return e;
}

/** A statement with every line/col dropped, for comparing what it says rather than where. */
function content(st: Statement): unknown {
  return JSON.parse(
    JSON.stringify(st, (k, v: unknown) => (k === 'line' || k === 'col' ? undefined : v)),
  );
}

describe('parseScenario: statements', () => {
  it('fills in the default of every optional key', () => {
    const text = [
      'vm',
      'memslot gpa=0x100000000 size=6M',
      'access gpa=0x100000000',
      'fault gpa=0x100000000',
      'shatter gpa=0x100000000 level=2',
      'zap_sp gpa=0x100000000 level=1',
      'zap_gfn_range start=0x100000 end=0x100200',
      'invalidate_roots',
      'zap_invalidated_roots',
      'recover_nx',
      'expect pages_2m=1',
    ].join('\n');
    expect(parseOk(text)).toEqual([
      { kind: 'vm', line: 1, col: 1 },
      { kind: 'memslot', line: 2, col: 1, gfn: 0x100000, npages: 1536, backingLevel: 1 },
      { kind: 'access', line: 3, col: 1, gfn: 0x100000, type: 'read' },
      { kind: 'fault', line: 4, col: 1, gfn: 0x100000, type: 'read' },
      { kind: 'shatter', line: 5, col: 1, gfn: 0x100000, level: 2 },
      // No strategy or mode: the VM's kernel profile decides when the statement runs.
      { kind: 'zap_sp', line: 6, col: 1, gfn: 0x100000, level: 1 },
      { kind: 'zap_gfn_range', line: 7, col: 1, start: 0x100000, end: 0x100200 },
      { kind: 'invalidate_roots', line: 8, col: 1 },
      { kind: 'zap_invalidated_roots', line: 9, col: 1 },
      { kind: 'recover_nx', line: 10, col: 1 },
      {
        kind: 'expect',
        line: 11,
        col: 1,
        checks: [{ line: 11, col: 8, name: 'pages_2m', value: 1 }],
      },
    ]);
  });

  it('reads every key of every statement', () => {
    const text = [
      'vm levels=5 nx_huge_pages=off recovery_ratio=0 phys_bits=52',
      'memslot gpa=0x40000000 size=1G backing=1G',
      'access gpa=0x40001000 type=write',
      'fault gpa=0x40002000 type=exec',
      'shatter gpa=0x40000000 level=3',
      'zap_sp gpa=0x40000000 level=4 strategy=walk',
      'zap_gfn_range start=0x40000 end=0x80000 mode=subtrees',
      'recover_nx strategy=walk',
      'expect pages_1g=0 nx_lpage_splits=2 roots=1',
    ].join('\n');
    expect(parseOk(text).map(content)).toEqual([
      { kind: 'vm', levels: 5, nxHugePages: false, recoveryRatio: 0, physBits: 52 },
      { kind: 'memslot', gfn: 0x40000, npages: 0x40000, backingLevel: 3 },
      { kind: 'access', gfn: 0x40001, type: 'write' },
      { kind: 'fault', gfn: 0x40002, type: 'exec' },
      { kind: 'shatter', gfn: 0x40000, level: 3 },
      { kind: 'zap_sp', gfn: 0x40000, level: 4, strategy: 'walk' },
      { kind: 'zap_gfn_range', start: 0x40000, end: 0x80000, mode: 'subtrees' },
      { kind: 'recover_nx', strategy: 'walk' },
      {
        kind: 'expect',
        checks: [
          { name: 'pages_1g', value: 0 },
          { name: 'nx_lpage_splits', value: 2 },
          { name: 'roots', value: 1 },
        ],
      },
    ]);
  });

  it('keeps only the vm keys that were written', () => {
    expect(one('vm recovery_ratio=10')).toEqual({
      kind: 'vm',
      line: 1,
      col: 1,
      recoveryRatio: 10,
    });
    expect(Object.keys(one('vm nx_huge_pages=on'))).toEqual(['kind', 'line', 'col', 'nxHugePages']);
  });

  it('accepts on/off, true/false and 1/0 for nx_huge_pages', () => {
    const values = ['on', 'off', 'true', 'false', '1', '0', 'ON', 'False'].map((v) => {
      const st = one(`vm nx_huge_pages=${v}`);
      return st.kind === 'vm' ? st.nxHugePages : undefined;
    });
    expect(values).toEqual([true, false, true, false, true, false, true, false]);
  });

  it('maps backing sizes to levels, in either case', () => {
    const levels = ['4K', '2M', '1G', '4k', '2m', '1g'].map((b, i) => {
      const st = one(`memslot gpa=${i}G size=4K backing=${b}`);
      return st.kind === 'memslot' ? st.backingLevel : undefined;
    });
    expect(levels).toEqual([1, 2, 3, 1, 2, 3]);
  });
});

describe('parseScenario: work budgets', () => {
  it('refuses up front an access_range or a script over its page budget, naming the place', () => {
    const r = parseScenario(
      [
        'memslot gpa=0x100000000 size=64G backing=2M',
        'access_range gpa=0 size=0x400000000000 type=read',
        'access_range gpa=0x100000000 size=16G type=read',
        'access_range gpa=0x100000000 size=16G type=read',
        'access_range gpa=0x100000000 size=4K type=read',
      ].join('\n'),
    );
    expect(MAX_RANGE_PAGES * 2).toBe(MAX_SCRIPT_PAGES);
    expect(r.errors).toEqual([
      {
        line: 2,
        col: 20,
        message:
          'access_range size=0x400000000000 touches 17,179,869,184 pages; one access_range may touch at most 4,194,304 (16 GiB of 4K pages): its event log would need gigabytes',
      },
      {
        line: 5,
        col: 1,
        message:
          'access_range: with this one the script touches 8,388,609 pages; a script may touch at most 8,388,608 (32 GiB of 4K pages) in all',
      },
    ]);
    // Exactly at the budgets is fine.
    expect(r.statements.filter((st) => st.kind === 'access_range')).toHaveLength(2);
  });
});

describe('parseScenario: numbers and addresses', () => {
  it('reads decimal and 0x hex numbers', () => {
    expect(content(one('zap_gfn_range start=256 end=0x200'))).toMatchObject({
      start: 256,
      end: 512,
    });
    expect(content(one('zap_gfn_range start=0XfF end=0x1Ab'))).toMatchObject({
      start: 255,
      end: 427,
    });
  });

  it('reads sizes with K/M/G suffixes as binary multiples', () => {
    const npages = ['4K', '8k', '6M', '0x10M', '1G', '4g', '0x1000'].map((size) => {
      const st = one(`memslot gpa=0 size=${size}`);
      return st.kind === 'memslot' ? st.npages : undefined;
    });
    expect(npages).toEqual([1, 2, 1536, 4096, 262144, 1048576, 1]);
    expect(content(one('access gpa=4G'))).toMatchObject({ gfn: 0x100000 });
  });

  it('turns a gpa into its GFN, rounding down inside the page', () => {
    expect(content(one('access gpa=0x100000fff'))).toMatchObject({ gfn: 0x100000 });
    expect(content(one('shatter gpa=0x1234 level=2'))).toMatchObject({ gfn: 1 });
  });

  it('accepts gfn= wherever gpa= is accepted', () => {
    const text = [
      'memslot gfn=0x100000 size=2M',
      'access gfn=0x100000 type=write',
      'fault gfn=0x100001',
      'shatter gfn=0x100000 level=2',
      'zap_sp gfn=0x100000 level=1',
    ].join('\n');
    expect(parseOk(text).map((s) => ('gfn' in s ? s.gfn : undefined))).toEqual([
      0x100000, 0x100000, 0x100001, 0x100000, 0x100000,
    ]);
  });

  it('accepts the largest integer JavaScript represents exactly', () => {
    expect(content(one('expect faults=0x1fffffffffffff'))).toMatchObject({
      checks: [{ name: 'faults', value: Number.MAX_SAFE_INTEGER }],
    });
  });
});

describe('parseScenario: layout', () => {
  it('ignores comments and blank lines', () => {
    const text = [
      '# a scenario',
      '',
      '   ',
      'memslot gpa=0 size=2M # trailing comment',
      '\t# indented comment',
      'access gpa=0x1000#glued comment',
      'invalidate_roots #',
    ].join('\n');
    expect(parseOk(text).map((s) => [s.kind, s.line])).toEqual([
      ['memslot', 4],
      ['access', 6],
      ['invalidate_roots', 7],
    ]);
  });

  it('positions a statement at its word and each expect check at its name', () => {
    const [access, exp] = parseOk('  access gpa=0\n\texpect  faults=1 pages_4k=0\r\n');
    expect(access).toMatchObject({ line: 1, col: 3 });
    expect(exp).toMatchObject({
      line: 2,
      col: 2,
      checks: [
        { line: 2, col: 10, name: 'faults' },
        { line: 2, col: 19, name: 'pages_4k' },
      ],
    });
  });

  it('takes CRLF line endings', () => {
    expect(parseOk('vm\r\ninvalidate_roots\r\n').map((s) => s.kind)).toEqual([
      'vm',
      'invalidate_roots',
    ]);
  });

  it('collects errors from every line and still parses the good ones', () => {
    const r = parseScenario(
      ['acess gpa=0', 'access gpa=0', 'shatter gpa=0 level=1 bogus=1', 'recover_nx'].join('\n'),
    );
    expect(r.errors.map((e) => [e.line, e.col])).toEqual([
      [1, 1],
      [3, 23],
    ]);
    expect(r.statements.map((s) => [s.kind, s.line])).toEqual([
      ['access', 2],
      ['recover_nx', 4],
    ]);
  });
});

describe('parseScenario: syntax errors', () => {
  it('suggests the closest statement for a misspelt one', () => {
    const e = errorOf('vm\n  fualt gpa=0');
    expect(e).toMatchObject({ line: 2, col: 3 });
    expect(e.message).toBe("unknown statement 'fualt'; did you mean 'fault'?");
    expect(errorOf('zap_gfn_rnage start=0 end=1').message).toContain(
      "did you mean 'zap_gfn_range'",
    );
  });

  it('lists the statements when nothing is close to an unknown one', () => {
    const e = errorOf('frobnicate');
    expect(e).toMatchObject({ line: 1, col: 1 });
    expect(e.message).toContain("unknown statement 'frobnicate'");
    expect(e.message).toContain('memslot');
    expect(e.message).not.toContain('did you mean');
  });

  it('names the keys a statement takes and the closest one for an unknown key', () => {
    const e = errorOf('access gpa=0 tpye=write');
    expect(e).toMatchObject({ line: 1, col: 14 });
    expect(e.message).toBe(
      "unknown key 'tpye' for access (it takes gpa, gfn, type, vcpu); did you mean 'type'?",
    );
    const far = errorOf('memslot gpa=0 size=4K flavour=big');
    expect(far.col).toBe(23);
    expect(far.message).toContain('gpa, gfn, size, backing');
    expect(far.message).not.toContain('did you mean');
  });

  it('rejects keys on statements that take none', () => {
    const e = errorOf('invalidate_roots all=1');
    expect(e).toMatchObject({ line: 1, col: 18 });
    expect(e.message).toContain('invalidate_roots takes no keys');
  });

  it('rejects a pair without =', () => {
    const e = errorOf('access 0x1000');
    expect(e).toMatchObject({ line: 1, col: 8 });
    expect(e.message).toBe("expected key=value, found '0x1000'");
    expect(errorOf('access gpa = 0x1000').message).toContain("no spaces around '='");
  });

  it('rejects an empty value or an empty key', () => {
    const e = errorOf('access type=read gpa=');
    expect(e).toMatchObject({ line: 1, col: 18 });
    expect(e.message).toBe('gpa= has no value');
    expect(errorOf('access gpa= 0x1000').message).toContain("no spaces around '='");
    const noKey = errorOf('access =0x1000');
    expect(noKey).toMatchObject({ line: 1, col: 8 });
    expect(noKey.message).toContain('no key');
  });

  it('rejects a duplicate key', () => {
    const e = errorOf('access gpa=0 type=read type=write');
    expect(e).toMatchObject({ line: 1, col: 24 });
    expect(e.message).toBe("duplicate key 'type' (already given at column 14)");
  });

  it('rejects gpa= and gfn= together', () => {
    const e = errorOf('fault gfn=1 gpa=0x1000');
    expect(e).toMatchObject({ line: 1, col: 13 });
    expect(e.message).toContain('either gpa= or gfn=, not both');
  });

  it('points a missing required key at the statement word', () => {
    const cases: [string, string][] = [
      ['  memslot size=4K', 'memslot is missing gpa= (or gfn=)'],
      ['  memslot gpa=0', 'memslot is missing size='],
      ['  access type=read', 'access is missing gpa= (or gfn=)'],
      ['  fault', 'fault is missing gpa= (or gfn=)'],
      ['  shatter gpa=0', 'shatter is missing level='],
      ['  zap_sp gpa=0 strategy=walk', 'zap_sp is missing level='],
      ['  zap_sp level=1', 'zap_sp is missing gpa= (or gfn=)'],
      ['  zap_gfn_range end=1', 'zap_gfn_range is missing start='],
      ['  zap_gfn_range start=1', 'zap_gfn_range is missing end='],
    ];
    for (const [text, message] of cases) {
      expect(errorOf(text)).toEqual({ line: 1, col: 3, message });
    }
  });

  it('rejects expect without checks, with unknown names and with repeated names', () => {
    expect(errorOf('expect  # nothing')).toMatchObject({ line: 1, col: 1 });
    expect(errorOf('expect').message).toContain('at least one NAME=NUMBER');
    const typo = errorOf('expect faults=1 pages2m=0');
    expect(typo).toMatchObject({ line: 1, col: 17 });
    expect(typo.message).toBe("expect has no check 'pages2m'; did you mean 'pages_2m'?");
    const unknown = errorOf('expect widgets=3');
    for (const name of EXPECT_NAMES) expect(unknown.message).toContain(name);
    const dup = errorOf('expect roots=1 roots=2');
    expect(dup).toMatchObject({ line: 1, col: 16 });
    expect(dup.message).toContain("duplicate check 'roots'");
  });
});

describe('parseScenario: bad values', () => {
  it('rejects anything but a non-negative integer as a number, pointing at the key', () => {
    for (const v of ['1.5', '-1', '1e3', '0x', 'twelve', '12Q', '4KB', '0x1p3', '1_000']) {
      const e = errorOf(`access gpa=${v}`);
      expect(e.col).toBe(8);
      expect(e.message).toContain(`gpa=${v}: expected a non-negative integer`);
    }
  });

  it('rejects numbers above 2^53-1', () => {
    const e = errorOf('expect faults=0x20000000000000');
    expect(e.col).toBe(8);
    expect(e.message).toContain('too large');
    expect(errorOf('expect faults=8388608G').message).toContain('too large');
  });

  it('lists the allowed words for type, strategy, mode and backing', () => {
    expect(errorOf('access gpa=0 type=rw')).toEqual({
      line: 1,
      col: 14,
      message: "type must be read, write or exec, not 'rw'",
    });
    expect(errorOf('zap_sp gpa=0 level=1 strategy=fast').message).toBe(
      "strategy must be walk, direct or atomic, not 'fast'",
    );
    expect(errorOf('recover_nx strategy=WALK').col).toBe(12);
    expect(errorOf('zap_gfn_range start=0 end=1 mode=all').message).toBe(
      "mode must be leafs or subtrees, not 'all'",
    );
    const backing = errorOf('memslot gpa=0 size=2M backing=8M');
    expect(backing.col).toBe(23);
    expect(backing.message).toContain('backing must be 4K, 2M or 1G');
  });

  it('rejects bad vm values', () => {
    const levels = errorOf('vm levels=3');
    expect(levels.col).toBe(4);
    expect(levels.message).toContain('levels must be 4 or 5');
    expect(errorOf('vm nx_huge_pages=maybe').message).toContain('nx_huge_pages must be on or off');
    expect(errorOf('vm nx_huge_pages=constructor').col).toBe(4);
    expect(errorOf('vm recovery_ratio=-5').message).toContain('non-negative integer');
    for (const bits of ['31', '53']) {
      const e = errorOf(`vm levels=5 phys_bits=${bits}`);
      expect(e.col).toBe(13);
      expect(e.message).toContain('phys_bits must be 32 to 52');
    }
  });

  it('limits phys_bits to 48 under 4-level paging', () => {
    const e = errorOf('vm phys_bits=49');
    expect(e.col).toBe(4);
    expect(e.message).toContain('needs levels=5');
    expect(e.message).toContain('48 bits');
    expect(one('vm phys_bits=48')).toMatchObject({ physBits: 48 });
    expect(one('vm phys_bits=52 levels=5')).toMatchObject({ levels: 5, physBits: 52 });
    const back = errorOf('vm levels=5 phys_bits=52\nvm levels=4');
    expect(back).toMatchObject({ line: 2, col: 4 });
    expect(back.message).toContain('phys_bits=52 needs levels=5');
  });

  it('refuses levels=5 on a guest of 48 bits or less, and gives levels=5 alone 52 bits', () => {
    const e = errorOf('vm levels=5 phys_bits=48');
    expect(e.col).toBe(13);
    expect(e.message).toBe(
      "levels=5 with phys_bits=48: KVM uses 4-level EPT when the guest's MAXPHYADDR is 48 bits or less (kvm_mmu_get_tdp_level()); give phys_bits=49..52 or drop levels=5",
    );
    // levels=5 alone means phys_bits=52, so a GPA above 48 bits parses.
    expect(parseOk('vm levels=5\naccess gpa=0x8000000000000')).toHaveLength(2);
  });

  it('reads kernel=, names the kernels on a typo, and fixes it before the first operation', () => {
    expect(one('vm kernel=6.18')).toMatchObject({ kind: 'vm', kernel: '6.18' });
    const bad = errorOf('vm kernel=6.1');
    expect(bad).toMatchObject({ line: 1, col: 4 });
    expect(bad.message).toBe(
      "kernel must be 5.16, 5.18 or 6.18 (the kernel whose TDP MMU the VM follows), not '6.1'",
    );
    const late = errorOf('memslot gpa=0 size=4K\nvm kernel=6.18');
    expect(late).toMatchObject({ line: 2, col: 4 });
    expect(late.message).toContain('kernel cannot change after line 1 (memslot)');
    expect(formatStatement(one('vm kernel=5.16 levels=4'))).toBe('vm kernel=5.16 levels=4');
  });

  it('rejects memslots that are not whole, aligned pages', () => {
    const gpa = errorOf('memslot gpa=0x1800 size=4K');
    expect(gpa.col).toBe(9);
    expect(gpa.message).toBe(
      'memslot gpa 0x1800 is not 4 KiB aligned: a memslot starts on a page boundary',
    );
    for (const size of ['0', '6000', '2K']) {
      const e = errorOf(`memslot gpa=0 size=${size}`);
      expect(e.col).toBe(15);
      expect(e.message).toContain(`size=${size} is not a positive multiple of 4 KiB`);
    }
  });

  it('explains that only 2M and 1G leaves can be shattered', () => {
    for (const level of ['1', '4', '0']) {
      const e = errorOf(`shatter gpa=0 level=${level}`);
      expect(e.col).toBe(15);
      expect(e.message).toContain('shatter level must be 2 or 3');
      expect(e.message).toContain('4K leaf cannot be split');
      expect(e.message).toContain('never leaves');
    }
  });

  it('explains that zap_sp cannot zap the root or above', () => {
    const e = errorOf('zap_sp gpa=0 level=4');
    expect(e.col).toBe(14);
    expect(e.message).toContain('zap_sp level must be 1 to 3 with levels=4');
    expect(e.message).toContain('role.level=4 is the root');
    expect(errorOf('zap_sp gpa=0 level=0').message).toContain('1 to 3');
    expect(errorOf('vm levels=5\nzap_sp gpa=0 level=5').message).toContain('role.level=5');
    expect(parseOk('vm levels=5\nzap_sp gpa=0 level=4')).toHaveLength(2);
  });

  it('rejects an empty or reversed zap_gfn_range', () => {
    const e = errorOf('zap_gfn_range start=0x200 end=0x100');
    expect(e.col).toBe(15);
    expect(e.message).toBe(
      'start 0x200 must be below end 0x100: the GFN range [start, end) would be empty',
    );
    expect(errorOf('zap_gfn_range start=7 end=7').message).toContain('must be below end');
  });
});

describe('parseScenario: the VM config in effect', () => {
  it('refuses levels and phys_bits once an operation has run, saying why', () => {
    const e = errorOf('vm levels=5\nmemslot gpa=0 size=4K\n\nvm levels=5');
    expect(e).toMatchObject({ line: 4, col: 4 });
    expect(e.message).toBe(
      'levels cannot change after line 2 (memslot): the VM and its paging structure already exist',
    );
    const phys = errorOf('expect faults=0\nvm nx_huge_pages=off phys_bits=40');
    expect(phys).toMatchObject({ line: 2, col: 22 });
    expect(phys.message).toContain('phys_bits cannot change after line 1 (expect)');
  });

  it('counts a failed operation line as the first operation', () => {
    const r = parseScenario('access gpa=bad\nvm levels=5');
    expect(r.errors.map((e) => e.line)).toEqual([1, 2]);
  });

  it('lets nx_huge_pages and recovery_ratio change at any time', () => {
    const text = 'vm levels=4\naccess gpa=0\nvm nx_huge_pages=off recovery_ratio=0';
    expect(parseOk(text)[2]).toMatchObject({ nxHugePages: false, recoveryRatio: 0 });
  });

  it('checks GPAs and GFNs against the default 46-bit width', () => {
    expect(parseOk('access gpa=0x3fffffffffff\naccess gfn=0x3ffffffff')).toHaveLength(2);
    const e = errorOf('access gpa=0x1000000000000');
    expect(e).toMatchObject({ line: 1, col: 8 });
    expect(e.message).toBe(
      'gpa 0x1000000000000 is beyond the guest physical address width ' +
        '(phys_bits=46: GPAs below 0x400000000000)',
    );
    expect(errorOf('fault gfn=0x400000000').message).toBe(
      'gfn 0x400000000 is beyond the guest physical address width ' +
        '(phys_bits=46: GFNs below 0x400000000)',
    );
  });

  it('checks widths against levels=5 phys_bits=52', () => {
    const vm = 'vm levels=5 phys_bits=52\n';
    const ok = [
      'access gpa=0xfffffffffffff',
      'shatter gfn=0xffffffffff level=3',
      'zap_sp gpa=0xffffffffff000 level=4',
      'zap_gfn_range start=0 end=0x10000000000',
      'memslot gpa=0xfffffc0000000 size=1G',
    ].join('\n');
    expect(parseOk(vm + ok)).toHaveLength(6);
    expect(errorOf(vm + 'access gpa=0x10000000000000').message).toContain(
      'phys_bits=52: GPAs below 0x10000000000000',
    );
    expect(errorOf(vm + 'zap_sp gfn=0x10000000000 level=1').message).toContain(
      'GFNs below 0x10000000000',
    );
    const end = errorOf(vm + 'zap_gfn_range start=0 end=0x10000000001');
    expect(end).toMatchObject({ line: 2, col: 23 });
    expect(end.message).toContain('end 0x10000000001 is beyond the guest physical address width');
    const slot = errorOf(vm + 'memslot gpa=0xfffffc0000000 size=2G');
    expect(slot).toMatchObject({ line: 2, col: 29 });
    expect(slot.message).toBe(
      'memslot [0xfffffc0000000, 0x10000040000000) ends beyond the guest physical address width ' +
        '(phys_bits=52: GPAs below 0x10000000000000)',
    );
  });

  it('uses the width set by an earlier vm line, and ignores a vm line that failed', () => {
    expect(errorOf('vm phys_bits=32\naccess gpa=4G').message).toContain('phys_bits=32');
    const r = parseScenario('vm levels=5 phys_bits=99\naccess gpa=0x1000000000000');
    expect(r.errors.map((e) => e.line)).toEqual([1, 2]);
  });

  it('rejects a memslot that overlaps an earlier one, naming its line', () => {
    const text = 'memslot gpa=0x100000000 size=6M\n# gap\nmemslot gfn=0x1005ff size=8K';
    const e = errorOf(text);
    expect(e).toMatchObject({ line: 3, col: 9 });
    expect(e.message).toBe(
      'memslot [0x1005ff000, 0x100601000) overlaps the memslot at line 1 [0x100000000, 0x100600000)',
    );
    expect(parseOk('memslot gpa=0 size=2M\nmemslot gpa=2M size=2M')).toHaveLength(2);
    // A memslot line that failed to parse was never added, so nothing can overlap it.
    const r = parseScenario('memslot gpa=0 size=2M backing=3M\nmemslot gpa=0 size=2M');
    expect(r.errors.map((e) => e.line)).toEqual([1]);
  });
});

describe('formatStatement', () => {
  const canonical = [
    'vm',
    'vm levels=5 nx_huge_pages=off recovery_ratio=0 phys_bits=52',
    'vm nx_huge_pages=on',
    'memslot gpa=0x100000000 size=6M backing=2M',
    'memslot gpa=0x0 size=1G backing=1G',
    'memslot gpa=0x3000 size=12K backing=4K',
    'access gpa=0x100000000 type=read',
    'fault gpa=0x100001000 type=exec',
    'shatter gpa=0x100000000 level=2',
    'zap_sp gpa=0x100000000 level=1 strategy=walk',
    'zap_gfn_range start=0x100000 end=0x100200 mode=subtrees',
    'invalidate_roots',
    'zap_invalidated_roots',
    'recover_nx strategy=direct',
    'expect pages_2m=1 nx_lpage_splits=0',
  ];

  it('prints each statement kind in its canonical form', () => {
    // Each line stands alone: the memslots would overlap, and levels must precede operations.
    for (const text of canonical) expect(formatStatement(one(text))).toBe(text);
  });

  it('prints hex addresses and canonical key order whatever the input used', () => {
    const text = 'memslot backing=2m size=0x200000 gfn=256';
    expect(formatStatement(one(text))).toBe('memslot gpa=0x100000 size=2M backing=2M');
    expect(formatStatement(one('fault type=write gfn=16'))).toBe('fault gpa=0x10000 type=write');
    expect(formatStatement(one('access gpa=0x1fff'))).toBe('access gpa=0x1000 type=read');
    expect(formatStatement(one('vm phys_bits=40 nx_huge_pages=0'))).toBe(
      'vm nx_huge_pages=off phys_bits=40',
    );
  });

  it('round-trips every statement kind', () => {
    for (const text of canonical) {
      const st = one(text);
      expect(content(one(formatStatement(st)))).toEqual(content(st));
    }
  });

  it('round-trips random valid scripts', () => {
    const scripts = fc
      .oneof(
        fc.record({ levels: fc.constant<4 | 5>(4), physBits: fc.integer({ min: 32, max: 48 }) }),
        fc.record({ levels: fc.constant<4 | 5>(5), physBits: fc.integer({ min: 49, max: 52 }) }),
      )
      .chain(({ levels, physBits }) => {
        const maxGfn = 2 ** (physBits - 12);
        const gfn = fc.bigInt({ min: 0n, max: BigInt(maxGfn - 1) }).map(Number);
        const at = { line: 0, col: 0 };
        const kernel = fc.constantFrom<KernelId>(...KERNELS);
        const header = kernel.map((k): Statement => ({
          kind: 'vm',
          ...at,
          kernel: k,
          levels,
          physBits,
        }));
        // Memslots laid out upwards from `base` cannot overlap; all fit below 2^20 GFNs (32 bits).
        const memslots = fc
          .tuple(
            fc.integer({ min: 0, max: 2 ** 19 }),
            fc.array(
              fc.record({
                gap: fc.integer({ min: 0, max: 4096 }),
                npages: fc.integer({ min: 1, max: 4096 }),
                backingLevel: fc.integer({ min: 1, max: 3 }),
              }),
              { maxLength: 5 },
            ),
          )
          .map(([base, slots]) => {
            let next = base;
            return slots.map(({ gap, npages, backingLevel }): Statement => {
              const st: Statement = {
                kind: 'memslot',
                ...at,
                gfn: next + gap,
                npages,
                backingLevel,
              };
              next += gap + npages;
              return st;
            });
          });
        const faultType = fc.constantFrom<FaultType>('read', 'write', 'exec');
        const strategy = fc.option(fc.constantFrom<ZapStrategy>(...STRATEGIES), { nil: undefined });
        const op: fc.Arbitrary<Statement> = fc.oneof(
          fc
            .record(
              { nxHugePages: fc.boolean(), recoveryRatio: fc.maxSafeNat() },
              { requiredKeys: [] },
            )
            .map((keys): Statement => ({ kind: 'vm', ...at, ...keys })),
          fc
            .record({
              kind: fc.constantFrom<'access' | 'fault'>('access', 'fault'),
              gfn,
              type: faultType,
            })
            .map((r): Statement => ({ ...at, ...r })),
          fc
            .record({ gfn, level: fc.integer({ min: 2, max: 3 }) })
            .map((r): Statement => ({ kind: 'shatter', ...at, ...r })),
          fc
            .record({ gfn, level: fc.integer({ min: 1, max: levels - 1 }), strategy })
            .map(({ strategy: s, ...r }): Statement => ({
              kind: 'zap_sp',
              ...at,
              ...r,
              ...(s && { strategy: s }),
            })),
          fc
            .tuple(
              fc.bigInt({ min: 0n, max: BigInt(maxGfn) }).map(Number),
              fc.bigInt({ min: 0n, max: BigInt(maxGfn) }).map(Number),
              fc.option(fc.constantFrom<ZapMode>('leafs', 'subtrees'), { nil: undefined }),
            )
            .filter(([a, b]) => a !== b)
            .map(([a, b, mode]): Statement => ({
              kind: 'zap_gfn_range',
              ...at,
              start: Math.min(a, b),
              end: Math.max(a, b),
              ...(mode && { mode }),
            })),
          fc
            .constantFrom<'invalidate_roots' | 'zap_invalidated_roots'>(
              'invalidate_roots',
              'zap_invalidated_roots',
            )
            .map((kind): Statement => ({ kind, ...at })),
          strategy.map((s): Statement => ({
            kind: 'recover_nx',
            ...at,
            ...(s && { strategy: s }),
          })),
          fc
            .uniqueArray(fc.constantFrom(...EXPECT_NAMES), { minLength: 1, maxLength: 4 })
            .chain((names) =>
              fc.tuple(
                ...names.map((name) => fc.maxSafeNat().map((value) => ({ ...at, name, value }))),
              ),
            )
            .map((checks): Statement => ({ kind: 'expect', ...at, checks })),
        );
        return fc
          .tuple(header, memslots, fc.array(op, { maxLength: 12 }))
          .map(([head, slots, ops]) => [head, ...slots, ...ops]);
      });
    fc.assert(
      fc.property(scripts, (statements) => {
        const r = parseScenario(statements.map(formatStatement).join('\n'));
        expect(r.errors).toEqual([]);
        expect(r.statements.map(content)).toEqual(statements.map(content));
        expect(r.statements.map((s) => [s.line, s.col])).toEqual(
          statements.map((_, i) => [i + 1, 1]),
        );
      }),
    );
  });
});

describe('access_range', () => {
  it('parses a range of pages to touch, with its size in pages, and formats it back', () => {
    const r = parseScenario('access_range gpa=0x100000000 size=4G type=exec');
    expect(r.errors).toEqual([]);
    const st = r.statements[0];
    expect(st).toEqual({
      kind: 'access_range',
      line: 1,
      col: 1,
      gfn: 0x100000,
      npages: 0x100000,
      type: 'exec',
    });
    if (!st) throw new Error('no statement');
    expect(formatStatement(st)).toBe('access_range gpa=0x100000000 size=4G type=exec');
  });

  it('rejects a size that is not whole pages, and a range past the address width', () => {
    const r = parseScenario(
      'access_range gpa=0x1000 size=100\naccess_range gpa=0x3fffffff0000 size=1M',
    );
    expect(r.errors.map((e) => [e.line, e.col])).toEqual([
      [1, 25],
      [2, 33],
    ]);
    expect(r.errors[0]?.message).toMatch(/not a positive multiple of 4 KiB/);
    expect(r.errors[1]?.message).toMatch(/beyond the guest physical address width/);
  });
});

describe('parseScenario: hostile input', () => {
  it('takes a lone CR as a line end, as CRLF and LF', () => {
    const text =
      'memslot gpa=0x100000000 size=2M backing=2M\raccess gpa=0x100000000\rexpect pages_2m=1';
    const { statements, errors } = parseScenario(text);
    expect(errors).toEqual([]);
    expect(statements.map((s) => `${s.line}:${s.kind}`)).toEqual([
      '1:memslot',
      '2:access',
      '3:expect',
    ]);
    expect(
      parseScenario('invalidate_roots\r\n\rrecover_nx\n').statements.map((s) => s.line),
    ).toEqual([1, 3]);
  });

  it('shows control characters escaped and quotes at most 32 characters of a token', () => {
    const [nul] = parseScenario('acc\u0000ess gpa=0').errors;
    expect(nul?.message).toBe("unknown statement 'acc\\x00ess'; did you mean 'access'?");
    const [esc] = parseScenario('access gpa=\u001b[31m').errors;
    expect(esc?.message).toContain('gpa=\\x1b[31m: expected a non-negative integer');
    expect([...(esc?.message ?? '')].some((c) => c.charCodeAt(0) < 0x20)).toBe(false);
    const long = 'y'.repeat(100_000);
    const [big] = parseScenario(long).errors;
    expect(big?.message).toBe(
      `unknown statement '${'y'.repeat(32)}…' (statements: ${STATEMENT_WORDS.join(', ')})`,
    );
  });
});

describe('race blocks', () => {
  const HEAD = 'vm kernel=6.18 vcpus=2\nmemslot gpa=0x100000000 size=2M backing=2M';
  const errors = (body: string) =>
    parseScenario(`${HEAD}\n${body}`).errors.map((e) => `${e.line}:${e.col} ${e.message}`);

  it('reads the actors in order, with the schedule, the vCPU from the label and the end line', () => {
    const { statements, errors: errs } = parseScenario(
      `${HEAD}\nrace schedule=1,0*3\n  vcpu1: fault gpa=0x100000000 type=write\n  recovery: recover_nx check=off\nend`,
    );
    expect(errs).toEqual([]);
    expect(statements[2]).toEqual({
      kind: 'race',
      line: 3,
      col: 1,
      endLine: 6,
      schedule: { kind: 'list', picks: [1, 0, 0, 0] },
      actors: [
        {
          actor: 'vcpu1',
          line: 4,
          col: 3,
          statement: { kind: 'fault', line: 4, col: 10, gfn: 0x100000, type: 'write', vcpu: 1 },
        },
        {
          actor: 'recovery',
          line: 5,
          col: 3,
          statement: { kind: 'recover_nx', line: 5, col: 13, check: false },
        },
      ],
    });
  });

  it.each([
    ['race\n  vcpu1: access gpa=0x100000000', '3:1 race at line 3 has no end'],
    ['end', '3:1 end without a race block to close'],
    ['race\nend', '4:1 the race at line 3 has no actor lines'],
    [
      'race\n  access gpa=0x100000000\nend',
      '4:3 inside race … end each line starts with its actor',
    ],
    ['race\n  vcpu2: access gpa=0x100000000\nend', '4:3 vcpu2: the VM has vCPUs 0 to 1'],
    ['race\n  worker: zap_invalidated_roots\nend', "4:3 unknown actor 'worker'"],
    ['race\n  zapper: recover_nx\nend', '4:11 zapper runs zap_invalidated_roots, not recover_nx'],
    ['race\n  vcpu1: recover_nx\nend', '4:10 vcpu1 can race access or fault, not recover_nx'],
    ['race\n  recovery: access gpa=0x100000000\nend', '4:13 recovery runs recover_nx'],
    ['race\n  vcpu1: access gpa=0x100000000 vcpu=0\nend', '4:10 vcpu1: the line says vcpu=0'],
    [
      'race\n  recovery: recover_nx\n  recovery: recover_nx\nend',
      '5:3 recovery already races at line 4',
    ],
    ['race\n  race\nend', '4:3 a race cannot hold another race'],
    [
      'vcpu1: access gpa=0x100000000',
      "3:1 vcpu1: labels a line of a race block; there is no 'race' above",
    ],
    [
      'race schedule=0,2\n  recovery: recover_nx\nend',
      '3:1 schedule= names actor 2, but the race at line 3 lists 1',
    ],
    [
      'race schedule=fast\n  recovery: recover_nx\nend',
      "3:6 schedule=: 'fast' is not an actor index",
    ],
    ['race seed=3\n  recovery: recover_nx\nend', '3:6 seed= goes with schedule=random'],
    [
      'race\n  recovery: recover_nx strategy=direct check=off\nend',
      '4:40 check=off drops the pointer check',
    ],
    [
      'race\n  recovery: recover_nx strategy=walk lock=read\nend',
      '4:38 lock=read with strategy=walk',
    ],
    ['race\n  recovery: recover_nx\nend now', "5:5 end takes no keys, found 'now'"],
  ])('%j is refused: %s', (body, message) => {
    expect(errors(body)[0]).toContain(message);
  });

  it('a block with a broken line is not run at all', () => {
    const { statements } = parseScenario(
      `${HEAD}\nrace\n  vcpu1: access gpa=0x100000000 type=bogus\n  recovery: recover_nx\nend`,
    );
    expect(statements.map((s) => s.kind)).toEqual(['vm', 'memslot']);
  });

  it('formats a race back to text that parses to the same statement', () => {
    const text = `${HEAD}\nrace schedule=random seed=9\n  vcpu1: access gpa=0x100001000 type=read\n  recovery: recover_nx strategy=direct lock=read\nend`;
    const st = parseScenario(text).statements[2];
    if (st?.kind !== 'race') throw new Error('no race');
    expect(formatStatement(st)).toBe(
      'race schedule=random seed=9\n  vcpu1: access gpa=0x100001000 type=read\n  recovery: recover_nx strategy=direct lock=read\nend',
    );
    const again = parseScenario(`${HEAD}\n${formatStatement(st)}`).statements[2];
    expect(again).toEqual(st);
  });
});
