// Run before `npm test`: makes sure the WebGPU software adapter (Mesa lavapipe >= 23) and Chromium are installed,
// installing it through scripts/setup-system.sh when we are root on Debian. Prints what it does.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

function mesaMajor() {
  try {
    const v = execFileSync('dpkg-query', ['-W', '-f=${Version}', 'mesa-vulkan-drivers'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    const m = /^(?:\d+:)?(\d+)\./.exec(v.trim());
    return m ? Number(m[1]) : 0;
  } catch {
    return 0;
  }
}

const hasDpkg = spawnSync('dpkg-query', ['--version'], { stdio: 'ignore' }).status === 0;
if (!hasDpkg) {
  console.log('ensure-system: not a Debian system; WebGPU tests need a Vulkan driver (lavapipe or a GPU) installed by hand');
} else if (mesaMajor() < 23 || !existsSync('/usr/bin/chromium')) {
  console.log('ensure-system: Mesa lavapipe >= 23 or /usr/bin/chromium (the browser tests) missing; installing them');
  const script = fileURLToPath(new URL('./setup-system.sh', import.meta.url));
  const r = spawnSync('bash', [script], { stdio: 'inherit' });
  if (r.status !== 0) process.exit(r.status ?? 1);
}
