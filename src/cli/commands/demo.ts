import type { CommandModule } from 'yargs';
import type { LoreContext } from '../../core/context.js';
import { DEFAULT_DEMO_AGENT, demoAgents, runDemo } from '../../core/demo.js';
import { colors } from '../output.js';

export function demoCommand(ctx: LoreContext): CommandModule<object, { keep: boolean; agent: string }> {
  return {
    command: 'demo',
    describe: 'See the whole product work on two simulated machines (touches nothing of yours)',
    builder: (y) =>
      y
        .option('keep', { type: 'boolean', default: false, describe: 'Keep the demo folder and print where it is' })
        .option('agent', { type: 'string', default: DEFAULT_DEMO_AGENT, choices: demoAgents(), describe: 'Whose session Alice\'s agent writes' })
        .example('git lore demo', 'two machines, one remote, one agent session, in a temporary folder'),
    handler: async (argv) => {
      const c = colors(ctx.env.stdout, ctx.env.vars);
      const r = await runDemo(ctx, {
        keep: argv.keep,
        agent: argv.agent,
        onStep: (s) => {
          const who = s.machine === 'alice' ? "alice's laptop" : s.machine === 'bob' ? "bob's laptop" : 'both';
          ctx.env.stdout.write(`\n${c.dim(`[${who}]`)} ${c.bold(s.command.startsWith('#') ? s.command : `$ ${s.command}`)}\n`);
          if (s.output) ctx.env.stdout.write(`${s.output.split('\n').map((l) => `  ${l}`).join('\n')}\n`);
        },
      });
      ctx.env.stdout.write(`\n${c.green('The demo worked:')} Bob's clone carries Alice's agent session ${r.sessionId.slice(0, 8)}, and blame ties the lines to it.\n`);
      ctx.env.stdout.write(r.kept ? `The demo folder is kept at ${r.dir}\n` : 'Its temporary folder was removed (keep it with --keep).\n');
      ctx.env.stdout.write('Next, in a real repository: git lore sync setup, git lore hooks install, then push as usual.\n');
    },
  };
}
