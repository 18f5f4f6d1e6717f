import { useCallback, useMemo, useState } from 'react';
import { PRESETS, type Preset } from '../sim/presets.ts';
import { parseScenario } from '../sim/scenario/parse.ts';
import { DEFAULT_CONFIG, type VmConfig } from '../sim/names.ts';
import type { Session } from '../store/session.ts';
import {
  selectActiveLine,
  selectCursor,
  selectEventCount,
  selectFailures,
  selectHelpOpen,
  selectNotice,
  selectParseErrors,
  selectRefused,
  selectRunMs,
  selectRunStatus,
  selectScript,
  selectSelection,
  selectTheme,
  selectVersion,
} from '../store/selectors.ts';
import { FrameLoop } from '../viz/FrameLoop.ts';
import { EventLog } from './EventLog.tsx';
import { HelpDialog } from './HelpDialog.tsx';
import { Icon } from './Icon.tsx';
import { Inspector } from './Inspector.tsx';
import { useKeyboard } from './keyboard.ts';
import { Legend } from './Legend.tsx';
import { PresetMenu } from './PresetMenu.tsx';
import { QuickActions } from './QuickActions.tsx';
import { ScenarioEditor } from './ScenarioEditor.tsx';
import { SessionContext, useApp, useSession } from './session-context.ts';
import { StatsPanel } from './StatsPanel.tsx';
import { Timeline } from './Timeline.tsx';
import { TreeView } from './TreeView.tsx';
import './App.css';

export interface AppProps {
  session: Session;
  loop: FrameLoop;
  loadPreset: (p: Preset) => Promise<string>;
}

export function App({ session, loop, loadPreset }: AppProps) {
  return (
    <SessionContext.Provider value={session}>
      <Shell loop={loop} loadPreset={loadPreset} />
    </SessionContext.Provider>
  );
}

/** The vm settings in effect at the end of the script, and whether levels are still free. */
function scriptConfig(script: string): { config: VmConfig; locked: boolean } {
  let config = DEFAULT_CONFIG;
  let locked = false;
  for (const st of parseScenario(script).statements) {
    if (st.kind === 'vm') {
      config = {
        levels: st.levels ?? config.levels,
        nxHugePages: st.nxHugePages ?? config.nxHugePages,
        recoveryRatio: st.recoveryRatio ?? config.recoveryRatio,
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
  return { version, stats: mirror.stats(), counters: { ...mirror.counters } };
}

function Shell({ loop, loadPreset }: Omit<AppProps, 'session'>) {
  const session = useSession();
  const theme = useApp(selectTheme);
  const script = useApp(selectScript);
  const parseErrors = useApp(selectParseErrors);
  const refused = useApp(selectRefused);
  const failures = useApp(selectFailures);
  const activeLine = useApp(selectActiveLine);
  const status = useApp(selectRunStatus);
  const count = useApp(selectEventCount);
  const runMs = useApp(selectRunMs);
  const notice = useApp(selectNotice);
  const helpOpen = useApp(selectHelpOpen);
  useKeyboard(session);

  const { config, locked } = useMemo(() => scriptConfig(script), [script]);
  const editScript = useCallback((v: string) => session.editScript(v), [session]);
  const append = useCallback((line: string) => session.appendStatement(line), [session]);

  const statusText =
    status === 'loading'
      ? 'loading…'
      : status === 'running'
        ? `running… ${count.toLocaleString('en-US')} events`
        : parseErrors.length > 0
          ? `${parseErrors.length} error${parseErrors.length > 1 ? 's' : ''} in the script`
          : `${count.toLocaleString('en-US')} events · ran in ${runMs.toFixed(0)} ms`;

  return (
    <div className="app">
      <header className="app-header">
        <h1 className="brand">
          tdpviz <span className="brand-sub">KVM TDP MMU simulator</span>
        </h1>
        <PresetMenu presets={PRESETS} onLoad={(p) => void session.loadScript(loadPreset(p))} />
        <span className={`run-status ${status}`} role="status" data-testid="run-status">
          {statusText}
        </span>
        <span className="header-config" title="vm settings at the end of the script">
          {config.levels}-level · NX huge pages {config.nxHugePages ? 'on' : 'off'} · ratio{' '}
          {config.recoveryRatio}
        </span>
        <div className="header-actions">
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
      {notice && (
        <div className="notice" role="alert">
          {notice}
          <button type="button" onClick={() => session.dismissNotice()} aria-label="Dismiss">
            ×
          </button>
        </div>
      )}
      <main className="app-main">
        <aside className="pane pane-left" aria-label="Scenario">
          <div className="editor-box">
            <ScenarioEditor
              value={script}
              onChange={editScript}
              errors={parseErrors}
              refused={refused}
              failures={failures}
              activeLine={activeLine}
            />
          </div>
          <QuickActions config={config} locked={locked} onAppend={append} />
        </aside>
        <div className="pane pane-center">
          <TreeView loop={loop} />
          <Legend defaultOpen={window.innerHeight > 900} />
        </div>
        <DetailsPane />
      </main>
      <footer className="app-footer">
        <Timeline />
        <LogPane />
      </footer>
      <HelpDialog open={helpOpen} onClose={() => session.store.setState({ helpOpen: false })} />
    </div>
  );
}

/** Stats and inspector: the only panes that follow every move of the cursor. */
function DetailsPane() {
  const session = useSession();
  const version = useApp(selectVersion);
  const selection = useApp(selectSelection);
  const mirror = session.mirror;
  const stats = useMemo(() => snapshot(mirror, version), [mirror, version]);
  // The values before the last move, so the panel can show what changed.
  const [history, setHistory] = useState({ shown: stats, previous: stats });
  if (history.shown !== stats) setHistory({ shown: stats, previous: history.shown });
  return (
    <aside className="pane pane-right" aria-label="Details">
      <StatsPanel stats={stats.stats} counters={stats.counters} previous={history.previous} />
      <Inspector mirror={mirror} version={version} selection={selection} />
    </aside>
  );
}

function LogPane() {
  const session = useSession();
  const count = useApp(selectEventCount);
  const cursor = useApp(selectCursor);
  const jump = useCallback((c: number) => session.seek(c), [session]);
  return <EventLog count={count} cursor={cursor} getEvent={session.eventAt} onJump={jump} />;
}
