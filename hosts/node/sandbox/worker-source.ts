/**
 * The JavaScript half of the sandbox: the program of one worker thread, which loads pyodide (CPython in
 * WebAssembly) and then walls the thread in before any untrusted Python runs. Run with `eval: true` (like
 * hosts/node/reveal-parser-pool.ts), so it works from the TypeScript sources and from the esbuild bundle alike.
 *
 * Unmodified pyodide in Node is not a sandbox (toolchain.md: `os.system` ran a host command, `import js` read
 * the host environment, `socket.connect` returned). The wall, in the order it is built:
 *   1. the thread is created with an empty `process.env`, its console silenced (so nothing it prints reaches
 *      the host's stdout), heap limits
 *      (`resourceLimits`), and the WebAssembly heap capped: the `emscripten_resize_heap` import is wrapped so
 *      that growth past `memoryBytes` fails (Python sees MemoryError);
 *   2. pyodide loads with `jsglobals` a null-prototype object (so `import js` holds nothing, not even a
 *      constructor) and an empty environment;
 *   3. after loading, every function of the Node modules that reach the host (fs, child_process, net, tls, dgram,
 *      http(s), http2, dns, inspector, worker_threads, cluster, vm, module, ws) is replaced by one that throws,
 *      also in their ESM views (`syncBuiltinESMExports`): pyodide captured `require("node:fs")` and friends at
 *      load, and `os.system` is `child_process.spawnSync` underneath, `socket` is `ws`;
 *   4. the globals that reach out are removed (`require`, which pyodide itself puts on globalThis with fs and
 *      child_process behind it, `fetch`, `WebSocket`, …), `process.binding`/`dlopen`/`kill`/`abort`/`exit`/…
 *      throw, and no JavaScript can be compiled from a string any more: `eval` throws and the `constructor` of
 *      every function prototype is gone (so a JsProxy's `.constructor.constructor("…")` finds nothing, and
 *      without compiled code there is no `import()`);
 *   5. pyodide's own API loses the members that load code or mount host directories.
 * The Python policy (./python-harness.ts) is a second layer on top, switched off by `policy: 'none'` so that
 * tests can check this wall alone. Anything that still escapes the policy meets a thread that can compute,
 * allocate within its caps and talk to its host through one MessagePort, nothing else; an interpreter that
 * dies (`os._exit`, a fatal error, a stack overflow) answers `crash` and the host replaces the thread.
 *
 * Start-up: pyodide's Python initialisation is the slow part of a load (seconds), so the first interpreter of
 * the process is made with `_makeSnapshot` and posts `{ snapshot }` (its memory right after initialisation,
 * before any policy, harness or untrusted code) and later ones start from that snapshot (`_loadSnapshot`),
 * falling back to a full load if that fails. Every interpreter then gets the policy, the harness and the wall.
 *
 * Protocol on `workerData.port`: the worker posts `{ ready: true }` (or `{ ready: false, detail }`), then one
 * reply `{ outcome, detail }` per request `{ op: 'load' | 'test', src }`. After each post it bumps
 * `workerData.signal[0]` and notifies, so a synchronous host can wait with `Atomics.wait`.
 */
export function sandboxWorkerSource(): string {
  return `
const { workerData } = require('node:worker_threads');
const syncBuiltinESMExports = require('node:module').syncBuiltinESMExports;
const port = workerData.port;
const signal = workerData.signal;
const post = (m) => { port.postMessage(m); Atomics.add(signal, 0, 1); Atomics.notify(signal, 0); };
for (const k of ['log', 'info', 'warn', 'error', 'debug', 'trace']) console[k] = () => {};
const CAP = workerData.memoryBytes;
const realInstantiate = WebAssembly.instantiate;
WebAssembly.instantiate = function instantiate(bin, imports) {
  const env = imports && imports.env;
  if (env && typeof env.emscripten_resize_heap === 'function') {
    const grow = env.emscripten_resize_heap;
    env.emscripten_resize_heap = function cappedResizeHeap(requested) { return (requested >>> 0) > CAP ? 0 : grow(requested); };
  }
  return realInstantiate.call(WebAssembly, bin, imports);
};
let outBytes = 0;
const OUT_CAP = workerData.outputBytes;
const sink = { write(buf) { outBytes += buf.length; if (outBytes > OUT_CAP) throw new Error('output over ' + OUT_CAP + ' bytes'); return buf.length; } };

function denied(what) { return function denied() { throw new Error(what + ' is not available in the sandbox'); }; }

function wall(py) {
  const names = ['fs', 'fs/promises', 'child_process', 'net', 'tls', 'dgram', 'http', 'https', 'http2', 'dns', 'dns/promises', 'inspector', 'worker_threads', 'cluster', 'vm', 'module', 'v8', 'os', 'ws'];
  for (const name of names) {
    let mod;
    try { mod = require(name.startsWith('ws') ? workerData.wsPath || 'ws' : 'node:' + name); } catch { continue; }
    for (const k of Object.keys(mod)) {
      if (typeof mod[k] === 'function') { try { mod[k] = denied(name + '.' + k); } catch {} }
    }
  }
  try { syncBuiltinESMExports(); } catch {}
  for (const g of ['require', 'module', 'fetch', 'WebSocket', 'XMLHttpRequest', 'EventSource', 'Request', 'Response', 'Headers', 'FormData', 'BroadcastChannel', 'MessageChannel', 'Worker', 'SharedWorker', 'importScripts']) {
    try { delete globalThis[g]; } catch {}
    if (g in globalThis) { try { Object.defineProperty(globalThis, g, { value: undefined, writable: false, configurable: false }); } catch {} }
  }
  for (const k of ['binding', '_linkedBinding', 'dlopen', 'kill', 'abort', 'chdir', 'reallyExit', 'exit', '_kill', 'setuid', 'setgid', 'send', 'openStdin', 'getBuiltinModule', 'loadEnvFile']) {
    try { process[k] = denied('process.' + k); } catch {}
  }
  for (const k of Object.keys(process.env)) delete process.env[k];
  for (const s of [process.stdout, process.stderr]) { try { s.write = () => true; } catch {} }
  for (const k of ['mountNodeFS', 'mountNativeFS', 'loadPackage', 'loadPackagesFromImports', 'registerJsModule', 'unregisterJsModule', 'pyimport', 'runPythonAsync', 'setInterruptBuffer', 'registerComlink']) {
    try { py[k] = denied('pyodide.' + k); } catch {}
  }
  try { delete py.FS.filesystems.NODEFS; } catch {}
  const fnProtos = [Function.prototype, Object.getPrototypeOf(async function () {}), Object.getPrototypeOf(function* () {}), Object.getPrototypeOf(async function* () {})];
  for (const p of fnProtos) Object.defineProperty(p, 'constructor', { value: undefined, writable: false, configurable: false });
  globalThis.eval = denied('eval');
}

(async () => {
  let py;
  try {
    const { loadPyodide } = await import(workerData.pyodideUrl);
    const config = { indexURL: workerData.indexURL, jsglobals: Object.create(null), env: { HOME: '/home/pyodide' }, stdout: () => {}, stderr: () => {} };
    if (workerData.snapshot) {
      try { py = await loadPyodide({ ...config, _loadSnapshot: workerData.snapshot }); } catch { py = undefined; }
    }
    if (!py) {
      py = await loadPyodide({ ...config, _makeSnapshot: true });
      try { const snapshot = py.makeMemorySnapshot(); post({ snapshot }); } catch {}
    }
    py.setStdout(sink);
    py.setStderr(sink);
    if (workerData.policy !== 'none') py.runPython(workerData.osPolicy);
  } catch (e) {
    post({ ready: false, detail: 'pyodide failed to load: ' + String(e && e.message || e).slice(-400) });
    return;
  }
  let load, runTest, raw;
  try {
    const ns = py.globals.get('dict')();
    if (workerData.policy === 'none') {
      py.runPython("def raw(src):\\n    try:\\n        exec(compile(src, '<program>', 'exec'), {'__name__': '__main__'})\\n    except BaseException as e:\\n        return ('program', type(e).__name__ + ': ' + str(e)[:200])\\n    return ('pass', '')\\n", { globals: ns });
      raw = ns.get('raw');
    } else {
      py.runPython(workerData.harness, { globals: ns });
      load = ns.get('load');
      runTest = ns.get('run_test');
    }
  } catch (e) {
    post({ ready: false, detail: 'harness failed: ' + String(e && e.message || e).slice(-400) });
    return;
  }
  wall(py);
  port.on('message', (req) => {
    outBytes = 0;
    let reply;
    try {
      const fn = req.op === 'load' ? (load || raw) : req.op === 'test' ? (runTest || raw) : null;
      if (!fn) reply = { outcome: 'error', detail: 'unknown op' };
      else {
        const r = fn(String(req.src));
        const pair = r.toJs();
        r.destroy();
        reply = { outcome: String(pair[0]), detail: String(pair[1]) };
      }
    } catch (e) {
      const msg = String(e && e.message || e);
      reply = { outcome: 'crash', detail: msg.split('\\n').filter(Boolean).slice(-1)[0] || 'the interpreter died', fatal: true };
    }
    post(reply);
  });
  post({ ready: true });
})();
`;
}
