import { expect, test } from './fixtures.ts';

test('the built page loads the NX recovery preset with no console error', async ({ app, page }) => {
  await app.open();
  await expect(page.getByRole('heading', { name: /tdpviz/ })).toBeVisible();
  await expect(page.getByTestId('run-status')).toContainText('events');
  await app.expectScript(/nx_huge_pages_test/);
});
