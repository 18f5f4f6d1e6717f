import { useCallback, useRef, useState } from 'react';
import { encodeLink, LinkError } from '../store/link.ts';
import { useDismiss } from './use-dismiss.ts';
import { useWorkspace } from './workspace-context.ts';
import './ShareLink.css';

/** "Copy link": the whole state in the URL; the link is also shown, in case the clipboard is closed. */
export function ShareLink() {
  const workspace = useWorkspace();
  const [link, setLink] = useState<string | null>(null);
  const [copied, setCopied] = useState(false);
  const [problem, setProblem] = useState<string | null>(null);
  const box = useRef<HTMLDivElement>(null);
  useDismiss(
    box,
    link !== null,
    useCallback(() => setLink(null), []),
  );

  const make = async () => {
    let hash: string;
    try {
      hash = await encodeLink(workspace.linkState());
    } catch (e) {
      if (!(e instanceof LinkError)) throw e;
      setProblem(e.message);
      setLink('');
      return;
    }
    setProblem(null);
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
      {link !== null && (
        <div className="share-pop" role="dialog" aria-label="Link to this state">
          {problem !== null ? (
            <span className="share-status" role="alert" data-testid="share-problem">
              No link: {problem}
            </span>
          ) : (
            <>
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
            </>
          )}
          <button type="button" onClick={() => setLink(null)} aria-label="Close">
            ×
          </button>
        </div>
      )}
    </div>
  );
}
