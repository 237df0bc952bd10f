/**
 * Argument parsers shared by the CLIs (commander `argParser`s): a bad value stops the command with
 * commander's usual "error: option '--x <n>' argument 'abc' is invalid. <why>" and exit code 1.
 */
import { InvalidArgumentError } from 'commander';

/** An integer >= `min`. */
export function integerAtLeast(min: number): (value: string) => number {
  return (value) => {
    const n = Number(value);
    if (!Number.isSafeInteger(n) || n < min) throw new InvalidArgumentError(`Expected an integer >= ${min}.`);
    return n;
  };
}
