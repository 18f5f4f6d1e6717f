// Explore, Compare and each Tour keep their own script: no mode switch, preset, import or link
// loses or changes what the user wrote.
import { expect, test, type TdpvizPage } from './fixtures.ts';

const MINE = `# my own scenario: a 5-level guest, nothing to zap
vm levels=5 phys_bits=52
memslot gpa=0x100000000 size=2M backing=4K
access gpa=0x100000000 type=read   # one 4K page
expect pages_4k=1
`;

async function mode(app: TdpvizPage, name: 'Explore' | 'Compare'): Promise<void> {
  await app.page.getByRole('button', { name, exact: true }).click();
  await app.idle();
}

test('Explore → Compare → Explore keeps a hand-written script and its cursor exactly', async ({
  app,
  page,
}) => {
  await app.open();
  await app.setScript(MINE);
  await app.press('Shift+ArrowRight', 2);
  const at = await app.position();
  await mode(app, 'Compare');
  // Nothing in it depends on a strategy: compare says so and offers the default instead.
  await expect(page.getByTestId('compare-offer')).toContainText('has no zap_sp or recover_nx');
  await expect(page.getByTestId('compare-hint')).toHaveText(
    'Both scripts are the same: both panes will match.',
  );
  await mode(app, 'Explore');
  await app.expectScript(MINE);
  expect(await app.position()).toEqual(at);
  await expect(app.failures).toHaveCount(0);

  // Taking the offered default comparison still leaves the Explore script alone.
  await mode(app, 'Compare');
  await page.getByRole('button', { name: 'Compare the default scenario instead' }).click();
  await app.idle();
  await expect(page.getByTestId('pane-A')).toContainText('A · walk');
  await mode(app, 'Explore');
  await app.expectScript(MINE);
});

test('Compare derives both scripts from the zap_sp preset without editing it', async ({
  app,
  page,
}) => {
  await app.open();
  await app.loadPreset('zap_sp: walk vs direct');
  const preset = await app.script();
  await expect(app.failures).toHaveCount(0);
  await mode(app, 'Compare');
  await expect(page.getByTestId('compare-hint')).toContainText('B differs from A on');
  // The derived panes carry no expect failure the user did not cause.
  await expect(app.failures).toHaveCount(0);
  await page.getByRole('tab', { name: 'Script B' }).click();
  await expect(app.failures).toHaveCount(0);
  await mode(app, 'Explore');
  await app.expectScript(preset);
  await expect(app.failures).toHaveCount(0);
});

test('Explore → Tour → Exit brings back the Explore script', async ({ app, page }) => {
  await app.open();
  await app.setScript(MINE);
  await page.getByLabel('Guided tour').selectOption({ index: 1 });
  await app.idle();
  await page.getByRole('button', { name: 'Exit tour' }).click();
  await app.idle();
  await app.expectScript(MINE);
  await expect(app.failures).toHaveCount(0);
});

test('a reload inside Compare keeps the Explore script for the way back', async ({ app, page }) => {
  await app.open();
  await app.setScript(
    MINE.replace('nothing to zap', 'and a zap') +
      'zap_gfn_range start=0x100000 end=0x100200\nrecover_nx\n',
  );
  const mine = await app.script();
  await mode(app, 'Compare');
  await page.reload();
  await app.idle();
  await expect(page.getByTestId('pane-A')).toBeVisible();
  await mode(app, 'Explore');
  await app.expectScript(mine);
});

test('a preset over an edited script can be undone in one click', async ({ app, page }) => {
  await app.open();
  await app.setScript(MINE);
  await app.loadPreset('zap_sp: walk vs direct');
  await expect(page.getByTestId('undo-notice')).toContainText('zap_sp: walk vs direct');
  await page.getByTestId('undo-notice').getByRole('button', { name: 'Undo' }).click();
  await app.idle();
  await app.expectScript(MINE);
  await expect(app.failures).toHaveCount(0);
  await expect(page.getByTestId('undo-notice')).toBeHidden();
});

test('the Preset menu names the loaded preset until the script is edited', async ({
  app,
  page,
}) => {
  await app.open();
  await app.loadPreset('Shattering huge pages');
  const menu = page.getByLabel('Preset');
  await expect(menu.locator('option:checked')).toHaveText('Shattering huge pages');
  await app.setScript(MINE);
  await expect(menu.locator('option:checked')).toContainText('Your script');
});

test('Ctrl+Z in the editor undoes by edit, not by character', async ({ app, page }) => {
  await app.open();
  await app.setScript('vm levels=4\n');
  await app.editor.focus();
  // Moving the caret ends the pasted edit's undo group, as it does for a person.
  await page.keyboard.press('Control+Home');
  await page.keyboard.press('Control+End');
  await page.keyboard.type('invalidate_roots', { delay: 20 });
  await page.keyboard.press('Control+z');
  await app.expectScript('vm levels=4\n');
  // KeyZ, not z: with Shift held a real keyboard reports 'Z', as Playwright does only for KeyZ.
  await page.keyboard.press('Control+Shift+KeyZ');
  await app.expectScript('vm levels=4\ninvalidate_roots');
});

test('a link opened over an edited script keeps it one click away', async ({ app, page }) => {
  await app.open();
  await app.setScript('memslot gpa=0x40000000 size=1G backing=1G\naccess gpa=0x40000000\n');
  await page.getByRole('button', { name: 'Copy link' }).click();
  const link = await page.getByTestId('share-link').inputValue();
  await page.keyboard.press('Escape');
  await expect(page.getByTestId('share-link')).toBeHidden();
  await app.setScript(MINE);
  await page.goto(link.replace(/^https?:\/\/[^/]+/, 'http://127.0.0.1:4173'));
  await app.idle();
  await app.expectScript(/size=1G/);
  await page.getByTestId('undo-notice').getByRole('button', { name: 'Undo' }).click();
  await app.idle();
  await app.expectScript(MINE);
});
