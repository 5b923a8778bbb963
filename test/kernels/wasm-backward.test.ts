/** The single-thread wasm backward kernels (AssemblyScript SIMD) against ref. Needs kernels/wasm/build (node kernels/wasm/build.mjs). */
import { createNodeWasmBackend } from '../../kernels/wasm/node.ts';
import { backwardSuite } from './backward-suite.ts';
import { WASM_BACKWARD_TOLERANCES } from './wasm-tolerances.ts';

backwardSuite('wasm', () => createNodeWasmBackend({ threads: 1 }), WASM_BACKWARD_TOLERANCES);
