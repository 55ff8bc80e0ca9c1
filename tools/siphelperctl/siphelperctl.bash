# bash completion for siphelperctl                      -*- shell-script -*-
_siphelperctl()
{
	local cur prev words cword
	_init_completion || return
	local i cmd=
	for ((i = 1; i < cword; i++)); do
		case ${words[i]} in
		-n | --netns | -f | --file | -c | --count) ((i++)) ;;
		-*) ;;
		*) cmd=${words[i]}; break ;;
		esac
	done
	case $prev in
	-n | --netns)
		COMPREPLY=($(compgen -W "$(ls /run/netns 2>/dev/null)" -- "$cur"))
		return ;;
	-f | --file)
		_filedir; return ;;
	sip-direct-media | auto-assign)
		COMPREPLY=($(compgen -W "yes no" -- "$cur")); return ;;
	malformed)
		COMPREPLY=($(compgen -W "accept drop" -- "$cur")); return ;;
	sip-timeout)
		COMPREPLY=($(compgen -W "3600 1h 10m" -- "$cur")); return ;;
	ports)
		COMPREPLY=($(compgen -W "5060,5061" -- "$cur")); return ;;
	-c | --count)
		COMPREPLY=($(compgen -W "1 10 100" -- "$cur")); return ;;
	esac
	case $cmd in
	"")
		COMPREPLY=($(compgen -W "show set apply nft stats flush monitor help -j --json -n --netns --help --version" -- "$cur")) ;;
	set)
		COMPREPLY=($(compgen -W "ports sip-timeout sip-direct-media auto-assign malformed --help" -- "$cur")) ;;
	stats)
		COMPREPLY=($(compgen -W "reset --help" -- "$cur")) ;;
	apply)
		COMPREPLY=($(compgen -W "-f --file --help" -- "$cur")) ;;
	nft)
		COMPREPLY=($(compgen -W "install remove show --help" -- "$cur")) ;;
	monitor)
		COMPREPLY=($(compgen -W "-c --count -j --json --help" -- "$cur")) ;;
	*)
		COMPREPLY=($(compgen -W "--help" -- "$cur")) ;;
	esac
} && complete -F _siphelperctl siphelperctl
