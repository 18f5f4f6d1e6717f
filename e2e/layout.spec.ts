// Projectors: no horizontal overflow at the classroom sizes and at 150 % browser zoom, in every
// mode (Explore, Compare, each tour step, presentation mode), with the cursor on a long sentence.
import { expect, test, type TdpvizPage } from './fixtures.ts';

const SIZES = [
  { width: 1024, height: 768, zoom: 1 },
  { width: 1280, height: 720, zoom: 1 },
  { width: 1280, height: 800, zoom: 1 },
  { width: 1920, height: 1080, zoom: 1 },
  // 150 % browser zoom on a 1280 × 800 screen: a CSS viewport two thirds as large.
  { width: 853, height: 533, zoom: 1.5 },
];

async function noOverflow(app: TdpvizPage, where: string): Promise<void> {
  await app.idle();
  const [scroll, inner] = await app.page.evaluate(() => [
    document.documentElement.scrollWidth,
    window.innerWidth,
  ]);
  expect(scroll, `${where}: scrollWidth ${scroll} > innerWidth ${inner}`).toBeLessThanOrEqual(
    inner,
  );
}

for (const size of SIZES) {
  test.describe(`at ${size.width}×${size.height}${size.zoom > 1 ? ' (150 % zoom)' : ''}`, () => {
    test.use({
      viewport: { width: size.width, height: size.height },
      deviceScaleFactor: size.zoom,
    });

    test('nothing overflows sideways in any mode', async ({ app, page }) => {
      await app.open();
      await noOverflow(app, 'opening screen');
      // An operation's first event: the longest "now" line.
      await app.press('Shift+ArrowRight', 3);
      await app.press('ArrowRight');
      await noOverflow(app, 'explore mid-operation');
      await page.getByRole('button', { name: 'Present' }).click();
      await noOverflow(app, 'presentation mode');
      await app.press('End');
      await noOverflow(app, 'presentation mode at the end');
      await page.getByRole('button', { name: 'Present' }).click();

      await page.getByRole('button', { name: 'Compare', exact: true }).click();
      await noOverflow(app, 'compare');
      await app.press('End');
      await noOverflow(app, 'compare at the end');
      await page.getByRole('button', { name: 'Explore', exact: true }).click();

      const tours = await page.getByLabel('Guided tour').locator('option:not([disabled])').count();
      for (let t = 1; t <= tours; t++) {
        await page.getByLabel('Guided tour').selectOption({ index: t });
        await app.idle();
        const tour = page.getByRole('region', { name: 'Guided tour' });
        const total = Number(
          /of (\d+)/.exec((await page.getByTestId('tour-step').textContent()) ?? '')?.[1],
        );
        for (let k = 1; k <= total; k++) {
          await tour.getByRole('button', { name: new RegExp(`^Step ${k}:`) }).click();
          await noOverflow(app, `tour ${t} step ${k}`);
        }
        await tour.getByRole('button', { name: 'Exit tour' }).click();
      }
    });
  });
}
