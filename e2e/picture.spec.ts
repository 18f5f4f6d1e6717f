// What a class and a reviewer see: the words at the cursor, the canvas by keyboard, Compare's
// two panes with one theme, a shared scrubber, an inspector and a labelled log per pane.
import { expect, test } from './fixtures.ts';

test('the live region says what the event at the cursor did, with the SPTE values', async ({
  app,
  page,
}) => {
  await app.open();
  const step = page.getByRole('status', { name: 'Current step' });
  await expect(step).toContainText('At the start');
  // The preset's first access: reload the root, fault, walk down and write the root's entry.
  await app.press('Shift+ArrowRight', 2);
  await app.press('Home');
  await app.press('Shift+ArrowRight', 3);
  await expect(step).toContainText(
    'Outcome: EPT violation → kvm_tdp_page_fault() returned RET_PF_FIXED',
  );
  await expect(page.getByTestId('outcome')).toContainText('mapped at 2M');
  // Back to the write of the 2M leaf, named by table, index, level and values.
  for (
    let i = 0;
    i < 12 && !((await step.textContent()) ?? '').includes('table sp 2, index 0');
    i++
  )
    await app.press('ArrowLeft');
  await expect(step).toContainText(
    'SPTE change through handle_changed_spte(): table sp 2, index 0, level 2',
  );
  await expect(step).toContainText('non-present 0x0 → 2M leaf, no X 0x600004000000bf3');
});

test('an access the SPTEs already permit is told as no exit, not as a fault', async ({
  app,
  page,
}) => {
  await app.open();
  await app.setScript(
    'memslot gpa=0x100000000 size=2M backing=2M\naccess gpa=0x100000000 type=read\naccess gpa=0x100000000 type=read\n',
  );
  await app.press('End');
  await expect(page.getByTestId('outcome')).toHaveText(
    "→ no exit: the CPU's walk found a 2M leaf at sp 2[0] that permits the access",
  );
});

test('the canvas takes the keyboard: Tab to it, arrows choose an entry, the inspector follows', async ({
  app,
  page,
}) => {
  await app.open();
  await app.press('End');
  const canvas = page.getByRole('application', { name: /Paging structure/ });
  await canvas.focus();
  // The first key picks the first table's entry 0; the next arrow moves along the row.
  await page.keyboard.press('ArrowRight');
  await expect(page.getByRole('heading', { name: /Entry sp 0\s*\[0\]/ })).toBeVisible();
  await page.keyboard.press('ArrowRight');
  await expect(page.getByTestId('inspector-spte')).toBeVisible();
  await expect(page.getByRole('heading', { name: /Entry sp 0\s*\[1\]/ })).toBeVisible();
  // Page Down goes to the next table; Enter from the root's entry 0 to the table it points to.
  await page.keyboard.press('PageDown');
  await expect(page.getByRole('heading', { name: /Entry sp 1\s*\[0\]/ })).toBeVisible();
  await page.keyboard.press('PageUp');
  await page.keyboard.press('Enter');
  await expect(page.getByRole('heading', { name: /Entry sp 1\s*\[0\]/ })).toBeVisible();
  // The timeline did not move: the arrows were the canvas's.
  const { cursor, count } = await app.position();
  expect(cursor).toBe(count);
  await page.keyboard.press('Escape');
});

test('Compare: one theme for both panes, a shared scrubber, the inspector and a log per pane', async ({
  app,
  page,
}) => {
  await app.open();
  await page.getByRole('button', { name: 'Compare', exact: true }).click();
  await app.idle();
  // Pane B's canvas follows the theme as pane A's does: count light pixels in each.
  const light = () =>
    page.evaluate(() =>
      [...document.querySelectorAll('[data-testid="tree-canvas"] canvas')].map((c) => {
        const cv = c as HTMLCanvasElement;
        const d = cv.getContext('2d')?.getImageData(0, 0, cv.width, cv.height).data ?? [];
        let n = 0;
        for (let i = 0; i < d.length; i += 4) if ((d[i] ?? 0) > 240 && (d[i + 1] ?? 0) > 240) n++;
        return n;
      }),
    );
  await app.press('End');
  const before = await light();
  await page.getByRole('button', { name: /Switch to dark theme/ }).click();
  await app.idle();
  const after = await light();
  expect(before.every((n) => n > 0)).toBe(true);
  expect(after.every((n, i) => n < (before[i] ?? 0) / 4)).toBe(true);

  // The shared scrubber counts operations and moves both panes.
  const scrub = page.getByLabel('Operation cursor of both panes');
  await scrub.fill('0');
  await app.idle();
  await expect(page.getByTestId('compare-cursor')).toContainText(/A 0 \/ [\d,]+ · B 0 \//);

  await page.getByRole('tab', { name: 'Log of pane B' }).click();
  await expect(page.getByRole('region', { name: 'Event log · pane B' })).toBeVisible();

  await app.press('End');
  const canvasB = page.getByTestId('pane-B').getByRole('application');
  await canvasB.focus();
  await page.keyboard.press('ArrowRight');
  await expect(page.getByRole('heading', { name: 'Selected entry · pane B' })).toBeVisible();
  await expect(page.getByTestId('inspector-spte')).toBeVisible();
});

test('the File menu and the Copy-link popover close on Esc and on a click outside', async ({
  app,
  page,
}) => {
  await app.open();
  await page.getByRole('button', { name: 'File' }).click();
  await expect(page.getByRole('menu')).toBeVisible();
  await page.keyboard.press('Escape');
  await expect(page.getByRole('menu')).toBeHidden();
  await page.getByRole('button', { name: 'File' }).click();
  await expect(page.getByRole('menu')).toBeVisible();
  await page.getByRole('heading', { name: 'tdpviz' }).click();
  await expect(page.getByRole('menu')).toBeHidden();
  await page.getByRole('button', { name: 'Copy link' }).click();
  await expect(page.getByRole('dialog', { name: 'Link to this state' })).toBeVisible();
  await page.keyboard.press('Escape');
  await expect(page.getByRole('dialog', { name: 'Link to this state' })).toBeHidden();
});

test('a quick action at the end of the run plays the new operation', async ({ app, page }) => {
  await app.open();
  await app.press('End');
  const before = await app.position();
  await page.getByRole('button', { name: 'Access', exact: true }).click();
  await app.idle();
  const after = await app.position();
  expect(after.count).toBeGreaterThan(before.count);
  expect(after.cursor).toBe(after.count);
});

test('presentation mode is a header toggle, kept across a reload and in links', async ({
  app,
  page,
}) => {
  await app.open();
  await expect(page.getByTestId('start-prompt')).toBeVisible();
  await page.getByRole('button', { name: 'Present' }).click();
  await expect(page.getByRole('button', { name: 'Present' })).toHaveAttribute(
    'aria-pressed',
    'true',
  );
  // vm, memslot, then the first access: its outcome, beside the picture.
  await app.press('Shift+ArrowRight', 3);
  await expect(page.getByTestId('start-prompt')).toBeHidden();
  await expect(page.getByTestId('step-caption')).toContainText('the CPU walks the EPT');
  await expect(page.getByTestId('step-caption')).toContainText('→ EPT violation');
  // The legend is open in presentation mode.
  await expect(page.getByText('REMOVED / FROZEN_SPTE')).toBeVisible();
  await page.reload();
  await app.idle();
  await expect(page.getByRole('button', { name: 'Present' })).toHaveAttribute(
    'aria-pressed',
    'true',
  );
  await page.getByRole('button', { name: 'Copy link' }).click();
  const link = await page.getByTestId('share-link').inputValue();
  await page.keyboard.press('Escape');
  await page.getByRole('button', { name: 'Present' }).click();
  await page.goto(link.replace(/^https?:\/\/[^/]+/, 'http://127.0.0.1:4173'));
  await app.idle();
  await expect(page.getByTestId('step-caption')).toBeVisible();
});

test('the script pane can be widened by dragging or with the arrow keys', async ({ app, page }) => {
  await app.open();
  const pane = page.getByRole('complementary', { name: 'Scenario' });
  const before = (await pane.boundingBox())?.width ?? 0;
  const handle = page.getByRole('separator', { name: 'Width of the script pane' });
  await handle.focus();
  await page.keyboard.press('ArrowRight', { delay: 10 });
  await page.keyboard.press('ArrowRight');
  await page.keyboard.press('ArrowRight');
  const after = (await pane.boundingBox())?.width ?? 0;
  expect(after).toBeGreaterThan(before + 60);
  const box = await handle.boundingBox();
  if (!box) throw new Error('no splitter');
  await page.mouse.move(box.x + 2, box.y + 200);
  await page.mouse.down();
  await page.mouse.move(box.x + 150, box.y + 200, { steps: 5 });
  await page.mouse.up();
  expect((await pane.boundingBox())?.width ?? 0).toBeGreaterThan(after + 100);
});

test('the camera follows until the user pans or zooms; Follow and f bring it back', async ({
  app,
  page,
}) => {
  await app.open();
  const follow = page.getByRole('button', { name: 'Follow' });
  const canvas = page.getByTestId('tree-canvas');
  await expect(follow).toHaveAttribute('aria-pressed', 'true');
  // The first access puts three tables on the picture: the camera re-fits to them.
  const before = await canvas.getAttribute('data-view');
  await app.press('Shift+ArrowRight', 3);
  const fitted = await canvas.getAttribute('data-view');
  expect(fitted).not.toBe(before);
  await page.getByRole('button', { name: 'Zoom in' }).click();
  await app.idle();
  await expect(follow).toHaveAttribute('aria-pressed', 'false');
  const mine = await canvas.getAttribute('data-view');
  // Not following: a new table (the exec split's L1) leaves the user's camera alone.
  await app.press('Shift+ArrowRight', 2);
  await expect(canvas).toHaveAttribute('data-view', mine ?? '');
  await app.press('f');
  await expect(follow).toHaveAttribute('aria-pressed', 'true');
  await expect(canvas).not.toHaveAttribute('data-view', mine ?? '');
});

test('a refusal mark leaves with the edit of its line, and only real errors are listed', async ({
  app,
}) => {
  await app.open();
  await app.setScript(
    'memslot gpa=0x100000000 size=4M backing=2M\nzap_sp gpa=0x100000000 level=1\n',
  );
  await expect(app.errors).toHaveCount(1);
  await expect(app.errors.first()).toContainText('Line 2');
  // The UX review's repro: line 2 becomes an access, line 3 a typo. One error, on line 3.
  await app.setScript(
    'memslot gpa=0x100000000 size=4M backing=2M\naccess gpa=0x100000000 type=read\nacess gpa=0x100000000\n',
  );
  await expect(app.errors).toHaveCount(1);
  await expect(app.errors.first()).toContainText('Line 3');
});
