// The event log as a virtualized list: fixed-height rows, only the visible ones rendered. Logs with
// millions of events exceed what a browser can lay out, so past MAX_SPACER_PX the scrollbar maps
// onto the virtual height proportionally and the wheel is driven by hand.
import { useEffect, useId, useLayoutEffect, useRef, useState } from 'react';
import type { KeyboardEvent, UIEvent } from 'react';
import { lowerBound } from '../protocol/spans.ts';
import type { SimEvent } from '../sim/events.ts';
import { explainEvent } from '../sim/explain.ts';
import './EventLog.css';

export interface EventLogProps {
  count: number;
  /** Events applied: the last applied event is cursor - 1. */
  cursor: number;
  getEvent: (i: number) => SimEvent;
  /** A row's own words instead of the event's explanation (an imported trace's original line). */
  describe?: (i: number, ev: SimEvent) => string | null;
  /** Clicking row i jumps to cursor i + 1. */
  onJump: (cursor: number) => void;
  /** Whose log this is (compare mode has one per pane). */
  title?: string;
  /** The filter box: its text, the matching events (null: all), what is wrong with it. */
  filter?: {
    text: string;
    matches: readonly number[] | null;
    truncated: boolean;
    problem: string | null;
    onChange: (text: string) => void;
  };
}

/** The position of the last match before `cursor` in sorted `matches` (-1 if none). */
function lastBefore(matches: readonly number[], cursor: number): number {
  return lowerBound(matches.length, (i) => matches[i] ?? 0, cursor) - 1;
}

const ROW_HEIGHT = 24;
/** Below every browser's maximum element height (Firefox's is the lowest, near 17.9M px). */
const MAX_SPACER_PX = 8_000_000;
const OVERSCAN = 6;
/** How long after the user's last scroll the list stops following the cursor. */
const USER_SCROLL_HOLD_MS = 2500;
/** Before the first measurement, render as if this tall. */
const FALLBACK_VIEWPORT = 320;

const clamp = (v: number, lo: number, hi: number) => Math.min(Math.max(v, lo), hi);

/** The virtual offset that brings row `index` into view (the same offset if already visible). */
function reveal(index: number, vtop: number, viewport: number, maxV: number): number {
  const top = index * ROW_HEIGHT;
  const bottom = top + ROW_HEIGHT;
  if (top >= vtop && bottom <= vtop + viewport) return vtop;
  const far = bottom < vtop - viewport || top > vtop + 2 * viewport;
  if (far) return clamp(top - (viewport - ROW_HEIGHT) / 2, 0, maxV);
  if (top < vtop) return clamp(top - ROW_HEIGHT, 0, maxV);
  return clamp(bottom + ROW_HEIGHT - viewport, 0, maxV);
}

export function EventLog({
  count: allCount,
  cursor,
  getEvent,
  describe,
  onJump,
  title = 'Event log',
  filter,
}: EventLogProps) {
  // With a filter the list shows the matching events only: row k is event `at(k)`.
  const matches = filter?.matches ?? null;
  const count = matches ? matches.length : allCount;
  const at = (k: number) => (matches ? (matches[k] ?? 0) : k);
  const idBase = useId();
  const listRef = useRef<HTMLDivElement>(null);
  const [viewportPx, setViewportPx] = useState(0);
  const [vtopState, setVtop] = useState(0);
  const [userScrolling, setUserScrolling] = useState(false);
  const [active, setActive] = useState({ index: -1, cursor: -1 });
  const [seen, setSeen] = useState({ cursor: -1, viewport: -1 });
  /** The physical scrollTop this component last set, to tell its own scroll events from the user's. */
  const expectedTop = useRef(0);
  const holdTimer = useRef<number | undefined>(undefined);
  const maxVRef = useRef(0);
  const ratioRef = useRef(1);

  const viewport = viewportPx || FALLBACK_VIEWPORT;
  const total = count * ROW_HEIGHT;
  const maxV = Math.max(0, total - viewport);
  const spacer = Math.min(total, MAX_SPACER_PX);
  const ratio = total > MAX_SPACER_PX ? maxV / Math.max(1, spacer - viewport) : 1;
  const vtop = clamp(vtopState, 0, maxV);
  const physTop = vtop / ratio;
  const current = matches ? lastBefore(matches, cursor) : cursor - 1;
  const activeIndex = clamp(active.cursor === cursor ? active.index : current, -1, count - 1);

  // Follow the cursor (and keep it in view on resize) unless the user is scrolling the list.
  if (seen.cursor !== cursor || seen.viewport !== viewportPx) {
    setSeen({ cursor, viewport: viewportPx });
    if (!userScrolling) setVtop(reveal(Math.max(current, 0), vtop, viewport, maxV));
  }

  useLayoutEffect(() => {
    maxVRef.current = maxV;
    ratioRef.current = ratio;
    const el = listRef.current;
    if (!el) return;
    // Compared with what was last set, not read back: reading scrollTop here forces a layout.
    if (Math.abs(expectedTop.current - physTop) < 1) return;
    el.scrollTop = physTop;
    expectedTop.current = physTop;
  }, [physTop, maxV, ratio]);

  useEffect(() => {
    const el = listRef.current;
    if (!el) return;
    const ro = new ResizeObserver(() => setViewportPx(el.clientHeight));
    ro.observe(el);
    return () => ro.disconnect();
  }, []);

  useEffect(() => {
    const el = listRef.current;
    if (!el) return;
    const onWheel = (e: WheelEvent) => {
      holdFollowing();
      // At 1:1 the browser scrolls natively; past that a wheel notch would skip many rows.
      if (ratioRef.current === 1) return;
      e.preventDefault();
      const unit = e.deltaMode === 1 ? ROW_HEIGHT : e.deltaMode === 2 ? el.clientHeight : 1;
      setVtop((v) => clamp(clamp(v, 0, maxVRef.current) + e.deltaY * unit, 0, maxVRef.current));
    };
    el.addEventListener('wheel', onWheel, { passive: false });
    return () => el.removeEventListener('wheel', onWheel);
  });

  useEffect(() => () => window.clearTimeout(holdTimer.current), []);

  function holdFollowing() {
    setUserScrolling(true);
    window.clearTimeout(holdTimer.current);
    holdTimer.current = window.setTimeout(() => setUserScrolling(false), USER_SCROLL_HOLD_MS);
  }

  function onScroll(e: UIEvent<HTMLDivElement>) {
    const top = e.currentTarget.scrollTop;
    if (Math.abs(top - expectedTop.current) < 1) return;
    expectedTop.current = top;
    holdFollowing();
    setVtop(top * ratio);
  }

  function moveActive(index: number) {
    const i = clamp(index, 0, count - 1);
    setActive({ index: i, cursor });
    setVtop(reveal(i, vtop, viewport, maxV));
  }

  function onKeyDown(e: KeyboardEvent<HTMLDivElement>) {
    if (count === 0) return;
    const page = Math.max(1, Math.floor(viewport / ROW_HEIGHT) - 1);
    const from = Math.max(activeIndex, 0);
    switch (e.key) {
      case 'ArrowDown':
        moveActive(activeIndex < 0 ? 0 : from + 1);
        break;
      case 'ArrowUp':
        moveActive(from - 1);
        break;
      case 'PageDown':
        moveActive(from + page);
        break;
      case 'PageUp':
        moveActive(from - page);
        break;
      case 'Enter': {
        const row = (e.target as HTMLElement).closest<HTMLElement>('[data-index]');
        const index = row ? Number(row.dataset.index) : activeIndex;
        if (index >= 0) onJump(at(index) + 1);
        e.stopPropagation();
        break;
      }
      case ' ':
        // Space belongs to play/pause; only the list's own page scroll is suppressed.
        break;
      default:
        return;
    }
    e.preventDefault();
  }

  function showCurrent() {
    window.clearTimeout(holdTimer.current);
    setUserScrolling(false);
    if (current >= 0) setVtop(clamp(current * ROW_HEIGHT - (viewport - ROW_HEIGHT) / 2, 0, maxV));
  }

  const first = Math.max(0, Math.floor(vtop / ROW_HEIGHT) - OVERSCAN);
  const last = Math.min(count, Math.ceil((vtop + viewport) / ROW_HEIGHT) + OVERSCAN);
  const indexWidth = `${String(Math.max(allCount - 1, 0)).length + 1}ch`;
  const rows = [];
  for (let i = first; i < last; i++) {
    const e = at(i);
    const ev = getEvent(e);
    const text = describe?.(e, ev) ?? explainEvent(ev);
    const cls = ['event-log__row'];
    if (ev.type === 'opBegin') cls.push('event-log__row--op');
    else if (ev.type === 'opEnd') cls.push('event-log__row--end');
    else if (ev.type === 'warn') cls.push('event-log__row--warn');
    if (i === current) cls.push('event-log__row--current');
    if (e >= cursor) cls.push('event-log__row--future');
    if (i === activeIndex) cls.push('event-log__row--active');
    rows.push(
      <div
        key={i}
        id={`${idBase}-row-${i}`}
        role="option"
        aria-selected={i === activeIndex}
        aria-current={i === current ? 'step' : undefined}
        tabIndex={-1}
        className={cls.join(' ')}
        style={{ top: physTop + i * ROW_HEIGHT - vtop, height: ROW_HEIGHT }}
        data-testid="event-row"
        data-index={i}
        title={text}
        onClick={() => onJump(e + 1)}
        onFocus={() => {
          // Rows come and go as the list scrolls, so focus lives on the list itself.
          setActive({ index: i, cursor });
          listRef.current?.focus({ preventScroll: true });
        }}
      >
        <span className="event-log__index" style={{ width: indexWidth }}>
          #{e}
        </span>
        <span className="event-log__text">{text}</span>
      </div>,
    );
  }

  const activeRendered = activeIndex >= first && activeIndex < last;
  return (
    <section className="event-log" aria-label={title}>
      <header className="event-log__header">
        <h2 className="event-log__title">{title}</h2>
        <span className="event-log__position">
          {cursor.toLocaleString('en-US')} / {allCount.toLocaleString('en-US')} applied
        </span>
        {filter && (
          <label className="event-log__filter">
            <span className="sr-only">Filter the events</span>
            <input
              type="search"
              value={filter.text}
              placeholder="filter: sp=3[0] gfn=0x100000 level=2 kind=spte,flush words…"
              aria-label="Filter the events"
              aria-invalid={filter.problem !== null}
              data-testid="log-filter"
              spellCheck={false}
              onChange={(e) => filter.onChange(e.target.value)}
            />
          </label>
        )}
        {filter && (filter.problem || matches) && (
          <span
            className={
              filter.problem ? 'event-log__found event-log__found--bad' : 'event-log__found'
            }
            data-testid="log-found"
            role="status"
          >
            {filter.problem ??
              `${count.toLocaleString('en-US')} ${count === 1 ? 'match' : 'matches'}${filter.truncated ? ' (the word search stopped early: narrow it with sp=, gfn= or kind=)' : ''}`}
          </span>
        )}
        <button
          type="button"
          className="event-log__show"
          onClick={showCurrent}
          disabled={cursor === 0}
        >
          Show current
        </button>
      </header>
      <div
        ref={listRef}
        className="event-log__list"
        role="listbox"
        aria-label="Events"
        aria-activedescendant={activeRendered ? `${idBase}-row-${activeIndex}` : undefined}
        tabIndex={0}
        onScroll={onScroll}
        onKeyDown={onKeyDown}
      >
        {count === 0 ? (
          <p className="event-log__empty">
            {matches
              ? 'No event matches the filter.'
              : 'No events yet: run a scenario to fill the log.'}
          </p>
        ) : (
          <div className="event-log__spacer" style={{ height: spacer }}>
            {rows}
          </div>
        )}
      </div>
    </section>
  );
}
