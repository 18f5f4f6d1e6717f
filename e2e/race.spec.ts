// Race mode as a person meets it: the 6.18 preset's race plays with a lane per actor, steps back
// to its start exactly, and the explorer in the page lists what every schedule can end in.
import { expect, test } from './fixtures.ts';

const PRESET = '6.18: recovery races a vCPU fault';

test('a race plays with a lane per actor and steps back to its start exactly', async ({
  app,
  page,
}) => {
  await app.open();
  await app.loadPreset(PRESET);
  await expect(app.failures).toHaveCount(0);
  // vm, memslot, the exec access: the cursor stands where the first race begins.
  await app.press('Shift+ArrowRight', 3);
  const start = (await app.position()).cursor;
  const before = await app.digest();
  await expect(page.getByTestId('race-lane-0')).toHaveCount(0);

  await app.press('ArrowRight');
  await expect(page.getByTestId('race-lane-0')).toContainText('vcpu1');
  await expect(page.getByTestId('race-lane-1')).toContainText('recovery');
  await expect(page.getByTestId('race-lane-state-1')).toHaveText('not started');
  // The first switch: recovery (actor 1) runs first, as the schedule says.
  await app.press('ArrowRight', 2);
  await expect(page.getByTestId('race-lane-state-1')).toHaveText('runs now');
  await expect(page.getByTestId('race-lane-state-0')).toHaveText('not started');

  await app.press('Shift+ArrowRight');
  expect(await app.stat('pages_2m')).toBe(1);
  expect(await app.stat('nx_lpage_splits')).toBe(0);
  await expect(page.getByTestId('race-lane-state-0')).toContainText('done');
  await expect(page.getByTestId('race-lane-state-1')).toContainText('done');

  // Back over the race's end, recovery's end, sp 3's RCU free and its read_unlock(): recovery holds
  // the read lock again, inside its read-side section, and sp 3 waits for it.
  await app.press('ArrowLeft', 4);
  await expect(page.getByTestId('race-lane-state-1')).toContainText('mmu_lock: read · in RCU');
  await app.press('Shift+ArrowLeft');
  expect((await app.position()).cursor).toBe(start);
  expect(await app.digest()).toBe(before);
});

test('the explorer lists the final states, finds the what-if broken, and loads a schedule one Undo away', async ({
  app,
  page,
}) => {
  await app.open();
  await app.loadPreset(PRESET);
  const merged = page.getByTestId('race-explorer-16');
  await merged.getByRole('button', { name: 'Explore every schedule' }).click();
  await expect(merged.getByTestId('race-explorer-result')).toContainText(
    '2 final states, 0 violations',
    { timeout: 60_000 },
  );

  const whatIf = page.getByTestId('race-explorer-29');
  await whatIf.getByRole('button', { name: 'Explore every schedule' }).click();
  const found = whatIf.getByTestId('race-explorer-result');
  await expect(found).toContainText(/[1-9]\d* violations?/, { timeout: 60_000 });
  await expect(found).toContainText('pages_2m is 2 but 1 leaves are present');

  const script = await app.script();
  await merged.getByRole('button', { name: 'Step through' }).first().click();
  await app.idle();
  await expect(page.getByTestId('undo-notice')).toContainText(
    'the schedule of the race at line 16',
  );
  expect(await app.script()).not.toBe(script);
  expect((await app.script()).split('\n')[15]).toMatch(/^race schedule=[0-9*,]+$/);
  await page.getByTestId('undo-notice').getByRole('button', { name: 'Undo' }).click();
  await app.idle();
  await app.expectScript(script);
});

test('a vCPU that meets a frozen SPTE says so in its lane and faults again', async ({
  app,
  page,
}) => {
  await app.open();
  await app.setScript(`vm kernel=5.18 vcpus=2
memslot gpa=0x100000000 size=2M backing=2M
access vcpu=0 gpa=0x100000000 type=read
race schedule=1,0,1,0,0,1,0,1,0,1,1,0*3,1,0*3,1*5
  vcpu0: fault gpa=0x100000000 type=exec
  vcpu1: fault gpa=0x100001000 type=write
end
expect frozen_seen=1 pf_retry=1`);
  await expect(app.failures).toHaveCount(0);
  await app.press('Shift+ArrowRight', 3);
  await app.press('ArrowRight');
  const lane = page.getByTestId('race-lane-state-1');
  // Event by event through the race until vcpu1's fault has returned RET_PF_RETRY.
  for (let i = 0; i < 80; i++) {
    if ((await lane.textContent())?.includes('met a frozen SPTE')) break;
    await app.press('ArrowRight');
  }
  await expect(lane).toContainText(
    'met a frozen SPTE: RET_PF_RETRY, faults again once an SPTE changes',
  );
  await app.press('Shift+ArrowRight');
  await expect(lane).toContainText('done');
  await expect(lane).not.toContainText('frozen');
});
