import { useCallback, useRef, useState } from 'react';
import { encodeLink } from '../store/link.ts';
import { useDismiss } from './use-dismiss.ts';
import { useWorkspace } from './workspace-context.ts';
import './ShareLink.css';

/** "Copy link": the whole state in the URL; the link is also shown, in case the clipboard is closed. */
export function ShareLink() {
  const workspace = useWorkspace();
  const [link, setLink] = useState<string | null>(null);
  const [copied, setCopied] = useState(false);
  const box = useRef<HTMLDivElement>(null);
  useDismiss(
    box,
    link !== null,
    useCallback(() => setLink(null), []),
  );

  const make = async () => {
    const hash = await encodeLink(workspace.linkState());
    const url = `${location.origin}${location.pathname}${location.search}${hash}`;
    setLink(url);
    try {
      await navigator.clipboard.writeText(url);
      setCopied(true);
    } catch {
      setCopied(false);
    }
  };

  return (
    <div className="share" ref={box}>
      <button type="button" onClick={() => void make()}>
        Copy link
      </button>
      {link && (
        <div className="share-pop" role="dialog" aria-label="Link to this state">
          <span className="share-status">
            {copied ? 'Copied to the clipboard' : 'Copy this link'}
          </span>
          <input
            readOnly
            value={link}
            aria-label="Link to this state"
            data-testid="share-link"
            onFocus={(e) => e.currentTarget.select()}
          />
          <button type="button" onClick={() => setLink(null)} aria-label="Close">
            ×
          </button>
        </div>
      )}
    </div>
  );
}
