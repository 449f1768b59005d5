#!/usr/bin/env bash
# The Debian packages `npm run bench` compares against: syncthing (P5's re-sync of the same
# bytes between two local instances, bench/syncthing.ts). Installs what is missing when run as
# root with apt-get; otherwise says what to install and goes on — the benchmarks then report
# the comparison as `skipped` with the reason.
set -uo pipefail
missing=()
command -v syncthing >/dev/null || missing+=(syncthing)
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null; then
  echo "installing ${missing[*]} for the benchmarks" >&2
  # apt and dpkg talk on stdout; `npm run -s bench` keeps stdout for the JSON alone
  if apt-get update -qq >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >&2; then exit 0; fi
  echo "could not install ${missing[*]}; the comparison will say skipped" >&2
else
  echo "the benchmarks compare against the Debian packages: ${missing[*]} (sudo apt-get install ${missing[*]}); without them the comparison says skipped" >&2
fi
exit 0
