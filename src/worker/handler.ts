// Commands in, batches out: runs a script on a fresh Simulator and streams its event log as it grows.
import {
  PROTOCOL_VERSION,
  type Command,
  type StatementSpan,
  type WorkerMessage,
} from '../protocol/messages.ts';
import type { ExpectFailure, ParseError } from '../sim/scenario/ast.ts';
import { parseScenario } from '../sim/scenario/parse.ts';
import { runStatement } from '../sim/scenario/run.ts';
import { SimError, Simulator } from '../sim/simulator.ts';

export type Post = (msg: WorkerMessage, transfer?: ArrayBuffer[]) => void;

/** Events per batch: 1 MiB of words, so a long run streams while it is still running. */
export const BATCH_EVENTS = 1 << 15;

export function readyMessage(): WorkerMessage {
  return { type: 'ready', version: PROTOCOL_VERSION };
}

export function createHandler(post: Post): (cmd: Command) => void {
  return (cmd) => {
    switch (cmd.type) {
      case 'run':
        run(cmd.id, cmd.script, post);
        return;
      case 'crash':
        throw new Error('the worker was asked to crash');
      default: {
        const unknown: never = cmd;
        throw new Error(`unknown command ${JSON.stringify(unknown)}`);
      }
    }
  };
}

function run(cmdId: number, script: string, post: Post): void {
  const t0 = performance.now();
  const parsed = parseScenario(script);
  const statements: StatementSpan[] = [];
  const failures: ExpectFailure[] = [];
  let refused: ParseError | null = null;
  const sim = new Simulator();
  const log = sim.kvm.log;
  let sent = 0;
  let seq = 0;
  const ship = (all: boolean) => {
    while (log.length - sent >= BATCH_EVENTS || (all && log.length > sent)) {
      const to = Math.min(log.length, sent + BATCH_EVENTS);
      const words = log.slice(sent, to);
      post({ type: 'batch', cmdId, seq: seq++, first: sent, words }, [words.buffer as ArrayBuffer]);
      sent = to;
    }
  };

  if (parsed.errors.length > 0) {
    post({ type: 'parseErrors', cmdId, errors: parsed.errors });
  } else {
    for (const st of parsed.statements) {
      const firstEvent = log.length;
      try {
        runStatement(sim, st, failures);
      } catch (e) {
        if (!(e instanceof SimError)) throw e;
        refused = { line: st.line, col: st.col, message: e.message };
        break;
      }
      statements.push({ line: st.line, kind: st.kind, firstEvent, endEvent: log.length });
      ship(false);
    }
    ship(true);
  }
  post({
    type: 'finished',
    cmdId,
    eventCount: log.length,
    statements,
    failures,
    refused,
    ms: performance.now() - t0,
  });
}
