# Debian 12 packages OpsPulse builds, tests and runs with.  Sourced.
#   deps_install PKG...   installs whichever of PKG are missing (apt-get
#                         update first), as root or through sudo.

OPSPULSE_BUILD_DEPS="build-essential cmake ninja-build pkg-config libnng-dev
  libprotobuf-c-dev protobuf-c-compiler libpq-dev libconfig-dev
  libcmocka-dev libjansson-dev libmbedtls-dev libcrypt-dev postgresql-15
  postgresql-client-15 python3"
# systemd only for systemd-analyze (the package test verifies the units);
# it does not become the init system (that is systemd-sysv).
OPSPULSE_TEST_DEPS="clang clang-format libclang-rt-14-dev openssl rpm
  dpkg-dev file git prometheus-alertmanager redis-server systemd
  chromium fonts-dejavu-core prometheus libnss3-tools apache2-utils whois
  curl nginx groff-base logrotate"

deps_install() {
    local missing=() p
    for p in "$@"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
            missing+=("$p")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    echo "==> installing ${missing[*]}"
    local sudo=""
    if [ "$(id -u)" != 0 ]; then
        command -v sudo >/dev/null || {
            echo "error: missing packages ${missing[*]}; install them as root" >&2
            return 1
        }
        sudo="sudo"
    fi
    $sudo env DEBIAN_FRONTEND=noninteractive apt-get update -qq </dev/null
    $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
        --no-install-recommends "${missing[@]}" </dev/null >/dev/null
}
