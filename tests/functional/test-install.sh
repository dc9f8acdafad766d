#!/usr/bin/env bash
# `cmake --install` into a staging root (DESTDIR): the binary, the rule packs, the example
# config, the man page and the systemd unit land where they should; the installed binary
# runs, finds the installed rule packs and accepts the installed config; the unit points
# at the installed paths, carries its hardening and passes `systemd-analyze verify`; the
# man page renders without warnings.
. "$(dirname "$0")/lib.sh"
: "${VG_BINARY_DIR:?}"
R=$WORK/root
cache() { sed -n "s/^$1:[A-Z]*=//p" "$VG_BINARY_DIR/CMakeCache.txt"; }
prefix=$(cache CMAKE_INSTALL_PREFIX)
unitdir=$(cache VIGIL_SYSTEMD_UNIT_DIR)
[ -n "$prefix" ] && [ -n "$unitdir" ] || fail "cannot read the install prefix from CMakeCache.txt"
if [ "$prefix" = /usr ]; then etc=/etc; else etc=$prefix/etc; fi

DESTDIR=$R cmake --install "$VG_BINARY_DIR" >"$WORK/install.log" 2>&1 \
  || fail "cmake --install: $(tail -5 "$WORK/install.log")"
bin=$R$prefix/bin/vigil
conf=$R$etc/vigil/vigil.yml
unit=$R$unitdir/vigil.service
man=$R$prefix/share/man/man1/vigil.1
rules=$R$prefix/share/vigil/rules
for f in "$bin" "$conf" "$unit" "$man"; do [ -f "$f" ] || fail "not installed: ${f#$R}"; done
[ -x "$bin" ] || fail "vigil is not executable"
n_rules=$(find "$rules" -name '*.yml' | wc -l)
[ "$n_rules" -gt 0 ] || fail "no rule packs in ${rules#$R}"
cmp -s "$conf" "$VG_SOURCE_DIR/packaging/vigil.yml" || fail "installed config is not packaging/vigil.yml"
pass "installed: bin/vigil, $n_rules rules, ${etc}/vigil/vigil.yml, man1/vigil.1, vigil.service"

[ "$("$bin" version)" = "$("$VIGIL" version)" ] || fail "installed vigil version: $("$bin" version)"
pass "installed binary runs ($("$bin" version))"
"$bin" check -c "$conf" >"$WORK/check.txt" 2>&1 || fail "vigil check of the installed config:
$(cat "$WORK/check.txt")"
grep -q "^ok: " "$WORK/check.txt" || fail "check said: $(cat "$WORK/check.txt")"
pass "installed binary accepts the installed config ($(head -1 "$WORK/check.txt"))"

grep -qx "ExecStart=$prefix/bin/vigil run -q -c $etc/vigil/vigil.yml" "$unit" || fail "ExecStart path"
grep -qx "ExecReload=/bin/kill -HUP \$MAINPID" "$unit" || fail "ExecReload"
for d in DynamicUser=yes StateDirectory=vigil ProtectSystem=strict ProtectHome=yes \
  NoNewPrivileges=yes PrivateTmp=yes "RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX" \
  CapabilityBoundingSet= SystemCallFilter=@system-service MemoryDenyWriteExecute=yes \
  Restart=on-failure; do
  grep -qx "$d" "$unit" || fail "unit lacks $d"
done
pass "unit paths and hardening"
if command -v systemd-analyze >/dev/null; then
  # verify needs the binary and the man page where the unit names them
  sed "s#$prefix/bin/vigil#$bin#g" "$unit" >"$WORK/vigil.service"
  MANPATH=$R$prefix/share/man systemd-analyze verify "$WORK/vigil.service" >"$WORK/verify.txt" 2>&1 \
    || fail "systemd-analyze verify: $(cat "$WORK/verify.txt")"
  [ ! -s "$WORK/verify.txt" ] || fail "systemd-analyze verify: $(cat "$WORK/verify.txt")"
  pass "systemd-analyze verify"
fi
if command -v man >/dev/null; then
  LC_ALL=C.UTF-8 MANWIDTH=80 man --warnings -l "$man" >"$WORK/man.txt" 2>"$WORK/man-warn.txt" \
    || fail "man: $(cat "$WORK/man-warn.txt")"
  [ ! -s "$WORK/man-warn.txt" ] || fail "man page warnings: $(cat "$WORK/man-warn.txt")"
  for s in SYNOPSIS COMMANDS OPTIONS "EXIT STATUS" ENVIRONMENT FILES; do
    grep -q "^$s" "$WORK/man.txt" || fail "man page has no $s section"
  done
  grep -q VIGIL_TOKEN_KEY "$WORK/man.txt" || fail "man page does not document VIGIL_TOKEN_KEY"
  pass "man page renders without warnings"
fi
