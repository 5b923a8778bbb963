/**
 * Loopback helpers of the adversarial admission tests: a streaming uploader that counts what the server let it
 * send (so "refused unread" is observable), and a /health poller that records each answer's latency.
 */
import { request } from 'node:http';

/** What one upload achieved: the answer (if any) and how many body bytes the socket accepted. */
export interface UploadOutcome {
  readonly status: number | null;
  readonly json: unknown;
  readonly sent: number;
  readonly error: string | null;
}

/**
 * POSTs `total` bytes to `url` (with `Content-Length: total`) in 64 KiB chunks, respecting backpressure, and stops
 * writing as soon as the response starts. `fill` produces the bytes at an offset (default spaces).
 */
export function upload(url: string, headers: Record<string, string>, total: number, fill?: (offset: number, n: number) => Uint8Array): Promise<UploadOutcome> {
  return new Promise((resolve) => {
    let sent = 0;
    let answered = false;
    const chunk = new Uint8Array(64 * 1024).fill(0x20);
    const req = request(url, { method: 'POST', headers: { ...headers, 'content-length': String(total) } }, (res) => {
      answered = true;
      const parts: Buffer[] = [];
      res.on('data', (d: Buffer) => parts.push(d));
      res.on('end', () => {
        let json: unknown = null;
        try {
          json = JSON.parse(Buffer.concat(parts).toString('utf8'));
        } catch {
          json = null;
        }
        resolve({ status: res.statusCode ?? null, json, sent, error: null });
        req.destroy();
      });
    });
    req.on('error', (e) => {
      if (!answered) resolve({ status: null, json: null, sent, error: e.message });
    });
    // One chunk per macrotask: the client shares the server's thread, so it must not monopolise it.
    const pump = (): void => {
      if (answered) return;
      if (sent >= total) return void req.end();
      const n = Math.min(chunk.length, total - sent);
      const part = fill ? fill(sent, n) : chunk.subarray(0, n);
      sent += n;
      if (req.write(part)) setImmediate(pump);
      else req.once('drain', pump);
    };
    pump();
  });
}

/** Polls `GET url/health` back to back until `stop()` resolves; returns every latency in ms and the statuses. */
export async function pollHealth(url: string, until: Promise<unknown>): Promise<{ latencies: number[]; statuses: number[] }> {
  let done = false;
  void until.finally(() => (done = true));
  const latencies: number[] = [];
  const statuses: number[] = [];
  while (!done) {
    const t = performance.now();
    const res = await fetch(`${url}/health`);
    await res.json();
    latencies.push(performance.now() - t);
    statuses.push(res.status);
    await new Promise((r) => setTimeout(r, 10));
  }
  return { latencies, statuses };
}
