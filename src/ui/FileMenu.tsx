import { useCallback, useRef, useState } from 'react';
import {
  download,
  ImportError,
  checkImportSize,
  readFileText,
  scriptFromFile,
  scenarioFile,
  traceJson,
  tracepointText,
} from '../store/files.ts';
import { PasteDialog } from './PasteDialog.tsx';
import { useDismiss } from './use-dismiss.ts';
import { useWorkspace } from './workspace-context.ts';
import './FileMenu.css';

/** Export the scenario or its trace; import a scenario or a JSON trace (checked before it loads). */
export function FileMenu() {
  const workspace = useWorkspace();
  const session = workspace.main;
  const input = useRef<HTMLInputElement>(null);
  const [open, setOpen] = useState(false);
  const [pasting, setPasting] = useState(false);
  const box = useRef<HTMLDivElement>(null);
  useDismiss(
    box,
    open,
    useCallback(() => setOpen(false), []),
  );

  const act = (fn: () => void) => {
    setOpen(false);
    try {
      fn();
    } catch (e) {
      session.store.setState({ notice: `Export failed: ${(e as Error).message}` });
    }
  };

  const onFile = async (file: File) => {
    try {
      checkImportSize(file.name, file.size);
      const { text, pieces } = await readFileText(file);
      const { script } = scriptFromFile(file.name, text, pieces);
      // A file whose text is the script: the worker reads the file rather than a copy of the text.
      await workspace.replaceScript(
        `the file ${file.name}`,
        script,
        0,
        script === text ? { file, pieces } : undefined,
      );
    } catch (e) {
      const why = e instanceof ImportError ? e.message : `${file.name}: ${(e as Error).message}`;
      session.store.setState({ notice: `Nothing was imported: ${why}` });
    }
  };

  return (
    <div className="file-menu" ref={box}>
      <button
        type="button"
        aria-expanded={open}
        aria-haspopup="menu"
        onClick={() => setOpen(!open)}
      >
        File
      </button>
      {open && (
        <div className="file-menu-list" role="menu">
          <button
            type="button"
            role="menuitem"
            onClick={() => act(() => download('scenario.tdp', scenarioFile(session), 'text/plain'))}
          >
            Export scenario (.tdp)
          </button>
          <button
            type="button"
            role="menuitem"
            onClick={() =>
              act(() => download('trace.json', traceJson(session), 'application/json'))
            }
          >
            Export trace (JSON)
          </button>
          <button
            type="button"
            role="menuitem"
            onClick={() => act(() => download('trace.txt', tracepointText(session), 'text/plain'))}
          >
            Export trace (tracepoint text)
          </button>
          <button
            type="button"
            role="menuitem"
            onClick={() => {
              setOpen(false);
              input.current?.click();
            }}
          >
            Import scenario or trace…
          </button>
          <button
            type="button"
            role="menuitem"
            onClick={() => {
              setOpen(false);
              setPasting(true);
            }}
          >
            Paste a trace…
          </button>
        </div>
      )}
      <PasteDialog
        open={pasting}
        onClose={() => setPasting(false)}
        onOpen={(text) => {
          try {
            const { script } = scriptFromFile('the pasted text', text);
            void workspace.replaceScript('the pasted text', script);
          } catch (e) {
            session.store.setState({ notice: `Nothing was opened: ${(e as Error).message}` });
          }
        }}
      />
      <input
        ref={input}
        type="file"
        accept=".tdp,.txt,.json,text/plain,application/json"
        className="sr-only"
        aria-label="Import a scenario or a JSON trace"
        data-testid="import-file"
        onChange={(e) => {
          const f = e.currentTarget.files?.[0];
          e.currentTarget.value = '';
          if (f) void onFile(f);
        }}
      />
    </div>
  );
}
