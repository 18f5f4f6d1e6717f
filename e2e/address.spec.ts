import { expect, test } from './fixtures.ts';

const SCRIPT =
  'memslot gpa=0x100000000 size=6M backing=2M\naccess gpa=0x100000000 type=read\naccess gpa=0x100200000 type=exec\nzap_gfn_range start=0x100000 end=0x100200\n';

test('v switches to the address view and back, keeping the selected entry', async ({
  app,
  page,
}) => {
  await app.open();
  await app.setScript(SCRIPT);
  await app.press('Shift+ArrowRight', 3); // after the exec fault: sp 3 is the NX-split table
  const tree = page.getByRole('application', { name: /Paging structure/ });
  await tree.focus();
  await page.keyboard.press('ArrowRight');
  await page.keyboard.press('ArrowRight');
  await expect(page.getByRole('heading', { name: /Entry sp 0\s*\[1\]/ })).toBeVisible();
  await app.press('v');
  await expect(page.getByRole('region', { name: 'Paging structure' })).toHaveAttribute(
    'data-picture',
    'address',
  );
  await expect(page.getByRole('radio', { name: 'Address space' })).toHaveAttribute(
    'aria-checked',
    'true',
  );
  const address = page.getByRole('application', { name: /Address space/ });
  await expect(address).toBeVisible();
  await expect(page.getByRole('heading', { name: /Entry sp 0\s*\[1\]/ })).toBeVisible();
  // The address view's keys: Left goes back along the row, Enter down to the table entry 0 links.
  await address.focus();
  await page.keyboard.press('ArrowLeft');
  await expect(page.getByRole('heading', { name: /Entry sp 0\s*\[0\]/ })).toBeVisible();
  await page.keyboard.press('Enter');
  await expect(page.getByRole('heading', { name: /Entry sp 1\s*\[0\]/ })).toBeVisible();
  await page.keyboard.press('ArrowUp');
  await expect(page.getByRole('heading', { name: /Entry sp 0\s*\[0\]/ })).toBeVisible();
  await app.press('v');
  await expect(page.getByRole('region', { name: 'Paging structure' })).toHaveAttribute(
    'data-picture',
    'tree',
  );
  await expect(page.getByRole('heading', { name: /Entry sp 0\s*\[0\]/ })).toBeVisible();
  // The timeline did not move while the views were switched.
  expect((await app.position()).cursor).toBeGreaterThan(0);
});

test('a click in the address view selects the entry under the pointer', async ({ app, page }) => {
  await app.open();
  await app.setScript(SCRIPT);
  await app.press('Shift+ArrowRight', 2); // the read: a 2M leaf at gfn 0x100000
  await page.getByRole('radio', { name: 'Address space' }).click();
  await app.idle();
  const canvas = page.getByRole('application', { name: /Address space/ });
  const box = await canvas.boundingBox();
  if (!box) throw new Error('no canvas');
  // Fitted, the 6M slot fills the axis right of the row names: its first third is the first
  // 2M page. The L2 row is the third of four below the top band.
  const x = box.x + 112 + 12 + (box.width - 112 - 36) * 0.2;
  const levelH = Math.min(140, Math.max(44, (box.height - 92 - 24) / 4));
  const y = box.y + 92 + 2 * levelH + 40;
  await page.mouse.click(x, y);
  await expect(page.getByRole('heading', { name: /Entry sp 2\s*\[0\]/ })).toBeVisible();
  await expect(page.getByTestId('inspector-spte')).toHaveText('0x0600004000000bf3');
});

test('a link keeps the address view and its camera', async ({ app, page, browser }) => {
  await app.open();
  await app.setScript(SCRIPT);
  await app.press('End');
  await app.press('v');
  await page.getByRole('button', { name: 'Zoom in' }).click();
  await app.idle();
  const view = await page.getByTestId('tree-canvas').getAttribute('data-view');
  expect(view).toMatch(/^-?[\d.]+,0\.0,[\d.e+-]+$/);
  await page.getByRole('button', { name: 'Copy link' }).click();
  const link = await page.getByTestId('share-link').inputValue();
  const fresh = await browser.newPage();
  await fresh.goto(link.replace(/^https?:\/\/[^/]+/, 'http://127.0.0.1:4173'));
  await fresh.locator('html[data-idle="true"]').waitFor({ state: 'attached' });
  await expect(fresh.getByRole('region', { name: 'Paging structure' })).toHaveAttribute(
    'data-picture',
    'address',
  );
  await expect(fresh.getByTestId('tree-canvas')).toHaveAttribute('data-view', view ?? '');
  await fresh.close();
});
