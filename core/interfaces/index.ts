/**
 * The interfaces of every edge of the system (design.md, "One window, as data flows"): each is implemented by
 * plugins and wired by `core/plugins`. Re-exports only.
 */
export * from './beacon.ts';
export * from './chain.ts';
export * from './code-runner.ts';
export * from './compute.ts';
export * from './environment.ts';
export * from './selector.ts';
export * from './signer.ts';
export * from './store.ts';
export * from './transport.ts';
