/**
 * The follower validator as a node mode (`reliquary validator --follow`, hosts/node/nodes/follower-command.ts over
 * core/validator/follower-node.ts). A leader devnet seals window 0; the follower starts on the leader's store,
 * verifies it, and keeps polling while the leader seals window 1, which it verifies as it appears. On this honest
 * traffic the two agree on 100 % of proved groups; the signed verdict records are served on /follow/window/:w,
 * published where the leader's dashboard reads them, and the dashboard shows the spread. Then, on a copy where the
 * leader accepted (and re-signed) a group with forged log-probs, a follower started from a validator config
 * (`"role": "follower"`, the leader, the leader's store) flags exactly that group, exit 1.
 */
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { putWindowBundle, readWindowBundle, type WindowBundle } from '../../core/audit/bundle.ts';
import { archiveKey, withReplay, type WindowArchive } from '../../core/market/archive.ts';
import { utf8 } from '../../core/protocol/codec.ts';
import { signerFromSeed } from '../../core/protocol/sr25519.ts';
import { dashboardFeed } from '../../core/validator/dashboard.ts';
import { readFollowerRecords, verifyFollowerVerdicts, windowOfRecord, type FollowerVerdictRecord } from '../../core/validator/follower.ts';
import { fastDevnetProfile, runDevnet } from '../../hosts/node/devnet/devnet.ts';
import { validatorCommand } from '../../hosts/node/nodes/validator-command.ts';
import { storeFs } from '../../plugins/store-fs/index.ts';

const ROOT = resolve('.');
const MODEL = resolve('models/tiny-arith');
const PROFILE = fastDevnetProfile(6);
const dirs: string[] = [];
afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});
const until = async (cond: () => Promise<boolean>, what: string, seconds = 120): Promise<void> => {
  for (const t0 = Date.now(); !(await cond());) {
    if (Date.now() - t0 > seconds * 1000) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
};
const json = async (url: string): Promise<any> => (await fetch(url)).json();

describe('reliquary validator --follow (the follower node)', () => {
  it('follows a running leader window by window: 100 % agreement, signed verdicts served and on the leader dashboard', async () => {
    const root = await mkdtemp(join(tmpdir(), 'reliquary-follower-'));
    dirs.push(root);
    const devnet = join(root, 'devnet');
    const leader = (await runDevnet({ windows: 1, miners: 2, dataDir: devnet, modelDir: MODEL, fresh: true, profile: PROFILE })).validator;
    const stop = new AbortController();
    let url = '';
    const exit = validatorCommand({
      follow: leader, store: `fs:${join(devnet, 'store')}`, publish: `fs:${join(devnet, 'store')}`, data: join(root, 'follower'), port: '0', pollSeconds: '0.1', quiet: true,
      ...({ profile: PROFILE, signal: stop.signal, onListening: (u: string) => (url = u) } as object),
    }, ROOT);
    await until(async () => url !== '' && (await json(`${url}/follow`)).windows.length === 1, 'window 0 verified');
    await runDevnet({ windows: 1, miners: 2, dataDir: devnet, modelDir: MODEL, profile: PROFILE }); // the leader seals window 1 meanwhile
    await until(async () => (await json(`${url}/follow`)).windows.length === 2, 'window 1 verified');
    const f = await json(`${url}/follow`);
    expect(f.leader).toBe(leader);
    expect(f.auditOk).toBe(true);
    expect(f.failed).toEqual([]);
    expect(f.agreement).toBe(1);
    expect(f.windows.map((w: { window: number }) => w.window)).toEqual([0, 1]);
    for (const w of f.windows) {
      expect(w.groups).toBeGreaterThan(0);
      expect(w.flagged).toEqual([]);
      expect(w.spread).toBe(0);
    }
    const rec = (await json(`${url}/follow/window/1`)) as FollowerVerdictRecord;
    expect(verifyFollowerVerdicts(rec)).toBe(true);
    expect(rec.verdicts.every((v) => v.accepted === v.leader_accepted)).toBe(true);
    expect((await fetch(`${url}/follow/window/7`)).status).toBe(404);
    stop.abort();
    expect(await exit).toBe(0);
    expect((await readFile(join(root, 'follower', 'follower-seed.bin'))).length).toBe(32);

    // the leader's dashboard shows the spread from the records in its store
    const records = await readFollowerRecords(storeFs({ dir: join(devnet, 'store'), fsync: false }), leader);
    expect(records.map((r) => r.window)).toEqual([0, 1]);
    const snap = dashboardFeed().snapshot({ followers: records.map((r) => ({ follower: r.follower, window: windowOfRecord(r) })) });
    expect(snap.followers.map((x) => [x.window, x.agreement, x.spread, x.flagged])).toEqual([[0, 1, 0, []], [1, 1, 0, []]]);
    expect(snap.followers[0]!.leaderAccepted).toBe(f.windows[0].leaderAccepted);

    // a leader that accepted a group with forged log-probs (and re-signed its archive): flagged, exit 1
    const bad = join(root, 'forged');
    await cp(devnet, bad, { recursive: true });
    const store = storeFs({ dir: join(bad, 'store'), fsync: false });
    const a = JSON.parse(new TextDecoder().decode((await store.get(archiveKey(leader, 0)))!)) as WindowArchive;
    const paid = new Set(a.batch.map((e) => e.extra?.['merkle_root']));
    const b = JSON.parse(new TextDecoder().decode((await readWindowBundle(store, a.replay!.bundle_key))!.bytes)) as { -readonly [K in keyof WindowBundle]: any };
    const g = b.groups.find((x: { merkle_root: string }) => paid.has(x.merkle_root));
    const body = JSON.parse(g.body);
    const lp: number[] = body.rollouts[0].commit.rollout.token_logprobs;
    for (let i = 0; i < lp.length; i++) if (lp[i] !== 0) lp[i] = lp[i]! - 2;
    g.body = JSON.stringify(body);
    const put = await putWindowBundle(store, b as WindowBundle);
    const signer = signerFromSeed((await store.get('devnet/validator-seed.bin'))!);
    await store.put(archiveKey(leader, 0), utf8(JSON.stringify(withReplay(a, { ...a.replay!, bundle_key: put.key, bundle_sha256: put.sha256 }, signer))));
    const report = join(root, 'forged-report.json');
    const config = join(root, 'follower.json'); // the follower as a validator config: role, leader, the leader's store
    await writeFile(config, JSON.stringify({ role: 'follower', follow: leader, plugins: [{ use: 'store-fs', options: { dir: join(bad, 'store'), fsync: false } }] }));
    const code = await validatorCommand({
      config, data: join(root, 'follower-2'), port: '0', windows: '2', pollSeconds: '0.1', quiet: true, report, ...({ profile: PROFILE } as object),
    }, ROOT);
    expect(code).toBe(1);
    const r = JSON.parse(await readFile(report, 'utf8'));
    expect(r.windows[0].flagged.map((x: { id: string }) => x.id)).toEqual([g.id]);
    expect(r.windows[0].flagged[0]).toMatchObject({ leader: true, replayed: false });
    expect(r.windows[0].agreement).toBeLessThan(1);
    expect(r.windows[1].flagged).toEqual([]);
    expect(r.failed.map((l: { window: number; check: string }) => `${l.window}:${l.check}`)).toContain('0:proof');
  }, 240_000);
});
