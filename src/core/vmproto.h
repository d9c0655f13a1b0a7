/* SPDX-License-Identifier: MIT */
/*
 * vmproto.h — the contract between `storedisk vmcheck` on the host
 * (src/app/vmcheck.c) and its guest init (src/guest/init.c), which share
 * no other code: the guest program is static and links nothing of ours.
 *
 * The configuration.  The host writes one file, SD_VM_CONF_PATH, into the
 * initramfs: a sequence of records "KEY=VALUE\0" (VALUE any bytes but
 * NUL; no record is split), in this order:
 *   nonce=HEX     16 lowercase hex digits, once; every marker carries it
 *   module=PATH   an initramfs path of a kernel module (.ko), loaded with
 *                 finit_module(2) in the order given (dependencies
 *                 first); any number
 *   store=DIR     the store directory to mount at, e.g. /nix/store; once
 *   disk=FSTYPE:SPEC
 *                 a disk to mount read-only, FSTYPE "squashfs" or
 *                 "erofs", SPEC a device ("/dev/vda"), "LABEL=NAME"
 *                 (found by the filesystem label in its superblock) or
 *                 "SERIAL=NAME" (found by the disk's serial number,
 *                 /sys/block/DEV/serial, which QEMU's virtio-blk
 *                 serial= property sets: the host names each disk so,
 *                 since the order of /dev/vdX follows the transports'
 *                 probe order, which on aarch64's "virt" board is not
 *                 the command line's); the
 *                 first is the image, the rest its bases in order; one
 *                 disk is mounted at the store directory, several are
 *                 each mounted under /run/storedisk/N and overlaid there
 *                 (overlayfs, lowerdir=image:base1:base2...)
 *   verity=DATA_BLOCKS:HASH_START:ROOT:SALT
 *                 none, or one per disk record, in the disks' order
 *                 (after them): that disk is opened through dm-verity
 *                 (a device-mapper device "sdverityN", N the disk's
 *                 index from 0, one "verity" target, data and hash
 *                 tree both on the disk itself) and the dm device is
 *                 mounted instead of the disk.  DATA_BLOCKS (decimal)
 *                 is the number of 4096-byte data blocks hashed from
 *                 the disk's start; HASH_START (decimal) the 4096-byte
 *                 block where the top hash block is (the verity
 *                 superblock's block + 1: dm-verity's hash_start_block);
 *                 ROOT the root hash and SALT the salt, 64 lowercase
 *                 hex digits each (SHA-256, the only hash).  Format
 *                 version 1 and 4096-byte data and hash blocks
 *                 (app/verity.h's layout); the target is DATA_BLOCKS * 8
 *                 sectors of 512 bytes long
 *   arg=BYTES     argv[0] (the program's absolute path in the guest),
 *                 then its arguments, in order; at least one
 * Unknown keys are an error (the init reports it and powers off).
 *
 * The markers.  Init writes each on the console (/dev/console) as one
 * line of its own, starting at a line's beginning:
 *   "@@storedisk-vmcheck NONCE EVENT[ VALUE]\n"
 * with the events, in the order they happen:
 *   init               init started (the kernel is up)
 *   modules N          N modules loaded
 *   mounted            the store directory is mounted
 *   started            the program was started (execve succeeded)
 *   exit N             the program exited with status N (0..255)
 *   signal N           the program was killed by signal N
 *   error TEXT         a step failed (TEXT says which and why); no
 *                      further event but poweroff follows
 *   poweroff           init is powering the guest off
 * The program's own output goes to the console between "started" and its
 * result; a line the program writes is never taken for a marker unless
 * it carries the nonce, which only the host and init know.  The result
 * ("exit" or "signal") is written as "\n" + its marker line in one write,
 * so that it starts a line even after output without a final newline:
 * that one line break (an empty line when the output ended one) is init's,
 * not the program's.  Init reads the configuration before its first
 * marker, which carries the nonce; when it cannot (no nonce yet), its
 * markers carry "????????????????" instead.
 *
 * The guest side: init mounts devtmpfs at /dev and writes to /dev/console
 * (the initramfs needs no /dev/console node), mounts /proc, /sys and /run;
 * disks appear within 10 s or fail; the program runs with stdin
 * /dev/null, stdout and stderr the console, and the environment
 * "PATH=/usr/bin:/bin" alone.  Several disks are mounted at
 * SD_VM_LOWER_DIR/0 (the image), /1 (its first base), ...  A verity disk
 * needs the device-mapper (dm-mod, dm-verity and their dependencies among
 * the modules): init creates its device with the ioctls of
 * <linux/dm-ioctl.h> on /dev/mapper/control (DM_DEV_CREATE, DM_TABLE_LOAD
 * read-only, DM_DEV_SUSPEND without DM_SUSPEND_FLAG to resume) and mounts
 * /dev/dm-MINOR; a failed step is an "error" naming the disk and the step
 * ("verity /dev/vda: DM_TABLE_LOAD: Invalid argument").  A block that
 * does not match the tree reads as EIO in the guest (dm-verity's
 * default, no restart or panic on corruption).
 */
#ifndef SD_CORE_VMPROTO_H
#define SD_CORE_VMPROTO_H

#define SD_VM_CONF_PATH "/storedisk-vmcheck.conf"
#define SD_VM_MARKER "@@storedisk-vmcheck"
#define SD_VM_NONCE_LEN 16

#define SD_VM_KEY_NONCE "nonce"
#define SD_VM_KEY_MODULE "module"
#define SD_VM_KEY_STORE "store"
#define SD_VM_KEY_DISK "disk"
#define SD_VM_KEY_VERITY "verity"
#define SD_VM_KEY_ARG "arg"

#define SD_VM_EV_INIT "init"
#define SD_VM_EV_MODULES "modules"
#define SD_VM_EV_MOUNTED "mounted"
#define SD_VM_EV_STARTED "started"
#define SD_VM_EV_EXIT "exit"
#define SD_VM_EV_SIGNAL "signal"
#define SD_VM_EV_ERROR "error"
#define SD_VM_EV_POWEROFF "poweroff"

/* Where init mounts each disk when there are several (then overlaid). */
#define SD_VM_LOWER_DIR "/run/storedisk"

/* The device-mapper name of disk N opened through dm-verity: sdverityN. */
#define SD_VM_VERITY_NAME "sdverity"

#endif
