# SPDX-License-Identifier: MIT
# Everyday use: digests for copying an image between hosts, --version and
# --help on every command, progress on a terminal only, the man page.
. "$SRCDIR/tests/cli/lib.sh"

cd "$WORK" || exit 1
ROOT=$(demo_store "$WORK/st")
STORE=$WORK/st/nix/store

# The commands as `storedisk --help` lists them.
COMMANDS=$("$SD" --help | sed -n '/^Commands:/,/^$/s/^  \([a-z][a-z-]*\) .*/\1/p')
check "--help lists commands" [ -n "$COMMANDS" ]

# --- digests ---------------------------------------------------------
mkdir imgs
expect_rc 0 "pack writes the image" "$SD" pack -q -o imgs/img --store "$STORE" "$ROOT"
check "IMAGE.sha256 written" [ -f imgs/img.sha256 ]
check "IMAGE.sha256 is sha256sum's line" \
	[ "$(cat imgs/img.sha256)" = "$(sha imgs/img)  img" ]
check "sha256sum -c passes in the image's directory" \
	sh -c 'cd imgs && sha256sum -c img.sha256 >/dev/null'

expect_rc 0 "--digest-out FILE" "$SD" pack -q -o imgs/img2 --digest-out imgs/d.txt \
	--store "$STORE" "$ROOT"
check "--digest-out: FILE written" [ -f imgs/d.txt ]
check "--digest-out: no IMAGE.sha256" [ ! -e imgs/img2.sha256 ]
check "--digest-out: names the image" contains imgs/d.txt "  img2"
expect_rc 0 "--no-digest" "$SD" pack -q --no-digest -o imgs/img3 --store "$STORE" "$ROOT"
check "--no-digest: no digest file" [ ! -e imgs/img3.sha256 ]
expect_rc 0 "--no-digest still summarises" "$SD" pack --no-digest -o imgs/img4 \
	--store "$STORE" "$ROOT"
check "summary has the sha256" contains "$WORK/out" "sha256: $(sha imgs/img4)"

# The summary names the compressor asked for, and says so when no file
# ended up compressed (the demo's files are too small to gain from lz4
# without --ztailpacking), as `info` then lists no compressor.
expect_rc 0 "EROFS lz4 pack of small files" "$SD" pack --no-digest -o imgs/small.erofs \
	--format erofs --compress lz4 --store "$STORE" "$ROOT"
check "... the summary says no file was compressed" \
	contains "$WORK/out" "lz4 compression (no file compressed"
expect_rc 0 "... info of that image" "$SD" info imgs/small.erofs
check "... info lists no compressor" grep -q '^compressors: *none$' "$WORK/out"
expect_rc 0 "EROFS lz4 --ztailpacking pack of small files" "$SD" pack --no-digest \
	-o imgs/small-zt.erofs --format erofs --compress lz4 --ztailpacking \
	--store "$STORE" "$ROOT"
check "... the summary just names lz4" grep -q 'erofs, lz4 compression$' "$WORK/out"
expect_rc 0 "... info of that image" "$SD" info imgs/small-zt.erofs
check "... info lists lz4" grep -q '^compressors: *lz4 ' "$WORK/out"

# A root given by its physical path in a store other than --store's: the
# error names the store it seems to be in.
mkdir -p empty-store
expect_rc 1 "a root outside the store is refused" "$SD" closure --scan \
	--store-dir /x/store --store "$WORK/empty-store" "$STORE/${ROOT##*/}"
check "... with a --store hint naming its store" \
	contains "$WORK/err" "its store seems to be $STORE: give --store $STORE"

# The copy on a host without a store: a bogus store directory, an empty
# HOME, and (under strace) no access to any store or database.
mkdir -p far/home
cp imgs/img imgs/img.sha256 far/
expect_rc 0 "verify --digest: intact copy" env HOME="$WORK/far/home" \
	"$SD" verify --store-dir /nonexistent/store --digest far/img.sha256 far/img
check "verify --digest says the digest matched" sh -c "
	head -n 1 '$WORK/out' | grep -qx 'digest: OK (sha256 $(sha far/img))'"
expect_rc 0 "verify --digest: default store dir" \
	"$SD" verify --digest far/img.sha256 far/img
expect_rc 0 "verify -q --digest: intact copy" "$SD" verify -q --digest far/img.sha256 far/img
check "verify -q --digest prints nothing" sh -c "[ ! -s '$WORK/out' ] && [ ! -s '$WORK/err' ]"
cut -d' ' -f1 far/img.sha256 >far/bare
expect_rc 0 "verify --digest: a bare hex line" "$SD" verify --digest far/bare far/img
if command -v strace >/dev/null && strace -o /dev/null true 2>/dev/null; then
	traced strace -f -e trace=%file -o far/trace env HOME="$WORK/far/home" \
		"$SD" verify --digest far/img.sha256 far/img >/dev/null 2>&1
	if grep -v execve far/trace | grep -qE '"/nix/|db\.sqlite'; then
		fail "verify touches no store or database"
		grep -v execve far/trace | grep -E '"/nix/|db\.sqlite' | head -3
	else
		ok "verify touches no store or database"
	fi
else
	skip "strace not usable here"
fi

cp far/img far/damaged
printf '\125' | dd of=far/damaged bs=1 seek=5000 conv=notrunc 2>/dev/null
expect_rc 1 "verify --digest: damaged copy is exit 1" \
	"$SD" verify --digest far/img.sha256 far/damaged
check "damaged copy: says digest mismatch" contains "$WORK/err" "digest mismatch: expected"
expect_rc 1 "verify --json --digest: damaged copy" \
	"$SD" verify --json --digest far/img.sha256 far/damaged
check "damaged copy: JSON has the error" contains "$WORK/out" '"error": '
echo "not a digest" >far/junk
expect_rc 2 "verify --digest: bad digest file is exit 2" \
	"$SD" verify --digest far/junk far/img
expect_rc 2 "verify --digest: missing digest file is exit 2" \
	"$SD" verify --digest far/nonexistent far/img

# --- --version and --help on every command ----------------------------
want_version=$("$SD" --version | cut -d' ' -f2)
for c in $COMMANDS; do
	expect_rc 0 "$c --version" "$SD" "$c" --version
	check "$c --version prints the version" contains "$WORK/out" "$want_version"
	expect_rc 0 "$c --help" "$SD" "$c" --help
	check "$c --help mentions exit codes" contains "$WORK/out" "Exit codes"
done

# --- progress: on a terminal only, and no effect on the bytes ------------
if command -v script >/dev/null && script -qec true /dev/null >/dev/null 2>&1 </dev/null; then
	for fmt in squashfs erofs "erofs --compress lz4hc"; do
		rm -f imgs/tty imgs/tty.sha256 imgs/pipe imgs/pipe.sha256
		TERM=xterm script -qec "'$SD' pack --format $fmt -o imgs/tty --store '$STORE' '$ROOT'" \
			/dev/null </dev/null >"$WORK/tty.log" 2>&1
		check "progress on a terminal ($fmt)" grep -q 'files, .*/s, ETA' "$WORK/tty.log"
		check "progress line cleared ($fmt)" grep -q "$(printf '\r\033\\[K')" "$WORK/tty.log"
		expect_rc 0 "pack piped ($fmt)" "$SD" pack --format $fmt -o imgs/pipe \
			--store "$STORE" "$ROOT"
		check "no progress when piped ($fmt)" [ ! -s "$WORK/err" ]
		check "progress does not change the bytes ($fmt)" cmp -s imgs/tty imgs/pipe
		script -qec "'$SD' pack -q --format $fmt -o imgs/tty --store '$STORE' '$ROOT'" \
			/dev/null </dev/null >"$WORK/tty.log" 2>&1
		check "no progress with -q on a terminal ($fmt)" [ ! -s "$WORK/tty.log" ]
	done
	# No TERM or a dumb one: no line can be redrawn.  A Nix builder has a
	# pty, TERM=xterm-256color and NIX_LOG_FD=2: no line in a build log.
	# script(1) itself sets TERM=dumb when it is unset, so TERM is set up
	# inside the pty, by env, and recorded by the command that runs pack.
	cat >"$WORK/term-probe.sh" <<'EOF'
printf '%s' "${TERM-<unset>}" >"$1"
shift
exec "$@"
EOF
	for term in unset empty dumb nix-build; do
		case $term in
		unset) termenv="env -u TERM" want_term="<unset>" ;;
		empty) termenv="env TERM=" want_term="" ;;
		dumb) termenv="env TERM=dumb" want_term="dumb" ;;
		nix-build) termenv="env TERM=xterm-256color NIX_LOG_FD=2" want_term="xterm-256color" ;;
		esac
		rm -f imgs/tty imgs/tty.sha256
		TERM=xterm script -qec "$termenv sh '$WORK/term-probe.sh' '$WORK/term-seen' '$SD' pack -o imgs/tty --no-digest --store '$STORE' '$ROOT'" \
			/dev/null </dev/null >"$WORK/tty.log" 2>&1
		check "pty with TERM $term: TERM as meant inside the pty" [ "$(cat "$WORK/term-seen")" = "$want_term" ]
		check "pty with TERM $term: packed" [ -s imgs/tty ]
		check "pty with TERM $term: summary printed" grep -q 'sha256' "$WORK/tty.log"
		check "pty with TERM $term: no progress line" sh -c "! grep -q 'ETA' '$WORK/tty.log'"
		check "pty with TERM $term: no escape sequence" sh -c "! grep -q \"\$(printf '\\033')\" '$WORK/tty.log'"
	done
else
	skip "script(1) from util-linux not usable: no pty test"
fi

# --- the man page: renders without warnings, names every command --------
MAN=$SRCDIR/doc/storedisk.1
if command -v groff >/dev/null; then
	groff -man -Tutf8 -ww "$MAN" >"$WORK/man.txt" 2>"$WORK/man.err"
	check "man page renders" [ -s "$WORK/man.txt" ]
	check "man page renders without warnings" [ ! -s "$WORK/man.err" ]
	sed 's/^/    groff: /' "$WORK/man.err" | head -5
elif command -v man >/dev/null; then
	check "man page renders" sh -c "man -l '$MAN' >/dev/null"
else
	skip "neither groff nor man: man page not rendered"
fi
for c in $COMMANDS; do
	check "man page has a section for $c" grep -qx "\.SS $c" "$MAN"
done
# Every long option of every command's --help, as roff writes it (\-\-x).
missing=""
for c in $COMMANDS; do
	for o in $("$SD" "$c" --help | grep -oE '^ +(-[a-zA-Z], )?--[a-z][a-z0-9-]*' |
		grep -oE -- '--[a-z][a-z0-9-]*' | sort -u); do
		grep -qF -- "$(printf '%s' "$o" | sed 's/-/\\-/g')" "$MAN" ||
			missing="$missing $c:$o"
	done
done
check "man page has every option of every command${missing:+ (missing:$missing)}" \
	[ -z "$missing" ]
check "man page documents IMAGE.sha256" contains "$MAN" "IMAGE.sha256"
check "man page documents SOURCE_DATE_EPOCH" contains "$MAN" "SOURCE_DATE_EPOCH"

# --json on failure: stdout still holds one JSON document, the error and
# the exit code (scripts reading stdout get a document on every outcome).
printf 'not an image\n' >"$WORK/notimg"
json_error() { # json_error WANT-RC WANT-TEXT COMMAND...
	want=$1 text=$2
	shift 2
	"$@" >"$WORK/jout" 2>"$WORK/jerr"
	rc=$?
	[ "$rc" -eq "$want" ] && python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
assert sys.argv[2] in d["error"], d
assert d.get("exit_code", int(sys.argv[3])) == int(sys.argv[3]), d
' "$WORK/jout" "$text" "$want" && contains "$WORK/jerr" "$text"
}
check "ls --json on a file that is no image: {error, exit_code} on stdout, exit 2" \
	json_error 2 "$WORK/notimg" "$SD" ls --json "$WORK/notimg"
check "info --json without an image: the usage error as JSON, exit 2" \
	json_error 2 "info takes one IMAGE" "$SD" info --json
check "pack --json of a root that does not exist: the error as JSON, exit 1" \
	json_error 1 "$WORK/none" "$SD" pack --json --store "$STORE" -o "$WORK/none.img" "$WORK/none"
check "verify --json on a missing image keeps its {image, error} form" \
	json_error 2 "$WORK/none.img" "$SD" verify --json "$WORK/none.img"

# -q with --json: --json is output asked for; -q silences the rest only.
expect_rc 0 "pack -q --json --no-digest" "$SD" pack -q --json --no-digest -o imgs/qj \
	--store "$STORE" "$ROOT"
check "... still prints its JSON document, with the image's sha256" python3 -c "
import json
d = json.load(open('$WORK/out'))
assert d['image'] == 'imgs/qj' and d['sha256'] == '$(sha imgs/qj)', d
"
check "... and nothing on stderr" [ ! -s "$WORK/err" ]
check "... with the wall time of each phase and in all, in seconds" python3 -c "
import json
d = json.load(open('$WORK/out'))
m = d['phase_seconds']
assert sorted(m) == ['finish', 'prepare', 'tree', 'write'], m
assert all(isinstance(v, (int, float)) and 0 <= v < 600 for v in m.values()), m
assert abs(d['seconds'] - sum(m.values())) < 0.01, d
"
check "... and no digest file" [ ! -e imgs/qj.sha256 ]
expect_rc 0 "verify -q --json" "$SD" verify -q --json imgs/qj
check "... still prints its JSON document" python3 -c "
import json
assert json.load(open('$WORK/out'))['self_contained'] is True
"
expect_rc 0 "pack -q (without --json) prints nothing" "$SD" pack -q --no-digest -o imgs/q \
	--store "$STORE" "$ROOT"
check "... on stdout or stderr" sh -c "[ ! -s '$WORK/out' ] && [ ! -s '$WORK/err' ]"

finish
