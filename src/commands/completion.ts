// `mqtt-xds completion bash|zsh`: a shell completion script, generated from the same
// tables that parse the command line (the sub-commands' options and the settings), so it
// cannot drift from them.
import type { OptionSpecs } from '../config/argv';
import type { Setting } from '../config';

export interface CompletedCommand {
  readonly name: string;
  readonly options: OptionSpecs;
  /** Values offered after a flag, such as --output's formats. */
  readonly values?: Readonly<Record<string, readonly string[]>>;
  /** Words offered as the first argument (completion's shells). */
  readonly words?: readonly string[];
}

const FILE_FLAG = /(^|-)(file|config)$/;

function flagsOf(options: OptionSpecs): string[] {
  return Object.entries(options).flatMap(([name, s]) => [`--${name}`, ...(s.short ? [`-${s.short}`] : [])]);
}

/** A bash function completing sub-commands, their flags, flag values and file names. */
export function bashCompletion(commands: readonly CompletedCommand[], settings: readonly Setting[]): string {
  const serverFlags = ['--config', '--help', '-h', '--version', '-V', ...settings.map((s) => s.flag)];
  const serverValues = settings.flatMap((s) => (s.type.kind === 'enum' ? [`    ${s.flag}) words="${s.type.values.join(' ')}" ;;`] : []));
  const serverFiles = settings.filter((s) => s.type.kind === 'path').map((s) => s.flag);
  const perCommand = commands.map((c) => {
    const values = Object.entries(c.values ?? {}).map(([flag, v]) => `        ${flag}) words="${v.join(' ')}" ;;`);
    const files = flagsOf(c.options).filter((f) => FILE_FLAG.test(f));
    return [
      `    ${c.name})`,
      `      flags="${flagsOf(c.options).join(' ')}"`,
      `      first="${(c.words ?? []).join(' ')}"`,
      '      case "$prev" in',
      ...values,
      ...(files.length > 0 ? [`        ${files.join('|')}) COMPREPLY=($(compgen -f -- "$cur")); return ;;`] : []),
      '      esac',
      '      ;;',
    ].join('\n');
  });
  return `# mqtt-xds completion for bash. Load it with: source <(mqtt-xds completion bash)
_mqtt_xds() {
  local cur="\${COMP_WORDS[COMP_CWORD]}" prev="\${COMP_WORDS[COMP_CWORD-1]}"
  local flags="" first="" words=""
  if [[ $COMP_CWORD -eq 1 ]]; then
    COMPREPLY=($(compgen -W "${commands.map((c) => c.name).join(' ')} ${serverFlags.join(' ')}" -- "$cur"))
    return
  fi
  case "\${COMP_WORDS[1]}" in
${perCommand.join('\n')}
    *)
      flags="${serverFlags.join(' ')}"
      case "$prev" in
${serverValues.map((l) => '    ' + l).join('\n')}
        ${[...serverFiles, '--config'].join('|')}) COMPREPLY=($(compgen -f -- "$cur")); return ;;
      esac
      ;;
  esac
  if [[ -n "$words" ]]; then
    COMPREPLY=($(compgen -W "$words" -- "$cur"))
  elif [[ "$cur" == -* ]]; then
    COMPREPLY=($(compgen -W "$flags" -- "$cur"))
  elif [[ -n "$first" && $COMP_CWORD -eq 2 ]]; then
    COMPREPLY=($(compgen -W "$first" -- "$cur"))
  fi
}
complete -F _mqtt_xds mqtt-xds
`;
}

/** The bash function through zsh's bashcompinit, which runs bash completion functions as they are. */
export function zshCompletion(commands: readonly CompletedCommand[], settings: readonly Setting[]): string {
  return `#compdef mqtt-xds
# mqtt-xds completion for zsh. Load it with: source <(mqtt-xds completion zsh)
(( $+functions[compdef] )) || { autoload -U +X compinit && compinit; }
autoload -U +X bashcompinit && bashcompinit
${bashCompletion(commands, settings).split('\n').slice(1).join('\n')}`;
}
