import { expect, test } from './fixtures.ts';

test('a copied link opened in a fresh page shows the same state', async ({
  app,
  page,
  browser,
}) => {
  await app.open();
  await app.setScript(
    'memslot gpa=0x100000000 size=6M backing=2M\naccess gpa=0x100000000\naccess gpa=0x100000000 type=exec\nrecover_nx\n',
  );
  await app.press('Shift+ArrowRight', 3);
  await page.getByRole('button', { name: 'Zoom in' }).click();
  await page.getByRole('button', { name: 'Zoom in' }).click();
  await app.idle();
  const view = await page.getByTestId('tree-canvas').getAttribute('data-view');
  const before = await app.digest();
  const at = await app.position();
  await page.getByRole('button', { name: 'Copy link' }).click();
  const link = await page.getByTestId('share-link').inputValue();
  expect(link).toMatch(/#s=[A-Za-z0-9_-]+&kernel=5\.18$/);

  const fresh = await browser.newPage();
  const other = new (app.constructor as new (p: typeof page) => typeof app)(fresh);
  await fresh.goto(link.replace(/^https?:\/\/[^/]+/, 'http://127.0.0.1:4173'));
  await other.idle();
  await other.expectScript(await app.script());
  expect(await other.position()).toEqual(at);
  expect(await other.digest()).toBe(before);
  await expect(fresh.getByTestId('tree-canvas')).toHaveAttribute('data-view', view ?? '');
  await fresh.close();
});

test('a corrupt link shows a clear error and the previous work is still there', async ({
  app,
  page,
}) => {
  await app.open();
  const script = 'memslot gpa=0x40000000 size=1G backing=1G\naccess gpa=0x40000000\n';
  await app.setScript(script);
  await app.press('End');
  await page.goto('/?motion=0#s=AAAA-this-is-not-a-link');
  await app.idle();
  await expect(page.getByTestId('notice')).toContainText('This link cannot be opened');
  await expect(page.getByTestId('notice')).toContainText('Your previous work is unchanged');
  await app.expectScript(script);
});

test('importing a malformed file names what is wrong and changes nothing', async ({
  app,
  page,
}) => {
  await app.open();
  const before = await app.script();
  await page.getByTestId('import-file').setInputFiles({
    name: 'broken.json',
    mimeType: 'application/json',
    buffer: Buffer.from('{"format": "something-else"}'),
  });
  await expect(page.getByTestId('notice')).toContainText(
    'Nothing was imported: broken.json: "format" is "something-else"',
  );
  await app.expectScript(before);
});
