import { expect, test } from './fixtures.ts';

const FINAL: Record<string, { stats: Record<string, number>; tables: number }> = {
  'NX huge pages and recovery': {
    stats: { pages_4k: 0, pages_2m: 2, pages_1g: 0, nx_lpage_splits: 0 },
    tables: 3,
  },
  '4K / 2M / 1G mapping tour': {
    stats: { pages_4k: 2, pages_2m: 2, pages_1g: 1, nx_lpage_splits: 0 },
    tables: 9,
  },
  'Shattering huge pages': {
    stats: { pages_4k: 512, pages_2m: 511, pages_1g: 0, tlb_flushes: 0 },
    tables: 4,
  },
  'zap_sp: walk vs direct': {
    stats: { nx_lpage_splits: 0, pages_4k: 0, spte_reads: 1046, iter_steps: 11 },
    tables: 3,
  },
  'Zapping under an invalidated root': {
    stats: { pages_4k: 0, pages_2m: 0, nx_lpage_splits: 0 },
    tables: 3,
  },
};

for (const [title, want] of Object.entries(FINAL)) {
  test(`the "${title}" preset runs to its end with every expect holding`, async ({ app }) => {
    await app.open();
    await app.loadPreset(title);
    await expect(app.errors).toHaveCount(0);
    await expect(app.failures).toHaveCount(0);
    expect((await app.position()).cursor).toBe(0);
    await app.press('End');
    const { cursor, count } = await app.position();
    expect(cursor).toBe(count);
    for (const [name, value] of Object.entries(want.stats))
      expect(await app.stat(name), name).toBe(value);
    await expect(app.tables).toHaveCount(want.tables);
  });
}
