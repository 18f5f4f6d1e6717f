import { expect, test } from './fixtures.ts';

for (const title of ['NX huge pages', 'Two ways to zap', 'invalidated root', '6.18: NX recovery']) {
  test(`the tour "${title}…" runs to its end`, async ({ app, page }) => {
    await app.open();
    const select = page.getByLabel('Guided tour');
    const option = select.locator('option', { hasText: title });
    await select.selectOption({ label: (await option.textContent()) ?? '' });
    await app.idle();
    const tour = page.getByRole('region', { name: 'Guided tour' });
    await expect(tour).toBeVisible();
    const counter = page.getByTestId('tour-step');
    const total = Number(/of (\d+)/.exec((await counter.textContent()) ?? '')?.[1]);
    expect(total).toBeGreaterThanOrEqual(6);
    let lastCursor = (await app.position()).cursor;
    for (let k = 1; k < total; k++) {
      await tour.getByRole('button', { name: 'Next', exact: true }).click();
      await app.idle();
      await expect(counter).toContainText(`Step ${k + 1} of ${total}`);
      const c = (await app.position()).cursor;
      expect(c).toBeGreaterThanOrEqual(lastCursor);
      lastCursor = c;
    }
    await tour.getByRole('button', { name: 'Finish' }).click();
    await expect(tour).toBeHidden();
  });
}

test('predict mode asks for the set that changes, grades it as a set, and sums up at the end', async ({
  app,
  page,
}) => {
  await app.open();
  const select = page.getByLabel('Guided tour');
  await select.selectOption({ index: 1 });
  await app.idle();
  const tour = page.getByRole('region', { name: 'Guided tour' });
  await tour.getByLabel('Predict').check();
  await tour.getByRole('button', { name: 'Next', exact: true }).click();
  const stats = tour.getByRole('group', { name: /Which stats will change/ });
  const levels = tour.getByRole('group', { name: /Which levels' SPTEs will be written/ });
  // Arrow keys browse the choices without answering.
  await stats.getByRole('checkbox').first().focus();
  await page.keyboard.press('ArrowDown');
  await expect(stats.getByRole('checkbox', { checked: true })).toHaveCount(0);
  // Step 2 (the first read) maps a 2M leaf: pages_2m alone changes, and L2 (plus the path's
  // L4 and L3 entries) is written. Picking pages_2m and pages_4k is wrong as a set.
  await stats.getByRole('checkbox', { name: 'pages_2m' }).check();
  await stats.getByRole('checkbox', { name: 'pages_4k' }).check();
  await levels.getByRole('checkbox', { name: 'L2' }).check();
  await tour.getByRole('button', { name: 'Check' }).click();
  await expect(tour.getByText('Changed: pages_2m.')).toBeVisible();
  await expect(page.getByTestId('tour-score')).toContainText('/ 2');
  await tour.getByRole('button', { name: 'Continue' }).click();
  await app.idle();
  await expect(page.getByTestId('tour-step')).toContainText('Step 2 of');
  // The last step's Finish shows the score before the tour closes.
  await tour.getByLabel('Predict').uncheck();
  const total = Number(
    /of (\d+)/.exec((await page.getByTestId('tour-step').textContent()) ?? '')?.[1],
  );
  await tour.getByRole('button', { name: `Step ${total}:` }).click();
  await app.idle();
  await tour.getByRole('button', { name: 'Finish' }).click();
  await expect(page.getByTestId('tour-summary')).toContainText(
    'You predicted 0 of 2 answers right',
  );
  await tour.getByRole('button', { name: 'Close the tour' }).click();
  await expect(tour).toBeHidden();
});

test('a tour is resumable: a reload brings back the tour at the same step', async ({
  app,
  page,
}) => {
  await app.open();
  await page.getByLabel('Guided tour').selectOption({ index: 2 });
  await app.idle();
  const tour = page.getByRole('region', { name: 'Guided tour' });
  for (let k = 0; k < 3; k++) {
    await tour.getByRole('button', { name: 'Next', exact: true }).click();
    await app.idle();
  }
  // An event or two into the next step: the reload must come back to this very event.
  await app.press('ArrowRight', 2);
  const step = await page.getByTestId('tour-step').textContent();
  const at = await app.position();
  await page.reload();
  await app.idle();
  await expect(page.getByTestId('tour-step')).toHaveText(step ?? '');
  expect(await app.position()).toEqual(at);
});

test('Next plays the step event by event; Skip jumps; the text follows the timeline', async ({
  app,
  page,
}) => {
  await app.open({ motion: true });
  await page.getByLabel('Playback speed').selectOption({ label: '8×' });
  await page.getByLabel('Guided tour').selectOption({ index: 1 });
  await app.idle();
  const tour = page.getByRole('region', { name: 'Guided tour' });
  const start = (await app.position()).cursor;
  await tour.getByRole('button', { name: 'Next', exact: true }).click();
  // The cursor walks through the step's events rather than landing at its end at once.
  const seen = new Set<number>();
  for (let i = 0; i < 40 && seen.size < 3; i++) {
    seen.add((await app.position()).cursor);
    await page.waitForTimeout(50);
  }
  await app.idle();
  const end = (await app.position()).cursor;
  expect(seen.size).toBeGreaterThanOrEqual(3);
  expect(end).toBeGreaterThan(start);
  await expect(page.getByTestId('tour-step')).toContainText('Step 2 of');
  // Space after Next plays the timeline; it does not press Next again.
  await page.keyboard.press('Space');
  await page.keyboard.press('Space');
  await app.idle();
  await expect(page.getByTestId('tour-step')).not.toContainText('Step 4 of');

  await tour.getByRole('button', { name: 'Skip' }).click();
  await app.idle();
  await expect(page.getByTestId('tour-step')).toContainText(/Step [3-9] of/);
  // Scrubbing to the end or the start shows the step the cursor is in.
  await app.press('End');
  const total = /of (\d+)/.exec((await page.getByTestId('tour-step').textContent()) ?? '')?.[1];
  await expect(page.getByTestId('tour-step')).toHaveText(`Step ${total} of ${total}`);
  await app.press('Home');
  await expect(page.getByTestId('tour-step')).toHaveText(`Step 1 of ${total}`);
});
