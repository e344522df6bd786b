// Type-checks files of the temp project with the workspace's TypeScript, as a user's project
// would: skipLibCheck off, strict, under `module: nodenext` and under `moduleResolution: bundler`.
import { createRequire } from 'node:module';
import { join, relative } from 'node:path';
import { rootDir } from './workspace.mjs';

const ts = createRequire(join(rootDir, 'package.json'))('typescript');

const COMMON = {
  strict: true,
  skipLibCheck: false,
  noEmit: true,
  target: ts.ScriptTarget.ES2022,
  lib: ['lib.es2023.d.ts', 'lib.esnext.disposable.d.ts'],
  types: ['node'],
  allowJs: true,
  checkJs: true,
};

export const SETTINGS = {
  nodenext: { ...COMMON, module: ts.ModuleKind.NodeNext, moduleResolution: ts.ModuleResolutionKind.NodeNext },
  bundler: { ...COMMON, module: ts.ModuleKind.ESNext, moduleResolution: ts.ModuleResolutionKind.Bundler },
  // A CommonJS project on the legacy resolution (TypeScript's default for module commonjs); our
  // declarations default-import pg and ssh2, so it needs esModuleInterop, as tsc --init sets.
  node10: { ...COMMON, module: ts.ModuleKind.CommonJS, moduleResolution: ts.ModuleResolutionKind.Node10, esModuleInterop: true },
};

/**
 * Diagnostics of `files` (absolute paths in `projectDir`) under one of SETTINGS, formatted.
 * JavaScript blocks are checked in a program of their own with `noImplicitAny` off: a user's
 * `.mjs` has no annotations, so an unannotated callback parameter is plain JavaScript, not an
 * error; every other check (unknown names, wrong arguments, possibly-null values) still applies.
 */
export function typeErrors(projectDir, files, settingName) {
  const options = { ...SETTINGS[settingName], typeRoots: [join(projectDir, 'node_modules/@types')] };
  const isJs = (file) => /\.[cm]?js$/.test(file);
  const tsFiles = files.filter((file) => !isJs(file));
  const jsFiles = files.filter(isJs);
  const program = ts.createProgram({ rootNames: tsFiles, options });
  const diagnostics = [...ts.getPreEmitDiagnostics(program)];
  if (jsFiles.length > 0) {
    const jsProgram = ts.createProgram({ rootNames: jsFiles, options: { ...options, noImplicitAny: false } });
    diagnostics.push(...ts.getPreEmitDiagnostics(jsProgram));
  }
  return {
    program,
    errors: diagnostics.map((diagnostic) => {
      const message = ts.flattenDiagnosticMessageText(diagnostic.messageText, '\n');
      if (diagnostic.file === undefined) return `TS${diagnostic.code}: ${message}`;
      const { line, character } = diagnostic.file.getLineAndCharacterOfPosition(diagnostic.start ?? 0);
      return `${relative(projectDir, diagnostic.file.fileName)}:${line + 1}:${character + 1} TS${diagnostic.code}: ${message}`;
    }),
  };
}

function isAny(type) {
  return (type.flags & ts.TypeFlags.Any) !== 0;
}

/**
 * Public names whose type is `any` (a missing @types package turns them so under
 * skipLibCheck): every export of each module `file` imports as `import * as ns`, its
 * properties, call signatures' parameters and return types, one level deep.
 */
export function anyTypedExports(program, file) {
  const checker = program.getTypeChecker();
  const source = program.getSourceFile(file);
  const found = [];
  for (const statement of source.statements) {
    if (!ts.isImportDeclaration(statement)) continue;
    const specifier = statement.moduleSpecifier.text;
    const moduleSymbol = checker.getSymbolAtLocation(statement.moduleSpecifier);
    if (moduleSymbol === undefined) {
      found.push(`${specifier}: does not resolve`);
      continue;
    }
    for (const exported of checker.getExportsOfModule(moduleSymbol)) {
      const symbol = exported.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(exported) : exported;
      const where = `${specifier} ${exported.name}`;
      const isValue = (symbol.flags & ts.SymbolFlags.Value) !== 0;
      const type = isValue ? checker.getTypeOfSymbol(symbol) : checker.getDeclaredTypeOfSymbol(symbol);
      if (isAny(type)) {
        found.push(where);
        continue;
      }
      for (const property of type.getProperties()) {
        const declaration = property.valueDeclaration ?? property.declarations?.[0];
        if (declaration === undefined) continue;
        if (isAny(checker.getTypeOfSymbolAtLocation(property, declaration))) found.push(`${where}.${property.name}`);
      }
      for (const signature of [...type.getCallSignatures(), ...type.getConstructSignatures()]) {
        if (isAny(signature.getReturnType())) found.push(`${where}(): return type`);
        for (const parameter of signature.getParameters()) {
          const declaration = parameter.valueDeclaration;
          if (declaration !== undefined && isAny(checker.getTypeOfSymbolAtLocation(parameter, declaration))) found.push(`${where}(${parameter.name})`);
        }
      }
    }
  }
  return found;
}
