/**
 * The leader dashboard's follower records (core/validator/follower.ts `followerRecordsCache`): however many requests
 * arrive, the store is listed at most once per refresh interval, concurrent requests share one read, a record
 * published later shows after the interval, and a forged record never shows.
 */
import { describe, expect, it } from 'vitest';
import type { ObjectStore } from '../../core/interfaces/store.ts';
import { signerFromSeed } from '../../core/protocol/sr25519.ts';
import { followerRecordsCache, followerVerdictKey, publishVerdicts } from '../../core/validator/follower.ts';
import { utf8 } from '../../core/protocol/codec.ts';

function countingStore(): ObjectStore & { lists: number; gets: number } {
  const data = new Map<string, Uint8Array>();
  const s = {
    name: 'memory', lists: 0, gets: 0,
    put: async (k: string, b: Uint8Array) => void data.set(k, b),
    get: async (k: string) => (s.gets++, data.get(k) ?? null),
    list: async (p: string) => (s.lists++, [...data.keys()].filter((k) => k.startsWith(p)).sort()),
  };
  return s;
}

describe('followerRecordsCache', () => {
  const leader = signerFromSeed(new Uint8Array(32).fill(1)).ss58;
  const follower = signerFromSeed(new Uint8Array(32).fill(2));
  const verdict = { id: 'g1', env: 'arith', hotkey: 'h', leader: true, replayed: true, reason: null };

  it('one store read per interval, shared by concurrent requests; later records after the interval; forged ones never', async () => {
    const store = countingStore();
    await publishVerdicts(store, follower, leader, 0, [verdict], []);
    let t = 1_000;
    const read = followerRecordsCache(store, leader, { refreshMs: 10_000, now: () => t });
    const all = await Promise.all(Array.from({ length: 50 }, () => read()));
    expect(all.every((r) => r.length === 1 && r[0]!.window === 0)).toBe(true);
    expect(store.lists).toBe(1);
    for (let i = 0; i < 20; i++) await read();
    expect(store.lists).toBe(1);

    await publishVerdicts(store, follower, leader, 1, [verdict], []);
    const forged = { follower: follower.ss58, leader, window: 2, verdicts: [], failed_checks: [], signature: '0x' + '00'.repeat(64) };
    await store.put(followerVerdictKey(follower.ss58, leader, 2), utf8(JSON.stringify(forged)));
    t += 9_999;
    expect((await read()).map((r) => r.window)).toEqual([0]); // still the cached read
    t += 1;
    expect((await read()).map((r) => r.window)).toEqual([0, 1]); // re-read: the new record, not the forged one
    expect(store.lists).toBe(2);
  });
});
