/*
 * post-checkout, post-merge, post-rewrite: the hooks that write the weights
 * the filter left out of git's memory (checkout.h). Their arguments and
 * input (old and new HEAD, squash flag, rewritten commits) do not matter:
 * what is to be written is what the filter recorded.
 */

#include <stdlib.h>
#include <unistd.h>

#include "builtin.h"
#include "checkout.h"
#include "strbuf.h"
#include "wrapper.h"
#include "banned.h"

/*
 * A rebase runs post-checkout after checking out its base, then goes on
 * with the index it holds in memory and writes it over ours. Its files
 * are left to the filter, which writes them when the rebase exits.
 */
static int sequencer_running(const struct repo *r)
{
	static const char *const dirs[] = { "rebase-merge", "rebase-apply",
					    "sequencer" };
	struct strbuf path = STRBUF_INIT;
	size_t i;
	int running = 0;

	for (i = 0; i < ARRAY_SIZE(dirs) && !running; i++) {
		strbuf_reset(&path);
		strbuf_addf(&path, "%s/%s", r->gitdir, dirs[i]);
		running = !access(path.buf, F_OK);
	}
	strbuf_release(&path);
	return running;
}

int cmd_post_checkout(int argc, const char **argv, struct repo *repo)
{
	static const char *const usage[] = {
		"git model (post-checkout | post-merge | post-rewrite) "
		"[<hook-args>...]",
		NULL
	};
	const struct option options[] = { OPT_END() };

	/* The hooks' arguments are git's, and ignored. */
	parse_options(argc, argv, options, usage,
		      PARSE_OPT_STOP_AT_NON_OPTION);
	if (sequencer_running(repo))
		return 0;
	/* The summary only on a terminal, as git shows its progress. */
	return checkout_deferred(repo, !isatty(2)) ? 1 : 0;
}
