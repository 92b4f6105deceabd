#!/usr/bin/env bash
# Checks the Debian packages scripts/package made, without changing the machine:
#  - control fields: Maintainer, Section, Homepage, a description, and Depends that name the
#    Debian runtime libraries (dpkg-shlibdeps), none of the daemons' ones in libnsq-client;
#  - the server package's conffiles (/etc/nsq/*.yaml) and maintainer scripts (sh -n, the nsq
#    user, /var/lib/nsq), and where each package puts its files;
#  - a throwaway dpkg database: `dpkg --root` unpacks all of them into a temp dir (no
#    maintainer scripts run; --force-depends since that root has no other packages), after which
#    dpkg lists the conffiles and owns every file; the unpacked nsqd answers /ping, and
#    examples/ builds against the unpacked -dev package and publishes and consumes through it;
#  - `apt-get install --simulate` finds every dependency (when apt has package lists).
# Usage: deb_test.sh [DIST_DIR]   (default: dist/)
set -euo pipefail
src=$(cd "$(dirname "$0")/../.." && pwd)
dist=$(cd "${1:-$src/dist}" && pwd)
work=$(mktemp -d "${TMPDIR:-/tmp}/nsq-deb-test.XXXXXX")
nsqd_pid=""
cleanup() {
  [[ -n $nsqd_pid ]] && kill "$nsqd_pid" 2>/dev/null && wait "$nsqd_pid" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT
fail() { echo "deb_test: $*" >&2; exit 1; }

deb() {  # PACKAGE -> its .deb
  local f
  f=$(find "$dist" -maxdepth 1 -name "$1_*.deb" -print -quit)
  [[ -n $f ]] || fail "no $1_*.deb in $dist"
  echo "$f"
}
field() { dpkg-deb -f "$1" "$2"; }
server=$(deb nsq-cpp-server)
tools=$(deb nsq-cpp-tools)
lib=$(find "$dist" -maxdepth 1 -name 'libnsq-client[0-9]*_*.deb' -print -quit)
[[ -n $lib ]] || fail "no libnsq-client<N>_*.deb in $dist"
dev=$(deb libnsq-client-dev)

for f in "$server" "$tools" "$lib" "$dev"; do
  name=$(field "$f" Package)
  for k in Maintainer Section Homepage Description Version Architecture; do
    [[ -n $(field "$f" "$k") ]] || fail "$name has no $k field"
  done
  [[ $(field "$f" Description | wc -l) -ge 2 ]] || fail "$name has no long description"
  [[ $(field "$f" Depends) == *libc6* ]] || [[ $name == libnsq-client-dev ]] ||
    fail "$name does not declare its shared libraries (Depends: $(field "$f" Depends))"
  dpkg-deb -c "$f" | awk '{print $6}' | grep -qx "./usr/share/doc/$name/copyright" ||
    fail "$name has no /usr/share/doc/$name/copyright"
done

depends=$(field "$server" Depends)
for d in adduser libpoconet libpocofoundation libssl3 libyaml-cpp libsnappy zlib1g libsystemd0 libstdc++6; do
  [[ $depends == *"$d"* ]] || fail "nsq-cpp-server does not depend on $d (Depends: $depends)"
done
libname=$(field "$lib" Package)
lib_depends=$(field "$lib" Depends)
for d in libpoconet libssl3 libsnappy zlib1g; do
  [[ $lib_depends == *"$d"* ]] || fail "$libname does not depend on $d (Depends: $lib_depends)"
done
for d in libyaml-cpp libsystemd; do
  [[ $lib_depends != *"$d"* ]] || fail "$libname depends on $d, which only the daemons use"
done
dev_depends=$(field "$dev" Depends)
[[ $dev_depends == *"$libname (= "* && $dev_depends == *libpoco-dev* ]] ||
  fail "libnsq-client-dev must depend on $libname (= version) and libpoco-dev (Depends: $dev_depends)"

# The server's control area: conffiles and maintainer scripts.
dpkg-deb -e "$server" "$work/control"
for conf in /etc/nsq/nsqd.yaml /etc/nsq/nsqlookupd.yaml; do
  grep -qx "$conf" "$work/control/conffiles" || fail "$conf is not a conffile of nsq-cpp-server"
done
for script in postinst prerm postrm; do
  [[ -x $work/control/$script ]] || fail "nsq-cpp-server has no executable $script"
  sh -n "$work/control/$script" || fail "$script is not valid sh"
done
grep -q 'systemd-sysusers' "$work/control/postinst" && grep -q 'adduser --system' "$work/control/postinst" &&
  grep -q '/var/lib/nsq' "$work/control/postinst" || fail "postinst does not create the nsq user and /var/lib/nsq"

# Files in their places.
contents() { dpkg-deb -c "$1" | awk '{print $6}' | sed 's#^\.##'; }
expect_files() {  # DEB FILE...
  local deb=$1 list
  list=$(contents "$deb")
  shift
  for f in "$@"; do grep -qx -- "$f" <<<"$list" || fail "$(field "$deb" Package) lacks $f"; done
}
expect_files "$server" /usr/bin/nsqd /usr/bin/nsqlookupd /etc/nsq/nsqd.yaml /etc/nsq/nsqlookupd.yaml \
  /usr/lib/systemd/system/nsqd.service /usr/lib/systemd/system/nsqlookupd.service /usr/lib/sysusers.d/nsq.conf \
  /usr/share/man/man8/nsqd.8.gz /usr/share/bash-completion/completions/nsqd /usr/share/zsh/vendor-completions/_nsqd
expect_files "$tools" /usr/bin/to_nsq /usr/bin/nsq_tail /usr/share/man/man1/nsq_tail.1.gz \
  /usr/share/bash-completion/completions/nsq_tail
multiarch=$(dpkg-architecture -qDEB_HOST_MULTIARCH 2>/dev/null || gcc -print-multiarch)
expect_files "$lib" "/usr/lib/$multiarch/libnsq-client.so.${libname#libnsq-client}"
expect_files "$dev" /usr/include/nsq/client.h /usr/include/nsq/client/consumer.h "/usr/lib/$multiarch/libnsq-client.so" \
  "/usr/lib/$multiarch/libnsq-client.a" "/usr/lib/$multiarch/cmake/nsq/nsqConfig.cmake" \
  "/usr/lib/$multiarch/pkgconfig/nsq-client.pc"
! contents "$tools" | grep -qx /usr/bin/nsqd || fail "nsq-cpp-tools ships nsqd"
! contents "$server" | grep -qx /usr/bin/to_nsq || fail "nsq-cpp-server ships to_nsq"

# A throwaway root with its own dpkg database: unpack everything there.
root=$work/root
mkdir -p "$root/var/lib/dpkg/info" "$root/var/lib/dpkg/updates"
touch "$root/var/lib/dpkg/status" "$root/var/lib/dpkg/available"
dpkg --root="$root" --force-not-root --force-depends --log=/dev/null \
  --unpack "$server" "$tools" "$lib" "$dev" >/dev/null 2>"$work/dpkg.err" ||
  fail "dpkg --unpack into a temporary root failed: $(cat "$work/dpkg.err")"
status=$(dpkg --root="$root" -s nsq-cpp-server)
[[ $status == *"Conffiles:"*"/etc/nsq/nsqd.yaml"* ]] || fail "dpkg does not record /etc/nsq/nsqd.yaml as a conffile"
[[ $(dpkg --root="$root" -S /usr/bin/nsqd) == "nsq-cpp-server: /usr/bin/nsqd" ]] || fail "dpkg does not own /usr/bin/nsqd"

# The unpacked nsqd runs from the unpacked config (a conffile stays <name>.dpkg-new until
# dpkg configures the package, which runs postinst: not here).
config=$root/etc/nsq/nsqd.yaml.dpkg-new
[[ -f $config ]] || fail "dpkg did not unpack /etc/nsq/nsqd.yaml as a conffile (no nsqd.yaml.dpkg-new)"
read -r http_port tcp_port < <(python3 -c 'import socket
a=socket.socket(); a.bind(("127.0.0.1",0)); b=socket.socket(); b.bind(("127.0.0.1",0))
print(a.getsockname()[1], b.getsockname()[1])')
mkdir "$work/data"
"$root/usr/bin/nsqd" --config "$config" --tcp-address="127.0.0.1:$tcp_port" \
  --http-address="127.0.0.1:$http_port" --data-path="$work/data" --log-level=warn &
nsqd_pid=$!
ok=0
for _ in $(seq 100); do
  if python3 -c "import urllib.request,sys; sys.exit(urllib.request.urlopen('http://127.0.0.1:$http_port/ping', timeout=1).read() != b'OK')" 2>/dev/null; then
    ok=1; break
  fi
  sleep 0.1
done
[[ $ok == 1 ]] || fail "the packaged nsqd did not answer /ping"

# examples/ against the unpacked -dev package (its CMake files find their prefix themselves).
cmake -S "$src/examples" -B "$work/examples" -DCMAKE_PREFIX_PATH="$root/usr" >/dev/null ||
  fail "examples do not configure against the unpacked libnsq-client-dev"
cmake --build "$work/examples" -j2 >/dev/null || fail "examples do not build against the unpacked libnsq-client-dev"
"$work/examples/producer" "127.0.0.1:$tcp_port" debtest "from the package" >/dev/null || fail "packaged producer failed"
out=$(timeout 30 "$work/examples/consumer" --nsqd "127.0.0.1:$tcp_port" debtest ch 1) || fail "packaged consumer failed"
[[ $out == "from the package" ]] || fail "packaged consumer printed '$out'"

# apt resolves every dependency (nothing is installed: --simulate).
if [[ -n $(find /var/lib/apt/lists -maxdepth 1 -name '*Packages*' -print -quit 2>/dev/null) ]]; then
  apt-get install --simulate -qq "$server" "$tools" "$lib" "$dev" >"$work/apt.out" 2>&1 ||
    fail "apt cannot satisfy the packages' dependencies: $(cat "$work/apt.out")"
fi
echo "deb_test: ok ($(basename "$server"), $(basename "$tools"), $(basename "$lib"), $(basename "$dev"))"
