import { expect, test } from './fixtures.ts';

test('compare mode on the default recovery: walk reads more SPTEs than direct, same final tables', async ({
  app,
  page,
}) => {
  await app.open();
  await page.getByRole('button', { name: 'Compare', exact: true }).click();
  await app.idle();
  await expect(page.getByTestId('pane-A')).toContainText('A · walk');
  await expect(page.getByTestId('pane-B')).toContainText('B · direct');
  await app.press('End');
  const reads = async (pane: 'A' | 'B') =>
    Number((await page.getByTestId(`${pane}-spte_reads`).textContent())?.replace(/,/g, ''));
  expect(await reads('A')).toBeGreaterThan(await reads('B'));
  await expect(page.getByTestId('same-tables')).toHaveText('identical');
  await expect(page.locator('tr.differs[data-metric="spte_reads"]')).toHaveCount(1);
  await expect(page.getByTestId('compare-sentence')).toContainText('read 12 more SPTEs');
  await expect(page.getByTestId('A-refaults')).not.toHaveText('…');
  await expect(page.getByTestId('scaling-chart').first()).toBeVisible();

  // The shared timeline steps both panes; each pane can also step alone.
  await app.press('Home');
  await app.press('Shift+ArrowRight', 3);
  const both = await page.getByTestId('compare-cursor').textContent();
  await page.getByRole('button', { name: 'B: next event' }).click();
  await app.idle();
  expect(await page.getByTestId('compare-cursor').textContent()).not.toBe(both);
});

test('under an invalidated root the comparison shows the walk leaving the table accounted', async ({
  app,
  page,
}) => {
  await app.open();
  await app.loadPreset('Zapping under an invalidated root');
  await page.getByRole('button', { name: 'Compare', exact: true }).click();
  await app.idle();
  // After the first recovery run (operation 6): the walk could not reach the table.
  await app.press('Home');
  await app.press('Shift+ArrowRight', 6);
  await expect(page.getByTestId('same-tables')).toHaveText('different');
  await expect(page.getByTestId('A-nx_lpage_splits')).toHaveText('1');
  await expect(page.getByTestId('B-nx_lpage_splits')).toHaveText('0');
  await expect(page.getByTestId('compare-sentence')).toContainText(
    "A (walk)'s recovery could not reach sp 3 (under invalid root sp 0)",
  );
});
