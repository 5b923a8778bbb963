/** The single-thread wasm backend (AssemblyScript SIMD) against ref, op by op (threads: wasm-threads.test.ts). Needs kernels/wasm/build (node kernels/wasm/build.mjs). */
import { createNodeWasmBackend } from '../../kernels/wasm/node.ts';
import { opSuite } from './suite.ts';
import { WASM_TOLERANCES } from './wasm-tolerances.ts';

opSuite('wasm', () => createNodeWasmBackend({ threads: 1 }), WASM_TOLERANCES);
