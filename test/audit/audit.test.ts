/**
 * `reliquary audit` and the follower validator (issue 16 parts 3–6) on a real devnet's output: a short devnet runs
 * in-process (2 windows, 2 miners, a publish per window), then the audit replays it and passes; copies of its data
 * dir, each with one tampering (token ids, a reward, the archive and a miner signature, the trained batch, the
 * checkpoint), fail with the window and the check that caught it. The follower agrees with the leader on every
 * honest group and flags a group the leader accepted with forged log-probs.
 */
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auditValidator, type AuditResult } from '../../core/audit/audit.ts';
import { putWindowBundle, readWindowBundle, type WindowBundle } from '../../core/audit/bundle.ts';
import { readCustodyManifests, verifyCustody } from '../../core/audit/custody.ts';
import type { ComputeBackend } from '../../core/interfaces/compute.ts';
import { archiveKey, signArchive, verifyArchive, withReplay, type WindowArchive } from '../../core/market/archive.ts';
import { rolloutHash } from '../../core/market/cooldown.ts';
import { loadCheckpoint, type Checkpoint } from '../../core/model/checkpoint.ts';
import { utf8 } from '../../core/protocol/codec.ts';
import { signerFromSeed } from '../../core/protocol/sr25519.ts';
import { DEVNET_CHAR_TOKENIZER } from '../../core/tokenizer/char.ts';
import { follow, formatFollowerReport, verifyFollowerVerdicts, followerVerdictKey, type FollowerVerdictRecord } from '../../core/validator/follower.ts';
import { checkpointRevision } from '../../core/validator/publish.ts';
import { auditCommand } from '../../hosts/node/commands/audit.ts';
import { fastDevnetProfile, runDevnet } from '../../hosts/node/devnet/devnet.ts';
import { nodeCheckpointFs } from '../../hosts/node/fs-checkpoint.ts';
import { createNodeWasmBackend } from '../../kernels/wasm/node.ts';
import { chainLocal } from '../../plugins/chain-local/index.ts';
import { envArith } from '../../plugins/env-arith/index.ts';
import { storeFs, type FsObjectStore } from '../../plugins/store-fs/index.ts';

const MODEL = resolve('models/tiny-arith');
const PROFILE = fastDevnetProfile(6);
const fs = nodeCheckpointFs();
const env = envArith();
let root: string;
let devnet: string;
let leader: string;
let be: ComputeBackend;
let base: Checkpoint;
let baseRevision: string;
let copies = 0;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'reliquary-audit-'));
  devnet = join(root, 'devnet');
  const report = await runDevnet({ windows: 2, miners: 2, dataDir: devnet, modelDir: MODEL, fresh: true, profile: PROFILE });
  leader = report.validator;
  be = await createNodeWasmBackend();
  base = await loadCheckpoint(fs, MODEL);
  baseRevision = await checkpointRevision(fs, MODEL);
}, 180_000);
afterAll(async () => {
  be?.destroy();
  if (root) await rm(root, { recursive: true, force: true });
});

const storeOf = (dir: string): FsObjectStore => storeFs({ dir: join(dir, 'store'), fsync: false });
const decode = (b: Uint8Array): string => new TextDecoder().decode(b);

async function copy(): Promise<string> {
  const dir = join(root, `copy-${copies++}`);
  await cp(devnet, dir, { recursive: true });
  return dir;
}

async function audit(dir: string, range: { from?: number; to?: number } = {}): Promise<AuditResult> {
  const store = storeOf(dir);
  return auditValidator({
    store, chain: chainLocal({ store }), validator: leader, profile: PROFILE, backend: be, base, baseRevision, tokenizer: DEVNET_CHAR_TOKENIZER,
    envs: { [env.name]: env }, checkpointFs: fs, ...range,
  });
}

/** The failed checks as `w:check`. */
const failed = (r: AuditResult): string[] => [...new Set(r.lines.filter((l) => !l.ok).map((l) => `${l.window}:${l.check}`))];

async function readArchive(store: FsObjectStore, w: number): Promise<WindowArchive> {
  return JSON.parse(decode((await store.get(archiveKey(leader, w)))!)) as WindowArchive;
}

/**
 * Rewrites window `w`'s bundle. `resign`: as a lying validator would — at its new content address, the archive's
 * replay block pointed at it and re-signed with the validator key (hash and signature then hold). Else in place:
 * a flipped byte.
 */
async function tamperBundle(dir: string, w: number, mutate: (b: { -readonly [K in keyof WindowBundle]: any }) => void, resign: boolean): Promise<WindowBundle> {
  const store = storeOf(dir);
  const a = await readArchive(store, w);
  const got = (await readWindowBundle(store, a.replay!.bundle_key))!;
  const b = JSON.parse(decode(got.bytes)) as WindowBundle;
  mutate(b as never);
  if (!resign) {
    await store.put(a.replay!.bundle_key, utf8(JSON.stringify(b)));
    return b;
  }
  const put = await putWindowBundle(store, b);
  const signer = signerFromSeed((await store.get('devnet/validator-seed.bin'))!);
  await store.put(archiveKey(leader, w), utf8(JSON.stringify(withReplay(a, { ...a.replay!, bundle_key: put.key, bundle_sha256: put.sha256 }, signer))));
  return b;
}

/** Edits the revealed body of group `g` (a JSON string inside the bundle). */
const editBody = (b: WindowBundle, g: number, edit: (body: any) => void): void => {
  const body = JSON.parse(b.groups[g]!.body);
  edit(body);
  (b.groups[g] as { body: string }).body = JSON.stringify(body);
};

describe('replayable archives', () => {
  it('each completed window has a signed replay block, a content-addressed bundle and a custody manifest chained to the base model', async () => {
    const store = storeOf(devnet);
    const manifests = await readCustodyManifests(store, leader);
    // a publish per trained window (a window whose accumulator did not fill, e.g. on a loaded machine, trains nothing)
    expect(manifests.length).toBeGreaterThanOrEqual(1);
    expect(manifests.map((m) => m.checkpoint_n)).toEqual(manifests.map((_, i) => i + 1));
    manifests.forEach((m, i) => expect(m.custody!.parent_revision).toBe(i === 0 ? baseRevision : manifests[i - 1]!.revision));
    for (const m of manifests) expect(verifyCustody(m, leader)).toBeNull();
    for (const w of [0, 1]) {
      const a = await readArchive(store, w);
      expect(verifyArchive(a, leader)).toEqual({ ok: true });
      const got = (await readWindowBundle(store, a.replay!.bundle_key))!;
      expect(got.sha256).toBe(a.replay!.bundle_sha256);
      expect(got.bundle!.groups.length).toBeGreaterThan(0);
      const m = manifests.find((x) => x.window === w);
      expect(a.replay!.result_revision).toBe(m?.revision ?? null);
      if (!m) continue;
      expect(got.bundle!.batch).not.toBeNull();
      expect(got.bundle!.train!.hyperparameters).toEqual(PROFILE.grpo);
      expect(m.custody!.bundles).toEqual([{ window: w, sha256: a.replay!.bundle_sha256 }]);
    }
  });
});

describe('reliquary audit', () => {
  it('passes on the devnet output (exit 0, every check ok), and the CLI names window and check on a tampered copy (exit 1)', async () => {
    const lines: string[] = [];
    const code = await auditCommand({ store: `fs:${devnet}`, model: MODEL, profile: PROFILE, out: (s) => lines.push(s), err: (s) => lines.push(s) });
    expect(lines.filter((l) => l.includes('FAIL'))).toEqual([]);
    expect(code).toBe(0);
    for (const c of ['archive-signature', 'bundle-hash', 'miner-signatures', 'registration', 'rewards', 'proof', 'pi-old', 'batch', 'train-step', 'checkpoint', 'manifest']) {
      expect(lines.some((l) => l.startsWith('window ') && l.includes(c) && l.includes(' ok ')), c).toBe(true);
    }
    expect(lines.at(-1)).toMatch(/^audit PASSED: 2 window\(s\).* s\/window$/);

    const dir = await copy();
    await tamperBundle(dir, 0, (b) => editBody(b, 0, (body) => (body.rollouts[0].tokens[body.rollouts[0].tokens.length - 2] ^= 1)), false);
    const bad: string[] = [];
    expect(await auditCommand({ store: `fs:${dir}`, model: MODEL, profile: PROFILE, window: '0', out: () => {}, err: (s) => bad.push(s) })).toBe(1);
    expect(bad.some((l) => /^window 0 {2}bundle-hash +FAIL/.test(l))).toBe(true);
    expect(bad.some((l) => /^window 0 {2}miner-signatures +FAIL/.test(l))).toBe(true);
  }, 60_000);

  it('usage errors are one line, exit 2', async () => {
    const err: string[] = [];
    expect(await auditCommand({ store: 'ftp://x', model: MODEL, err: (s) => err.push(s), out: () => {} })).toBe(2);
    expect(err).toHaveLength(1);
    expect(err[0]).toMatch(/^audit: --store ftp:\/\/x: expected fs:DIR or s3:/);
    err.length = 0;
    expect(await auditCommand({ store: `fs:${devnet}`, model: MODEL, piOldTolerance: 'loose', err: (s) => err.push(s), out: () => {} })).toBe(2);
    expect(err).toEqual(['audit: --pi-old-tolerance loose: expected exact, profile or a non-negative number']);
  });

  it('a flipped token id (re-signed by a lying validator): miner signatures and token hashes fail', async () => {
    const dir = await copy();
    await tamperBundle(dir, 0, (b) => editBody(b, 1, (body) => (body.rollouts[2].tokens[body.rollouts[2].tokens.length - 2] ^= 1)), true);
    const r = await audit(dir, { to: 0 });
    expect(failed(r)).toContain('0:miner-signatures');
    expect(failed(r)).not.toContain('0:bundle-hash');
  }, 30_000);

  it('a flipped reward: the re-graded rewards and the batch check fail (and the bundle hash, in place)', async () => {
    const dir = await copy();
    await tamperBundle(dir, 0, (b) => {
      // a trained group: one whose first rollout is in the batch
      const trained = new Set(b.batch.envs.flatMap((e: any) => e.groups.flatMap((g: any) => g.map((r: any) => rolloutHash(r.tokens)))));
      const g = b.groups.find((x: any) => trained.has(x.rollout_hashes[0]));
      g.rewards[0] = 1 - g.rewards[0];
    }, false);
    const r = await audit(dir, { to: 0 });
    expect(failed(r)).toEqual(expect.arrayContaining(['0:bundle-hash', '0:rewards', '0:batch']));
  }, 30_000);

  it('a flipped archive signature and a flipped miner envelope signature', async () => {
    const dir = await copy();
    const store = storeOf(dir);
    await tamperBundle(dir, 0, (b) => editBody(b, 0, (body) => (body.envelope_signature = body.envelope_signature.slice(0, -1) + (body.envelope_signature.endsWith('0') ? '1' : '0'))), true);
    let r = await audit(dir, { to: 0 });
    expect(failed(r)).toContain('0:miner-signatures');
    expect(failed(r)).not.toContain('0:archive-signature');
    expect(r.lines.find((l) => l.check === 'miner-signatures')!.detail).toMatch(/bad_envelope_signature/i);
    const a = await readArchive(store, 0);
    const v = a.signature!.value;
    await store.put(archiveKey(leader, 0), utf8(JSON.stringify({ ...a, signature: { ...a.signature!, value: v.slice(0, 10) + (v[10] === '0' ? '1' : '0') + v.slice(11) } })));
    r = await audit(dir, { to: 0 });
    expect(failed(r)).toContain('0:archive-signature');
  }, 30_000);

  it('a trained batch that is not what was signed: batch and the replayed step fail', async () => {
    const dir = await copy();
    await tamperBundle(dir, 0, (b) => (b.batch.envs[0].groups[0][0].reward = 1 - b.batch.envs[0].groups[0][0].reward), true);
    const r = await audit(dir, { to: 0 });
    expect(failed(r)).toEqual(expect.arrayContaining(['0:batch', '0:train-step']));
    expect(failed(r)).not.toContain('0:bundle-hash');
  }, 30_000);

  it('the recomputed π_old is in the bundle (proved groups, f32 bytes) and is what the batch trained with', async () => {
    const store = storeOf(devnet);
    const a = await readArchive(store, 0);
    const b = (await readWindowBundle(store, a.replay!.bundle_key))!.bundle!;
    const proved = new Set(Object.values(a.difficulty_auction).flatMap((x) => x.candidates).filter((c) => c.proof_attempted).map((c) => c.id));
    expect(proved.size).toBeGreaterThan(0);
    for (const g of b.groups) {
      if (!proved.has(g.id)) continue;
      const body = JSON.parse(g.body);
      expect(g.pi_old).toHaveLength(body.rollouts.length);
      for (const [m, ro] of body.rollouts.entries()) expect(Buffer.from(g.pi_old![m]!, 'base64').length).toBe(4 * (ro.tokens.length - ro.commit.rollout.prompt_length));
    }
    const byHash = new Map(b.groups.map((g) => [g.rollout_hashes.join(','), g]));
    const trained = b.batch!.envs.flatMap((e) => e.groups);
    expect(trained.length).toBeGreaterThan(0);
    for (const g of trained) expect(g.map((r) => r.piOld)).toEqual(byHash.get(g.map((r) => rolloutHash(r.tokens)).join(','))?.pi_old);
  });

  it('a flipped byte in the stored π_old: the pi-old check names group, rollout and token (in place: the bundle hash too)', async () => {
    const flip = (s: string, at: number): string => {
      const bytes = Buffer.from(s, 'base64');
      bytes[at] = bytes[at]! ^ 0x01;
      return bytes.toString('base64');
    };
    let id = '';
    let m = -1;
    const a = await readArchive(storeOf(devnet), 0);
    const proved = new Set(Object.values(a.difficulty_auction).flatMap((x) => x.candidates).filter((c) => c.proof_attempted).map((c) => c.id));
    const mutate = (b: any): void => {
      // A proved group's rollout with ≥ 3 completion tokens (arithmetic answers can be shorter): flipping byte 8 of a
      // shorter one would write past its end and change nothing. (A forensic pick also carries π_old; its line says
      // "forensic", see the next test.)
      const g = b.groups.find((x: any) => proved.has(x.id) && Array.isArray(x.pi_old) && x.pi_old.some((p: string) => Buffer.from(p, 'base64').length >= 12));
      id = g.id;
      m = g.pi_old.findIndex((p: string) => Buffer.from(p, 'base64').length >= 12);
      g.pi_old[m] = flip(g.pi_old[m], 8); // token 2, lowest mantissa byte
    };
    let dir = await copy();
    await tamperBundle(dir, 0, mutate, true);
    let r = await audit(dir, { to: 0 });
    expect(failed(r)).toContain('0:pi-old');
    expect(failed(r)).not.toContain('0:bundle-hash');
    expect(r.lines.find((l) => l.check === 'pi-old')!.detail).toMatch(new RegExp(`group ${id.slice(0, 10)} rollout ${m}: token 2: stored .*, recomputed .* \\(bitwise\\)`));
    dir = await copy();
    await tamperBundle(dir, 0, mutate, false);
    r = await audit(dir, { to: 0 });
    expect(failed(r)).toEqual(expect.arrayContaining(['0:bundle-hash', '0:pi-old']));

    // the batch's copy (what the step trained with): the batch check and the replayed step
    dir = await copy();
    await tamperBundle(dir, 0, (b: any) => {
      const ro = b.batch.envs[0].groups[0][0];
      ro.piOld = flip(ro.piOld, 4 * (ro.tokens.length - ro.promptLen) - 1); // the last token's sign/exponent byte
    }, true);
    r = await audit(dir, { to: 0 });
    expect(failed(r)).toEqual(expect.arrayContaining(['0:batch', '0:train-step']));
    expect(r.lines.find((l) => l.check === 'batch')!.detail).toMatch(/trained π_old is not the group's recomputed π_old/);
  }, 40_000);

  it('forensic proofs are re-proved: a forensic verdict the leader archived falsely fails the proof check', async () => {
    const dir = await copy();
    const store = storeOf(dir);
    const a = await readArchive(store, 0);
    const [env, auction] = Object.entries(a.difficulty_auction)[0]!;
    const c = auction.candidates.find((x) => x.proof_attempted && x.proof_passed)!;
    const lie = { id: c.id, rank: c.rank, hotkey: c.hotkey, pick: 'seal_hash', passed: false, reason: 'LOGPROB_MISMATCH', error: null };
    const { signature: _s, ...body } = a;
    const forged = { ...body, difficulty_auction: { ...a.difficulty_auction, [env]: { ...auction, forensics: [...auction.forensics, lie] } } };
    await store.put(archiveKey(leader, 0), utf8(JSON.stringify(signArchive(forged as WindowArchive, signerFromSeed((await store.get('devnet/validator-seed.bin'))!)))));
    const r = await audit(dir, { to: 0 });
    expect(failed(r)).toContain('0:proof');
    expect(r.lines.find((l) => l.check === 'proof' && !l.ok)!.detail).toMatch(new RegExp(`forensic ${c.id.slice(0, 10)} .*archived fail, re-proved pass`));
    expect(r.lines.find((l) => l.window === 0 && l.check === 'pi-old')!.ok).toBe(true);
  }, 30_000);

  it('a signed bundle of hostile shape fails its window (bundle-header), the audit runs to the end', async () => {
    const dir = await copy();
    await tamperBundle(dir, 0, (b) => (b.groups = { length: 3 }), true);
    const r = await audit(dir);
    expect(r.lines.find((l) => l.window === 0 && l.check === 'bundle-header' && !l.ok)).toMatchObject({ detail: expect.stringMatching(/do not have the shapes the audit reads/) });
    expect(r.lines.some((l) => l.window === 1)).toBe(true);
  }, 40_000);

  it('a checkpoint that is not the replay: a lying result revision and a flipped byte in the published weights', async () => {
    const dir = await copy();
    const store = storeOf(dir);
    const a = await readArchive(store, 0);
    const signer = signerFromSeed((await store.get('devnet/validator-seed.bin'))!);
    await store.put(archiveKey(leader, 0), utf8(JSON.stringify(withReplay(a, { ...a.replay!, result_revision: 'f'.repeat(40) }, signer))));
    let r = await audit(dir, { to: 0 });
    expect(failed(r)).toContain('0:checkpoint');

    // The published files are where the signed manifest says (the original devnet's): flip one byte there, last.
    const m = (await readCustodyManifests(storeOf(devnet), leader))[0]!;
    const file = join(m.repo_id, 'model.safetensors');
    const bytes = await readFile(file);
    const at = bytes.length - 3;
    bytes[at] = bytes[at]! ^ 0x01;
    await writeFile(file, bytes);
    try {
      r = await audit(devnet, { to: 0 });
    } finally {
      bytes[at] = bytes[at]! ^ 0x01;
      await writeFile(file, bytes);
    }
    const line = r.lines.find((l) => !l.ok)!;
    expect(line).toMatchObject({ window: 0, check: 'checkpoint' });
    expect(line.detail).toMatch(/published weights file .* hashes to/);
  }, 30_000);
});

describe('follower validator', () => {
  const followerKey = signerFromSeed(new Uint8Array(32).fill(7));

  it('agrees with an honest leader on 100 % of groups and publishes signed verdicts', async () => {
    const store = storeOf(devnet);
    const f = await follow({ store, chain: chainLocal({ store }), validator: leader, profile: PROFILE, backend: be, base, baseRevision, tokenizer: DEVNET_CHAR_TOKENIZER, envs: { [env.name]: env }, signer: followerKey, publishTo: store });
    expect(f.auditOk).toBe(true);
    expect(f.windows.map((w) => w.window)).toEqual([0, 1]);
    expect(f.agreement).toBe(1);
    for (const w of f.windows) {
      expect(w.groups).toBeGreaterThan(0);
      expect(w.flagged).toEqual([]);
      expect(w.spread).toBe(0);
    }
    const rec = JSON.parse(decode((await store.get(followerVerdictKey(followerKey.ss58, leader, 0)))!)) as FollowerVerdictRecord;
    expect(verifyFollowerVerdicts(rec)).toBe(true);
    expect(verifyFollowerVerdicts({ ...rec, window: 5 })).toBe(false);
    expect(formatFollowerReport(f)).toMatch(/agreement 100\.0 %/);
  }, 30_000);

  it('flags a group the leader accepted with forged log-probs (the leader re-signed its archive)', async () => {
    const dir = await copy();
    // forge a group the leader paid (in a fill-closed window the first journaled group need not be one of them)
    const paid = new Set((await readArchive(storeOf(dir), 0)).batch.map((e) => e.extra?.['merkle_root']));
    let k = -1;
    const b = await tamperBundle(dir, 0, (b) => {
      k = (b.groups as WindowBundle['groups']).findIndex((g) => paid.has(g.merkle_root));
      editBody(b, k, (body) => {
        const lp: number[] = body.rollouts[0].commit.rollout.token_logprobs;
        for (let i = 0; i < lp.length; i++) if (lp[i] !== 0) lp[i] = lp[i]! - 2;
      });
    }, true);
    expect(k).toBeGreaterThanOrEqual(0);
    const store = storeOf(dir);
    const f = await follow({ store, chain: chainLocal({ store }), validator: leader, profile: PROFILE, backend: be, base, baseRevision, tokenizer: DEVNET_CHAR_TOKENIZER, envs: { [env.name]: env }, signer: followerKey, to: 0 });
    const w0 = f.windows[0]!;
    expect(w0.flagged.map((g) => g.id)).toEqual([b.groups[k]!.id]);
    expect(w0.flagged[0]).toMatchObject({ leader: true, replayed: false });
    expect(w0.agreement).toBeLessThan(1);
    expect(w0.spread).toBeGreaterThan(0);
    expect(w0.failedChecks).toContain('proof');
    expect(formatFollowerReport(f)).toMatch(/flagged .* leader accepted, follower rejected/);
  }, 30_000);
});
