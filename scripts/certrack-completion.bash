# bash completion for certrack(1).  `make install` puts it in
# $(PREFIX)/share/bash-completion/completions/certrack; to try it from the
# source tree: source scripts/certrack-completion.bash
#
# The words come from certrack itself (`certrack __complete WORD...`,
# made from its command table), so they cannot drift from the commands.

_certrack()
{
	local cur=${COMP_WORDS[COMP_CWORD]} words w
	local IFS=$'\n'

	words=$("${COMP_WORDS[0]}" __complete "${COMP_WORDS[@]:1:COMP_CWORD}" \
		2>/dev/null) || return
	COMPREPLY=()
	for w in $words; do
		if [[ $w == __files__ ]]; then
			COMPREPLY+=($(compgen -f -- "$cur"))
		else
			COMPREPLY+=("$w")
		fi
	done
}
complete -o filenames -F _certrack certrack
