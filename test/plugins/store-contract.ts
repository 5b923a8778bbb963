/**
 * The `ObjectStore` contract (core/interfaces/store.ts) as a shared suite: every store must pass it (store-fs and
 * store-s3 run it through `describe.each` in store-s3.test.ts). Backend-specific behaviour (fs temp files, S3
 * multipart and retries) is tested beside each store.
 */
import { expect, it } from 'vitest';
import { checkKey, getJson, putJson, StoreKeyError, type ObjectStore } from '../../core/interfaces/store.ts';

const bytes = (s: string): Uint8Array => new TextEncoder().encode(s);
const text = (b: Uint8Array | null): string | null => (b === null ? null : new TextDecoder().decode(b));

/** A store with `delete`, fresh (empty) on every call. */
export type FreshStore = () => Promise<ObjectStore & { delete(key: string): Promise<void> }>;

/** Registers the contract's tests in the current `describe`. */
export function storeContract(fresh: FreshStore): void {
  it('put/get/overwrite/delete', async () => {
    const store = await fresh();
    expect(await store.get('a/b.json')).toBeNull();
    await store.put('a/b.json', bytes('one'));
    expect(text(await store.get('a/b.json'))).toBe('one');
    await store.put('a/b.json', bytes('two'));
    expect(text(await store.get('a/b.json'))).toBe('two');
    await store.delete('a/b.json');
    await store.delete('a/b.json'); // absent: fine
    expect(await store.get('a/b.json')).toBeNull();
  });

  it('round-trips empty values and binary bytes exactly', async () => {
    const store = await fresh();
    const bin = Uint8Array.from({ length: 256 }, (_, i) => i);
    await store.put('bin', bin);
    await store.put('empty', new Uint8Array(0));
    expect(await store.get('bin')).toEqual(bin);
    expect(await store.get('empty')).toEqual(new Uint8Array(0));
  });

  it('lists by string prefix, sorted, across "directories"', async () => {
    const store = await fresh();
    for (const k of ['archives/window-10.json', 'archives/window-2.json', 'archives/sub/x', 'archive-index', 'checkpoints/1/model.safetensors', 'z']) {
      await store.put(k, bytes(k));
    }
    expect(await store.list('archives/')).toEqual(['archives/sub/x', 'archives/window-10.json', 'archives/window-2.json']);
    expect(await store.list('archives/window-1')).toEqual(['archives/window-10.json']);
    expect(await store.list('archive')).toEqual(['archive-index', 'archives/sub/x', 'archives/window-10.json', 'archives/window-2.json']);
    expect(await store.list('')).toHaveLength(6);
    expect(await store.list('nothing/')).toEqual([]);
  });

  it('a prefix of keys is not a value', async () => {
    const store = await fresh();
    await store.put('a/b', bytes('x'));
    expect(await store.get('a')).toBeNull();
    expect(await store.list('a/')).toEqual(['a/b']);
  });

  it('JSON helpers', async () => {
    const store = await fresh();
    await putJson(store, 'j/v.json', { a: [1, 2] });
    expect(await getJson(store, 'j/v.json')).toEqual({ a: [1, 2] });
    expect(await getJson(store, 'j/none.json')).toBeNull();
    await store.put('j/bad.json', bytes('{nope'));
    await expect(getJson(store, 'j/bad.json')).rejects.toThrow(/j\/bad.json is not UTF-8 JSON/);
  });

  const BAD = ['../x', 'a/../../x', '/etc/passwd', 'a//b', 'a/', '', '.', '..', 'a\\..\\b', 'a\0b', 'a b', 'ü', 'x'.repeat(513)];
  it('refuses bad keys on every operation, storing nothing', async () => {
    const store = await fresh();
    for (const key of BAD) {
      await expect(store.put(key, bytes('x')), key).rejects.toThrow(StoreKeyError);
      await expect(store.get(key), key).rejects.toThrow(StoreKeyError);
      await expect(store.delete(key), key).rejects.toThrow(StoreKeyError);
    }
    await expect(store.list('../')).rejects.toThrow(StoreKeyError);
    await expect(store.list('a/../../')).rejects.toThrow(StoreKeyError);
    expect(await store.list('')).toEqual([]);
    expect(checkKey('a_b=c+d@e,f.g-h/5F3Cx')).toBeTruthy();
  });

  it('a non-Uint8Array value is refused', async () => {
    const store = await fresh();
    await expect(store.put('k', 'text' as unknown as Uint8Array)).rejects.toThrow(TypeError);
    expect(await store.get('k')).toBeNull();
  });
}
