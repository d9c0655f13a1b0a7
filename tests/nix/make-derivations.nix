# SPDX-License-Identifier: MIT
# make-derivations.nix — store paths whose outputs reference each other in
# every way Nix records, built by real Nix for tests/nix/test-nix.sh.
#
# No nixpkgs: only `derivation` and builtins, with builder = /bin/sh and the
# host's coreutils on PATH (the build runs unsandboxed).  srcFile and srcDir
# are paths added with `nix-store --add` beforehand and passed with --argstr.
#
#   nix-build --no-out-link make-derivations.nix \
#     --argstr srcFile /nix/store/...-src-file --argstr srcDir /nix/store/...-src-dir
#
# Attributes (every one a derivation; `roots` names those the test checks):
#   leaves, text, symlink, hashonly, filename, elf, straddle, self,
#   multi (outputs out, lib, dev), usesLib, diamond, chain (20 deep),
#   usesSrc, unusedInput, everything, decoy, stowaway, superset, graphs.
#
# decoy is built but referenced by nothing and its hash is written nowhere:
# for every root but superset, a scan of the whole store finds exactly what
# Nix registered.  superset writes stowaway's path with its string context
# discarded, so stowaway is not a build input and Nix, which scans only for
# the hashes of the inputs' closure, does not register the reference; a
# scan of the store (storedisk --scan) finds it — the superset case.
#
# graphs uses exportReferencesGraph to write, for each root R, the file
# $graphs/R in the closureInfo form (path, empty deriver line, count,
# references) — what Nix itself hands to builders.
{ srcFile, srcDir, system ? builtins.currentSystem }:
let
  mk = name: script: attrs: derivation ({
    inherit name system;
    builder = "/bin/sh";
    args = [ "-c" ("set -eu\n" + script) ];
    PATH = "/usr/bin:/bin";
  } // attrs);

  leaf = name: mk name ''
    mkdir -p $out/share
    echo "${name}" > $out/share/name
  '' { };

  # chain n: chain-n references chain-(n-1) ... chain-0 (n + 1 paths).
  chain = n:
    if n == 0 then leaf "chain-0"
    else mk "chain-${toString n}" ''
      echo "next: $dep/share" > $out
    '' { dep = chain (n - 1); };

  src-file = builtins.storePath srcFile;
  src-dir = builtins.storePath srcDir;

  self = rec {
    leafText = leaf "leaf-text";
    leafLink = leaf "leaf-link";
    leafHash = leaf "leaf-hash";
    leafName = leaf "leaf-name";
    leafElfA = leaf "leaf-elf-a";
    leafElfB = leaf "leaf-elf-b";
    leafPadA = leaf "leaf-pad-a";
    leafPadB = leaf "leaf-pad-b";
    leafUnused = leaf "leaf-unused";

    # A full store path in a text file.
    text = mk "ref-text" ''
      mkdir -p $out/etc
      printf 'data_dir = %s/share\n' "$dep" > $out/etc/config
    '' { dep = leafText; };

    # Symlinks to another output, to its root and into it.
    symlink = mk "ref-symlink" ''
      mkdir $out
      ln -s $dep $out/to-root
      ln -s $dep/share/name $out/to-file
    '' { dep = leafLink; };

    # Only the 32-character hash part, no /nix/store prefix.
    hashonly = mk "ref-hash-only" ''
      base=''${dep##*/}
      printf 'id=%s\n' "''${base%%-*}" > $out
    '' { dep = leafHash; };

    # The store path's base name as a file name (and a directory name).
    filename = mk "ref-file-name" ''
      mkdir -p $out/by-name
      base=''${dep##*/}
      touch "$out/by-name/$base"
      mkdir "$out/d-''${base%%-*}"
    '' { dep = leafName; };

    # A copy of /bin/true with one path written over bytes at offset 4000
    # (the copy need not run) and another appended (this copy runs).
    elf = mk "ref-elf" ''
      mkdir -p $out/bin
      cp /bin/true $out/bin/patched
      chmod u+w $out/bin/patched
      printf '%s/share\0' "$depA" | dd of=$out/bin/patched bs=1 seek=4000 conv=notrunc 2>/dev/null
      cp /bin/true $out/bin/appended
      chmod u+w $out/bin/appended
      printf '\0%s/share\0' "$depB" >> $out/bin/appended
    '' { depA = leafElfA; depB = leafElfB; };

    # depA's path begins 16 bytes before 64 KiB, so its hash straddles the
    # boundary; depB's store prefix straddles 128 KiB.
    straddle = mk "ref-straddle" ''
      {
        head -c 65520 /dev/zero | tr '\0' 'x'
        printf '%s' "$depA"
        n=$((131072 - 5 - 65520 - ''${#depA}))
        head -c $n /dev/zero
        printf '%s\n' "$depB"
      } > $out
    '' { depA = leafPadA; depB = leafPadB; };

    # A self-reference: a file and a symlink naming the output itself.
    self = mk "ref-self" ''
      mkdir -p $out/share
      echo "$out/share/me" > $out/share/me
      ln -s $out/share/me $out/me-link
    '' { };

    # Three outputs referencing each other: dev -> out, dev -> lib,
    # out -> lib (Nix forbids cycles between outputs).
    multi = mk "multi" ''
      mkdir -p $lib/lib $out/bin $dev/include
      echo libdata > $lib/lib/libmulti.so
      printf '#!/bin/sh\n# uses %s\n' "$lib/lib/libmulti.so" > $out/bin/multi
      chmod +x $out/bin/multi
      ln -s $out/bin/multi $dev/include/tool
      echo "-L$lib/lib" > $dev/include/flags
    '' { outputs = [ "out" "lib" "dev" ]; };

    multiOut = multi.out;
    multiLib = multi.lib;
    multiDev = multi.dev;

    # Depends on the lib output only: out and dev are not in its closure.
    usesLib = mk "uses-lib" ''
      echo "$dep/lib/libmulti.so" > $out
    '' { dep = multi.lib; };

    # A diamond; top also names bottom directly (bottom is in the closure
    # of its inputs, so Nix records that edge too).
    bottom = leaf "diamond-bottom";
    left = mk "diamond-left" ''echo "$dep" > $out'' { dep = bottom; };
    right = mk "diamond-right" ''
      mkdir $out
      ln -s $dep $out/bottom
    '' { dep = bottom; };
    diamond = mk "diamond-top" ''
      mkdir $out
      echo "$l $r" > $out/deps
      ln -s ${bottom} $out/bottom
    '' { l = left; r = right; };

    chain19 = chain 19;

    # Sources added with nix-store --add: a file and a directory.
    usesSrc = mk "uses-src" ''
      mkdir $out
      cp $file $out/copy-without-reference
      echo "$file" > $out/file-ref
      ln -s $dir/sub/data $out/dir-link
    '' { file = src-file; dir = src-dir; };

    # An input the output does not mention: Nix records no reference.
    unusedInput = mk "unused-input" ''
      echo "nothing here" > $out
    '' { dep = leafUnused; };

    everything = mk "everything" ''
      mkdir $out
      for d in $deps; do echo "$d" >> $out/deps; done
    '' {
      deps = [ text symlink hashonly filename elf straddle self multi.dev
               usesLib diamond chain19 usesSrc unusedInput ];
    };

    decoy = mk "decoy" ''echo "decoy, referenced by nothing" > $out'' { };
    stowaway = mk "stowaway" ''echo "a path nobody declares" > $out'' { };

    # Names stowaway without depending on it.
    superset = mk "superset" ''
      mkdir $out
      echo "$dep" > $out/declared
      echo "${builtins.unsafeDiscardStringContext stowaway.outPath}" > $out/undeclared
    '' { dep = leafText; };
  };

  # The roots the test checks, by name.
  rootNames = [ "text" "symlink" "hashonly" "filename" "elf" "straddle"
    "self" "multiOut" "multiLib" "multiDev" "usesLib" "diamond" "chain19"
    "usesSrc" "unusedInput" "everything" "decoy" "stowaway" "superset" ];

  graphs = mk "reference-graphs" ''
    mkdir $out
    for n in ${toString rootNames}; do cp "graph-$n" "$out/$n"; done
  '' {
    exportReferencesGraph = builtins.concatLists
      (map (n: [ "graph-${n}" self.${n} ]) rootNames);
  };

in self // {
  inherit graphs;
  # name -> output path, for nix-instantiate --eval --json -A rootPaths.
  rootPaths = builtins.listToAttrs (map (n: {
    name = n;
    value = builtins.unsafeDiscardStringContext self.${n}.outPath;
  }) rootNames);
}
