// Builds one statement at a time as an AST value, prints it with the parser's own formatter and
// re-parses it in the current vm context, so a button never appends a line the script rejects.
import { useId, useState, type FormEvent, type JSX } from 'react';
import type { FaultType, VmConfig, ZapMode, ZapStrategy } from '../sim/names.ts';
import { profileOf } from '../sim/profile.ts';
import type { Statement } from '../sim/scenario/ast.ts';
import { formatStatement, parseScenario } from '../sim/scenario/parse.ts';
import {
  intRange,
  MODE_VALUES,
  readNumber as readValue,
  specOf,
  STRATEGY_VALUES,
  TYPE_VALUES,
  type StatementWord,
} from '../sim/scenario/schema.ts';
import './QuickActions.css';

export interface QuickActionsProps {
  /** The vm settings in effect at the end of the script. */
  config: VmConfig;
  /** True once the script has operations: levels can no longer change. */
  locked: boolean;
  /** Append one statement line to the script. */
  onAppend: (statement: string) => void;
}

type Field = 'gpa' | 'start' | 'end' | 'ratio';

interface Problem {
  field: Field | null;
  message: string;
}

type Read = { value: number } | { problem: Problem };

const PAGE_SIZE = 4096;
/** Statements built here are checked on their own, as line 2 after a vm line. */
const AT = { line: 1, col: 1 };

/** A button's tooltip: what the statement does and the kernel function it runs. */
function tip(word: StatementWord): string {
  const spec = specOf(word);
  return `${spec.doc} (${spec.mirrors})`;
}

export function QuickActions({ config, locked, onAppend }: QuickActionsProps): JSX.Element {
  const [gpa, setGpa] = useState('0x100000000');
  const [type, setType] = useState<FaultType>('read');
  const [level, setLevel] = useState(1);
  // '' leaves the choice to the kernel profile (the statement carries no strategy= / mode=).
  const [strategy, setStrategy] = useState<ZapStrategy | ''>('');
  const [start, setStart] = useState('0x100000');
  const [end, setEnd] = useState('0x100200');
  const [mode, setMode] = useState<ZapMode | ''>('');
  const profile = profileOf(config.kernel);
  // zap_sp takes 1 to levels - 1; shatter only the huge levels of that range.
  const { min: minLevel } = intRange('zap_sp', 'level');
  const levels = Array.from({ length: config.levels - minLevel }, (_, i) => minLevel + i);
  const strategyKey = strategy === '' ? {} : { strategy };
  /** The recovery ratio being typed; null shows the config's value. */
  const [ratioDraft, setRatioDraft] = useState<string | null>(null);
  const [problem, setProblem] = useState<Problem | null>(null);
  const id = useId();
  const errorId = `${id}-error`;
  const lockedId = `${id}-locked`;

  const emit = (st: Statement): void => {
    const message = check(config, st);
    if (message !== null) {
      setProblem({ field: null, message });
      return;
    }
    setProblem(null);
    onAppend(formatStatement(st));
  };

  const read = (field: Field, label: string, text: string): number | null => {
    const r = readNumber(field, label, text);
    if ('problem' in r) {
      setProblem(r.problem);
      return null;
    }
    return r.value;
  };

  const atGpa = (make: (gfn: number) => Statement) => (): void => {
    const v = read('gpa', 'GPA', gpa);
    if (v !== null) emit(make(Math.floor(v / PAGE_SIZE)));
  };

  const zapRange = (): void => {
    const s = read('start', 'Start GFN', start);
    if (s === null) return;
    const e = read('end', 'End GFN', end);
    if (e !== null) emit({ kind: 'zap_gfn_range', ...AT, start: s, end: e, ...(mode && { mode }) });
  };

  const setRatio = (ev: FormEvent<HTMLFormElement>): void => {
    ev.preventDefault();
    if (ratioDraft === null) return;
    const v = read('ratio', 'Recovery ratio', ratioDraft);
    if (v === null) return;
    setRatioDraft(null);
    if (v !== config.recoveryRatio) emit({ kind: 'vm', ...AT, recoveryRatio: v });
  };

  /** Wraps a setter so editing a field clears a stale error. */
  const edit =
    <T,>(set: (v: T) => void) =>
    (v: T): void => {
      set(v);
      setProblem(null);
    };

  const invalid = (field: Field) =>
    problem?.field === field ? { 'aria-invalid': true, 'aria-describedby': errorId } : {};

  return (
    <div className="quick-actions">
      <fieldset className="quick-actions__group">
        <legend>Page</legend>
        <div className="quick-actions__fields">
          <div className="quick-actions__field">
            <label htmlFor={`${id}-gpa`}>GPA</label>
            <input
              id={`${id}-gpa`}
              className="quick-actions__input quick-actions__input--gpa"
              value={gpa}
              spellCheck={false}
              autoComplete="off"
              onChange={(e) => edit(setGpa)(e.target.value)}
              {...invalid('gpa')}
            />
          </div>
          <div className="quick-actions__field">
            <label htmlFor={`${id}-type`}>Type</label>
            <select
              id={`${id}-type`}
              value={type}
              onChange={(e) => edit(setType)(pick(TYPE_VALUES, e.target.value))}
            >
              {TYPE_VALUES.map((t) => (
                <option key={t} value={t}>
                  {t}
                </option>
              ))}
            </select>
          </div>
          <div className="quick-actions__field">
            <label htmlFor={`${id}-level`}>Level</label>
            <select
              id={`${id}-level`}
              value={level}
              onChange={(e) => edit(setLevel)(Number(e.target.value))}
            >
              {levels.map((l) => (
                <option key={l} value={l}>
                  {l}
                </option>
              ))}
            </select>
          </div>
          <div className="quick-actions__field">
            <label htmlFor={`${id}-strategy`}>Strategy</label>
            <select
              id={`${id}-strategy`}
              value={strategy}
              onChange={(e) =>
                edit(setStrategy)(
                  e.target.value === '' ? '' : pick(STRATEGY_VALUES, e.target.value),
                )
              }
            >
              <option value="">kernel&apos;s ({profile.zapStrategy})</option>
              {STRATEGY_VALUES.map((s) => (
                <option key={s} value={s}>
                  {s}
                </option>
              ))}
            </select>
          </div>
        </div>
        <div className="quick-actions__buttons">
          <button
            type="button"
            title={tip('access')}
            onClick={atGpa((gfn) => ({ kind: 'access', ...AT, gfn, type }))}
          >
            Access
          </button>
          <button
            type="button"
            title={tip('fault')}
            onClick={atGpa((gfn) => ({ kind: 'fault', ...AT, gfn, type }))}
          >
            Fault
          </button>
          <button
            type="button"
            title={tip('shatter')}
            onClick={atGpa((gfn) => ({ kind: 'shatter', ...AT, gfn, level }))}
          >
            Shatter
          </button>
          <button
            type="button"
            title={tip('zap_sp')}
            onClick={atGpa((gfn) => ({ kind: 'zap_sp', ...AT, gfn, level, ...strategyKey }))}
          >
            Zap SP
          </button>
        </div>
      </fieldset>

      <fieldset className="quick-actions__group">
        <legend>GFN range</legend>
        <div className="quick-actions__fields">
          <div className="quick-actions__field">
            <label htmlFor={`${id}-start`}>Start GFN</label>
            <input
              id={`${id}-start`}
              className="quick-actions__input quick-actions__input--gfn"
              value={start}
              spellCheck={false}
              autoComplete="off"
              onChange={(e) => edit(setStart)(e.target.value)}
              {...invalid('start')}
            />
          </div>
          <div className="quick-actions__field">
            <label htmlFor={`${id}-end`}>End GFN</label>
            <input
              id={`${id}-end`}
              className="quick-actions__input quick-actions__input--gfn"
              value={end}
              spellCheck={false}
              autoComplete="off"
              onChange={(e) => edit(setEnd)(e.target.value)}
              {...invalid('end')}
            />
          </div>
          <div className="quick-actions__field">
            <label htmlFor={`${id}-mode`}>Mode</label>
            <select
              id={`${id}-mode`}
              value={mode}
              onChange={(e) =>
                edit(setMode)(e.target.value === '' ? '' : pick(MODE_VALUES, e.target.value))
              }
            >
              <option value="">kernel&apos;s ({profile.zapMode})</option>
              {MODE_VALUES.map((m) => (
                <option key={m} value={m}>
                  {m}
                </option>
              ))}
            </select>
          </div>
        </div>
        <div className="quick-actions__buttons">
          <button type="button" title={tip('zap_gfn_range')} onClick={zapRange}>
            Zap range
          </button>
        </div>
      </fieldset>

      <fieldset className="quick-actions__group">
        <legend>Roots and recovery</legend>
        <div className="quick-actions__buttons">
          <button
            type="button"
            title={tip('invalidate_roots')}
            onClick={() => emit({ kind: 'invalidate_roots', ...AT })}
          >
            Invalidate roots
          </button>
          <button
            type="button"
            title={tip('zap_invalidated_roots')}
            onClick={() => emit({ kind: 'zap_invalidated_roots', ...AT })}
          >
            Zap invalid roots
          </button>
          <button
            type="button"
            title={tip('recover_nx')}
            onClick={() => emit({ kind: 'recover_nx', ...AT, ...strategyKey })}
          >
            Recover NX
          </button>
        </div>
      </fieldset>

      <fieldset className="quick-actions__group">
        <legend>VM</legend>
        <div className="quick-actions__fields">
          <div className="quick-actions__field">
            <label htmlFor={`${id}-levels`}>Levels</label>
            <select
              id={`${id}-levels`}
              value={config.levels}
              disabled={locked}
              aria-describedby={locked ? lockedId : undefined}
              onChange={(e) => emit({ kind: 'vm', ...AT, levels: e.target.value === '5' ? 5 : 4 })}
            >
              <option value={4}>4</option>
              <option value={5}>5</option>
            </select>
          </div>
          <div className="quick-actions__field quick-actions__field--check">
            <input
              id={`${id}-nx`}
              type="checkbox"
              checked={config.nxHugePages}
              onChange={(e) => emit({ kind: 'vm', ...AT, nxHugePages: e.target.checked })}
            />
            <label htmlFor={`${id}-nx`}>NX huge pages</label>
          </div>
          <form className="quick-actions__ratio" onSubmit={setRatio}>
            <div className="quick-actions__field">
              <label htmlFor={`${id}-ratio`}>Recovery ratio</label>
              <input
                id={`${id}-ratio`}
                className="quick-actions__input quick-actions__input--ratio"
                inputMode="numeric"
                value={ratioDraft ?? String(config.recoveryRatio)}
                spellCheck={false}
                autoComplete="off"
                onChange={(e) => edit(setRatioDraft)(e.target.value)}
                {...invalid('ratio')}
              />
            </div>
            <button type="submit">Set</button>
          </form>
        </div>
        {locked && (
          <p id={lockedId} className="quick-actions__note">
            Levels are fixed once the script has operations.
          </p>
        )}
      </fieldset>

      <p id={errorId} className="quick-actions__error" role="alert">
        {problem?.message ?? ''}
      </p>
    </div>
  );
}

/** A number as the scenario language writes it (the schema's reader). */
function readNumber(field: Field, label: string, text: string): Read {
  const value = readValue(text.trim());
  if (value === 'malformed') {
    return {
      problem: { field, message: `${label}: enter a number such as 0x100000, 4096 or 2M` },
    };
  }
  if (value === 'too-large') {
    return { problem: { field, message: `${label}: ${text.trim()} is too large` } };
  }
  return { value };
}

/** The parser's complaint about `st` under `config`, or null when it would be accepted. */
function check(config: VmConfig, st: Statement): string | null {
  const vm = formatStatement({
    kind: 'vm',
    ...AT,
    levels: config.levels,
    nxHugePages: config.nxHugePages,
    recoveryRatio: config.recoveryRatio,
    physBits: config.physBits,
  });
  const { errors } = parseScenario(`${vm}\n${formatStatement(st)}`);
  const error = errors.find((e) => e.line === 2) ?? errors[0];
  return error === undefined ? null : error.message;
}

function pick<T extends string>(allowed: readonly T[], value: string): T {
  const found = allowed.find((a) => a === value);
  if (found === undefined) throw new RangeError(`unexpected option '${value}'`);
  return found;
}
