// Page objects for the browser tests: they drive the app as a person does and wait on the app's
// idle signal (html[data-idle="true"]) instead of sleeping.
import { test as base, expect, type Locator, type Page } from '@playwright/test';

export class TdpvizPage {
  readonly editor: Locator;
  readonly cursor: Locator;
  readonly errors: Locator;
  readonly failures: Locator;
  readonly tables: Locator;

  constructor(readonly page: Page) {
    this.editor = page.getByLabel('Scenario script');
    this.cursor = page.getByTestId('cursor');
    this.errors = page.getByTestId('script-error');
    this.failures = page.getByTestId('script-failure');
    this.tables = page.getByTestId('table');
  }

  /** Open the app with a clean slate (no saved script), animations off unless asked for. */
  async open(opts: { motion?: boolean } = {}): Promise<void> {
    // Forget earlier visits once per tab; a reload later in the test keeps what this visit saved.
    await this.page.addInitScript(() => {
      if (sessionStorage.getItem('tdpviz-test') === null) {
        localStorage.clear();
        sessionStorage.setItem('tdpviz-test', 'started');
      }
    });
    await this.page.goto(opts.motion ? '/' : '/?motion=0');
    await this.idle();
  }

  async idle(timeout = 30_000): Promise<void> {
    await this.page.locator('html[data-idle="true"]').waitFor({ state: 'attached', timeout });
  }

  async loadPreset(title: string): Promise<void> {
    await this.page.getByLabel('Preset').selectOption({ label: title });
    await expect(this.page.getByTestId('run-status')).toContainText('events');
    await this.idle();
  }

  async press(key: string, times = 1): Promise<void> {
    await this.page.locator('body').click({ position: { x: 1, y: 1 } });
    for (let i = 0; i < times; i++) await this.page.keyboard.press(key);
    await this.idle();
  }

  /** Replaces the whole script as one edit, as a paste over a select-all would; then waits for the run unless told not to. */
  async setScript(text: string, opts: { wait?: boolean } = {}): Promise<void> {
    await this.editor.focus();
    await this.page.keyboard.press('ControlOrMeta+a');
    if (text === '') await this.page.keyboard.press('Delete');
    else await this.page.keyboard.insertText(text);
    if (opts.wait !== false) await this.idle();
  }

  /** The script's text as the editor holds it (CodeMirror keeps it in its state, not the DOM). */
  async script(): Promise<string> {
    return this.editor.evaluate((el) => {
      // EditorView.findFromDOM() reads this link (@codemirror/view 6.4x); the page has no import.
      type Doc = { state: { doc: { toString(): string } } };
      const view = (el as unknown as { cmTile?: { root?: { view?: Doc } } }).cmTile?.root?.view;
      if (view === undefined) throw new Error('the script editor is not a CodeMirror view');
      return view.state.doc.toString();
    });
  }

  async expectScript(expected: string | RegExp): Promise<void> {
    const poll = expect.poll(() => this.script());
    await (typeof expected === 'string' ? poll.toBe(expected) : poll.toMatch(expected));
  }

  async stat(name: string): Promise<number> {
    return Number(await this.page.getByTestId(`stat-${name}`).textContent());
  }

  async position(): Promise<{ cursor: number; count: number }> {
    const text = (await this.cursor.textContent()) ?? '';
    const [cursor, count] = text.split('/').map((s) => Number(s.replace(/[^0-9]/g, '')));
    return { cursor: cursor ?? NaN, count: count ?? NaN };
  }

  /** Everything a person can read about the state: stats, counters and every table's contents. */
  async digest(): Promise<string> {
    const stats = await this.page.locator('[data-testid^="stat-"]').allTextContents();
    const tables = await this.tables.allTextContents();
    return JSON.stringify({ stats, tables });
  }
}

export const test = base.extend<{ app: TdpvizPage }>({
  app: async ({ page }, use) => {
    const errors: string[] = [];
    page.on('console', (m) => {
      if (m.type() === 'error') errors.push(m.text());
    });
    page.on('pageerror', (e) => errors.push(e.message));
    await use(new TdpvizPage(page));
    expect(errors, 'console errors').toEqual([]);
  },
});
export { expect };
