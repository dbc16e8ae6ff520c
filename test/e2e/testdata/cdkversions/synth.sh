#!/usr/bin/env bash
# Synthesizes the app once per release into cdk.out.<release>, keeping what sluice deploy reads: the stack template
# and the asset directory it names. Run `npm ci` here first.
set -euo pipefail
cd "$(dirname "$0")"
for release in v1 v2 v3; do
  out="cdk.out.$release"
  rm -rf "$out"
  RELEASE="$release" npx cdk synth --quiet --output "$out"
  find "$out" -mindepth 1 -maxdepth 1 ! -name 'CdkVersions.template.json' ! -name 'asset.*' -exec rm -rf {} +
done
