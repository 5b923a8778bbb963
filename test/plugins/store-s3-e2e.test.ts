/**
 * Issue 16's done-when on S3 storage: a validator assembled with `--store s3://…` (store-spec.ts → the store-s3
 * built-in, against a local s3rver) runs 2 windows with 2 miners (a publish per window); `reliquary audit --store
 * s3://…` then passes (exit 0). A copy of the run under another prefix of the bucket, tampered one object at a time
 * (a token byte of a bundled body, a reward, the archive signature, the recomputed π_old) and one flipped byte in
 * the published weights, fails with exit 1 and a FAIL line naming the window and the check.
 */
import { readFile, rm, writeFile, mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readCustodyManifests } from '../../core/audit/custody.ts';
import type { ObjectStore } from '../../core/interfaces/store.ts';
import { archiveKey, type WindowArchive } from '../../core/market/archive.ts';
import { signerFromSeed } from '../../core/protocol/sr25519.ts';
import { auditCommand } from '../../hosts/node/commands/audit.ts';
import { fastDevnetProfile } from '../../hosts/node/devnet/devnet.ts';
import { startMiner, type MinerHost } from '../../hosts/node/devnet/miner-host.ts';
import { startValidator } from '../../hosts/node/devnet/validator-host.ts';
import { assembleValidator } from '../../hosts/node/nodes/assemble.ts';
import { EMPTY_CONFIG } from '../../hosts/node/nodes/config.ts';
import { storeEntry, withStore } from '../../hosts/node/nodes/store-spec.ts';
import { storeS3, type S3ObjectStore } from '../../plugins/store-s3/index.ts';
import { S3RVER_CREDENTIALS, startS3rver, type LocalS3 } from './store-s3-server.ts';

const MODEL = resolve('models/tiny-arith');
const PROFILE = fastDevnetProfile(6);
let s3: LocalS3;
let dataDir = '';
let validator = '';
const stores: S3ObjectStore[] = [];
const spec = (prefix: string): string =>
  `s3://reliquary/${prefix}?endpoint=${encodeURIComponent(s3.endpoint)}&accessKeyId=${S3RVER_CREDENTIALS.accessKeyId}&secretAccessKey=${S3RVER_CREDENTIALS.secretAccessKey}`;
const open = (prefix: string): S3ObjectStore => {
  const s = storeS3(storeEntry(spec(prefix)).options);
  stores.push(s);
  return s;
};

beforeAll(async () => {
  s3 = await startS3rver(['reliquary']);
  dataDir = await mkdtemp(join(tmpdir(), 'reliquary-s3-e2e-'));
  const parts = await assembleValidator(withStore(EMPTY_CONFIG, spec('run')), { dataDir });
  expect((parts.store as S3ObjectStore).bucket).toBe('reliquary');
  const v = await startValidator({ profile: PROFILE, envs: parts.environments.environments, store: parts.store, chain: parts.chain, beacon: parts.beacon, dataDir, modelDir: MODEL, port: 0 });
  validator = v.hotkey;
  const miners: MinerHost[] = [];
  try {
    for (const i of [0, 1]) {
      const s = signerFromSeed(crypto.getRandomValues(new Uint8Array(32)));
      await v.chain.register(s.ss58, signerFromSeed(crypto.getRandomValues(new Uint8Array(32))).ss58);
      miners.push(await startMiner({ name: `m${i}`, profile: PROFILE, envs: parts.environments.environments, baseUrl: v.url, signer: s, selector: 'uniform', modelDir: MODEL, checkpointN: 0, groupsPerWindow: 6 }));
    }
    for (const m of miners) m.start();
    for (let k = 0; k < 2; k++) await v.runWindow();
  } finally {
    await Promise.all(miners.map((m) => m.stop()));
    await v.close();
    (parts.store as S3ObjectStore).close();
  }
}, 120_000);

afterAll(async () => {
  for (const s of stores) s.close();
  await s3?.close();
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

async function audit(prefix: string, window?: number): Promise<{ code: number; lines: string[] }> {
  const lines: string[] = [];
  const code = await auditCommand({ store: spec(prefix), model: MODEL, profile: PROFILE, ...(window !== undefined && { window: String(window) }), out: (l) => lines.push(l), err: (l) => lines.push(l) });
  return { code, lines };
}

const failLines = (lines: readonly string[]): string[] => lines.filter((l) => / FAIL /.test(l)).map((l) => l.replace(/^(window \d+)\s+(\S+)\s+FAIL.*$/, '$1 $2'));

/** Replaces one object for the duration of an audit of window 0, then puts the original back. */
async function tampered(store: ObjectStore, key: string, edit: (text: string) => string): Promise<string[]> {
  const orig = (await store.get(key))!;
  await store.put(key, new TextEncoder().encode(edit(new TextDecoder().decode(orig))));
  try {
    const r = await audit('copy', 0);
    expect(r.code).toBe(1);
    return failLines(r.lines);
  } finally {
    await store.put(key, orig);
  }
}

describe('issue 16 done-when on S3 (local s3rver)', () => {
  it('reliquary audit --store s3://… passes on the run: exit 0, every check ok', async () => {
    const t0 = performance.now();
    const r = await audit('run');
    expect(failLines(r.lines)).toEqual([]);
    expect(r.code).toBe(0);
    expect(r.lines.at(-1)).toMatch(/^audit PASSED: 2 window\(s\)/);
    for (const c of ['bundle-hash', 'miner-signatures', 'proof', 'pi-old', 'train-step', 'checkpoint', 'manifest']) {
      expect(r.lines.some((l) => l.startsWith('window ') && l.includes(c) && l.includes(' ok ')), c).toBe(true); // a window that trained
    }
    console.log(`[s3 e2e] ${r.lines.at(-1)} (wall ${((performance.now() - t0) / 1000).toFixed(1)} s)`);
  }, 60_000);

  it('a tampered copy fails naming window and check: token byte, reward, archive signature, π_old, published weights', async () => {
    const run = open('run');
    const copy = open('copy');
    for (const k of await run.list('')) await copy.put(k, (await run.get(k))!);
    expect((await audit('copy', 0)).code).toBe(0);
    const a = JSON.parse(new TextDecoder().decode((await copy.get(archiveKey(validator, 0)))!)) as WindowArchive;
    const bundle = a.replay!.bundle_key;

    const token = await tampered(copy, bundle, (t) => {
      const b = JSON.parse(t);
      const body = JSON.parse(b.groups[0].body);
      const toks: number[] = body.rollouts[0].tokens;
      toks[toks.length - 2] = toks[toks.length - 2]! ^ 1;
      b.groups[0].body = JSON.stringify(body);
      return JSON.stringify(b);
    });
    expect(token).toEqual(expect.arrayContaining(['window 0 bundle-hash', 'window 0 miner-signatures']));

    const reward = await tampered(copy, bundle, (t) => {
      const b = JSON.parse(t);
      b.groups[0].rewards[0] = 1 - b.groups[0].rewards[0];
      return JSON.stringify(b);
    });
    expect(reward).toEqual(expect.arrayContaining(['window 0 bundle-hash', 'window 0 rewards']));

    const signature = await tampered(copy, archiveKey(validator, 0), (t) => {
      const x = JSON.parse(t);
      const v: string = x.signature.value;
      x.signature.value = v.slice(0, 10) + (v[10] === '0' ? '1' : '0') + v.slice(11);
      return JSON.stringify(x);
    });
    expect(signature).toContain('window 0 archive-signature');

    const piOld = await tampered(copy, bundle, (t) => {
      const b = JSON.parse(t);
      const g = b.groups.find((x: { pi_old: unknown }) => Array.isArray(x.pi_old));
      const bytes = Buffer.from(g.pi_old[0], 'base64');
      bytes[0] = bytes[0]! ^ 1;
      g.pi_old[0] = bytes.toString('base64');
      return JSON.stringify(b);
    });
    expect(piOld).toEqual(expect.arrayContaining(['window 0 bundle-hash', 'window 0 pi-old']));

    // the checkpoint: one flipped byte in the published weights the signed manifest points at
    const m = (await readCustodyManifests(copy, validator))[0]!;
    const file = join(m.repo_id, 'model.safetensors');
    const bytes = await readFile(file);
    bytes[bytes.length - 3] = bytes[bytes.length - 3]! ^ 1;
    await writeFile(file, bytes);
    const r = await audit('copy', m.window!);
    expect(r.code).toBe(1);
    expect(failLines(r.lines)).toEqual([`window ${m.window} checkpoint`]);
  }, 90_000);
});
