import { expect, test } from './fixtures.ts';

for (const title of ['NX huge pages', 'Two ways to zap', 'invalidated root']) {
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

test('predict mode asks before each step and keeps score', async ({ app, page }) => {
  await app.open();
  const select = page.getByLabel('Guided tour');
  await select.selectOption({ index: 1 });
  await app.idle();
  const tour = page.getByRole('region', { name: 'Guided tour' });
  await tour.getByLabel('Predict').check();
  await tour.getByRole('button', { name: 'Next', exact: true }).click();
  await tour
    .getByRole('radiogroup', { name: 'Which stat will change?' })
    .getByRole('radio')
    .first()
    .check();
  await tour
    .getByRole('radiogroup', { name: "Which level's SPTEs will be written?" })
    .getByRole('radio')
    .first()
    .check();
  await expect(page.getByTestId('tour-score')).toContainText('/ 2');
  await tour.getByRole('button', { name: 'Continue' }).click();
  await app.idle();
  await expect(page.getByTestId('tour-step')).toContainText('Step 2 of');
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
  const step = await page.getByTestId('tour-step').textContent();
  const at = await app.position();
  await page.reload();
  await app.idle();
  await expect(page.getByTestId('tour-step')).toHaveText(step ?? '');
  expect(await app.position()).toEqual(at);
});
