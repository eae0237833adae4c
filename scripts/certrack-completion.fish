# fish completion for certrack(1).  `make install` puts it in
# $(PREFIX)/share/fish/vendor_completions.d/certrack.fish.
#
# The words come from certrack itself (`certrack __complete WORD...`,
# made from its command table), so they cannot drift from the commands.

function __certrack_complete
	set -l words (commandline -opc)
	set -l cur (commandline -ct)
	for w in (command $words[1] __complete $words[2..-1] "$cur" 2>/dev/null)
		if test "$w" = __files__
			__fish_complete_path "$cur"
		else
			echo $w
		end
	end
end

complete -c certrack -f -a '(__certrack_complete)'
