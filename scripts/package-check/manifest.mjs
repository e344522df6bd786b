// What a packed tarball must hold: metadata a registry page shows, a LICENSE, honest source maps,
// and no trace of the workspace (workspace: ranges, private packages).
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

const DEPENDENCY_FIELDS = ['dependencies', 'peerDependencies', 'optionalDependencies', 'devDependencies'];

function filesUnder(dir) {
  return readdirSync(dir).flatMap((entry) => {
    const path = join(dir, entry);
    return statSync(path).isDirectory() ? filesUnder(path) : [path];
  });
}

/**
 * Problems with one extracted tarball (`packageDir` is its `package/` directory), as strings;
 * empty when it is fit to publish.
 */
export function manifestProblems(pkg, packageDir, { privateNames, nodeEngines }) {
  const problems = [];
  const manifest = JSON.parse(readFileSync(join(packageDir, 'package.json'), 'utf8'));
  for (const field of DEPENDENCY_FIELDS) {
    for (const [name, range] of Object.entries(manifest[field] ?? {})) {
      if (String(range).startsWith('workspace:')) problems.push(`${field}.${name} is still "${range}"`);
      if (privateNames.has(name)) problems.push(`${field} names the private workspace package ${name}`);
    }
  }
  const repository = manifest.repository;
  if (typeof repository?.url !== 'string') problems.push('no repository.url');
  if (repository?.directory !== `packages/${pkg.dir}`) problems.push(`repository.directory is not "packages/${pkg.dir}"`);
  if (typeof manifest.homepage !== 'string' || !manifest.homepage.startsWith('https://')) problems.push('no https homepage');
  if (typeof manifest.bugs?.url !== 'string') problems.push('no bugs.url');
  if (!Array.isArray(manifest.keywords) || manifest.keywords.length === 0) problems.push('no keywords');
  if (typeof manifest.license !== 'string') problems.push('no license');
  if (manifest.engines?.node !== nodeEngines) problems.push(`engines.node is "${manifest.engines?.node}", the root says "${nodeEngines}"`);

  const files = filesUnder(packageDir).map((file) => relative(packageDir, file));
  if (!files.includes('LICENSE')) problems.push('no LICENSE file in the tarball (copy the root LICENSE into the package)');
  if (!files.includes('README.md')) problems.push('no README.md in the tarball');
  const shipped = new Set(files);
  for (const file of files) {
    if (file.endsWith('.map')) {
      const map = JSON.parse(readFileSync(join(packageDir, file), 'utf8'));
      const sources = map.sources ?? [];
      const contents = map.sourcesContent ?? [];
      const isComplete = sources.length > 0 && sources.every((_, i) => typeof contents[i] === 'string');
      if (!isComplete) problems.push(`${file} has no sourcesContent for its sources (stale build output? rebuild from a clean dist)`);
    } else if (/\.(c|m)?js$|\.d\.(c|m)?ts$/.test(file)) {
      const text = readFileSync(join(packageDir, file), 'utf8');
      const url = /\/\/# sourceMappingURL=(\S+)\s*$/.exec(text)?.[1];
      if (url !== undefined && !url.startsWith('data:') && !shipped.has(join(file, '..', url))) {
        problems.push(`${file} points at the source map ${url}, which is not in the tarball`);
      }
    }
  }
  return { manifest, files, problems };
}
