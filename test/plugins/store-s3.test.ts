/**
 * store-s3 against a real S3-compatible server (s3rver on 127.0.0.1): the shared ObjectStore contract (run for
 * store-fs too), namespaces, foreign objects, multipart uploads above the part size, list paging, and option checks.
 * Faults, retries, errors and `publishSet` are in store-s3-faults.test.ts.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { storeFs } from '../../plugins/store-fs/index.ts';
import { MIN_PART_SIZE, storeS3, STORE_S3_DEFAULTS, type S3ObjectStore, type StoreS3Options } from '../../plugins/store-s3/index.ts';
import { storeS3Plugin } from '../../plugins/store-s3/index.ts';
import { createRegistry } from '../../core/plugins/index.ts';
import { storeContract, type FreshStore } from './store-contract.ts';
import { S3RVER_CREDENTIALS, startFaultProxy, startS3rver, type FaultProxy, type LocalS3 } from './store-s3-server.ts';

const BUCKET = 'reliquary-test';
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

/** A store on the shared server, in a namespace of its own (so each test starts empty). */
function s3Store(options: Partial<StoreS3Options> = {}): S3ObjectStore {
  const store = storeS3({ endpoint: s3.endpoint, bucket: BUCKET, ...S3RVER_CREDENTIALS, keyPrefix: `t${++namespace}/`, ...options });
  opened.push(store);
  return store;
}

const STORES: [string, FreshStore][] = [
  ['fs', async () => storeFs({ dir: mkdtempSync(join(tmpdir(), 'store-contract-')), fsync: false })],
  ['s3', async () => s3Store()],
];
describe.each(STORES)('ObjectStore contract: %s', (_name, fresh) => storeContract(fresh));

const pattern = (n: number, seed: number): Uint8Array => Uint8Array.from({ length: n }, (_, i) => (i * 31 + seed * 7 + (i >> 13)) & 255);

describe('store-s3 on s3rver', () => {
  it('namespaces: keyPrefix keeps two stores apart in one bucket', async () => {
    const a = s3Store({ keyPrefix: 'ns-a/' });
    const b = s3Store({ keyPrefix: 'ns-b/' });
    await a.put('k', new Uint8Array([1]));
    await b.put('k', new Uint8Array([2]));
    expect(await a.get('k')).toEqual(new Uint8Array([1]));
    expect(await b.get('k')).toEqual(new Uint8Array([2]));
    expect(await a.list('')).toEqual(['k']);
    const root = s3Store({ keyPrefix: '' });
    expect(await root.list('ns-')).toEqual(['ns-a/k', 'ns-b/k']);
  });

  it('objects whose names are not valid keys are never listed', async () => {
    const raw = s3Store({ keyPrefix: 'foreign/' });
    await raw.put('ok', new Uint8Array([1]));
    // written by someone else under the same namespace, with a name no ObjectStore key can have
    const root = storeS3({ endpoint: s3.endpoint, bucket: BUCKET, ...S3RVER_CREDENTIALS });
    opened.push(root);
    await root.put('foreign/ok2', new Uint8Array([2]));
    const { S3Client, PutObjectCommand } = await import('@aws-sdk/client-s3');
    const client = new S3Client({ endpoint: s3.endpoint, region: 'auto', forcePathStyle: true, credentials: { ...S3RVER_CREDENTIALS } });
    await client.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'foreign/has space', Body: new Uint8Array([3]) }));
    client.destroy();
    expect(await raw.list('')).toEqual(['ok', 'ok2']);
  });

  it('multipart: an object above the part size goes up in parts and round-trips byte for byte', async () => {
    const store = s3Store({ endpoint: proxy.endpoint, partSize: MIN_PART_SIZE, partConcurrency: 2 });
    const big = pattern(2 * MIN_PART_SIZE + 12_345, 1);
    const before = proxy.seen.length;
    await store.put('checkpoints/1/model.safetensors', big);
    const reqs = proxy.seen.slice(before);
    const parts = reqs.filter((r) => r.method === 'PUT' && /[?&]partNumber=/.test(r.url));
    expect(parts.map((r) => /partNumber=(\d+)/.exec(r.url)![1]).sort()).toEqual(['1', '2', '3']);
    expect(reqs.filter((r) => r.method === 'POST' && /[?&]uploads/.test(r.url))).toHaveLength(1); // create
    expect(reqs.filter((r) => r.method === 'POST' && /[?&]uploadId=/.test(r.url))).toHaveLength(1); // complete
    const back = await store.get('checkpoints/1/model.safetensors');
    expect(back?.length).toBe(big.length);
    expect(Buffer.compare(Buffer.from(back!), Buffer.from(big))).toBe(0);
    // at the part size exactly: one plain PUT
    const n = proxy.seen.length;
    await store.put('exact', pattern(MIN_PART_SIZE, 2));
    expect(proxy.seen.slice(n).map((r) => r.method)).toEqual(['PUT']);
    expect((await store.get('exact'))?.length).toBe(MIN_PART_SIZE);
  });

  it('list pages through more keys than one page holds', async () => {
    const store = s3Store({ endpoint: proxy.endpoint, listPageSize: 2 });
    const keys = ['p/1', 'p/2', 'p/3', 'p/4', 'p/5', 'q'];
    for (const k of keys) await store.put(k, new TextEncoder().encode(k));
    const before = proxy.seen.length;
    expect(await store.list('p/')).toEqual(keys.slice(0, 5));
    expect(proxy.seen.slice(before).filter((r) => r.method === 'GET')).toHaveLength(3);
    expect(await store.list('')).toEqual(keys);
  });

  it('registers as the store plugin', () => {
    const app = createRegistry().use(storeS3Plugin, { endpoint: s3.endpoint, bucket: BUCKET, ...S3RVER_CREDENTIALS }).assemble(['store']);
    expect(app.store.name).toBe('s3');
    expect(() => createRegistry().use(storeS3Plugin, { bucket: BUCKET, region2: 'x' } as never)).toThrow(/unknown option "region2"/);
    (app.store as S3ObjectStore).close();
  });

  it('refuses bad options with a message that says what to fix', () => {
    expect(() => storeS3({})).toThrow(/`bucket` "" is not a bucket name/);
    expect(() => storeS3({ bucket: 'Bad_Bucket' })).toThrow(/not a bucket name/);
    expect(() => storeS3({ bucket: 'b-1', endpoint: 'ftp://x' })).toThrow(/`endpoint` "ftp:\/\/x" is not an http\(s\) URL/);
    expect(() => storeS3({ bucket: 'b-1', endpoint: 'not a url' })).toThrow(/is not an http\(s\) URL/);
    expect(() => storeS3({ bucket: 'b-1', accessKeyId: 'x' })).toThrow(/both `accessKeyId` and `secretAccessKey`/);
    expect(() => storeS3({ bucket: 'b-1', keyPrefix: 'no-slash' })).toThrow(/`keyPrefix`/);
    expect(() => storeS3({ bucket: 'b-1', keyPrefix: '../' })).toThrow(/`keyPrefix`/);
    expect(() => storeS3({ bucket: 'b-1', partSize: 1024 })).toThrow(/`partSize` must be an integer ≥ 5242880/);
    expect(() => storeS3({ bucket: 'b-1', attempts: 0 })).toThrow(/`attempts` must be a positive integer/);
    expect(() => storeS3({ bucket: 'b-1', listPageSize: 5000 })).toThrow(/`listPageSize`/);
    expect(STORE_S3_DEFAULTS.partSize).toBe(16 * 1024 * 1024);
  });
});
