// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * libFuzzer target: kubeconfig files (xlb_k8s_kubeconfig_load).
 *
 * The input is the file's text, handed over as a memfd so that the
 * reader opens it by path as xlbd does. Relative paths in it resolve
 * against /proc/self/fd; none is opened.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "k8s_client.h"
#include "log.h"

static int fd = -1;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	xlb_log_set_level(XLB_LOG_ERR);
	fd = memfd_create("kubeconfig", MFD_CLOEXEC);
	if (fd < 0) {
		perror("memfd_create");
		exit(1);
	}
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct xlb_k8s_auth a;
	char path[64], err[512];

	if (ftruncate(fd, 0) || pwrite(fd, data, size, 0) != (ssize_t)size)
		return 0;
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	if (!xlb_k8s_kubeconfig_load(path, &a, err, sizeof(err)))
		xlb_k8s_auth_free(&a);
	return 0;
}
