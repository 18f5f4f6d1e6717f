import { expect, test } from './fixtures.ts';

test('if the worker dies after a run it is restarted, the run kept as it was, and a notice shown', async ({
  app,
  page,
}) => {
  await app.open();
  await app.press('Shift+ArrowRight', 5);
  const before = await app.digest();
  const at = await app.position();
  await page.evaluate(() =>
    (window as unknown as { tdpviz: { crashWorker(): void } }).tdpviz.crashWorker(),
  );
  await expect(page.getByRole('alert').filter({ hasText: 'restarted' })).toBeVisible();
  await app.idle();
  expect(await app.position()).toEqual(at);
  expect(await app.digest()).toBe(before);
});

// Its long tasks are measured by `npm run bench:browser`: a wall-clock limit has no place here.
test('a 1M-fault run streams from the worker while the controls answer', async ({ app, page }) => {
  test.setTimeout(120_000);
  await app.open();
  await app.setScript(
    'memslot gpa=0x100000000 size=4G backing=4K\naccess_range gpa=0x100000000 size=4G type=read\n',
    { wait: false },
  );
  await expect(page.getByTestId('run-status')).toContainText('running', { timeout: 10_000 });
  // The controls answer while the worker runs.
  await page.getByRole('button', { name: /Switch to (dark|light) theme/ }).click();
  await expect(page.locator('html[data-theme="dark"]')).toHaveCount(1);
  await app.idle(90_000);
  await expect(page.getByTestId('run-status')).toContainText('events');
  expect((await app.position()).count).toBeGreaterThan(9_000_000);
});

test('the main view, kept as a screenshot artifact', async ({ app, page }, testInfo) => {
  await app.open();
  await app.press('Shift+ArrowRight', 6);
  const path = testInfo.outputPath('main-view.png');
  await page.screenshot({ path });
  await testInfo.attach('main-view', { path, contentType: 'image/png' });
});

test('the built app runs under its Content-Security-Policy without a single violation', async ({
  app,
  page,
}) => {
  const violations: string[] = [];
  page.on('console', (m) => {
    if (m.text().includes('Content Security Policy')) violations.push(m.text());
  });
  await page.addInitScript(() => {
    document.addEventListener('securitypolicyviolation', (e) =>
      console.error(`Content Security Policy: ${e.violatedDirective} ${e.blockedURI}`),
    );
  });
  await app.open({ motion: true });
  const policy = await page
    .locator('meta[http-equiv="Content-Security-Policy"]')
    .getAttribute('content');
  expect(policy).toContain("script-src 'self'");
  expect(policy).toContain("worker-src 'self'");
  // The worker, a preset fetch, the editor's styles, a compare pane, the canvas: all allowed.
  await app.loadPreset('NX huge pages and recovery');
  await app.press('End');
  await page.getByRole('button', { name: 'Compare' }).click();
  await app.idle();
  await page.getByRole('button', { name: 'Explore' }).click();
  await app.idle();
  expect(violations).toEqual([]);
});

test('Stop cuts off a long script: the page says where, keeps what arrived, and runs the next edit', async ({
  app,
  page,
}) => {
  await app.open();
  await app.setScript(
    'memslot gpa=0x100000000 size=16G backing=4K\naccess_range gpa=0x100000000 size=16G type=write\n',
    { wait: false },
  );
  const status = page.getByTestId('run-status');
  await expect(status).toContainText('running… line 2 of 2');
  await page.getByRole('button', { name: 'Stop', exact: true }).click();
  await expect(status).toContainText('stopped at line 2 of 2');
  await expect(
    page.getByRole('alert').filter({ hasText: 'The run was stopped at line 2' }),
  ).toBeVisible();
  await app.idle();
  // The next edit runs as usual, in a fresh worker.
  await app.setScript('memslot gpa=0x100000000 size=2M backing=2M\naccess gpa=0x100000000\n');
  await expect(status).toContainText(/\d+ events · \d+ ms/);
  await app.press('End');
  expect(await app.stat('pages_2m')).toBe(1);
});
