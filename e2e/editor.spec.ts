import type { Page } from '@playwright/test';
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
  expect((await app.position()).count).toBe(count);
  // The lint gutter marks line 3, and the squiggle covers exactly the token at column 1.
  const marker = page.locator('.cm-gutter-lint .cm-lint-marker-error');
  await expect(marker).toHaveCount(1);
  const line3 = page.locator('.cm-line').nth(2);
  const [m, l] = [await marker.boundingBox(), await line3.boundingBox()];
  expect(
    Math.abs((m?.y ?? 0) + (m?.height ?? 0) / 2 - ((l?.y ?? 0) + (l?.height ?? 0) / 2)),
  ).toBeLessThan(4);
  const squiggle = page.locator('.cm-lintRange-error');
  await expect(squiggle).toHaveText('acess');
  const [sq, text] = [
    await squiggle.boundingBox(),
    await page.locator('.cm-content').boundingBox(),
  ];
  // Column 1: the underline starts where the line's text starts (the line's own padding in).
  expect((sq?.x ?? 0) - (text?.x ?? 0)).toBeLessThan(16);
  await marker.hover();
  await expect(page.locator('.cm-tooltip-lint')).toContainText("3:1 unknown statement 'acess'");
});

test('an error later on a line is underlined at its column', async ({ app, page }) => {
  await app.open();
  await app.setScript(
    'memslot gpa=0x100000000 size=2M backing=2M\nzap_sp gpa=0x100000000 level=1 strategy=sideways\n',
  );
  await expect(app.errors.first()).toContainText('Line 2:32');
  await expect(page.locator('.cm-lintRange-error')).toHaveText('strategy=sideways');
  // The problem button puts the caret on the token it names.
  await app.errors.first().click();
  await page.keyboard.type('X');
  await app.expectScript(/level=1 Xstrategy=sideways/);
});

/** A key for the completion list once it has been up past CodeMirror's 75 ms guard. */
async function toList(page: Page, key = 'Enter'): Promise<void> {
  await page.waitForTimeout(150);
  await page.keyboard.press(key);
}

test('completion writes zap_sp … strategy= from the schema', async ({ app, page }) => {
  await app.open();
  await app.setScript(
    'memslot gpa=0x100000000 size=2M backing=2M\naccess gpa=0x100000000 type=exec\n',
  );
  await app.editor.focus();
  await page.keyboard.press('ControlOrMeta+End');
  await page.keyboard.type('zap_s');
  const list = page.locator('.cm-tooltip-autocomplete');
  await expect(list.getByRole('option')).toHaveText([/^zap_sp/]);
  await toList(page);
  await page.keyboard.type('gpa=0x100000000 level=1 str');
  await expect(list.getByRole('option')).toHaveText([/^strategy=/]);
  await toList(page);
  // Choosing the key opens its values at once.
  await expect(list.getByRole('option')).toHaveText([/^walk/, /^direct/, /^atomic/]);
  await toList(page, 'ArrowDown');
  await page.keyboard.press('Enter');
  await app.expectScript(/\nzap_sp gpa=0x100000000 level=1 strategy=direct$/);
  await app.idle();
  await expect(app.errors).toHaveCount(0);
  // Ctrl+Space asks for what may come next.
  await page.keyboard.type(' ');
  await page.keyboard.press('Control+Space');
  await expect(list).toHaveCount(0);
  await page.keyboard.press('ControlOrMeta+End');
  await page.keyboard.press('Enter');
  await page.keyboard.type('recover_nx ');
  await page.keyboard.press('Control+Space');
  // The strategy, then the what-ifs: the pointer check and the lock.
  await expect(list.getByRole('option')).toHaveText([/^strategy=/, /^check=/, /^lock=/]);
  await page.keyboard.press('Escape');
});

test('hovering a statement tells the kernel function it mirrors', async ({ app, page }) => {
  await app.open();
  await app.setScript(
    'memslot gpa=0x100000000 size=2M backing=2M\nzap_sp gpa=0x100000000 level=1\n',
  );
  await page.locator('.cm-line').nth(1).getByText('zap_sp').hover();
  await expect(page.locator('.cm-tdp-hover')).toContainText('kvm_tdp_mmu_zap_sp()');
});

test('a click on a statement seeks the timeline to its end', async ({ app, page }) => {
  await app.open();
  await app.setScript(
    'memslot gpa=0x100000000 size=2M backing=2M\naccess gpa=0x100000000 type=read\naccess gpa=0x100000000 type=exec\n',
  );
  await page.locator('.cm-line').nth(1).click();
  await app.idle();
  expect(await app.stat('pages_2m')).toBe(1);
  expect(await app.stat('pages_4k')).toBe(0);
  await page.locator('.cm-line').nth(2).click();
  await app.idle();
  expect(await app.stat('pages_2m')).toBe(0);
  expect(await app.stat('pages_4k')).toBe(1);
  await expect(page.locator('.cm-line.cm-tdp-active')).toHaveText(
    'access gpa=0x100000000 type=exec',
  );
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
  await app.expectScript(/access gpa=0x100000000 type=exec\n$/);
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
  await app.expectScript(script);
  expect(await app.position()).toEqual(at);
});
