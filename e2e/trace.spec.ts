// An imported trace-cmd report opens as a run: stepped, explained by its own lines, decoded.
import { readFileSync } from 'node:fs';
import { expect, test } from './fixtures.ts';

const TRACE = readFileSync('e2e/data/nx-recovery.trace.txt', 'utf8');

test('File → Import opens a trace-cmd report as a run: its lines in the log, steps, the inspector decodes its SPTEs', async ({
  app,
  page,
}) => {
  await app.open();
  const mine = 'memslot gpa=0x100000000 size=2M backing=2M\naccess gpa=0x100000000 type=read\n';
  await app.setScript(mine);
  await page.getByTestId('import-file').setInputFiles({
    name: 'nx-recovery.trace.txt',
    mimeType: 'text/plain',
    buffer: Buffer.from(TRACE),
  });
  await app.idle();
  await app.expectScript(TRACE);
  await expect(page.getByTestId('run-status')).not.toContainText('problem');
  // One step per traced record: the second links the L3 table's entry 4 to a new L2 table.
  await app.press('Home');
  await app.press('Shift+ArrowRight', 2);
  await expect(
    page
      .getByTestId('event-row')
      .filter({ hasText: 'trace line 5: CPU 0/KVM-4242 [001] 81234.500107' }),
  ).toHaveCount(1);
  // One lane per task that printed records, with where the cursor left each.
  await expect(page.getByTestId('trace-lane-0')).toContainText('CPU 0/KVM-4242');
  await expect(page.getByTestId('trace-lane-0')).toContainText('line 5 · CPU 1 · 81234.500107');
  await expect(page.getByTestId('trace-lane-1')).toContainText('CPU 1/KVM-4243');
  await expect(page.getByTestId('trace-lane-1')).toContainText('no record yet');
  // The root's unseen entries have a colour of their own, named in the legend.
  await page.locator('.legend__summary').click();
  await expect(page.getByRole('list', { name: 'Entry colours' })).toContainText(
    'unknown (not in the trace yet)',
  );
  await app.press('End');
  // The trace ends with a 2M leaf back at gfn 0x100400 and the one at 0x100200 kept.
  expect(await app.stat('pages_2m')).toBe(2);
  expect(await app.stat('pages_4k')).toBe(0);
  const canvas = page.getByRole('application', { name: /Paging structure/ });
  await canvas.focus();
  await page.keyboard.press('ArrowRight');
  await expect(page.getByRole('heading', { name: /Entry sp 0\s*\[0\]/ })).toBeVisible();
  // The root's entry as the trace printed it: a table pointer to PFN 0x10001.
  await expect(page.getByTestId('inspector-spte')).toHaveText('0x0000000010001907');
  // The root is implied: the trace never showed its entry 1, so nothing is claimed about it.
  await page.keyboard.press('ArrowRight');
  await expect(page.getByRole('heading', { name: /Entry sp 0\s*\[1\]/ })).toBeVisible();
  await expect(page.getByTestId('inspector-spte')).toHaveText('unknown');
  await page.keyboard.press('Escape');
  // The import replaced the user's script: one click brings it back exactly.
  await page.getByTestId('undo-notice').getByRole('button', { name: 'Undo' }).click();
  await app.expectScript(mine);
});

test('File → Paste a trace… opens pasted trace text as a run, and Undo brings the script back', async ({
  app,
  page,
}) => {
  await app.open();
  const mine = 'memslot gpa=0x100000000 size=2M backing=2M\naccess gpa=0x100000000 type=read\n';
  await app.setScript(mine);
  await page.getByRole('button', { name: 'File' }).click();
  await page.getByRole('menuitem', { name: 'Paste a trace…' }).click();
  const dialog = page.getByRole('dialog', { name: 'Paste a trace' });
  await expect(dialog.getByRole('button', { name: 'Open as a run' })).toBeDisabled();
  await dialog.getByTestId('paste-text').fill(TRACE);
  await dialog.getByRole('button', { name: 'Open as a run' }).click();
  await expect(dialog).toBeHidden();
  await app.idle();
  await app.expectScript(TRACE);
  await expect(page.getByTestId('trace-lane-1')).toContainText('CPU 1/KVM-4243');
  await app.press('End');
  expect(await app.stat('pages_2m')).toBe(2);
  await page.getByTestId('undo-notice').getByRole('button', { name: 'Undo' }).click();
  await app.expectScript(mine);
});
