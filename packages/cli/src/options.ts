// options: parsing and validating command-line values; every error names the option and what is allowed.
import { InvalidArgumentError } from 'commander';

export function intOption(name: string, min: number, max: number): (value: string) => number {
  return (value: string) => {
    const n = Number(value.replace(/_/g, ''));
    if (!Number.isInteger(n) || n < min || n > max) {
      throw new InvalidArgumentError(`${name} must be an integer from ${min} to ${max}; got '${value}'`);
    }
    return n;
  };
}
