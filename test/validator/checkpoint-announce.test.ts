/**
 * The checkpoint hash is always announced (core/validator/publish.ts): before the first publish the validator
 * announces the base checkpoint (checkpoint_n 0, revision = sha256 of its model.safetensors, the same function a
 * publish uses), so the window pins it, admission's WRONG_CHECKPOINT check is on from window 0 and miners key their
 * forced-seed stream by it.
 */
import { readFile, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { hex } from '../../core/protocol/codec.ts';
import { sha256 } from '../../core/protocol/hash.ts';
import { Reason } from '../../core/protocol/reasons.ts';
import { signerFromSeed } from '../../core/protocol/sr25519.ts';
import { checkpointRevision } from '../../core/validator/publish.ts';
import { fastDevnetProfile } from '../../hosts/node/devnet/devnet.ts';
import { nodeCheckpointFs } from '../../hosts/node/fs-checkpoint.ts';
import { startValidator } from '../../hosts/node/devnet/validator-host.ts';
import { envArith } from '../../plugins/env-arith/index.ts';
import { httpClient } from '../../plugins/transport-http/index.ts';
import { signPrecommit } from '../market/market-fixture.ts';

const MODEL = resolve('models/tiny-arith');
const dirs: string[] = [];
afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

describe('the base checkpoint is announced before the first publish', () => {
  it('checkpoint_n 0 with the revision of the base weights, pinned by window 0 and enforced at the precommit', async () => {
    const base = hex(sha256(await readFile(join(MODEL, 'model.safetensors')))).slice(0, 40);
    expect(await checkpointRevision(nodeCheckpointFs(), MODEL)).toBe(base);
    const dataDir = await mkdtemp(join(tmpdir(), 'reliquary-announce-'));
    dirs.push(dataDir);
    const profile = fastDevnetProfile(30, 2);
    const v = await startValidator({ profile, env: envArith(), dataDir, modelDir: MODEL });
    const miner = signerFromSeed(sha256(new TextEncoder().encode('announce miner')));
    await v.chain.register(miner.ss58, signerFromSeed(sha256(new TextEncoder().encode('announce operator'))).ss58);
    const run = v.runWindow().catch((e: unknown) => e);
    try {
      expect(v.validator.checkpoint()).toMatchObject({ checkpoint_n: 0, revision: base, repo_id: MODEL });
      while (v.validator.window.phase !== 'open') await new Promise((r) => setTimeout(r, 20));
      const state = await httpClient({ baseUrl: v.url, profile }).state();
      expect(state).toMatchObject({ window_n: 0, checkpoint_n: 0, checkpoint_revision: base });
      expect(v.validator.currentBook!.ctx.checkpointRevision).toBe(base);
      const now = Date.now() / 1000;
      const open = { window_start: 0, drand_round: v.beacon.roundAt(now) };
      const wrong = v.validator.precommit(signPrecommit(miner, { ...open, checkpoint_hash: '' }, profile, v.validator.window.randomness), now);
      expect(wrong).toMatchObject({ ok: false, rejection: { reason: Reason.WRONG_CHECKPOINT } });
      const right = v.validator.precommit(signPrecommit(miner, { ...open, checkpoint_hash: base }, profile, v.validator.window.randomness), now);
      expect(right.ok ? null : right.rejection.reason).not.toBe(Reason.WRONG_CHECKPOINT);
    } finally {
      await v.close();
      expect(String(await run)).toMatch(/killed during window 0/);
    }
  }, 60_000);
});
