/**
 * beacon-drand: drand quicknet as a `Beacon` (core/interfaces/beacon.ts), with every beacon's BLS signature and
 * randomness verified locally (spec/protocol.md §1, §10.8).
 */
export {
  drandQuicknet,
  DRAND_QUICKNET_DEFAULTS,
  QUICKNET_RELAYS,
  parseBeaconBody,
  infoMismatch,
  type DrandQuicknetOptions,
  type FetchLike,
} from './drand-quicknet.ts';
export { verifyQuicknetBeacon, type QuicknetChainKey, type UnverifiedBeacon } from './verify.ts';
export { beaconDrandPlugin } from './plugin.ts';
export {
  windowBeaconProof, verifyWindowBeacon, beaconMaxAgeSeconds, QUICKNET_SCHEME, type BeaconFreshness, type ChainBeacon, type WindowBeaconProof, type WindowBeaconCheck,
} from './window-beacon.ts';
