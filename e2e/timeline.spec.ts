import { expect, test } from './fixtures.ts';

test('stepping forward then back returns exactly the same state', async ({ app }) => {
  await app.open();
  await app.press('Shift+ArrowRight', 4);
  const before = await app.digest();
  const at = (await app.position()).cursor;
  await app.press('ArrowRight', 12);
  expect(await app.digest()).not.toBe(before);
  await app.press('ArrowLeft', 12);
  expect((await app.position()).cursor).toBe(at);
  expect(await app.digest()).toBe(before);
});

test('the NX story shows nx_lpage_splits going 0 -> 1 -> 0 operation by operation', async ({
  app,
}) => {
  await app.open();
  const seen: number[] = [await app.stat('nx_lpage_splits')];
  for (let i = 0; i < 12; i++) {
    await app.press('Shift+ArrowRight');
    const v = await app.stat('nx_lpage_splits');
    if (v !== seen.at(-1)) seen.push(v);
  }
  expect(seen).toEqual([0, 1, 2, 0]);
  // The tables are there while split and gone after recovery.
  await app.press('Home');
  await app.press('Shift+ArrowRight', 5);
  await expect(app.page.locator('[data-testid="table"][data-nx="true"]')).toHaveCount(1);
});

test('the keys: arrows, shift+arrows, Home, End, space and ?', async ({ app, page }) => {
  await app.open();
  const { count } = await app.position();
  await app.press('ArrowRight');
  expect((await app.position()).cursor).toBe(1);
  await app.press('End');
  expect((await app.position()).cursor).toBe(count);
  await app.press('Home');
  expect((await app.position()).cursor).toBe(0);
  await app.press('Shift+ArrowRight', 2);
  const afterTwoOps = (await app.position()).cursor;
  expect(afterTwoOps).toBeGreaterThan(1);
  await app.press('Shift+ArrowLeft');
  expect((await app.position()).cursor).toBeLessThan(afterTwoOps);

  await page.keyboard.press('Space');
  await expect(page.getByRole('button', { name: 'Pause' })).toBeVisible();
  await page.keyboard.press('Space');
  await expect(page.getByRole('button', { name: 'Play' })).toBeVisible();

  await page.keyboard.press('?');
  await expect(page.getByRole('dialog', { name: 'Keyboard shortcuts' })).toBeVisible();
  await page.keyboard.press('Escape');
  await expect(page.getByRole('dialog', { name: 'Keyboard shortcuts' })).toBeHidden();
});

test('the event log follows the cursor and a click jumps there', async ({ app, page }) => {
  await app.open();
  await app.press('Shift+ArrowRight', 3);
  const at = (await app.position()).cursor;
  // The row of the last applied event is in view and marked.
  await expect(page.locator(`[data-testid="event-row"][data-index="${at - 1}"]`)).toBeVisible();
  const row = page.locator('[data-testid="event-row"]').first();
  const index = Number(await row.getAttribute('data-index'));
  await row.click();
  await app.idle();
  expect((await app.position()).cursor).toBe(index + 1);
});
