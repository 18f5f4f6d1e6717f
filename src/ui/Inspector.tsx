// The selected entry and its table, spelled the way the kernel spells them, with words alongside.
import { memo, type ReactNode } from 'react';
import { pagesPerHpage } from '../sim/geometry.ts';
import type { Mirror, MirrorSp } from '../sim/replay.ts';
import { decodeSpte, isExecutable, sptePfn, spteKind, toBig } from '../sim/spte.ts';
import './Inspector.css';

export interface InspectorProps {
  mirror: Mirror;
  /** Bumps whenever the mirror changed (it is mutated in place); memo compares it. */
  version: number;
  selection: { sp: number; index: number | null } | null;
}

const SPTES_PER_TABLE = 512;

const hex = (n: number) => '0x' + n.toString(16);
const hex64 = (lo: number, hi: number) => '0x' + toBig(lo, hi).toString(16).padStart(16, '0');
const plural = (n: number, one: string) =>
  `${n.toLocaleString('en-US')} ${one}${n === 1 ? '' : 's'}`;

const SIZE_NAMES = ['', '4K', '2M', '1G', '512G', '256T', '128P'];

/** What one SPTE at `level` maps, as a size. */
const sizeName = (level: number) => SIZE_NAMES[level] ?? `level ${level}`;

/** The table a non-leaf SPTE points to: the newest live child hung at that slot. */
function childAt(mirror: Mirror, sp: MirrorSp, index: number): MirrorSp | null {
  let found: MirrorSp | null = null;
  for (const c of mirror.sps) {
    if (c.parent !== sp.id || c.parentIndex !== index) continue;
    if (!found || (found.freed && !c.freed) || (c.freed === found.freed && c.id > found.id)) {
      found = c;
    }
  }
  return found;
}

function Row({ name, children }: { name: string; children: ReactNode }) {
  return (
    <>
      <dt className="inspector__name">{name}</dt>
      <dd className="inspector__value">{children}</dd>
    </>
  );
}

function Note({ children }: { children: ReactNode }) {
  return <span className="inspector__note">{children}</span>;
}

/** Which entry, and its value as the inspector's big line. */
function EntryHead({ sp, index, value }: { sp: number; index: number; value: string }) {
  return (
    <>
      <h3 className="inspector__heading">
        Entry <code>sp {sp}</code>
        <code>[{index}]</code>
      </h3>
      <div className="inspector__spte" data-testid="inspector-spte">
        {value}
      </div>
    </>
  );
}

function EntryDetails({ mirror, sp, index }: { mirror: Mirror; sp: MirrorSp; index: number }) {
  const lo = sp.spt[2 * index] ?? 0;
  const hi = sp.spt[2 * index + 1] ?? 0;
  const kind = spteKind(lo, hi, sp.level);
  const bit63 = hi >>> 31 === 1;
  const pages = pagesPerHpage(sp.level);
  const gfn = sp.gfn + index * pages;
  const child = kind === 'table' ? childAt(mirror, sp, index) : null;
  const strippedX = kind === 'leaf' && sp.level > 1 && !isExecutable(lo);

  // An imported trace has not shown this entry: the value held is a placeholder, not a fact.
  if (sp.unknown?.[index] === 1) {
    return (
      <div className="inspector__block">
        <EntryHead sp={sp.id} index={index} value="unknown" />
        <p className="inspector__note">
          The trace has not shown this entry yet: the table is implied by the trace, and what the
          entry held before its first change there is not in it.
        </p>
      </div>
    );
  }

  let what: ReactNode;
  switch (kind) {
    case 'none':
      what = (
        <>
          non-present
          {bit63 ? (
            <>
              {' '}
              (<code>SHADOW_NONPRESENT_VALUE</code>)
            </>
          ) : null}{' '}
          <Note>
            nothing mapped; a guest access here faults into KVM
            {bit63 ? '; bit 63 is EPT’s suppress-#VE bit (6.10+)' : ''}
          </Note>
        </>
      );
      break;
    case 'removed':
      what = (
        <>
          <code>{bit63 ? 'FROZEN_SPTE' : 'REMOVED_SPTE'}</code>{' '}
          <Note>frozen while its table is torn down; other walkers back off and retry</Note>
        </>
      );
      break;
    case 'mmio':
      what = (
        <>
          MMIO SPTE → GFN <code>{hex(sptePfn(lo, hi))}</code>{' '}
          <Note>W+X without R: an EPT misconfiguration, so the access is emulated</Note>
        </>
      );
      break;
    case 'table':
      what = (
        <>
          non-leaf → child table{' '}
          {child ? <code>sp {child.id}</code> : <code>PFN {hex(sptePfn(lo, hi))}</code>}{' '}
          <Note>points to a page table one level down (role.level {sp.level - 1})</Note>
        </>
      );
      break;
    case 'leaf':
      what = (
        <>
          {sizeName(sp.level)} leaf → PFN <code>{hex(sptePfn(lo, hi))}</code>{' '}
          <Note>maps guest memory directly</Note>
        </>
      );
      break;
  }

  return (
    <div className="inspector__block">
      <EntryHead sp={sp.id} index={index} value={hex64(lo, hi)} />
      <dl className="inspector__grid">
        <Row name="kind">
          <span
            className={`inspector__kind inspector__kind--${kind === 'leaf' ? sizeName(sp.level) : kind}`}
            aria-hidden="true"
          />
          {what}
        </Row>
        <Row name="GFN range">
          <code>
            [{hex(gfn)}, {hex(gfn + pages)})
          </code>{' '}
          <Note>
            {sizeName(sp.level)}: {plural(pages, 'page')}, KVM_PAGES_PER_HPAGE({sp.level})
          </Note>
        </Row>
        {strippedX && (
          <Row name="NX huge pages">
            X withheld <Note>an exec fault replaces this huge page with 4K pages</Note>
          </Row>
        )}
      </dl>
      <table className="inspector__bits">
        <caption className="inspector__caption">decodeSpte: bit by bit</caption>
        <thead>
          <tr>
            <th scope="col">bits</th>
            <th scope="col">kernel name</th>
            <th scope="col" className="inspector__num">
              value
            </th>
          </tr>
        </thead>
        <tbody>
          {decodeSpte(lo, hi, sp.level).map((f) => (
            <tr key={f.bits} className={f.value === '0' ? 'inspector__bit--zero' : undefined}>
              <td className="inspector__bitpos">{f.bits}</td>
              <td>{f.name}</td>
              <td className="inspector__num">{f.value}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

function TableDetails({ mirror, sp }: { mirror: Mirror; sp: MirrorSp }) {
  const isRoot = sp.parent === null;
  const span = pagesPerHpage(sp.level + 1);
  let present = 0;
  for (let i = 0; i < SPTES_PER_TABLE; i++) {
    if (spteKind(sp.spt[2 * i] ?? 0, sp.spt[2 * i + 1] ?? 0, sp.level) !== 'none') present++;
  }
  const nx = sp.nxDisallowed ? mirror.nxList() : [];
  const nxPos = nx.findIndex((s) => s.id === sp.id);
  // 6.x names the list possible_nx_huge_pages and keeps the flag apart from the tracking.
  const six = mirror.config.kernel === '6.18';
  const listName = isRoot ? 'tdp_mmu_roots' : 'tdp_mmu_pages';

  return (
    <div className="inspector__block">
      <h3 className="inspector__heading">
        {isRoot ? 'Root' : 'Table'} <code>sp {sp.id}</code>
      </h3>
      <dl className="inspector__grid">
        <Row name="role.level">
          <code>{sp.level}</code> <Note>each entry maps {sizeName(sp.level)}</Note>
        </Row>
        <Row name="GFN range">
          <code>
            [{hex(sp.gfn)}, {hex(sp.gfn + span)})
          </code>{' '}
          <Note>sp-&gt;gfn + KVM_PAGES_PER_HPAGE({sp.level + 1})</Note>
        </Row>
        <Row name="sp->ptep">
          {isRoot ? (
            <>
              <code>NULL</code> <Note>a root hangs from no entry</Note>
            </>
          ) : (
            <>
              <code>
                sp {sp.parent}[{sp.parentIndex}]
              </code>{' '}
              <Note>the entry that points here</Note>
            </>
          )}
        </Row>
        {!isRoot && (
          <Row name="root">
            <code>sp {sp.rootId}</code>
          </Row>
        )}
        <Row name="entries in use">
          <code>{present}</code> <Note>of {SPTES_PER_TABLE}</Note>
        </Row>
        <Row name={six ? 'NX-tracked' : 'lpage_disallowed'}>
          {sp.nxDisallowed ? (
            <>
              yes{' '}
              <Note>
                NX-accounted: position {nxPos + 1} of {nx.length} on{' '}
                {six ? 'possible_nx_huge_pages[KVM_TDP_MMU]' : 'lpage_disallowed_mmu_pages'}
                {nxPos === 0 ? ' (head: recovered next)' : ''}
              </Note>
            </>
          ) : (
            <>
              no <Note>not on the NX recovery list</Note>
            </>
          )}
        </Row>
        <Row name="state">
          {sp.freed ? (
            <>
              freed <Note>the RCU callback ran; the page is gone</Note>
            </>
          ) : sp.linked ? (
            <>
              linked <Note>on {listName}</Note>
            </>
          ) : (
            <>
              unlinked, awaiting RCU <Note>freed after the grace period (or not linked yet)</Note>
            </>
          )}
        </Row>
        {isRoot && (
          <>
            <Row name="role.invalid">
              <code>{sp.invalid ? 1 : 0}</code>{' '}
              <Note>{sp.invalid ? 'obsolete: no vCPU will load it again' : 'valid'}</Note>
            </Row>
            <Row name="tdp_mmu_root_count">
              <code>{sp.rootCount}</code> <Note>references held</Note>
            </Row>
            <Row name="vCPU root">{vcpusWords(mirror.vcpusOn(sp.id), mirror.config.vcpus)}</Row>
          </>
        )}
      </dl>
    </div>
  );
}

export const Inspector = memo(function Inspector({ mirror, selection }: InspectorProps) {
  const sp = selection ? mirror.sps[selection.sp] : undefined;
  const index = selection?.index ?? null;
  return (
    <section className="inspector" aria-label="Inspector">
      <h2 className="inspector__title">Inspector</h2>
      {!selection ? (
        <p className="inspector__hint">Click an entry in the paging structure to inspect it.</p>
      ) : !sp ? (
        <p className="inspector__hint">
          <code>sp {selection.sp}</code> does not exist at this point in the log.
        </p>
      ) : (
        <>
          {index !== null && index >= 0 && index < SPTES_PER_TABLE && (
            <EntryDetails mirror={mirror} sp={sp} index={index} />
          )}
          <TableDetails mirror={mirror} sp={sp} />
        </>
      )}
    </section>
  );
});

/** Which vCPUs run on a root, as the inspector says it. */
function vcpusWords(on: readonly number[], vcpus: number): ReactNode {
  if (on.length === 0) return 'no';
  if (vcpus === 1) {
    return (
      <>
        yes <Note>the root the vCPU runs on</Note>
      </>
    );
  }
  return (
    <>
      {on.map((v) => `vCPU ${v}`).join(', ')} <Note>run on it</Note>
    </>
  );
}
