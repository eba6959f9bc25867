// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The config-file source: reads a config file or a directory of them,
 * applies it to the sync and keeps applying its changes (see
 * source_file.h). The Kubernetes source beside it is in k8s/.
 */
#include <dirent.h>
#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "log.h"
#include "metrics.h"
#include "source_file.h"
#include "util.h"

/* A config directory: every *.json file in it is one document; a change
 * of one file is applied to that file's services only. */
struct cfgfile {
	char name[NAME_MAX + 1];
	char **svcs;		/* names of the services it defines */
	size_t n_svcs;
	bool present;
	bool bad;		/* its last read was rejected: its services
				 * stay as they were programmed */
};

/*
 * The first read of the config runs on a thread of its own while the
 * datapath loads (map creation and verification take about as long as
 * parsing a large file): a 100,000-service start waits for the longer of
 * the two, not for both.
 */
struct preparse {
	struct xlb_file *f;
	struct xlb_model m;
	char err[512];
	int rc;
	uint64_t t0, parse_ns;
	pthread_t th;
	bool running;
};

struct xlb_file {
	const char *path;	/* as given: a file or a directory */
	bool is_dir;
	struct cfgfile *files;	/* index + 1 is the source tag */
	size_t n_files;
	struct xlb_sync *sync;
	bool synced;		/* the first full sync was made */
	size_t n_bad;		/* directory files whose last read failed */
	int fd;			/* inotify, or -1 */
	struct preparse pp;
};

/* A change is in the maps: what /metrics and /readyz show. since is
 * when the change arrived, else (0) t0, when its parse began. */
static void metrics_synced(struct xlb_file *f, uint64_t since, uint64_t t0)
{
	if (!since)
		since = t0;
	xlb_metrics_set_programmed(f->sync->n_svcs,
				   xlb_sync_backend_count(f->sync));
	xlb_metrics_observe_sync((xlb_now_ns() - since) / 1e9);
	xlb_metrics_count(XLB_METRICS_CONFIG_RELOADS);
}

/* ---- a config directory ---------------------------------------------- */

static bool is_json_name(const char *n)
{
	size_t l = strlen(n);

	return l > 5 && !strcmp(n + l - 5, ".json") && n[0] != '.';
}

static struct cfgfile *file_slot(struct xlb_file *f, const char *name)
{
	struct cfgfile *cf;
	size_t i;

	for (i = 0; i < f->n_files; i++)
		if (!strcmp(f->files[i].name, name))
			return &f->files[i];
	cf = realloc(f->files, (f->n_files + 1) * sizeof(*cf));
	if (!cf)
		return NULL;
	f->files = cf;
	cf = &f->files[f->n_files++];
	memset(cf, 0, sizeof(*cf));
	snprintf(cf->name, sizeof(cf->name), "%s", name);
	return cf;
}

static void file_set_svcs(struct cfgfile *cf, const struct xlb_model *m)
{
	xlb_model_names(m, &cf->svcs, &cf->n_svcs);
}

static int load_file(struct xlb_file *f, struct cfgfile *cf,
		     struct xlb_model *m, char *err, size_t errlen)
{
	char path[PATH_MAX];
	size_t i;
	int rc;

	snprintf(path, sizeof(path), "%s/%s", f->path, cf->name);
	rc = xlb_config_load(path, m, err, errlen);
	if (rc) {
		/* Say which file: the message names service and field. */
		char tmp[512];

		snprintf(tmp, sizeof(tmp), "%s: %s", cf->name, err);
		snprintf(err, errlen, "%s", tmp);
		return rc;
	}
	for (i = 0; i < m->n_services; i++)
		m->services[i].source = cf - f->files + 1;
	return 0;
}

/* Marks which files of the directory are there now, adding new ones. */
static int scan_dir(struct xlb_file *f, char *err, size_t errlen)
{
	struct dirent *de;
	size_t i;
	DIR *d;

	d = opendir(f->path);
	if (!d) {
		snprintf(err, errlen, "config %s: %s", f->path,
			 strerror(errno));
		return -errno;
	}
	for (i = 0; i < f->n_files; i++)
		f->files[i].present = false;
	while ((de = readdir(d))) {
		struct cfgfile *cf;

		if (!is_json_name(de->d_name))
			continue;
		cf = file_slot(f, de->d_name);
		if (!cf)
			continue;
		cf->present = true;
	}
	closedir(d);
	return 0;
}

/* Records which file holds which service of the checked model. */
static void record_owners(struct xlb_file *f, const struct xlb_model *all)
{
	size_t i, k;

	for (i = 0; i < f->n_files; i++) {
		struct xlb_model one = { 0 };
		size_t c = 0;

		if (f->files[i].bad)
			continue;	/* it keeps the names it had */
		for (k = 0; k < all->n_services; k++)
			c += all->services[k].source == i + 1;
		one.services = calloc(c + 1, sizeof(*one.services));
		for (k = 0; one.services && k < all->n_services; k++)
			if (all->services[k].source == i + 1)
				one.services[one.n_services++] =
					all->services[k];
		file_set_svcs(&f->files[i], &one);
		free(one.services);
	}
}

/* Loads every file of the directory into one model. */
static int load_dir(struct xlb_file *f, struct xlb_model *all, char *err,
		    size_t errlen)
{
	struct xlb_model *parts = NULL;
	size_t i;
	int rc;

	memset(all, 0, sizeof(*all));
	rc = scan_dir(f, err, errlen);
	if (rc)
		return rc;
	parts = calloc(f->n_files + 1, sizeof(*parts));
	if (!parts)
		return -ENOMEM;
	f->n_bad = 0;
	for (i = 0; i < f->n_files; i++) {
		struct cfgfile *cf = &f->files[i];

		cf->bad = false;
		if (!cf->present)
			continue;
		/* A bad file spoils only itself: the others are applied,
		 * its own services stay as they are until it is fixed. */
		if (load_file(f, cf, &parts[i], err, errlen)) {
			pr_err("config %s; its services are left as they are", err);
			xlb_metrics_count(XLB_METRICS_CONFIG_REJECTED);
			cf->bad = true;
			f->n_bad++;
			err[0] = 0;
		}
	}
	rc = xlb_config_merge(parts, f->n_files, all, err, errlen);
	if (!rc)
		record_owners(f, all);
	for (i = 0; i < f->n_files; i++)
		xlb_model_free(&parts[i]);
	free(parts);
	return rc;
}

/* The services cf had that m no longer defines (names owned by cf). */
static char **removed_svcs(const struct cfgfile *cf, const struct xlb_model *m,
			   size_t *n_rm)
{
	char **rm = calloc(cf->n_svcs + 1, sizeof(*rm));
	size_t i, j;

	*n_rm = 0;
	for (i = 0; rm && i < cf->n_svcs; i++) {
		bool kept = false;

		for (j = 0; j < m->n_services && !kept; j++)
			kept = !strcmp(m->services[j].name, cf->svcs[i]);
		if (!kept)
			rm[(*n_rm)++] = cf->svcs[i];
	}
	return rm;
}

/* One file of the directory changed (or went away): apply its services
 * only. */
static int reload_file(struct xlb_file *f, const char *name, uint64_t since,
		       uint64_t *t0_out)
{
	struct xlb_sync_result res;
	struct xlb_model m = { 0 };
	char err[768] = "", path[PATH_MAX], **rm = NULL;
	uint64_t t0 = xlb_now_ns();
	struct cfgfile *cf = file_slot(f, name);
	size_t n_rm;
	int rc;

	if (!cf)
		return -ENOMEM;
	snprintf(path, sizeof(path), "%s/%s", f->path, name);
	if (access(path, F_OK) == 0) {
		rc = load_file(f, cf, &m, err, sizeof(err));
		if (rc) {
			pr_err("config %s changed: %s; nothing changed", name, err);
			xlb_metrics_count(XLB_METRICS_CONFIG_REJECTED);
			if (!cf->bad) {
				cf->bad = true;
				f->n_bad++;
			}
			goto out;
		}
	}
	if (cf->bad) {
		cf->bad = false;
		/* The last bad file reads again (or went): the directory is
		 * whole, and one full sync removes what no file holds. */
		if (!--f->n_bad) {
			xlb_model_free(&m);
			return xlb_file_resync(f, "config", since, t0_out);
		}
	}
	rm = removed_svcs(cf, &m, &n_rm);
	if (!rm) {
		rc = -ENOMEM;
		goto out;
	}
	rc = xlb_sync_apply_partial(f->sync, &m, rm, n_rm, &res, err,
				    sizeof(err));
	if (rc) {
		pr_err("config %s changed: %s", name, err);
		xlb_metrics_count(XLB_METRICS_CONFIG_REJECTED);
		goto out;
	}
	metrics_synced(f, since, t0);
	file_set_svcs(cf, &m);
	pr_info("config %s changed: %zu added, %zu updated, %zu removed, %zu unchanged; backends +%zu -%zu ~%zu; %zu rings written in %.3f ms",
		name, res.added, res.updated, res.removed, res.unchanged,
		res.be_added, res.be_removed, res.be_changed, res.rings_written,
		(xlb_now_ns() - t0) / 1e6);
out:
	free(rm);
	xlb_model_free(&m);
	return rc;
}

/* Applies the files of a config directory that the events name. */
/* Reads the directory's inotify events and reloads each file they name,
 * once however many events it got. An overflowed queue lost some: then
 * the whole directory is read again. 1 when that made the first full
 * sync. */
static int dir_events(struct xlb_file *f, uint64_t since, uint64_t *t0)
{
	char buf[8192] __attribute__((aligned(__alignof__(struct inotify_event))));
	char **names = NULL;
	size_t n = 0, cap = 0, i, k;
	bool overflow = false;
	ssize_t len;
	int rc = 0;

	while ((len = read(f->fd, buf, sizeof(buf))) > 0) {
		char *p = buf;

		while (p < buf + len) {
			struct inotify_event *ev = (void *)p;

			p += sizeof(*ev) + ev->len;
			if (ev->mask & IN_Q_OVERFLOW)
				overflow = true;
			if (!ev->len || !is_json_name(ev->name) ||
			    (ev->mask & IN_CREATE))
				continue; /* created: wait for its close */
			for (k = 0; k < n && strcmp(names[k], ev->name); k++)
				;
			if (k < n)
				continue;
			if (n == cap) {
				char **v = realloc(names, (cap ? cap * 2 : 16) *
							   sizeof(*v));

				if (!v) {
					overflow = true; /* read them all */
					continue;
				}
				names = v;
				cap = cap ? cap * 2 : 16;
			}
			names[n] = strdup(ev->name);
			if (names[n])
				n++;
			else
				overflow = true;
		}
	}
	if (overflow) {
		pr_warn("config %s: change events were lost; reading every file",
			f->path);
		rc = xlb_file_resync(f, "config", since, t0);
	} else {
		for (i = 0; i < n; i++)
			if (reload_file(f, names[i], since, t0) == 1)
				rc = 1;
	}
	for (i = 0; i < n; i++)
		free(names[i]);
	free(names);
	return rc == 1;
}

/* ---- the whole config ------------------------------------------------ */

static int parse_config(struct xlb_file *f, struct xlb_model *m, char *err,
			size_t errlen)
{
	if (f->is_dir)
		return load_dir(f, m, err, errlen);
	return xlb_config_load(f->path, m, err, errlen);
}

/* Applies a parsed config: rc and err are the parse's status and message;
 * t0 is when the parse began. The model is freed. */
static int apply_config(struct xlb_file *f, const char *why, uint64_t since,
			uint64_t t0, struct xlb_model *m, int rc,
			const char *perr)
{
	struct xlb_sync_result res;
	char err[512] = "";

	if (rc) {
		pr_err("%s: %s; nothing changed", why, perr);
		xlb_metrics_count(XLB_METRICS_CONFIG_REJECTED);
		return rc;
	}
	/* With a bad file in the directory, what it programmed must stay:
	 * the good files are applied without removing anything, and the
	 * first full sync waits until every file reads. */
	if (f->n_bad)
		rc = xlb_sync_apply_partial(f->sync, m, NULL, 0, &res, err,
					    sizeof(err));
	else
		rc = xlb_sync_apply(f->sync, m, &res, err, sizeof(err));
	if (rc) {
		pr_err("%s: %s", why, err);
		xlb_metrics_count(XLB_METRICS_CONFIG_REJECTED);
		xlb_model_free(m);
		return rc;
	}
	metrics_synced(f, since, t0);
	pr_info("%s: %zu added, %zu updated, %zu removed, %zu unchanged; backends +%zu -%zu ~%zu; %zu rings written in %.3f ms",
		why, res.added, res.updated, res.removed, res.unchanged,
		res.be_added, res.be_removed, res.be_changed, res.rings_written,
		(xlb_now_ns() - t0) / 1e6);
	xlb_model_free(m);
	if (f->n_bad) {
		pr_warn("%s: %zu file%s rejected: not ready until %s read%s",
			why, f->n_bad, f->n_bad > 1 ? "s" : "",
			f->n_bad > 1 ? "they" : "it", f->n_bad > 1 ? "" : "s");
		return 0;
	}
	if (f->synced)
		return 0;
	f->synced = true;
	return 1;
}

int xlb_file_resync(struct xlb_file *f, const char *why, uint64_t since,
		    uint64_t *t0)
{
	struct xlb_model m;
	char err[512] = "";
	int rc;

	*t0 = xlb_now_ns();
	rc = parse_config(f, &m, err, sizeof(err));
	if (!rc)
		pr_debug("%s: config parsed in %.1f ms", why,
			 (xlb_now_ns() - *t0) / 1e6);
	return apply_config(f, why, since, *t0, &m, rc, err);
}

/* ---- the first read, while the datapath loads ----------------------- */

static void *preparse_run(void *arg)
{
	struct preparse *pp = arg;

	pp->rc = parse_config(pp->f, &pp->m, pp->err, sizeof(pp->err));
	pp->parse_ns = xlb_now_ns() - pp->t0;
	if (!pp->rc)
		pr_debug("config: parsed in %.1f ms (while the datapath loaded)",
			 pp->parse_ns / 1e6);
	return NULL;
}

static void preparse_start(struct preparse *pp, struct xlb_file *f)
{
	memset(pp, 0, sizeof(*pp));
	pp->f = f;
	pp->t0 = xlb_now_ns();
	pp->running = !pthread_create(&pp->th, NULL, preparse_run, pp);
}

/* Waits for the parse; false if it never started (parse inline then). */
static bool preparse_join(struct preparse *pp)
{
	if (!pp->running)
		return false;
	pthread_join(pp->th, NULL);
	pp->running = false;
	return true;
}

int xlb_file_first_sync(struct xlb_file *f, uint64_t *t0)
{
	struct preparse *pp = &f->pp;

	if (!preparse_join(pp))
		return xlb_file_resync(f, "config", 0, t0);
	/* "programmed in" counts the parse and the apply, not the wait for
	 * the datapath in between. */
	*t0 = xlb_now_ns() - pp->parse_ns;
	return apply_config(f, "config", 0, *t0, &pp->m, pp->rc, pp->err);
}

/* ---- watching for changes -------------------------------------------- */

static int watch_config(const char *path, bool is_dir)
{
	char dir[PATH_MAX];
	int fd;

	fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (fd < 0)
		return -errno;
	snprintf(dir, sizeof(dir), "%s", path);
	if (inotify_add_watch(fd, is_dir ? dir : dirname(dir),
			      IN_CLOSE_WRITE | IN_MOVED_TO | IN_CREATE |
			      (is_dir ? IN_DELETE | IN_MOVED_FROM : 0)) < 0) {
		close(fd);
		return -errno;
	}
	return fd;
}

/* True if the inotify events read name the config file. */
static bool config_touched(int fd, const char *path)
{
	char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
	char base[PATH_MAX];
	const char *name;
	bool hit = false;
	ssize_t len;

	snprintf(base, sizeof(base), "%s", path);
	name = basename(base);
	while ((len = read(fd, buf, sizeof(buf))) > 0) {
		char *p = buf;

		while (p < buf + len) {
			struct inotify_event *ev = (void *)p;

			if (ev->len && !strcmp(ev->name, name))
				hit = true;
			p += sizeof(*ev) + ev->len;
		}
	}
	return hit;
}

int xlb_file_process(struct xlb_file *f, uint64_t since, uint64_t *t0)
{
	if (f->is_dir)
		return dir_events(f, since, t0);
	if (!config_touched(f->fd, f->path))
		return 0;
	/* Let a writer finish: reload once things settle. */
	usleep(20000);
	config_touched(f->fd, f->path);
	return xlb_file_resync(f, "config changed", since, t0);
}

int xlb_file_fd(const struct xlb_file *f)
{
	return f ? f->fd : -1;
}

int xlb_file_start(struct xlb_file **out, const char *path,
		   struct xlb_sync *sync)
{
	struct xlb_file *f = calloc(1, sizeof(*f));
	struct stat st;

	*out = f;
	if (!f)
		return -ENOMEM;
	f->path = path;
	f->sync = sync;
	f->is_dir = !stat(path, &st) && S_ISDIR(st.st_mode);
	/* Watch before the first read: a change written while it is being
	 * applied is then seen, not lost. */
	f->fd = watch_config(path, f->is_dir);
	if (f->fd < 0) {
		pr_warn("config %s: cannot watch for changes (%s); SIGHUP still reloads",
			path, strerror(-f->fd));
		f->fd = -1;
	}
	preparse_start(&f->pp, f);
	return 0;
}

void xlb_file_stop(struct xlb_file *f)
{
	size_t i, k;

	if (!f)
		return;
	/* Joined here only if the first sync never came: m is still ours. */
	if (preparse_join(&f->pp) && !f->pp.rc)
		xlb_model_free(&f->pp.m);
	if (f->fd >= 0)
		close(f->fd);
	for (i = 0; i < f->n_files; i++) {
		for (k = 0; k < f->files[i].n_svcs; k++)
			free(f->files[i].svcs[k]);
		free(f->files[i].svcs);
	}
	free(f->files);
	free(f);
}
