import { useCallback, useMemo, useState, type CSSProperties } from 'react';
import { useStore } from 'zustand';
import { DEFAULT_CONFIG, type VmConfig } from '../sim/names.ts';
import { PRESETS, type Preset } from '../sim/presets.ts';
import { parseScenario } from '../sim/scenario/parse.ts';
import { looksLikeTrace } from '../sim/trace/read-trace.ts';
import { COMPARE_CHOICES, describeDifference, withKernel } from '../store/compare.ts';
import { isKernel, KERNELS } from '../sim/profile.ts';
import { SessionGroup } from '../store/group.ts';
import {
  selectActiveLine,
  selectCursor,
  selectEventCount,
  selectFailures,
  selectHelpOpen,
  selectNotice,
  selectParseErrors,
  selectPresentation,
  selectRefused,
  selectKernel,
  selectProgress,
  selectRunMs,
  selectRunStatus,
  selectStopped,
  selectScript,
  selectLogFilter,
  selectMark,
  selectPlaying,
  selectSeekingTo,
  selectSelection,
  selectTheme,
  selectStatements,
  selectVersion,
} from '../store/selectors.ts';
import type { SimEvent } from '../sim/events.ts';
import { traceLine } from './step-words.ts';
import type { Session } from '../store/session.ts';
import type { Workspace } from '../store/workspace.ts';
import type { FrameLoop } from '../viz/FrameLoop.ts';
import { CompareCenter, CompareSummary } from './CompareView.tsx';
import { CompareTimeline } from './CompareTimeline.tsx';
import { EventLog } from './EventLog.tsx';
import { FileMenu } from './FileMenu.tsx';
import { HelpDialog } from './HelpDialog.tsx';
import { Icon } from './Icon.tsx';
import { Inspector } from './Inspector.tsx';
import { useKeyboard } from './keyboard.ts';
import { Legend } from './Legend.tsx';
import { PaneSplitter, usePaneWidth } from './PaneSplitter.tsx';
import { PresetMenu } from './PresetMenu.tsx';
import { QuickActions } from './QuickActions.tsx';
import { ScenarioEditor } from './ScenarioEditor.tsx';
import { SessionContext, useApp, useSession } from './session-context.ts';
import { ShareLink } from './ShareLink.tsx';
import { EntryHistory, NxListPanel, RootsPanel, StateDiff } from './ReviewPanels.tsx';
import { StatsPanel, type Shape } from './StatsPanel.tsx';
import { RaceExplorer } from './RaceExplorer.tsx';
import { StepCaption } from './StepCaption.tsx';
import { Timeline } from './Timeline.tsx';
import { LARGE_TRACE_CHARS, TraceText } from './TraceText.tsx';
import { TourView } from './TourView.tsx';
import { TOURS } from './tours/tours.ts';
import { TreeView } from './TreeView.tsx';
import {
  selectCompareBy,
  selectCompareFrom,
  selectCompareUndo,
  selectCompareVersion,
  selectMode,
  selectUndo,
  useWorkspace,
  useWs,
  WorkspaceContext,
} from './workspace-context.ts';
import './App.css';

export interface AppProps {
  workspace: Workspace;
  loop: FrameLoop;
  loadPreset: (p: Preset) => Promise<string>;
  /** The preset whose text the script is, if it is one unchanged. */
  presetOf: (script: string) => Preset | null;
}

export function App({ workspace, loop, loadPreset, presetOf }: AppProps) {
  return (
    <WorkspaceContext.Provider value={workspace}>
      <SessionContext.Provider value={workspace.main}>
        <Shell loop={loop} loadPreset={loadPreset} presetOf={presetOf} />
      </SessionContext.Provider>
    </WorkspaceContext.Provider>
  );
}

/** The vm settings in effect at the end of the script, and whether levels are still free. */
function scriptConfig(script: string): { config: VmConfig; locked: boolean } {
  let config = DEFAULT_CONFIG;
  let locked = false;
  // A trace is no scenario (and may be a hundred MiB): its VM is what its records show.
  if (looksLikeTrace(script)) return { config, locked: true };
  for (const st of parseScenario(script).statements) {
    if (st.kind === 'vm') {
      config = {
        kernel: st.kernel ?? config.kernel,
        levels: st.levels ?? config.levels,
        nxHugePages: st.nxHugePages ?? config.nxHugePages,
        recoveryRatio: st.recoveryRatio ?? config.recoveryRatio,
        vcpus: st.vcpus ?? config.vcpus,
        physBits: st.physBits ?? config.physBits,
      };
    } else {
      locked = true;
    }
  }
  return { config, locked };
}

/** Stats and counters at the cursor; `version` marks which state of the (mutable) mirror they are. */
function snapshot(mirror: Session['mirror'], version: number) {
  const roots = mirror.roots();
  const shape: Shape = {
    roots: roots.length,
    invalid_roots: roots.filter((r) => r.invalid).length,
    tables: mirror.sps.filter((sp) => sp.linked && sp.parent !== null).length,
  };
  return { version, stats: mirror.stats(), counters: { ...mirror.counters }, shape };
}

function Shell({ loop, loadPreset, presetOf }: Omit<AppProps, 'workspace'>) {
  const workspace = useWorkspace();
  const session = useSession();
  const mode = useWs(selectMode);
  useWs(selectCompareVersion);
  const notice = useApp(selectNotice);
  const presentation = useApp(selectPresentation);
  const undo = useWs(selectUndo);
  const [leftWidth, setLeftWidth] = usePaneWidth();
  const helpOpen = useApp(selectHelpOpen);
  const isTrace = useApp(selectStatements).isTrace;
  const b = workspace.compare;
  const comparing = mode === 'compare' && b !== null;

  const target = useMemo(
    () => (comparing && b ? new SessionGroup([session, b]) : session),
    [comparing, b, session],
  );
  const actions = useMemo(
    () => ({
      openHelp: () => session.store.setState({ helpOpen: true }),
      toggleFollow: () => loop.setFollowing(!loop.isFollowing()),
      togglePicture: () => {
        const next = session.store.getState().picture === 'tree' ? 'address' : 'tree';
        session.setPicture(next);
        b?.setPicture(next);
      },
      seekChange: (dir: 1 | -1) => {
        const sel = session.store.getState().selection;
        if (sel && sel.index !== null) session.seekChange(sel.sp, sel.index, dir);
      },
    }),
    [session, loop, b],
  );
  useKeyboard(target, actions);

  return (
    <div className="app" data-mode={mode} data-present={presentation ? 'true' : undefined}>
      <Header loadPreset={loadPreset} presetOf={presetOf} />
      <div className="notices">
        {notice && (
          <div className="notice" role="alert" data-testid="notice">
            {notice}
            <button type="button" onClick={() => session.dismissNotice()} aria-label="Dismiss">
              ×
            </button>
          </div>
        )}
        {undo && (
          <div className="notice notice-undo" role="status" data-testid="undo-notice">
            <span>Your script was replaced by {undo.what}.</span>
            <button type="button" onClick={() => workspace.undoReplace()}>
              Undo
            </button>
            <button type="button" onClick={() => workspace.dismissUndo()} aria-label="Dismiss">
              ×
            </button>
          </div>
        )}
      </div>
      <main
        className="app-main"
        style={leftWidth === null ? undefined : ({ '--left-w': `${leftWidth}px` } as CSSProperties)}
      >
        {comparing && b ? (
          <>
            <aside className="pane pane-left" aria-label="Scenarios">
              <CompareEditors a={session} b={b} />
            </aside>
            <CompareCenter a={session} b={b} loop={loop} />
            <CompareSummary a={session} b={b} />
          </>
        ) : (
          <>
            <aside className="pane pane-left" aria-label={mode === 'tour' ? 'Tour' : 'Scenario'}>
              {mode === 'tour' ? <TourView /> : <ScriptPane />}
              <PaneSplitter width={leftWidth} onWidth={setLeftWidth} />
            </aside>
            <div className="pane pane-center">
              <TreeView loop={loop} prompt={mode === 'explore'} />
              {presentation && <StepCaption />}
              <Legend
                key={String(presentation)}
                defaultOpen={presentation || window.innerHeight > 900}
                trace={isTrace}
              />
            </div>
            <DetailsPane />
          </>
        )}
      </main>
      <footer className="app-footer">
        {comparing && b ? <CompareTimeline a={session} b={b} /> : <Timeline />}
        {comparing && b ? <CompareLogs a={session} b={b} /> : <LogPane />}
      </footer>
      <HelpDialog open={helpOpen} onClose={() => session.store.setState({ helpOpen: false })} />
    </div>
  );
}

function Header({ loadPreset, presetOf }: Pick<AppProps, 'loadPreset' | 'presetOf'>) {
  const workspace = useWorkspace();
  const session = useSession();
  const mode = useWs(selectMode);
  const theme = useApp(selectTheme);
  const presentation = useApp(selectPresentation);
  const status = useApp(selectRunStatus);
  const count = useApp(selectEventCount);
  const runMs = useApp(selectRunMs);
  const parseErrors = useApp(selectParseErrors);
  const script = useApp(selectScript);
  const progress = useApp(selectProgress);
  const stopped = useApp(selectStopped);
  const spans = useApp(selectStatements);
  const { config } = useMemo(() => scriptConfig(script), [script]);
  const isTrace = looksLikeTrace(script);
  const traceKernel = useApp(selectKernel);
  const n = (v: number) => v.toLocaleString('en-US');

  const statusText =
    status === 'loading'
      ? 'loading…'
      : status === 'running'
        ? progress && progress.phase !== 'running'
          ? `${progress.phase === 'reading' ? 'reading the trace' : 'rebuilding'}… line ${n(progress.done)} of ${n(progress.total)}`
          : progress
            ? `running… line ${n(progress.done)} of ${n(progress.total)} · ${n(count)} events`
            : `running… ${n(count)} events`
        : parseErrors.length > 0
          ? `${parseErrors.length} error${parseErrors.length > 1 ? 's' : ''} in the ${isTrace ? 'trace' : 'script'}`
          : stopped
            ? `${n(count)} events · stopped at line ${n(stopped.done)} of ${n(stopped.total)}`
            : `${n(count)} events · ${runMs.toFixed(0)} ms`;

  return (
    <header className="app-header">
      <h1 className="brand">
        tdpviz <span className="brand-sub">KVM TDP MMU simulator</span>
      </h1>
      <nav className="mode-bar" aria-label="Mode">
        <button
          type="button"
          aria-pressed={mode === 'explore'}
          onClick={() => {
            if (mode === 'compare') workspace.exitCompare();
            else workspace.exitTour();
          }}
        >
          Explore
        </button>
        <button
          type="button"
          aria-pressed={mode === 'compare'}
          onClick={() => void workspace.enterCompare()}
        >
          Compare
        </button>
        <label className="tour-pick">
          <span className="sr-only">Guided tour</span>
          <select
            aria-label="Guided tour"
            value=""
            onChange={(e) => {
              if (e.target.value) void workspace.startTour(e.target.value);
            }}
          >
            <option value="" disabled>
              Tour…
            </option>
            {TOURS.map((t) => (
              <option key={t.id} value={t.id} title={t.summary}>
                {t.title}
              </option>
            ))}
          </select>
        </label>
      </nav>
      {mode === 'explore' && (
        <PresetMenu
          presets={PRESETS}
          current={presetOf(script)}
          onLoad={(p) => void workspace.replaceScript(`the preset “${p.title}”`, loadPreset(p))}
        />
      )}
      <span className={`run-status ${status}`} role="status" data-testid="run-status">
        {statusText}
      </span>
      {status === 'running' && progress && (
        <button
          type="button"
          className="run-stop"
          onClick={() => session.stopRun()}
          title={
            progress.phase === 'reading'
              ? 'Stop reading: the trace is rebuilt up to the line reached'
              : progress.phase === 'rebuilding'
                ? 'Stop: the run ends at the line reached'
                : 'Stop the script: the events made so far stay on the timeline'
          }
        >
          Stop
        </button>
      )}
      {mode !== 'compare' && (
        <label
          className="kernel-pick"
          title="The kernel whose TDP MMU the script's VM follows (vm kernel=)"
        >
          <span>kernel</span>
          <select
            value={isTrace ? traceKernel : config.kernel}
            data-testid="kernel"
            disabled={mode !== 'explore' || isTrace}
            title={
              isTrace
                ? 'An imported trace: the kernel follows from its SPTE encoding (6.10+ sets bit 63 in non-present SPTEs)'
                : undefined
            }
            onChange={(e) => {
              const k = e.target.value;
              if (isKernel(k))
                void workspace.replaceScript(`the kernel ${k}`, withKernel(script, k));
            }}
          >
            {KERNELS.map((k) => (
              <option key={k} value={k}>
                {k}
              </option>
            ))}
          </select>
        </label>
      )}
      {isTrace ? (
        // A trace does not say how the VM was configured: only what its records show.
        <span className="header-config" title="What the imported trace shows of the VM">
          trace{spans.table.trace ? ` · ${spans.table.trace.levels}-level` : ''}
        </span>
      ) : (
        <span className="header-config" title="vm settings at the end of the script">
          {config.levels}-level · NX {config.nxHugePages ? 'on' : 'off'} · ratio{' '}
          {config.recoveryRatio}
        </span>
      )}
      <div className="header-actions">
        <button
          type="button"
          aria-pressed={presentation}
          onClick={() => session.setPresentation(!presentation)}
          title="Presentation mode: large type, the essentials, the step's words beside the picture"
        >
          Present
        </button>
        <ShareLink />
        <FileMenu />
        <button
          type="button"
          onClick={() => session.setTheme(theme === 'dark' ? 'light' : 'dark')}
          aria-label={theme === 'dark' ? 'Switch to light theme' : 'Switch to dark theme'}
        >
          <Icon name={theme === 'dark' ? 'sun' : 'moon'} />
        </button>
        <button
          type="button"
          onClick={() => session.store.setState({ helpOpen: true })}
          aria-label="Keyboard shortcuts"
        >
          ?
        </button>
      </div>
    </header>
  );
}

/** The script editor and the quick actions (explore mode). */
function ScriptPane() {
  const session = useSession();
  const script = useApp(selectScript);
  const { config, locked } = useMemo(() => scriptConfig(script), [script]);
  const append = useCallback((line: string) => session.appendStatement(line), [session]);
  return (
    <>
      <Editor />
      <RaceExplorer />
      {/* Statements appended to a trace would not run: a trace is replayed, not scripted. */}
      {!looksLikeTrace(script) && (
        <details className="quick-box" open>
          <summary>Quick actions — append a statement</summary>
          <QuickActions config={config} locked={locked} onAppend={append} />
        </details>
      )}
    </>
  );
}

/** The editor of the session in context. */
function Editor() {
  const session = useSession();
  const script = useApp(selectScript);
  const parseErrors = useApp(selectParseErrors);
  const refused = useApp(selectRefused);
  const failures = useApp(selectFailures);
  const activeLine = useApp(selectActiveLine);
  const editScript = useCallback((v: string) => session.editScript(v), [session]);
  const runTo = useCallback((line: number) => session.runToLine(line), [session]);
  if (script.length > LARGE_TRACE_CHARS && looksLikeTrace(script)) {
    return (
      <div className="editor-box">
        <TraceText />
      </div>
    );
  }
  return (
    <div className="editor-box">
      <ScenarioEditor
        value={script}
        onChange={editScript}
        errors={parseErrors}
        refused={refused}
        failures={failures}
        activeLine={activeLine}
        onRunTo={runTo}
      />
    </div>
  );
}

/** Compare mode's two scripts, one tab each. */
function CompareEditors({ a, b }: { a: Session; b: Session }) {
  const workspace = useWorkspace();
  const [tab, setTab] = useState<'A' | 'B'>('A');
  const sa = useStore(a.store, selectScript);
  const sb = useStore(b.store, selectScript);
  const from = useWs(selectCompareFrom);
  const by = useWs(selectCompareBy);
  const undo = useWs(selectCompareUndo);
  const hint = useMemo(() => describeDifference(sa, sb), [sa, sb]);
  const shown = tab === 'A' ? a : b;
  return (
    <>
      <label className="compare-by">
        <span>Compare</span>
        <select
          value={by}
          data-testid="compare-by"
          onChange={(e) => void workspace.setComparison(e.target.value)}
        >
          {COMPARE_CHOICES.map((c) => (
            <option key={c.id} value={c.id}>
              {c.label}
            </option>
          ))}
        </select>
      </label>
      {undo && (
        <div className="compare-undo" role="status" data-testid="compare-undo">
          <span>Both pane scripts were derived again from the Explore script.</span>
          <button type="button" onClick={() => void workspace.undoComparison()}>
            Undo
          </button>
        </div>
      )}
      <div className="tabs" role="tablist" aria-label="Scripts">
        <PaneTabs value={tab} onChange={setTab} label={(t) => `Script ${t}`} />
        <button type="button" className="tabs-measure" onClick={() => void workspace.measure()}>
          Re-measure
        </button>
      </div>
      <SessionContext.Provider value={shown}>
        <Editor key={tab} />
      </SessionContext.Provider>
      {from === 'no-strategy' && (
        <div className="compare-offer" role="note" data-testid="compare-offer">
          <p>
            Your Explore script has no <code>zap_sp</code> or <code>recover_nx</code>, so the two
            strategies would run it the same way. It is kept as it is; both panes run it.
          </p>
          <button type="button" onClick={() => void workspace.compareDefault()}>
            Compare the default scenario instead
          </button>
        </div>
      )}
      <p className="compare-hint" data-testid="compare-hint">
        {hint}
      </p>
    </>
  );
}

/** Stats, the inspector and the reviewer's panels: the panes that follow every move of the cursor. */
function DetailsPane() {
  const session = useSession();
  const version = useApp(selectVersion);
  const selection = useApp(selectSelection);
  const cursor = useApp(selectCursor);
  const mark = useApp(selectMark);
  const playing = useApp(selectPlaying);
  const mirror = session.mirror;
  const kernel = useApp(selectKernel);
  const stats = useMemo(() => snapshot(mirror, version), [mirror, version]);
  // The values before the last move, so the panel can show what changed. A long seek shows its
  // way a few times a second: its move is the whole seek, from where it started.
  const seeking = useApp(selectSeekingTo) !== null;
  const [history, setHistory] = useState({ shown: stats, previous: stats, seeking });
  if (history.shown !== stats) {
    const previous = history.seeking ? history.previous : history.shown;
    setHistory({ shown: stats, previous, seeking });
  }
  const selectTable = useCallback((sp: number) => session.select({ sp, index: null }), [session]);
  return (
    <aside className="pane pane-right" aria-label="Details">
      <StatsPanel
        stats={stats.stats}
        counters={stats.counters}
        shape={stats.shape}
        previous={history.previous}
        kernel={kernel}
      />
      <Inspector mirror={mirror} version={version} selection={selection} />
      {selection && selection.index !== null && (
        <EntryHistory session={session} sp={selection.sp} index={selection.index} cursor={cursor} />
      )}
      <StateDiff session={session} mirror={mirror} mark={mark} cursor={cursor} playing={playing} />
      <NxListPanel mirror={mirror} onSelect={selectTable} />
      <RootsPanel mirror={mirror} onSelect={selectTable} />
    </aside>
  );
}

function LogPane({ title = 'Event log' }: { title?: string }) {
  const session = useSession();
  const count = useApp(selectEventCount);
  const cursor = useApp(selectCursor);
  const logFilter = useApp(selectLogFilter);
  const kernel = useApp(selectKernel);
  const jump = useCallback((c: number) => session.seek(c), [session]);
  const statements = useApp(selectStatements);
  const describe = useCallback(
    (i: number, ev: SimEvent) => {
      if (ev.type !== 'opBegin' || ev.op !== 'trace') return null;
      const span = statements.at(statements.startingAt(i));
      return span ? traceLine(span) : null;
    },
    [statements],
  );
  const filter = useMemo(
    () => ({ ...logFilter, onChange: (text: string) => session.setLogFilter(text) }),
    [logFilter, session],
  );
  return (
    <EventLog
      count={count}
      cursor={cursor}
      getEvent={session.eventAt}
      describe={describe}
      onJump={jump}
      title={`${title} · kernel ${kernel}`}
      filter={filter}
    />
  );
}

/** One tab per compare pane. */
function PaneTabs({
  value,
  onChange,
  label,
}: {
  value: 'A' | 'B';
  onChange: (pane: 'A' | 'B') => void;
  label: (pane: 'A' | 'B') => string;
}) {
  return (
    <>
      {(['A', 'B'] as const).map((p) => (
        <button
          key={p}
          type="button"
          role="tab"
          aria-selected={value === p}
          onClick={() => onChange(p)}
        >
          {label(p)}
        </button>
      ))}
    </>
  );
}

/** Compare mode: one event log per pane, each labelled, one shown at a time. */
function CompareLogs({ a, b }: { a: Session; b: Session }) {
  const [pane, setPane] = useState<'A' | 'B'>('A');
  return (
    <div className="compare-logs">
      <div className="tabs compare-log-tabs" role="tablist" aria-label="Event logs">
        <PaneTabs value={pane} onChange={setPane} label={(p) => `Log of pane ${p}`} />
      </div>
      <SessionContext.Provider value={pane === 'A' ? a : b}>
        <LogPane key={pane} title={`Event log · pane ${pane}`} />
      </SessionContext.Provider>
    </div>
  );
}
