import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { InProcessSimClient } from './client/InProcessSimClient.ts';
import type { SimClient } from './client/SimClient.ts';
import { createSimWorker, WorkerSimClient } from './client/WorkerSimClient.ts';
import { PRESETS, type Preset } from './sim/presets.ts';
import { Session } from './store/session.ts';
import { App } from './ui/App.tsx';
import { FrameLoop } from './viz/FrameLoop.ts';
import './ui/theme.css';

const params = new URLSearchParams(location.search);
const client: SimClient =
  typeof Worker === 'undefined' || params.get('worker') === '0'
    ? new InProcessSimClient()
    : new WorkerSimClient(createSimWorker);

const reducedMotion =
  params.get('motion') === '0' || window.matchMedia('(prefers-reduced-motion: reduce)').matches;
const session = new Session(client, window.localStorage, {
  motion: !reducedMotion,
  theme: window.matchMedia('(prefers-color-scheme: dark)').matches ? 'dark' : 'light',
});
const loop = new FrameLoop(session, (idle) => {
  document.documentElement.dataset.idle = idle ? 'true' : 'false';
});

async function loadPreset(p: Preset): Promise<string> {
  const res = await fetch(`${import.meta.env.BASE_URL}presets/${p.file}`);
  if (!res.ok) throw new Error(`preset ${p.file}: HTTP ${res.status}`);
  return res.text();
}

// The theme attribute follows the store synchronously, so the canvas reads the right colours.
const applyTheme = () => {
  document.documentElement.dataset.theme = session.store.getState().theme;
};
applyTheme();
session.store.subscribe(applyTheme);

window.addEventListener('pagehide', () => session.persistNow());

// A handle for the browser tests: make the worker die, to exercise the restart path.
Object.assign(window, { tdpviz: { crashWorker: () => client.send('crash', {}) } });

const root = document.getElementById('root');
if (!root) throw new Error('index.html has no #root element');
createRoot(root).render(
  <StrictMode>
    <App session={session} loop={loop} loadPreset={loadPreset} />
  </StrictMode>,
);

const first = PRESETS[0];
void session.start(() => (first ? loadPreset(first) : Promise.resolve('')));
