import { describe, expect, it } from 'vitest';
import { completeAt, hoverAt, tokenizeLine } from './language.ts';
import { formatStatement, parseScenario } from './parse.ts';
import { SCHEMA, STATEMENT_WORDS, specOf, type KeySpec, type StatementWord } from './schema.ts';

const SLOT = 'memslot gpa=0x100000000 size=2M backing=2M';

/** A value of the key's type that the parser accepts after SLOT (a new slot goes above it). */
function sample(k: KeySpec, word: StatementWord): string {
  if (k.name === 'end') return '0x100200';
  switch (k.type.kind) {
    case 'gpa':
      return word === 'memslot' ? '0x200000000' : '0x100000000';
    case 'gfn':
      return word === 'memslot' ? '0x200000' : '0x100000';
    case 'size':
      return '4K';
    case 'int':
      return String(k.type.min);
    case 'choice':
      return k.type.values[0] ?? '';
    case 'bool':
      return 'on';
    case 'schedule':
      return 'round-robin';
  }
}

/** `race` and `end` are the two ends of a block: a line of either is tried inside one. */
const BLOCK = '  recovery: recover_nx';
function inBlock(word: StatementWord, line: string): string {
  if (word === 'race') return `${line}\n${BLOCK}\nend`;
  if (word === 'end') return `race\n${BLOCK}\n${line}`;
  return line;
}

/** The statement with its required keys (one of each or-pair) and `extra`. */
function lineWith(word: StatementWord, extra: KeySpec | null): string {
  const keys = specOf(word).keys.filter(
    (k) =>
      k.required === true &&
      k !== extra &&
      !(k.or !== undefined && (extra?.name === k.or || k.name === 'gfn')),
  );
  const parts = [word, ...keys.map((k) => `${k.name}=${sample(k, word)}`)];
  if (extra?.name === 'seed') parts.push('schedule=random');
  if (extra !== null) parts.push(`${extra.name}=${sample(extra, word)}`);
  return inBlock(word, parts.join(' '));
}

/** The parser's errors for `line` after SLOT (a vm line alone: it shapes the VM). */
function errorsOf(line: string): string[] {
  const text = line.startsWith('vm ') ? line : `${SLOT}\n${line}`;
  return parseScenario(text).errors.map((e) => `${e.line}:${e.col} ${e.message}`);
}

describe('the statement schema drives the parser', () => {
  it.each(STATEMENT_WORDS)('%s: its example parses and formats back to the same statement', (w) => {
    const { statements, errors } = parseScenario(`${SLOT}\n${SCHEMA[w].example}`);
    expect(errors).toEqual([]);
    const st = statements[1];
    expect(st?.kind).toBe(w === 'end' ? 'race' : w);
    if (st === undefined) return;
    const again = parseScenario(`${SLOT}\n${formatStatement(st)}`).statements[1];
    expect(again).toEqual(st);
  });

  it.each(STATEMENT_WORDS.filter((w) => w !== 'expect'))('%s: every key is accepted', (w) => {
    for (const k of specOf(w).keys) expect(errorsOf(lineWith(w, k)), k.name).toEqual([]);
  });

  it.each(STATEMENT_WORDS.filter((w) => w !== 'expect'))(
    '%s: an unknown key is refused with the schema keys listed',
    (w) => {
      const [error] = errorsOf(
        inBlock(
          w,
          `${
            lineWith(w, null)
              .split('\n')
              .find((l) => l.startsWith(w)) ?? w
          } bogus=1`,
        ),
      );
      const keys = specOf(w).keys.map((k) => k.name);
      expect(error).toContain(
        keys.length === 0 ? `${w} takes no keys` : `(it takes ${keys.join(', ')})`,
      );
    },
  );

  it.each(STATEMENT_WORDS)('%s: leaving out a required key is refused', (w) => {
    for (const k of specOf(w).keys.filter((x) => x.required === true && x.name !== 'gfn')) {
      const line = lineWith(w, null)
        .split(' ')
        .filter((t) => !t.startsWith(`${k.name}=`))
        .join(' ');
      expect(errorsOf(line).join(), k.name).toMatch(new RegExp(`missing ${k.name}=`));
    }
  });

  it('every choice value is accepted and any other is refused naming them all', () => {
    for (const w of STATEMENT_WORDS) {
      for (const k of specOf(w).keys) {
        if (k.type.kind !== 'choice') continue;
        for (const v of k.type.values) {
          expect(errorsOf(`${lineWith(w, null)} ${k.name}=${v}`), `${w} ${k.name}=${v}`).toEqual(
            [],
          );
        }
        const [error] = errorsOf(`${lineWith(w, null)} ${k.name}=nope`);
        for (const v of k.type.values) expect(error, `${w} ${k.name}`).toContain(v);
      }
    }
  });

  it('a default the schema names is the one the parser applies', () => {
    const access = parseScenario(`${SLOT}\naccess gpa=0x100000000`).statements[1];
    expect(access).toMatchObject({ kind: 'access', type: 'read' });
    const slot = parseScenario('memslot gpa=0 size=4K').statements[0];
    expect(slot).toMatchObject({ kind: 'memslot', backingLevel: 1 });
  });
});

describe('completion, hover and tokens come from the schema', () => {
  it('offers every statement at the start of a line, filtered by what is typed', () => {
    expect(completeAt('', 0)?.options.map((o) => o.label)).toEqual(STATEMENT_WORDS);
    expect(completeAt('zap', 3)?.options.map((o) => o.label)).toEqual([
      'zap_sp',
      'zap_gfn_range',
      'zap_invalidated_roots',
    ]);
    expect(completeAt('  zap', 5)?.from).toBe(2);
  });

  it.each(STATEMENT_WORDS)('%s: offers exactly its keys after the statement word', (w) => {
    const got = completeAt(`${w} `, w.length + 1)?.options.map((o) => o.label);
    expect(got).toEqual(specOf(w).keys.map((k) => `${k.name}=`));
  });

  it('does not offer a key already given, nor its alternative', () => {
    const line = 'zap_sp gpa=0x100000000 ';
    expect(completeAt(line, line.length)?.options.map((o) => o.label)).toEqual([
      'level=',
      'strategy=',
    ]);
  });

  it('offers the strategies after zap_sp … strategy=, and filters by the typed prefix', () => {
    const line = 'zap_sp gpa=0x100000000 level=1 strategy=';
    const c = completeAt(line, line.length);
    expect(c?.from).toBe(line.length);
    expect(c?.options.map((o) => o.label)).toEqual(['walk', 'direct', 'atomic']);
    expect(completeAt(`${line}d`, line.length + 1)?.options.map((o) => o.label)).toEqual([
      'direct',
    ]);
    expect(completeAt('vm nx_huge_pages=', 17)?.options.map((o) => o.label)).toEqual(['on', 'off']);
  });

  it('offers nothing inside a comment or after an unknown statement', () => {
    expect(completeAt('access # gp', 11)).toBeNull();
    expect(completeAt('acess g', 7)).toBeNull();
  });

  it('hover tells the kernel function a statement mirrors and what a key means', () => {
    expect(hoverAt('zap_sp gpa=0x1000 level=1', 2)).toMatchObject({ from: 0, to: 6 });
    expect(hoverAt('zap_sp gpa=0x1000 level=1', 2)?.text).toContain('kvm_tdp_mmu_zap_sp()');
    const key = hoverAt('zap_sp gpa=0x1000 level=1 strategy=walk', 30);
    expect(key?.text).toMatch(/^strategy= walk \| direct \| atomic\n/);
    expect(key?.text).toContain("default: the kernel's");
    expect(hoverAt('zap_sp gpa=0x1000 # level', 22)).toBeNull();
  });

  it('splits a line into statement, keys, values and comment', () => {
    expect(tokenizeLine('access gpa=0x1000 bogus=1 # hi')).toEqual([
      { from: 0, to: 6, role: 'statement' },
      { from: 7, to: 10, role: 'key' },
      { from: 11, to: 17, role: 'value' },
      { from: 18, to: 23, role: 'unknown' },
      { from: 24, to: 25, role: 'value' },
      { from: 26, to: 30, role: 'comment' },
    ]);
    expect(tokenizeLine('acess')).toEqual([{ from: 0, to: 5, role: 'unknown' }]);
  });
});
