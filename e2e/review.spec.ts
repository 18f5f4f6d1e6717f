// The reviewer's questions, asked as a reviewer would: an entry's history and its previous / next
// change, a diff between two cursors, the NX list and the roots.
import { expect, test } from './fixtures.ts';

const SCRIPT = `vm recovery_ratio=1
memslot gpa=0x100000000 size=6M backing=2M
access gpa=0x100000000 type=read
access gpa=0x100000000 type=exec
recover_nx
access gpa=0x100000000 type=read
`;

test('an entry tells its history, and , / . jump to its previous and next change', async ({
  app,
  page,
}) => {
  await app.open();
  await app.setScript(SCRIPT);
  await app.press('End');
  const canvas = page.getByRole('application', { name: /Paging structure/ });
  await canvas.focus();
  await page.keyboard.press('ArrowRight');
  await page.keyboard.press('PageDown');
  await page.keyboard.press('PageDown');
  await expect(page.getByRole('heading', { name: /Entry sp 2\s*\[0\]/ })).toBeVisible();
  const history = page.getByTestId('entry-history');
  const rows = history.getByTestId('history-row');
  // By hand: the read's 2M leaf; the exec freezes it, clears it and links sp 3; recovery zaps the
  // link; the last read maps the 2M leaf again.
  await expect(rows).toHaveCount(6);
  await expect(rows.nth(0)).toContainText('access · line 3');
  await expect(rows.nth(0)).toContainText('non-present → 2M leaf, no X');
  await expect(rows.nth(3)).toContainText('non-present → non-leaf');
  await expect(rows.nth(4)).toContainText('recover_nx · line 5');
  await expect(rows.nth(4)).toContainText('non-leaf → non-present');
  await expect(rows.nth(5)).toHaveClass(/review__row--current/);

  await page.keyboard.press(',');
  await app.idle();
  await expect(rows.nth(4)).toHaveClass(/review__row--current/);
  await expect(rows.nth(5)).toHaveClass(/review__row--future/);
  await expect(page.getByTestId('inspector-spte')).toHaveText('0x0000000000000000');
  await page.keyboard.press(',');
  await app.idle();
  await expect(rows.nth(3)).toHaveClass(/review__row--current/);
  await expect(page.getByTestId('inspector-spte')).toHaveText('0x0000000010003907');
  await page.keyboard.press('.');
  await page.keyboard.press('.');
  await app.idle();
  await expect(rows.nth(5)).toHaveClass(/review__row--current/);
  await expect(page.getByTestId('inspector-spte')).toHaveText('0x0600004000000bf3');
});

test('a marked cursor gives the exact SPTEs and stats that differ', async ({ app, page }) => {
  await app.open();
  await app.setScript(SCRIPT);
  await app.press('Shift+ArrowRight', 3);
  const diff = page.getByTestId('state-diff');
  await diff.getByRole('button', { name: /Mark this cursor/ }).click();
  await expect(diff.getByTestId('diff-summary')).toHaveText('No SPTE differs.');
  await app.press('Shift+ArrowRight', 2);
  // After the exec fault and the recovery: the 2M leaf is gone, and sp 3's one 4K leaf was
  // written and then frozen with its table.
  await expect(diff.getByTestId('diff-summary')).toHaveText(
    '2 SPTEs differ (marked → now): 1 in linked tables, 1 in 1 table not linked at the cursor.',
  );
  await expect(diff.getByTestId('diff-row')).toHaveText(['sp 2[0]2M leaf, no X → non-present']);
  await expect(diff.getByTestId('diff-gone')).toContainText('sp 3');
  const stats = diff.getByTestId('diff-stats');
  await expect(stats.getByRole('row', { name: /^pages_2m/ })).toHaveText('pages_2m-1');
  await expect(stats.getByRole('row', { name: /^pages_4k/ })).toHaveCount(0);
  await expect(stats.getByRole('row', { name: /^sp_freed/ })).toHaveText('sp_freed+1');
});

test('the NX list and the roots, at the cursor', async ({ app, page }) => {
  await app.open();
  await app.setScript(SCRIPT);
  await app.press('Shift+ArrowRight', 4);
  const nx = page.getByTestId('nx-list');
  await expect(nx).toContainText(
    '1 in FIFO order; the next recover_nx has to_zap = 1 (ceil(1 / 1)) and takes from the head.',
  );
  await expect(nx.getByTestId('nx-row')).toHaveText([
    'sp 3gfn 0x100000 · role.level 1root sp 0among the first to_zap = 1',
  ]);
  await expect(page.getByTestId('roots').getByTestId('root-row')).toHaveText(['root sp 010yes3']);
  expect(await app.stat('roots')).toBe(1);
  expect(await app.stat('invalid_roots')).toBe(0);
  expect(await app.stat('tables')).toBe(3);
  // Clicking the table in the NX list selects it in the inspector.
  await nx.getByRole('button', { name: 'sp 3' }).click();
  await expect(page.getByRole('heading', { name: /Table sp 3/ })).toBeVisible();
  await app.press('Shift+ArrowRight');
  await expect(nx).toContainText('Empty: no table is accounted.');
});

test('a click on a line number runs the timeline to the end of that statement', async ({
  app,
  page,
}) => {
  await app.open();
  await app.setScript(SCRIPT);
  const gutter = page.locator('.cm-lineNumbers .cm-gutterElement');
  const number = (n: number) => gutter.filter({ hasText: new RegExp(`^${n}$`) });
  await number(4).click(); // the exec fault
  await app.idle();
  const at4 = await app.position();
  // The cursor is at the end of line 4's events: the 4K leaf is in, the 2M leaf gone.
  expect(await app.stat('pages_4k')).toBe(1);
  expect(await app.stat('pages_2m')).toBe(0);
  await number(5).click(); // recover_nx
  await app.idle();
  expect((await app.position()).cursor).toBeGreaterThan(at4.cursor);
  expect(await app.stat('nx_lpage_splits')).toBe(0);
  await number(1).click(); // vm
  await app.idle();
  expect(await app.stat('pages_4k')).toBe(0);
});

test('Compare lists what differs between the panes when the tables are not the same', async ({
  app,
  page,
}) => {
  await app.open();
  await app.loadPreset('Zapping under an invalidated root');
  await page.getByRole('button', { name: 'Compare', exact: true }).click();
  await app.idle();
  // Both panes after their two recover_nx (the 7th operation), before the invalid root is
  // zapped: A's walks never reached the table under root sp 0 and zapped the new root's unrelated
  // 2M leaf instead; B's direct zap took the table out through sp->ptep.
  await app.press('Shift+ArrowRight', 7);
  const diff = page.getByTestId('pane-diff');
  await expect(diff.getByTestId('pane-diff-summary')).toHaveText(
    '2 entries differ in tables both panes have; 1 table only one pane has.',
  );
  await expect(diff.getByTestId('pane-diff-row')).toHaveText([
    'sp 2[0] A non-leaf · B non-present',
    'sp 6[0] A non-present · B 2M leaf, no X',
  ]);
  await expect(diff.getByTestId('pane-diff-only')).toContainText(['only in pane A']);
});

test('Compare on the default NX recovery: no A/B difference, and the sentence says so', async ({
  app,
  page,
}) => {
  await app.open();
  await page.getByRole('button', { name: 'Compare', exact: true }).click();
  await app.idle();
  await app.press('End');
  // Walk and direct on one valid root leave the same tables: no list, the sentence says so.
  await expect(page.getByTestId('compare-sentence')).toContainText('Both leave identical tables.');
  await expect(page.getByTestId('pane-diff')).toHaveCount(0);
});

test('the event log filters to one entry, to flushes only, and marks the matches on the scrubber', async ({
  app,
  page,
}) => {
  await app.open();
  await app.setScript(SCRIPT);
  const box = page.getByTestId('log-filter');
  const found = page.getByTestId('log-found');
  const rows = page.getByRole('region', { name: /Event log/ }).getByTestId('event-row');
  await box.fill('sp=2[0] kind=spte');
  await expect(found).toHaveText('6 matches');
  await expect(rows).toHaveCount(6);
  await expect(rows.first()).toContainText('handle_changed_spte: sp 2[0] gfn 0x100000 level 2');
  await expect(page.getByTestId('scrubber-matches').locator('.match')).not.toHaveCount(0);
  await box.fill('kind=flush');
  await expect(found).toHaveText('2 matches');
  await expect(rows).toHaveText([
    /kvm_flush_remote_tlbs_with_address\(\): gfn 0x100000, 512 pages/,
    /kvm_flush_remote_tlbs\(\): full flush/,
  ]);
  // A click on a match jumps there.
  await rows.nth(1).click();
  await app.idle();
  expect(await app.stat('tlb_flushes_full')).toBe(1);
  await box.fill('kind=oops');
  await expect(found).toContainText('kind=oops: not a kind');
  await box.fill('');
  await expect(found).toHaveCount(0);
});
