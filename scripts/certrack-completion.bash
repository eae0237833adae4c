# bash completion for certrack(1).  `make install` puts it in
# $(PREFIX)/share/bash-completion/completions/certrack; to try it from the
# source tree: source scripts/certrack-completion.bash

_certrack()
{
	local cur prev words cword
	if declare -F _init_completion >/dev/null 2>&1; then
		_init_completion || return
	else
		cur=${COMP_WORDS[COMP_CWORD]}
		prev=${COMP_WORDS[COMP_CWORD-1]}
		words=("${COMP_WORDS[@]}")
		cword=$COMP_CWORD
	fi

	local global="--url --token --json --quiet --timeout --help"
	local commands="login logout whoami passwd clinicians sessions enroll
		complete withdraw results status certificates verify users audit
		programs levels professions eligibility import health help"

	# Options that take a value: complete nothing (or files/dates).
	case $prev in
	--url|-u|--token|-t|--timeout|--given|--given-name|--family|\
	--family-name|--email|--npi|--license-state|--license-number|\
	--version|--limit|--offset|--search|--session|--on|--max|--attempt|\
	--reason|--category|--note|--clinician|--actor|--since|--until|--action|--entity|--id|\
	--starts|--ends|--location|--instructor|--level|--written-pass-mark|\
	--practical-pass-mark|--max-attempts|--retake-wait-days|\
	--contact-hours|--title|--program)
		return ;;
	--role)
		COMPREPLY=($(compgen -W "admin grader clinician" -- "$cur"))
		return ;;
	--delimiter)
		COMPREPLY=($(compgen -W "comma semicolon tab auto" -- "$cur"))
		return ;;
	--errors-csv)
		COMPREPLY=($(compgen -f -- "$cur"))
		return ;;
	--errors)
		return ;;
	--profession)
		COMPREPLY=($(compgen -W "PT NP PA MD DO DC" -- "$cur"))
		return ;;
	esac

	# The command and, for groups, the subcommand: the first words that
	# are not options or option values.
	local i cmd="" sub="" w skip=0
	for ((i = 1; i < cword; i++)); do
		w=${words[i]}
		if ((skip)); then skip=0; continue; fi
		case $w in
		--url|-u|--token|-t|--timeout) skip=1; continue ;;
		-*) continue ;;
		esac
		if [[ -z $cmd ]]; then cmd=$w; elif [[ -z $sub ]]; then sub=$w; fi
	done

	local opts=""
	case $cmd in
	"")
		if [[ $cur == -* ]]; then
			COMPREPLY=($(compgen -W "$global --version" -- "$cur"))
		else
			COMPREPLY=($(compgen -W "$commands" -- "$cur"))
		fi
		return ;;
	help)
		[[ -z $sub ]] && COMPREPLY=($(compgen -W "$commands" -- "$cur"))
		return ;;
	clinicians)
		if [[ -z $sub ]]; then
			COMPREPLY=($(compgen -W "add show list search update" -- "$cur"))
			return
		fi
		case $sub in
		add|update) opts="--given --family --email --profession --npi
			--license-state --license-number"
			[[ $sub == update ]] && opts+=" --version" ;;
		list) opts="--search --email --npi --profession --limit --offset" ;;
		search) opts="--limit --offset" ;;
		esac ;;
	sessions)
		if [[ -z $sub ]]; then
			COMPREPLY=($(compgen -W "list add" -- "$cur"))
			return
		fi
		case $sub in
		list) opts="--level --limit --offset" ;;
		add) opts="--starts --ends --location --instructor" ;;
		esac ;;
	results)
		if [[ -z $sub ]]; then
			COMPREPLY=($(compgen -W "record amend history" -- "$cur"))
			return
		fi
		case $sub in
		record) opts="--max --on --attempt"
			if [[ $cur != -* ]]; then
				COMPREPLY=($(compgen -W "written practical" -- "$cur"))
				return
			fi ;;
		amend) opts="--reason --max --on" ;;
		esac ;;
	certificates)
		if [[ -z $sub ]]; then
			COMPREPLY=($(compgen -W "verify revoke" -- "$cur"))
			return
		fi
		[[ $sub == revoke ]] && opts="--category --note" ;;
	users)
		if [[ -z $sub ]]; then
			COMPREPLY=($(compgen -W "list add disable enable
				reset-password tokens revoke-token" -- "$cur"))
			return
		fi
		[[ $sub == add ]] && opts="--role --clinician --password-stdin" ;;
	programs)
		if [[ -z $sub ]]; then
			COMPREPLY=($(compgen -W "list show" -- "$cur"))
			return
		fi ;;
	levels)
		if [[ -z $sub ]]; then
			COMPREPLY=($(compgen -W "show set" -- "$cur"))
			return
		fi
		[[ $sub == set ]] && opts="--written-pass-mark
			--practical-pass-mark --max-attempts --retake-wait-days
			--contact-hours --title" ;;
	import)
		if [[ -z $sub ]]; then
			COMPREPLY=($(compgen -W "roster results list show" -- "$cur"))
			return
		fi
		case $sub in
		roster|results) opts="--dry-run --partial --delimiter
			--errors-csv"
			if [[ $cur != -* ]]; then
				COMPREPLY=($(compgen -f -- "$cur"))
				return
			fi ;;
		list) opts="--limit" ;;
		show) opts="--errors" ;;
		esac ;;
	login|passwd) opts="--password-stdin" ;;
	enroll) opts="--session" ;;
	complete) opts="--on" ;;
	audit) opts="--clinician --actor --since --until --action --entity
		--id --limit --offset" ;;
	eligibility) opts="--program" ;;
	esac
	if [[ $cur == -* ]]; then
		COMPREPLY=($(compgen -W "$opts $global" -- "$cur"))
	fi
}
complete -F _certrack certrack
