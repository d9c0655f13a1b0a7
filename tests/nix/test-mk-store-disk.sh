#!/bin/sh
# SPDX-License-Identifier: MIT
# nix/mk-store-disk.nix (mkStoreDisk) and nix/package.nix with real Nix 2.8
# (Debian's nix-bin, set up offline by scripts/nix-setup.sh).  No nixpkgs is
# reachable here, so runCommand, closureInfo and the storedisk package are
# the stand-ins of tests/nix/nixpkgs-standin.nix (builtins.derivation, the
# host's /bin/bash, and build/src/storedisk imported into the store; the
# builds run unsandboxed: the binary needs the host's /usr/lib):
#
#  - an image of a root that refers to three other paths builds; Nix's
#    build log shows verify's "self-contained"; the derivation carries
#    __structuredAttrs and unsafeDiscardReferences.out = true; the image
#    has the bytes of `storedisk pack` run by hand on the same closure; it
#    mounts (loop, ro) and holds exactly the closure with Nix's narHashes;
#    `nix-build --check` rebuilds the same bytes; squashfs too;
#  - the image's references as Nix registered them: the whole closure on a
#    Nix that ignores unsafeDiscardReferences (before 2.14; 2.8 here),
#    equal to `verify --raw-refs`; none from 2.18;
#  - the same root packed from a path list that leaves out one dependency:
#    the build FAILS because verify does (without and with the embedded
#    registration);
#  - pack without -q inside a Nix build (stderr a pty, TERM=xterm-256color
#    as Nix sets it) draws no progress line;
#  - nix/package.nix evaluated with stub arguments: its version is
#    meson.build's, its source leaves build directories out.
#
# Where Nix cannot be used the whole test is skipped with the reason.
. "$SRCDIR/tests/cli/lib.sh"
. "$SRCDIR/tests/nix/lib.sh"
NIXVER=$(nix-store --version | sed 's/.* //')

NIXFILE=$SRCDIR/tests/nix/mk-store-disk-test.nix
# build ATTR: nix-build it; the path on stdout, the log in $WORK/ATTR.log.
build() {
	nix-build --no-out-link "$NIXFILE" -A "$1" --argstr storediskBin "$SD" \
		>"$WORK/$1.out" 2>"$WORK/$1.log"
}
# fresh ATTR: build it from scratch: an output left valid by an earlier
# run (a storedisk that let a broken image through) is deleted first.
fresh() {
	drv=$(nix-instantiate "$NIXFILE" -A "$1" --argstr storediskBin "$SD" 2>/dev/null) &&
		outp=$(nix-store -q --outputs "$drv") &&
		if nix-store --check-validity "$outp" 2>/dev/null; then
			nix-store --delete "$outp" >/dev/null 2>&1
		fi
	build "$1"
}
showlog() { sed 's/^/    nix-build: /' "$WORK/$1.log" | tail -"${2:-15}"; }

# --- the image -----------------------------------------------------------
if ! build app || ! build closure || ! build image; then
	showlog app
	showlog closure
	showlog image
	fail "nix-build the root, its closure and its image"
	finish
	exit 1
fi
APP=$(cat "$WORK/app.out")
CLOSURE=$(cat "$WORK/closure.out")
IMG=$(cat "$WORK/image.out")
ok "mkStoreDisk { roots = [ app ]; } builds: ${IMG##*/}"
nix-store -qR "$APP" | sort >"$WORK/want-closure"
check "the root's closure is 4 paths" [ "$(wc -l <"$WORK/want-closure")" -eq 4 ]
check "closureInfo stand-in: store-paths = nix-store -qR" \
	cmp -s "$CLOSURE/store-paths" "$WORK/want-closure"
check "the image is a file" [ -f "$IMG" ]
DRV=$(nix-store -q --deriver "$IMG")
nix-store --read-log "$DRV" >"$WORK/image.buildlog" 2>/dev/null
if [ -s "$WORK/image.buildlog" ]; then
	check "the build ran verify: self-contained, registration checked" sh -c \
		"grep -q 'self-contained: 4 store paths' '$WORK/image.buildlog' &&
		 grep -q '^registration: embedded, 4 paths; narHash checked for 4 paths, 0 mismatches' '$WORK/image.buildlog'"
	check "the build drew no progress line and wrote no digest" sh -c \
		"! grep -q 'ETA' '$WORK/image.buildlog' && [ ! -e '$IMG.sha256' ]"
else
	skip "no build log kept by Nix: verify's report not checked"
fi
expect_rc 0 "storedisk verify on the host: exit 0" "$SD" verify "$IMG"
"$SD" verify --json "$IMG" >"$WORK/verify.json" 2>/dev/null
check "the image is EROFS, its registration embedded" python3 -c "
import json, sys
d = json.load(open(sys.argv[1]))
sys.exit(0 if d['format'] == 'erofs' and d['registration']['source'] == 'embedded' else 1)" "$WORK/verify.json"

expect_rc 0 "storedisk pack of the same closure outside Nix" "$SD" pack -q --no-digest \
	-o "$WORK/host.erofs" --format erofs --compress lz4hc --mtime 1 --embed-registration \
	--paths "$CLOSURE/store-paths" "$APP"
check "... gives the same bytes as the Nix build" cmp -s "$WORK/host.erofs" "$IMG"

nix show-derivation "$DRV" >"$WORK/drv.json" 2>"$WORK/err"
check "derivation: __structuredAttrs with unsafeDiscardReferences.out = true" python3 -c "
import json, sys
d = list(json.load(open(sys.argv[1])).values())[0]
a = json.loads(d['env']['__json'])
sys.exit(0 if a.get('unsafeDiscardReferences') == {'out': True} else 1)" "$WORK/drv.json"

# What Nix registered as the image's references.
nix-store -q --references "$IMG" | sort >"$WORK/img-refs"
"$SD" verify --raw-refs "$IMG" 2>/dev/null | sort >"$WORK/raw-refs"
case $NIXVER in
1.* | 2.[0-9] | 2.[0-9].* | 2.1[0-3] | 2.1[0-3].*)
	check "Nix $NIXVER ignores unsafeDiscardReferences: the image references its whole closure" \
		cmp -s "$WORK/img-refs" "$WORK/want-closure"
	check "... exactly what verify --raw-refs lists" cmp -s "$WORK/img-refs" "$WORK/raw-refs"
	;;
2.1[4-7] | 2.1[4-7].*)
	skip "Nix $NIXVER: unsafeDiscardReferences needs the discard-references experimental feature; references not checked"
	;;
*)
	check "Nix $NIXVER honours unsafeDiscardReferences: the image has no references" \
		[ ! -s "$WORK/img-refs" ]
	;;
esac

if nix-build --no-out-link --check "$NIXFILE" -A image --argstr storediskBin "$SD" \
	>/dev/null 2>"$WORK/check.log"; then
	ok "nix-build --check: the image rebuilds to the same bytes"
else
	showlog check 5
	fail "nix-build --check: the image rebuilds to the same bytes"
fi

# image_is_closure IMG WHAT: mounted, the image holds exactly the closure,
# each path with the narHash Nix registered, and the registration lists it.
image_is_closure() {
	mnt=$WORK/mnt-$2
	if ! mount_image "$1" "$mnt" 2>"$WORK/err"; then
		fail "$2: mount -o loop,ro ($(head -1 "$WORK/err"))"
		return
	fi
	ok "$2: the image mounts (loop, ro)"
	sed 's|.*/||' "$WORK/want-closure" >"$WORK/want-top"
	ls -A "$mnt" | grep -vx -e nix-path-registration -e storedisk-manifest >"$WORK/got-top"
	check "$2: its top level is the closure" cmp -s "$WORK/got-top" "$WORK/want-top"
	okb=0
	okh=0
	for p in $(cat "$WORK/want-closure"); do
		diff -r --no-dereference "$p" "$mnt/${p##*/}" >/dev/null 2>&1 || okb=1
		[ "sha256:$(nix-hash --type sha256 --base32 "$mnt/${p##*/}")" = \
			"$(nix-store -q --hash "$p")" ] || okh=1
	done
	check "$2: every file's bytes = /nix/store (diff -r)" [ "$okb" -eq 0 ]
	check "$2: every path's narHash = Nix's" [ "$okh" -eq 0 ]
	if [ -e "$mnt/nix-path-registration" ]; then
		# path, narHash, narSize, deriver, count, references
		awk 'BEGIN { st = 0 }
			st == 0 { print; st = 1; next }
			st < 4 { st++; next }
			st == 4 { n = $0 + 0; st = n ? 5 : 0; next }
			st == 5 { if (--n == 0) st = 0 }' "$mnt/nix-path-registration" |
			sort >"$WORK/reg-paths"
		check "$2: the embedded registration lists the closure" \
			cmp -s "$WORK/reg-paths" "$WORK/want-closure"
	else
		fail "$2: no nix-path-registration at the image root"
	fi
	umount_image "$mnt"
}

if can_mount; then
	image_is_closure "$IMG" erofs
	if build squashfs; then
		ok "mkStoreDisk { format = \"squashfs\"; } builds"
		image_is_closure "$(cat "$WORK/squashfs.out")" squashfs
	else
		showlog squashfs
		fail "mkStoreDisk { format = \"squashfs\"; } builds"
	fi
else
	skip "loop mounts not possible here: images not mounted"
fi

# --- an incomplete closure fails the build -----------------------------------
if fresh brokenNoReg; then
	fail "a closure without base (no registration): the build fails"
else
	ok "a closure without base (no registration): the build fails"
	# pack --paths checks the closure it is given: it refuses first.
	check "... because pack names lib's reference to base" \
		grep -q -- '-sd-mkdisk-lib/lib/liblib.so: content at offset 19 refers to .*-sd-mkdisk-base, which is not in the closure' "$WORK/brokenNoReg.log"
fi
if ! fresh broken; then
	ok "a closure without base (registration embedded): the build fails"
	check "... because verify or pack names base" grep -q -- '-sd-mkdisk-base' "$WORK/broken.log"
else
	showlog broken
	fail "a closure without base (registration embedded): the build fails"
fi

# --- no progress line in a Nix build -----------------------------------------
# A builder's stderr is a pty and Nix sets TERM=xterm-256color: pack, without
# -q, must see NIX_LOG_FD and draw nothing.
if fresh progressProbe; then
	nix-store --read-log "$(nix-instantiate "$NIXFILE" -A progressProbe \
		--argstr storediskBin "$SD" 2>/dev/null)" >"$WORK/probe.log" 2>/dev/null
	if [ -s "$WORK/probe.log" ]; then
		echo "# in a Nix $NIXVER build: $(grep '^probe:' "$WORK/probe.log" | sed 's/^probe: //' | tr '\n' ';')"
		check "a Nix build gives pack a terminal on stderr" grep -q '^probe: stderr is a terminal' "$WORK/probe.log"
		check "pack without -q in a Nix build: the summary, no progress line" sh -c \
			"grep -q 'sha256: ' '$WORK/probe.log' && ! grep -q 'ETA' '$WORK/probe.log'"
		check "... and no escape sequence" sh -c "! grep -q \"\$(printf '\\033')\" '$WORK/probe.log'"
	else
		skip "no build log kept by Nix: the progress probe not checked"
	fi
else
	showlog progressProbe
	fail "the progress probe builds"
fi

# --- arguments mkStoreDisk refuses at evaluation ---------------------------
for a in badFormat:'format must be "erofs" or "squashfs", not "ext4"' \
	squashfsLabel:'label is an EROFS option; format is "squashfs"'; do
	expect_rc 1 "mkStoreDisk ${a%%:*}: an evaluation error" \
		nix-instantiate "$NIXFILE" -A "${a%%:*}" --argstr storediskBin "$SD"
	check "... saying: ${a#*:}" contains "$WORK/err" "mkStoreDisk: ${a#*:}"
done

# --- nix/package.nix, evaluated ------------------------------------------------
cat >"$WORK/eval-package.nix" <<'EOF'
{ src, doCheck }:
let
  stub = {
    lib = { licenses.mit = "mit"; platforms.linux = [ "x86_64-linux" ]; };
    stdenv.mkDerivation = a: a;
    meson = "meson"; ninja = "ninja"; pkg-config = "pkg-config";
    squashfs-tools-ng = "squashfs-tools-ng"; libarchive = "libarchive";
    xxHash = "xxHash"; openssl = "openssl"; sqlite = "sqlite"; lz4 = "lz4";
    zstd = "zstd"; xz = "xz"; zlib = "zlib"; criterion = "criterion";
    inherit doCheck;
  };
  d = import (/. + src + "/nix/package.nix") stub;
in {
  inherit (d) pname version mesonFlags buildInputs doCheck;
  nativeBuildInputs = d.nativeBuildInputs;
  src = builtins.attrNames (builtins.readDir d.src);
}
EOF
evalpkg() {
	nix-instantiate --read-write-mode --eval --strict --json "$WORK/eval-package.nix" \
		--argstr src "$SRCDIR" --arg doCheck "$1" >"$WORK/pkg-$1.json" 2>"$WORK/err"
}
if evalpkg false && evalpkg true; then
	want_version=$(sed -n "s/^ *version : '\\([^']*\\)'.*/\\1/p" "$SRCDIR/meson.build" | head -1)
	check "package.nix: pname storedisk, version $want_version (meson.build's)" python3 -c "
import json, sys
d = json.load(open(sys.argv[1]))
sys.exit(0 if d['pname'] == 'storedisk' and d['version'] == sys.argv[2] else 1)" \
		"$WORK/pkg-false.json" "$want_version"
	check "package.nix: meson, ninja, pkg-config; every library of scripts/debian-packages.txt" python3 -c "
import json, sys
d = json.load(open(sys.argv[1]))
want = {'squashfs-tools-ng', 'libarchive', 'xxHash', 'openssl', 'sqlite', 'lz4', 'zstd', 'xz', 'zlib'}
ok = d['nativeBuildInputs'] == ['meson', 'ninja', 'pkg-config'] and set(d['buildInputs']) == want
ok = ok and d['mesonFlags'] == ['-Dtests=disabled'] and d['doCheck'] is False
sys.exit(0 if ok else 1)" "$WORK/pkg-false.json"
	check "package.nix doCheck: Criterion and -Dtests=enabled" python3 -c "
import json, sys
d = json.load(open(sys.argv[1]))
sys.exit(0 if 'criterion' in d['buildInputs'] and d['mesonFlags'] == ['-Dtests=enabled'] else 1)" \
		"$WORK/pkg-true.json"
	check "package.nix: the source has meson.build, src/, nix/ and no build directory" python3 -c "
import json, sys
s = set(json.load(open(sys.argv[1]))['src'])
sys.exit(0 if {'meson.build', 'src', 'nix'} <= s and not {'build', '.git'} & s else 1)" \
		"$WORK/pkg-false.json"
else
	sed 's/^/    nix-instantiate: /' "$WORK/err" | head -5
	fail "nix/package.nix evaluates with stub arguments"
fi

finish
