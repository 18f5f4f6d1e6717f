// A trace too large to edit opens read-only, streams in with progress, and can be stopped.
import { expect, test } from './fixtures.ts';

/** `n` leaf changes on two tasks, mapping and unmapping 512 GFNs in turn. */
function report(n: number): string {
  const lines = ['version = 6'];
  for (let i = 0; i < n; i++) {
    const cpu = (i >> 8) & 1;
    const gfn = 0x100000 + ((i >> 1) % 512);
    const leaf = (0x600000000000b77n | (BigInt(gfn) << 12n)).toString(16);
    const [old, now] = i % 2 === 0 ? ['0', leaf] : [leaf, '0'];
    const ts = (100 + i / 1e6).toFixed(6);
    lines.push(
      `  CPU ${cpu}/KVM-${100 + cpu} [00${cpu}] ${ts}: kvm_tdp_mmu_spte_changed: as id 0 gfn ${gfn.toString(16)} level 1 old_spte ${old} new_spte ${now}`,
    );
  }
  return lines.join('\n') + '\n';
}

test('a 3 MiB trace opens read-only: it follows the cursor, a click runs to a record, Undo brings the script back', async ({
  app,
  page,
}) => {
  await app.open();
  const mine = 'memslot gpa=0x100000000 size=2M backing=2M\naccess gpa=0x100000000 type=read\n';
  await app.setScript(mine);
  const text = report(24_000);
  expect(text.length).toBeGreaterThan(2 * 2 ** 20);
  await page.getByTestId('import-file').setInputFiles({
    name: 'big.txt',
    mimeType: 'text/plain',
    buffer: Buffer.from(text),
  });
  await app.idle(120_000);
  await expect(page.getByTestId('trace-text-about')).toContainText(
    '24,001 lines: too large to edit here, so it is shown read-only',
  );
  await expect(page.getByTestId('script-editor')).toHaveCount(0);
  const rows = page.getByTestId('trace-text');
  await app.press('Shift+ArrowRight', 2);
  // The header is line 1: the second record is on line 3, and the view marks it.
  await expect(rows.locator('.trace-text__row--now')).toHaveAttribute('data-line', '3');
  await expect(rows.locator('[data-line="3"]')).toContainText('gfn 100000 level 1 old_spte 6');
  // A click on a record runs to its end: the event log's current row is that record's end.
  await rows.locator('[data-line="7"]').click();
  await app.idle();
  await expect(rows.locator('.trace-text__row--now')).toHaveAttribute('data-line', '7');
  await expect(page.getByTestId('trace-lane-0')).toContainText('line 7 · CPU 0 · 100.000005');
  await page.getByTestId('undo-notice').getByRole('button', { name: 'Undo' }).click();
  await app.expectScript(mine);
});

test('a big trace import shows its progress and stops when told, keeping the lines read', async ({
  app,
  page,
}) => {
  await app.open();
  const text = report(320_000);
  await page.getByTestId('import-file').setInputFiles({
    name: 'huge.txt',
    mimeType: 'text/plain',
    buffer: Buffer.from(text),
  });
  const status = page.getByTestId('run-status');
  await expect(status).toContainText('reading the trace… line');
  await page.getByRole('button', { name: 'Stop', exact: true }).click();
  await expect(status).toContainText(/stopped at line [\d,]+ of 320,001/, { timeout: 120_000 });
  await app.idle(120_000);
  const { count } = await app.position();
  expect(count).toBeGreaterThan(0);
  // The run holds the lines read: at its end the trace view marks the last of them.
  const said = (await status.textContent())?.match(/stopped at line ([\d,]+)/)?.[1] ?? '';
  const stopped = Number(said.replaceAll(',', ''));
  expect(stopped).toBeLessThan(320_001);
  await app.press('End');
  await expect(page.getByTestId('trace-text').locator('.trace-text__row--now')).toHaveAttribute(
    'data-line',
    String(stopped),
  );
});
