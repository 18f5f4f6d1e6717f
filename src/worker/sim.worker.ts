import type { Command } from '../protocol/messages.ts';
import { createHandler, readyMessage } from './handler.ts';

const handle = createHandler((msg, transfer) =>
  self.postMessage(msg, { transfer: transfer ?? [] }),
);
self.onmessage = (e: MessageEvent<Command>) => handle(e.data);
self.postMessage(readyMessage());
