// One agent of the budget boundary test. Usage: budget-agent.ts <url> <rounds> <overshoot 0..1>
// Prints 'ready', waits for 'go' on stdin, then for each round and each model
// reserves a random estimate and commits what it "used": within the estimate
// on model honest, and on model greedy above it (by up to twice the estimate)
// with probability <overshoot>.
// One JSON line per commit ({ model, id, estimate, actual, overshoot }), one
// per refusal ({ model, refused }).
import { isBatonError } from '../../src/index.ts';
import { openCoordinator } from '../../src/client/index.ts';

const [url, rounds, chance] = process.argv.slice(2);
const c = await openCoordinator({ url: url!, autoStart: false });
const out = (value: unknown): boolean => process.stdout.write(`${typeof value === 'string' ? value : JSON.stringify(value)}\n`);
const agent = `agent-${process.pid}`;
const between = (lo: number, hi: number): number => lo + Math.floor(Math.random() * (hi - lo + 1));

out('ready');
await new Promise((resolve) => {
  process.stdin.once('data', resolve);
  process.stdin.once('end', resolve);
});
process.stdin.pause();

for (let round = 0; round < Number(rounds); round++) {
  for (const model of ['honest', 'greedy']) {
    const estimate = between(500, 3000);
    let id: string;
    try {
      id = (await c.reserve({ agent, model, estimate })).id;
    } catch (error) {
      if (!isBatonError(error, 'BUDGET_EXCEEDED')) throw error;
      out({ model, refused: estimate });
      continue;
    }
    const over = model === 'greedy' && Math.random() < Number(chance);
    const actual = over ? estimate + between(1, 2 * estimate) : between(Math.ceil(estimate / 2), estimate);
    const prompt = Math.floor(actual * 0.7);
    const result = await c.commitReservation(id, { promptTokens: prompt, completionTokens: actual - prompt });
    out({ model, id, estimate, actual, overshoot: result.overshoot });
  }
}
await c.close();
