#!/bin/bash
# The manual pages against the code. xlbd(8) and xlbctl(8) list the
# options and commands of --help and xlb.json(5) the fields of the
# README's config reference: doc/gen_man.py puts them in at build time,
# so those cannot drift. What is checked here is the rest: every option
# a page lists is one the program parses, the page lists every option
# --help does, and the README's fields are exactly the fields the config
# parser reads (selftests/config_fields.c watches its lookups); and the
# bash completion of xlbctl completes what --help lists.
set -u
. "$(dirname "$0")/lib.sh"
b="$XLB_ROOT/build"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

for p in xlbd.8 xlbctl.8 xlb.json.5; do
	if [ -s "$b/doc/$p" ] && [ -s "$b/doc/$p.scd" ]; then
		xlb_pass "$p built (scdoc)"
	else
		xlb_fail "$p: not built: is scdoc installed (tools/deps.sh)?"
		echo "0 passed"; exit 1
	fi
done

# The long options of a page: its "*--name*" items.
page_opts() { grep -o '^\(\*-.\*, \)\?\*--[a-z0-9-]*\*' "$1" | grep -o -- '--[a-z0-9-]*' | sort; }
# The long options of --help: "-x, --name" or "--name" at a row's start.
help_opts() { "$1" --help | grep -o '^ \{2,6\}\(-., \)\?--[a-z0-9-]*' | grep -o -- '--[a-z0-9-]*' | sort; }

for prog in xlbd xlbctl; do
	bin="$b/user/$prog" page="$b/doc/$prog.8.scd"
	page_opts "$page" >"$tmp/$prog.page"
	help_opts "$bin" >"$tmp/$prog.help"
	n=$(wc -l <"$tmp/$prog.page")
	if [ "$n" -gt 3 ] && diff "$tmp/$prog.help" "$tmp/$prog.page" >"$tmp/diff"; then
		xlb_pass "$prog(8) lists the $n options of $prog --help"
	else
		xlb_fail "$prog(8) and $prog --help list different options ($n in the page): $(tr '\n' ' ' <"$tmp/diff")"
	fi
	# getopt says "unrecognized option" for one the program does not
	# parse; --help exits at once, an option missing its argument too.
	bad=()
	while read -r o; do
		if "$bin" "$o" 2>&1 </dev/null | grep -q 'unrecognized option'; then
			bad+=("$o")
		fi
	done <"$tmp/$prog.page"
	xlb_check_eq "${bad[*]:-none}" none "$prog parses every option $prog(8) lists"
done
# The check above can fail: an option no table has is refused.
if "$b/user/xlbd" --no-such-option 2>&1 | grep -q 'unrecognized option'; then
	xlb_pass "xlbd refuses an option it does not have (the check can fail)"
else
	xlb_fail "xlbd --no-such-option: no \"unrecognized option\""
fi

# The fields of the README's config reference: the first column of its
# table, `backends[].ip`, `.port` naming backends[].port.
"$XLB_PY" - "$XLB_ROOT/README.md" "$tmp/example.json" >"$tmp/readme.fields" <<'PY'
import re, sys
text = open(sys.argv[1]).read()
sec = re.search(r"^## Config reference\n(.*?)(?=^## )", text, re.M | re.S).group(1)
open(sys.argv[2], "w").write(re.search(r"```json\n(.*?)```", sec, re.S).group(1))
for line in sec.split("\n"):
    if not line.startswith("| `"):
        continue
    prefix = ""
    for f in re.findall(r"`([^`]*)`", line.split("|")[1]):
        if f.startswith("."):
            f = prefix + f[1:]
        prefix = f[:f.rfind(".") + 1] if "." in f else ""
        print(f)
PY
sort -u "$tmp/readme.fields" -o "$tmp/readme.fields"
if "$b/selftests/config_fields" "$tmp/example.json" >"$tmp/parser.fields" 2>"$tmp/err"; then
	sort -u "$tmp/parser.fields" -o "$tmp/parser.fields"
	n=$(wc -l <"$tmp/parser.fields")
	if [ "$n" -gt 20 ] && diff "$tmp/readme.fields" "$tmp/parser.fields" >"$tmp/diff"; then
		xlb_pass "the README's config reference names the $n fields the parser reads"
	else
		xlb_fail "README config reference (<) and parser (>) differ: $(grep '^[<>]' "$tmp/diff" | tr '\n' ' ')"
	fi
else
	xlb_fail "the README's example config does not parse: $(cat "$tmp/err")"
fi
missing=()
while read -r f; do
	grep -qF "*$(sed 's/[_*]/\\&/g' <<<"$f")*" "$b/doc/xlb.json.5.scd" ||
		[[ "$f" == *.* ]] || missing+=("$f")
done <"$tmp/readme.fields"
xlb_check_eq "${missing[*]:-none}" none "xlb.json(5) lists every field of the README's config reference"
# The bash completion of xlbctl reads its commands from --help.
got="$(PATH="$b/user:$PATH" bash -c '. "$1"
	c() { COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); _xlbctl; echo "${COMPREPLY[*]}"; }
	c xlbctl ""; c xlbctl -o json conntrack ""; c xlbctl --bp' _ "$XLB_ROOT/dist/xlbctl.bash-completion" | paste -sd'|')"
xlb_check_eq "$got" "backend conntrack detach maglev service stats|list flush|--bpffs" \
	"bash completion: xlbctl's commands, sub-commands and options"
echo "$XLB_NPASS passed, $XLB_NFAIL failed"
[ "$XLB_NFAIL" -eq 0 ]
