#!/usr/bin/env bash
# Installs the build tree into a temporary prefix (and again with DESTDIR under --prefix /usr)
# and checks what a user gets: every daemon, tool and nsq_bench from the build tree in bin/, each answering
# --version; one man page per binary that renders without groff warnings; the default configs
# in etc/nsq; bash completion offering every option of --help; systemd units that `systemd-analyze verify` accepts; an installed nsqd that
# starts from its installed config and answers /ping; and the client library as a user gets it:
# each installed header compiles alone, and examples/ builds against the installed prefix with
# find_package(nsq) (shared and static) and with pkg-config, then publishes to and consumes from
# that nsqd.
# Usage: install_test.sh BUILD_DIR
set -euo pipefail
build=$(cd "$1" && pwd)
work=$(mktemp -d "${TMPDIR:-/tmp}/nsq-install-test.XXXXXX")
nsqd_pid=""
cleanup() {
  [[ -n $nsqd_pid ]] && kill "$nsqd_pid" 2>/dev/null && wait "$nsqd_pid" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT
fail() { echo "install_test: $*" >&2; exit 1; }

prefix=$work/prefix
cmake --install "$build" --prefix "$prefix" >/dev/null

# Every executable the build made under daemons/ and tools/ is installed and runs.
built=$(find "$build/daemons" "$build/tools" "$build/bench" -path '*/CMakeFiles' -prune -o -type f -perm -u+x -print 2>/dev/null |
        xargs -n1 basename | sort)
[[ -n $built ]] || fail "no executables found under $build/daemons, tools and bench"
version=$(sed -n 's/^project([^ ]* VERSION \([0-9.]*\).*/\1/p' "$(dirname "$0")/../../CMakeLists.txt")
for name in $built; do
  bin=$prefix/bin/$name
  [[ -x $bin ]] || fail "$name is built but not installed in bin/"
  out=$("$bin" --version) || fail "$name --version exited $?"
  [[ $out == *"$version"* ]] || fail "$name --version says '$out', not $version"
done
for bin in "$prefix"/bin/*; do
  name=$(basename "$bin")
  grep -qx "$name" <<<"$built" || fail "bin/$name is installed but not built under daemons/, tools/ or bench/"
  page=""
  for candidate in "$prefix/share/man/man1/$name.1" "$prefix/share/man/man8/$name.8"; do
    [[ -f $candidate ]] && page=$candidate
  done
  [[ -n $page ]] || fail "bin/$name has no man page in man1 or man8"
  warnings=$(groff -man -ww -z -Tutf8 "$page" 2>&1) || fail "groff failed on $page"
  [[ -z $warnings ]] || fail "groff warns on $page: $warnings"
done

# Shell completion: each installed program has a bash and a zsh script, and bash, running the
# installed script, offers every option the program's --help lists.
for bin in "$prefix"/bin/*; do
  name=$(basename "$bin")
  bash_file=$prefix/share/bash-completion/completions/$name
  [[ -f $bash_file ]] || fail "bin/$name has no bash completion in share/bash-completion/completions"
  [[ -f $prefix/share/zsh/vendor-completions/_$name ]] || fail "bin/$name has no zsh completion"
  fn=$(awk -v n="$name" '$1 == "complete" && $2 == "-F" && $4 == n {print $3}' "$bash_file")
  [[ -n $fn ]] || fail "$bash_file does not register a completion for $name"
  # shellcheck disable=SC2016 # expanded by the inner bash
  offered=$(bash -c 'source "$1"; COMP_WORDS=("$2" --); COMP_CWORD=1; "$3"; printf "%s\n" "${COMPREPLY[@]}"' \
            _ "$bash_file" "$name" "$fn") || fail "$bash_file fails in bash"
  helped=$("$bin" --help | grep -oE '^  (-[a-zA-Z], )?--[a-zA-Z0-9-]+' | grep -oE -- '--[a-zA-Z0-9-]+')
  [[ -n $helped ]] || fail "$name --help lists no options"
  for flag in $helped; do
    grep -qx -- "$flag" <<<"$offered" || fail "$name --help lists $flag but bash completion does not offer it"
  done
done

# Configs and docs.
for f in etc/nsq/nsqd.yaml etc/nsq/nsqlookupd.yaml etc/nsq/nsqadmin.yaml share/doc/nsq-cpp/README.md share/doc/nsq-cpp/architecture.md; do
  [[ -f $prefix/$f ]] || fail "$f is not installed"
done

# systemd units: installed, and clean under `systemd-analyze verify` (with ExecStart pointed at
# this prefix's binaries: the unit names the configured prefix, which this test does not own).
for unit in nsqd nsqlookupd nsqadmin; do
  file=$prefix/lib/systemd/system/$unit.service
  [[ -f $file ]] || fail "lib/systemd/system/$unit.service is not installed"
  grep -q '^Type=notify$' "$file" || fail "$unit.service is not Type=notify"
  if command -v systemd-analyze >/dev/null; then
    mkdir -p "$work/units"
    sed "s#^ExecStart=[^ ]*/$unit #ExecStart=$prefix/bin/$unit #" "$file" > "$work/units/$unit.service"
    out=$(systemd-analyze verify --man=no "$work/units/$unit.service" 2>&1) ||
      fail "systemd-analyze verify $unit.service failed: $out"
    [[ -z $out ]] || fail "systemd-analyze verify $unit.service warns: $out"
  fi
done

[[ -f $prefix/lib/sysusers.d/nsq.conf ]] || fail "lib/sysusers.d/nsq.conf (the units' user) is not installed"
if command -v systemd-sysusers >/dev/null; then
  out=$(systemd-sysusers --dry-run --root="$work/sysroot" "$prefix/lib/sysusers.d/nsq.conf" 2>&1) ||
    fail "systemd-sysusers rejects nsq.conf: $out"
  [[ $out == *"Creating user 'nsq'"* ]] || fail "systemd-sysusers would not create user nsq: $out"
fi

# The installed nsqd starts from the installed config (addresses and data path overridden).
read -r port tcp_port < <(python3 -c 'import socket
a=socket.socket(); a.bind(("127.0.0.1",0)); b=socket.socket(); b.bind(("127.0.0.1",0))
print(a.getsockname()[1], b.getsockname()[1])')
mkdir "$work/data"
"$prefix/bin/nsqd" --config "$prefix/etc/nsq/nsqd.yaml" --tcp-address="127.0.0.1:$tcp_port" \
  --http-address="127.0.0.1:$port" --data-path="$work/data" --log-level=warn &
nsqd_pid=$!
for _ in $(seq 100); do
  if python3 -c "import urllib.request,sys; sys.exit(urllib.request.urlopen('http://127.0.0.1:$port/ping', timeout=1).read() != b'OK')" 2>/dev/null; then
    ok=1; break
  fi
  sleep 0.1
done
[[ ${ok:-0} == 1 ]] || fail "installed nsqd with etc/nsq/nsqd.yaml did not answer /ping on port $port"

# The client library: headers, libraries, CMake package and pkg-config file.
src=$(cd "$(dirname "$0")/../.." && pwd)
libdir=$(dirname "$(find "$prefix" -name 'libnsq-client.so' -print -quit)")
[[ -d $libdir && -f $libdir/libnsq-client.a ]] || fail "libnsq-client.so and .a are not installed side by side"
[[ -f $libdir/cmake/nsq/nsqConfig.cmake ]] || fail "no CMake package in $libdir/cmake/nsq"
[[ -f $libdir/pkgconfig/nsq-client.pc ]] || fail "no nsq-client.pc in $libdir/pkgconfig"
needed=$(objdump -p "$libdir/libnsq-client.so" | awk '/NEEDED/ {print $2}')
for unwanted in yaml-cpp systemd; do
  ! grep -q "$unwanted" <<<"$needed" || fail "libnsq-client.so needs lib$unwanted (a daemon-only dependency)"
done
# One compiler per header (two at a time): each must compile alone.
export prefix
(cd "$prefix/include" && find nsq -name '*.h') | xargs -P2 -I{} sh -c \
  'echo "#include <{}>" | g++ -std=c++20 -fsyntax-only -I"$prefix/include" -x c++ - ||
   { echo "install_test: installed header {} does not compile alone against $prefix/include" >&2; exit 255; }' ||
  fail "an installed header does not compile alone"

# examples/ against the installed package: publish two messages, consume them back. A sanitizer
# build installs a library that needs the sanitizer runtimes, so its users build with the same
# flags and the same compiler (a clang++ ASan library does not link against GCC's runtime).
san_flags=""
if grep -q '^NSQ_SANITIZE:BOOL=ON' "$build/CMakeCache.txt" 2>/dev/null; then
  san_flags="-fsanitize=address,undefined"
fi
cxx=$(sed -n 's/^CMAKE_CXX_COMPILER:[A-Z]*=//p' "$build/CMakeCache.txt" 2>/dev/null)
cxx=${cxx:-g++}
export CXXFLAGS="${CXXFLAGS:-} $san_flags" LDFLAGS="${LDFLAGS:-} $san_flags"
check_examples() {  # DIR LABEL
  local out
  out=$("$1/producer" "127.0.0.1:$tcp_port" "$2" "hello $2" "bye $2" 2>&1) || fail "$2 producer failed: $out"
  out=$(timeout 30 "$1/consumer" --nsqd "127.0.0.1:$tcp_port" "$2" ch 2) || fail "$2 consumer failed"
  [[ $out == "hello $2"$'\n'"bye $2" ]] || fail "$2 consumer printed '$out', not the two published messages"
}
for kind in shared static; do
  static=OFF; [[ $kind == static ]] && static=ON
  cmake -S "$src/examples" -B "$work/examples-$kind" -DCMAKE_PREFIX_PATH="$prefix" \
    -DCMAKE_CXX_COMPILER="$cxx" -DNSQ_EXAMPLES_STATIC=$static >/dev/null || fail "examples do not configure against $prefix ($kind)"
  cmake --build "$work/examples-$kind" -j2 >/dev/null || fail "examples do not build against $prefix ($kind)"
  check_examples "$work/examples-$kind" "cmake_$kind"
done
! objdump -p "$work/examples-static/consumer" | grep -q 'NEEDED.*libnsq-client' ||
  fail "the static example links libnsq-client.so"
mkdir "$work/examples-pc"
export PKG_CONFIG_PATH=$libdir/pkgconfig
for ex in producer consumer; do
  # shellcheck disable=SC2046,SC2086 # pkg-config's words and san_flags are separate arguments
  "$cxx" -std=c++20 $san_flags -o "$work/examples-pc/$ex" "$src/examples/$ex/$ex.cpp" $(pkg-config --cflags --libs nsq-client) ||
    fail "examples/$ex does not build with pkg-config nsq-client"
done
LD_LIBRARY_PATH=$libdir check_examples "$work/examples-pc" pkgconfig

# DESTDIR: a staged install (what a package build does) lands under it.
DESTDIR=$work/root cmake --install "$build" --prefix /usr >/dev/null
[[ -x $work/root/usr/bin/nsqd ]] || fail "DESTDIR install has no usr/bin/nsqd"
[[ -f $work/root/usr/share/man/man8/nsqd.8 ]] || fail "DESTDIR install has no usr/share/man/man8/nsqd.8"
echo "install_test: ok ($(wc -w <<<"$built") programs)"
