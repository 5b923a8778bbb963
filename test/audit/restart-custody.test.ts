/**
 * Custody across a restart (issue 16): the manifest a validator announces after a restart carries the custody block
 * back to the base model, like the one announced at the publish. The node is stopped mid-run after a publish, its
 * custody record of that checkpoint removed (as a crash between the publish and the record would leave the store),
 * restarted on the same data directory and run on; the announced manifest verifies with its custody, and
 * `reliquary audit` over the whole run passes, the manifest chain included.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { manifestRecordKey, readCustodyManifests, verifyCustody, type CustodyManifest } from '../../core/audit/custody.ts';
import { signerFromSeed } from '../../core/protocol/sr25519.ts';
import { auditCommand } from '../../hosts/node/commands/audit.ts';
import { fastDevnetProfile } from '../../hosts/node/devnet/devnet.ts';
import { startMiner, type MinerHost } from '../../hosts/node/devnet/miner-host.ts';
import { startValidator, type ValidatorHost } from '../../hosts/node/devnet/validator-host.ts';
import { envArith } from '../../plugins/env-arith/index.ts';

const MODEL = resolve('models/tiny-arith');
const PROFILE = fastDevnetProfile(6, 2);
let dataDir = '';
afterAll(async () => {
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

describe('custody after a restart', () => {
  it('the manifest announced at restart carries its custody block, and the audit of the restarted run passes', async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'reliquary-restart-custody-'));
    const env = envArith();
    const start = (port = 0): Promise<ValidatorHost> => startValidator({ profile: PROFILE, env, dataDir, modelDir: MODEL, port });
    let v = await start();
    const port = Number(new URL(v.url).port);
    const miners: MinerHost[] = [];
    for (const i of [0, 1]) {
      const s = signerFromSeed(crypto.getRandomValues(new Uint8Array(32)));
      await v.chain.register(s.ss58, signerFromSeed(crypto.getRandomValues(new Uint8Array(32))).ss58);
      miners.push(await startMiner({ name: `m${i}`, profile: PROFILE, env, baseUrl: v.url, signer: s, selector: 'uniform', modelDir: MODEL, checkpointN: 0, groupsPerWindow: 6 }));
    }
    for (const m of miners) m.start();
    let announced: CustodyManifest | null = null;
    try {
      for (let k = 0; k < 6 && v.node.checkpoint.checkpointN === 0; k++) await v.runWindow();
      const n = v.node.checkpoint.checkpointN;
      expect(n).toBeGreaterThan(0);
      expect(verifyCustody(v.validator.checkpoint() as CustodyManifest, v.hotkey)).toBeNull();
      // the store as a crash between the publish and its custody record leaves it
      await v.store.delete!(manifestRecordKey(v.hotkey, n));
      await v.close();
      v = await start(port);
      announced = v.validator.checkpoint() as CustodyManifest;
      expect(announced.checkpoint_n).toBe(n);
      expect(verifyCustody(announced, v.hotkey)).toBeNull();
      expect((await readCustodyManifests(v.store, v.hotkey)).map((m) => m.checkpoint_n)).toContain(n);
      for (let k = 0; k < 6 && v.node.checkpoint.checkpointN === n; k++) await v.runWindow(); // one more publish after the restart
      expect(v.node.checkpoint.checkpointN).toBe(n + 1);
    } finally {
      await Promise.all(miners.map((m) => m.stop()));
      await v.close();
    }
    const manifests = await readCustodyManifests(v.store, v.hotkey);
    expect(manifests.map((m) => m.checkpoint_n)).toEqual(manifests.map((_, i) => i + 1));
    expect(manifests.at(-1)!.custody!.parent_revision).toBe(announced!.revision);
    const lines: string[] = [];
    const code = await auditCommand({ store: `fs:${dataDir}`, model: MODEL, profile: PROFILE, out: (s) => lines.push(s), err: (s) => lines.push(s) });
    expect(lines.filter((l) => l.includes('FAIL'))).toEqual([]);
    expect(lines.filter((l) => / manifest +ok /.test(l))).toHaveLength(manifests.length);
    expect(code).toBe(0);
  }, 240_000);
});
