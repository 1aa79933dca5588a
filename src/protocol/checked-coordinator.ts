// The embedded store, checked as the daemon checks: every call's arguments go
// through the request schema of its operation first, so bad input is refused
// with the same message whether a command reaches a daemon or the database
// directly. The engine still checks its input; this only decides who speaks first.
import type { Coordinator } from '../coordinator.ts';
import { BatonError } from '../errors.ts';
import { bodyFromArgs, operationsByName, wireArgs } from './operations.ts';
import { validate } from './schema.ts';

export function checkedAsTheDaemonChecks(coordinator: Coordinator): Coordinator {
  return new Proxy(coordinator, {
    get(target, name, receiver) {
      const value = Reflect.get(target, name, receiver) as unknown;
      if (typeof value !== 'function') return value;
      const operation = typeof name === 'string' ? operationsByName.get(name) : undefined;
      if (operation === undefined) return value.bind(target);
      return async (...args: unknown[]) => {
        // What the SDK would send: JSON drops undefined, a signal never travels.
        let sent: unknown;
        try {
          sent = JSON.parse(JSON.stringify(bodyFromArgs(operation, wireArgs(operation.name, args))));
        } catch (error) {
          throw new BatonError('INVALID_ARGUMENT', `the arguments of ${operation.name} are not JSON: ${(error as Error).message}`);
        }
        const problem = validate(operation.body, sent);
        if (problem !== null) throw new BatonError('INVALID_ARGUMENT', problem);
        return (value as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
}
