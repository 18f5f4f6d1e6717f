// A screenshot of the built app as a person sees it: node scripts/screenshot.mjs URL OUT W H
// light|dark [keys…] (a key, waitMS or click:Name). Prints scrollWidth against innerWidth.
/* global document, innerWidth */
import { chromium } from '@playwright/test';
const [, , url, out, w, h, dark, ...keys] = process.argv;
const b = await chromium.launch({
  executablePath: '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu'],
});
const p = await b.newPage({
  viewport: { width: +w, height: +h },
  colorScheme: dark === 'dark' ? 'dark' : 'light',
});
await p.goto(url);
await p.locator('html[data-idle="true"]').waitFor({ state: 'attached' });
for (const k of keys) {
  if (k.startsWith('wait')) {
    await p.waitForTimeout(+k.slice(4));
    continue;
  }
  if (k.startsWith('click:')) {
    await p.getByRole('button', { name: k.slice(6), exact: true }).click();
    continue;
  }
  await p
    .locator('body')
    .click({ position: { x: 1, y: 1 } })
    .catch(() => {});
  await p.keyboard.press(k);
  await p.locator('html[data-idle="true"]').waitFor({ state: 'attached' });
}
const sw = await p.evaluate(() => [document.documentElement.scrollWidth, innerWidth]);
console.log('scrollWidth', sw);
await p.screenshot({ path: out });
await b.close();
