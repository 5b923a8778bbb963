/**
 * The miner in a browser tab (served at `/miner`): the same `createMiner` of core/miner, env-arith, selector-uniform
 * and transport-http client as the Node miner (hosts/node/devnet/miner-host.ts); this file only wires the page's I/O
 * into them — `fetch`, IndexedDB keys (key.ts), the checkpoint over HTTP with its revision checked (checkpoint.ts),
 * WebGPU or the WASM fallback (backend.ts: threaded on a cross-origin-isolated page; `?backend=wasm` skips WebGPU,
 * `?threads=N` sets the WASM thread count, 1 for the single-thread kernels) — and shows what it is doing.
 *
 * Selector: selector-frontier (as the devnet's first Node miner), or selector-uniform with `?selector=uniform`.
 * The page registers its hotkey on the validator's local chain (`POST /node/register`, signed by the hotkey; the node
 * routes of hosts/node/nodes/node-routes.ts), then mines every window. `window.__miner` exposes the live status to tests (backend, submitted, accepted, verdicts).
 */
import { createMiner, MinerStopError, modelGenerator, type MinerEvent } from '../../../core/miner/index.ts';
import { disposeQwen3Weights } from '../../../core/model/weights.ts';
import type { Qwen3Model } from '../../../core/model/forward.ts';
import type { Profile } from '../../../core/profile/index.ts';
import { DEVNET_CHAR_TOKENIZER } from '../../../core/tokenizer/char.ts';
import type { Selector } from '../../../core/interfaces/selector.ts';
import { arithDifficultyPrior, arithPromptBucket, envArith } from '../../../plugins/env-arith/index.ts';
import { selectorFrontier } from '../../../plugins/selector-frontier/index.ts';
import { selectorUniform } from '../../../plugins/selector-uniform/index.ts';
import { httpClient } from '../../../plugins/transport-http/http-client.ts';
import { fromTaggedJson } from '../profile-json.ts';
import { registerPage, validatorInfo } from '../register.ts';
import { pickBackend } from './backend.ts';
import { CheckpointRefused, fetchManifest, loadVerifiedModel } from './checkpoint.ts';
import { pageKeys } from './key.ts';

/** What the page shows (and tests read through `window.__miner`). */
interface MinerStatus {
  phase: string;
  backend: string;
  backendDetail: string;
  hotkey: string;
  uid: number | null;
  checkpointN: number | null;
  revision: string | null;
  window: number | null;
  tokensPerSecond: number | null;
  submitted: number;
  accepted: number;
  rewarded: number;
  rejected: Record<string, number>;
  earned: number;
  verdicts: { ts: number; window: number | null; accepted: boolean; reason: string; root: string }[];
  log: string[];
  error: string | null;
}

const status: MinerStatus = {
  phase: 'starting', backend: '-', backendDetail: '', hotkey: '-', uid: null, checkpointN: null, revision: null, window: null,
  tokensPerSecond: null, submitted: 0, accepted: 0, rewarded: 0, rejected: {}, earned: 0, verdicts: [], log: [], error: null,
};
(window as unknown as { __miner: MinerStatus }).__miner = status;

const $ = (id: string): HTMLElement => document.getElementById(id)!;
const esc = (s: string): string => s.replace(/[&<>"]/g, (c) => `&#${c.charCodeAt(0)};`);

function render(): void {
  $('phase').textContent = status.phase;
  $('backend').textContent = status.backend;
  $('backend-detail').textContent = status.backendDetail;
  $('hotkey').textContent = status.hotkey;
  $('uid').textContent = status.uid === null ? '-' : String(status.uid);
  $('checkpoint').textContent = status.checkpointN === null ? '-' : `#${status.checkpointN} (${status.revision?.slice(0, 12)}…)`;
  $('window').textContent = status.window === null ? '-' : String(status.window);
  $('tps').textContent = status.tokensPerSecond === null ? '-' : status.tokensPerSecond.toFixed(1);
  $('submitted').textContent = String(status.submitted);
  $('accepted').textContent = String(status.accepted);
  $('rewarded').textContent = String(status.rewarded);
  $('earned').textContent = status.earned.toFixed(4);
  const rej = Object.entries(status.rejected);
  $('rejected').textContent = rej.length ? rej.map(([r, n]) => `${r} ×${n}`).join(', ') : 'none';
  $('error').textContent = status.error ?? '';
  $('verdicts').innerHTML = status.verdicts.length
    ? status.verdicts.slice(-20).reverse().map((v) => `<tr><td>${v.window ?? '-'}</td><td class="mono">${esc(v.root.slice(0, 12))}…</td><td class="${v.accepted ? 'ok' : 'bad'}">${esc(v.reason)}</td></tr>`).join('')
    : '<tr><td colspan="3" class="empty">No verdict yet: they arrive as the validator judges each group.</td></tr>';
  $('log').textContent = status.log.slice(-12).join('\n');
}

function log(line: string): void {
  status.log.push(`${new Date().toISOString().slice(11, 19)} ${line}`);
  if (status.log.length > 200) status.log.splice(0, status.log.length - 200);
  render();
}

const sleep = (s: number): Promise<void> => new Promise((r) => setTimeout(r, Math.max(0, s * 1000)));

/** The current checkpoint, checked (retried while a publish races the download). */
async function loadCurrent(be: Parameters<typeof loadVerifiedModel>[0], validatorHotkey: string, expectedN?: number): Promise<{ model: Qwen3Model; n: number; revision: string }> {
  for (let attempt = 0; ; attempt++) {
    const m = await fetchManifest();
    try {
      const model = await loadVerifiedModel(be, m, validatorHotkey, expectedN);
      return { model, n: m!.checkpoint_n, revision: m!.revision };
    } catch (e) {
      if (!(e instanceof CheckpointRefused) || attempt >= 10) throw e;
      log(`checkpoint refused (${e.reason}: ${e.message}); fetching again`);
      await sleep(0.5);
    }
  }
}

async function main(): Promise<void> {
  const params = new URLSearchParams(location.search);
  const configText = await (await fetch('/miner/config.json', { cache: 'no-store' })).text();
  const config = fromTaggedJson<{ env: string; profile: Profile }>(configText);
  const profile = config.profile;
  const env = envArith();
  if (env.name !== config.env) throw new Error(`the validator mines '${config.env}'; this page mines '${env.name}'`);

  const { hotkey, coldkey } = await pageKeys();
  status.hotkey = hotkey.ss58;
  const validator = await validatorInfo();
  status.uid = await registerPage(hotkey, coldkey.ss58);
  log(`registered ${hotkey.ss58} as uid ${status.uid} (validator ${validator.hotkey})`);

  const picked = await pickBackend({
    allowWebGPU: params.get('backend') !== 'wasm', wasmUrl: '/assets/kernels.wasm', threadsWasmUrl: '/assets/kernels-threads.wasm',
    threadsParam: params.get('threads'),
  });
  status.backend = picked.kind;
  status.backendDetail = picked.detail;
  log(`backend: ${picked.kind} (${picked.detail})`);
  const be = picked.backend;

  status.phase = 'loading checkpoint';
  render();
  let current = await loadCurrent(be, validator.hotkey);
  status.checkpointN = current.n;
  status.revision = current.revision;
  log(`checkpoint ${current.n} loaded (${current.revision.slice(0, 12)}…: signed manifest, weights hash verified)`);

  // selector-frontier as the devnet's first Node miner runs it (hosts/node/devnet/miner-host.ts); ?selector=uniform
  const selector: Selector = params.get('selector') === 'uniform'
    ? selectorUniform({ seed: hotkey.ss58 })
    : selectorFrontier({
      seed: hotkey.ss58, hotkey: hotkey.ss58, sigmaFloor: profile.zone.sigmaMin, groupSize: profile.sampling.rollouts,
      bucket: arithPromptBucket, evidenceCarry: 0.8, objective: 'zone', bucketHint: arithDifficultyPrior,
    });
  log(`selector: ${params.get('selector') === 'uniform' ? 'uniform' : 'frontier'}`);
  let genStart = 0;
  const onEvent = async (e: MinerEvent): Promise<void> => {
    if (e.kind === 'checkpoint') {
      status.phase = 'loading checkpoint';
      render();
      const next = await loadCurrent(be, validator.hotkey, e.checkpointN);
      disposeQwen3Weights(be, current.model.weights);
      current = next;
      status.checkpointN = next.n;
      status.revision = next.revision;
      log(`reloaded checkpoint ${next.n} (${next.revision.slice(0, 12)}…: signed manifest, weights hash verified)`);
    } else if (e.kind === 'window') {
      status.window = e.window;
      status.phase = `mining window ${e.window} (${e.picks.length} picks)`;
      log(status.phase);
    } else if (e.kind === 'group') {
      const g = e.group;
      log(`group prompt ${g.promptIdx}: ${g.status}${g.reason ? ` (${g.reason})` : ''}`);
    } else if (e.kind === 'verdict') {
      const v = e.verdict;
      status.verdicts.push({ ts: v.ts, window: v.window_n ?? null, accepted: v.accepted, reason: v.reason, root: v.merkle_root });
    } else if (e.kind === 'error') {
      log(`error: ${e.error instanceof Error ? e.error.message : String(e.error)}`);
    }
    refreshStats();
  };

  const miner = createMiner({
    profile,
    transport: httpClient({ baseUrl: location.origin, profile }),
    signer: hotkey,
    selector,
    environments: [env],
    tokenizer: DEVNET_CHAR_TOKENIZER,
    generate: modelGenerator(() => current.model, profile, (p) => {
      if (p.step <= 1) genStart = performance.now();
      const s = (performance.now() - genStart) / 1000;
      if (p.phase === 'done' && s > 0) {
        status.tokensPerSecond = p.generated / s;
        render();
      }
    }),
    clock: () => Date.now() / 1000,
    sleep,
    random: (n) => crypto.getRandomValues(new Uint8Array(n)),
    onEvent,
  }, { checkpointN: current.n, pollSeconds: 0.25 });
  const windows: number[] = [];

  function refreshStats(): void {
    let submitted = 0, accepted = 0, rewarded = 0;
    const rejected: Record<string, number> = {};
    for (const w of new Set([...windows, ...(status.window === null ? [] : [status.window])])) {
      const s = miner.windowStats(w);
      if (!s) continue;
      submitted += s.submitted;
      accepted += s.accepted;
      rewarded += s.rewarded;
      for (const [r, n] of Object.entries(s.rejected)) rejected[r] = (rejected[r] ?? 0) + n;
    }
    Object.assign(status, { submitted, accepted, rewarded, rejected });
    render();
  }

  // Earnings: this hotkey's emission shares in the validator's public window reports.
  setInterval(async () => {
    try {
      const d = (await (await fetch('/dashboard.json', { cache: 'no-store' })).json()) as { windows: { payouts: Record<string, number> }[] };
      status.earned = d.windows.reduce((a, w) => a + (w.payouts[hotkey.ss58] ?? 0), 0);
      refreshStats();
    } catch {}
  }, 2000);

  status.phase = 'waiting for a window';
  render();
  for (;;) {
    try {
      const s = await miner.runWindow();
      if (!windows.includes(s.window)) windows.push(s.window);
      refreshStats();
      status.phase = `window ${s.window} mined; waiting for the next`;
      render();
    } catch (e) {
      if (e instanceof MinerStopError) {
        status.phase = 'stopped';
        status.error = e.message;
        render();
        return;
      }
      log(`error: ${e instanceof Error ? e.message : String(e)}`);
      await sleep(0.5);
    }
  }
}

main().catch((e) => {
  status.phase = 'failed';
  status.error = e instanceof Error ? `${e.message}` : String(e);
  render();
});
