/**
 * `storeS3(options)`: an `ObjectStore` (core/interfaces/store.ts) in an S3-compatible bucket — AWS S3, Cloudflare
 * R2, MinIO, or `s3rver` in the tests — through `@aws-sdk/client-s3` v3. Archives, checkpoints, manifests and
 * cooldown snapshots go here in production (spec/market.md §7).
 *
 * - Keys are checked by the core's `checkKey` before any request, then stored under `keyPrefix` (a namespace inside
 *   the bucket, e.g. `reliquary/`); objects in the bucket whose names are not valid keys are never listed.
 * - `put` is atomic as S3 is: a plain `PutObject` up to `partSize` bytes, a multipart upload above it (the object
 *   appears only when the upload completes; a failed or aborted one is aborted and leaves nothing visible).
 * - Every request is retried on network faults, 5xx and throttling, with exponential backoff and jitter
 *   (`attempts`, `backoffMs`, `maxBackoffMs`); a missing bucket or refused credentials fail at once. Failures are
 *   `S3StoreError`s with a `reason` and a message naming the operation, key, bucket and endpoint.
 * - `list` pages with `ListObjects` (v1) markers: S3, R2 and MinIO support it, and s3rver's v2 continuation
 *   tokens use DES, which OpenSSL 3 refuses.
 * - Defaults suit R2/MinIO-style endpoints: path-style addressing, region `auto`, and request checksums only where
 *   the API requires them (third-party servers reject the SDK's newer default checksum headers).
 * - `put`, `get`, `list` and `delete` take an optional `AbortSignal` last (beyond the interface); `publishSet`
 *   (publish.ts) uses it so that an aborted publish stops its uploads.
 *
 * @example
 *   const store = storeS3({ endpoint: 'https://<account>.r2.cloudflarestorage.com', bucket: 'reliquary',
 *                           accessKeyId, secretAccessKey, keyPrefix: 'mainnet/' });
 *   await store.put('checkpoints/7/model.safetensors', weights); // multipart above 16 MiB
 *   await store.list('checkpoints/7/');
 */
import {
  DeleteObjectCommand,
  GetObjectCommand,
  ListObjectsCommand,
  PutObjectCommand,
  S3Client,
  type S3ClientConfig,
} from '@aws-sdk/client-s3';
import { checkKey, checkPrefix, type ObjectStore } from '../../core/interfaces/store.ts';
import { S3_ERROR_REASONS, S3StoreError } from './errors.ts';
import { MIN_PART_SIZE, uploadMultipart } from './multipart.ts';
import { RetriesExhausted, timerSleep, withRetry, type RetryPolicy } from './retry.ts';

export interface StoreS3Options extends RetryPolicy {
  /** Bucket name (required). */
  bucket: string;
  /** Endpoint URL (`https://<account>.r2.cloudflarestorage.com`, `http://127.0.0.1:9000`); null: AWS's own. */
  endpoint: string | null;
  /** Signing region; R2 takes `auto`. */
  region: string;
  /** `https://endpoint/bucket/key` instead of `https://bucket.endpoint/key` (MinIO, s3rver; R2 accepts both). */
  forcePathStyle: boolean;
  /** Static credentials; null for both: the SDK's default chain (environment, profile, instance role). */
  accessKeyId: string | null;
  secretAccessKey: string | null;
  /** Namespace inside the bucket: '' or a valid key prefix ending in `/`. */
  keyPrefix: string;
  /** Objects above this many bytes go up in parts of this size (≥ 5 MiB, S3's minimum). */
  partSize: number;
  /** Parts in flight at once. */
  partConcurrency: number;
  /** Keys per `list` page (≤ 1000). */
  listPageSize: number;
  /** Per-request timeouts. */
  connectTimeoutMs: number;
  requestTimeoutMs: number;
}

/** Documented defaults: 5 attempts with backoff 250 ms → 8 s, 16 MiB parts, 4 in flight, path-style, region `auto`. */
export const STORE_S3_DEFAULTS: Readonly<StoreS3Options> = Object.freeze({
  bucket: '',
  endpoint: null,
  region: 'auto',
  forcePathStyle: true,
  accessKeyId: null,
  secretAccessKey: null,
  keyPrefix: '',
  partSize: 16 * 1024 * 1024,
  partConcurrency: 4,
  listPageSize: 1000,
  connectTimeoutMs: 5_000,
  requestTimeoutMs: 120_000,
  attempts: 5,
  backoffMs: 250,
  maxBackoffMs: 8_000,
  sleep: timerSleep,
  random: Math.random,
});

/** The fields of S3 responses this store reads. */
export interface S3Output {
  UploadId?: string;
  ETag?: string;
  Contents?: { Key?: string }[];
  IsTruncated?: boolean;
  NextMarker?: string;
}

/** Sends one command with the store's retries; failures become `S3StoreError`s. `attempts` overrides the policy. */
export type Send = (command: { readonly input: unknown }, op: string, key: string, signal?: AbortSignal, attempts?: number) => Promise<S3Output>;

/** The S3 `ObjectStore`, with `delete`, the options in force, and `close()` to release its connections. */
export interface S3ObjectStore extends ObjectStore {
  readonly bucket: string;
  readonly endpoint: string | null;
  put(key: string, bytes: Uint8Array, signal?: AbortSignal): Promise<void>;
  get(key: string, signal?: AbortSignal): Promise<Uint8Array | null>;
  list(prefix: string, signal?: AbortSignal): Promise<string[]>;
  delete(key: string, signal?: AbortSignal): Promise<void>;
  /** Releases the client's sockets (the store is unusable after). */
  close(): void;
}

/** An `ObjectStore` over the bucket `options.bucket`. */
export function storeS3(options: Partial<StoreS3Options> = {}): S3ObjectStore {
  const o: StoreS3Options = { ...STORE_S3_DEFAULTS, ...options };
  checkOptions(o);
  const where = `bucket "${o.bucket}" at ${o.endpoint ?? 'AWS S3'}`;
  const config: S3ClientConfig = {
    region: o.region,
    forcePathStyle: o.forcePathStyle,
    maxAttempts: 1, // retries are ours: one policy, an injectable sleep, and errors that say what happened
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    requestHandler: { connectionTimeout: o.connectTimeoutMs, requestTimeout: o.requestTimeoutMs },
  };
  if (o.endpoint !== null) config.endpoint = o.endpoint;
  if (o.accessKeyId !== null && o.secretAccessKey !== null) config.credentials = { accessKeyId: o.accessKeyId, secretAccessKey: o.secretAccessKey };
  const client = new S3Client(config);
  const objectKey = (key: string): string => o.keyPrefix + checkKey(key);

  const send: Send = async function send(command, op, key, signal, attempts) {
    const policy = attempts === undefined ? o : { ...o, attempts };
    try {
      return await withRetry(() => client.send(command as GetObjectCommand, signal ? { abortSignal: signal } : {}) as Promise<S3Output>, policy, signal);
    } catch (e) {
      if (!(e instanceof RetriesExhausted)) throw e;
      const tries = e.attempts > 1 ? ` after ${e.attempts} attempts` : '';
      throw new S3StoreError(e.classified.reason, `store-s3 ${op} ${key} (${where}) failed${tries}: ${S3_ERROR_REASONS[e.classified.reason]} [${e.classified.detail}]`, e.attempts, { cause: e.last });
    }
  };

  return {
    name: 's3',
    bucket: o.bucket,
    endpoint: o.endpoint,

    put: async function put(key: string, bytes: Uint8Array, signal?: AbortSignal): Promise<void> {
      const name = objectKey(key);
      if (!(bytes instanceof Uint8Array)) throw new TypeError(`storeS3.put(${key}): value must be a Uint8Array`);
      if (bytes.length > o.partSize) return uploadMultipart(send, o.bucket, key, name, bytes, o.partSize, o.partConcurrency, signal);
      await send(new PutObjectCommand({ Bucket: o.bucket, Key: name, Body: bytes, ContentLength: bytes.length }), 'put', key, signal);
    },

    get: async function get(key: string, signal?: AbortSignal): Promise<Uint8Array | null> {
      const name = objectKey(key);
      try {
        // the body is read inside the retry: a connection cut mid-body is retried like any other fault
        return await withRetry(async () => {
          const res = await client.send(new GetObjectCommand({ Bucket: o.bucket, Key: name }), signal ? { abortSignal: signal } : {});
          if (res.Body === undefined) return new Uint8Array(0);
          return await res.Body.transformToByteArray();
        }, o, signal);
      } catch (e) {
        if (!(e instanceof RetriesExhausted)) throw e;
        const code = (e.last as { name?: unknown })?.name;
        if (code === 'NoSuchKey' || (code === 'NotFound' && e.classified.reason !== 'no_bucket')) return null;
        const tries = e.attempts > 1 ? ` after ${e.attempts} attempts` : '';
        throw new S3StoreError(e.classified.reason, `store-s3 get ${key} (${where}) failed${tries}: ${S3_ERROR_REASONS[e.classified.reason]} [${e.classified.detail}]`, e.attempts, { cause: e.last });
      }
    },

    list: async function list(prefix: string, signal?: AbortSignal): Promise<string[]> {
      checkPrefix(prefix);
      const out: string[] = [];
      let marker: string | undefined;
      for (;;) {
        const cmd = new ListObjectsCommand({ Bucket: o.bucket, Prefix: o.keyPrefix + prefix, MaxKeys: o.listPageSize, ...(marker !== undefined ? { Marker: marker } : {}) });
        const page = await send(cmd, 'list', prefix === '' ? '(all keys)' : prefix, signal);
        const names = (page.Contents ?? []).map((c) => c.Key).filter((k): k is string => typeof k === 'string');
        for (const n of names) {
          const key = n.slice(o.keyPrefix.length);
          if (n.startsWith(o.keyPrefix) && isValidKey(key)) out.push(key);
        }
        if (page.IsTruncated !== true || names.length === 0) break;
        marker = page.NextMarker ?? names[names.length - 1];
      }
      return out.sort();
    },

    delete: async function del(key: string, signal?: AbortSignal): Promise<void> {
      await send(new DeleteObjectCommand({ Bucket: o.bucket, Key: objectKey(key) }), 'delete', key, signal);
    },

    close: function close(): void {
      client.destroy();
    },
  };
}

function checkOptions(o: StoreS3Options): void {
  if (typeof o.bucket !== 'string' || !/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(o.bucket)) {
    throw new RangeError(`storeS3: \`bucket\` ${JSON.stringify(o.bucket)} is not a bucket name (3–63 of a-z 0-9 . -, starting and ending with a letter or digit)`);
  }
  if (o.endpoint !== null) {
    let url: URL | undefined;
    try {
      url = new URL(o.endpoint);
    } catch {
      url = undefined;
    }
    if (url === undefined || (url.protocol !== 'http:' && url.protocol !== 'https:')) {
      throw new RangeError(`storeS3: \`endpoint\` ${JSON.stringify(o.endpoint)} is not an http(s) URL (e.g. https://<account>.r2.cloudflarestorage.com)`);
    }
  }
  if ((o.accessKeyId === null) !== (o.secretAccessKey === null)) throw new RangeError('storeS3: give both `accessKeyId` and `secretAccessKey`, or neither (the SDK\'s default credentials)');
  if (o.keyPrefix !== '' && (!o.keyPrefix.endsWith('/') || !isValidKey(o.keyPrefix.slice(0, -1)))) {
    throw new RangeError(`storeS3: \`keyPrefix\` ${JSON.stringify(o.keyPrefix)} must be '' or a valid key followed by "/" (e.g. "reliquary/")`);
  }
  if (!Number.isSafeInteger(o.partSize) || o.partSize < MIN_PART_SIZE) throw new RangeError(`storeS3: \`partSize\` must be an integer ≥ ${MIN_PART_SIZE} (5 MiB, S3's smallest part)`);
  for (const k of ['partConcurrency', 'attempts'] as const) {
    if (!Number.isSafeInteger(o[k]) || o[k] < 1) throw new RangeError(`storeS3: \`${k}\` must be a positive integer`);
  }
  if (!Number.isSafeInteger(o.listPageSize) || o.listPageSize < 1 || o.listPageSize > 1000) throw new RangeError('storeS3: `listPageSize` must be an integer in 1..1000');
  for (const k of ['backoffMs', 'maxBackoffMs', 'connectTimeoutMs', 'requestTimeoutMs'] as const) {
    if (!(Number.isFinite(o[k]) && o[k] >= 0)) throw new RangeError(`storeS3: \`${k}\` must be a non-negative number of milliseconds`);
  }
}

function isValidKey(key: string): boolean {
  try {
    checkKey(key);
    return true;
  } catch {
    return false;
  }
}
