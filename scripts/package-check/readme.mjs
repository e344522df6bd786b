// What the check reads from a package README: its code blocks, its install line and its links.
//
// Conventions (the root README's "Working on it" documents them):
// - every ```ts / ```js block is a module type-checked against the packed packages;
// - `<!-- prelude: ... -->` right before a block is prepended to it (declare what the snippet
//   assumes: `declare const factory: ConnectionFactory<Socket>;`), multi-line allowed;
// - ```ts fragment (or ```js fragment) marks a shape that is not a program: it is skipped;
// - a js block that uses require() and no import is checked as CommonJS (.cjs).

const FENCE = /^```(\S*)(.*)$/;
const PRELUDE = /<!--\s*prelude:((?:(?!-->)[\s\S])*)-->\s*$/;
const LANGUAGES = { ts: 'ts', typescript: 'ts', js: 'js', javascript: 'js', mjs: 'js', cjs: 'cjs' };

/** The fenced blocks of a README: `{ lang, flags, code, prelude, line }` (line: 1-based, of the first code line). */
export function codeBlocks(text) {
  const lines = text.split('\n');
  const blocks = [];
  for (let i = 0; i < lines.length; i++) {
    const open = FENCE.exec(lines[i]);
    if (open === null) continue;
    const start = i;
    let end = i + 1;
    while (end < lines.length && !lines[end].startsWith('```')) end++;
    const before = lines.slice(Math.max(0, start - 40), start).join('\n');
    blocks.push({
      lang: open[1].toLowerCase(),
      flags: open[2].trim().split(/\s+/).filter(Boolean),
      code: lines.slice(start + 1, end).join('\n'),
      prelude: PRELUDE.exec(before)?.[1].trim() ?? '',
      line: start + 2,
    });
    i = end;
  }
  return blocks;
}

/** The blocks to type-check, each with the file extension it is checked as. */
export function checkedBlocks(text) {
  return codeBlocks(text).flatMap((block) => {
    const kind = LANGUAGES[block.lang];
    if (kind === undefined || block.flags.includes('fragment')) return [];
    const isCommonJs = kind === 'cjs' || (kind === 'js' && /\brequire\(/.test(block.code) && !/^\s*import\s/m.test(block.code));
    return [{ ...block, extension: kind === 'ts' ? '.ts' : isCommonJs ? '.cjs' : '.mjs' }];
  });
}

/** Package names on the README's `npm install` lines (versions dropped). */
export function installedNames(text) {
  const names = new Set();
  for (const block of codeBlocks(text)) {
    if (!['sh', 'bash', 'shell', 'console'].includes(block.lang)) continue;
    for (const line of block.code.split('\n')) {
      const match = /^\s*\$?\s*npm\s+(?:install|i|add)\s+(.*)$/.exec(line);
      if (match === null) continue;
      for (const word of match[1].split(/\s+/)) {
        if (word === '' || word.startsWith('-') || word.startsWith('#')) continue;
        names.add(word.replace(/^(@?[^@]+)@.*$/, '$1'));
      }
    }
  }
  return names;
}

/** Links and images that do not work on a registry page: relative paths (outside the package or not). */
export function relativeLinks(text) {
  const problems = [];
  const lines = text.split('\n');
  let isInCode = false;
  lines.forEach((line, index) => {
    if (line.startsWith('```')) isInCode = !isInCode;
    if (isInCode) return;
    for (const match of line.matchAll(/\]\(([^)\s]+)[^)]*\)|(?:src|href)="([^"]+)"/g)) {
      const target = match[1] ?? match[2];
      if (!/^(https?:|mailto:|#)/.test(target)) problems.push(`line ${index + 1}: relative link ${target} (use an absolute URL)`);
    }
  });
  return problems;
}
