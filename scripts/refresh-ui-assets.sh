#!/usr/bin/env bash
# Refreshes the dashboard's browser files from the npm registry: the pages are served
# without a CDN and without a build step, so they use pinned copies kept in the package,
# each with its licence, and a checksum file the tests compare them with. What only the
# tests load into a page (axe-core, which checks its accessibility) is kept with the
# tests, not in the package: it is neither shipped nor served.
#
# Usage: scripts/refresh-ui-assets.sh   (needs npm; changes asgard/ui/static/vendor/
# and tests/ui/vendor/)
# To move a package to another version, change its line below, run this, commit.
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"

# name version files-in-the-package (the minified files the pages load; licences are
# copied for every package whatever they are called)
served=(
    "htmx.org 2.0.4 dist/htmx.min.js"
    "htmx-ext-sse 2.2.2 sse.js"
    "uplot 1.6.31 dist/uPlot.iife.min.js dist/uPlot.min.css"
)
tests_only=(
    "axe-core 4.10.2 axe.min.js"
)

command -v npm >/dev/null 2>&1 || {
    echo "npm is missing (apt-get install npm)" >&2
    exit 1
}

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

# vendor FOLDER PACKAGE-LINE...: the packages into FOLDER (emptied first), then its
# CHECKSUMS.sha256
vendor() {
    local folder="$1"
    shift
    rm -rf "$folder"
    mkdir -p "$folder"
    for line in "$@"; do
        read -r name version files <<<"$line"
        dest="$folder/$name-$version"
        unpacked="$work/$name-$version"
        mkdir -p "$dest" "$unpacked"
        tarball="$(cd "$work" && npm pack --silent "$name@$version" | tail -n 1)"
        tar -xzf "$work/$tarball" -C "$unpacked"
        for file in $files; do
            cp "$unpacked/package/$file" "$dest/$(basename "$file")"
        done
        licences=("$unpacked"/package/LICEN[CS]E*)
        [ -e "${licences[0]}" ] || {
            echo "$name@$version ships no licence file" >&2
            exit 1
        }
        cp "${licences[@]}" "$dest/"
        echo "vendored $name@$version into $folder"
    done
    (cd "$folder" && find . -type f ! -name CHECKSUMS.sha256 | sed 's|^\./||' | LC_ALL=C sort \
        | xargs sha256sum >CHECKSUMS.sha256)
    echo "wrote $folder/CHECKSUMS.sha256"
}

vendor "$root/asgard/ui/static/vendor" "${served[@]}"
vendor "$root/tests/ui/vendor" "${tests_only[@]}"
