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
