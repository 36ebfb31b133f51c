import { session } from './session';

export interface LiveEvent {
  type: string;
  deviceId?: string;
  [key: string]: unknown;
}

/**
 * The hub's Server-Sent Events stream, read with fetch (EventSource cannot send the bearer token).
 * Reconnects with backoff (×1.5 up to 30 s) and refreshes the token when the stream is refused or ends
 * at the token's expiry. `onReady` fires on each (re)connection so the caller re-reads state it may have
 * missed.
 */
export function subscribeLive(onEvent: (e: LiveEvent) => void, onReady: () => void): () => void {
  let stopped = false;
  let controller: AbortController | null = null;
  let delay = 1000;

  const run = async () => {
    while (!stopped) {
      controller = new AbortController();
      try {
        const res = await fetch('/api/v1/events', {
          headers: { authorization: `Bearer ${session.token}`, accept: 'text/event-stream' },
          signal: controller.signal,
        });
        if (res.status === 401) {
          if (!(await session.refresh())) return;
          continue;
        }
        if (!res.ok || !res.body) throw new Error(String(res.status));
        delay = 1000;
        await readStream(res.body, (event, data) => {
          if (event === 'ready') onReady();
          else if (data) onEvent(JSON.parse(data) as LiveEvent);
        });
      } catch {
        if (stopped) return;
      }
      if (stopped) return;
      await new Promise((r) => setTimeout(r, delay));
      delay = Math.min(delay * 1.5, 30_000);
      // The stream closes at the token's expiry: take a fresh one before reconnecting.
      await session.refresh();
    }
  };
  void run();
  return () => {
    stopped = true;
    controller?.abort();
  };
}

async function readStream(body: ReadableStream<Uint8Array>, emit: (event: string, data: string) => void) {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buffer += decoder.decode(value, { stream: true });
    let end = buffer.indexOf('\n\n');
    while (end !== -1) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      let event = 'message';
      const data: string[] = [];
      for (const line of block.split('\n')) {
        if (line.startsWith('event:')) event = line.slice(6).trim();
        else if (line.startsWith('data:')) data.push(line.slice(5).trimStart());
      }
      if (!block.startsWith(':')) emit(event, data.join('\n'));
      end = buffer.indexOf('\n\n');
    }
  }
}
