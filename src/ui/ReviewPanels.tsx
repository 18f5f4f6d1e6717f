// A reviewer's questions beside the inspector: every change of the selected entry (and a jump to
// the previous / next one), what differs since a marked cursor, what is on the NX list, and the
// roots. Each panel reads the mirror at the cursor or the event log, nothing else.
import { useMemo, type ReactNode } from 'react';
import { decodeEvent } from '../sim/events.ts';
import { spteWords } from '../sim/explain.ts';
import { hex } from '../sim/geometry.ts';
import { nxToZap } from '../sim/names.ts';
import { stateDiff, type SpteDiff } from '../sim/queries.ts';
import type { Mirror } from '../sim/replay.ts';
import { toBig } from '../sim/spte.ts';
import type { Mark } from '../store/app-store.ts';
import type { Session } from '../store/session.ts';
import './ReviewPanels.css';

/** Rows a panel lists before it says how many more there are. */
const MAX_ROWS = 60;
/** A diff over more events than this is not computed on the page. */
const MAX_DIFF_EVENTS = 2_000_000;

const n = (v: number) => v.toLocaleString('en-US');

function Panel({
  title,
  children,
  testId,
}: {
  title: string;
  children: ReactNode;
  testId: string;
}) {
  return (
    <section className="review" aria-label={title} data-testid={testId}>
      <h2 className="review__title">{title}</h2>
      {children}
    </section>
  );
}

function More({ shown, total, what }: { shown: number; total: number; what: string }) {
  if (total <= shown) return null;
  return (
    <p className="review__more">
      and {n(total - shown)} more {what}
    </p>
  );
}

/** Every change of sp[index] in the run, the one the cursor is after highlighted. */
export function EntryHistory({
  session,
  sp,
  index,
  cursor,
}: {
  session: Session;
  sp: number;
  index: number;
  cursor: number;
}) {
  const events = session.events;
  const changes = session.entryHistory(sp, index);
  const level = events.tables[sp]?.level ?? 1;
  const shown = changes.slice(-MAX_ROWS);
  const current = changes.filter((c) => c.event < cursor).at(-1)?.event ?? -1;
  const opLabel = (op: number) => {
    if (op < 0) return '—';
    const e = decodeEvent(events, op, events.spOf);
    return e.type === 'opBegin' ? `${e.op} · line ${e.line}` : '—';
  };
  return (
    <Panel title={`History of sp ${sp}[${index}]`} testId="entry-history">
      <div className="review__actions">
        <button
          type="button"
          onClick={() => session.seekChange(sp, index, -1)}
          title="Go to just after this entry's previous change (key ,)"
        >
          ← previous change
        </button>
        <button
          type="button"
          onClick={() => session.seekChange(sp, index, 1)}
          title="Go to just after this entry's next change (key .)"
        >
          next change →
        </button>
      </div>
      {changes.length === 0 ? (
        <p className="review__hint">This entry never changed in the run.</p>
      ) : (
        <ol className="review__list">
          {shown.map((c) => {
            const from = toBig(c.oldLo, c.oldHi);
            const to = toBig(c.newLo, c.newHi);
            return (
              <li
                key={c.event}
                className={
                  c.event === current
                    ? 'review__row review__row--current'
                    : c.event >= cursor
                      ? 'review__row review__row--future'
                      : 'review__row'
                }
                data-testid="history-row"
              >
                <button
                  type="button"
                  className="review__jump"
                  onClick={() => session.seek(c.event + 1)}
                  title={`${hex(from)} → ${hex(to)}`}
                >
                  #{c.event}
                </button>
                <span className="review__op">{opLabel(c.op)}</span>
                <span className="review__change">
                  {spteWords(from, level)} → {spteWords(to, level)}
                </span>
              </li>
            );
          })}
        </ol>
      )}
      <More shown={shown.length} total={changes.length} what="earlier changes" />
    </Panel>
  );
}

/** The SPTEs and stats that differ between a marked cursor and the cursor now. */
export function StateDiff({
  session,
  mirror,
  mark,
  cursor,
  playing,
}: {
  session: Session;
  mirror: Mirror;
  mark: Mark | null;
  cursor: number;
  /** While the timeline plays the diff waits: it would rescan the log on every frame. */
  playing: boolean;
}) {
  const diff = useMemo(() => {
    if (!mark || playing || Math.abs(cursor - mark.cursor) > MAX_DIFF_EVENTS) return null;
    return stateDiff(session.events, mark.cursor, cursor);
  }, [session, mark, cursor, playing]);
  if (!mark) {
    return (
      <Panel title="Diff" testId="state-diff">
        <p className="review__hint">
          Mark a cursor, move to another, and see the SPTEs and stats that differ.
        </p>
        <div className="review__actions">
          <button type="button" onClick={() => session.setMark(true)}>
            Mark this cursor (#{n(cursor)})
          </button>
        </div>
      </Panel>
    );
  }
  const now = { ...mirror.stats(), ...mirror.counters } as Record<string, number>;
  const then = { ...mark.stats, ...mark.counters } as Record<string, number>;
  const deltas = Object.keys(now).filter((k) => now[k] !== then[k]);
  const forward = mark.cursor <= cursor;
  const [a, b] = forward ? ['marked', 'now'] : ['now', 'marked'];
  // Deltas read the way the list does: from the earlier position to the later one.
  const delta = (k: string) => ((now[k] ?? 0) - (then[k] ?? 0)) * (forward ? 1 : -1);
  return (
    <Panel title="Diff" testId="state-diff">
      <p className="review__hint">
        From the marked cursor #{n(mark.cursor)} to the cursor now #{n(cursor)}
        {mark.cursor > cursor ? ' (now is earlier)' : ''}.
      </p>
      <div className="review__actions">
        <button type="button" onClick={() => session.setMark(true)}>
          Mark here instead
        </button>
        <button type="button" onClick={() => session.setMark(false)}>
          Clear the mark
        </button>
      </div>
      {diff === null ? (
        <p className="review__hint">
          {playing
            ? 'Playing: the diff is listed when the timeline stops.'
            : `Over ${n(MAX_DIFF_EVENTS)} events apart: too many to diff on the page.`}
        </p>
      ) : (
        <DiffRows session={session} mirror={mirror} diff={diff} direction={`${a} → ${b}`} />
      )}
      {deltas.length > 0 && (
        <table className="review__deltas" data-testid="diff-stats">
          <caption className="review__hint">
            stats and counters, {a} → {b}
          </caption>
          <tbody>
            {deltas.map((k) => {
              const d = delta(k);
              return (
                <tr key={k}>
                  <th scope="row">{k}</th>
                  <td>{d > 0 ? `+${n(d)}` : n(d)}</td>
                </tr>
              );
            })}
          </tbody>
        </table>
      )}
    </Panel>
  );
}

/**
 * The differing SPTEs: those of tables still linked one by one, those of tables cut out meanwhile
 * one line per table (a shared teardown freezes all 512 of its entries).
 */
function DiffRows({
  session,
  mirror,
  diff,
  direction,
}: {
  session: Session;
  mirror: Mirror;
  diff: SpteDiff[];
  direction: string;
}) {
  const live = diff.filter((d) => mirror.sps[d.sp]?.linked === true);
  const gone = new Map<number, number>();
  for (const d of diff)
    if (mirror.sps[d.sp]?.linked !== true) gone.set(d.sp, (gone.get(d.sp) ?? 0) + 1);
  return (
    <>
      <p className="review__summary" data-testid="diff-summary">
        {diff.length === 0
          ? 'No SPTE differs.'
          : `${n(diff.length)} ${diff.length === 1 ? 'SPTE differs' : 'SPTEs differ'} (${direction}): ${n(live.length)} in linked tables${gone.size > 0 ? `, ${n(diff.length - live.length)} in ${n(gone.size)} ${gone.size === 1 ? 'table' : 'tables'} not linked at the cursor` : ''}.`}
      </p>
      <ol className="review__list">
        {live.slice(0, MAX_ROWS).map((d) => {
          const level = session.events.tables[d.sp]?.level ?? 1;
          const from = toBig(d.fromLo, d.fromHi);
          const to = toBig(d.toLo, d.toHi);
          return (
            <li key={d.sp * 512 + d.index} className="review__row" data-testid="diff-row">
              <button
                type="button"
                className="review__jump"
                onClick={() => session.select({ sp: d.sp, index: d.index })}
                title={`${hex(from)} → ${hex(to)}`}
              >
                sp {d.sp}[{d.index}]
              </button>
              <span className="review__change">
                {spteWords(from, level)} → {spteWords(to, level)}
              </span>
            </li>
          );
        })}
        {[...gone].map(([sp, count]) => (
          <li key={`gone-${sp}`} className="review__row" data-testid="diff-gone">
            <span className="review__jump">sp {sp}</span>
            <span className="review__note">
              {n(count)} {count === 1 ? 'entry' : 'entries'} changed; the table is not linked at the
              cursor
            </span>
          </li>
        ))}
      </ol>
      <More
        shown={Math.min(live.length, MAX_ROWS)}
        total={live.length}
        what="SPTEs in linked tables"
      />
    </>
  );
}

/** The NX list in FIFO order, and where the next recover_nx starts. */
export function NxListPanel({
  mirror,
  onSelect,
}: {
  mirror: Mirror;
  onSelect: (sp: number) => void;
}) {
  const list = mirror.nxList();
  const six = mirror.config.kernel === '6.18';
  const ratio = mirror.config.recoveryRatio;
  const toZap = nxToZap(list.length, ratio);
  return (
    <Panel
      title={six ? 'NX list · possible_nx_huge_pages' : 'NX list · lpage_disallowed_mmu_pages'}
      testId="nx-list"
    >
      <p className="review__hint">
        {list.length === 0
          ? 'Empty: no table is accounted.'
          : `${n(list.length)} in FIFO order; the next recover_nx has to_zap = ${n(toZap)} (ceil(${n(list.length)} / ${n(ratio)})) and takes from the head.`}
      </p>
      {list.length > 0 && (
        <ol className="review__list">
          {list.slice(0, MAX_ROWS).map((sp, k) => {
            const root = mirror.sps[sp.rootId];
            return (
              <li
                key={sp.id}
                className={k < toZap ? 'review__row review__row--next' : 'review__row'}
                data-testid="nx-row"
              >
                <button type="button" className="review__jump" onClick={() => onSelect(sp.id)}>
                  sp {sp.id}
                </button>
                <span className="review__op">
                  gfn {hex(sp.gfn)} · role.level {sp.level}
                </span>
                <span className={root?.invalid ? 'review__note review__note--bad' : 'review__note'}>
                  root sp {sp.rootId}
                  {root?.invalid ? ' (invalid)' : ''}
                </span>
                {/* Position only: a walk that cannot reach the head picks it again instead. */}
                {k < toZap && (
                  <span className="review__note">among the first to_zap = {toZap}</span>
                )}
              </li>
            );
          })}
        </ol>
      )}
      <More shown={Math.min(list.length, MAX_ROWS)} total={list.length} what="accounted tables" />
    </Panel>
  );
}

/** Every root on tdp_mmu_roots, newest first. */
export function RootsPanel({
  mirror,
  onSelect,
}: {
  mirror: Mirror;
  onSelect: (sp: number) => void;
}) {
  const roots = mirror.roots();
  const tables = new Map<number, number>();
  for (const sp of mirror.sps) {
    if (sp.linked && sp.parent !== null) tables.set(sp.rootId, (tables.get(sp.rootId) ?? 0) + 1);
  }
  return (
    <Panel title="Roots · tdp_mmu_roots" testId="roots">
      <p className="review__hint">count = tdp_mmu_root_count, invalid = role.invalid.</p>
      {roots.length === 0 ? (
        <p className="review__hint">No root yet: the vCPU loads one at its first access.</p>
      ) : (
        <table className="review__table">
          <thead>
            <tr>
              <th scope="col">root</th>
              <th scope="col" title="tdp_mmu_root_count">
                count
              </th>
              <th scope="col" title="role.invalid">
                invalid
              </th>
              <th scope="col" title="the vCPUs running on it">
                vCPU
              </th>
              <th scope="col" title="linked tables that hang from it">
                tables
              </th>
            </tr>
          </thead>
          <tbody>
            {roots.map((r) => (
              <tr key={r.id} data-testid="root-row">
                <td>
                  <button type="button" className="review__jump" onClick={() => onSelect(r.id)}>
                    root sp {r.id}
                  </button>
                </td>
                <td>{r.rootCount}</td>
                <td className={r.invalid ? 'review__note--bad' : undefined}>{r.invalid ? 1 : 0}</td>
                <td>{vcpusOn(mirror.vcpusOn(r.id), mirror.config.vcpus)}</td>
                <td>{n(tables.get(r.id) ?? 0)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </Panel>
  );
}

/** 'yes' / 'no' for a one-vCPU VM; else which vCPUs run on the root. */
function vcpusOn(on: readonly number[], vcpus: number): string {
  if (on.length === 0) return 'no';
  return vcpus === 1 ? 'yes' : on.join(', ');
}
