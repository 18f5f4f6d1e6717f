// The .tdp scenario language: one `word key=value ...` statement per line, `#` comments.
// Values are checked against the VM config in effect at each line, so a script that parses runs.
import { hex } from '../geometry.ts';
import { DEFAULT_CONFIG, EXPECT_NAMES, MAX_VCPUS, type VmConfig } from '../names.ts';
import { zapLock } from '../ops/zap-sp.ts';
import { isKernel, KERNELS, profileOf, type KernelId } from '../profile.ts';
import { formatPicks, readSchedule, type ScheduleSpec } from '../race/schedule.ts';
import { SortedRanges } from '../ranges.ts';
import { looksLikeTrace, traceKernel } from '../trace/read-trace.ts';
import type {
  ExpectCheck,
  ExpectStatement,
  AccessRangeStatement,
  MemslotStatement,
  ParseError,
  ParseResult,
  Pos,
  RaceStatement,
  RecoverNxStatement,
  Statement,
  VmStatement,
} from './ast.ts';
import { lineWords } from './language.ts';
import {
  BACKING_VALUES,
  BOOLEANS,
  intRange,
  isStatementWord,
  keySpec,
  LEVELS_VALUES,
  MODE_VALUES,
  PHYS_BITS,
  readNumber,
  specOf,
  STATEMENT_WORDS,
  STRATEGY_VALUES,
  TYPE_VALUES,
  type StatementWord,
} from './schema.ts';

type Kind = StatementWord;

const PAGE_SHIFT = 12;
const PAGE_SIZE = 2 ** PAGE_SHIFT;
/** 4-level EPT translates 48 bits of guest physical address; 5-level translates 57. */
const MAX_PHYS_BITS_4LEVEL = 48;

interface Token {
  text: string;
  col: number;
}

interface Pair {
  key: string;
  value: string;
  /** Column of the key: errors about a pair point here. */
  col: number;
}

/**
 * The work a script may ask for: each page an access_range touches costs up to a few events of 32
 * bytes, so past these a run would need gigabytes and minutes. Refused up front, with the place.
 */
export const MAX_RANGE_PAGES = 2 ** 22;
export const MAX_SCRIPT_PAGES = 2 ** 23;
const count = (n: number) => n.toLocaleString('en-US');

/** A problem with one line; caught per line so parsing goes on with the next. */
class LineError extends Error {
  constructor(
    readonly col: number,
    message: string,
    /** Another line than the one being read (a race's header, found wrong at its end). */
    readonly line?: number,
  ) {
    super(message);
  }
}

interface State {
  /** The race block being read (`race` seen, `end` not yet), and whether a line of it failed. */
  race: { st: RaceStatement; failed: boolean } | undefined;
  config: VmConfig;
  /** The first non-vm statement: levels and phys_bits are frozen from here on. */
  firstOp: { line: number; word: string } | undefined;
  memslots: SortedRanges<{ gfn: number; end: number; line: number }>;
  /** Pages the access_range statements so far touch. */
  pages: number;
}

export function parseScenario(text: string): ParseResult {
  const statements: Statement[] = [];
  const errors: ParseError[] = [];
  const state: State = {
    race: undefined,
    config: { ...DEFAULT_CONFIG },
    firstOp: undefined,
    pages: 0,
    memslots: new SortedRanges(
      (s) => s.gfn,
      (s) => s.end,
    ),
  };
  // CRLF, LF and a lone CR (old Mac files) all end a line.
  text.split(/\r\n|\r|\n/).forEach((raw, i) => {
    const line = i + 1;
    const { tokens, label } = tokenize(raw);
    const first = tokens[0];
    if (first === undefined) {
      if (label) {
        errors.push({ line, col: label.col, message: `${shown(label.text)} names no statement` });
        if (state.race) state.race.failed = true;
      }
      return;
    }
    try {
      const st = raceLine(line, first, tokens.slice(1), label, state);
      if (st?.kind === 'access_range') {
        if (state.pages + st.npages > MAX_SCRIPT_PAGES) {
          throw new LineError(
            st.col,
            `access_range: with this one the script touches ${count(state.pages + st.npages)} pages; a script may touch at most ${count(MAX_SCRIPT_PAGES)} (32 GiB of 4K pages) in all`,
          );
        }
        state.pages += st.npages;
      }
      if (st) statements.push(st);
    } catch (e) {
      if (!(e instanceof LineError)) throw e;
      errors.push({ line: e.line ?? line, col: e.col, message: e.message });
      if (state.race) state.race.failed = true;
    }
  });
  const open = state.race;
  if (open) {
    errors.push({
      line: open.st.line,
      col: open.st.col,
      message: `race at line ${open.st.line} has no end: close the block with a line 'end'`,
    });
  }
  return { statements, errors };
}

function tokenize(raw: string): { tokens: Token[]; label: Token | null } {
  const { words, label } = lineWords(raw);
  return {
    tokens: words.map((w) => ({ text: w.text, col: w.from + 1 })),
    label: label && { text: label.text, col: label.from + 1 },
  };
}

/** Actors a race line may name: `vcpuN` (access or fault) and `recovery` (recover_nx). */
const ACTOR_RE = /^(?:vcpu(\d+)|recovery|zapper):$/;

/**
 * One line, seen through race blocks: `race` opens one, `end` closes it and yields the race, a line
 * inside names its actor and joins the block. Returns the statement to add, if the line ends one.
 */
function raceLine(
  line: number,
  first: Token,
  rest: Token[],
  label: Token | null,
  state: State,
): Statement | null {
  const open = state.race;
  if (first.text === 'race') {
    if (label) throw new LineError(label.col, `race takes no actor label`);
    if (open) {
      throw new LineError(
        first.col,
        `a race cannot hold another race (the block at line ${open.st.line} is still open)`,
      );
    }
    const st = parseLine(line, first, rest, state);
    if (st.kind === 'race') state.race = { st, failed: false };
    return null;
  }
  if (first.text === 'end') {
    if (label) throw new LineError(label.col, `end takes no actor label`);
    if (!open) throw new LineError(first.col, `end without a race block to close`);
    const extra = rest[0];
    if (extra) throw new LineError(extra.col, `end takes no keys, found '${shown(extra.text)}'`);
    state.race = undefined;
    const n = open.st.actors.length;
    if (n === 0) {
      throw new LineError(first.col, `the race at line ${open.st.line} has no actor lines`);
    }
    const s = open.st.schedule;
    const beyond = s.kind === 'list' ? s.picks.find((a) => a >= n) : undefined;
    if (beyond !== undefined) {
      throw new LineError(
        open.st.col,
        `schedule= names actor ${beyond}, but the race at line ${open.st.line} lists ${n} (0 to ${n - 1})`,
        open.st.line,
      );
    }
    // A block with a broken line is not run at all: it would race fewer actors than written.
    if (open.failed) return null;
    return { ...open.st, endLine: line };
  }
  if (!open) {
    if (label) {
      throw new LineError(
        label.col,
        `${shown(label.text)} labels a line of a race block; there is no 'race' above`,
      );
    }
    return parseLine(line, first, rest, state);
  }
  if (!label) {
    throw new LineError(
      first.col,
      `inside race … end each line starts with its actor: vcpuN: (access, fault), recovery: (recover_nx) or zapper: (zap_invalidated_roots)`,
    );
  }
  const m = ACTOR_RE.exec(label.text);
  if (!m) {
    throw new LineError(
      label.col,
      `unknown actor '${shown(label.text.slice(0, -1))}' (actors: vcpu0 … vcpu${state.config.vcpus - 1}, recovery, zapper)`,
    );
  }
  const name = label.text.slice(0, -1);
  const dup = open.st.actors.find((a) => a.actor === name);
  if (dup) {
    throw new LineError(label.col, `${name} already races at line ${dup.line}: one line per actor`);
  }
  const st = parseLine(line, first, rest, state);
  if (m[1] !== undefined) {
    const vcpu = Number(m[1]);
    if (st.kind !== 'access' && st.kind !== 'fault') {
      throw new LineError(first.col, `${name} can race access or fault, not ${st.kind}`);
    }
    if (vcpu >= state.config.vcpus) {
      throw new LineError(
        label.col,
        `${name}: the VM has vCPUs 0 to ${state.config.vcpus - 1} (set vm vcpus=N before the first operation)`,
      );
    }
    if (st.vcpu !== undefined && st.vcpu !== vcpu) {
      throw new LineError(first.col, `${name}: the line says vcpu=${st.vcpu}`);
    }
    open.st.actors.push({ actor: name, line, col: label.col, statement: { ...st, vcpu } });
    return null;
  }
  if (name === 'zapper') {
    if (st.kind !== 'zap_invalidated_roots') {
      throw new LineError(first.col, `zapper runs zap_invalidated_roots, not ${st.kind}`);
    }
    if (state.config.kernel === '5.16') {
      throw new LineError(
        label.col,
        'zapper: 5.16 zaps invalidated roots with zap_gfn_range(), which a race does not interleave; race it on 5.18 or 6.18',
      );
    }
    open.st.actors.push({ actor: name, line, col: label.col, statement: st });
    return null;
  }
  if (st.kind !== 'recover_nx') {
    throw new LineError(first.col, `recovery runs recover_nx, not ${st.kind}`);
  }
  open.st.actors.push({ actor: name, line, col: label.col, statement: st });
  return null;
}

function parseLine(line: number, first: Token, rest: Token[], state: State): Statement {
  const word = first.text;
  if (!isStatementWord(word)) {
    const near = closest(word, STATEMENT_WORDS);
    throw new LineError(
      first.col,
      near === undefined
        ? `unknown statement '${shown(word)}' (statements: ${STATEMENT_WORDS.join(', ')})`
        : `unknown statement '${shown(word)}'; did you mean '${near}'?`,
    );
  }
  if (word !== 'vm') state.firstOp ??= { line, word };
  const pairs = splitPairs(rest);
  const pos = { line, col: first.col };
  if (word === 'expect') return parseExpect(pos, pairs);
  const fields = new Fields(word, first.col, keyed(word, pairs));
  switch (word) {
    case 'vm':
      return parseVm(pos, fields, state);
    case 'memslot':
      return parseMemslot(pos, fields, state);
    case 'access':
    case 'fault':
      return {
        kind: word,
        ...pos,
        gfn: fields.gfn(state.config),
        type: fields.choice('type', TYPE_VALUES),
        ...optionalKey('vcpu', vcpuOf(fields, state.config)),
      };
    case 'access_range':
      return parseAccessRange(pos, fields, state.config);
    case 'shatter':
      return { kind: word, ...pos, gfn: fields.gfn(state.config), level: shatterLevel(fields) };
    case 'zap_sp':
      return {
        kind: word,
        ...pos,
        gfn: fields.gfn(state.config),
        level: zapSpLevel(fields, state.config),
        ...optionalKey('strategy', fields.optional('strategy', STRATEGY_VALUES)),
      };
    case 'zap_gfn_range':
      return {
        kind: word,
        ...pos,
        ...gfnRange(fields, state.config),
        ...optionalKey('mode', fields.optional('mode', MODE_VALUES)),
      };
    case 'invalidate_roots':
    case 'zap_invalidated_roots':
      return { kind: word, ...pos };
    case 'recover_nx':
      return parseRecoverNx(pos, fields, state.config);
    case 'race':
      return {
        kind: word,
        ...pos,
        schedule: parseSchedule(fields),
        actors: [],
        endLine: 0,
      };
    case 'end':
      throw new RangeError('end is read by raceLine()');
  }
}

function parseRecoverNx(pos: Pos, f: Fields, config: VmConfig): RecoverNxStatement {
  const strategy = f.optional('strategy', STRATEGY_VALUES);
  const check = f.get('check');
  const lock = f.optional('lock', ['read', 'write'] as const);
  const st: RecoverNxStatement = {
    kind: 'recover_nx',
    ...pos,
    ...optionalKey('strategy', strategy),
    ...optionalKey('lock', lock),
  };
  const s = strategy ?? profileOf(config.kernel).zapStrategy;
  if (check) {
    const on = BOOLEANS.get(check.value);
    if (on === undefined) {
      throw new LineError(check.col, `check must be on or off, not '${shown(check.value)}'`);
    }
    if (!on && s !== 'atomic') {
      throw new LineError(
        check.col,
        `check=off drops the pointer check of strategy=atomic; strategy=${s} has none`,
      );
    }
    st.check = on;
  }
  if (lock !== undefined && lock !== zapLock(s) && s !== 'direct') {
    throw new LineError(
      f.get('lock')?.col ?? pos.col,
      `lock=${lock} with strategy=${s}: only strategy=direct runs under either lock`,
    );
  }
  return st;
}

function parseSchedule(f: Fields): ScheduleSpec {
  const p = f.get('schedule');
  const seed = f.get('seed');
  const text = p?.value ?? 'round-robin';
  // The actor count is not known yet; indices are checked when the block closes.
  const s = readSchedule(text, MAX_VCPUS + 1);
  if (typeof s === 'string') throw new LineError(p?.col ?? f.col, `schedule=: ${s}`);
  if (seed && s.kind !== 'random') {
    throw new LineError(seed.col, `seed= goes with schedule=random`);
  }
  if (s.kind === 'random') return { kind: 'random', seed: f.number('seed') ?? 1 };
  return s;
}

/** `{ key: value }` when the script gave the value, `{}` when the profile's default applies. */
function optionalKey<K extends string, V>(key: K, value: V | undefined): { [k in K]?: V } {
  return (value === undefined ? {} : { [key]: value }) as { [k in K]?: V };
}

function splitPairs(tokens: Token[]): Pair[] {
  return tokens.map((t, i) => {
    const eq = t.text.indexOf('=');
    // `key = value` splits into three tokens; say so rather than only "no '='".
    const next = tokens[i + 1]?.text;
    if (eq < 0) {
      const hint = next?.startsWith('=') ? " (no spaces around '=')" : '';
      throw new LineError(t.col, `expected key=value, found '${shown(t.text)}'${hint}`);
    }
    if (eq === 0) throw new LineError(t.col, `'${shown(t.text)}' has no key before '='`);
    const pair = { key: t.text.slice(0, eq), value: t.text.slice(eq + 1), col: t.col };
    if (pair.value === '') {
      const hint = next !== undefined && !next.includes('=') ? " (no spaces around '=')" : '';
      throw new LineError(t.col, `${shown(pair.key)}= has no value${hint}`);
    }
    return pair;
  });
}

/** Checks every key belongs to the statement and appears once. */
function keyed(word: Kind, pairs: Pair[]): Map<string, Pair> {
  const keys = specOf(word).keys.map((k) => k.name);
  const map = new Map<string, Pair>();
  for (const p of pairs) {
    if (!keys.includes(p.key)) {
      if (keys.length === 0)
        throw new LineError(p.col, `${word} takes no keys, found '${shown(p.key)}'`);
      const near = closest(p.key, keys);
      const hint = near === undefined ? '' : `; did you mean '${near}'?`;
      throw new LineError(
        p.col,
        `unknown key '${shown(p.key)}' for ${word} (it takes ${keys.join(', ')})${hint}`,
      );
    }
    const prev = map.get(p.key);
    if (prev !== undefined) {
      throw new LineError(p.col, `duplicate key '${p.key}' (already given at column ${prev.col})`);
    }
    const alt = keySpec(word, p.key)?.or;
    const other = alt === undefined ? undefined : map.get(alt);
    if (alt !== undefined && other !== undefined) {
      const [a, b] = [alt, p.key].sort((x, y) => keys.indexOf(x) - keys.indexOf(y));
      throw new LineError(
        p.col,
        `give either ${a}= or ${b}=, not both (${other.key}= is at column ${other.col})`,
      );
    }
    map.set(p.key, p);
  }
  return map;
}

/** A line's key=value pairs with typed accessors; every failure points at the offending key. */
class Fields {
  constructor(
    readonly word: Kind,
    readonly col: number,
    readonly pairs: Map<string, Pair>,
  ) {}

  get(key: string): Pair | undefined {
    return this.pairs.get(key);
  }

  need(key: string): Pair {
    const p = this.pairs.get(key);
    if (p === undefined) throw new LineError(this.col, `${this.word} is missing ${key}=`);
    return p;
  }

  number(key: string): number | undefined {
    const p = this.pairs.get(key);
    return p === undefined ? undefined : parseNumber(p);
  }

  /** The value if given, else the schema's default for the key. */
  choice<T extends string>(key: string, allowed: readonly T[]): T {
    const given = this.optional(key, allowed);
    if (given !== undefined) return given;
    const fallback = allowed.find((a) => a === keySpec(this.word, key)?.default);
    if (fallback === undefined) throw new RangeError(`${this.word} ${key}= has no default`);
    return fallback;
  }

  /** The value if given (one of `allowed`), else undefined. */
  optional<T extends string>(key: string, allowed: readonly T[]): T | undefined {
    const p = this.pairs.get(key);
    if (p === undefined) return undefined;
    const found = allowed.find((a) => a === p.value);
    if (found === undefined) {
      throw new LineError(p.col, `${key} must be ${orList(allowed)}, not '${shown(p.value)}'`);
    }
    return found;
  }

  /** The GFN from gpa= or gfn=, which must lie inside the guest physical address width. */
  gfn(config: VmConfig, aligned = false): number {
    const gpa = this.get('gpa');
    if (gpa !== undefined) {
      const v = parseNumber(gpa);
      if (v >= 2 ** config.physBits) throw new LineError(gpa.col, beyondWidth('gpa', v, config));
      if (aligned && v % PAGE_SIZE !== 0) {
        throw new LineError(
          gpa.col,
          `${this.word} gpa ${hex(v)} is not 4 KiB aligned: a ${this.word} starts on a page boundary`,
        );
      }
      return Math.floor(v / PAGE_SIZE);
    }
    const gfn = this.get('gfn');
    if (gfn === undefined) {
      throw new LineError(this.col, `${this.word} is missing gpa= (or gfn=)`);
    }
    const v = parseNumber(gfn);
    if (v >= maxGfn(config)) throw new LineError(gfn.col, beyondWidth('gfn', v, config));
    return v;
  }
}

function parseNumber(p: Pair): number {
  const v = readNumber(p.value);
  if (v === 'malformed') {
    throw new LineError(
      p.col,
      `${shown(p.key)}=${shown(p.value)}: expected a non-negative integer ` +
        `(decimal or 0x hex, optionally followed by K, M or G, e.g. 4096, 0x1000, 2M)`,
    );
  }
  if (v === 'too-large') {
    throw new LineError(
      p.col,
      `${shown(p.key)}=${shown(p.value)} is too large: values must be at most 2^53-1 (${hex(Number.MAX_SAFE_INTEGER)})`,
    );
  }
  return v;
}

function maxGfn(config: VmConfig): number {
  return 2 ** (config.physBits - PAGE_SHIFT);
}

function beyondWidth(what: 'gpa' | 'gfn', v: number, config: VmConfig): string {
  const limit =
    what === 'gpa'
      ? `GPAs below ${hex(2 ** config.physBits)}`
      : `GFNs below ${hex(maxGfn(config))}`;
  return (
    `${what} ${hex(v)} is beyond the guest physical address width ` +
    `(phys_bits=${config.physBits}: ${limit})`
  );
}

function parseVm(pos: Pos, f: Fields, state: State): VmStatement {
  const st: VmStatement = { kind: 'vm', ...pos };
  const kernel = f.get('kernel');
  if (kernel !== undefined) {
    if (!isKernel(kernel.value)) {
      throw new LineError(
        kernel.col,
        `kernel must be ${orList(KERNELS)} (the kernel whose TDP MMU the VM follows), not '${shown(kernel.value)}'`,
      );
    }
    st.kernel = kernel.value;
  }
  const levels = f.get('levels');
  if (levels !== undefined) {
    const v = readNumber(levels.value);
    if (!LEVELS_VALUES.includes(String(v))) {
      throw new LineError(
        levels.col,
        `levels must be ${orList(LEVELS_VALUES)} (4- or 5-level EPT), not ${shown(levels.value)}`,
      );
    }
    st.levels = v === 5 ? 5 : 4;
  }
  const nx = f.get('nx_huge_pages');
  if (nx !== undefined) {
    const v = BOOLEANS.get(nx.value.toLowerCase());
    if (v === undefined) {
      throw new LineError(
        nx.col,
        `nx_huge_pages must be on or off (or true/false, 1/0), not '${shown(nx.value)}'`,
      );
    }
    st.nxHugePages = v;
  }
  const ratio = f.number('recovery_ratio');
  if (ratio !== undefined) st.recoveryRatio = ratio;
  const phys = f.get('phys_bits');
  if (phys !== undefined) {
    const v = parseNumber(phys);
    if (v < PHYS_BITS.min || v > PHYS_BITS.max) {
      throw new LineError(
        phys.col,
        `phys_bits must be ${PHYS_BITS.min} to ${PHYS_BITS.max} (the x86 MAXPHYADDR range), not ${shown(phys.value)}`,
      );
    }
    st.physBits = v;
  }
  const vcpus = f.get('vcpus');
  if (vcpus !== undefined) {
    const v = parseNumber(vcpus);
    const { min, max = min } = intRange('vm', 'vcpus');
    if (v < min || v > max) {
      throw new LineError(vcpus.col, `vcpus must be ${min} to ${max}, not ${shown(vcpus.value)}`);
    }
    st.vcpus = v;
  }
  const shape = kernel ?? levels ?? phys ?? vcpus;
  if (shape !== undefined && state.firstOp !== undefined) {
    throw new LineError(
      shape.col,
      `${shape.key} cannot change after line ${state.firstOp.line} (${state.firstOp.word}): ` +
        `the VM and its paging structure already exist`,
    );
  }
  const next: VmConfig = {
    kernel: st.kernel ?? state.config.kernel,
    levels: st.levels ?? state.config.levels,
    nxHugePages: st.nxHugePages ?? state.config.nxHugePages,
    recoveryRatio: st.recoveryRatio ?? state.config.recoveryRatio,
    vcpus: st.vcpus ?? state.config.vcpus,
    // kvm_mmu_get_tdp_level() picks 5 levels only for a guest wider than 48 bits: 52 unless told.
    physBits:
      st.physBits ??
      (st.levels === 5 && state.config.physBits <= MAX_PHYS_BITS_4LEVEL
        ? PHYS_BITS.max
        : state.config.physBits),
  };
  // The config before this line was valid, so a clash comes from a key written here.
  const culprit = phys ?? levels;
  if (culprit !== undefined && next.levels === 4 && next.physBits > MAX_PHYS_BITS_4LEVEL) {
    throw new LineError(
      culprit.col,
      `phys_bits=${next.physBits} needs levels=5: 4-level EPT maps only ${MAX_PHYS_BITS_4LEVEL} bits of guest physical address`,
    );
  }
  if (culprit !== undefined && next.levels === 5 && next.physBits <= MAX_PHYS_BITS_4LEVEL) {
    throw new LineError(
      culprit.col,
      `levels=5 with phys_bits=${next.physBits}: KVM uses 4-level EPT when the guest's MAXPHYADDR is ` +
        `${MAX_PHYS_BITS_4LEVEL} bits or less (kvm_mmu_get_tdp_level()); give phys_bits=49..52 or drop levels=5`,
    );
  }
  state.config = next;
  return st;
}

function parseMemslot(pos: Pos, f: Fields, state: State): MemslotStatement {
  const config = state.config;
  const gfn = f.gfn(config, true);
  const where = f.get('gpa') ?? f.need('gfn');
  const sizePair = f.need('size');
  const size = parseNumber(sizePair);
  if (size === 0 || size % PAGE_SIZE !== 0) {
    throw new LineError(
      sizePair.col,
      `memslot size=${shown(sizePair.value)} is not a positive multiple of 4 KiB: a memslot covers whole pages`,
    );
  }
  const backingLevel = parseBacking(f.get('backing'));
  const npages = size / PAGE_SIZE;
  const end = gfn + npages;
  if (end > maxGfn(config)) {
    throw new LineError(
      sizePair.col,
      `memslot ${gpaRange(gfn, end)} ends beyond the guest physical address width ` +
        `(phys_bits=${config.physBits}: GPAs below ${hex(2 ** config.physBits)})`,
    );
  }
  const clash = state.memslots.overlap(gfn, end);
  if (clash !== undefined) {
    throw new LineError(
      where.col,
      `memslot ${gpaRange(gfn, end)} overlaps the memslot at line ${clash.line} ${gpaRange(clash.gfn, clash.end)}`,
    );
  }
  state.memslots.insert({ gfn, end, line: pos.line });
  return { kind: 'memslot', ...pos, gfn, npages, backingLevel };
}

function parseAccessRange(pos: Pos, f: Fields, config: VmConfig): AccessRangeStatement {
  const gfn = f.gfn(config, true);
  const sizePair = f.need('size');
  const size = parseNumber(sizePair);
  if (size === 0 || size % PAGE_SIZE !== 0) {
    throw new LineError(
      sizePair.col,
      `access_range size=${shown(sizePair.value)} is not a positive multiple of 4 KiB: it touches whole pages`,
    );
  }
  const npages = size / PAGE_SIZE;
  if (npages > MAX_RANGE_PAGES) {
    throw new LineError(
      sizePair.col,
      `access_range size=${shown(sizePair.value)} touches ${count(npages)} pages; one access_range may touch at most ${count(MAX_RANGE_PAGES)} (16 GiB of 4K pages): its event log would need gigabytes`,
    );
  }
  if (gfn + npages > maxGfn(config)) {
    throw new LineError(
      sizePair.col,
      `access_range ${gpaRange(gfn, gfn + npages)} ends beyond the guest physical address width ` +
        `(phys_bits=${config.physBits}: GPAs below ${hex(2 ** config.physBits)})`,
    );
  }
  return {
    kind: 'access_range',
    ...pos,
    gfn,
    npages,
    type: f.choice('type', TYPE_VALUES),
    ...optionalKey('vcpu', vcpuOf(f, config)),
  };
}

/** vcpu=, which must name one of the VM's vCPUs. */
function vcpuOf(f: Fields, config: VmConfig): number | undefined {
  const p = f.get('vcpu');
  if (p === undefined) return undefined;
  const v = parseNumber(p);
  if (v >= config.vcpus) {
    throw new LineError(
      p.col,
      `vcpu=${shown(p.value)}: the VM has ${config.vcpus} vCPU${config.vcpus === 1 ? '' : 's'} ` +
        `(0 to ${config.vcpus - 1}); give vm vcpus=${v + 1} first`,
    );
  }
  return v;
}

function parseBacking(p: Pair | undefined): number {
  if (p === undefined) return 1;
  const level = BACKING_VALUES.indexOf(p.value.toUpperCase()) + 1;
  if (level === 0) {
    throw new LineError(
      p.col,
      `backing must be 4K, 2M or 1G (the host page size behind the slot), not '${shown(p.value)}'`,
    );
  }
  return level;
}

/** [start, end) of a GFN range as GPAs; BigInt because the end GPA may pass 2^53. */
function gpaRange(gfn: number, end: number): string {
  return `[${hex(BigInt(gfn) * BigInt(PAGE_SIZE))}, ${hex(BigInt(end) * BigInt(PAGE_SIZE))})`;
}

function shatterLevel(f: Fields): number {
  const p = f.need('level');
  const v = parseNumber(p);
  const { min, max = min } = intRange('shatter', 'level');
  if (v < min || v > max) {
    throw new LineError(
      p.col,
      `shatter level must be ${min} or ${max}, not ${shown(p.value)}: only 2M (level 2) and 1G (level 3) leaves are huge; ` +
        `a 4K leaf cannot be split and L4/L5 SPTEs are never leaves`,
    );
  }
  return v;
}

function zapSpLevel(f: Fields, config: VmConfig): number {
  const p = f.need('level');
  const v = parseNumber(p);
  const root = config.levels;
  if (v < 1 || v >= root) {
    throw new LineError(
      p.col,
      `zap_sp level must be 1 to ${root - 1} with levels=${root}, not ${shown(p.value)}: ` +
        `role.level=${root} is the root, which zap_sp cannot zap, and nothing above it exists`,
    );
  }
  return v;
}

function gfnRange(f: Fields, config: VmConfig): { start: number; end: number } {
  const startPair = f.need('start');
  const endPair = f.need('end');
  const start = parseNumber(startPair);
  const end = parseNumber(endPair);
  if (end > maxGfn(config)) {
    throw new LineError(
      endPair.col,
      `end ${hex(end)} is beyond the guest physical address width ` +
        `(phys_bits=${config.physBits}: the range must end at or below GFN ${hex(maxGfn(config))})`,
    );
  }
  if (start >= end) {
    throw new LineError(
      startPair.col,
      `start ${hex(start)} must be below end ${hex(end)}: the GFN range [start, end) would be empty`,
    );
  }
  return { start, end };
}

function parseExpect(pos: Pos, pairs: Pair[]): ExpectStatement {
  if (pairs.length === 0) {
    throw new LineError(
      pos.col,
      'expect needs at least one NAME=NUMBER check, e.g. expect pages_2m=1',
    );
  }
  const checks: ExpectCheck[] = [];
  for (const p of pairs) {
    if (!EXPECT_NAMES.includes(p.key)) {
      const near = closest(p.key, EXPECT_NAMES);
      throw new LineError(
        p.col,
        near === undefined
          ? `expect has no check '${shown(p.key)}' (it checks ${EXPECT_NAMES.join(', ')})`
          : `expect has no check '${shown(p.key)}'; did you mean '${near}'?`,
      );
    }
    const prev = checks.find((c) => c.name === p.key);
    if (prev !== undefined) {
      throw new LineError(
        p.col,
        `duplicate check '${p.key}' (already given at column ${prev.col})`,
      );
    }
    checks.push({ line: pos.line, col: p.col, name: p.key, value: parseNumber(p) });
  }
  return { kind: 'expect', ...pos, checks };
}

function orList(items: readonly string[]): string {
  return items.length <= 1
    ? items.join('')
    : `${items.slice(0, -1).join(', ')} or ${items[items.length - 1] ?? ''}`;
}

/** A token as a message quotes it: control characters escaped, at most 32 characters. */
function shown(token: string): string {
  const cut = token.length > 32 ? `${token.slice(0, 32)}…` : token;
  let out = '';
  for (const ch of cut) {
    const c = ch.charCodeAt(0);
    const control = c < 0x20 || (c >= 0x7f && c <= 0x9f);
    out += control ? `\\x${c.toString(16).padStart(2, '0')}` : ch;
  }
  return out;
}

/** The candidate nearest `word`, if it is a plausible typo (at most two edits). */
function closest(word: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDist = 3;
  for (const c of candidates) {
    // Two edits cannot bridge a length gap of three: a long paste costs nothing here.
    if (Math.abs(c.length - word.length) >= bestDist) continue;
    const d = editDistance(word, c);
    // A distance as long as the candidate means nothing in common, not a typo.
    if (d < bestDist && d < c.length) {
      best = c;
      bestDist = d;
    }
  }
  return best;
}

/** Optimal string alignment distance: Levenshtein plus adjacent swaps ("tpye" is one edit). */
function editDistance(a: string, b: string): number {
  const rows: number[][] = [];
  for (let i = 0; i <= a.length; i++) {
    const row: number[] = [i];
    for (let j = 1; j <= b.length; j++) {
      if (i === 0) {
        row.push(j);
        continue;
      }
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      const up = rows[i - 1]?.[j] ?? 0;
      const left = row[j - 1] ?? 0;
      const diag = rows[i - 1]?.[j - 1] ?? 0;
      let d = Math.min(up + 1, left + 1, diag + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        d = Math.min(d, (rows[i - 2]?.[j - 2] ?? 0) + 1);
      }
      row.push(d);
    }
    rows.push(row);
  }
  return rows[a.length]?.[b.length] ?? 0;
}

/** The kernel a script's VM runs (its `vm kernel=`, else the default). */
export function scriptKernel(statements: readonly Statement[]): KernelId {
  for (const st of statements) if (st.kind === 'vm' && st.kernel) return st.kernel;
  return DEFAULT_CONFIG.kernel;
}

/** The last script asked about: the views ask for its kernel on every frame. */
let lastKernel: { script: string; kernel: KernelId } | null = null;

/** scriptKernel() of a script's text. */
export function kernelOfScript(script: string): KernelId {
  if (lastKernel?.script !== script) {
    const kernel = looksLikeTrace(script)
      ? traceKernel(script)
      : scriptKernel(parseScenario(script).statements);
    lastKernel = { script, kernel };
  }
  return lastKernel.kernel;
}

export function formatStatement(st: Statement): string {
  const gpa = (gfn: number): string => `gpa=${hex(gfn * PAGE_SIZE)}`;
  switch (st.kind) {
    case 'vm': {
      const parts = ['vm'];
      if (st.kernel !== undefined) parts.push(`kernel=${st.kernel}`);
      if (st.levels !== undefined) parts.push(`levels=${st.levels}`);
      if (st.nxHugePages !== undefined)
        parts.push(`nx_huge_pages=${st.nxHugePages ? 'on' : 'off'}`);
      if (st.recoveryRatio !== undefined) parts.push(`recovery_ratio=${st.recoveryRatio}`);
      if (st.physBits !== undefined) parts.push(`phys_bits=${st.physBits}`);
      if (st.vcpus !== undefined) parts.push(`vcpus=${st.vcpus}`);
      return parts.join(' ');
    }
    case 'memslot': {
      const backing = BACKING_VALUES[st.backingLevel - 1];
      if (backing === undefined) {
        throw new RangeError(`no backing page size for level ${st.backingLevel}`);
      }
      return `memslot ${gpa(st.gfn)} size=${formatSize(st.npages * PAGE_SIZE)} backing=${backing}`;
    }
    case 'access':
    case 'fault':
      return `${st.kind} ${gpa(st.gfn)} type=${st.type}${vcpuKey(st.vcpu)}`;
    case 'access_range':
      return `access_range ${gpa(st.gfn)} size=${formatSize(st.npages * PAGE_SIZE)} type=${st.type}${vcpuKey(st.vcpu)}`;
    case 'shatter':
      return `shatter ${gpa(st.gfn)} level=${st.level}`;
    case 'zap_sp':
      return `zap_sp ${gpa(st.gfn)} level=${st.level}${st.strategy ? ` strategy=${st.strategy}` : ''}`;
    case 'zap_gfn_range':
      return `zap_gfn_range start=${hex(st.start)} end=${hex(st.end)}${st.mode ? ` mode=${st.mode}` : ''}`;
    case 'invalidate_roots':
    case 'zap_invalidated_roots':
      return st.kind;
    case 'recover_nx': {
      const parts = ['recover_nx'];
      if (st.strategy) parts.push(`strategy=${st.strategy}`);
      if (st.check === false) parts.push('check=off');
      if (st.lock) parts.push(`lock=${st.lock}`);
      return parts.join(' ');
    }
    case 'race': {
      const s = st.schedule;
      const head =
        s.kind === 'round-robin'
          ? 'race'
          : s.kind === 'random'
            ? `race schedule=random seed=${s.seed}`
            : `race schedule=${formatPicks(s.picks)}`;
      const lines = st.actors.map((a) => `  ${a.actor}: ${formatStatement(raceLineBare(a))}`);
      return [head, ...lines, 'end'].join('\n');
    }
    case 'expect':
      return ['expect', ...st.checks.map((c) => `${c.name}=${c.value}`)].join(' ');
  }
}

/** A race line's statement without the vcpu= its label already says. */
function raceLineBare(a: RaceStatement['actors'][number]): Statement {
  const st = a.statement;
  if (st.kind !== 'access' && st.kind !== 'fault') return st;
  const bare: typeof st = { ...st };
  delete bare.vcpu;
  return bare;
}

function vcpuKey(vcpu: number | undefined): string {
  return vcpu === undefined ? '' : ` vcpu=${vcpu}`;
}

/** Bytes (whole pages) with the largest binary suffix that divides them: 6M, not 6291456. */
function formatSize(bytes: number): string {
  if (bytes % 2 ** 30 === 0) return `${bytes / 2 ** 30}G`;
  if (bytes % 2 ** 20 === 0) return `${bytes / 2 ** 20}M`;
  return `${bytes / 2 ** 10}K`;
}
