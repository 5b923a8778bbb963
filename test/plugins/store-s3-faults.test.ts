/**
 * store-s3 under faults, against s3rver behind a fault-injecting proxy: retries with growing backoff through a
 * server that fails the first N requests (503 and cut connections), giving up with a clear error after `attempts`;
 * clear, immediate errors for a missing bucket and refused credentials, and for a dead endpoint after its retries;
 * and `publishSet`: the manifest is written last, so an aborted publish or an endpoint that dies mid-publish
 * leaves no manifest. Sleeps are injected and recorded, so no test waits for real backoff.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MIN_PART_SIZE, publishSet, PublishAbortedError, S3StoreError, storeS3, type S3ObjectStore, type StoreS3Options } from '../../plugins/store-s3/index.ts';
import { deadEndpoint, S3RVER_CREDENTIALS, startFaultProxy, startS3rver, type FaultProxy, type LocalS3 } from './store-s3-server.ts';

const BUCKET = 'reliquary-faults';
let s3: LocalS3;
let proxy: FaultProxy;
const opened: S3ObjectStore[] = [];
let namespace = 0;

beforeAll(async () => {
  s3 = await startS3rver([BUCKET]);
  proxy = await startFaultProxy(s3.endpoint);
});
afterAll(async () => {
  for (const s of opened) s.close();
  await proxy?.close();
  await s3?.close();
});

/** A store through the proxy, recording its backoff waits instead of sleeping. */
function faultyStore(options: Partial<StoreS3Options> = {}): { store: S3ObjectStore; waits: number[] } {
  const waits: number[] = [];
  const store = storeS3({
    endpoint: proxy.endpoint, bucket: BUCKET, ...S3RVER_CREDENTIALS, keyPrefix: `f${++namespace}/`,
    sleep: async (ms) => void waits.push(ms), random: () => 0.5, ...options,
  });
  opened.push(store);
  return { store, waits };
}
/** The same namespace read straight from the server (no proxy). */
function direct(store: S3ObjectStore, keyPrefix: string): S3ObjectStore {
  const d = storeS3({ endpoint: s3.endpoint, bucket: store.bucket, ...S3RVER_CREDENTIALS, keyPrefix });
  opened.push(d);
  return d;
}
const bytes = (s: string): Uint8Array => new TextEncoder().encode(s);

describe('retries with backoff', () => {
  it.each(['503', 'reset'] as const)('a server that fails the first 3 requests (%s): the 4th attempt lands, waits double', async (how) => {
    const { store, waits } = faultyStore({ backoffMs: 100, maxBackoffMs: 10_000 });
    proxy.failNext(3, how);
    const before = proxy.seen.length;
    await store.put('k', bytes('value'));
    expect(proxy.seen.length - before).toBe(4);
    expect(waits).toEqual([75, 150, 300]); // 100·2^(n−1) × (0.5 + 0.5/2)
    proxy.failNext(2, how);
    expect(new TextDecoder().decode((await store.get('k'))!)).toBe('value');
    proxy.failNext(1, how);
    expect(await store.list('')).toEqual(['k']);
  });

  it('backoff is capped at maxBackoffMs', async () => {
    const { store, waits } = faultyStore({ attempts: 6, backoffMs: 100, maxBackoffMs: 250, random: () => 0.999 });
    proxy.failNext(5, '503');
    await store.put('k', bytes('v'));
    expect(waits.map(Math.round)).toEqual([100, 200, 250, 250, 250]);
  });

  it('gives up after `attempts` with reason unavailable, naming the key, bucket and endpoint', async () => {
    const { store, waits } = faultyStore({ attempts: 3 });
    proxy.failNext(3, '503');
    const err = await store.put('archives/w-1.json', bytes('x')).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(S3StoreError);
    expect(err).toMatchObject({ reason: 'unavailable', attempts: 3 });
    expect((err as Error).message).toContain(`store-s3 put archives/w-1.json (bucket "${BUCKET}" at ${proxy.endpoint}) failed after 3 attempts`);
    expect((err as Error).message).toMatch(/SlowDown/);
    expect(waits).toHaveLength(2);
    proxy.failNext(0, '503');
    expect(await direct(store, `f${namespace}/`).get('archives/w-1.json')).toBeNull();
  });

  it('a multipart upload retries a failed part on its own', async () => {
    const { store } = faultyStore({ partSize: MIN_PART_SIZE, partConcurrency: 1 });
    const big = Uint8Array.from({ length: MIN_PART_SIZE + 1000 }, (_, i) => i & 255);
    let failedPart = false;
    proxy.onRequest = (r) => {
      if (!failedPart && /partNumber=2/.test(r.url)) {
        failedPart = true;
        proxy.failNext(1, 'reset');
      }
    };
    try {
      await store.put('big', big);
    } finally {
      proxy.onRequest = null;
    }
    expect(failedPart).toBe(true);
    const back = await store.get('big');
    expect(Buffer.compare(Buffer.from(back!), Buffer.from(big))).toBe(0);
  });
});

describe('clear errors', () => {
  it('a missing bucket fails at once, on every operation', async () => {
    const store = storeS3({ endpoint: s3.endpoint, bucket: 'no-such-bucket', ...S3RVER_CREDENTIALS, sleep: async () => {} });
    opened.push(store);
    for (const op of [() => store.put('k', bytes('x')), () => store.get('k'), () => store.list(''), () => store.delete('k')]) {
      const err = await op().catch((e: unknown) => e);
      expect(err).toMatchObject({ name: 'S3StoreError', reason: 'no_bucket', attempts: 1 });
      expect((err as Error).message).toMatch(/bucket "no-such-bucket" at http:\/\/127\.0\.0\.1:\d+\) failed: the bucket does not exist at this endpoint: create it/);
    }
  });

  it('unknown credentials are refused at once (s3rver checks the key id; it does not verify SigV4 signatures)', async () => {
    const store = storeS3({ endpoint: s3.endpoint, bucket: BUCKET, accessKeyId: 'WRONG', secretAccessKey: 'nope', sleep: async () => {} });
    opened.push(store);
    const err = await store.get('k').catch((e: unknown) => e);
    expect(err).toMatchObject({ reason: 'denied', attempts: 1 });
    expect((err as Error).message).toMatch(/refused the credentials: check `accessKeyId` \/ `secretAccessKey`.*InvalidAccessKeyId \(HTTP 403\)/);
  });

  it('a dead endpoint: retried, then reason unreachable', async () => {
    const endpoint = await deadEndpoint();
    const waits: number[] = [];
    const store = storeS3({ endpoint, bucket: BUCKET, ...S3RVER_CREDENTIALS, attempts: 3, sleep: async (ms) => void waits.push(ms) });
    opened.push(store);
    const err = await store.list('').catch((e: unknown) => e);
    expect(err).toMatchObject({ name: 'S3StoreError', reason: 'unreachable', attempts: 3 });
    expect((err as Error).message).toContain(`store-s3 list (all keys) (bucket "${BUCKET}" at ${endpoint}) failed after 3 attempts: the endpoint could not be reached`);
    expect((err as Error).message).toMatch(/ECONNREFUSED/);
    expect(waits).toHaveLength(2);
  });

  it('an aborted request stops without retrying', async () => {
    const { store, waits } = faultyStore();
    const ac = new AbortController();
    ac.abort();
    await expect(store.put('k', bytes('x'), ac.signal)).rejects.toMatchObject({ reason: 'aborted' });
    expect(waits).toEqual([]);
  });
});

describe('publishSet: the manifest is written last', () => {
  const big = Uint8Array.from({ length: MIN_PART_SIZE + 4096 }, (_, i) => (i * 7) & 255);
  const manifest = (objects: readonly { key: string; size: number; sha256: string }[]): Uint8Array => bytes(JSON.stringify({ objects }));

  it('publishes every object, then a manifest that lists them with sizes and hashes', async () => {
    const { store } = faultyStore({ partSize: MIN_PART_SIZE });
    const order: string[] = [];
    proxy.onRequest = (r) => {
      if (r.method === 'PUT' && !/partNumber/.test(r.url)) order.push(r.url.split('?')[0]!.split('/').pop()!);
    };
    try {
      const published = await publishSet(store, {
        objects: [{ key: 'cp/7/config.json', bytes: bytes('{}') }, { key: 'cp/7/model.bin', bytes: big }],
        manifestKey: 'cp/7/manifest.json',
        manifest,
      });
      expect(published.map((p) => [p.key, p.size])).toEqual([['cp/7/config.json', 2], ['cp/7/model.bin', big.length]]);
      expect(published[0]!.sha256).toBe('44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a');
    } finally {
      proxy.onRequest = null;
    }
    expect(order[order.length - 1]).toBe('manifest.json');
    const m = JSON.parse(new TextDecoder().decode((await store.get('cp/7/manifest.json'))!));
    expect(m.objects.map((o: { key: string }) => o.key)).toEqual(['cp/7/config.json', 'cp/7/model.bin']);
    expect(await store.list('cp/7/')).toEqual(['cp/7/config.json', 'cp/7/manifest.json', 'cp/7/model.bin']);
  });

  it('aborted mid-upload (during the multipart checkpoint): no manifest, no partial object', async () => {
    const { store } = faultyStore({ partSize: MIN_PART_SIZE, partConcurrency: 1 });
    const ac = new AbortController();
    proxy.onRequest = (r) => {
      if (/partNumber=1/.test(r.url)) ac.abort(new Error('validator killed'));
    };
    let err: unknown;
    try {
      err = await publishSet(store, {
        objects: [{ key: 'cp/8/config.json', bytes: bytes('{}') }, { key: 'cp/8/model.bin', bytes: big }, { key: 'cp/8/tail', bytes: bytes('t') }],
        manifestKey: 'cp/8/manifest.json',
        manifest,
        signal: ac.signal,
        concurrency: 1,
      }).catch((e: unknown) => e);
    } finally {
      proxy.onRequest = null;
    }
    expect(err).toBeInstanceOf(PublishAbortedError);
    expect((err as Error).message).toMatch(/aborted before the manifest cp\/8\/manifest.json was written/);
    expect(await store.get('cp/8/manifest.json')).toBeNull();
    expect(await store.list('cp/8/')).toEqual(['cp/8/config.json']); // the checkpoint never appeared, the tail never started
  });

  it('the endpoint dies mid-publish: the publish fails, and the manifest was never written', async () => {
    const { store } = faultyStore({ attempts: 2 });
    let puts = 0;
    proxy.onRequest = (r) => {
      if (r.method === 'PUT' && ++puts === 2) proxy.kill();
    };
    let err: unknown;
    try {
      err = await publishSet(store, {
        objects: [{ key: 'a/1', bytes: bytes('1') }, { key: 'a/2', bytes: bytes('2') }, { key: 'a/3', bytes: bytes('3') }],
        manifestKey: 'a/manifest.json',
        manifest: bytes('{"n":3}'),
        concurrency: 1,
      }).catch((e: unknown) => e);
    } finally {
      proxy.onRequest = null;
      proxy.revive();
    }
    expect(err).toMatchObject({ name: 'S3StoreError', reason: 'unreachable' });
    const onServer = direct(store, `f${namespace}/`);
    expect(await onServer.get('a/manifest.json')).toBeNull();
    expect(await onServer.list('a/')).toEqual(['a/1']);
  });

  it('refuses a set that names the manifest, a duplicate or a bad key before uploading anything', async () => {
    const { store } = faultyStore();
    const before = proxy.seen.length;
    await expect(publishSet(store, { objects: [{ key: 'm', bytes: bytes('x') }], manifestKey: 'm', manifest: bytes('{}') })).rejects.toThrow(/is the manifest key/);
    await expect(publishSet(store, { objects: [{ key: 'a', bytes: bytes('x') }, { key: 'a', bytes: bytes('y') }], manifestKey: 'm', manifest: bytes('{}') })).rejects.toThrow(/listed twice/);
    await expect(publishSet(store, { objects: [{ key: 'ok', bytes: bytes('x') }, { key: '../x', bytes: bytes('y') }], manifestKey: 'm', manifest: bytes('{}') })).rejects.toThrow(/path traversal/);
    expect(proxy.seen.length).toBe(before);
  });
});
