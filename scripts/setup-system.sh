#!/usr/bin/env bash
# Installs the system packages the test suite needs on Debian 12 (bookworm):
# Mesa's lavapipe Vulkan driver from bookworm-backports, the software adapter Dawn (the `webgpu` npm
# package) runs WebGPU on when there is no GPU (Debian 12's own Mesa 22.3 gives no adapter at all), and
# Debian's `chromium`, the headless browser test/browser drives through playwright-core (its SwiftShader
# gives WebGPU with --enable-unsafe-webgpu).
# Idempotent; needs root. Called by `npm test` (through scripts/ensure-system.mjs) and by .ci/run.
set -euo pipefail

if [ "$(id -u)" != 0 ]; then
  echo "setup-system: needs root to install mesa-vulkan-drivers from bookworm-backports (run: sudo bash scripts/setup-system.sh)" >&2
  exit 1
fi
if ! command -v apt-get >/dev/null; then
  echo "setup-system: no apt-get here; install a Vulkan driver (Mesa >= 23 lavapipe, or a GPU driver) by hand" >&2
  exit 1
fi

src=/etc/apt/sources.list.d/backports.sources
if ! grep -rqs "bookworm-backports" /etc/apt/sources.list /etc/apt/sources.list.d/; then
  printf 'Types: deb\nURIs: http://deb.debian.org/debian\nSuites: bookworm-backports\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' > "$src"
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq -t bookworm-backports mesa-vulkan-drivers >/dev/null
echo "setup-system: mesa-vulkan-drivers $(dpkg-query -W -f='${Version}' mesa-vulkan-drivers) installed"
if ! command -v /usr/bin/chromium >/dev/null; then
  apt-get install -y -qq chromium >/dev/null
fi
echo "setup-system: chromium $(dpkg-query -W -f='${Version}' chromium) installed"
