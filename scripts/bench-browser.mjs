// The browser benchmark: the production build in Debian's chromium, a 4 GiB guest faulted in at
// 4K (1,048,576 faults) streamed from the worker, then End and Home, then both pictures zoomed and
// panned a step a frame, then Compare on that run until both panes' measurements are in; then a
// 1,050,631-line trace-cmd report (127 MiB) imported through File → Import, stepped and seeked.
// Prints the main thread's long tasks (over 50 ms) in each phase, the time each phase took, the
// frame times while panning and the import's lines/s.
// Figures, not a pass/fail test.
// Usage: npm run build && npm run bench:browser   (serves dist/ with vite preview on port 4174)
// `--trace-only` runs the trace phases alone.
/* global window, document, requestAnimationFrame, WheelEvent */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from '@playwright/test';

const port = 4174;
const server = spawn(
  'npx',
  ['vite', 'preview', '--host', '127.0.0.1', '--port', String(port), '--strictPort'],
  {
    stdio: 'ignore',
  },
);
const url = `http://127.0.0.1:${port}/`;
for (let i = 0; i < 100; i++) {
  try {
    if ((await fetch(url)).ok) break;
  } catch {
    await new Promise((r) => setTimeout(r, 100));
  }
}

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu'],
});
try {
  const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  await page.goto(`${url}?motion=0`);
  const idle = (timeout = 120_000) =>
    page.locator('html[data-idle="true"]').waitFor({ state: 'attached', timeout });
  await idle();
  await page.evaluate(() => {
    window.longTasks = [];
    new PerformanceObserver((list) => {
      for (const e of list.getEntries()) window.longTasks.push(Math.round(e.duration));
    }).observe({ entryTypes: ['longtask'] });
  });
  const cursorAt = (text) =>
    page.waitForFunction(
      (t) => document.querySelector('[data-testid="cursor"]')?.textContent?.startsWith(t),
      text,
      { timeout: 120_000 },
    );
  const phase = async (name, act) => {
    await page.evaluate(() => (window.longTasks = []));
    const t0 = Date.now();
    await act();
    await idle();
    const ms = Date.now() - t0;
    const tasks = await page.evaluate(() => window.longTasks);
    console.log(
      `${name.padEnd(22)} ${String(ms).padStart(6)} ms   long tasks: ${tasks.length ? tasks.join(', ') + ' ms' : 'none'}`,
    );
  };
  if (!process.argv.includes('--trace-only')) await faultPhases();
  await tracePhases();
  const heap = await page.evaluate(() => performance.memory?.usedJSHeapSize ?? 0);
  console.log(`JS heap                ${(heap / 2 ** 20).toFixed(0)} MB`);

  async function tracePhases() {
    const file = join(tmpdir(), 'tdpviz-bench.trace.txt');
    if (!existsSync(file)) {
      const made = spawnSync('npx', ['tsx', 'src/cli/bench.ts', '--write-trace', file], {
        stdio: 'inherit',
      });
      if (made.status !== 0) throw new Error('could not write the benchmark trace');
    }
    let lines = 0;
    await phase('import 1M-line trace', async () => {
      await page.getByTestId('import-file').setInputFiles(file);
      await page
        .getByTestId('run-status')
        .getByText('reading the trace')
        .waitFor({ timeout: 120_000 });
      await page
        .getByTestId('run-status')
        .getByText(/events · \d+ ms/)
        .waitFor({ timeout: 600_000 });
      const ms = await page.getByTestId('run-status').textContent();
      lines = await page.evaluate(() =>
        Number(
          document
            .querySelector('[data-testid="trace-text-about"]')
            ?.textContent?.match(/([\d,]+) lines/)?.[1]
            .replaceAll(',', ''),
        ),
      );
      const runMs = Number(ms?.match(/(\d+) ms/)?.[1] ?? 0);
      console.log(
        `trace                  ${lines.toLocaleString('en-US')} lines, worker ${runMs} ms, ${Math.round(lines / (runMs / 1000)).toLocaleString('en-US')} lines/s; ${ms}`,
      );
    });
    const count = await page.getByTestId('cursor').textContent();
    const total = (count ?? '').split('/')[1]?.trim() ?? '';
    await phase('trace: step 20 records', async () => {
      await page.locator('body').click({ position: { x: 1, y: 1 } });
      for (let i = 0; i < 20; i++) await page.keyboard.press('Shift+ArrowRight');
    });
    await phase('trace: seek to the end', async () => {
      await page.keyboard.press('End');
      await cursorAt(`${total} /`);
    });
    await phase('trace: seek to the start', async () => {
      await page.keyboard.press('Home');
      await cursorAt('0 /');
    });
  }
  async function faultPhases() {
    await phase('run 1M faults', async () => {
      await page.getByLabel('Scenario script').focus();
      await page.keyboard.press('ControlOrMeta+a');
      await page.keyboard.insertText(
        'memslot gpa=0x100000000 size=4G backing=4K\naccess_range gpa=0x100000000 size=4G type=read\n',
      );
      await page.getByTestId('run-status').getByText('running').waitFor();
      await page
        .getByTestId('run-status')
        .getByText(/events · \d+ ms/)
        .waitFor({ timeout: 120_000 });
    });
    const count = await page.getByTestId('cursor').textContent();
    console.log(`events                 ${count}`);
    const total = (count ?? '').split('/')[1]?.trim() ?? '';
    await phase('seek to the end', async () => {
      await page.locator('body').click({ position: { x: 1, y: 1 } });
      await page.keyboard.press('End');
      await cursorAt(`${total} /`);
    });
    await phase('seek to the start', async () => {
      await page.keyboard.press('Home');
      await cursorAt('0 /');
    });
    await page.keyboard.press('End');
    await cursorAt(`${total} /`);
    // Both pictures of the 4 GiB guest (2,054 tables), zoomed in and out and panned one step a frame.
    for (const picture of ['tree', 'address']) {
      if (picture === 'address') await page.keyboard.press('v');
      await idle();
      const frames = await page.evaluate(async () => {
        const canvas = document.querySelector('[data-testid="tree-canvas"] canvas');
        const box = canvas.getBoundingClientRect();
        const at = { clientX: box.left + box.width * 0.3, clientY: box.top + box.height * 0.6 };
        const gaps = [];
        let last = performance.now();
        for (let i = 0; i < 240; i++) {
          const phase = Math.floor(i / 60);
          // Zoom in, pan right, pan left, zoom out: wheel events as a trackpad sends them.
          const deltaY = phase === 0 ? -60 : phase === 3 ? 60 : 0;
          const deltaX = phase === 1 ? 40 : phase === 2 ? -40 : 0;
          canvas.dispatchEvent(new WheelEvent('wheel', { ...at, deltaX, deltaY, bubbles: true }));
          await new Promise((r) => requestAnimationFrame(r));
          const now = performance.now();
          gaps.push(now - last);
          last = now;
        }
        return gaps;
      });
      frames.sort((a, b) => a - b);
      const q = (p) =>
        frames[Math.min(frames.length - 1, Math.floor(p * frames.length))].toFixed(1);
      console.log(
        `${`${picture} pan+zoom`.padEnd(22)} frame median ${q(0.5)} ms, p95 ${q(0.95)} ms, max ${q(1)} ms (${frames.length} frames)`,
      );
    }
    // Compare of the same run: pane B runs it too, and both panes' measurements come in.
    await page.keyboard.press('v');
    await phase('compare + measure', async () => {
      await page.getByRole('button', { name: 'Compare', exact: true }).click();
      await page.waitForFunction(
        () => {
          const t = (id) => document.querySelector(`[data-testid="${id}"]`)?.textContent ?? '…';
          return t('A-refaults') !== '…' && t('B-refaults') !== '…';
        },
        null,
        { timeout: 600_000 },
      );
    });
    await page.getByRole('button', { name: 'Explore', exact: true }).click();
    await idle();
  }
} finally {
  await browser.close();
  server.kill();
}
