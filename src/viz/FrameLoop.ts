// The one requestAnimationFrame owner: each frame moves every watched session's cursor, hands what
// changed to that session's renderer, lets the renderers draw, and publishes whether the app is
// idle (e2e tests wait on that).
import { decodeEvent, lastChangeInOp } from '../sim/events.ts';
import { opCover } from './address-layout.ts';
import type { Session } from '../store/session.ts';
import type { View } from './PanZoom.ts';
import type { PictureRenderer } from './picture.ts';

/** While a run streams in, its new tables join the picture this often. */
const TABLES_MS = 500;

interface Watched {
  renderer: PictureRenderer | null;
  /** A view to show once a renderer is attached (a link opened before the canvas exists). */
  view: View | null;
  tablesShown: number;
  /** When the table set was last laid out (while a run streams in, at most every TABLES_MS). */
  tablesAt: number;
  mirrorShown: unknown;
  /** The cursor the callout was last computed for. */
  focusAt: number;
  /** The statement whose operation the picture was last told about. */
  opFirst: number;
}

export class FrameLoop {
  private raf = 0;
  private readonly watched = new Map<Session, Watched>();
  private following = true;
  private readonly followListeners = new Set<() => void>();

  constructor(
    private readonly publishIdle: (idle: boolean) => void,
    /** A frame threw for this session: told once per kind of message, the loop goes on. */
    private readonly onError: (session: Session, error: unknown) => void = () => {},
  ) {}

  /** Messages already told, so an error that repeats every frame is told once. */
  private readonly told = new Set<string>();

  /** Drive this session's cursor from now on (its changes wake the loop). */
  watch(session: Session): void {
    if (this.watched.has(session)) return;
    this.watched.set(session, {
      renderer: null,
      view: null,
      tablesShown: -1,
      tablesAt: 0,
      mirrorShown: null,
      focusAt: -1,
      opFirst: -2,
    });
    session.onWake = () => this.request();
    this.request();
  }

  unwatch(session: Session): void {
    this.watched.delete(session);
    session.onWake = () => {};
    this.request();
  }

  /** The renderer showing `session` (null when its view unmounts). */
  attach(session: Session, renderer: PictureRenderer | null): void {
    this.watch(session);
    const w = this.watched.get(session);
    if (!w) return;
    w.renderer = renderer;
    w.tablesShown = -1;
    w.mirrorShown = null;
    w.focusAt = -1;
    w.opFirst = -2;
    renderer?.setFollowing(this.following);
    if (renderer && w.view) renderer.setView(w.view);
    w.view = null;
    this.request();
  }

  /** The camera of the canvas showing `session`, if one is shown. */
  viewOf(session: Session): View | null {
    return this.watched.get(session)?.renderer?.getView() ?? null;
  }

  setView(session: Session, view: View): void {
    const w = this.watched.get(session);
    if (!w) return;
    // A camera asked for (a link) is kept: following would move it.
    this.setFollowing(false);
    if (w.renderer) w.renderer.setView(view);
    else w.view = view;
    this.request();
  }

  /** Whether the cameras follow the action (a user pan or zoom pauses it; Follow resumes). */
  isFollowing(): boolean {
    return this.following;
  }

  setFollowing(on: boolean): void {
    if (this.following === on) return;
    this.following = on;
    for (const w of this.watched.values()) w.renderer?.setFollowing(on);
    for (const l of this.followListeners) l();
    this.request();
  }

  onFollowChange(listener: () => void): () => void {
    this.followListeners.add(listener);
    return () => this.followListeners.delete(listener);
  }

  request(): void {
    this.publishIdle(false);
    if (this.raf === 0) this.raf = requestAnimationFrame(this.tick);
  }

  dispose(): void {
    if (this.raf !== 0) cancelAnimationFrame(this.raf);
    this.raf = 0;
  }

  private readonly tick = (now: number): void => {
    this.raf = 0;
    let idle = true;
    for (const [session, w] of this.watched) {
      try {
        if (!this.step(session, w, now)) idle = false;
      } catch (e) {
        // One bad frame must not stop the picture for good: say it, and draw the next one.
        const message = e instanceof Error ? e.message : String(e);
        if (!this.told.has(message)) {
          this.told.add(message);
          this.onError(session, e);
        }
      }
    }
    this.publishIdle(idle);
    if (!idle) this.request();
  };

  /** The operation whose events the cursor is in (or just finished), for the views that draw it. */
  private tellOp(s: Session, w: Watched, setOp: PictureRenderer['setOp'] & {}, at: number): void {
    const spans = s.store.getState().statements;
    // The last statement starting before the cursor, while the cursor is within or just after it.
    const last = spans.lastStartingAtOrBefore(at - 1);
    const first = last >= 0 && at <= spans.end(last) ? spans.first(last) : -1;
    if (first === w.opFirst) return;
    w.opFirst = first;
    if (first < 0 || first >= s.events.length) {
      setOp(null);
      return;
    }
    const e = decodeEvent(s.events, first, s.events.spOf);
    setOp(e.type === 'opBegin' ? opCover(e, (id) => s.mirror.sps[id]) : null);
  }

  /** One frame for one session; true when it has nothing left to do. */
  private step(s: Session, w: Watched, now: number): boolean {
    const applied = s.advance(now);
    const r = w.renderer;
    if (r) {
      const tables = s.events.tables;
      // Laying out thousands of tables takes tens of ms: not on every batch of a run streaming in.
      const streaming = s.store.getState().runStatus === 'running';
      const grew = tables.length !== w.tablesShown && (!streaming || now - w.tablesAt >= TABLES_MS);
      if (grew) {
        r.setTables(tables.filter((t) => t !== undefined));
        w.tablesShown = tables.length;
        w.tablesAt = now;
      }
      // A new table set or a new run needs a full refresh; small moves are animated event by event.
      if (grew || w.mirrorShown !== s.mirror || applied?.kind === 'sync') {
        r.sync(s.mirror);
        w.mirrorShown = s.mirror;
      } else if (applied) {
        r.applyEvents(applied.events, s.mirror, applied.direction);
      }
      // The callout (and a following camera) wait for a seek to arrive: a long seek spans frames.
      const st = s.store.getState();
      const at = s.mirror.cursor;
      if (st.cursor !== st.target && !st.playing) {
        r.setFocus(null);
        w.focusAt = -1;
      } else if (at !== w.focusAt) {
        w.focusAt = at;
        // A change inside a table freed since is not on the picture: point at the last one that is.
        const shown = (sp: number) => s.mirror.sps[sp]?.freed === false;
        r.setFocus(at > 0 ? lastChangeInOp(s.events, s.events.spOf, at - 1, shown) : null);
        if (r.setOp) this.tellOp(s, w, r.setOp.bind(r), at);
      }
    }
    const animating = r ? r.frame(now) : false;
    return s.settled() && !animating;
  }
}
