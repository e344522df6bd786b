// What `pnpm pack` / `pnpm publish` write into a published package.json: the workspace's own
// fields stay home. devDependencies name private workspace packages (@pool/testkit) and the
// test servers; scripts only run inside this repository.
module.exports = {
  hooks: {
    beforePacking(manifest) {
      delete manifest.devDependencies;
      delete manifest.scripts;
      return manifest;
    },
  },
};
