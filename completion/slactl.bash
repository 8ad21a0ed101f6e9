# bash completion for slactl(1): commands, sub-commands and each command's options.
# Installed to bash-completion's completionsdir; source it by hand to try it.

_slactl()
{
    local cur prev words cword
    COMPREPLY=()
    if declare -F _init_completion >/dev/null; then
        _init_completion || return
    else
        cur=${COMP_WORDS[COMP_CWORD]}
        prev=${COMP_WORDS[COMP_CWORD - 1]}
        words=("${COMP_WORDS[@]}")
        cword=$COMP_CWORD
    fi

    local globals="--socket --url --token-file --json --help --version"
    local commands="status ticket simulate followups followup plan notifications
        notification report oncall reload passwd check-config"
    local ticket_cmds="create show history list update ack dispatch arrive hold resume resolve
        close reopen cancel comment"
    local event_opts="--by --note --at"

    case $prev in
        --socket | --token-file | --file)
            COMPREPLY=($(compgen -f -- "$cur"))
            return ;;
        --url | --title | --grade | --region | --team | --assignee | --source | \
            --external-id | --appointment | --note | --at | --reason | --limit | \
            --after | --outcome | --name | --rrule | --start | --until | --from | --to)
            return ;;
        --severity)
            COMPREPLY=($(compgen -W "1 2 3 4" -- "$cur"))
            return ;;
    esac

    # The command words after the global options.
    local i cmd="" sub=""
    for ((i = 1; i < cword; i++)); do
        case ${words[i]} in
            --socket | --url | --token-file) ((i++)) ;;
            -*) ;;
            *)
                if [[ -z $cmd ]]; then
                    cmd=${words[i]}
                elif [[ -z $sub ]]; then
                    sub=${words[i]}
                    break
                fi ;;
        esac
    done

    if [[ -z $cmd ]]; then
        COMPREPLY=($(compgen -W "$globals $commands" -- "$cur"))
        return
    fi

    # --by is free text for events but a grouping for report.
    [[ $prev == --by && $cmd != report ]] && return

    local opts=""
    case $cmd in
        ticket)
            if [[ -z $sub ]]; then
                COMPREPLY=($(compgen -W "$ticket_cmds" -- "$cur"))
                return
            fi
            case $sub in
                create)
                    opts="--title --severity --grade --region --team --assignee --source
                        --external-id --appointment --label --file" ;;
                update)
                    opts="--severity --grade --region --team --assignee --appointment --label
                        --title --description --customer-name --customer-phone
                        --customer-address --device-model --device-serial" ;;
                list)
                    case $prev in
                        --status)
                            COMPREPLY=($(compgen -W "open acknowledged dispatched on_site
                                on_hold resolved closed cancelled" -- "$cur"))
                            return ;;
                    esac
                    opts="--status --policy --team --breached --missed --source --external-id --limit
                        --after" ;;
                dispatch) opts="$event_opts --assignee" ;;
                hold) opts="$event_opts --reason" ;;
                show) opts="" ;;
                history) opts="--limit --after" ;;
                *) opts="$event_opts" ;;
            esac ;;
        simulate)
            COMPREPLY=($(compgen -f -- "$cur"))
            return ;;
        check-config)
            COMPREPLY=($(compgen -f -- "$cur"))
            return ;;
        passwd)
            # The password comes on stdin; nothing to complete but --help.
            COMPREPLY=($(compgen -W "--help" -- "$cur"))
            return ;;
        followups)
            [[ $prev == --state ]] &&
                { COMPREPLY=($(compgen -W "pending due overdue done cancelled" -- "$cur")); return; }
            opts="--state --before --ticket --plan" ;;
        followup)
            [[ -z $sub ]] && { COMPREPLY=($(compgen -W "show complete" -- "$cur")); return; }
            [[ $prev == --outcome ]] &&
                { COMPREPLY=($(compgen -W "satisfied unsatisfied unreachable" -- "$cur")); return; }
            opts="--outcome --note --by" ;;
        plan)
            [[ -z $sub ]] &&
                { COMPREPLY=($(compgen -W "create update list show delete" -- "$cur")); return; }
            case $sub in
                create|update)
                    opts="--name --customer-name --customer-phone --customer-address
                        --device-model --device-serial --team --owner --assignee --calendar
                        --rrule --start --until --due-within --report-within --file" ;;
                list) opts="--limit --after" ;;
            esac ;;
        notifications)
            [[ $prev == --state ]] &&
                { COMPREPLY=($(compgen -W "pending sent dead" -- "$cur")); return; }
            opts="--state --ticket --event --channel --limit --after --group" ;;
        notification)
            [[ -z $sub ]] && { COMPREPLY=($(compgen -W "show retry" -- "$cur")); return; }
            ;;
        report)
            case $prev in
                --by)
                    COMPREPLY=($(compgen -W "policy region team assignee month" -- "$cur"))
                    return ;;
                --format)
                    COMPREPLY=($(compgen -W "json csv" -- "$cur"))
                    return ;;
                --tz) return ;; # an IANA zone name
            esac
            opts="--from --to --by --format --tz" ;;
        oncall) opts="--at --from --to" ;; # NAME is a schedule of the daemon's config
    esac
    COMPREPLY=($(compgen -W "$opts" -- "$cur"))
}
complete -F _slactl slactl
