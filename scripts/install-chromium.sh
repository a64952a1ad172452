#!/bin/sh
# Debian's Chromium for the web app's browser test (tests/ui/test_browser.py); Playwright drives it
# through executable_path, as `playwright install` cannot download browsers here. Needs root (apt-get).
set -e
if [ -x /usr/bin/chromium ]; then
    exit 0
fi
if ! command -v apt-get >/dev/null 2>&1; then
    echo "apt-get not found: install Chromium (the 'chromium' package) by hand" >&2
    exit 2
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends chromium fonts-liberation >/dev/null
test -x /usr/bin/chromium
