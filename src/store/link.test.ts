import { describe, expect, it } from 'vitest';
import {
  decodeLink,
  encodeLink,
  LINK_PREFIX,
  MAX_LINK_BYTES,
  MAX_LINK_CHARS,
  type LinkState,
} from './link.ts';

const state: LinkState = {
  v: 1,
  mode: 'compare',
  script:
    'memslot gpa=0x100000000 size=6M backing=2M\naccess gpa=0x100000000 type=exec\nrecover_nx strategy=walk\n',
  cursor: 37,
  scriptB: 'recover_nx strategy=direct\n',
  cursorB: 12,
  tour: { id: 'nx', step: 3 },
  theme: 'dark',
  selection: { sp: 3, index: 0 },
  view: { x: 120.5, y: -40, k: 1.75 },
};

describe('links', () => {
  it('round-trips the whole state through a compact fragment', async () => {
    const hash = await encodeLink(state);
    expect(hash.startsWith(LINK_PREFIX)).toBe(true);
    // The kernel is readable in the link itself.
    expect(hash).toMatch(/^#s=[A-Za-z0-9_-]+&kernel=5\.18$/);
    expect(await decodeLink(hash)).toEqual(state);
  });

  it('refuses a link too long to read, and one whose data inflates past its limit', async () => {
    const long = `${LINK_PREFIX}${'A'.repeat(MAX_LINK_CHARS)}`;
    await expect(decodeLink(long)).rejects.toThrow(
      `it is ${long.length.toLocaleString('en-US')} characters long; a link may be at most 2,097,152`,
    );
    // A 9 MiB script of one repeated line deflates to a short link; reading it stops at 8 MiB.
    const bomb = await encodeLink({ ...state, script: 'invalidate_roots\n'.repeat(9 * 2 ** 16) });
    expect(bomb.length).toBeLessThan(MAX_LINK_CHARS);
    await expect(decodeLink(bomb)).rejects.toThrow(
      'its data inflates to more than 8 MiB, the most a link may carry',
    );
    expect(MAX_LINK_BYTES).toBe(8 * 2 ** 20);
  });

  it('names what is wrong with a damaged link', async () => {
    const hash = await encodeLink(state);
    await expect(decodeLink(hash.replace('kernel=5.18', 'kernel=6.18'))).rejects.toThrow(
      /says kernel=6.18 but its script runs kernel 5.18/,
    );
    await expect(decodeLink('#x=abc')).rejects.toThrow(/does not start with #s=/);
    await expect(decodeLink('#s=ab$c')).rejects.toThrow(/not base64url/);
    await expect(decodeLink(hash.slice(0, hash.indexOf('&') - 12))).rejects.toThrow(
      /truncated or corrupt/,
    );
    const json = async (o: unknown) => {
      const bytes = new TextEncoder().encode(JSON.stringify(o));
      const s = new Blob([bytes]).stream().pipeThrough(new CompressionStream('deflate-raw'));
      const out = new Uint8Array(await new Response(s).arrayBuffer());
      let bin = '';
      for (const b of out) bin += String.fromCharCode(b);
      return '#s=' + btoa(bin).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
    };
    await expect(decodeLink(await json({ ...state, v: 2 }))).rejects.toThrow(/version 2/);
    await expect(decodeLink(await json({ ...state, mode: 'x' }))).rejects.toThrow(/mode "x"/);
    await expect(decodeLink(await json({ ...state, cursor: -1 }))).rejects.toThrow(/cursor/);
    await expect(decodeLink(await json({ ...state, script: 5 }))).rejects.toThrow(/script/);
    await expect(decodeLink(await json([1]))).rejects.toThrow(/version/);
    await expect(decodeLink(await json({ ...state, view: { x: 0, y: 0, k: 0 } }))).rejects.toThrow(
      /view must be/,
    );
  });
});

describe('a link to an imported trace', () => {
  it('carries the trace when it fits, and says clearly when it does not', async () => {
    const small = 'kvm_tdp_mmu_spte_changed: as id 0 gfn 0 level 4 old_spte 0 new_spte 10001907\n';
    const hash = await encodeLink({ v: 1, mode: 'explore', script: small, cursor: 3 });
    expect((await decodeLink(hash)).script).toBe(small);
    // Random SPTEs do not compress: ~150k lines are well past what a link may carry.
    let seed = 7;
    const rnd = () =>
      ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32).toString(16).slice(2, 14);
    const lines: string[] = [];
    for (let i = 0; i < 150_000; i++)
      lines.push(
        `kvm_tdp_mmu_spte_changed: as id 0 gfn ${rnd()} level 1 old_spte ${rnd()} new_spte ${rnd()}`,
      );
    await expect(
      encodeLink({ v: 1, mode: 'explore', script: lines.join('\n'), cursor: 0 }),
    ).rejects.toThrow(
      /^this trace is too large for a link: it would be [\d,]+ characters, and a link may be at most 2,097,152; share the file instead \(File → Export\)$/,
    );
  });
});
