/**
 * The browser miner's sr25519 keys, kept in the page's IndexedDB: a 32-byte hotkey seed and a coldkey seed, generated
 * with `crypto.getRandomValues` on first visit and read back on every later one (same origin, same profile), so a
 * reload mines under the same hotkey. The seeds never leave the page; only the public addresses are sent.
 */
import { signerFromSeed, type Signer } from '../../../core/protocol/sr25519.ts';

const DB = 'reliquary-miner';
const STORE = 'keys';

function request<T>(r: IDBRequest<T>): Promise<T> {
  return new Promise((resolve, reject) => {
    r.onsuccess = () => resolve(r.result);
    r.onerror = () => reject(r.error);
  });
}

async function openDb(): Promise<IDBDatabase> {
  const open = indexedDB.open(DB, 1);
  open.onupgradeneeded = () => open.result.createObjectStore(STORE);
  return request(open);
}

/** The seed stored under `name`, created (32 random bytes) when absent. */
async function persistedSeed(db: IDBDatabase, name: string): Promise<Uint8Array> {
  const have = await request(db.transaction(STORE, 'readonly').objectStore(STORE).get(name));
  if (have instanceof Uint8Array && have.length === 32) return have;
  const seed = crypto.getRandomValues(new Uint8Array(32));
  await request(db.transaction(STORE, 'readwrite').objectStore(STORE).put(seed, name));
  return seed;
}

/** The page's hotkey and coldkey signers (created on first use, then the same ones on every visit). */
export async function pageKeys(): Promise<{ hotkey: Signer; coldkey: Signer }> {
  const db = await openDb();
  try {
    return { hotkey: signerFromSeed(await persistedSeed(db, 'hotkey')), coldkey: signerFromSeed(await persistedSeed(db, 'coldkey')) };
  } finally {
    db.close();
  }
}
