import { expect, test } from './fixtures.ts';

test('if the worker dies it is restarted, the script replayed, and a notice shown', async ({
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

test('a 1M-fault run streams from the worker without a main-thread task over 50 ms', async ({
  app,
  page,
}) => {
  test.setTimeout(120_000);
  await app.open();
  await page.evaluate(() => {
    const w = window as unknown as { longTasks: number[] };
    w.longTasks = [];
    new PerformanceObserver((list) => {
      for (const e of list.getEntries()) w.longTasks.push(e.duration);
    }).observe({ entryTypes: ['longtask'] });
  });
  await app.editor.fill(
    'memslot gpa=0x100000000 size=4G backing=4K\naccess_range gpa=0x100000000 size=4G type=read\n',
  );
  await expect(page.getByTestId('run-status')).toContainText('running', { timeout: 10_000 });
  // The controls answer while the worker runs.
  await page.getByRole('button', { name: /Switch to (dark|light) theme/ }).click();
  await expect(page.locator('html[data-theme="dark"]')).toHaveCount(1);
  await app.idle(90_000);
  await expect(page.getByTestId('run-status')).toContainText('events');
  const longTasks = await page.evaluate(
    () => (window as unknown as { longTasks: number[] }).longTasks,
  );
  expect(longTasks).toEqual([]);
  expect((await app.position()).count).toBeGreaterThan(9_000_000);
});

test('the main view, kept as a screenshot artifact', async ({ app, page }, testInfo) => {
  await app.open();
  await app.press('Shift+ArrowRight', 6);
  const path = testInfo.outputPath('main-view.png');
  await page.screenshot({ path });
  await testInfo.attach('main-view', { path, contentType: 'image/png' });
});
