/*
 * sqfserr.h — text for libsquashfs error codes.
 */
#ifndef SD_FORMATS_SQUASHFS_SQFSERR_H
#define SD_FORMATS_SQUASHFS_SQFSERR_H

/* A short, constant description of an SQFS_ERROR value. */
const char *sd_sqfs_strerror(int code);

#endif
