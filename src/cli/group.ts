// Command groups: `baton lease acquire ...` is the action `acquire` of the
// group `lease`. A group can hold groups (`baton auth token create`).
import { ExitCode, UsageError, type Command } from './command.ts';
import { closest } from './suggest.ts';

/** One action of a command group: `baton <group> <name> ...`. A group is an action too. */
export interface Action {
  name: string;
  summary: string;
  usage: string;
  run(argv: string[]): Promise<number>;
}

/** A command whose words after it name one of its actions. */
export interface Group extends Command {
  actions: Action[];
}

function isGroup(action: Action): action is Group {
  return 'actions' in action;
}

/**
 * A command with actions; `baton <path> --help` lists them, `baton <path> <action> --help`
 * explains one. `path` is the words after `baton` ('lease', 'auth token'); the
 * command's name is the last of them.
 */
export function group(path: string, summary: string, actions: Action[]): Group {
  const name = path.split(' ').at(-1)!;
  // A group of groups names its groups, then their actions: `baton auth <token> <action> [options]`.
  const nested = actions.every(isGroup);
  const noun = nested ? 'command' : 'action';
  const usage = `baton ${path} <${actions.map((a) => a.name).join('|')}>${nested ? ' <action>' : ''} [options]`;
  const help = (): string => {
    const width = Math.max(...actions.map((a) => a.name.length));
    return (
      `usage: ${usage}\n\n` +
      actions.map((a) => `  ${a.name.padEnd(width)}  ${a.summary}\n  ${' '.repeat(width)}  ${a.usage}\n`).join('') +
      `\nRun 'baton ${path} <${noun}> --help' for ${nested ? 'its actions' : "an action's options"}.\n`
    );
  };
  const named = (word: string): Action => {
    const action = actions.find((a) => a.name === word);
    if (action !== undefined) return action;
    // `baton task --json list`: options go after the action.
    if (word.startsWith('-')) throw new UsageError(`expected ${nested ? 'a' : 'an'} ${noun} before ${JSON.stringify(word)}: baton ${path} <${noun}> ${word}`, { help: `baton ${path}` });
    throw new UsageError(`unknown ${path} ${noun} ${JSON.stringify(word)}`, { didYouMean: closest(word, actions.map((a) => a.name)), help: `baton ${path}` });
  };
  return {
    name,
    summary,
    usage,
    actions,
    async run(argv) {
      const [first, ...rest] = argv;
      if (first === undefined || first === '--help' || first === '-h' || first === 'help') {
        if (rest[0] !== undefined) return named(rest[0]).run(['--help']);
        process.stdout.write(help());
        return first === undefined ? ExitCode.usage : ExitCode.ok;
      }
      return named(first).run(rest);
    },
  };
}
