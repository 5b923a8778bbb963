/**
 * Test helpers for store-s3: a real S3-compatible server (`s3rver`, on 127.0.0.1, files in a temp dir) and a
 * fault-injecting HTTP proxy in front of it that can fail the next N requests (503 or a reset connection), call a
 * hook on each request (to abort a publish at a chosen point), and die (every connection cut, every new one
 * refused) — the failures a validator's uploads meet in production.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, request, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** s3rver's static credentials. */
export const S3RVER_CREDENTIALS = Object.freeze({ accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' });

interface S3rverInstance {
  run(): Promise<AddressInfo>;
  close(): Promise<void>;
  httpServer?: Server;
}
type S3rverCtor = new (options: object) => S3rverInstance;

/** A running s3rver with `buckets` created; `endpoint` is its URL. */
export interface LocalS3 {
  readonly endpoint: string;
  close(): Promise<void>;
}

export async function startS3rver(buckets: readonly string[]): Promise<LocalS3> {
  const S3rver = createRequire(import.meta.url)('s3rver') as S3rverCtor;
  const directory = mkdtempSync(join(tmpdir(), 's3rver-'));
  const server = new S3rver({ address: '127.0.0.1', port: 0, silent: true, directory, configureBuckets: buckets.map((name) => ({ name })) });
  const addr = await server.run();
  return {
    endpoint: `http://127.0.0.1:${addr.port}`,
    close: async () => {
      server.httpServer?.closeAllConnections(); // a request cut mid-body would otherwise hold the close open
      await server.close();
      rmSync(directory, { recursive: true, force: true });
    },
  };
}

/** What the proxy saw of one request. */
export interface SeenRequest {
  readonly method: string;
  readonly url: string;
}

export interface FaultProxy {
  readonly endpoint: string;
  /** Every request received, in order (failed ones included). */
  readonly seen: SeenRequest[];
  /** Fail the next `n` requests: `503` answers a SlowDown-like error, `reset` cuts the connection. */
  failNext(n: number, how: '503' | 'reset'): void;
  /** Called with each request before it is forwarded (or failed). */
  onRequest: ((req: SeenRequest) => void) | null;
  /** Cut every open connection and refuse (reset) every new request, until `revive()`. */
  kill(): void;
  revive(): void;
  close(): Promise<void>;
}

/** A proxy to `target` (an http://host:port URL). Headers pass unchanged, so SigV4 signatures stay valid. */
export async function startFaultProxy(target: string): Promise<FaultProxy> {
  const t = new URL(target);
  let failing = 0;
  let failHow: '503' | 'reset' = '503';
  let dead = false;
  const sockets = new Set<Socket>();
  const proxy: FaultProxy = {
    endpoint: '',
    seen: [],
    failNext(n, how) {
      failing = n;
      failHow = how;
    },
    onRequest: null,
    kill() {
      dead = true;
      for (const s of sockets) s.destroy();
    },
    revive() {
      dead = false;
    },
    close: () => new Promise<void>((resolve) => {
      for (const s of sockets) s.destroy();
      server.close(() => resolve());
    }),
  };
  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const seen = { method: req.method ?? 'GET', url: req.url ?? '/' };
    proxy.seen.push(seen);
    proxy.onRequest?.(seen);
    if (dead || (failing > 0 && failHow === 'reset')) {
      if (!dead) failing--;
      req.socket.destroy();
      return;
    }
    if (failing > 0) {
      failing--;
      req.resume();
      req.on('end', () => {
        res.writeHead(503, { 'content-type': 'application/xml' });
        res.end('<?xml version="1.0" encoding="UTF-8"?><Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message></Error>');
      });
      return;
    }
    const up = request({ host: t.hostname, port: t.port, method: req.method, path: req.url, headers: req.headers }, (upRes) => {
      res.writeHead(upRes.statusCode ?? 502, upRes.headers);
      upRes.pipe(res);
    });
    up.on('error', () => req.socket.destroy());
    res.on('close', () => up.destroy()); // the client went away (an abort): so does the upstream request
    req.pipe(up);
  });
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  (proxy as { endpoint: string }).endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return proxy;
}

/** A URL on 127.0.0.1 where nothing listens (a port just bound and released). */
export async function deadEndpoint(): Promise<string> {
  const s = createServer();
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  const port = (s.address() as AddressInfo).port;
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return `http://127.0.0.1:${port}`;
}
