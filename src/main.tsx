import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import type { SimClient } from './client/SimClient.ts';
import { createSimWorker, WorkerSimClient } from './client/WorkerSimClient.ts';
import { PRESETS, type Preset } from './sim/presets.ts';
import { decodeLink, LINK_PREFIX, LinkError } from './store/link.ts';
import { Session } from './store/session.ts';
import { Workspace } from './store/workspace.ts';
import { TOURS } from './ui/tours/tours.ts';
import { App } from './ui/App.tsx';
import { FrameLoop } from './viz/FrameLoop.ts';
import './ui/theme.css';

const params = new URLSearchParams(location.search);
/** The simulation on the page itself, for when no worker can start (loaded only then). */
const inPage = async (): Promise<SimClient> =>
  new (await import('./client/InProcessSimClient.ts')).InProcessSimClient();
// The simulation core reaches the page only when asked for (?worker=0): a chunk of its own.
const client: SimClient =
  typeof Worker === 'undefined' || params.get('worker') === '0'
    ? await inPage()
    : new WorkerSimClient(createSimWorker, inPage);

const reducedMotion =
  params.get('motion') === '0' || window.matchMedia('(prefers-reduced-motion: reduce)').matches;
const init = {
  motion: !reducedMotion,
  theme: window.matchMedia('(prefers-color-scheme: dark)').matches ? 'dark' : 'light',
} as const;
const session = new Session(client, window.localStorage, init);
const loop = new FrameLoop(
  (idle) => {
    document.documentElement.dataset.idle = idle ? 'true' : 'false';
  },
  (s, e) => {
    console.warn('tdpviz: a frame failed', e);
    s.store.setState({
      notice: `Drawing hit an error (${e instanceof Error ? e.message : String(e)}); the picture carries on with the next frame.`,
    });
  },
);
loop.watch(session);

const workspace = new Workspace(session, {
  // The second pane gets its own worker and keeps nothing in storage.
  makeSession: () => new Session(new WorkerSimClient(createSimWorker, inPage), null, init),
  watch: (s) => loop.watch(s),
  unwatch: (s) => loop.unwatch(s),
  defaultCompareScript: () => (compareDefault ? loadPreset(compareDefault) : Promise.resolve('')),
  tours: TOURS,
  getView: (s) => loop.viewOf(s),
  setView: (s, v) => loop.setView(s, v),
});

const compareDefault = PRESETS.find((p) => p.file === 'nx-recovery.tdp');

/** Preset texts seen so far, so the menu can name the preset the script is. */
const presetTexts = new Map<string, Preset>();
let longestPreset = 0;

async function loadPreset(p: Preset): Promise<string> {
  const res = await fetch(`${import.meta.env.BASE_URL}presets/${p.file}`);
  if (!res.ok) throw new Error(`preset ${p.file}: HTTP ${res.status}`);
  const text = await res.text();
  presetTexts.set(text, p);
  longestPreset = Math.max(longestPreset, text.length);
  return text;
}
// A longer script is no preset; asking the map would hash it (a big trace would be joined first).
const presetOf = (script: string): Preset | null =>
  script.length > longestPreset ? null : (presetTexts.get(script) ?? null);

// The theme attribute follows the store synchronously, so the canvas reads the right colours.
const applyTheme = () => {
  document.documentElement.dataset.theme = session.store.getState().theme;
};
applyTheme();
session.store.subscribe(applyTheme);

const WORKSPACE_KEY = 'tdpviz:workspace:v1';
let resumed = false;
window.addEventListener('pagehide', () => {
  session.persistNow();
  // Until the last visit's tour or comparison is back, there is nothing new to save.
  if (!resumed) return;
  try {
    localStorage.setItem(WORKSPACE_KEY, workspace.saved());
  } catch {
    // Without storage a reload starts in explore mode; nothing else is lost.
  }
});

// A handle for the browser tests (a `vite build --mode test` only): make the worker die.
if (import.meta.env.MODE === 'test') {
  Object.assign(window, { tdpviz: { crashWorker: () => client.send('crash', {}) } });
}

const root = document.getElementById('root');
if (!root) throw new Error('index.html has no #root element');
createRoot(root).render(
  <StrictMode>
    <App workspace={workspace} loop={loop} loadPreset={loadPreset} presetOf={presetOf} />
  </StrictMode>,
);

/** A link in the URL reproduces its state; a damaged one is named and changes nothing. */
async function openLink(): Promise<void> {
  if (!location.hash.startsWith(LINK_PREFIX)) return;
  try {
    const state = await decodeLink(location.hash);
    await workspace.apply(state);
  } catch (e) {
    const why = e instanceof LinkError ? e.message : String(e);
    session.store.setState({
      notice: `This link cannot be opened: ${why}. Your previous work is unchanged.`,
    });
  }
  history.replaceState(null, '', location.pathname + location.search);
}

const first = PRESETS[0];
void session
  .start(() => (first ? loadPreset(first) : Promise.resolve('')))
  .then(() => workspace.resume(localStorage.getItem(WORKSPACE_KEY)))
  .then(() => {
    resumed = true;
    return openLink();
  });
window.addEventListener('hashchange', () => void openLink());
