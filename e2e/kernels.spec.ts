// The kernel profile as a user meets it: chosen in the header (and undone), named by the stats, the
// log and the link, run by the 6.18 preset, and compared across kernels.
import { expect, test } from './fixtures.ts';

const MINE = `# my script, no vm line
memslot gpa=0x100000000 size=2M backing=2M
access gpa=0x100000000 type=read
access gpa=0x100000000 type=exec
`;

test('the header picks the kernel by editing the script, one Undo away', async ({ app, page }) => {
  await app.open();
  await app.setScript(MINE);
  const kernel = page.getByTestId('kernel');
  await expect(kernel).toHaveValue('5.18');
  await expect(page.getByTestId('stat-pf_taken')).toHaveCount(0);
  expect(await app.stat('pages_4k')).toBe(0);
  await app.press('End');
  expect(await app.stat('pages_4k')).toBe(1);

  await kernel.selectOption('6.18');
  await app.idle();
  await app.expectScript(
    '# my script, no vm line\nvm kernel=6.18\n' + MINE.split('\n').slice(1).join('\n'),
  );
  await expect(page.getByText('Stats · kernel 6.18')).toBeVisible();
  await expect(page.getByText(/Event log · kernel 6\.18/)).toBeVisible();
  await app.press('End');
  // 6.18 splits the 2M leaf in place: 512 executable 4K leaves; the 6.x vCPU stats appear.
  expect(await app.stat('pages_4k')).toBe(512);
  expect(await app.stat('pf_taken')).toBe(2);

  await page.getByRole('button', { name: 'Copy link' }).click();
  await expect(page.getByTestId('share-link')).toHaveValue(/&kernel=6\.18$/);
  await page.keyboard.press('Escape');
  await expect(page.getByTestId('share-link')).toBeHidden();

  await page.getByTestId('undo-notice').getByRole('button', { name: 'Undo' }).click();
  await app.idle();
  await app.expectScript(MINE);
  await expect(kernel).toHaveValue('5.18');
});

test('the 6.18 preset runs with every expect holding, and the inspector names SHADOW_NONPRESENT_VALUE', async ({
  app,
  page,
}) => {
  await app.open();
  await app.loadPreset('NX recovery under the read lock (6.18)');
  await expect(app.failures).toHaveCount(0);
  await expect(app.errors).toHaveCount(0);
  await app.press('End');
  expect(await app.stat('spte_frozen')).toBe(1024);
  expect(await app.stat('nx_lpage_splits')).toBe(0);
  // The event log tells the read lock and the 6.18 zap in the kernel's words.
  const log = page.getByRole('region', { name: /Event log/ });
  await expect(log).toContainText('kernel 6.18');
  // Inside recover_nx (the sixth operation) the picture says which lock it holds.
  await app.press('Home');
  await expect(page.getByTestId('mmu-lock')).toHaveCount(0);
  await app.press('Shift+ArrowRight', 6);
  await app.press('ArrowLeft', 4);
  await expect(page.getByTestId('mmu-lock')).toHaveText('mmu_lock: read (shared)');
  await app.press('End');
  // Root entry 1 was never written: 6.10+ fills new tables with bit 63.
  await page.getByRole('application', { name: /Paging structure/ }).focus();
  await page.keyboard.press('ArrowRight');
  await page.keyboard.press('ArrowRight');
  await expect(page.getByRole('heading', { name: /Entry sp 0\s*\[1\]/ })).toBeVisible();
  await expect(page.getByTestId('inspector-spte')).toContainText('0x8000000000000000');
  await expect(page.getByRole('complementary', { name: 'Details' })).toContainText(
    'SHADOW_NONPRESENT_VALUE',
  );
});

test('Compare puts 5.18 and 6.18 side by side on the recovery story, and Undo brings the panes back', async ({
  app,
  page,
}) => {
  await app.open();
  await app.loadPreset('NX recovery under the read lock (6.18)');
  const preset = await app.script();
  await page.getByRole('button', { name: 'Compare', exact: true }).click();
  await app.idle();
  const by = page.getByTestId('compare-by');
  await expect(by).toHaveValue('walk-direct');
  const before = await app.script();

  await by.selectOption({ label: 'kernel: 5.18 vs 6.18' });
  await app.idle();
  await app.press('End');
  // 5.18: the exec fault freezes the huge leaf it zaps, recovery the 2 present leaves.
  await expect(page.getByTestId('A-spte_frozen')).toHaveText('3');
  await expect(page.getByTestId('B-spte_frozen')).toHaveText('1,024');
  await expect(page.getByTestId('A-tlb_flushes_full')).toHaveText('1');
  await expect(page.getByTestId('B-tlb_flushes_full')).toHaveText('1');
  const sentence = page.getByTestId('compare-sentence');
  await expect(sentence).toContainText(
    'A (5.18 direct) read 1,025 more SPTEs than B (6.18 atomic)',
  );
  await expect(sentence).toContainText('froze all 512 entries of each removed table');
  await expect(page.getByTestId('same-tables')).toHaveText('identical but for bit 63');
  // Pane A's expects were written for 6.18: off, not failing.
  await expect(app.failures).toHaveCount(0);

  await page.getByTestId('compare-undo').getByRole('button', { name: 'Undo' }).click();
  await app.idle();
  await expect(by).toHaveValue('walk-direct');
  await app.expectScript(before);

  await page.getByRole('button', { name: 'Explore', exact: true }).click();
  await app.idle();
  await app.expectScript(preset);
});
