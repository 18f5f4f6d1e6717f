import { describe, expect, it } from 'vitest';
import { InProcessSimClient } from '../client/InProcessSimClient.ts';
import {
  checkImportSize,
  ImportError,
  MAX_IMPORT_BYTES,
  PIECED_READ_BYTES,
  readFileText,
  scenarioFile,
  scriptFromFile,
  traceJson,
  tracepointText,
} from './files.ts';
import { withKernel } from './compare.ts';
import { Session } from './session.ts';

const SCRIPT = 'memslot gpa=0x100000000 size=2M backing=2M\naccess gpa=0x100000000 type=exec\n';

async function ran(script = SCRIPT): Promise<Session> {
  const s = new Session(new InProcessSimClient(), null);
  void s.start(() => Promise.resolve(script));
  for (let i = 0; i < 1000 && !s.settled(); i++) await new Promise((r) => setTimeout(r, 0));
  return s;
}

describe('export and import', () => {
  it('reads a big file in pieces that make exactly its text, and runs it from the file', async () => {
    // Two-byte characters, so pieces of 2 MiB of bytes split some of them: the decoder must join them.
    const record =
      'CPU 0/KVM-9 [000] 1.000001: kvm_tdp_mmu_spte_changed: as id 0 gfn 100000 level 4 old_spte 0 new_spte 10001907\n';
    // kvm_exit lines (skipped by name) with a two-byte character in each.
    const exit = 'CPU 0/KVM-9 [000] 0.500000: kvm_exit: reason EPT_VIOLATION rip 0xé info 0 0\n';
    const pad = exit.repeat(Math.ceil(PIECED_READ_BYTES / exit.length));
    const blob = new Blob([pad, record, pad]);
    const { text, pieces } = await readFileText(blob);
    expect(text).toBe(await blob.text());
    expect(pieces?.length).toBe(Math.ceil(blob.size / (2 * 2 ** 20)));
    expect(pieces?.join('')).toBe(text);
    expect(scriptFromFile('t.txt', text, pieces)).toEqual({ script: text });
    // A NUL in a later piece is found without joining the pieces.
    const bad = await readFileText(new Blob([pad, record, pad, '\0']));
    expect(() => scriptFromFile('t.txt', bad.text, bad.pieces)).toThrow(
      't.txt: this is a binary file',
    );

    const s = new Session(new InProcessSimClient(), null);
    s.setScript(text, 0, { file: blob, pieces });
    await s.whenFinished();
    const st = s.store.getState();
    expect(st.parseErrors).toEqual([]);
    expect(st.statements.length).toBe(1);
    const line = pad.split('\n').length;
    expect(st.statements.at(0)?.line).toBe(line);
    expect(st.statements.at(0)?.trace?.text).toBe(record.trim());
    expect(st.statements.traceLine(line + 1)).toBe(exit.trim());
  }, 30_000);

  it('refuses a file over the import limit before reading it', () => {
    expect(() => checkImportSize('big.json', 300 * 2 ** 20)).toThrow(
      'big.json: 300 MiB is more than the 256 MiB an import may be',
    );
    expect(() => checkImportSize('ok.tdp', MAX_IMPORT_BYTES)).not.toThrow();
  });

  it('exports the trace as JSON with hex SPTEs, and imports its script back', async () => {
    const s = await ran();
    const json = traceJson(s);
    const parsed = JSON.parse(json) as { events: { type: string; new?: string }[] };
    expect(parsed.events.length).toBe(s.events.length);
    expect(parsed.events.find((e) => e.type === 'spteChanged')?.new).toMatch(/^0x[0-9a-f]+$/);
    expect(scriptFromFile('run.json', json)).toEqual({ script: SCRIPT, events: s.events.length });
  });

  it('exports tracepoint text in the kernel format', async () => {
    const text = tracepointText(await ran());
    expect(text.split('\n').slice(0, 2)).toEqual([
      '# tdpviz: kvm_tdp_mmu_spte_changed as kernel 5.18 prints it',
      'kvm_tdp_mmu_spte_changed: as id 0 gfn 0 level 4 old_spte 0 new_spte 10001907',
    ]);
  });

  it('imports the tracepoint text it exports as a run rebuilt from the trace', async () => {
    const text = tracepointText(await ran());
    expect(scriptFromFile('trace.txt', text)).toEqual({ script: text });
    const s = await ran(text);
    const st = s.store.getState();
    expect(st.parseErrors).toEqual([]);
    // The exec fault's changes: L4, L3, L2 non-leaf entries, the 4K leaf, one span per line.
    expect([...st.statements].map((x) => [x.line, x.kind])).toEqual([
      [2, 'kvm_tdp_mmu_spte_changed'],
      [3, 'kvm_tdp_mmu_spte_changed'],
      [4, 'kvm_tdp_mmu_spte_changed'],
      [5, 'kvm_tdp_mmu_spte_changed'],
    ]);
    expect(st.statements.at(3)?.trace?.text).toBe(text.split('\n')[4]);
    s.seek(st.eventCount);
    for (let i = 0; i < 1000 && !s.settled(); i++) s.advance(performance.now());
    expect(s.mirror.stats()).toEqual({ pages_4k: 1, pages_2m: 0, pages_1g: 0, nx_lpage_splits: 0 });
    // Four writes the trace printed; the root entry's first sight is not a write.
    expect(s.mirror.counters.spte_writes).toBe(4);
    // A trace is what one kernel printed: no kernel= goes into it.
    expect(withKernel(text, '6.18')).toBe(text);
  });

  it('names the kernel in every exported file', async () => {
    const s = await ran();
    expect(JSON.parse(traceJson(s))).toMatchObject({ kernel: '5.18' });
    expect(scenarioFile(s).split('\n')[0]).toBe('vm kernel=5.18');
    expect(scriptFromFile('x.tdp', scenarioFile(s)).script).toContain('vm kernel=5.18');
  });

  it('names what is wrong with a file it cannot import', () => {
    expect(() => scriptFromFile('x.json', '{"format": "other"}')).toThrow(/"format" is "other"/);
    expect(() => scriptFromFile('x.json', '{oops')).toThrow(ImportError);
    expect(() =>
      scriptFromFile('x.json', '{"format":"tdpviz-trace","version":1,"events":[]}'),
    ).toThrow(/"script" is missing/);
    expect(scriptFromFile('a.tdp', SCRIPT)).toEqual({ script: SCRIPT });
  });
});
