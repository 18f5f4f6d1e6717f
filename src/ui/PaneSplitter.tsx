// The handle between the script pane and the picture: drag it, or use ← → on it, so the preset
// comments can be read in full. The width is remembered.
import { useEffect, useState, type KeyboardEvent, type PointerEvent } from 'react';

const KEY = 'tdpviz:left-width';
const MIN = 220;
const STEP = 24;

export function usePaneWidth(): [number | null, (w: number | null) => void] {
  const [width, setWidth] = useState<number | null>(() => {
    const v = Number(localStorage.getItem(KEY));
    return Number.isFinite(v) && v >= MIN ? v : null;
  });
  useEffect(() => {
    try {
      if (width === null) localStorage.removeItem(KEY);
      else localStorage.setItem(KEY, String(Math.round(width)));
    } catch {
      // Without storage the width lasts until the reload.
    }
  }, [width]);
  return [width, setWidth];
}

export function PaneSplitter({
  width,
  onWidth,
}: {
  width: number | null;
  onWidth: (w: number | null) => void;
}) {
  const clampW = (w: number) => Math.max(MIN, Math.min(window.innerWidth * 0.6, w));
  const current = (el: HTMLElement) => el.parentElement?.getBoundingClientRect().width ?? MIN;
  const onPointerDown = (e: PointerEvent<HTMLDivElement>) => {
    const el = e.currentTarget;
    el.setPointerCapture(e.pointerId);
    const left = el.parentElement?.getBoundingClientRect().left ?? 0;
    const move = (ev: globalThis.PointerEvent) => onWidth(clampW(ev.clientX - left));
    const up = () => {
      el.removeEventListener('pointermove', move);
      el.removeEventListener('pointerup', up);
    };
    el.addEventListener('pointermove', move);
    el.addEventListener('pointerup', up);
  };
  const onKeyDown = (e: KeyboardEvent<HTMLDivElement>) => {
    const dir = e.key === 'ArrowRight' ? 1 : e.key === 'ArrowLeft' ? -1 : 0;
    if (e.key === 'Home') onWidth(null);
    else if (dir !== 0) onWidth(clampW(current(e.currentTarget) + dir * STEP));
    else return;
    e.preventDefault();
    e.stopPropagation();
  };
  return (
    <div
      className="pane-splitter"
      role="separator"
      aria-label="Width of the script pane"
      aria-orientation="vertical"
      aria-valuenow={width === null ? undefined : Math.round(width)}
      tabIndex={0}
      title="Drag to widen the script pane (← → on it; Home resets; double-click resets)"
      onPointerDown={onPointerDown}
      onKeyDown={onKeyDown}
      onDoubleClick={() => onWidth(null)}
    />
  );
}
