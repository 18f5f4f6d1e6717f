import { describe, expect, it } from 'vitest';
import { InProcessSimClient } from '../client/InProcessSimClient.ts';
import { CHECKPOINT_EVERY } from '../sim/checkpoints.ts';
import { mirrorState } from '../sim/harness.ts';
import { Mirror } from '../sim/replay.ts';
import { MAX_SAVED_CHARS, Session, UNREADABLE_KEY } from './session.ts';

const NX = `vm recovery_ratio=1
memslot gpa=0x100000000 size=6M backing=2M
access gpa=0x100000000 type=read
access gpa=0x100000000 type=exec
recover_nx
access gpa=0x100000000 type=read
`;

class MemoryStorage {
  data = new Map<string, string>();
  getItem(k: string) {
    return this.data.get(k) ?? null;
  }
  setItem(k: string, v: string) {
    this.data.set(k, v);
  }
}

async function settle(session: Session): Promise<void> {
  for (let i = 0; i < 10_000; i++) {
    await new Promise((r) => setTimeout(r, 0));
    session.advance(performance.now());
    if (session.settled()) return;
  }
  throw new Error('the session never settled');
}

function started(script = NX, storage = new MemoryStorage()) {
  const session = new Session(new InProcessSimClient(), storage);
  void session.start(() => Promise.resolve(script));
  return { session, storage };
}

describe('Session', () => {
  it('runs the script in the client and starts at event 0 with an empty VM', async () => {
    const { session } = started();
    await settle(session);
    const s = session.store.getState();
    expect(s.runStatus).toBe('done');
    expect(s.eventCount).toBeGreaterThan(20);
    expect(s.cursor).toBe(0);
    expect(session.mirror.stats()).toEqual({
      pages_4k: 0,
      pages_2m: 0,
      pages_1g: 0,
      nx_lpage_splits: 0,
    });
  });

  it('shows nx_lpage_splits going 0 -> 1 -> 0 one operation at a time', async () => {
    const { session } = started();
    await settle(session);
    const seen: number[] = [];
    for (let i = 0; i < 6; i++) {
      session.stepOperation(1);
      await settle(session);
      seen.push(session.mirror.stats().nx_lpage_splits);
    }
    // vm, memslot, read, exec, recover_nx, read
    expect(seen).toEqual([0, 0, 0, 1, 0, 0]);
  });

  it('stepping forward then back returns exactly the same state', async () => {
    const { session } = started();
    await settle(session);
    session.seek(17);
    await settle(session);
    const snap = JSON.stringify({
      s: session.mirror.stats(),
      t: session.mirror.sps.map((sp) => Array.from(sp.spt)),
    });
    for (let i = 0; i < 9; i++) session.stepEvent(1);
    await settle(session);
    for (let i = 0; i < 9; i++) session.stepEvent(-1);
    await settle(session);
    expect(session.store.getState().cursor).toBe(17);
    expect(
      JSON.stringify({
        s: session.mirror.stats(),
        t: session.mirror.sps.map((sp) => Array.from(sp.spt)),
      }),
    ).toBe(snap);
  });

  it('plays at a speed, one event per elapsed duration, and stops at the end', async () => {
    const { session } = started();
    await settle(session);
    session.setSpeed(8);
    session.togglePlay();
    let now = 1000;
    session.advance(now);
    session.advance((now += 100));
    const c1 = session.store.getState().cursor;
    expect(c1).toBeGreaterThan(0);
    for (let i = 0; i < 2000 && session.store.getState().playing; i++)
      session.advance((now += 250));
    const s = session.store.getState();
    expect(s.playing).toBe(false);
    expect(s.cursor).toBe(s.eventCount);
    expect(session.mirror.stats().pages_2m).toBe(1);
  });

  it('a long seek jumps from the nearest checkpoint and lands in exactly the state stepping gives', async () => {
    // 65,536 4K faults: about 650k events, five checkpoints.
    const { session } = started(
      'memslot gpa=0x100000000 size=256M backing=4K\naccess_range gpa=0x100000000 size=256M type=write\n',
    );
    await settle(session);
    const n = session.events.length;
    expect(n).toBeGreaterThan(4 * CHECKPOINT_EVERY);
    // Let the checkpoints catch up, as they do between frames.
    for (let i = 0; i < 1000; i++) await new Promise((r) => setTimeout(r, 0));
    let replayed = 0;
    const m = session.mirror;
    const [fwd, back] = [m.forward.bind(m), m.backward.bind(m)];
    m.forward = (src) => (replayed++, fwd(src));
    m.backward = (src) => (replayed++, back(src));
    for (const target of [n, Math.floor(n / 2) + 12345, 3 * CHECKPOINT_EVERY + 7, 0, n - 1]) {
      replayed = 0;
      session.seek(target);
      await settle(session);
      expect(session.mirror.cursor).toBe(target);
      const fresh = new Mirror();
      fresh.seek(session.events, target);
      expect(mirrorState(session.mirror)).toBe(mirrorState(fresh));
      // Never more than a stride replayed (half of one between two checkpoints), not the log.
      expect(replayed).toBeLessThanOrEqual(CHECKPOINT_EVERY);
    }
  }, 30_000);

  it('a long seek right after a run, before the checkpoints exist, replays the log once, not twice', async () => {
    const { session } = started(
      'memslot gpa=0x100000000 size=256M backing=4K\naccess_range gpa=0x100000000 size=256M type=write\n',
    );
    await settle(session);
    const n = session.events.length;
    let replayed = 0;
    const m = session.mirror;
    const fwd = m.forward.bind(m);
    m.forward = (src) => (replayed++, fwd(src));
    // The seek itself drives the checkpoint builder, then replays from the one nearest the end.
    session.seek(n - 5);
    await settle(session);
    expect(session.mirror.cursor).toBe(n - 5);
    const fresh = new Mirror();
    fresh.seek(session.events, n - 5);
    expect(mirrorState(session.mirror)).toBe(mirrorState(fresh));
    expect(replayed).toBeLessThanOrEqual(CHECKPOINT_EVERY);
    expect(session.store.getState().cursor).toBe(n - 5);
  }, 30_000);

  it('handed back the script whose whole run it shows, it keeps that run; another script runs', async () => {
    const client = new InProcessSimClient();
    const runs: string[] = [];
    const send = client.send.bind(client);
    client.send = (type, payload) => {
      if (type === 'run') runs.push((payload as { script: string }).script);
      return send(type, payload);
    };
    const session = new Session(client, new MemoryStorage());
    void session.start(() => Promise.resolve(NX));
    await settle(session);
    const log = session.events.length;
    session.seek(30);
    await settle(session);
    session.setScript(NX, 12);
    await settle(session);
    expect(runs).toEqual([NX]);
    expect(session.events.length).toBe(log);
    expect(session.store.getState().cursor).toBe(12);
    // A different script runs.
    session.setScript(NX + '\n');
    await settle(session);
    expect(runs).toEqual([NX, NX + '\n']);
  });

  it('keeps the script and the cursor across a reload (storage)', async () => {
    const first = started();
    await settle(first.session);
    first.session.seek(40);
    await settle(first.session);
    await new Promise((r) => setTimeout(r, 250));
    const again = started('', first.storage);
    await settle(again.session);
    expect(again.session.store.getState().script).toBe(NX);
    expect(again.session.store.getState().cursor).toBe(40);
  });

  it('repairs a fractional saved cursor, and says so', async () => {
    const storage = new MemoryStorage();
    storage.setItem('tdpviz:v1', JSON.stringify({ script: NX, cursor: 40.5, theme: 'dark' }));
    const { session } = started('', storage);
    await settle(session);
    const st = session.store.getState();
    expect(st.script).toBe(NX);
    expect(st.cursor).toBe(40);
    expect(st.theme).toBe('dark');
    expect(st.notice).toBe(
      'The saved cursor (40.5) was not a whole event number; the timeline starts at event 40.',
    );
  });

  it('does not save a trace too large for storage: a reload brings back the script before it, saying so', async () => {
    const first = started();
    await settle(first.session);
    first.session.seek(40);
    await settle(first.session);
    const trace =
      'CPU 0/KVM-9 [000] 1.000001: kvm_tdp_mmu_spte_changed: as id 0 gfn 100000 level 4 old_spte 0 new_spte 10001907\n' +
      '# padding\n'.repeat(MAX_SAVED_CHARS / 8);
    first.session.setScript(trace, 0);
    await settle(first.session);
    expect(first.session.store.getState().eventCount).toBeGreaterThan(0);
    first.session.persistNow();
    const saved = JSON.parse(first.storage.getItem('tdpviz:v1') ?? '{}') as Record<string, unknown>;
    expect(saved).toMatchObject({ script: NX, cursor: 40, dropped: trace.length });
    const again = started('', first.storage);
    await settle(again.session);
    const st = again.session.store.getState();
    expect(st.script).toBe(NX);
    expect(st.cursor).toBe(40);
    expect(st.notice).toBe(
      `The trace that was open (${(trace.length / 2 ** 20).toFixed(1)} MiB) is too large to keep in this browser, so the script you had before it is back. Import the trace again to see it.`,
    );
  });

  it('a big trace opened first is not saved either: the default loads, saying why', async () => {
    const storage = new MemoryStorage();
    storage.setItem('tdpviz:v1', JSON.stringify({ dropped: 3 * 2 ** 20, theme: 'dark' }));
    const { session } = started(NX, storage);
    await settle(session);
    expect(session.store.getState().script).toBe(NX);
    expect(session.store.getState().notice).toContain('so the default scenario was loaded');
    expect(storage.getItem(UNREADABLE_KEY)).toBeNull();
  });

  it('keeps an unreadable saved session aside, loads the default and says where it is', async () => {
    const storage = new MemoryStorage();
    storage.setItem('tdpviz:v1', '{"script": "vm levels=4\\n", "cursor": 3');
    const { session } = started(NX, storage);
    await settle(session);
    expect(session.store.getState().script).toBe(NX);
    expect(session.store.getState().notice).toContain('could not be read');
    expect(storage.getItem(UNREADABLE_KEY)).toBe('{"script": "vm levels=4\\n", "cursor": 3');
  });

  it('does not run a script with parse errors, and keeps the errors for the editor', async () => {
    const { session } = started();
    await settle(session);
    session.setScript(`${NX}acess gpa=0x1000\n`);
    expect(session.store.getState().parseErrors).toMatchObject([{ line: 7, col: 1 }]);
    expect(session.store.getState().eventCount).toBeGreaterThan(0);
  });

  it('after a worker restart it replays the run and returns to the cursor, with a notice', async () => {
    const client = new InProcessSimClient();
    const session = new Session(client, null);
    void session.start(() => Promise.resolve(NX));
    await settle(session);
    session.seek(30);
    await settle(session);
    client.send('crash', {});
    await settle(session);
    const s = session.store.getState();
    expect(s.notice).toMatch(/restarted/);
    expect(s.cursor).toBe(30);
  });

  it('appending a statement at the end of the run plays the new operation', async () => {
    const { session } = started();
    await settle(session);
    session.toEnd();
    await settle(session);
    const end = session.store.getState().cursor;
    // Fast, so the played operation ends well inside the test's time.
    session.setSpeed(8);
    session.appendStatement('access gpa=0x100400000 type=exec');
    await settle(session);
    const s = session.store.getState();
    expect(s.script.endsWith('access gpa=0x100400000 type=exec\n')).toBe(true);
    expect(s.eventCount).toBeGreaterThan(end);
    expect(s.cursor).toBe(s.eventCount);
    expect(s.playing).toBe(false);
  });

  it('appending a statement in the middle of the run keeps the cursor where it was', async () => {
    const { session } = started();
    await settle(session);
    session.seek(10);
    await settle(session);
    session.appendStatement('invalidate_roots');
    await settle(session);
    expect(session.store.getState().cursor).toBe(10);
  });

  it('a refusal or failed expect leaves with an edit of its line, not with other edits', async () => {
    const { session } = started(
      'memslot gpa=0x100000000 size=4M backing=2M\nexpect pages_2m=1\nzap_sp gpa=0x100000000 level=1\n',
    );
    await settle(session);
    let s = session.store.getState();
    expect(s.refused).toMatchObject({ line: 3 });
    expect(s.failures).toMatchObject([{ line: 2 }]);
    // Editing line 1 leaves both marks where they belong.
    session.editScript(s.script.replace('size=4M', 'size=4M '));
    s = session.store.getState();
    expect(s.refused).toMatchObject({ line: 3 });
    expect(s.failures).toHaveLength(1);
    // Editing the refused line drops its mark at once, before the next run.
    session.editScript(
      s.script.replace('zap_sp gpa=0x100000000 level=1', 'access gpa=0x100000000'),
    );
    s = session.store.getState();
    expect(s.refused).toBeNull();
    expect(s.failures).toHaveLength(1);
  });
});
