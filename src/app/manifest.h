/*
 * manifest.h — what `storedisk pack` decided, recorded in the image.
 *
 * With --embed-registration, pack also puts a small text file at the image
 * root, SD_EMBEDDED_MANIFEST, beside SD_EMBEDDED_REGISTRATION.  verify
 * reads it to tell a documentation example (a full store path that did not
 * exist when the image was packed) from a dependency that was left out.
 *
 * Format (version 1), UTF-8 text, one record a line, "\n" line ends:
 *
 *   storedisk-manifest 1
 *   store-dir <logical store dir>
 *   root <store-dir>/<hash>-<name>          one per root, argument order
 *   absent <store-dir>/<hash>-<name>        a full-path mention of a store
 *                                           path that did not exist (not in
 *                                           the store directory, the Nix
 *                                           database or the stream) when
 *                                           the image was packed; not a
 *                                           reference (Nix's rule)
 *   accepted <store-dir>/<hash>[-<name>]    a reference to a store path
 *                                           that existed but was left out
 *                                           of the image, accepted by
 *                                           --allow-missing or --allow;
 *                                           verify keeps it a violation
 *
 * After the header lines, records are grouped by kind (root, absent,
 * accepted); absent and accepted records are sorted bytewise and unique.
 * A reader ignores lines of kinds it does not know (later versions may
 * add some) and refuses a header other than "storedisk-manifest 1".
 * Store path names never contain whitespace, so fields need no quoting.
 */
#ifndef SD_APP_MANIFEST_H
#define SD_APP_MANIFEST_H

/* The root entry name of the embedded manifest (not a store path name:
 * it has no 32-character hash part). */
#define SD_EMBEDDED_MANIFEST "storedisk-manifest"

#endif
