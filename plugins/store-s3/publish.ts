/**
 * `publishSet(store, set)`: publishes a set of objects and then, only after every one of them is stored, the
 * manifest that names them — so a reader that finds the manifest finds everything it lists, and an upload that is
 * killed or aborted part way leaves no manifest (at most some unlisted objects, which the next publish overwrites).
 * Works over any `ObjectStore`; a store whose methods take an `AbortSignal` last (store-s3) stops its in-flight
 * uploads when the signal aborts.
 *
 * The manifest is either the caller's bytes or built from the list of published objects (key, size, SHA-256), so
 * that a reader can check what it downloads.
 *
 * @example
 *   await publishSet(store, {
 *     objects: [{ key: 'checkpoints/7/model.safetensors', bytes }, { key: 'checkpoints/7/config.json', bytes: cfg }],
 *     manifestKey: 'checkpoints/7/manifest.json',
 *     manifest: (objects) => utf8(JSON.stringify({ checkpoint_n: 7, objects })),
 *     signal: controller.signal,
 *   });
 */
import { sha256 } from '@noble/hashes/sha2.js';
import { hex } from '../../core/protocol/codec.ts';
import { checkKey, type ObjectStore } from '../../core/interfaces/store.ts';

/** One object as published, for the manifest. */
export interface PublishedObject {
  readonly key: string;
  readonly size: number;
  /** Lowercase hex SHA-256 of the bytes. */
  readonly sha256: string;
}

export interface PublishSet {
  readonly objects: readonly { readonly key: string; readonly bytes: Uint8Array }[];
  /** Written last, after every object is stored. */
  readonly manifestKey: string;
  /** The manifest's bytes, or a function from the published objects (in `objects` order) to them. */
  readonly manifest: Uint8Array | ((objects: readonly PublishedObject[]) => Uint8Array);
  /** Aborting it stops the publish; the manifest is then never written. */
  readonly signal?: AbortSignal;
  /** Objects uploaded at once (default 2). */
  readonly concurrency?: number;
}

/** A publish that was aborted before its manifest was written. */
export class PublishAbortedError extends Error {
  override readonly name = 'PublishAbortedError';
}

/** A store whose methods may take an abort signal last (store-s3's do; others ignore the extra argument). */
type SignalStore = ObjectStore & { put(key: string, bytes: Uint8Array, signal?: AbortSignal): Promise<void> };

/** Publishes `set.objects`, then `set.manifestKey`; returns the published objects. Throws before the manifest on any failure. */
export async function publishSet(store: ObjectStore, set: PublishSet): Promise<readonly PublishedObject[]> {
  checkKey(set.manifestKey);
  const seen = new Set<string>();
  for (const { key, bytes } of set.objects) {
    checkKey(key);
    if (!(bytes instanceof Uint8Array)) throw new TypeError(`publishSet: ${key} must be a Uint8Array`);
    if (key === set.manifestKey) throw new RangeError(`publishSet: ${key} is the manifest key; the manifest is written last, on its own`);
    if (seen.has(key)) throw new RangeError(`publishSet: ${key} is listed twice`);
    seen.add(key);
  }
  const concurrency = set.concurrency ?? 2;
  if (!Number.isSafeInteger(concurrency) || concurrency < 1) throw new RangeError('publishSet: `concurrency` must be a positive integer');
  const signal = set.signal;
  const stopped = (): PublishAbortedError => new PublishAbortedError(`publishSet: aborted before the manifest ${set.manifestKey} was written; nothing references the objects already uploaded`);
  if (signal?.aborted) throw stopped();

  const published: PublishedObject[] = set.objects.map(({ key, bytes }) => ({ key, size: bytes.length, sha256: hex(sha256(bytes)) }));
  let next = 0;
  let failure: unknown;
  async function worker(): Promise<void> {
    while (next < set.objects.length && failure === undefined && !signal?.aborted) {
      const { key, bytes } = set.objects[next++]!;
      await (store as SignalStore).put(key, bytes, signal);
    }
  }
  await Promise.all(
    Array.from({ length: Math.min(concurrency, set.objects.length) }, () =>
      worker().catch((e: unknown) => {
        failure ??= e;
      }),
    ),
  );
  if (signal?.aborted) throw stopped();
  if (failure !== undefined) throw failure;
  const manifest = typeof set.manifest === 'function' ? set.manifest(published) : set.manifest;
  if (!(manifest instanceof Uint8Array)) throw new TypeError('publishSet: the manifest must be a Uint8Array');
  if (signal?.aborted) throw stopped();
  await (store as SignalStore).put(set.manifestKey, manifest, signal);
  return published;
}
