/**
 * The signed chain of custody of published checkpoints (issue 16 part 4): each manifest signs its revision, its
 * parent's revision and the digests of the window bundles trained since the parent, so a checkpoint can be followed
 * back, step by step, to the base model.
 *
 * Layout (a superset of the announced manifest, whose `signature` stays over ASCII `"<n>|<revision>"`):
 *
 *   custody.signature = sr25519 by the validator hotkey over ASCII
 *     "<n>|<revision>|custody-v1|<parent_revision>|<parent_n>|<w1>:<sha1>,<w2>:<sha2>,…"
 *     followed, when the manifest carries its held-out benchmark against the parent (core/validator/benchmark.ts), by
 *     "|benchmark|<benchmark_sha256>": sha256 hex of the benchmark's canonical JSON (core/protocol/pyjson.ts dumpsPy,
 *     sort_keys and compact separators, as the protocol's other hashed JSON), so the pass@1 figures a manifest
 *     announces are signed too
 *   (bundles in window order; the message starts with the plain manifest's message, so a verifier of the old
 *   signature reads the same prefix). Each signed manifest is also kept at `reliquary/<validator>/manifests/ckpt-<n>.json`.
 *
 * @example
 *   const custody = custodyBlock(pub, parent, bundles, signer);  // into manifestOf(pub, signer, custody)
 *   await restoredCustody(store, signer, current, keys.index, base, manifestOf(current, signer)); // after a restart
 *   verifyCustody(manifest, validatorSs58);                       // true | reason
 */
import type { ObjectStore } from '../interfaces/store.ts';
import { getJson, putJson } from '../interfaces/store.ts';
import type { CheckpointManifest } from '../interfaces/transport.ts';
import { hex, utf8 } from '../protocol/codec.ts';
import { sha256 } from '../protocol/hash.ts';
import { dumpsPy } from '../protocol/pyjson.ts';
import { verifySignature, type Signer } from '../protocol/sr25519.ts';
import type { CheckpointBenchmark } from '../validator/benchmark.ts';
import type { PublishedCheckpoint } from '../validator/report.ts';
import { bundlePrefix, parseBundleKey, readWindowBundle } from './bundle.ts';

/** The custody block of a manifest. */
export interface CustodyBlock {
  readonly parent_revision: string;
  readonly parent_checkpoint_n: number;
  /** The bundles of the windows trained since the parent, in window order. */
  readonly bundles: readonly { readonly window: number; readonly sha256: string }[];
  /** sha256 hex of the canonical JSON of the manifest's `benchmark`, when it has one (signed with the rest). */
  readonly benchmark_sha256?: string;
  readonly signature: string;
}

/** A manifest with its custody block (the announced manifest's fields unchanged). */
export type CustodyManifest = CheckpointManifest & { readonly window?: number | null; readonly custody?: CustodyBlock; readonly benchmark?: CheckpointBenchmark };

export const manifestRecordKey = (validator: string, n: number): string => `reliquary/${validator}/manifests/ckpt-${n}.json`;

/** The exact custody message (see the file header). */
export function custodyMessage(n: number, revision: string, c: Omit<CustodyBlock, 'signature'>): Uint8Array {
  const bench = c.benchmark_sha256 !== undefined ? `|benchmark|${c.benchmark_sha256}` : '';
  return utf8(`${n}|${revision}|custody-v1|${c.parent_revision}|${c.parent_checkpoint_n}|${c.bundles.map((b) => `${b.window}:${b.sha256}`).join(',')}${bench}`);
}

/** sha256 hex of a benchmark's canonical JSON: Python's `json.dumps(b, sort_keys=True, separators=(",", ":"))`. */
export function benchmarkDigest(b: CheckpointBenchmark): string {
  return hex(sha256(utf8(dumpsPy(b, { sortKeys: true, compact: true }))));
}

/** The signed custody block of `pub` over `parent` and the bundles trained since. */
export function custodyBlock(pub: PublishedCheckpoint, parent: PublishedCheckpoint, bundles: CustodyBlock['bundles'], signer: Signer): CustodyBlock {
  const body = {
    parent_revision: parent.revision, parent_checkpoint_n: parent.checkpointN, bundles: [...bundles].sort((a, b) => a.window - b.window),
    ...(pub.benchmark ? { benchmark_sha256: benchmarkDigest(pub.benchmark) } : {}),
  };
  return { ...body, signature: signer.sign(custodyMessage(pub.checkpointN, pub.revision, body)) };
}

/** Checks both signatures of a manifest: null when they verify for `hotkey`, else why not. */
export function verifyCustody(m: CustodyManifest, hotkey: string): string | null {
  if (!verifySignature(utf8(`${m.checkpoint_n}|${m.revision}`), m.signature, hotkey)) return 'manifest signature does not verify';
  if (!m.custody) return 'no custody block';
  if (!verifySignature(custodyMessage(m.checkpoint_n, m.revision, m.custody), m.custody.signature, hotkey)) return 'custody signature does not verify';
  if (m.benchmark !== undefined) {
    if (m.custody.benchmark_sha256 === undefined) return 'the benchmark is not covered by the custody signature';
    if (benchmarkDigest(m.benchmark) !== m.custody.benchmark_sha256) return 'the benchmark does not match its signed digest (benchmark_sha256)';
  }
  return null;
}

/** The bundles of windows in (parent.window, upTo] whose training step ran (what a replay from the parent needs). */
export async function trainedBundlesSince(store: ObjectStore, validator: string, parentWindow: number | null, upTo: number): Promise<{ window: number; sha256: string }[]> {
  const out: { window: number; sha256: string }[] = [];
  for (const key of await store.list(bundlePrefix(validator))) {
    const k = parseBundleKey(key);
    if (!k || k.window <= (parentWindow ?? -1) || k.window > upTo) continue;
    const b = await readWindowBundle(store, key);
    if (b?.bundle?.train?.step) out.push(k);
  }
  return out.sort((a, b) => a.window - b.window);
}

/** Builds and stores the custody manifest of a fresh publish; returns its custody block for the announced manifest. */
export async function recordCustody(store: ObjectStore, signer: Signer, pub: PublishedCheckpoint, parent: PublishedCheckpoint, plain: CheckpointManifest): Promise<CustodyBlock> {
  const bundles = await trainedBundlesSince(store, signer.ss58, parent.window, pub.window ?? Number.MAX_SAFE_INTEGER);
  const custody = custodyBlock(pub, parent, bundles, signer);
  const m: CustodyManifest = { ...plain, window: pub.window, custody };
  await putJson(store, manifestRecordKey(signer.ss58, pub.checkpointN), m);
  return custody;
}

/**
 * The custody block of an already published checkpoint, for the manifest a node announces after a restart: its
 * stored, verifying record's; else (a crash between the publish and its custody record) rebuilt from the parent in
 * the checkpoint index (`<index>ckpt-<n−1>.json`, the base for n = 1) and stored. Undefined for the base itself.
 */
export async function restoredCustody(
  store: ObjectStore, signer: Signer, pub: PublishedCheckpoint, index: string, base: PublishedCheckpoint, plain: CheckpointManifest,
): Promise<CustodyBlock | undefined> {
  if (pub.checkpointN === 0) return undefined;
  const m = await getJson<CustodyManifest>(store, manifestRecordKey(signer.ss58, pub.checkpointN));
  if (m?.custody && m.revision === pub.revision && verifyCustody(m, signer.ss58) === null) return m.custody;
  const parent = pub.checkpointN === 1 ? base : await getJson<PublishedCheckpoint>(store, `${index}ckpt-${pub.checkpointN - 1}.json`);
  if (parent === null) throw new Error(`custody of checkpoint ${pub.checkpointN}: its parent ${pub.checkpointN - 1} is not in the checkpoint index`);
  return recordCustody(store, signer, pub, parent, plain);
}

/** Every stored custody manifest of a validator, by checkpoint number. */
export async function readCustodyManifests(store: ObjectStore, validator: string): Promise<CustodyManifest[]> {
  const out: CustodyManifest[] = [];
  for (const key of await store.list(`reliquary/${validator}/manifests/`)) {
    const m = await getJson<CustodyManifest>(store, key);
    if (m) out.push(m);
  }
  return out.sort((a, b) => a.checkpoint_n - b.checkpoint_n);
}
