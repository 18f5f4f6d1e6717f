import { levelName } from '../sim/geometry.ts';
import type { Mirror } from '../sim/replay.ts';
import { spteKind } from '../sim/spte.ts';

const MAX_LISTED = 300;

/**
 * The paging structure in words, for screen readers (and the browser tests): every live table
 * with its level, GFN and contents. Large runs list only a count.
 */
export function TablesSummary({ mirror }: { mirror: Mirror }) {
  const live = mirror.sps.filter((sp) => !sp.freed);
  const listed = live.length <= MAX_LISTED ? live : [];
  return (
    <div className="sr-only">
      <p data-testid="table-count">{live.length} tables</p>
      <ul aria-label="Tables">
        {listed.map((sp) => {
          const counts = new Map<string, number>();
          for (let i = 0; i < 512; i++) {
            const lo = sp.spt[2 * i] ?? 0;
            const kind = spteKind(lo, sp.spt[2 * i + 1] ?? 0, sp.level);
            if (kind === 'none') continue;
            const key = kind === 'leaf' ? `${levelName(sp.level)} leaf` : kind;
            counts.set(key, (counts.get(key) ?? 0) + 1);
          }
          const state = sp.linked ? 'linked' : 'unlinked';
          const marks = [
            sp.parent === null ? 'root' : null,
            sp.invalid ? 'invalid' : null,
            sp.nxDisallowed ? 'NX-accounted' : null,
            state,
          ].filter(Boolean);
          const contents = [...counts].map(([k, n]) => `${n} ${k}`).join(', ') || 'empty';
          return (
            <li
              key={sp.id}
              data-testid="table"
              data-sp={sp.id}
              data-level={sp.level}
              data-gfn={'0x' + sp.gfn.toString(16)}
              data-nx={sp.nxDisallowed ? 'true' : 'false'}
              data-state={state}
            >
              sp {sp.id}: level {sp.level} table at gfn 0x{sp.gfn.toString(16)} ({marks.join(', ')}
              ): {contents}
            </li>
          );
        })}
      </ul>
    </div>
  );
}
