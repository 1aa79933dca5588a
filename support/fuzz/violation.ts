// A broken invariant: what the fuzzer throws, so fast-check shrinks the run
// and prints it with its seed and path.
export class Violation extends Error {
  override name = 'Violation';
}
