# SPDX-License-Identifier: MIT
# nixpkgs-standin.nix — the few nixpkgs functions nix/mk-store-disk.nix
# calls, written with builtins.derivation alone (no nixpkgs is reachable
# here), for tests/nix/test-mk-store-disk.sh.  Builders are the host's
# /bin/bash and /bin/sh with the host's tools on PATH: the builds run
# unsandboxed (scripts/nix-setup.sh sets `sandbox = false`).
{ system ? builtins.currentSystem }:
rec {
  # runCommand NAME ENV SCRIPT, as nixpkgs': SCRIPT runs in bash with
  # errexit, $out set, SOURCE_DATE_EPOCH=315532800 (as nixpkgs' stdenv sets
  # it), ENV's attributes in the environment — or, with __structuredAttrs,
  # in .attrs.sh / .attrs.json (then Nix exports none of them and `outputs`
  # maps output names to paths).
  runCommand = name: env: buildCommand: derivation ({
    inherit name system buildCommand;
    builder = "/bin/bash";
    args = [ "-c" ''
      set -e
      if [ -e .attrs.sh ]; then
        . ./.attrs.sh
        export out="''${outputs[out]}"
      fi
      export PATH=/usr/bin:/bin SOURCE_DATE_EPOCH=315532800
      eval "$buildCommand"
    '' ];
  } // env);

  # closureInfo { rootPaths }: $out/store-paths (the closure, sorted) and
  # $out/registration (closureInfo's form without narHash/narSize: path,
  # empty deriver, reference count, references), from the
  # exportReferencesGraph files Nix writes for the build.
  closureInfo = { rootPaths }:
    let n = builtins.length rootPaths; in
    derivation {
      name = "closure-info";
      inherit system;
      builder = "/bin/sh";
      PATH = "/usr/bin:/bin";
      exportReferencesGraph = builtins.concatLists (builtins.genList
        (i: [ "graph-${toString i}" (builtins.elemAt rootPaths i) ]) n);
      args = [ "-c" ''
        set -eu
        mkdir "$out"
        # Records: path, deriver, count, that many references; a path
        # reached from several roots is kept once.
        awk '
          st == 0 { keep = !($0 in seen); seen[$0] = 1; st = 1; if (keep) print; next }
          st == 1 { st = 2; if (keep) print; next }
          st == 2 { cnt = $0 + 0; st = cnt ? 3 : 0; if (keep) print; next }
          st == 3 { if (keep) print; if (--cnt == 0) st = 0 }
        ' ${builtins.concatStringsSep " " (builtins.genList (i: "graph-${toString i}") n)} \
          >"$out/registration"
        awk '
          st == 0 { print; st = 1; next }
          st == 1 { st = 2; next }
          st == 2 { cnt = $0 + 0; st = cnt ? 3 : 0; next }
          st == 3 { if (--cnt == 0) st = 0 }
        ' "$out/registration" | sort >"$out/store-paths"
      '' ];
    };

  # The storedisk built on this host (build/src/storedisk, a dynamically
  # linked binary: it needs the host's /usr/lib, so no sandbox), as a
  # package with bin/storedisk.  The binary is imported by content, so a
  # rebuilt binary is a new package.
  hostStoredisk = bin: derivation {
    name = "storedisk-host";
    inherit system;
    builder = "/bin/sh";
    PATH = "/usr/bin:/bin";
    bin = builtins.path { path = /. + bin; name = "storedisk-host-bin"; };
    args = [ "-c" ''
      set -eu
      mkdir -p "$out/bin"
      cp "$bin" "$out/bin/storedisk"
      chmod 0555 "$out/bin/storedisk"
    '' ];
  };
}
