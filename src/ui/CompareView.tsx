import { useMemo } from 'react';
import { useStore } from 'zustand';
import {
  compareSentence,
  paneDifferences,
  paneLabel,
  paneMetrics,
  sameTables,
  scriptRelation,
  scriptStrategy,
  type PaneMetrics,
} from '../store/compare.ts';
import {
  selectCursor,
  selectEventCount,
  selectScript,
  selectSelection,
  selectVersion,
} from '../store/selectors.ts';
import { spteWords } from '../sim/explain.ts';
import { hex } from '../sim/geometry.ts';
import { looksLikeTrace } from '../sim/trace/read-trace.ts';
import type { Session } from '../store/session.ts';
import { SCALE_NS } from '../store/workspace.ts';
import type { FrameLoop } from '../viz/FrameLoop.ts';
import { Icon } from './Icon.tsx';
import { ScalingChart } from './ScalingChart.tsx';
import { SessionContext } from './session-context.ts';
import { TreeView } from './TreeView.tsx';
import { Inspector } from './Inspector.tsx';
import { selectRefaults, selectScaling, selectSelectedPane, useWs } from './workspace-context.ts';
import './CompareView.css';

function paneTitle(label: string, script: string): string {
  const strategy = scriptStrategy(script);
  return strategy ? `${label} · ${strategy}` : label;
}

/** One side of the comparison: its own paging structure and its own step buttons. */
function ComparePane({
  session,
  label,
  loop,
}: {
  session: Session;
  label: string;
  loop: FrameLoop;
}) {
  const script = useStore(session.store, selectScript);
  const cursor = useStore(session.store, selectCursor);
  const count = useStore(session.store, selectEventCount);
  const title = paneTitle(label, script);
  return (
    <SessionContext.Provider value={session}>
      <section className="compare-pane" aria-label={`Pane ${title}`} data-testid={`pane-${label}`}>
        <header className="compare-pane-head">
          <strong>{title}</strong>
          <span className="compare-pane-pos" data-testid={`cursor-${label}`}>
            {cursor.toLocaleString('en-US')} / {count.toLocaleString('en-US')}
          </span>
          <span
            className="compare-pane-steps"
            role="toolbar"
            aria-label={`Step pane ${label} alone`}
          >
            <button
              type="button"
              onClick={() => session.stepOperation(-1)}
              aria-label={`${label}: previous operation`}
            >
              <Icon name="prevOp" />
            </button>
            <button
              type="button"
              onClick={() => session.stepEvent(-1)}
              aria-label={`${label}: previous event`}
            >
              <Icon name="prev" />
            </button>
            <button
              type="button"
              onClick={() => session.stepEvent(1)}
              aria-label={`${label}: next event`}
            >
              <Icon name="next" />
            </button>
            <button
              type="button"
              onClick={() => session.stepOperation(1)}
              aria-label={`${label}: next operation`}
            >
              <Icon name="nextOp" />
            </button>
          </span>
        </header>
        <TreeView loop={loop} />
      </section>
    </SessionContext.Provider>
  );
}

/** A pane's re-map figure: measuring, or none at all for a trace (it records no accesses). */
function refaultCell(n: number | null, script: string): string {
  if (n !== null) return String(n);
  return looksLikeTrace(script) ? '—' : '…';
}

export function CompareCenter({ a, b, loop }: { a: Session; b: Session; loop: FrameLoop }) {
  return (
    <div className="pane pane-center compare-center">
      <ComparePane session={a} label="A" loop={loop} />
      <ComparePane session={b} label="B" loop={loop} />
    </div>
  );
}

const ROWS: { name: string; label: string; get: (m: PaneMetrics) => number }[] = [
  { name: 'spte_reads', label: 'SPTE reads', get: (m) => m.counters.spte_reads },
  { name: 'spte_writes', label: 'SPTE writes', get: (m) => m.counters.spte_writes },
  {
    name: 'spte_atomic',
    label: 'of them cmpxchg / xchg',
    get: (m) => m.counters.spte_atomic,
  },
  {
    name: 'spte_frozen',
    label: 'of them REMOVED / FROZEN',
    get: (m) => m.counters.spte_frozen,
  },
  { name: 'iter_steps', label: 'iterator visits', get: (m) => m.counters.iter_steps },
  { name: 'roots_visited', label: 'roots visited by zaps', get: (m) => m.rootsVisited },
  { name: 'sp_freed', label: 'tables freed', get: (m) => m.counters.sp_freed },
  {
    name: 'tlb_flushes_ranged',
    label: 'TLB flushes, ranged',
    get: (m) => m.counters.tlb_flushes_ranged,
  },
  { name: 'tlb_flushes_full', label: 'TLB flushes, full', get: (m) => m.counters.tlb_flushes_full },
  { name: 'nx_lpage_splits', label: 'nx_lpage_splits', get: (m) => m.nxLpageSplits },
];

/** Rows the A/B diff lists before it says how many more there are. */
const MAX_DIFF_ROWS = 40;

/** The entries that differ between the panes at their cursors (what "different" consists of). */
function PaneDiff({
  a,
  b,
  bit63,
  version,
}: {
  a: Session;
  b: Session;
  bit63: boolean;
  version: number;
}) {
  // The mirrors change in place; `version` (both panes') says when, and tags the result.
  const { rows } = useMemo(
    () => ({ rows: paneDifferences(a.mirror, b.mirror, bit63), at: version }),
    [a, b, bit63, version],
  );
  const entries = rows.filter((r) => r.kind === 'entry');
  const only = rows.filter((r) => r.kind === 'only');
  return (
    <section className="compare-diff" aria-label="A/B differences" data-testid="pane-diff">
      <h2 className="compare-h">What differs, A vs B{bit63 ? ' (bit 63 left out)' : ''}</h2>
      <p className="compare-note" data-testid="pane-diff-summary">
        {entries.length === 0 && only.length === 0
          ? 'No entry differs.'
          : `${entries.length.toLocaleString('en-US')} ${entries.length === 1 ? 'entry differs' : 'entries differ'} in tables both panes have${only.length > 0 ? `; ${only.length} ${only.length === 1 ? 'table' : 'tables'} only one pane has` : ''}.`}
      </p>
      <ol className="compare-diff__list">
        {entries.slice(0, MAX_DIFF_ROWS).map((r) =>
          r.kind === 'entry' ? (
            <li key={`${r.spA}:${r.index}`} data-testid="pane-diff-row">
              <code>
                {r.spA === r.spB
                  ? `sp ${r.spA}[${r.index}]`
                  : `A sp ${r.spA} / B sp ${r.spB} [${r.index}]`}
              </code>{' '}
              A {spteWords(r.a, r.level)} · B {spteWords(r.b, r.level)}
            </li>
          ) : null,
        )}
        {only.slice(0, MAX_DIFF_ROWS).map((r) =>
          r.kind === 'only' ? (
            <li key={`only-${r.pane}-${r.sp}`} data-testid="pane-diff-only">
              <code>
                {r.pane} sp {r.sp}
              </code>{' '}
              (gfn {hex(r.gfn)}, role.level {r.level}) only in pane {r.pane}
            </li>
          ) : null,
        )}
      </ol>
      {entries.length > MAX_DIFF_ROWS && (
        <p className="compare-note">and {entries.length - MAX_DIFF_ROWS} more entries</p>
      )}
      {only.length > MAX_DIFF_ROWS && (
        <p className="compare-note" data-testid="pane-diff-only-more">
          and {(only.length - MAX_DIFF_ROWS).toLocaleString('en-US')} more tables only one pane has
        </p>
      )}
    </section>
  );
}

const SERIES_COLOUR = { walk: '--spte-4k', direct: '--spte-2m', atomic: '--spte-1g' } as const;

/** The side-by-side costs at each pane's cursor, the sentence, and the scaling charts. */
export function CompareSummary({ a, b }: { a: Session; b: Session }) {
  const va = useStore(a.store, selectVersion);
  const vb = useStore(b.store, selectVersion);
  const sa = useStore(a.store, selectScript);
  const sb = useStore(b.store, selectScript);
  const refaults = useWs(selectRefaults);
  const scaling = useWs(selectScaling);
  const pane = useWs(selectSelectedPane);
  const shown = pane === 'A' ? a : b;
  const selection = useStore(shown.store, selectSelection);
  const shownVersion = useStore(shown.store, selectVersion);
  const view = useMemo(() => {
    const ma = paneMetrics(a);
    const mb = paneMetrics(b);
    const same = sameTables(a, b);
    const bit63 = !same && ma.kernel !== mb.kernel && sameTables(a, b, true);
    const la = paneLabel('A', ma, mb);
    const lb = paneLabel('B', mb, ma);
    return {
      ma,
      mb,
      same,
      sentence: compareSentence(ma, mb, same, refaults, scriptRelation(sa, sb), bit63),
      bit63,
      la,
      lb,
      v: va + vb,
    };
  }, [a, b, va, vb, sa, sb, refaults]);

  const series = (metric: 'spte_reads' | 'left', roots: number) =>
    (['walk', 'direct', 'atomic'] as const).map((strategy) => ({
      label: strategy,
      cssVar: SERIES_COLOUR[strategy],
      points: (scaling ?? [])
        .filter((r) => r.strategy === strategy && r.roots === roots)
        .map((r) => ({ x: r.n, y: r[metric] })),
    }));

  return (
    <aside className="pane pane-right compare-summary" aria-label="Comparison">
      <h2 className="compare-h">Costs at each cursor</h2>
      <table className="compare-table" data-testid="compare-table">
        <thead>
          <tr>
            <th scope="col">metric</th>
            <th scope="col">{view.la}</th>
            <th scope="col">{view.lb}</th>
          </tr>
        </thead>
        <tbody>
          {ROWS.map((r) => {
            const x = r.get(view.ma);
            const y = r.get(view.mb);
            return (
              <tr key={r.name} className={x !== y ? 'differs' : undefined} data-metric={r.name}>
                <th scope="row">{r.label}</th>
                <td data-testid={`A-${r.name}`}>{x.toLocaleString('en-US')}</td>
                <td data-testid={`B-${r.name}`}>{y.toLocaleString('en-US')}</td>
              </tr>
            );
          })}
          <tr
            className={refaults[0] !== refaults[1] ? 'differs' : undefined}
            data-metric="refaults"
          >
            <th scope="row">faults to re-map the accesses afterwards</th>
            <td data-testid="A-refaults">{refaultCell(refaults[0], sa)}</td>
            <td data-testid="B-refaults">{refaultCell(refaults[1], sb)}</td>
          </tr>
          <tr className={view.same ? undefined : 'differs'} data-metric="tables">
            <th scope="row">final tables</th>
            <td colSpan={2} data-testid="same-tables">
              {view.same ? 'identical' : view.bit63 ? 'identical but for bit 63' : 'different'}
            </td>
          </tr>
        </tbody>
      </table>
      <p className="compare-sentence" data-testid="compare-sentence">
        {view.sentence}
      </p>
      {!view.same && <PaneDiff a={a} b={b} bit63={view.bit63} version={view.v} />}
      <h2 className="compare-h">Selected entry · pane {pane}</h2>
      <Inspector mirror={shown.mirror} version={shownVersion} selection={selection} />
      <h2 className="compare-h">Is it worth it? Cost against N</h2>
      <ScalingChart
        title="SPTE reads in one recovery run (1 root)"
        xLabel="NX-accounted tables (N)"
        yLabel="SPTE reads"
        series={series('spte_reads', 1)}
        width={300}
        height={180}
      />
      <ScalingChart
        title="Tables left accounted, 2 roots (one invalidated)"
        xLabel="NX-accounted tables per root (N)"
        yLabel="left after recovery"
        series={series('left', 2)}
        width={300}
        height={180}
      />
      <p className="compare-note">
        Recovery with recovery_ratio=1 over N exec-split 2M frames{scaling ? '' : ' (measuring…)'};
        N = {SCALE_NS.join(', ')}.
      </p>
    </aside>
  );
}
