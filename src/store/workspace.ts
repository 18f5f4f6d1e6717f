// The workspace around the sessions: which mode the app is in (explore, compare, tour), the second
// pane of compare mode, the tour's place and score, and the state a link carries.
import { createStore } from 'zustand/vanilla';
import type { ScaleRow } from '../protocol/messages.ts';
import { EV } from '../sim/event-log.ts';
import { eventKind } from '../sim/events.ts';
import { compareChoice, DEFAULT_COMPARE, deriveComparison } from './compare.ts';
import { checkLinkState, type CameraView, type LinkState, type Mode } from './link.ts';
import type { ScriptFile, Session } from './session.ts';

/** What the workspace needs of a tour (the tours themselves are UI content). */
export interface TourLike {
  id: string;
  script: string;
  steps: readonly { at: { line: number; edge: 'before' | 'after'; stretch?: number } }[];
}

export interface WorkspaceState {
  mode: Mode;
  tour: { id: string; step: number } | null;
  predict: boolean;
  score: { right: number; asked: number };
  refaults: [number | null, number | null];
  scaling: ScaleRow[] | null;
  /** Bumps when the compare session is created or dropped. */
  compareVersion: number;
  /**
   * Where compare mode's scripts came from: derived from the Explore script, the Explore script
   * twice (it has nothing a strategy changes), the default comparison, or a link.
   */
  compareFrom: 'explore' | 'no-strategy' | 'default' | 'link';
  /** What Compare puts side by side (an id of COMPARE_CHOICES). */
  compareBy: string;
  /** The two pane scripts a change of compareBy replaced, one click away. */
  compareUndo: { by: string; a: string; b: string } | null;
  /** The compare pane whose entry the inspector shows. */
  selectedPane: 'A' | 'B';
  /** The script a preset, import or link replaced, one click away. */
  undo: { what: string; script: string; cursor: number } | null;
}

/** A mode's own script and cursor. */
interface Work {
  script: string;
  cursor: number;
}

export const SCALE_NS = [1, 2, 4, 8, 16, 32, 64];
export const SCALE_ROOTS = [1, 2];

export interface WorkspaceHooks {
  makeSession: () => Session;
  watch: (s: Session) => void;
  unwatch: (s: Session) => void;
  /** The scenario compare mode opens with when the script has no zap strategy to compare. */
  defaultCompareScript: () => Promise<string>;
  tours: readonly TourLike[];
  /** The canvas camera of a session's pane, and setting it (the view a link keeps). */
  getView: (s: Session) => CameraView | null;
  setView: (s: Session, v: CameraView) => void;
}

export class Workspace {
  readonly store = createStore<WorkspaceState>()(() => ({
    mode: 'explore',
    tour: null,
    predict: false,
    score: { right: 0, asked: 0 },
    refaults: [null, null],
    scaling: null,
    compareVersion: 0,
    compareFrom: 'explore',
    compareBy: DEFAULT_COMPARE,
    compareUndo: null,
    selectedPane: 'A',
    undo: null,
  }));
  compare: Session | null = null;
  private compareOffs: (() => void)[] = [];
  /** The cursor range of the tour step just shown, which the timeline must not override. */
  private pinned: { from: number; to: number } | null = null;
  /** The Explore workspace, kept while Compare or a Tour borrows the main session. */
  private explore: Work | null = null;

  constructor(
    readonly main: Session,
    private readonly hooks: WorkspaceHooks,
  ) {
    main.store.subscribe(() => this.followTimeline());
  }

  // ---- Compare ------------------------------------------------------------------------------

  /**
   * Two panes derived from the Explore script (every zap strategy walk on the left, direct on the
   * right), or the given scripts. The Explore script itself is kept aside, untouched.
   */
  async enterCompare(scripts?: {
    a: string;
    b: string;
    cursorA?: number;
    cursorB?: number;
  }): Promise<void> {
    this.keepExplore();
    let a = scripts?.a;
    let b = scripts?.b;
    let from: WorkspaceState['compareFrom'] = 'link';
    if (a === undefined || b === undefined) {
      const how = compareChoice(this.store.getState().compareBy).how;
      const derived = deriveComparison(this.explore?.script ?? '', how);
      a = derived.a;
      b = derived.b;
      from = derived.changed ? 'explore' : 'no-strategy';
    }
    this.store.setState({ compareUndo: null });
    await this.showComparison(a, b, from, scripts?.cursorA ?? 0, scripts?.cursorB ?? 0);
  }

  /** Compare the default scenario (when the Explore script has nothing a strategy changes). */
  async compareDefault(): Promise<void> {
    const how = compareChoice(this.store.getState().compareBy).how;
    const derived = deriveComparison(await this.hooks.defaultCompareScript(), how);
    await this.showComparison(derived.a, derived.b, 'default', 0, 0);
  }

  /**
   * Put something else side by side: both panes are derived again from the Explore script (which
   * stays as it was). The pane scripts this replaces can be brought back with undoComparison().
   */
  async setComparison(by: string): Promise<void> {
    const b = this.compare;
    const st = this.store.getState();
    if (st.mode !== 'compare' || !b || by === st.compareBy) return;
    const before = {
      by: st.compareBy,
      a: this.main.store.getState().script,
      b: b.store.getState().script,
    };
    const source =
      st.compareFrom === 'default'
        ? await this.hooks.defaultCompareScript()
        : (this.explore?.script ?? '');
    const derived = deriveComparison(source, compareChoice(by).how);
    const replaced = derived.a !== before.a || derived.b !== before.b;
    this.store.setState({ compareBy: by, compareUndo: replaced ? before : null });
    await this.showComparison(
      derived.a,
      derived.b,
      st.compareFrom === 'default' ? 'default' : derived.changed ? 'explore' : 'no-strategy',
      0,
      0,
    );
  }

  /** Bring back the pane scripts the last change of comparison replaced. */
  async undoComparison(): Promise<void> {
    const u = this.store.getState().compareUndo;
    if (!u || !this.compare) return;
    this.store.setState({ compareBy: u.by, compareUndo: null });
    await this.showComparison(u.a, u.b, this.store.getState().compareFrom, 0, 0);
  }

  private async showComparison(
    a: string,
    b: string,
    from: WorkspaceState['compareFrom'],
    cursorA: number,
    cursorB: number,
  ): Promise<void> {
    this.store.setState({ mode: 'compare', tour: null, refaults: [null, null], compareFrom: from });
    if (!this.compare) {
      const b = this.hooks.makeSession();
      this.compare = b;
      this.hooks.watch(b);
      // App-wide settings are the main session's; pane B follows them (theme, speed, motion).
      const follow = () => {
        const m = this.main.store.getState();
        const o = b.store.getState();
        if (o.theme !== m.theme || o.speed !== m.speed || o.motion !== m.motion)
          b.store.setState({ theme: m.theme, speed: m.speed, motion: m.motion });
      };
      follow();
      // One selection across both panes: selecting in one clears the other.
      const only =
        (other: Session, pane: 'A' | 'B') =>
        (s: { selection: unknown }, prev: { selection: unknown }) => {
          if (s.selection === prev.selection || !s.selection) return;
          other.select(null);
          if (this.store.getState().selectedPane !== pane)
            this.store.setState({ selectedPane: pane });
        };
      this.compareOffs = [
        this.main.store.subscribe(follow),
        this.main.store.subscribe(only(b, 'A')),
        b.store.subscribe(only(this.main, 'B')),
      ];
      this.store.setState((s) => ({ compareVersion: s.compareVersion + 1 }));
    }
    this.main.setScript(a, cursorA);
    this.compare.setScript(b, cursorB);
    await this.measure();
  }

  /** Re-run both panes' scripts' measurements (after an edit). */
  async measure(): Promise<void> {
    const b = this.compare;
    if (!b) return;
    const [ra, rb] = await Promise.all([
      this.main.request('analyze', { script: this.main.store.getState().script }),
      b.request('analyze', { script: b.store.getState().script }),
    ]);
    this.store.setState({
      refaults: [
        ra.type === 'analysis' ? ra.refaults : null,
        rb.type === 'analysis' ? rb.refaults : null,
      ],
    });
    if (!this.store.getState().scaling) {
      const sc = await b.request('scale', { ns: SCALE_NS, roots: SCALE_ROOTS });
      if (sc.type === 'scaling') this.store.setState({ scaling: sc.rows });
    }
  }

  exitCompare(): void {
    this.dropCompare();
    this.store.setState({ mode: 'explore', compareUndo: null });
    this.restoreExplore();
  }

  private dropCompare(): void {
    const b = this.compare;
    if (!b) return;
    for (const off of this.compareOffs.splice(0)) off();
    this.hooks.unwatch(b);
    b.dispose();
    this.compare = null;
    this.store.setState((s) => ({ compareVersion: s.compareVersion + 1 }));
  }

  // ---- The Explore workspace ------------------------------------------------------------------

  /** Entering another mode from Explore: keep its script and cursor (storage keeps them too). */
  private keepExplore(): void {
    if (this.store.getState().mode !== 'explore' || this.explore) return;
    const s = this.main.store.getState();
    this.explore = { script: s.script, cursor: s.cursor };
    this.main.holdSaved(this.explore);
  }

  /** Back in Explore: exactly the script and cursor the user left there. */
  private restoreExplore(): void {
    const work = this.explore;
    this.explore = null;
    this.main.holdSaved(null);
    if (work) this.main.setScript(work.script, work.cursor);
  }

  /**
   * Put a new script in Explore (a preset, an import, a link), keeping the one it replaces one
   * click away. `text` may still be on its way (a preset being fetched); `file`, when given, holds
   * exactly that text (the worker reads it itself).
   */
  async replaceScript(
    what: string,
    text: string | Promise<string>,
    cursor = 0,
    file?: ScriptFile,
  ): Promise<void> {
    const mode = this.store.getState().mode;
    if (mode === 'compare') this.exitCompare();
    else if (mode === 'tour') this.exitTour();
    const before = this.main.store.getState();
    const old = { script: before.script, cursor: before.cursor };
    await this.main.loadScript(Promise.resolve(text), cursor, file);
    const now = this.main.store.getState().script;
    this.store.setState({
      undo: old.script.trim() !== '' && old.script !== now ? { what, ...old } : null,
    });
  }

  /** Bring back the script the last preset, import or link replaced. */
  undoReplace(): void {
    const u = this.store.getState().undo;
    if (!u) return;
    // What was replaced was the Explore script: go back there before restoring it.
    const mode = this.store.getState().mode;
    if (mode === 'compare') this.exitCompare();
    else if (mode === 'tour') this.exitTour();
    this.store.setState({ undo: null });
    this.main.setScript(u.script, u.cursor);
  }

  dismissUndo(): void {
    this.store.setState({ undo: null });
  }

  /** Both panes, for the shared timeline. */
  panes(): Session[] {
    return this.compare ? [this.main, this.compare] : [this.main];
  }

  // ---- Tours --------------------------------------------------------------------------------

  tourById(id: string): TourLike | undefined {
    return this.hooks.tours.find((t) => t.id === id);
  }

  async startTour(id: string, step = 0, cursor?: number): Promise<void> {
    const tour = this.tourById(id);
    if (!tour) return;
    this.keepExplore();
    this.dropCompare();
    this.store.setState({ mode: 'tour', tour: { id, step: 0 }, score: { right: 0, asked: 0 } });
    this.main.setScript(tour.script, 0);
    await this.main.whenFinished();
    // A resumed tour comes back to the very event it was on, not just to its step.
    if (cursor !== undefined) {
      this.pinned = { from: cursor, to: cursor };
      this.store.setState({
        tour: { id, step: Math.max(0, Math.min(tour.steps.length - 1, step)) },
      });
      this.main.seek(cursor);
    } else this.goToStep(step, 'jump');
  }

  /**
   * Where a tour step puts the cursor: just before or after its statement's events, or in a race
   * at the end of one of its stretches (an actor switch starts the next).
   */
  stepTarget(tour: TourLike, step: number): number {
    const at = tour.steps[step]?.at;
    const spans = this.main.store.getState().statements;
    const span = at && spans.at(spans.onLine(at.line));
    if (!at || !span) return 0;
    if (at.stretch !== undefined) {
      const events = this.main.events;
      let seen = -1;
      for (let i = span.firstEvent; i < Math.min(span.endEvent, events.length); i++) {
        if (eventKind(events, i) === EV.actor && ++seen === at.stretch + 1) return i;
      }
      return span.endEvent;
    }
    return at.edge === 'before' ? span.firstEvent : span.endEvent;
  }

  /** The step whose events hold the cursor: step k spans (target(k - 1), target(k)]. */
  stepAt(tour: TourLike, cursor: number): number {
    for (let k = 0; k < tour.steps.length; k++) if (cursor <= this.stepTarget(tour, k)) return k;
    return tour.steps.length - 1;
  }

  /** Show a step: `play` runs its events at the chosen speed (Next), `jump` goes to its end. */
  goToStep(step: number, how: 'play' | 'jump' = 'jump'): void {
    const t = this.store.getState().tour;
    const tour = t && this.tourById(t.id);
    if (!t || !tour) return;
    const k = Math.max(0, Math.min(tour.steps.length - 1, step));
    const to = this.stepTarget(tour, k);
    const from = how === 'play' && k > 0 ? this.stepTarget(tour, k - 1) : to;
    // The step shown stays k while its own events play, its first cursor included.
    this.pinned = { from, to };
    this.store.setState({ tour: { id: t.id, step: k } });
    if (from < to) this.main.playRange(from, to);
    else this.main.seek(to);
  }

  /** The tour text follows the timeline when the user plays or scrubs inside a tour. */
  private followTimeline(): void {
    const w = this.store.getState();
    const tour = w.mode === 'tour' && w.tour ? this.tourById(w.tour.id) : undefined;
    if (!tour || !w.tour) return;
    const s = this.main.store.getState();
    if (s.runStatus !== 'done' || s.cursor !== s.target) return;
    const p = this.pinned;
    if (p && s.cursor >= p.from && s.cursor <= p.to) return;
    this.pinned = null;
    const k = this.stepAt(tour, s.cursor);
    if (k !== w.tour.step) this.store.setState({ tour: { id: w.tour.id, step: k } });
  }

  exitTour(): void {
    this.store.setState({ mode: 'explore', tour: null });
    this.restoreExplore();
  }

  setPredict(on: boolean): void {
    this.store.setState({ predict: on });
  }

  answer(correct: boolean): void {
    this.store.setState((s) => ({
      score: { right: s.score.right + (correct ? 1 : 0), asked: s.score.asked + 1 },
    }));
  }

  // ---- Persistence ------------------------------------------------------------------------------

  /** What a reload must bring back beyond the main session's own save: mode, tour, second pane. */
  saved(): string {
    const w = this.store.getState();
    return JSON.stringify({ link: this.linkState(), predict: w.predict, score: w.score });
  }

  /** Resume a saved tour or comparison; anything unreadable is ignored (the session's save stands). */
  async resume(raw: string | null): Promise<void> {
    if (!raw) return;
    let saved: { link?: unknown; predict?: unknown; score?: { right?: unknown; asked?: unknown } };
    try {
      saved = JSON.parse(raw) as typeof saved;
    } catch {
      return;
    }
    const link = saved.link as LinkState | undefined;
    if (!link || link.mode === 'explore') return;
    let state: LinkState;
    try {
      state = checkLinkState(link);
    } catch {
      return;
    }
    await this.apply(state);
    const score = saved.score;
    this.store.setState({
      predict: saved.predict === true,
      score:
        score && typeof score.right === 'number' && typeof score.asked === 'number'
          ? { right: score.right, asked: score.asked }
          : { right: 0, asked: 0 },
    });
  }

  // ---- Links --------------------------------------------------------------------------------

  linkState(): LinkState {
    const a = this.main.store.getState();
    const w = this.store.getState();
    const state: LinkState = {
      v: 1,
      mode: w.mode,
      script: a.script,
      cursor: a.cursor,
      theme: a.theme,
      selection: a.selection,
    };
    if (a.presentation) state.present = true;
    if (a.picture === 'address') state.picture = 'address';
    const view = this.hooks.getView(this.main);
    if (view) state.view = view;
    if (this.compare) {
      const b = this.compare.store.getState();
      state.scriptB = b.script;
      state.cursorB = b.cursor;
      const viewB = this.hooks.getView(this.compare);
      if (viewB) state.viewB = viewB;
    }
    if (w.tour) state.tour = { ...w.tour };
    return state;
  }

  /** Reproduce a link's state (already checked by decodeLink). */
  async apply(state: LinkState): Promise<void> {
    if (state.theme) this.main.setTheme(state.theme);
    this.main.setPresentation(state.present === true);
    this.main.setPicture(state.picture ?? 'tree');
    if (state.mode === 'compare' && state.scriptB !== undefined) {
      await this.enterCompare({
        a: state.script,
        b: state.scriptB,
        cursorA: state.cursor,
        cursorB: state.cursorB ?? 0,
      });
    } else if (state.mode === 'tour' && state.tour && this.tourById(state.tour.id)) {
      await this.startTour(state.tour.id, state.tour.step, state.cursor);
    } else {
      await this.replaceScript('the link', state.script, state.cursor);
    }
    await this.main.whenFinished();
    this.main.select(state.selection ?? null);
    if (state.view) this.hooks.setView(this.main, state.view);
    if (state.viewB && this.compare) this.hooks.setView(this.compare, state.viewB);
  }
}
