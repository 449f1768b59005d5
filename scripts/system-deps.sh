#!/usr/bin/env bash
# The Debian packages the test suite drives for real: microsocks (the SOCKS5 proxy of the
# direct-transport tests), chromium (the browser test, through playwright-core), miniupnpd and
# nftables (the port-window tests' real gateway, in network namespaces), tcpdump (the capture
# showing onion mode resolves no name) and, as root, iproute2 (the namespaces of the partition
# and gateway tests, docs/partitions.md).
# Installs what is missing when run as root (CI, a fresh container); otherwise says what to install.
set -euo pipefail
missing=()
command -v microsocks >/dev/null || missing+=(microsocks)
command -v chromium >/dev/null || missing+=(chromium)
command -v miniupnpd >/dev/null || missing+=(miniupnpd)
command -v nft >/dev/null || missing+=(nftables)
command -v tcpdump >/dev/null || missing+=(tcpdump)
# iproute2 (`ip`): the partition tests' network namespaces, which need root; without root they skip
if [ "$(id -u)" -eq 0 ]; then command -v ip >/dev/null || missing+=(iproute2); fi
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null; then
  echo "installing ${missing[*]} for the tests" >&2
  apt-get update -qq && apt-get install -y -qq "${missing[@]}"
else
  echo "the tests need the Debian packages: ${missing[*]} (sudo apt-get install ${missing[*]})" >&2
  exit 1
fi
