// Yields to the event loop between training steps, so a 'stop' message can be handled, without the
// clamp of setTimeout(0): browsers hold nested timeouts to at least 4 ms, which was 5–8 ms between
// steps in chromium against ~2 ms in Node (~10% of a 2-thread step). In a browser a message to a port
// of our own is a task with no clamp, queued behind the messages already posted to the worker. Node
// gets setImmediate: it drains a port's messages in one go (up to 1000), which would starve the
// worker's own port, while setImmediate runs after each turn's I/O.

interface Port {
  onmessage: ((e: unknown) => void) | null;
  postMessage(m: unknown): void;
}

let channel: { port1: Port; port2: Port } | null = null;
const waiting: (() => void)[] = [];

/** Resolves on a fresh task, after the messages already queued. */
export function yieldTask(): Promise<void> {
  if (typeof setImmediate === 'function') return new Promise((r) => setImmediate(r));
  if (typeof MessageChannel === 'undefined') return new Promise((r) => setTimeout(r, 0));
  if (!channel) {
    const c = new MessageChannel() as unknown as { port1: Port; port2: Port };
    c.port1.onmessage = () => waiting.shift()?.();
    channel = c;
  }
  const ch = channel;
  return new Promise<void>((r) => {
    waiting.push(r);
    ch.port2.postMessage(null);
  });
}
