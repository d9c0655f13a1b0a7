# SPDX-License-Identifier: MIT
# mk-store-disk-test.nix — nix/mk-store-disk.nix built by real Nix against
# the stand-ins of tests/nix/nixpkgs-standin.nix, for
# tests/nix/test-mk-store-disk.sh:
#
#   nix-build mk-store-disk-test.nix -A image --argstr storediskBin $PWD/build/src/storedisk
#
# app refers to lib and data, lib to base: the closure of app is those four
# paths.  Attributes:
#   app, closure       the root and its closureInfo stand-in;
#   image              mkStoreDisk's defaults: EROFS, lz4hc, registration;
#   squashfs           format "squashfs", label-free, pack's compressor;
#   partial            a closure list without base (lib refers to it);
#   brokenNoReg        app packed from partial without the registration:
#                      the build must fail (verify exit 1);
#   broken             the same with the registration embedded: must fail;
#   progressProbe      pack without -q inside a build (the log shows whether
#                      stderr is a terminal, and TERM);
#   badFormat, squashfsLabel   evaluation errors (an unknown format; a label,
#                      which squashfs has not).
{ storediskBin, system ? builtins.currentSystem }:
let
  standin = import ./nixpkgs-standin.nix { inherit system; };
  storedisk = standin.hostStoredisk storediskBin;
  mkStoreDisk = import ../../nix/mk-store-disk.nix {
    inherit (standin) runCommand closureInfo;
    inherit storedisk;
  };

  mk = name: script: attrs: derivation ({
    inherit name system;
    builder = "/bin/sh";
    args = [ "-c" ("set -eu\n" + script) ];
    PATH = "/usr/bin:/bin";
  } // attrs);
in
rec {
  inherit storedisk;

  base = mk "sd-mkdisk-base" ''
    mkdir -p $out/lib
    echo "the base library" > $out/lib/libbase.so
  '' { };

  lib = mk "sd-mkdisk-lib" ''
    mkdir -p $out/lib
    printf 'RUNPATH=%s/lib\n' "$base" > $out/lib/liblib.so
  '' { inherit base; };

  data = mk "sd-mkdisk-data" ''
    mkdir -p $out/share
    echo "some data" > $out/share/data.txt
  '' { };

  app = mk "sd-mkdisk-app" ''
    mkdir -p $out/bin
    printf '#!/bin/sh\nLD_LIBRARY_PATH=%s/lib exec cat %s/share/data.txt\n' "$lib" "$data" > $out/bin/app
    chmod +x $out/bin/app
    ln -s $data/share $out/share
  '' { inherit lib data; };

  closure = standin.closureInfo { rootPaths = [ app ]; };

  image = mkStoreDisk { roots = [ app ]; };

  squashfs = mkStoreDisk { roots = [ app ]; format = "squashfs"; };

  partial = standin.runCommand "closure-info-without-base" { full = closure; } ''
    mkdir $out
    grep -v -- '-sd-mkdisk-base$' "$full/store-paths" > $out/store-paths
  '';

  brokenNoReg = mkStoreDisk {
    roots = [ app ];
    closure = partial;
    embedRegistration = false;
    name = "broken-no-registration.erofs";
  };

  broken = mkStoreDisk {
    roots = [ app ];
    closure = partial;
    name = "broken.erofs";
  };

  progressProbe = standin.runCommand "sd-progress-probe" { inherit base storedisk; } ''
    if [ -t 2 ]; then echo "probe: stderr is a terminal" >&2; else echo "probe: stderr is not a terminal" >&2; fi
    echo "probe: TERM is ''${TERM-<unset>}" >&2
    mkdir $out
    echo "$base" > paths
    "$storedisk/bin/storedisk" pack --paths paths --no-digest -o $out/img "$base"
  '';

  badFormat = mkStoreDisk { roots = [ app ]; format = "ext4"; };
  squashfsLabel = mkStoreDisk { roots = [ app ]; format = "squashfs"; label = "x"; };
}
