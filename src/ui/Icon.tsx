// Small inline SVG icons: no icon font or emoji font is needed (headless and minimal systems lack them).
const PATHS = {
  start: 'M5 4h2v16H5zM20 4v16L9 12z',
  prevOp: 'M12 4v16L2 12zM22 4v16l-10-8z',
  prev: 'M17 4v16L6 12z',
  play: 'M7 4v16l13-8z',
  pause: 'M6 4h4v16H6zM14 4h4v16h-4z',
  next: 'M7 4v16l11-8z',
  nextOp: 'M2 4v16l10-8zM12 4v16l10-8z',
  end: 'M17 4h2v16h-2zM4 4v16l11-8z',
  sun: 'M12 7a5 5 0 1 1 0 10a5 5 0 0 1 0-10zM11 1h2v3h-2zM11 20h2v3h-2zM1 11h3v2H1zM20 11h3v2h-3z',
  moon: 'M14 2a10 10 0 1 0 8 15A8 8 0 0 1 14 2z',
} as const;

export type IconName = keyof typeof PATHS;

export function Icon({ name }: { name: IconName }) {
  return (
    <svg viewBox="0 0 24 24" width="14" height="14" aria-hidden="true" focusable="false">
      <path d={PATHS[name]} fill="currentColor" />
    </svg>
  );
}
