// SPDX-License-Identifier: GPL-2.0
/* Writes each test vector's input (and expected output) as a seed file. */
#include <stdio.h>
#include <string.h>

#include "sip_vectors.h"

static int put(const char *dir, const char *name, const char *sfx,
	       const char *s)
{
	char path[4096];
	FILE *f;

	snprintf(path, sizeof(path), "%s/vec_%s%s.sip", dir, name, sfx);
	f = fopen(path, "wb");
	if (!f)
		return 1;
	fwrite(s, 1, strlen(s), f);
	return fclose(f) != 0;
}

int main(int argc, char **argv)
{
	unsigned int i;
	int err = 0;

	if (argc != 2)
		return 2;
	for (i = 0; i < shp_n_vectors; i++) {
		err |= put(argv[1], shp_vectors[i].name, "", shp_vectors[i].in);
		if (shp_vectors[i].out)
			err |= put(argv[1], shp_vectors[i].name, "_out",
				   shp_vectors[i].out);
	}
	return err;
}
