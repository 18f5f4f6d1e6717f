import { expect, test } from './fixtures.ts';

test('a broken script shows its error at the right line and keeps the last good run', async ({
  app,
  page,
}) => {
  await app.open();
  const count = (await app.position()).count;
  await app.setScript(
    'memslot gpa=0x100000000 size=2M backing=2M\naccess gpa=0x100000000\nacess gpa=0x100000000\n',
  );
  await expect(app.errors).toHaveCount(1);
  await expect(app.errors.first()).toContainText('Line 3:1');
  await expect(app.errors.first()).toContainText("did you mean 'access'");
  await expect(page.locator('[data-line="3"][data-error="true"]')).toHaveCount(1);
  expect((await app.position()).count).toBe(count);
});

test('a failed expect is shown at its line', async ({ app }) => {
  await app.open();
  await app.setScript(
    'memslot gpa=0x100000000 size=2M backing=2M\naccess gpa=0x100000000\nexpect pages_2m=0\n',
  );
  await expect(app.failures).toHaveCount(1);
  await expect(app.failures.first()).toContainText('Line 3:8');
  await expect(app.failures.first()).toContainText('expect pages_2m=0, got 1');
});

test('quick actions append statements that replay', async ({ app, page }) => {
  await app.open();
  await app.setScript('memslot gpa=0x100000000 size=2M backing=2M\n');
  await page.getByLabel('GPA', { exact: true }).fill('0x100000000');
  await page.getByLabel('Type', { exact: true }).selectOption('exec');
  await page.getByRole('button', { name: 'Access', exact: true }).click();
  await app.idle();
  await expect(app.editor).toHaveValue(/access gpa=0x100000000 type=exec\n$/);
  await app.press('End');
  // An exec fault on a huge-page-backed frame maps 4K and accounts the table (NX huge pages on).
  expect(await app.stat('nx_lpage_splits')).toBe(1);
  expect(await app.stat('pages_4k')).toBe(1);
});

test('a reload keeps the script and the cursor', async ({ app, page }) => {
  await app.open();
  const script =
    'memslot gpa=0x40000000 size=1G backing=1G\naccess gpa=0x40000000\nshatter gpa=0x40000000 level=3\n';
  await app.setScript(script);
  await app.press('Shift+ArrowRight', 3);
  const at = await app.position();
  await page.reload();
  await app.idle();
  await expect(app.editor).toHaveValue(script);
  expect(await app.position()).toEqual(at);
});
