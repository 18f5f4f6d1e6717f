// Seeded mutations of every preset through the real CLI entry (main): whatever the input, the
// outcome is clean — exit 0, 1 or 2, every message placed at FILE:LINE:COL and printable, nothing
// thrown — and a statement the model refuses changes nothing.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PRESETS } from '../sim/presets.ts';
import { parseScenario } from '../sim/scenario/parse.ts';
import { runStatement } from '../sim/scenario/run.ts';
import { SimError, Simulator } from '../sim/simulator.ts';
import { main } from './sim.ts';

/** Mutants per preset (seeded: the same ones every run). */
const PER_PRESET = 300;
/** Mutants that would touch more pages than this are only parsed: the suite stays quick. */
const RUN_PAGES = 1 << 16;

/** A small seeded PRNG (mulberry32). */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}

const ODD = ['\0', '\x1b]2;x\x07', '\x1b[31m', 'é', '\u200b', '😀', '\t', '#', '=', '0x', '-'];
/** Statements the model often refuses where they land (no such table, no huge leaf there). */
const RISKY = [
  'zap_sp gpa=0x100000000 level=1',
  'zap_sp gpa=0x100000000 level=2 strategy=walk',
  'shatter gpa=0x100000000 level=2',
  'shatter gpa=0x140000000 level=3',
  'access gpa=0x900000000 type=read',
];
const HUGE = ['0xffffffffffffffff', '99999999999999999999', '1e308', '-1', '0x', '4T', '16G', '0'];

function mutate(text: string, r: () => number): string {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)] as T;
  let s = text;
  const n = 1 + Math.floor(r() * 3);
  for (let k = 0; k < n; k++) {
    const at = Math.floor(r() * s.length);
    switch (Math.floor(r() * 9)) {
      case 0: // a character flipped
        s = s.slice(0, at) + String.fromCharCode(Math.floor(r() * 0x250)) + s.slice(at + 1);
        break;
      case 1: {
        // two tokens swapped
        const toks = s.split(/(\s+)/);
        const i = 2 * Math.floor((r() * toks.length) / 2);
        const j = 2 * Math.floor((r() * toks.length) / 2);
        const a = toks[i] ?? '';
        toks[i] = toks[j] ?? '';
        toks[j] = a;
        s = toks.join('');
        break;
      }
      case 2: // a number made huge or odd
        s = s.replace(/\b(?:0x[0-9a-f]+|\d+[KMGT]?)\b/i, pick(HUGE));
        break;
      case 3: // odd characters
        s = s.slice(0, at) + pick(ODD) + s.slice(at);
        break;
      case 4: // every line end CRLF or CR
        s = s.replace(/\r?\n/g, r() < 0.5 ? '\r\n' : '\r');
        break;
      case 5: // a very long token
        s = s.slice(0, at) + 'x'.repeat(2000 + Math.floor(r() * 8000)) + s.slice(at);
        break;
      case 6: {
        // a line dropped or doubled
        const lines = s.split('\n');
        const i = Math.floor(r() * lines.length);
        if (r() < 0.5) lines.splice(i, 1);
        else lines.splice(i, 0, lines[i] ?? '');
        s = lines.join('\n');
        break;
      }
      case 7: // cut short
        s = s.slice(0, at);
        break;
      default: {
        // a statement the model may refuse, somewhere
        const lines = s.split('\n');
        lines.splice(Math.floor(r() * (lines.length + 1)), 0, pick(RISKY));
        s = lines.join('\n');
      }
    }
  }
  return s;
}

/** No character below 0x20 but tab, and none in 0x7f..0x9f: what a terminal would act on. */
const printable = (line: string) =>
  [...line].every((ch) => {
    const c = ch.charCodeAt(0);
    return c === 9 || (c >= 0x20 && (c < 0x7f || c > 0x9f));
  });

describe('fuzz: mutated presets through the CLI', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tdpviz-fuzz-'));

  it.each(PRESETS.map((p) => [p.file]))(
    '%s: every mutant ends cleanly, placed, printable, and a refusal changes nothing',
    (file) => {
      const text = readFileSync(`public/presets/${file}`, 'utf8');
      const r = rng([...file].reduce((h, c) => Math.imul(h, 31) + c.charCodeAt(0), 7));
      const path = join(dir, file);
      const seen = { 0: 0, 1: 0, 2: 0, refused: 0 };
      for (let m = 0; m < PER_PRESET; m++) {
        const mutant = mutate(text, r);
        const parsed = parseScenario(mutant);
        const pages = parsed.statements.reduce(
          (n, st) => n + (st.kind === 'access_range' ? st.npages : 0),
          0,
        );
        if (parsed.errors.length === 0 && pages > RUN_PAGES) continue;
        writeFileSync(path, mutant);
        const err: string[] = [];
        const out: string[] = [];
        const code = main(
          [path],
          (l) => out.push(l),
          (l) => err.push(l),
        );
        expect([0, 1, 2]).toContain(code);
        seen[code as 0 | 1 | 2]++;
        for (const line of [...err, ...out]) {
          expect(printable(line), `a raw control character in ${JSON.stringify(line)}`).toBe(true);
          // Tokens are quoted cut short: no message grows with the input.
          expect(line.length, line).toBeLessThan(600);
        }
        const placed = new RegExp(`^${path.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:\\d+:\\d+: `);
        for (const line of err) {
          if (line.endsWith('that statement changed nothing')) continue;
          expect(line).toMatch(placed);
        }
        if (parsed.errors.length > 0) {
          expect(code).toBe(2);
          continue;
        }
        // A statement the model refuses leaves no event and no counter behind.
        const sim = new Simulator();
        for (const st of parsed.statements) {
          const events = sim.kvm.log.length;
          const counters = JSON.stringify(sim.counters());
          const stats = JSON.stringify(sim.stats());
          try {
            runStatement(sim, st, []);
          } catch (e) {
            if (!(e instanceof SimError)) throw e;
            seen.refused++;
            expect(sim.kvm.log.length).toBe(events);
            expect(JSON.stringify(sim.counters())).toBe(counters);
            expect(JSON.stringify(sim.stats())).toBe(stats);
            break;
          }
        }
      }
      // The mutants reach every outcome, not only parse errors.
      expect(seen[2]).toBeGreaterThan(0);
      expect(seen[0] + seen[1]).toBeGreaterThan(0);
      expect(seen.refused).toBeGreaterThan(0);
    },
    60_000,
  );
});
