#compdef certrack
# zsh completion for certrack(1).  `make install` puts it in
# $(PREFIX)/share/zsh/site-functions/_certrack (on $fpath).
#
# The words come from certrack itself (`certrack __complete WORD...`,
# made from its command table), so they cannot drift from the commands.

_certrack() {
	local -a words_out
	local w
	words_out=("${(@f)$(${words[1]} __complete "${(@)words[2,CURRENT]}" 2>/dev/null)}")
	for w in $words_out; do
		if [[ $w == __files__ ]]; then
			_files
		elif [[ -n $w ]]; then
			compadd -- "$w"
		fi
	done
}

_certrack "$@"
