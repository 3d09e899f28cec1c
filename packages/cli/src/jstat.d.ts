// The part of jstat this package uses (jstat ships no type declarations).
declare module 'jstat' {
  export const jStat: { studentt: { inv(p: number, dof: number): number; cdf(t: number, dof: number): number } };
}
