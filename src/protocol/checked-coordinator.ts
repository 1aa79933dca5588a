// The embedded store, checked as the daemon checks: every call's arguments go
// through the request schema of its operation first, so bad input is refused
// with the same message whether a command reaches a daemon or the database
// directly. The engine still checks its input; this only decides who speaks first.
import type { Coordinator } from '../coordinator.ts';
import { BatonError } from '../errors.ts';
import { isOperationName, operations, type Args, type OperationName } from './operations.ts';
import { checkRequest } from './validation.ts';

/** What the SDK would send for this call: JSON drops undefined, a signal never travels. */
function sentBody<K extends OperationName>(name: K, args: Args<K>): unknown {
  try {
    return JSON.parse(JSON.stringify(operations[name].toBody(...args)));
  } catch (error) {
    throw new BatonError('INVALID_ARGUMENT', `the arguments of ${name} are not JSON: ${(error as Error).message}`);
  }
}

export function checkedAsTheDaemonChecks(coordinator: Coordinator): Coordinator {
  return new Proxy(coordinator, {
    get(target, name, receiver) {
      const value = Reflect.get(target, name, receiver) as unknown;
      if (typeof value !== 'function') return value;
      if (typeof name !== 'string' || !isOperationName(name)) return value.bind(target);
      return async (...args: unknown[]) => {
        // A Proxy sees untyped arguments: they are the method's own, as the caller typed them.
        checkRequest(name, sentBody(name, args as Args<typeof name>));
        return (value as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
}
