/* input_export.c — a `nix-store --export` stream -> the tree (app/input.h). */
#include "app/input.h"

int sd_input_export(const char *file, const struct sd_input_options *opts,
		    struct sd_tree **out, struct sd_input_info *info,
		    struct sd_error *err)
{
	(void)opts;
	(void)out;
	(void)info;
	return sd_error_set(err, SD_ERR_UNSUPPORTED,
			    "%s: --nix-export is not implemented yet", file);
}
