// The one requestAnimationFrame owner: each frame moves the session's cursor, hands what changed
// to the renderer, lets it draw, and publishes whether the app is idle (e2e tests wait on that).
import type { Session } from '../store/session.ts';
import type { TreeRenderer } from './TreeRenderer.ts';

export class FrameLoop {
  private raf = 0;
  private renderer: TreeRenderer | null = null;
  private tablesShown = -1;
  private mirrorShown: unknown = null;

  constructor(
    private readonly session: Session,
    private readonly publishIdle: (idle: boolean) => void,
  ) {
    session.onWake = () => this.request();
  }

  attach(renderer: TreeRenderer | null): void {
    this.renderer = renderer;
    this.tablesShown = -1;
    this.mirrorShown = null;
    this.request();
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
    const s = this.session;
    const r = this.renderer;
    const applied = s.advance(now);
    if (r) {
      const tables = s.events.tables;
      const grew = tables.length !== this.tablesShown;
      if (grew) {
        r.setTables(tables.filter((t) => t !== undefined));
        this.tablesShown = tables.length;
      }
      // A new table set or a new run needs a full refresh; small moves are animated event by event.
      if (grew || this.mirrorShown !== s.mirror || applied?.kind === 'sync') {
        r.sync(s.mirror);
        this.mirrorShown = s.mirror;
      } else if (applied) {
        r.applyEvents(applied.events, s.mirror, applied.direction);
      }
    }
    const animating = r ? r.frame(now) : false;
    const idle = s.settled() && !animating;
    this.publishIdle(idle);
    if (!idle) this.request();
  };
}
