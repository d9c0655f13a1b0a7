#!/bin/sh
# SPDX-License-Identifier: MIT
# Inputs without a local store: `pack --tar` (absolute and relative names,
# file and stdin) and `pack --nix-export` give the same image bytes as the
# directory input, for squashfs and EROFS; malformed streams are clean
# errors naming the offset, with nothing left at the output path.
. "$SRCDIR/tests/cli/lib.sh"

root=$(demo_store "$WORK/s")
S=$WORK/s/nix/store
app=$(basename "$root")
# An absolute symlink out of the store (kept, never followed), a hard link
# and an executable.
ln -s /etc "$S/$app/share/etc-link"
echo data >"$S/$app/share/f" && ln "$S/$app/share/f" "$S/$app/share/f2"
printf '#!/bin/sh\n' >"$S/$app/share/run" && chmod 755 "$S/$app/share/run"
all=$(ls -d "$S"/* | sed "s|^$WORK/s||")

(cd "$WORK/s" && tar --create -f "$WORK/rel.tar" nix/store/*)
(cd "$WORK/s" && tar --create --absolute-names -f "$WORK/abs.tar" \
	--transform "s|^$WORK/s||" $(ls -d "$WORK/s/nix/store/"*) 2>/dev/null)
check "tar with absolute names has /nix/store/ entries" \
	sh -c "tar tf '$WORK/abs.tar' 2>/dev/null | head -1 | grep -q '^/nix/store/'"

python3 "$SRCDIR/tests/cli/mkexport.py" "$WORK/demo.exp" "$S"

for fmt in squashfs erofs; do
	# shellcheck disable=SC2086
	"$SD" pack -q --format "$fmt" -o "$WORK/dir-$fmt.img" \
		--store "$S" --scan $all
	want=$(sha "$WORK/dir-$fmt.img")
	"$SD" pack -q --format "$fmt" -o "$WORK/rel-$fmt.img" \
		--tar "$WORK/rel.tar"
	check "$fmt: tar with relative names = directory input" \
		[ "$(sha "$WORK/rel-$fmt.img")" = "$want" ]
	"$SD" pack -q --format "$fmt" -o "$WORK/abs-$fmt.img" \
		--tar - <"$WORK/abs.tar"
	check "$fmt: tar with absolute names from stdin = directory input" \
		[ "$(sha "$WORK/abs-$fmt.img")" = "$want" ]
	gzip -c "$WORK/rel.tar" >"$WORK/rel.tar.gz"
	"$SD" pack -q --format "$fmt" -o "$WORK/gz-$fmt.img" \
		--tar "$WORK/rel.tar.gz"
	check "$fmt: gzip-compressed tar = directory input" \
		[ "$(sha "$WORK/gz-$fmt.img")" = "$want" ]
	"$SD" pack -q --format "$fmt" -o "$WORK/exp-$fmt.img" \
		--nix-export "$WORK/demo.exp"
	check "$fmt: nix-export stream = directory input" \
		[ "$(sha "$WORK/exp-$fmt.img")" = "$want" ]
	"$SD" pack -q --format "$fmt" -o "$WORK/exp2-$fmt.img" \
		--nix-export - <"$WORK/demo.exp"
	check "$fmt: nix-export stream from stdin = directory input" \
		[ "$(sha "$WORK/exp2-$fmt.img")" = "$want" ]
done

# A real `nix-store --export` of a valid path's closure, where Nix is here.
real=""
if command -v nix-store >/dev/null 2>&1; then
	for p in /nix/store/*; do
		case $p in *.drv | *.lock) continue ;; esac
		if nix-store --check-validity "$p" 2>/dev/null; then
			real=$p
			break
		fi
	done
fi
if [ -n "$real" ]; then
	nix-store -qR "$real" >"$WORK/real.list"
	# shellcheck disable=SC2046
	nix-store --export $(cat "$WORK/real.list") >"$WORK/real.exp"
	"$SD" pack -q -o "$WORK/real-dir.img" --store /nix/store \
		--paths "$WORK/real.list"
	"$SD" pack -q -o "$WORK/real-exp.img" --nix-export "$WORK/real.exp"
	check "real nix-store --export of $(basename "$real")'s closure = directory input" \
		[ "$(sha "$WORK/real-exp.img")" = "$(sha "$WORK/real-dir.img")" ]
else
	skip "real nix-store --export: no Nix or no valid store path here"
fi

expect_rc 0 "a root in the tar is accepted" \
	"$SD" pack -q -o "$WORK/r.img" --tar "$WORK/rel.tar" "$root"
expect_rc 1 "a root not in the tar is refused" \
	"$SD" pack -q -o "$WORK/r2.img" --tar "$WORK/rel.tar" \
	/nix/store/00000000000000000000000000000000-absent
check "... naming it" contains "$WORK/err" "is not in the input"
expect_rc 2 "--tar with --store is a usage error" \
	"$SD" pack -q -o "$WORK/u.img" --tar "$WORK/rel.tar" --store "$S"

# bad_input DESCRIPTION WANT_TEXT PACK-ARGS...: exit 1, WANT_TEXT in the
# message, nothing at the output path.
bad_input() {
	b_desc=$1
	b_text=$2
	shift 2
	rm -f "$WORK/bad.img"
	expect_rc 1 "$b_desc: refused" "$SD" pack -q \
		-o "$WORK/bad.img" "$@"
	check "$b_desc: message says '$b_text'" contains "$WORK/err" "$b_text"
	check "$b_desc: no output file" [ ! -e "$WORK/bad.img" ]
}

size=$(stat -c %s "$WORK/rel.tar")
for cut in 100 700 3000 $((size / 2 + 13)); do
	head -c "$cut" "$WORK/rel.tar" >"$WORK/cut.tar"
	bad_input "tar truncated at $cut" "offset" --tar "$WORK/cut.tar"
done
# Cut at a block boundary between entries: only the missing end-of-archive
# zero blocks tell.
for cut in 512 1024 4096; do
	head -c "$cut" "$WORK/rel.tar" >"$WORK/cut.tar"
	bad_input "tar cut at block boundary $cut" "truncated" \
		--tar "$WORK/cut.tar"
done
base=$app
for kind in dotdot outside device through-symlink badname; do
	python3 "$SRCDIR/tests/cli/mktar.py" "$WORK/$kind.tar" "$kind" "$base"
done
bad_input "tar entry with '..'" "'..' path component" --tar "$WORK/dotdot.tar"
bad_input "tar entry outside the store" "not in the store directory" \
	--tar "$WORK/outside.tar"
bad_input "tar with a device" "character device" --tar "$WORK/device.tar"
bad_input "tar entry below an absolute symlink (not followed)" \
	"not a directory" --tar "$WORK/through-symlink.tar"
bad_input "tar entry with an invalid store path name" "offset" \
	--tar "$WORK/badname.tar"
bad_input "a file that is not a tar" "offset" --tar "$SRCDIR/README.md"

size=$(stat -c %s "$WORK/demo.exp")
for cut in 0 7 100 1001 $((size / 2 + 5)) $((size - 8)); do
	head -c "$cut" "$WORK/demo.exp" >"$WORK/cut.exp"
	bad_input "export stream truncated at $cut" "truncated" \
		--nix-export "$WORK/cut.exp"
done
{ cat "$WORK/demo.exp" && printf 'trailing'; } >"$WORK/junk.exp"
bad_input "export stream with junk after the end" "after the end" \
	--nix-export "$WORK/junk.exp"
for m in "pad:non-zero padding" "magic:bad export magic" \
	"outside:not in the store directory" "dotdot:'.' or '..'" \
	"slash:contains '/'" "unsorted:unsorted or duplicate" \
	"duplicate:unsorted or duplicate" "missing:not in the stream"; do
	python3 "$SRCDIR/tests/cli/mkexport.py" "$WORK/m.exp" "$S" "${m%%:*}"
	bad_input "export stream: ${m%%:*}" "${m#*:}" --nix-export - \
		<"$WORK/m.exp"
done
expect_rc 0 "--allow-missing tolerates a reference not in the stream" \
	"$SD" pack -q -o "$WORK/am.img" --allow-missing --nix-export "$WORK/m.exp"

finish
