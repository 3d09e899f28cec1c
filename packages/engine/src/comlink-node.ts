// comlink-node: comlink's endpoint over a Node worker_threads Worker or MessagePort (comlink ships one without
// type declarations under NodeNext; this is the same ten lines, typed).
import type { Endpoint } from 'comlink';
import type { MessagePort, Worker } from 'node:worker_threads';

type Listener = Parameters<Endpoint['addEventListener']>[1];

export function nodeEndpoint(port: Worker | MessagePort): Endpoint {
  const listeners = new WeakMap<object, (data: unknown) => void>();
  return {
    postMessage: (message: unknown, transfer?: unknown[]) => port.postMessage(message, transfer as never),
    addEventListener: (_type: string, handler: Listener) => {
      const l = (data: unknown) => {
        if (typeof handler === 'function') handler({ data } as MessageEvent);
        else handler.handleEvent({ data } as MessageEvent);
      };
      port.on('message', l);
      listeners.set(handler as object, l);
    },
    removeEventListener: (_type: string, handler: Listener) => {
      const l = listeners.get(handler as object);
      if (!l) return;
      port.off('message', l);
      listeners.delete(handler as object);
    },
    start: () => (port as MessagePort).start?.(),
  };
}
