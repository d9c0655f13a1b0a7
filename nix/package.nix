# SPDX-License-Identifier: MIT
# package.nix — storedisk as a nixpkgs package, for callPackage:
#
#   storedisk = pkgs.callPackage ./nix/package.nix { };
#
# Builds with meson and ninja from this source tree (the checkout this file
# sits in; build directories, results and .git are left out).  The libraries
# are the nixpkgs names of scripts/debian-packages.txt: libsquashfs from
# squashfs-tools-ng, libcrypto from openssl, sqlite, libarchive, xxhash
# (older nixpkgs: xxHash), lz4, zstd, xz (liblzma), zlib.
# Debian's optional libipsec-mb-dev (multi-buffer SHA-256 for --verity's
# tree) is not given: meson's -Dipsec_mb=auto then hashes with OpenSSL, the
# same bytes, about half the speed on x86_64 (nixpkgs' intel-ipsec-mb 2.x
# is untried here).
#
# doCheck (default false) builds the Criterion unit tests and runs the
# `core` and `closure` suites: the format, CLI and Nix suites need root, loop
# mounts, a pty, the peers' tools or a Nix store, which a Nix build lacks.
{
  lib,
  stdenv,
  meson,
  ninja,
  pkg-config,
  squashfs-tools-ng,
  libarchive,
  xxHash ? null,
  xxhash ? xxHash,
  openssl,
  sqlite,
  lz4,
  zstd,
  xz,
  zlib,
  criterion ? null,
  doCheck ? false,
}:

let
  # The version, from meson.build's project() (one source of truth).
  mesonBuild = builtins.readFile ../meson.build;
  version = builtins.head
    (builtins.match ".*project\\('storedisk'[^)]*[[:space:]]version : '([^']+)'.*" mesonBuild);

  # The source tree without what a checkout accumulates at its top: .git,
  # build directories (build, build-*, builddir) and result links.
  top = toString ./..;
  src = builtins.path {
    name = "storedisk-src";
    path = ./..;
    filter = path: type:
      let base = baseNameOf path; in
      dirOf path != top
      || builtins.match "(\\.git|build|build-.*|builddir|result|result-.*)" base == null;
  };
in
assert xxhash != null;
assert doCheck -> criterion != null;
stdenv.mkDerivation {
  pname = "storedisk";
  inherit version src doCheck;

  nativeBuildInputs = [ meson ninja pkg-config ];
  buildInputs = [
    squashfs-tools-ng
    libarchive
    xxhash
    openssl
    sqlite
    lz4
    zstd
    xz
    zlib
  ] ++ (if doCheck then [ criterion ] else [ ]);

  mesonFlags = [ "-Dtests=${if doCheck then "enabled" else "disabled"}" ];

  # Unit tests only (see above).
  checkPhase = ''
    runHook preCheck
    meson test --print-errorlogs --suite core --suite closure
    runHook postCheck
  '';

  meta = {
    description = "Pack a Nix store closure into a reproducible squashfs/EROFS image and prove it self-contained";
    license = lib.licenses.mit;
    platforms = lib.platforms.linux;
    mainProgram = "storedisk";
  };
}
