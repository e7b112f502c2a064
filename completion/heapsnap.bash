# SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
# bash completion for heapsnap(1). Self-contained: needs only bash, not the
# bash-completion package's helpers (which load it from
# share/bash-completion/completions/heapsnap).

# A command's options; those that take a value end with '='.
_heapsnap_options()
{
	local filters='--include= --exclude= --all-frames --python-frames-only'
	filters+=' --domain='
	local stats="--by= --cumulative -n= $filters --pid= --comm= --no-source"

	case $1 in
	record)
		echo '-p= --pid= -a --all -o= --output= -d= --duration=' \
			'-i= --interval= -f= --frames= --lib= --wrapper=' \
			'--max-live= --max-stacks= --sample-bytes=' \
			'--probe-at-entry --unwind= --max-unwind-rows= --python=' \
			'--no-mmap --mmap-tracepoints' \
			'--follow-forks --classic-uprobes --push=' \
			'--app= --label= -v --verbose -h --help'
		;;
	top)
		echo "-p= --live= -d= --delay= -o= --output= $stats --json -h --help"
		;;
	diff)
		echo "$stats --json -h --help"
		;;
	info)
		echo '--plot --json -h --help'
		;;
	lookup)
		echo '--json -h --help'
		;;
	export)
		echo "--format= -o= --output= $filters --json -h --help"
		;;
	flamegraph)
		echo "--format= -o= --output= --title= --width= $filters --json" \
			'-h --help'
		;;
	esac
}

# How many snapshot files (or other operands) a command takes.
_heapsnap_operands()
{
	case $1 in
	top | info | export) echo 1 ;;
	diff | flamegraph) echo 2 ;;
	lookup) echo 1 ;; # then ADDRESS, which has no completion
	*) echo 0 ;;
	esac
}

# Does option $2 of command $1 take a value?
_heapsnap_takes_value()
{
	[[ " $(_heapsnap_options "$1") " == *" $2= "* ]]
}

# Adds the words of $1 that start with $2 (after $3, which is kept).
_heapsnap_add_words()
{
	local w
	for w in $1; do
		[[ $w == "$2"* ]] && COMPREPLY+=("$3$w")
	done
}

# Snapshot files: *.hsnap and their numbered FILE.N, and directories.
_heapsnap_snapshots()
{
	local -a files
	local f
	mapfile -t files < <(compgen -f -- "$1")
	for f in "${files[@]}"; do
		if [[ -d $f || $f =~ \.hsnap(\.[0-9]+)?$ ]]; then
			COMPREPLY+=("$f")
		fi
	done
	compopt -o filenames 2>/dev/null
}

_heapsnap_files()
{
	mapfile -t -O ${#COMPREPLY[@]} COMPREPLY < <(compgen -f -- "$1")
	compopt -o filenames 2>/dev/null
}

# The pids a snapshot holds: $1 is heapsnap, $2 the snapshot.
_heapsnap_snapshot_pids()
{
	local json
	json=$("$1" info "$2" --json 2>/dev/null) || return 1
	[[ $json =~ \"pids\":\[([0-9,]*)\] ]] || return 1
	echo "${BASH_REMATCH[1]//,/ }"
}

# A pid list, PID[,PID...]: completes the pid after the last comma.
_heapsnap_pids()
{
	local cur=$1 pids=$2 head=
	if [[ -z $pids ]]; then
		local -a p=(/proc/[0-9]*)
		pids=${p[*]#/proc/}
	fi
	if [[ $cur == *,* ]]; then
		head=${cur%,*},
		cur=${cur##*,}
	fi
	_heapsnap_add_words "$pids" "$cur" "$head"
}

# Completes the value of option $2 of command $1; $3 is what is typed, $4
# heapsnap and $5 the first operand (a snapshot) if any.
_heapsnap_value()
{
	local cmd=$1 opt=$2 cur=$3
	case $opt in
	--by)
		_heapsnap_add_words 'lineno filename function module traceback process' "$cur"
		;;
	--domain)
		_heapsnap_add_words 'heap mmap python' "$cur"
		;;
	--python)
		_heapsnap_add_words 'auto exact pools frames off' "$cur"
		;;
	--format)
		if [[ $cmd == flamegraph ]]; then
			_heapsnap_add_words 'svg html' "$cur"
		else
			_heapsnap_add_words 'pprof folded' "$cur"
		fi
		;;
	--unwind)
		_heapsnap_add_words 'fp dwarf auto' "$cur"
		;;
	-p | --live)
		_heapsnap_pids "$cur"
		;;
	--pid)
		# top and diff: the processes of the snapshot, once it is given
		local pids=
		[[ $cmd != record && -n $5 ]] && pids=$(_heapsnap_snapshot_pids "$4" "$5")
		_heapsnap_pids "$cur" "$pids"
		;;
	-o | --output | --lib)
		_heapsnap_files "$cur"
		;;
	esac
}

_heapsnap()
{
	local -a words=()
	local i cword=0 cmd cur prev opt eq= nops=0 first= dashdash=

	# Joins "--opt", "=" and "value", which COMP_WORDBREAKS may split.
	for ((i = 0; i < ${#COMP_WORDS[@]}; i++)); do
		if [[ $i -gt 0 && ${COMP_WORDS[i]} == = && ${words[-1]} == --* ]] ||
			[[ $i -gt 1 && ${COMP_WORDS[i - 1]} == = &&
				${COMP_WORDS[i - 2]} == --* ]]; then
			words[-1]+=${COMP_WORDS[i]}
		else
			words+=("${COMP_WORDS[i]}")
		fi
		((i == COMP_CWORD)) && cword=$((${#words[@]} - 1))
	done
	cur=${words[cword]}
	COMPREPLY=()

	if ((cword == 1)); then
		if [[ $cur == -* ]]; then
			_heapsnap_add_words '-h --help -V --version' "$cur"
		else
			_heapsnap_add_words 'record top diff info lookup export flamegraph' "$cur"
		fi
		return 0
	fi
	cmd=${words[1]}
	[[ -n $(_heapsnap_options "$cmd") ]] || return 0

	# What comes before the word being completed: operands, "--", a live -p.
	for ((i = 2; i < cword; i++)); do
		if [[ -n $dashdash ]]; then
			((dashdash++))
		elif [[ ${words[i]} == -- ]]; then
			dashdash=1
		elif [[ ${words[i]} == -* ]]; then
			[[ $cmd == top && ${words[i]} =~ ^(-p|--live($|=)) ]] &&
				nops=-1
			[[ ${words[i]} != *=* ]] &&
				_heapsnap_takes_value "$cmd" "${words[i]}" && ((i++))
		elif ((nops >= 0)); then
			[[ -z $first ]] && first=${words[i]}
			((nops++))
		fi
	done

	if [[ -n $dashdash ]]; then
		if [[ $cmd == record && $dashdash == 1 ]]; then
			mapfile -t COMPREPLY < <(compgen -c -- "$cur")
		else
			_heapsnap_files "$cur"
		fi
		return 0
	fi

	# --opt=value, or the word after an option that takes a value
	if [[ $cur == --*=* ]]; then
		opt=${cur%%=*}
		cur=${cur#*=}
		[[ $COMP_WORDBREAKS == *=* ]] || eq=$opt=
		_heapsnap_takes_value "$cmd" "$opt" || return 0
		_heapsnap_value "$cmd" "$opt" "$cur" "${words[0]}" "$first"
		((${#COMPREPLY[@]})) && [[ -n $eq ]] && COMPREPLY=("${COMPREPLY[@]/#/$eq}")
		return 0
	fi
	prev=${words[cword - 1]}
	if ((cword > 2)) && [[ $prev == -* && $prev != *=* ]] &&
		_heapsnap_takes_value "$cmd" "$prev"; then
		_heapsnap_value "$cmd" "$prev" "$cur" "${words[0]}" "$first"
		return 0
	fi

	if [[ $cur == -* ]]; then
		local o
		for o in $(_heapsnap_options "$cmd"); do
			[[ ${o%=} == "$cur"* ]] && COMPREPLY+=("${o%=}")
		done
		return 0
	fi
	if ((nops >= 0 && nops < $(_heapsnap_operands "$cmd"))); then
		_heapsnap_snapshots "$cur"
	fi
	return 0
}

complete -F _heapsnap heapsnap
