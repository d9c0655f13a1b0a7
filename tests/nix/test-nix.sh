#!/bin/sh
# SPDX-License-Identifier: MIT
# The real-Nix oracle: Nix 2.8 (Debian's nix-bin, set up offline by
# scripts/nix-setup.sh) builds tests/nix/make-derivations.nix into the real
# /nix/store, and storedisk's answers are compared with Nix's own:
#
#  - closures from `nix-store --dump-db` and from exportReferencesGraph
#    files equal `nix-store -qR`, edge for edge (`nix-store -q --references`);
#  - --scan finds a superset of Nix's closure, equal except for the root
#    that names a path it does not depend on (Nix scans only for its
#    inputs' hashes);
#  - narHash/narSize carried from a registration equal `nix-store -q --hash`
#    and `--size`;
#  - packed images verify, mount in the kernel with the store's exact
#    bytes, modes and link targets, have the NAR hash Nix registered for
#    every path, and load into a fresh Nix store rooted on the mounted image
#    where `nix-store --verify --check-contents` passes (a tampered
#    registration must make it fail);
#  - newer features (`--db`, the `registration` command with narHash and
#    narSize computed from the files, `pack --embed-registration` /
#    `--registration-out`, `verify --registration`, `why`) are checked when
#    `--help` shows them, else reported as skipped ("...: not implemented yet").
#
# Where Nix cannot be installed or used (not root, offline without the
# package), the whole test prints "1..0 # SKIP <reason>" (TAP), which
# meson reports as a skipped test.
. "$SRCDIR/tests/cli/lib.sh"
. "$SRCDIR/tests/nix/lib.sh"

# ---------------------------------------------------------------------------
# Build the derivations.

# Sources added with nix-store --add: fixed contents, so fixed store paths.
mkdir -p "$WORK/src/storedisk-src-dir/sub"
printf 'a source file added with nix-store --add\n' >"$WORK/src/storedisk-src-file"
printf 'data\n' >"$WORK/src/storedisk-src-dir/sub/data"
printf '#!/bin/sh\necho run\n' >"$WORK/src/storedisk-src-dir/run"
chmod +x "$WORK/src/storedisk-src-dir/run"
ln -s sub/data "$WORK/src/storedisk-src-dir/link"
srcfile=$(nix-store --add "$WORK/src/storedisk-src-file") &&
	srcdir=$(nix-store --add "$WORK/src/storedisk-src-dir") || {
	fail "nix-store --add"
	finish
	exit 1
}

NIXFILE=$SRCDIR/tests/nix/make-derivations.nix
nixargs() { "$@" "$NIXFILE" --argstr srcFile "$srcfile" --argstr srcDir "$srcdir"; }
if ! nixargs nix-build --no-out-link >"$WORK/built" 2>"$WORK/build.log"; then
	sed 's/^/    nix-build: /' "$WORK/build.log" | tail -20
	fail "nix-build make-derivations.nix"
	finish
	exit 1
fi
ok "nix-build built $(wc -l <"$WORK/built") outputs"
graphs=$(nixargs nix-build --no-out-link -A graphs 2>>"$WORK/build.log")
nixargs nix-instantiate --eval --strict --json -A rootPaths >"$WORK/roots.json" &&
	python3 -c "
import json, sys
for n, p in sorted(json.load(open(sys.argv[1])).items()):
    print(n, p)" "$WORK/roots.json" >"$WORK/roots"
check "the roots are named ($(wc -l <"$WORK/roots") of them)" [ -s "$WORK/roots" -a -d "$graphs" ]
rootpath() { awk -v n="$1" '$1 == n { print $2 }' "$WORK/roots"; }
STOWAWAY=$(rootpath stowaway)
DECOY=$(rootpath decoy)

# Nix's own view: the whole database, and per path references, hash, size.
nix-store --dump-db >"$WORK/db.reg"
allpaths=$(for r in $(awk '{ print $2 }' "$WORK/roots"); do nix-store -qR "$r"; done | sort -u)
: >"$WORK/nix-edges-all"
: >"$WORK/nix-info"
for p in $allpaths; do
	nix-store -q --references "$p" | sed "s|^|$p |" >>"$WORK/nix-edges-all"
	echo "$p $(nix-store -q --hash "$p") $(nix-store -q --size "$p")" >>"$WORK/nix-info"
done

# nix_closure ROOT FILE: nix-store -qR, sorted; nix_edges FILE-OF-PATHS OUT.
nix_closure() { nix-store -qR "$1" | sort >"$2"; }
nix_edges() { awk 'NR == FNR { in_[$1] = 1; next } in_[$1]' "$1" "$WORK/nix-edges-all" | sort >"$2"; }

# Parsing registrations (dump-db form; narHash base16, sha256:nix32 or SRI;
# or the closureInfo form) into "path hash size ref,ref..." lines with the
# hash as sha256:nix32, for comparison with nix-store -q --hash.
cat >"$WORK/reg.py" <<'PY'
import base64, sys
A = "0123456789abcdfghijklmnpqrsvwxyz"
def nix32(b):
    n = (len(b) * 8 - 1) // 5 + 1
    out = []
    for i in range(n - 1, -1, -1):
        bit = i * 5; j, k = bit // 8, bit % 8
        c = (b[j] >> k) | ((b[j + 1] << (8 - k)) if j + 1 < len(b) else 0)
        out.append(A[c & 0x1f])
    return "".join(out)
def unnix32(s):
    b = bytearray(32)
    for n in range(len(s)):
        d = A.index(s[len(s) - n - 1]); bit = n * 5; i, j = bit // 8, bit % 8
        b[i] |= (d << j) & 0xff
        if i < 31: b[i + 1] |= d >> (8 - j)
    return bytes(b)
def norm(h):
    if h.startswith("sha256:"):
        h = h[7:]
        raw = bytes.fromhex(h) if len(h) == 64 else unnix32(h)
    elif h.startswith("sha256-"):
        raw = base64.b64decode(h[7:])
    else:
        raw = bytes.fromhex(h)
    return "sha256:" + nix32(raw)
lines = open(sys.argv[1]).read().split("\n")
i = 0
while i < len(lines) and lines[i]:
    path = lines[i]; i += 1
    if lines[i] and not lines[i].startswith("/"):  # a hash: the dump-db form
        h, size = norm(lines[i]), lines[i + 1]; i += 2
    else:
        h, size = "-", "-"
    i += 1  # deriver
    n = int(lines[i]); i += 1
    refs = sorted(lines[i:i + n]); i += n
    print(path, h, size, ",".join(refs))
PY
# same_reg GOT WANT: both registrations parse, WANT is not empty, and they
# agree on paths, narHash, narSize and references (derivers are ignored).
same_reg() {
	python3 "$WORK/reg.py" "$1" >"$WORK/got.r" && python3 "$WORK/reg.py" "$2" >"$WORK/want.r" &&
		sort -o "$WORK/got.r" "$WORK/got.r" && sort -o "$WORK/want.r" "$WORK/want.r" &&
		[ -s "$WORK/want.r" ] && cmp -s "$WORK/got.r" "$WORK/want.r" || {
		diff "$WORK/want.r" "$WORK/got.r" 2>&1 | head -6 | sed 's/^/    /'
		return 1
	}
}

# ---------------------------------------------------------------------------
# Closures, per root.
while read -r name root; do
	nix_closure "$root" "$WORK/nix.$name"
	nix_edges "$WORK/nix.$name" "$WORK/nix-edges.$name"

	"$SD" closure --store /nix/store --registration "$WORK/db.reg" "$root" >"$WORK/reg.$name" 2>"$WORK/err"
	check "$name: closure from nix-store --dump-db = nix-store -qR" cmp -s "$WORK/reg.$name" "$WORK/nix.$name"
	"$SD" closure --store /nix/store --registration "$WORK/db.reg" --graph "$root" 2>/dev/null | sort >"$WORK/out"
	check "$name: --graph from --dump-db = nix-store -q --references" cmp -s "$WORK/out" "$WORK/nix-edges.$name"

	"$SD" closure --store /nix/store --registration "$graphs/$name" "$root" >"$WORK/out" 2>"$WORK/err"
	check "$name: closure from exportReferencesGraph = nix-store -qR" cmp -s "$WORK/out" "$WORK/nix.$name"

	"$SD" closure --store /nix/store --scan "$root" >"$WORK/scan.$name" 2>"$WORK/err"
	check "$name: --scan is a superset of nix-store -qR" sh -c "[ -z \"\$(comm -23 '$WORK/nix.$name' '$WORK/scan.$name')\" ]"
	"$SD" closure --store /nix/store --scan --graph "$root" 2>/dev/null | sort >"$WORK/scan-edges.$name"
	if [ "$name" = superset ]; then
		check "superset: --scan adds exactly the undeclared path" sh -c \
			"[ \"\$(comm -13 '$WORK/nix.$name' '$WORK/scan.$name')\" = '$STOWAWAY' ]"
		check "superset: and exactly the undeclared edge" sh -c \
			"[ \"\$(comm -13 '$WORK/nix-edges.$name' '$WORK/scan-edges.$name')\" = '$root $STOWAWAY' ]"
	else
		check "$name: --scan = nix-store -qR (no undeclared path)" cmp -s "$WORK/scan.$name" "$WORK/nix.$name"
		check "$name: --scan --graph = nix-store -q --references" cmp -s "$WORK/scan-edges.$name" "$WORK/nix-edges.$name"
	fi
	check "$name: the decoy is in no closure but its own" sh -c \
		"[ '$name' = decoy ] || ! grep -qxF '$DECOY' '$WORK/scan.$name'"
done <"$WORK/roots"

# narHash / narSize carried from the --dump-db registration.
"$SD" closure --store /nix/store --registration "$WORK/db.reg" --json \
	$(awk '{ print $2 }' "$WORK/roots") >"$WORK/reg.json" 2>/dev/null
cat >"$WORK/narcheck.py" <<'PY'
import json, sys
info = {}
for line in open(sys.argv[2]):
    p, h, s = line.split()
    info[p] = (h, int(s))
d = json.load(open(sys.argv[1]))
bad = [p["path"] for p in d["paths"]
       if p["path"] in info and (p.get("nar_hash"), p.get("nar_size")) != info[p["path"]]]
missing = [p for p in info if p not in {q["path"] for q in d["paths"]}]
if bad or missing:
    print("    differ:", bad[:3], "not listed:", missing[:3])
sys.exit(1 if bad or missing else 0)
PY
check "closure --json from --dump-db: nar_hash/nar_size = nix-store -q --hash/--size ($(wc -l <"$WORK/nix-info") paths)" \
	python3 "$WORK/narcheck.py" "$WORK/reg.json" "$WORK/nix-info"

# ---------------------------------------------------------------------------
# Packed images: verify, mount, compare with the store, load into Nix.

# listing DIR PATH...: type, mode, owner, size (not of directories: that is
# the file system's own), mtime and link target of every entry under the
# given store paths of DIR.
listing() {
	d=$1
	shift
	# One find for all of them (a find, an awk and a nix-hash per path
	# made this test the longest of the suite).
	(cd "$d" && for p in "$@"; do printf '%s\0' "${p##*/}"; done |
		xargs -0 -r find -printf '%p|%y|%m|%U:%G|%s|%T@|%l\n') |
		awk -F'|' -v OFS='|' '$2 == "d" { $5 = "" } 1' | sort
}

# contents DIR PATH...: the SHA-256 of every regular file under the given
# store paths of DIR, by name.
contents() {
	d=$1
	shift
	(cd "$d" && for p in "$@"; do printf '%s\0' "${p##*/}"; done |
		xargs -0 -r sh -c 'find "$@" -type f -print0' sh | sort -z | xargs -0 -r sha256sum)
}

# same_as_store MNT CLOSURE-FILE WHAT: the mounted image holds exactly the
# closure, with the store's bytes and metadata and Nix's NAR hashes.
same_as_store() {
	mnt=$1
	clos=$2
	what=$3
	sed 's|.*/||' "$clos" >"$WORK/want-top"
	ls -A "$mnt" | grep -vx -e nix-path-registration -e storedisk-manifest >"$WORK/got-top"
	check "$what: the image's top level is the closure" cmp -s "$WORK/got-top" "$WORK/want-top"
	# shellcheck disable=SC2046
	listing /nix/store $(cat "$clos") >"$WORK/list-store"
	# shellcheck disable=SC2046
	listing "$mnt" $(cat "$clos") >"$WORK/list-img"
	check "$what: types, modes, owners, sizes, mtimes, link targets = /nix/store" \
		cmp -s "$WORK/list-img" "$WORK/list-store"
	# shellcheck disable=SC2046
	contents /nix/store $(cat "$clos") >"$WORK/sum-store"
	# shellcheck disable=SC2046
	contents "$mnt" $(cat "$clos") >"$WORK/sum-img"
	check "$what: file bytes = /nix/store ($(wc -l <"$WORK/sum-img") files, SHA-256)" \
		eval '[ -s "$WORK/sum-store" ] && cmp -s "$WORK/sum-img" "$WORK/sum-store"'
	# nix-hash prints one hash a line, in the order of its arguments.
	sed "s|^/nix/store/|$mnt/|" "$clos" | tr '\n' '\0' |
		xargs -0 -r nix-hash --type sha256 --base32 | sed 's/^/sha256:/' >"$WORK/nar-img"
	awk 'NR == FNR { h[$1] = $2; next } { print h[$1] }' "$WORK/nix-info" "$clos" >"$WORK/nar-want"
	check "$what: nix-hash of every path on the image ($(wc -l <"$WORK/nar-img")) = its registered narHash" \
		eval '[ -s "$WORK/nar-want" ] && cmp -s "$WORK/nar-img" "$WORK/nar-want"'
}

# load_into_nix MNT REG ROOT CLOSURE-FILE WHAT [expect-bad]: a fresh Nix
# store rooted at $WORK/nixroot.N on an overlay of the mounted image (Nix
# creates .links in its store directory, so the image alone is too
# read-only), its database loaded from REG; --verify --check-contents
# must pass (or fail, with expect-bad).
NR=0
load_into_nix() {
	mnt=$1
	reg=$2
	root=$3
	clos=$4
	what=$5
	NR=$((NR + 1))
	r=$WORK/nixroot.$NR
	mkdir -p "$r/upper" "$r/ovwork" "$r/nix/store"
	if ! mount -t overlay overlay -o "lowerdir=$mnt,upperdir=$r/upper,workdir=$r/ovwork" "$r/nix/store" 2>"$WORK/err"; then
		skip "$what: overlay mounts not permitted here ($(head -1 "$WORK/err"))"
		return
	fi
	MOUNTS="$r/nix/store $MOUNTS"
	if [ "${6:-}" = expect-bad ]; then
		nix-store --store "$r" --load-db <"$reg" >/dev/null 2>&1
		nix-store --store "$r" --verify --check-contents >"$WORK/out" 2>&1
		check "$what: nix-store --verify --check-contents fails" [ $? -ne 0 ]
	else
		expect_rc 0 "$what: nix-store --load-db into a store on the image" \
			nix-store --store "$r" --load-db <"$reg"
		nix-store --store "$r" -qR "$root" 2>/dev/null | sort >"$WORK/out"
		check "$what: nix-store -qR in that store = the host's" cmp -s "$WORK/out" "$clos"
		expect_rc 0 "$what: nix-store --verify --check-contents passes" \
			nix-store --store "$r" --verify --check-contents
	fi
	umount "$r/nix/store"
}

# A registration in --dump-db form for a closure, and a copy with one
# narHash changed.
closure_reg() {
	# shellcheck disable=SC2046
	nix-store --dump-db $(cat "$1") >"$2"
	python3 - "$2" "$2.bad" <<'PY'
import sys
lines = open(sys.argv[1]).read().split("\n")
h = lines[1]
lines[1] = ("1" if h[0] != "1" else "2") + h[1:]
open(sys.argv[2], "w").write("\n".join(lines))
PY
}

candidates=$WORK/candidates
ls /nix/store | grep -v '^\.' >"$candidates"
if can_mount; then MOUNTABLE=1; else MOUNTABLE=; fi
[ -n "$MOUNTABLE" ] || skip "kernel mounts of the images: loop mounts not permitted here"

while read -r name root; do
	img=$WORK/$name.img
	expect_rc 0 "$name: pack (squashfs, --scan)" "$SD" pack -q -o "$img" --store /nix/store --scan "$root"
	expect_rc 0 "$name: verify" "$SD" verify "$img"
	expect_rc 0 "$name: verify --candidates (every hash in /nix/store)" "$SD" verify --candidates "$candidates" "$img"
	if [ -n "$MOUNTABLE" ] && mount_image "$img" "$WORK/mnt.$name"; then
		same_as_store "$WORK/mnt.$name" "$WORK/scan.$name" "$name: mounted image"
		umount_image "$WORK/mnt.$name"
	fi
done <"$WORK/roots"

# The superset root packed with Nix's closure is not self-contained: the
# undeclared path exists in the store, so pack (checking the closure it was
# given) refuses it; accepted with --allow-missing, verify finds it.
root=$(rootpath superset)
expect_rc 1 "superset: pack with Nix's registration refuses the reference" "$SD" pack -q -o "$WORK/superset-nix.img" \
	--store /nix/store --registration "$WORK/db.reg" "$root"
check "superset: pack names the path Nix did not record" contains "$WORK/err" "${STOWAWAY##*/}, which is not in the closure"
check "superset: nothing at IMAGE" [ ! -e "$WORK/superset-nix.img" ]
expect_rc 0 "superset: pack with Nix's registration and --allow-missing" "$SD" pack -q -o "$WORK/superset-nix.img" \
	--store /nix/store --registration "$WORK/db.reg" --allow-missing --embed-registration "$root"
expect_rc 1 "superset: verify finds the path Nix did not record" "$SD" verify "$WORK/superset-nix.img"
check "superset: the violation names it" contains "$WORK/out" "${STOWAWAY##*/}"

# One image of every root in each format, from Nix's registration, loaded
# into a fresh Nix store.
cat "$WORK"/nix.* | sort -u >"$WORK/nix.ALL"
closure_reg "$WORK/nix.ALL" "$WORK/all.reg"
for fmt in squashfs erofs; do
	img=$WORK/all-$fmt.img
	# shellcheck disable=SC2046
	expect_rc 0 "all roots: pack --format $fmt --registration" "$SD" pack -q -o "$img" --format "$fmt" \
		--store /nix/store --registration "$WORK/db.reg" $(awk '{ print $2 }' "$WORK/roots")
	# stowaway is a root too, so this image is self-contained.
	expect_rc 0 "all roots ($fmt): verify" "$SD" verify --candidates "$candidates" "$img"
	[ -n "$MOUNTABLE" ] || continue
	mount_image "$img" "$WORK/mnt.all-$fmt" || {
		fail "all roots ($fmt): mount"
		continue
	}
	same_as_store "$WORK/mnt.all-$fmt" "$WORK/nix.ALL" "all roots ($fmt)"
	load_into_nix "$WORK/mnt.all-$fmt" "$WORK/all.reg" "$(rootpath everything)" \
		"$WORK/nix.everything" "all roots ($fmt), Nix's registration"
	load_into_nix "$WORK/mnt.all-$fmt" "$WORK/all.reg.bad" "$(rootpath everything)" \
		"$WORK/nix.everything" "all roots ($fmt), a tampered narHash (control)" expect-bad
	umount_image "$WORK/mnt.all-$fmt"
done

# ---------------------------------------------------------------------------
# Features being added: checked when the help shows them.

not_yet() { skip "$1: not implemented yet"; }

# closure --db: Nix's SQLite database.
DB=/nix/var/nix/db/db.sqlite
if "$SD" closure --help 2>&1 | grep -q -- '--db'; then
	dbarg=$DB
	"$SD" closure --store /nix/store --db "$dbarg" "$(rootpath text)" >/dev/null 2>&1
	[ $? -eq 2 ] && dbarg=${DB%/*}
	echo "# closure --db $dbarg"
	while read -r name root; do
		"$SD" closure --store /nix/store --db "$dbarg" "$root" >"$WORK/out" 2>"$WORK/err"
		check "$name: closure --db = nix-store -qR" cmp -s "$WORK/out" "$WORK/nix.$name"
		"$SD" closure --store /nix/store --db "$dbarg" --graph "$root" 2>/dev/null | sort >"$WORK/out"
		check "$name: closure --db --graph = nix-store -q --references" cmp -s "$WORK/out" "$WORK/nix-edges.$name"
	done <"$WORK/roots"
	"$SD" closure "$(rootpath superset)" >"$WORK/out" 2>"$WORK/err"
	check "superset: with $DB present the default is the database (= nix-store -qR)" \
		cmp -s "$WORK/out" "$WORK/nix.superset"
	# shellcheck disable=SC2046
	"$SD" closure --store /nix/store --db "$dbarg" --json $(awk '{ print $2 }' "$WORK/roots") \
		>"$WORK/db.json" 2>/dev/null
	check "closure --db --json: nar_hash/nar_size = nix-store -q --hash/--size" \
		python3 "$WORK/narcheck.py" "$WORK/db.json" "$WORK/nix-info"
else
	not_yet "closure --db (Nix's SQLite database)"
fi

everything=$(rootpath everything)

# registration: narHash/narSize computed from the files, in --load-db form.
if "$SD" --help 2>&1 | grep -qw registration; then
	closure_reg "$WORK/nix.everything" "$WORK/everything.reg"
	expect_rc 0 "registration --scan (everything)" "$SD" registration --store /nix/store --scan "$everything"
	check "registration --scan: paths, computed narHash/narSize, references = nix-store --dump-db" \
		same_reg "$WORK/out" "$WORK/everything.reg"
	# shellcheck disable=SC2046
	expect_rc 0 "registration --registration (all roots)" "$SD" registration --store /nix/store \
		--registration "$WORK/db.reg" $(awk '{ print $2 }' "$WORK/roots")
	check "registration of all roots from --dump-db: = nix-store --dump-db of their closure" \
		same_reg "$WORK/out" "$WORK/all.reg"
	expect_rc 0 "registration --image (everything, squashfs)" "$SD" registration --image "$WORK/everything.img"
	check "registration --image: = nix-store --dump-db" same_reg "$WORK/out" "$WORK/everything.reg"
	expect_rc 0 "registration --image (all roots, erofs)" "$SD" registration --image "$WORK/all-erofs.img"
	# On the image references are scanned: superset -> stowaway appears.
	python3 - "$WORK/all.reg" "$WORK/all.reg.super" "$(rootpath superset)" "$STOWAWAY" <<'PY'
import sys
src, dst, sup, stow = sys.argv[1:]
lines = open(src).read().split("\n")
i = 0
while i < len(lines) and lines[i]:
    n = int(lines[i + 4])
    if lines[i] == sup:
        lines[i + 4] = str(n + 1)
        lines.insert(i + 5, stow)
        n += 1
    i += 5 + n
open(dst, "w").write("\n".join(lines))
PY
	check "registration --image (erofs): = nix-store --dump-db plus the undeclared edge" \
		same_reg "$WORK/out" "$WORK/all.reg.super"
else
	not_yet "registration (computed narHash/narSize)"
fi

# pack --registration-out FILE: the image's registration in --dump-db form.
if "$SD" pack --help 2>&1 | grep -q -- '--registration-out'; then
	expect_rc 0 "pack --registration-out" "$SD" pack -q -o "$WORK/regout.img" --store /nix/store --scan \
		--registration-out "$WORK/regout.reg" "$everything"
	closure_reg "$WORK/nix.everything" "$WORK/everything.reg"
	check "pack --registration-out: paths, narHash, narSize, references = nix-store --dump-db" \
		same_reg "$WORK/regout.reg" "$WORK/everything.reg"
else
	not_yet "pack --registration-out"
fi

# pack --embed-registration: the image carries nix-path-registration, which
# loads into a fresh Nix store on the mounted image.
if "$SD" pack --help 2>&1 | grep -q -- '--embed-registration'; then
	for fmt in squashfs erofs; do
		img=$WORK/embed-$fmt.img
		expect_rc 0 "pack --embed-registration ($fmt)" "$SD" pack -q -o "$img" --format "$fmt" \
			--store /nix/store --scan --embed-registration "$everything"
		expect_rc 0 "verify of an image with an embedded registration ($fmt)" "$SD" verify "$img"
		[ -n "$MOUNTABLE" ] || continue
		mount_image "$img" "$WORK/mnt.embed-$fmt" || {
			fail "embed ($fmt): mount"
			continue
		}
		m=$WORK/mnt.embed-$fmt
		if check "embed ($fmt): nix-path-registration at the image root" [ -f "$m/nix-path-registration" ]; then
			closure_reg "$WORK/nix.everything" "$WORK/everything.reg"
			check "embed ($fmt): the embedded registration = nix-store --dump-db (hash, size, references)" \
				same_reg "$m/nix-path-registration" "$WORK/everything.reg"
			same_as_store "$m" "$WORK/nix.everything" "embed ($fmt)"
			load_into_nix "$m" "$m/nix-path-registration" "$everything" "$WORK/nix.everything" \
				"embed ($fmt), the embedded registration"
		fi
		umount_image "$m"
	done
else
	not_yet "pack --embed-registration (image loads into Nix with --load-db)"
fi

# Same closure, same bytes, whatever the source: everything's closure
# packed with --embed-registration from Nix's database (derivers there),
# a --dump-db registration (derivers too), a path list, a scan, a tar and
# a real nix-store --export stream gives one image and one registration,
# derivers empty; --keep-derivers keeps Nix's.  The registrations from the
# tar and the export load into a fresh Nix store on the mounted image.
if "$SD" pack --help 2>&1 | grep -q -- '--keep-derivers'; then
	sed 's|^/||' "$WORK/nix.everything" >"$WORK/everything.rel"
	tar --create -f "$WORK/everything.tar" -C / -T "$WORK/everything.rel"
	# shellcheck disable=SC2046
	nix-store --export $(cat "$WORK/nix.everything") >"$WORK/everything.exp"
	closure_reg "$WORK/nix.everything" "$WORK/everything.reg"
	check "everything: Nix records a deriver for its built paths" \
		grep -q '\.drv$' "$WORK/everything.reg"
	for fmt in squashfs erofs; do
		for src in db registration paths scan tar export keep-db keep-registration keep-export; do
			case $src in
			db) args="--store /nix/store --db ${dbarg:-$DB} $everything" ;;
			registration) args="--store /nix/store --registration $WORK/db.reg $everything" ;;
			paths) args="--store /nix/store --paths $WORK/nix.everything $everything" ;;
			scan) args="--store /nix/store --scan $everything" ;;
			tar) args="--tar $WORK/everything.tar $everything" ;;
			export) args="--nix-export $WORK/everything.exp $everything" ;;
			keep-db) args="--keep-derivers --store /nix/store --db ${dbarg:-$DB} $everything" ;;
			keep-registration) args="--keep-derivers --store /nix/store --registration $WORK/db.reg $everything" ;;
			keep-export) args="--keep-derivers --nix-export $WORK/everything.exp $everything" ;;
			esac
			# shellcheck disable=SC2086
			expect_rc 0 "same bytes ($fmt): pack --embed-registration from $src" \
				"$SD" pack -q --no-digest --format "$fmt" -o "$WORK/src-$src-$fmt.img" \
				--embed-registration --registration-out "$WORK/src-$src-$fmt.reg" $args
		done
		for src in db registration paths tar export; do
			check "same bytes ($fmt): the image from $src = from scan" \
				cmp -s "$WORK/src-$src-$fmt.img" "$WORK/src-scan-$fmt.img"
			check "same bytes ($fmt): --registration-out from $src = from scan" \
				cmp -s "$WORK/src-$src-$fmt.reg" "$WORK/src-scan-$fmt.reg"
		done
		check "same bytes ($fmt): the registration = nix-store --dump-db (hash, size, references)" \
			same_reg "$WORK/src-scan-$fmt.reg" "$WORK/everything.reg"
		check "same bytes ($fmt): no deriver in the default registration" \
			sh -c "! grep -q '\.drv\$' '$WORK/src-scan-$fmt.reg'"
		check "same bytes ($fmt): --keep-derivers --db gives another image (the derivers are in it)" \
			sh -c "! cmp -s '$WORK/src-keep-db-$fmt.img' '$WORK/src-scan-$fmt.img'"
		for src in registration export; do
			check "same bytes ($fmt): --keep-derivers from $src = from --db" \
				cmp -s "$WORK/src-keep-$src-$fmt.img" "$WORK/src-keep-db-$fmt.img"
		done
		# Nix's derivers, in the --dump-db form of the kept registration.
		"$SD" registration --base16 --keep-derivers --store /nix/store \
			--db "${dbarg:-$DB}" "$everything" >"$WORK/kept.reg" 2>/dev/null
		check "same bytes ($fmt): --keep-derivers from the database = nix-store --dump-db, derivers included" \
			python3 -c "
import sys
def recs(f):
    l = open(f).read().rstrip('\\n').split('\\n'); i = 0; out = {}
    while i < len(l):
        n = int(l[i + 4]); out[l[i]] = (l[i + 3], sorted(l[i + 5:i + 5 + n])); i += 5 + n
    return out
a, b = recs(sys.argv[1]), recs(sys.argv[2])
assert a == b, [(k, a.get(k), b.get(k)) for k in set(a) | set(b) if a.get(k) != b.get(k)][:3]
" "$WORK/kept.reg" "$WORK/everything.reg"
		"$SD" registration --keep-derivers --store /nix/store --db "${dbarg:-$DB}" "$everything" \
			>"$WORK/kept32.reg" 2>/dev/null
		check "same bytes ($fmt): pack --keep-derivers --registration-out = registration --keep-derivers" \
			cmp -s "$WORK/src-keep-db-$fmt.reg" "$WORK/kept32.reg"
		for src in tar export; do
			img=$WORK/src-$src-$fmt.img
			expect_rc 0 "same bytes ($fmt): verify the image from $src" "$SD" verify "$img"
			[ -n "$MOUNTABLE" ] || continue
			mount_image "$img" "$WORK/mnt.src-$src-$fmt" || {
				fail "same bytes ($fmt): mount the image from $src"
				continue
			}
			m=$WORK/mnt.src-$src-$fmt
			load_into_nix "$m" "$m/nix-path-registration" "$everything" "$WORK/nix.everything" \
				"same bytes ($fmt), the registration embedded from $src"
			umount_image "$m"
		done
	done
else
	not_yet "pack --keep-derivers (one registration whatever the source)"
fi

# verify --registration FILE: the image against a registration.
if "$SD" verify --help 2>&1 | grep -q -- '--registration'; then
	closure_reg "$WORK/nix.everything" "$WORK/everything.reg"
	expect_rc 0 "verify --registration with Nix's own registration" \
		"$SD" verify --registration "$WORK/everything.reg" "$WORK/everything.img"
	expect_rc 1 "verify --registration with one narHash changed" \
		"$SD" verify --registration "$WORK/everything.reg.bad" "$WORK/everything.img"
else
	not_yet "verify --registration"
fi

# why: the path from a root to a dependency.
if "$SD" --help 2>&1 | grep -qw why; then
	c19=$(rootpath chain19)
	c0=$(grep -- '-chain-0$' "$WORK/nix.chain19")
	expect_rc 0 "why chain-19 chain-0" "$SD" why --store /nix/store "$c19" "$c0"
	okw=0
	for p in $(cat "$WORK/nix.chain19"); do
		h=${p##*/}
		grep -q "${h%%-*}" "$WORK/out" || okw=1
	done
	check "why chain-19 chain-0: names every link of the chain" [ "$okw" -eq 0 ]
	"$SD" why --store /nix/store "$c19" "$DECOY" >/dev/null 2>&1
	check "why chain-19 decoy: fails (not a dependency)" [ $? -ne 0 ]
	if "$SD" why --help 2>&1 | grep -q -- '--json'; then
		st=$(rootpath straddle)
		for pad in a:65531 b:131078; do
			dep=$(grep -- "-leaf-pad-${pad%:*}\$" "$WORK/nix.straddle")
			"$SD" why --json --store /nix/store "$st" "$dep" >"$WORK/out" 2>/dev/null
			check "why straddle leaf-pad-${pad%:*}: the hash at offset ${pad#*:} (across a 64 KiB boundary)" \
				python3 -c "
import json, sys
c = json.load(open(sys.argv[1]))['chain']
assert len(c) == 1 and c[0]['offset'] == ${pad#*:}, c" "$WORK/out"
		done
	fi
	if "$SD" why --help 2>&1 | grep -q -- '--image'; then
		expect_rc 0 "why --image (all roots, squashfs) superset stowaway" \
			"$SD" why --image "$WORK/all-squashfs.img" "$(rootpath superset)" "$STOWAWAY"
		check "why --image names the file that mentions the undeclared path" contains "$WORK/out" "superset/undeclared"
	fi
	# The closure sources of `closure`: on /nix/store the Nix database by
	# default, which has no superset -> stowaway reference; a scan does.
	expect_rc 1 "why superset stowaway (the default: Nix's database): no chain" \
		"$SD" why "$(rootpath superset)" "$STOWAWAY"
	check "why: the default database was used" contains "$WORK/err" "using the Nix database $DB"
	expect_rc 0 "why --scan superset stowaway: the scan finds it" \
		"$SD" why --scan "$(rootpath superset)" "$STOWAWAY"
	expect_rc 0 "why --db chain-19 chain-0" "$SD" why --db "$DB" "$c19" "$c0"
else
	not_yet "why"
fi

finish
