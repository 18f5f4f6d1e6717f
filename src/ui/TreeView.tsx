import { useCallback, useEffect, useRef, useSyncExternalStore } from 'react';
import {
  selectMotion,
  selectPicture,
  selectSelection,
  selectTheme,
  selectVersion,
} from '../store/selectors.ts';
import { AddressRenderer } from '../viz/AddressRenderer.ts';
import type { FrameLoop } from '../viz/FrameLoop.ts';
import type { PictureRenderer } from '../viz/picture.ts';
import { TreeRenderer } from '../viz/TreeRenderer.ts';
import { useApp, useSession } from './session-context.ts';
import { TablesSummary } from './TablesSummary.tsx';
import './TreeView.css';

/**
 * Mounts the picture (the tree, or the address-space view) and keeps its selection, theme and
 * motion in step with the store; switching views keeps the selection.
 */
export function TreeView({ loop, prompt = false }: { loop: FrameLoop; prompt?: boolean }) {
  const session = useSession();
  const host = useRef<HTMLDivElement>(null);
  const renderer = useRef<PictureRenderer | null>(null);
  const selection = useApp(selectSelection);
  const theme = useApp(selectTheme);
  const motion = useApp(selectMotion);
  const picture = useApp(selectPicture);
  useApp(selectVersion);
  // The opening screen: a run is ready and nothing has happened yet.
  const start =
    useApp(
      (s) =>
        s.cursor === 0 &&
        s.target === 0 &&
        s.eventCount > 0 &&
        !s.playing &&
        s.runStatus === 'done',
    ) && prompt;
  const following = useSyncExternalStore(
    useCallback((cb: () => void) => loop.onFollowChange(cb), [loop]),
    () => loop.isFollowing(),
  );

  useEffect(() => {
    const el = host.current;
    if (!el) return;
    const opts = {
      onSelect: (sel: Parameters<typeof session.select>[0]) => session.select(sel),
      requestFrame: () => loop.request(),
      onUserCamera: () => loop.setFollowing(false),
    };
    const r = picture === 'address' ? new AddressRenderer(el, opts) : new TreeRenderer(el, opts);
    const st = session.store.getState();
    r.setSelection(st.selection);
    r.setMotion(st.motion);
    renderer.current = r;
    loop.attach(session, r);
    return () => {
      loop.attach(session, null);
      r.destroy();
      renderer.current = null;
    };
  }, [loop, session, picture]);

  useEffect(() => {
    renderer.current?.setSelection(selection);
    loop.request();
  }, [selection, loop, picture]);

  useEffect(() => {
    renderer.current?.setTheme();
    loop.request();
  }, [theme, loop, picture]);

  useEffect(() => {
    renderer.current?.setMotion(motion);
  }, [motion, picture]);

  // Read each render (the version above re-renders on every move of the cursor).
  const lock = session.mirror.lock;

  return (
    <section className="tree-view" aria-label="Paging structure" data-picture={picture}>
      <div className="tree-canvas" ref={host} data-testid="tree-canvas" key={picture} />
      {lock !== 'none' && (
        <div
          className="tree-lock"
          data-testid="mmu-lock"
          data-mode={lock}
          title={
            lock === 'read'
              ? 'mmu_lock held for read: vCPU faults may run alongside'
              : 'mmu_lock held for write: nobody else runs'
          }
        >
          mmu_lock: <strong>{lock}</strong>
          <span className="tree-lock__note">{lock === 'read' ? ' (shared)' : ' (exclusive)'}</span>
        </div>
      )}
      <div className="tree-zoom" role="toolbar" aria-label="Zoom">
        <div className="tree-picture" role="radiogroup" aria-label="Picture (key v)">
          {(['tree', 'address'] as const).map((p) => (
            <button
              key={p}
              type="button"
              role="radio"
              aria-checked={picture === p}
              onClick={() => session.setPicture(p)}
              title={
                p === 'tree'
                  ? 'The tables as a tree, each under the entry that points to it (key v)'
                  : 'The guest address space: one row per level, GFNs left to right (key v)'
              }
            >
              {p === 'tree' ? 'Tree' : 'Address space'}
            </button>
          ))}
        </div>
        <button
          type="button"
          aria-pressed={following}
          onClick={() => loop.setFollowing(!following)}
          title="Follow the action: re-fit as the picture grows, pan to each change (key f)"
        >
          Follow
        </button>
        <button type="button" onClick={() => renderer.current?.fit()} title="Fit the whole picture">
          Fit
        </button>
        <button type="button" onClick={() => renderer.current?.zoomBy(1.4)} aria-label="Zoom in">
          +
        </button>
        <button
          type="button"
          onClick={() => renderer.current?.zoomBy(1 / 1.4)}
          aria-label="Zoom out"
        >
          −
        </button>
      </div>
      {start && (
        <div className="tree-start" data-testid="start-prompt">
          <p>The scenario has run; the picture starts before its first event.</p>
          <div className="tree-start__actions">
            <button type="button" className="tree-start__play" onClick={() => session.togglePlay()}>
              ▶ Play it (Space)
            </button>
            <button type="button" onClick={() => session.stepOperation(1)}>
              One operation (Shift+→)
            </button>
          </div>
          <p className="tree-start__tour">…or take a guided tour from the Tour menu.</p>
        </div>
      )}
      <TablesSummary mirror={session.mirror} />
    </section>
  );
}
