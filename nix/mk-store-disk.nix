# SPDX-License-Identifier: MIT
# mk-store-disk.nix — a store closure as a verified, reference-free disk
# image, built by Nix:
#
#   mkStoreDisk = import ./nix/mk-store-disk.nix {
#     inherit (pkgs) runCommand closureInfo;
#     storedisk = pkgs.callPackage ./nix/package.nix { };
#   };
#   disk = mkStoreDisk { roots = [ toplevel ]; };   # an EROFS image, lz4hc
#
# The result is one file, the image (mount it at /nix/store).  Its build
#
#  - takes the closure of ROOTS from closureInfo's store-paths and packs it
#    with `storedisk pack -q --no-digest --paths ... --embed-registration`
#    (the closure's `nix-store --load-db` registration at the image root,
#    as NixOS images keep it);
#  - runs `storedisk verify` on the image: the build FAILS when a reference
#    inside the image escapes it, so a built image is self-contained;
#  - sets `unsafeDiscardReferences.out = true` (with __structuredAttrs), so
#    Nix does not scan the image and register every path in it as the
#    image's runtime references (which `nix copy` would drag along and the
#    garbage collector would keep).  Nix honours it from 2.14 (behind the
#    experimental feature `discard-references`) and without it from 2.18;
#    an older Nix ignores the attribute, scans the image and registers the
#    whole closure (Nix 2.8: tests/nix/test-mk-store-disk.sh).
#
# The nixpkgs functions it calls are arguments, so that a stand-in can be
# given (tests/nix/nixpkgs-standin.nix):
#   runCommand NAME ENV SCRIPT — a derivation running SCRIPT (bash, $out);
#   closureInfo { rootPaths } — a derivation with a `store-paths` file;
#   storedisk — a package with bin/storedisk (nix/package.nix).
{ runCommand, closureInfo, storedisk }:

{
  # Store paths or derivations: the image holds their closure.
  roots,
  # "erofs" or "squashfs".
  format ? "erofs",
  # pack --compress ALG[:LEVEL]; null for pack's default (EROFS: none,
  # squashfs: zstd).  lz4hc writes LZ4, which every EROFS kernel reads.
  compress ? (if format == "erofs" then "lz4hc" else null),
  # The EROFS volume label (pack's default: nix-store, as microvm.nix
  # mounts it); null for the default.  squashfs has none.
  label ? null,
  # The image's store name.
  name ? "store-disk.${format}",
  # The time of every entry (pack --mtime): 1, as Nix gives store paths,
  # rather than the SOURCE_DATE_EPOCH nixpkgs sets in builds (1980), so the
  # image has the same bytes as `storedisk pack` run outside a build.
  mtime ? 1,
  # Put the registration at the image root (nix-path-registration).
  embedRegistration ? true,
  # Anything with a `store-paths` file listing the closure, one path a line
  # (the default computes it; tests give an incomplete one).
  closure ? closureInfo { rootPaths = roots; },
  # More pack arguments, e.g. [ "--pcluster-size" "64K" ].
  extraArgs ? [ ],
}:

assert builtins.elem format [ "erofs" "squashfs" ]
  || throw "mkStoreDisk: format must be \"erofs\" or \"squashfs\", not \"${format}\"";
assert label == null || format == "erofs"
  || throw "mkStoreDisk: label is an EROFS option; format is \"${format}\"";

let
  # One shell word, whatever the string holds.
  quote = s: "'" + builtins.replaceStrings [ "'" ] [ "'\\''" ] (toString s) + "'";
  words = list: builtins.concatStringsSep " " (map quote list);

  packArgs =
    [ "--format" format ]
    ++ (if compress != null then [ "--compress" compress ] else [ ])
    ++ (if label != null then [ "--label" label ] else [ ])
    ++ [ "--mtime" (toString mtime) ]
    ++ (if embedRegistration then [ "--embed-registration" ] else [ ])
    ++ extraArgs;
in
runCommand name {
  # unsafeDiscardReferences is read from the structured attributes only.
  __structuredAttrs = true;
  unsafeDiscardReferences.out = true;
} ''
  sd=${quote "${storedisk}/bin/storedisk"}
  "$sd" pack -q --no-digest -o "$out" \
    --paths ${quote "${closure}/store-paths"} \
    ${words packArgs} -- ${words roots} || exit 1
  # A reference escaping the image fails the build (exit 1).
  "$sd" verify "$out" || {
    echo "mkStoreDisk: $out is not self-contained (storedisk verify above)" >&2
    exit 1
  }
''
