#!/bin/sh
# SPDX-License-Identifier: MIT
# storedisk layers: the stack it proposes holds the closure exactly once,
# every reference lies in its layer or below, --out-dir writes the same
# lists, the plan is the same run after run, and bad input is refused.
. "$SRCDIR/tests/cli/lib.sh"

root=$(demo_store "$WORK/s")
S=$WORK/s/nix/store
ssl=$(basename "$(ls -d "$S"/*-demo-openssl-3.0)")
tool=$(basename "$(ls -d "$S"/*-demo-tool-1.0)")

"$SD" closure --store "$S" "$root" >"$WORK/closure"
"$SD" closure --graph --store "$S" "$root" >"$WORK/graph"

expect_rc 0 "layers --max 3 of the demo closure" \
	"$SD" layers --max 3 --store "$S" "$root"
cp "$WORK/out" "$WORK/plan3"
check "at most 3 layers, numbered from 1" sh -c "
	n=\$(grep -c '^# layer ' '$WORK/plan3')
	[ \"\$n\" -ge 1 ] && [ \"\$n\" -le 3 ] &&
	grep -q '^# layer 1 of ' '$WORK/plan3'"
check "the layers hold the closure, each path once" sh -c "
	grep -v '^#' '$WORK/plan3' | sort >'$WORK/listed'
	sort -u '$WORK/listed' | cmp -s - '$WORK/listed' &&
	cmp -s '$WORK/listed' '$WORK/closure'"

# layer_of: path -> layer number, from a plan on stdout
layer_map() {
	awk '/^# layer /{ k = $3; next } /^#/{ next } { print $0, k }' "$1"
}
refs_below() { # PLAN: every edge FROM TO has layer(TO) <= layer(FROM)
	layer_map "$1" >"$WORK/map"
	awk 'NR == FNR { l[$1] = $2; next }
	     !($1 in l) || !($2 in l) { bad = 1; print "unlisted", $0 }
	     l[$2] > l[$1] { bad = 1; print "above", $0 }
	     END { exit bad }' "$WORK/map" "$WORK/graph"
}
check "every reference lies in its layer or below (--max 3)" refs_below "$WORK/plan3"
for m in 1 2 4 6; do
	"$SD" layers --max $m --store "$S" "$root" >"$WORK/plan$m" 2>/dev/null
	check "every reference lies in its layer or below (--max $m)" \
		refs_below "$WORK/plan$m"
done
check "--max 1 is one layer of the whole closure" sh -c "
	[ \$(grep -c '^# layer ' '$WORK/plan1') -eq 1 ] &&
	[ \$(grep -vc '^#' '$WORK/plan1') -eq \$(wc -l <'$WORK/closure') ]"
check "libc, which every path reaches, is in layer 1" sh -c "
	layer_map() { awk '/^# layer /{ k = \$3; next } /^#/{ next } { print \$0, k }' \"\$1\"; }
	layer_map '$WORK/plan3' | grep -q 'demo-libc-2.40 1\$'"
check "the root is in the top layer and needs all of them" sh -c "
	n=\$(grep -c '^# layer ' '$WORK/plan3')
	grep -q \"^# root $root needs layers 1..\$n\$\" '$WORK/plan3'"

# Two roots: openssl's closure lies within the app's, so it needs no more
# layers than the app does.
expect_rc 0 "layers of two roots" \
	"$SD" layers --max 4 --store "$S" "$root" "/nix/store/$ssl"
cp "$WORK/out" "$WORK/plan2r"
check "two roots: the union of the closures, each path once" sh -c "
	grep -v '^#' '$WORK/plan2r' | sort | cmp -s - '$WORK/closure'"
check "two roots: each root's line names its top layer" sh -c "
	a=\$(sed -n 's|^# root $root needs layers 1\.\.||p' '$WORK/plan2r')
	b=\$(sed -n 's|^# root /nix/store/$ssl needs layers 1\.\.||p' '$WORK/plan2r')
	[ -n \"\$a\" ] && [ -n \"\$b\" ] && [ \"\$b\" -le \"\$a\" ]"

# --out-dir: the same lists, written whole; a second run, the same files
mkdir -p "$WORK/L2"
expect_rc 0 "layers --out-dir (a directory it makes)" "$SD" layers --max 3 --out-dir "$WORK/L" --store "$S" "$root"
check "--out-dir prints each list's file under its header" \
	grep -qx "$WORK/L/layer-1.paths" "$WORK/out"
check "--out-dir writes the lists printed without it" sh -c "
	for f in '$WORK'/L/layer-*.paths; do
		k=\${f##*layer-}; k=\${k%.paths}
		awk -v k=\$k '/^# layer /{ on = (\$3 == k); next } /^#/{ next } on' '$WORK/plan3' |
			cmp -s - \"\$f\" || exit 1
	done
	[ \$(ls '$WORK'/L | wc -l) -eq \$(grep -c '^# layer ' '$WORK/plan3') ]"
"$SD" layers --max 3 --out-dir "$WORK/L2" --store "$S" "$root" >/dev/null 2>&1
check "the plan is the same run after run" diff -r "$WORK/L" "$WORK/L2"
check "no temporary file is left in --out-dir" sh -c "! ls -a '$WORK/L' | grep -q storedisk-tmp"

# The plan packs: each layer on the ones below it (pack --paths LIST
# --base ...), the stack verifies as a union, and the layers mounted
# through overlayfs are the closure, byte for byte.
M=1234567
for fmt in squashfs erofs; do
	n=$(ls "$WORK"/L/layer-*.paths | wc -l)
	bases=
	ok=yes
	for k in $(seq 1 "$n"); do
		# shellcheck disable=SC2086
		"$SD" pack -q --format $fmt --mtime $M -o "$WORK/$fmt-$k.img" \
			--paths "$WORK/L/layer-$k.paths" $bases --store "$S" \
			>"$WORK/out" 2>"$WORK/err" || { ok=no; diag "$(cat "$WORK/err")"; }
		bases="$bases --base $WORK/$fmt-$k.img"
	done
	check "$fmt: every layer of the plan packs over the ones below" [ $ok = yes ]
	top=$WORK/$fmt-$n.img
	# shellcheck disable=SC2086
	below=$(for k in $(seq 1 $((n - 1))); do printf -- '--base %s ' "$WORK/$fmt-$k.img"; done)
	# shellcheck disable=SC2086
	expect_rc 0 "$fmt: the stack verifies as a union" "$SD" verify $below "$top"
	if [ "$n" -gt 1 ]; then
		expect_rc 1 "$fmt: the top layer alone does not" "$SD" verify "$top"
		expect_rc 1 "$fmt: the top layer of a list that is not closed is refused without --base" \
			"$SD" pack -q --format $fmt -o "$WORK/alone.img" --paths "$WORK/L/layer-$n.paths" --store "$S"
	fi
	if can_mount && { grep -qw overlay /proc/filesystems || modprobe overlay 2>/dev/null; }; then
		lower=
		for k in $(seq 1 "$n"); do
			mount_image "$WORK/$fmt-$k.img" "$WORK/m-$fmt-$k"
			lower="$WORK/m-$fmt-$k${lower:+:$lower}"
		done
		mkdir -p "$WORK/u-$fmt"
		mount -t overlay overlay -o "ro,lowerdir=$lower" "$WORK/u-$fmt" && MOUNTS="$WORK/u-$fmt $MOUNTS"
		# shellcheck disable=SC2046
		check "$fmt: the layers through overlayfs are the closure, byte for byte" \
			python3 "$SRCDIR/tests/cli/compare-tree.py" "$S" "$WORK/u-$fmt" $M \
			$(sed 's|.*/||' "$WORK/closure")
		umount "$WORK/u-$fmt"
		for k in $(seq 1 "$n"); do umount "$WORK/m-$fmt-$k"; done
	else
		skip "$fmt: overlay mount: loop mounts or overlayfs not available here"
	fi
done

# Registrations: each layer packed from its list with --embed-registration
# registers what it reaches through the layers below, so the top one's
# (the root is least popular: it is on top) is the closure's, byte for
# byte the full image's.
n=$(ls "$WORK"/L/layer-*.paths | wc -l)
bases=
ok=yes
for k in $(seq 1 "$n"); do
	# shellcheck disable=SC2086
	"$SD" pack -q --embed-registration -o "$WORK/reg-$k.img" \
		--paths "$WORK/L/layer-$k.paths" $bases --store "$S" \
		>"$WORK/out" 2>"$WORK/err" || { ok=no; diag "$(cat "$WORK/err")"; }
	bases="$bases --base $WORK/reg-$k.img"
done
check "every layer packs with --embed-registration over the ones below" [ $ok = yes ]
"$SD" pack -q --embed-registration -o "$WORK/reg-full.img" --store "$S" "$root"
"$SD" cat "$WORK/reg-full.img" nix-path-registration >"$WORK/reg-full" 2>/dev/null
"$SD" cat "$WORK/reg-$n.img" nix-path-registration >"$WORK/reg-top" 2>/dev/null
check "the top layer's registration is the full image's ($(wc -l <"$WORK/closure") paths)" \
	eval '[ -s "$WORK/reg-full" ] && cmp -s "$WORK/reg-top" "$WORK/reg-full"'
if [ "$n" -gt 1 ]; then
	expect_rc 2 "a layer that refers into a base without a registration cannot register it" \
		"$SD" pack -q --embed-registration -o "$WORK/noreg.img" --paths "$WORK/L/layer-$n.paths" \
		$(for k in $(seq 1 $((n - 1))); do printf -- '--base %s ' "$WORK/squashfs-$k.img"; done) --store "$S"
	check "... naming the base and saying why" contains "$WORK/err" "has no embedded registration"
	check "... and writes nothing" [ ! -e "$WORK/noreg.img" ]
fi

expect_rc 0 "layers --json" "$SD" layers --json --max 3 --store "$S" "$root" "/nix/store/$tool"
check "--json: layers, paths and roots agree with the text plan" python3 -c "
import json
d = json.load(open('$WORK/out'))
paths = [p for y in d['layers'] for p in y['paths']]
assert sorted(paths) == sorted(set(paths)), 'a path twice'
assert [y['layer'] for y in d['layers']] == list(range(1, len(d['layers']) + 1))
assert len(d['layers']) <= d['max_layers'] == 3
assert sum(y['bytes'] for y in d['layers']) == d['bytes']
for y in d['layers']:
    assert y['popularity_max'] >= y['popularity_min']
ups = [y['popularity_min'] for y in d['layers']]
downs = [y['popularity_max'] for y in d['layers']][1:]
assert all(a > b for a, b in zip(ups, downs)), 'layers overlap in popularity'
assert [r['root'] for r in d['roots']] == ['$root', '/nix/store/$tool']
assert d['roots'][0]['layers'] == len(d['layers'])
"

# Refused with exit 2 and a reason
expect_rc 2 "no --max is a usage error" "$SD" layers --store "$S" "$root"
check "... saying so" contains "$WORK/err" "--max"
expect_rc 2 "--max 0 is a usage error" "$SD" layers --max 0 --store "$S" "$root"
expect_rc 2 "--max x is a usage error" "$SD" layers --max x --store "$S" "$root"
expect_rc 2 "no ROOT is a usage error" "$SD" layers --max 2 --store "$S"
expect_rc 2 "--out-dir whose parent does not exist" \
	"$SD" layers --max 2 --out-dir "$WORK/nonexistent/L" --store "$S" "$root"
check "... naming it" contains "$WORK/err" "$WORK/nonexistent/L"
: >"$WORK/afile"
expect_rc 2 "--out-dir that is a file" \
	"$SD" layers --max 2 --out-dir "$WORK/afile" --store "$S" "$root"
check "... naming it" contains "$WORK/err" "$WORK/afile: not a directory"
expect_rc 2 "a path list (no references) is refused" \
	"$SD" layers --max 2 --paths "$WORK/closure" --store "$S" "$root"
check "... pointing to a source with references" contains "$WORK/err" "--scan"
expect_rc 0 "--help" "$SD" layers --help
check "--help names --max and --out-dir" sh -c "grep -q -- --max '$WORK/out' && grep -q -- --out-dir '$WORK/out'"

finish
