// The browser benchmark: the production build in Debian's chromium, a 4 GiB guest faulted in at
// 4K (1,048,576 faults) streamed from the worker, then End and Home. Prints the main thread's long
// tasks (over 50 ms) in each phase, and the time each phase took. Figures, not a pass/fail test.
// Usage: npm run build && npm run bench:browser   (serves dist/ with vite preview on port 4174)
/* global window, document */
import { spawn } from 'node:child_process';
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
  const cursorAt = (text) =>
    page.waitForFunction(
      (t) => document.querySelector('[data-testid="cursor"]')?.textContent?.startsWith(t),
      text,
      { timeout: 120_000 },
    );
  await phase('seek to the end', async () => {
    await page.locator('body').click({ position: { x: 1, y: 1 } });
    await page.keyboard.press('End');
    await cursorAt(`${total} /`);
  });
  await phase('seek to the start', async () => {
    await page.keyboard.press('Home');
    await cursorAt('0 /');
  });
  const heap = await page.evaluate(() => performance.memory?.usedJSHeapSize ?? 0);
  console.log(`JS heap                ${(heap / 2 ** 20).toFixed(0)} MB`);
} finally {
  await browser.close();
  server.kill();
}
