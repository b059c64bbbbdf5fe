#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# SPDX-FileCopyrightText: 2026 The evtchnx authors
#
# Installs the Debian packages listed in scripts/packages.txt that are not
# installed yet.  When nothing is missing, apt is not called at all.
# Needs root (or sudo) only when something is missing.
set -euo pipefail

cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/.."
list=scripts/packages.txt
[ -r "$list" ] || { echo "install-deps: $list not found" >&2; exit 1; }

mapfile -t wanted < <(sed -e 's/#.*//' -e 's/[[:space:]]\+/\n/g' "$list" | sed '/^$/d' | awk '!seen[$0]++')

missing=()
for pkg in "${wanted[@]}"; do
	status=$(dpkg-query -W -f='${db:Status-Status}' "$pkg" 2>/dev/null || true)
	[ "$status" = installed ] || missing+=("$pkg")
done

if [ ${#missing[@]} -eq 0 ]; then
	echo "install-deps: all ${#wanted[@]} packages of $list are installed"
	exit 0
fi

echo "install-deps: installing ${missing[*]}"
sudo=()
if [ "$(id -u)" != 0 ]; then
	command -v sudo >/dev/null || { echo "install-deps: run as root (missing: ${missing[*]})" >&2; exit 1; }
	sudo=(sudo)
fi
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update
"${sudo[@]}" apt-get install -y --no-install-recommends "${missing[@]}" </dev/null
