/**
 * The devnet registration message: what a browser miner's hotkey signs so the validator's `POST /devnet/register`
 * (serve.ts) registers it on the local chain. Devnet only: a real chain registers through its own extrinsics.
 */

/** The exact text the hotkey signs to register under `coldkey`. */
export function registerMessage(hotkey: string, coldkey: string): string {
  return `reliquary-devnet-register|${hotkey}|${coldkey}`;
}
