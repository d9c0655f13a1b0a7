#!/bin/sh
# SPDX-License-Identifier: MIT
# Real-world inputs that broke (issue 10, part 5): sparse tar members (GNU
# tar -S in every sparse format) keep their size; a tar of an optimised
# store (hard links to symlinks) packs like the directory; declared sizes
# the data does not match (tar, NAR) are errors naming the entry; roots
# with "..", ".", "//", a trailing "/", relative or through symlinks are
# read as Nix reads them, for closure, why, registration and pack.
. "$SRCDIR/tests/cli/lib.sh"

H=0123456789abcdfghijklmnpqrsvwxyz   # 32 nix32 characters

# same_sha A B: file A exists and has B's bytes.
same_sha() { [ -e "$1" ] && [ "$(sha "$1")" = "$(sha "$2")" ]; }

differ() { ! cmp -s "$1" "$2"; }

# same_pack LABEL STORE TARS...: each tar packs to the bytes of the
# directory pack of STORE, squashfs and EROFS.
same_pack() {
	sp_label=$1
	sp_store=$2
	shift 2
	for fmt in squashfs erofs; do
		"$SD" pack -q --format "$fmt" -o "$WORK/dir.img" --store "$sp_store" \
			--scan $(ls -d "$sp_store"/* | sed "s|^$sp_store|/nix/store|")
		for t in "$@"; do
			rm -f "$WORK/tar.img"
			"$SD" pack -q --format "$fmt" -o "$WORK/tar.img" --tar "$t" \
				2>"$WORK/err"
			check "$sp_label: $fmt: $(basename "$t") = directory pack" \
				same_sha "$WORK/tar.img" "$WORK/dir.img"
		done
	done
}

# bad_input DESCRIPTION WANT_TEXT PACK-ARGS...: exit 1, WANT_TEXT in the
# message, nothing at the output path.
bad_input() {
	b_desc=$1
	b_text=$2
	shift 2
	rm -f "$WORK/bad.img"
	expect_rc 1 "$b_desc: refused" "$SD" pack -q -o "$WORK/bad.img" "$@"
	check "$b_desc: message says '$b_text'" contains "$WORK/err" "$b_text"
	check "$b_desc: no output file" [ ! -e "$WORK/bad.img" ]
}

# ---- 1. sparse members --------------------------------------------------
SP=$WORK/sp/nix/store
base=$H-sparse
mkdir -p "$SP/$base"
truncate -s 200000 "$SP/$base/hole"            # all hole
# data, hole, data, trailing hole
head -c 8192 "$SD" >"$SP/$base/part"
head -c 5000 "$SD" | dd of="$SP/$base/part" bs=4096 seek=64 conv=notrunc 2>/dev/null
truncate -s 1048576 "$SP/$base/part"
# a hole first, then data
truncate -s 300000 "$SP/$base/late"
printf 'tail data' | dd of="$SP/$base/late" bs=1 seek=299991 conv=notrunc 2>/dev/null
printf 'plain\n' >"$SP/$base/plain"
tars=""
for v in gnu posix-0.0 posix-0.1 posix-1.0; do
	case $v in
	gnu) opts="--format=gnu" ;;
	*) opts="--format=posix --sparse-version=${v#posix-}" ;;
	esac
	# shellcheck disable=SC2086
	(cd "$WORK/sp" && tar -S $opts -cf "$WORK/sparse-$v.tar" nix/store/$base)
	check "tar -S $v stores the holes as holes (tar smaller than the data)" \
		[ "$(stat -c %s "$WORK/sparse-$v.tar")" -lt 200000 ]
	tars="$tars $WORK/sparse-$v.tar"
done
# shellcheck disable=SC2086
same_pack "sparse" "$SP" $tars
"$SD" pack -q -o "$WORK/sp.img" --tar "$WORK/sparse-posix-1.0.tar"
for f in hole part late; do
	"$SD" cat "$WORK/sp.img" "/nix/store/$base/$f" >"$WORK/cat.out"
	check "sparse $f: cat of the image = the file" cmp -s "$WORK/cat.out" "$SP/$base/$f"
done

# A sparse map with data past the member's declared (real) size: the GNU
# header's realsize cut to 100 bytes, the checksum fixed.
python3 - "$WORK/sparse-gnu.tar" "$WORK/past.tar" <<'PY'
import sys
b = bytearray(open(sys.argv[1], "rb").read())
off = 0
while b[off + 156] != ord("S") or b"part" not in bytes(b[off:off + 100]):
    size = int(bytes(b[off + 124:off + 136]).strip(b"\0 ") or b"0", 8)
    off += 512 + (size + 511) // 512 * 512
b[off + 483:off + 495] = b"%011o\0" % 100
b[off + 148:off + 156] = b" " * 8
b[off + 148:off + 156] = b"%06o\0 " % sum(b[off:off + 512])
open(sys.argv[2], "wb").write(b)
PY
bad_input "sparse member with data past its declared size" "part' at offset" \
	--tar "$WORK/past.tar"
check "... saying why" contains "$WORK/err" "past the member's declared size"

# A pax size smaller than the data: the next header does not parse, and
# the message names the member whose size it is.  (A pax size larger than
# the data swallows what follows, as GNU tar reads it too: the declared
# size is honoured.)
python3 - "$WORK/paxsmall.tar" "$base" <<'PY'
import io, sys, tarfile
top = "nix/store/" + sys.argv[2]
with tarfile.open(sys.argv[1], "w", format=tarfile.PAX_FORMAT) as tf:
    data = b"hello world\n" * 100
    ti = tarfile.TarInfo(top + "/f")
    ti.size = len(data)
    ti.pax_headers = {"size": "100"}
    tf.addfile(ti, io.BytesIO(data))
    ti = tarfile.TarInfo(top + "/g")
    ti.size = 3
    tf.addfile(ti, io.BytesIO(b"abc"))
PY
bad_input "a pax size smaller than the data" "after entry 'nix/store/$base/f'" \
	--tar "$WORK/paxsmall.tar"
check "... saying what it declared" contains "$WORK/err" "declares 100 bytes of data"

# ---- 2. hard links to symlinks (nix-store --optimise) --------------------
OS=$WORK/opt/nix/store
a=$H-a
b=${H%??}zz-b
mkdir -p "$OS/$a/bin" "$OS/$b"
printf 'data\n' >"$OS/$a/bin/f"
ln -s f "$OS/$a/bin/l1"
ln -P "$OS/$a/bin/l1" "$OS/$a/bin/l2"          # same store path
ln -P "$OS/$a/bin/l1" "$OS/$b/l3"              # another store path
ln -s "/nix/store/$a/bin/f" "$OS/$b/abs"
ln -P "$OS/$b/abs" "$OS/$b/abs2"
ln "$OS/$a/bin/f" "$OS/$b/f2"
check "the store holds hard-linked symlinks" \
	[ "$(stat -c %h "$OS/$a/bin/l1")" -eq 3 ]
(cd "$WORK/opt" && tar -cf "$WORK/opt.tar" nix/store/$a nix/store/$b)
check "GNU tar writes hard link members to symlinks" \
	sh -c "tar tvf '$WORK/opt.tar' | grep -q '^h.*link to nix/store/$a/bin/l1'"
(cd "$WORK/opt" && tar --format=posix -cf "$WORK/opt-pax.tar" nix/store/$a nix/store/$b)
same_pack "optimised store" "$OS" "$WORK/opt.tar" "$WORK/opt-pax.tar"

# Hand-made: a hard link to a hard link, to a directory, forward.
python3 - "$WORK" "$a" <<'PY'
import io, sys, tarfile
work, a = sys.argv[1:3]
top = "nix/store/" + a

def tar(name, members):
    with tarfile.open(work + "/" + name, "w", format=tarfile.GNU_FORMAT) as tf:
        for n, kind, arg in members:
            ti = tarfile.TarInfo(top + n)
            ti.type = kind
            ti.mode = 0o755 if kind == tarfile.DIRTYPE else 0o644
            if kind == tarfile.REGTYPE:
                ti.size = len(arg)
                tf.addfile(ti, io.BytesIO(arg))
            else:
                ti.linkname = arg if kind == tarfile.SYMTYPE else top + arg
                tf.addfile(ti)

tar("chain.tar", [("", tarfile.DIRTYPE, ""), ("/f", tarfile.REGTYPE, b"x\n"),
                  ("/s", tarfile.SYMTYPE, "f"), ("/h1", tarfile.LNKTYPE, "/f"),
                  ("/h2", tarfile.LNKTYPE, "/h1"), ("/k1", tarfile.LNKTYPE, "/s"),
                  ("/k2", tarfile.LNKTYPE, "/k1")])
tar("todir.tar", [("", tarfile.DIRTYPE, ""), ("/d", tarfile.DIRTYPE, ""),
                  ("/h", tarfile.LNKTYPE, "/d")])
tar("forward.tar", [("", tarfile.DIRTYPE, ""), ("/h", tarfile.LNKTYPE, "/f"),
                    ("/f", tarfile.REGTYPE, b"x\n")])
tar("absent.tar", [("", tarfile.DIRTYPE, ""), ("/h", tarfile.LNKTYPE, "/nope")])
PY
CS=$WORK/chain/nix/store
mkdir -p "$CS/$a"
printf 'x\n' >"$CS/$a/f"
for n in h1 h2; do ln "$CS/$a/f" "$CS/$a/$n"; done
ln -s f "$CS/$a/s"
for n in k1 k2; do ln -s f "$CS/$a/$n"; done
same_pack "hard links to hard links" "$CS" "$WORK/chain.tar"
bad_input "hard link to a directory" "a directory" --tar "$WORK/todir.tar"
check "... naming the member" contains "$WORK/err" "$a/h'"
bad_input "hard link to a later member" "no earlier member" --tar "$WORK/forward.tar"
check "... naming the member" contains "$WORK/err" "$a/h'"
bad_input "hard link to an absent member" "no earlier member" --tar "$WORK/absent.tar"

# ---- declared lengths of a NAR in an export stream ------------------------
root=$(demo_store "$WORK/s")
S=$WORK/s/nix/store
for m in longlen shortlen; do
	python3 "$SRCDIR/tests/cli/mkexport.py" "$WORK/m.exp" "$S" "$m"
	bad_input "export stream: $m" "bytes declared" --nix-export "$WORK/m.exp"
	check "export stream: $m: the entry is named" contains "$WORK/err" "NAR entry '"
done

# ---- declared narHash/narSize of a registration ---------------------------
zlib=$(cd "$S" && ls -d *-demo-zlib-1.3)
"$SD" registration --base16 --store "$S" --scan "$root" >"$WORK/good.reg"
expect_rc 0 "pack --registration --embed-registration with true narSizes" \
	"$SD" pack -q -o "$WORK/reg.img" --store "$S" --registration "$WORK/good.reg" \
	--embed-registration "$root"
python3 - "$WORK/good.reg" "$WORK/size.reg" "/nix/store/$zlib" <<'PY'
import sys
lines = open(sys.argv[1]).read().split("\n")
i = 0
while i < len(lines) and lines[i]:
    if lines[i] == sys.argv[3]:
        lines[i + 2] = str(int(lines[i + 2]) + 8)
    i += 5 + int(lines[i + 4])
open(sys.argv[2], "w").write("\n".join(lines))
PY
bad_input "a registration whose narSize the files contradict" \
	"/nix/store/$zlib: its files give narSize" --store "$S" \
	--registration "$WORK/size.reg" --embed-registration "$root"
expect_rc 1 "registration: the same contradiction is refused" \
	"$SD" registration --store "$S" --registration "$WORK/size.reg" "$root"
expect_rc 0 "without an embedded registration nothing is hashed: packs" \
	"$SD" pack -q -o "$WORK/noreg.img" --store "$S" --registration "$WORK/size.reg" "$root"

# ---- 3. roots as Nix reads them --------------------------------------------
app=$(basename "$root")
tool=$(cd "$S" && ls -d *-demo-tool-1.0)
"$SD" closure --store "$S" "/nix/store/$zlib" >"$WORK/want-zlib"
"$SD" closure --store "$S" "/nix/store/$app" >"$WORK/want-app"
check "the demo closures differ" differ "$WORK/want-zlib" "$WORK/want-app"
mkdir -p "$WORK/d/e"
ln -s "$S/$zlib" "$WORK/result"
ln -s "../../s/nix/store/$zlib" "$WORK/d/e/result-rel"
ln -s "$WORK/result" "$WORK/d/chain"
ln -s "/nix/store/$zlib" "$WORK/lresult"   # a logical link, as from nix-build
# root_is DESCRIPTION ROOT: closure of ROOT (run in $WORK/d/e) = zlib's.
root_is() {
	expect_rc 0 "closure $1" sh -c "cd '$WORK/d/e' && '$SD' closure --store '$S' '$2'"
	check "closure $1 = the closure of zlib" cmp -s "$WORK/out" "$WORK/want-zlib"
}
root_is "/nix/store/<app>/../<zlib> (logical)" "/nix/store/$app/../$zlib"
root_is "<phys>/<app>/../<zlib> (physical)" "$S/$app/../$zlib"
root_is "<app>/bin/../../<zlib>" "/nix/store/$app/bin/../../$zlib"
root_is "with // and a trailing /" "/nix/store//$zlib/"
root_is "with ./ components" "/nix/./store/./$zlib/./lib"
root_is "/nix/store/../store/<zlib>" "/nix/store/../store/$zlib"
root_is "relative to the cwd" "../../s/nix/store/$zlib"
root_is "through a relative symlink" "./result-rel"
root_is "through a symlink to a symlink" "../chain/"
root_is "through a symlink, then inside the path" "../../result/lib/../lib"
# "result/.." is lexical too: the directory holding the link, not the store.
expect_rc 1 "closure <link>/../<zlib> is not read through the link" \
	"$SD" closure --store "$S" "$WORK/result/../$zlib"
expect_rc 1 "closure /nix/store/<app>/.. is the store directory: refused" \
	"$SD" closure --store "$S" "/nix/store/$app/.."

expect_rc 0 "why /nix/store/<zlib>/../<app> <tool>" \
	"$SD" why --store "$S" "/nix/store/$zlib/../$app" "/nix/store/$tool"
expect_rc 1 "why /nix/store/<app>/../<zlib> <tool>: no chain (zlib's closure)" \
	"$SD" why --store "$S" "/nix/store/$app/../$zlib" "/nix/store/$tool"
"$SD" registration --store "$S" "/nix/store/$zlib" >"$WORK/reg-want"
expect_rc 0 "registration /nix/store/<app>/../<zlib>" \
	"$SD" registration --store "$S" "/nix/store/$app/../$zlib"
check "... = the registration of zlib" cmp -s "$WORK/out" "$WORK/reg-want"
"$SD" pack -q -o "$WORK/zlib.img" --store "$S" "/nix/store/$zlib"
"$SD" pack -q -o "$WORK/dd.img" --store "$S" "/nix/store/$app/../$zlib"
check "pack /nix/store/<app>/../<zlib> = pack of zlib" \
	[ "$(sha "$WORK/dd.img")" = "$(sha "$WORK/zlib.img")" ]
"$SD" pack -q -o "$WORK/app.img" --store "$S" "/nix/store/$app"
expect_rc 0 "why --image /nix/store/<zlib>/../<app> <tool>" \
	"$SD" why --image "$WORK/app.img" "/nix/store/$zlib/../$app" "/nix/store/$tool"
expect_rc 1 "why --image /nix/store/<app>/../<zlib> <tool>: no chain" \
	"$SD" why --image "$WORK/app.img" "/nix/store/$app/../$zlib" "/nix/store/$tool"
expect_rc 0 "why --image ./result (a symlink into the store)" \
	sh -c "cd '$WORK' && '$SD' why --image '$WORK/app.img' /nix/store/$app ./lresult"

# Roots of a tar input.
(cd "$WORK/s" && tar -cf "$WORK/demo.tar" nix/store/*)
expect_rc 0 "pack --tar with root /nix/store/<app>/../<zlib>" \
	"$SD" pack -q -o "$WORK/t1.img" --tar "$WORK/demo.tar" "/nix/store/$app/../$zlib"
expect_rc 1 "pack --tar with root /nix/store/<app>/../<absent>: not in the input" \
	"$SD" pack -q -o "$WORK/t2.img" --tar "$WORK/demo.tar" \
	"/nix/store/$app/../00000000000000000000000000000000-absent"
check "... naming it" contains "$WORK/err" "is not in the input"
expect_rc 0 "pack --tar with root ./result (a symlink into the store)" \
	sh -c "cd '$WORK' && '$SD' pack -q -o '$WORK/t3.img' --tar '$WORK/demo.tar' ./lresult"


finish
