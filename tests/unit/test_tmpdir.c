// SPDX-License-Identifier: MIT
/* Temp directory removal for unit tests (see test_tmpdir.h). */
#include "test_tmpdir.h"

#include <ftw.h>
#include <limits.h>
#include <stdlib.h>
#include <stdio.h>
#include <sys/stat.h>

static int
remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

int
test_tmpdir_remove(const char *dir)
{
    return nftw(dir, remove_entry, 8, FTW_DEPTH | FTW_PHYS);
}

const char *
test_tmpdir_write(const char *dir, const char *name, const char *text)
{
    static char path[PATH_MAX];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    if (!f || fputs(text, f) < 0 || fclose(f) != 0) {
        fprintf(stderr, "cannot write %s\n", path);
        abort();
    }
    return path;
}

char *test_tmpdir_template;

int
test_tmpdir_setup(void **state)
{
    (void)state;
    return test_tmpdir_template && mkdtemp(test_tmpdir_template) ? 0 : -1;
}

int
test_tmpdir_teardown(void **state)
{
    (void)state;
    return test_tmpdir_remove(test_tmpdir_template);
}
