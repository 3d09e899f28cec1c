// markdown: the fenced code blocks of a Markdown file, for the tests that run or compile the READMEs' examples
// (readme.test.ts, readme-ts.test.ts).
import { readFileSync } from 'node:fs';

/** A fenced block: its language tag, its text, and the file's line of its first line. */
export interface FencedBlock {
  readonly lang: string;
  readonly text: string;
  readonly line: number;
}

/** Every fenced block of the Markdown file at `path`, in order. */
export function fencedBlocks(path: string): FencedBlock[] {
  const md = readFileSync(path, 'utf8');
  const out: FencedBlock[] = [];
  for (const m of md.matchAll(/^```(\w*)\n([\s\S]*?)^```/gm))
    out.push({ lang: m[1]!, text: m[2]!, line: md.slice(0, m.index).split('\n').length + 1 });
  return out;
}
