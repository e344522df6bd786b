import { readFileSync } from 'node:fs';

/** One fenced code block of a Markdown text. */
export interface CodeBlock {
  /** The info string's first word, lower-cased (`js`, `ts`, ...). */
  lang: string;
  /** The block's text, without the fences, ending in a newline. */
  code: string;
  /** 1-based line of the opening fence. */
  line: number;
}

const RUNNABLE_LANGS = ['js', 'javascript', 'mjs', 'ts', 'typescript'];

/** Every fenced code block (``` or ~~~) of `markdown`, in order. */
export function codeBlocks(markdown: string): CodeBlock[] {
  const lines = markdown.split(/\r?\n/);
  const blocks: CodeBlock[] = [];
  for (let index = 0; index < lines.length; index++) {
    const open = /^ {0,3}(`{3,}|~{3,})\s*([^\s`]*)/.exec(lines[index]!);
    if (!open) continue;
    const fence = open[1]!;
    const body: string[] = [];
    const start = index;
    for (index++; index < lines.length; index++) {
      const line = lines[index]!;
      if (line.trimStart().startsWith(fence[0]!.repeat(fence.length)) && line.trim().replace(/^[`~]+/, '') === '') break;
      body.push(line);
    }
    blocks.push({ lang: open[2]!.toLowerCase(), code: body.length ? `${body.join('\n')}\n` : '', line: start + 1 });
  }
  return blocks;
}

/** The first ```js / ```ts block of `markdown`: the example a new user copies first. Throws when there is none. */
export function firstExample(markdown: string, langs: readonly string[] = RUNNABLE_LANGS): CodeBlock {
  const block = codeBlocks(markdown).find((candidate) => langs.includes(candidate.lang));
  if (!block) throw new Error(`no fenced ${langs.join('/')} code block in the markdown`);
  return block;
}

/** `firstExample` of the README file at `path` (so a test runs what the README shows, and the two cannot drift). */
export function readmeExample(path: string, langs: readonly string[] = RUNNABLE_LANGS): CodeBlock {
  try {
    return firstExample(readFileSync(path, 'utf8'), langs);
  } catch (error) {
    throw new Error(`${path}: ${(error as Error).message}`, { cause: error });
  }
}

/**
 * Replaces text of an example before running it, e.g. the README's `port: 5432` with the test
 * server's port, so the README keeps natural values. Each search (string: every occurrence;
 * RegExp: as `String.replace` does) must match at least once, or this throws: a README edit
 * that drops the value the test relies on fails loudly instead of running against the wrong
 * address.
 */
export function substitute(code: string, replacements: ReadonlyArray<readonly [string | RegExp, string]> | Record<string, string>): string {
  const pairs = Array.isArray(replacements) ? replacements : Object.entries(replacements);
  let result = code;
  for (const [search, replacement] of pairs as Array<readonly [string | RegExp, string]>) {
    const found = typeof search === 'string' ? result.includes(search) : new RegExp(search.source, search.flags.replace('g', '')).test(result);
    if (!found) throw new Error(`substitute: ${String(search)} does not occur in the example`);
    result = typeof search === 'string' ? result.split(search).join(replacement) : result.replace(search, replacement);
  }
  return result;
}

/**
 * The block as JavaScript node can run: a js block as it is, a ts block with its types stripped
 * (TypeScript's `transpileModule`, from the workspace root's devDependency; types are not
 * checked: the package's typecheck does that for its sources, not for its README).
 */
export async function runnableSource(block: CodeBlock): Promise<string> {
  if (block.lang !== 'ts' && block.lang !== 'typescript') return block.code;
  const ts = (await import('typescript')).default;
  const { outputText } = ts.transpileModule(block.code, {
    compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 },
  });
  return outputText;
}
